//! Step Functions as the [`WorkflowStarter`]: `StartExecution` under a caller-chosen name,
//! so a re-delivered trigger finds its execution instead of starting a second one.
//!
//! Step Functions answers a repeated start with the same name *and input* of a running
//! execution with success (same ARN), so `StartExecution` alone cannot tell a re-delivery
//! from a first start. A `DescribeExecution` first can: two calls per start (starts are
//! rare, once per document). Two deliveries racing past the describe both report
//! `Started` with the one ARN; there is still exactly one execution. Without the
//! `states:DescribeExecution` permission the start still works, only that distinction is
//! lost.

use async_trait::async_trait;
use aws_sdk_sfn::Client;

use super::errors::{error_code, map_sdk_error, Target};
use crate::error::StoreError;
use crate::ports::{StartOutcome, WorkflowStarter};
use crate::schema::STATE_MACHINE;

#[derive(Debug, Clone)]
pub struct SfnWorkflowStarter {
    client: Client,
    state_machine_arn: String,
}

impl SfnWorkflowStarter {
    pub fn new(client: Client, state_machine_arn: String) -> Self {
        SfnWorkflowStarter {
            client,
            state_machine_arn,
        }
    }

    fn target(&self) -> Target {
        Target::new(
            format!("state machine `{}`", self.state_machine_arn),
            STATE_MACHINE.env_var,
        )
    }
}

/// `arn:aws:states:r:a:stateMachine:M` + `name` -> `arn:aws:states:r:a:execution:M:name`.
pub fn execution_arn(state_machine_arn: &str, execution_name: &str) -> String {
    format!(
        "{}:{execution_name}",
        state_machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

#[async_trait]
impl WorkflowStarter for SfnWorkflowStarter {
    async fn start_workflow(
        &self,
        execution_name: &str,
        input: &serde_json::Value,
    ) -> Result<StartOutcome, StoreError> {
        let input = serde_json::to_string(input)
            .map_err(|e| StoreError::Invalid(format!("workflow input: {e}")))?;
        let arn = execution_arn(&self.state_machine_arn, execution_name);
        match self
            .client
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
        {
            Ok(_) => return Ok(StartOutcome::AlreadyExists { execution_arn: arn }),
            Err(e) => match error_code(&e) {
                Some("ExecutionDoesNotExist" | "StateMachineDoesNotExist") => {}
                Some("AccessDeniedException" | "AccessDenied") => {
                    tracing::warn!(
                        "no states:DescribeExecution permission; a re-delivered start of \
                         {execution_name} will report Started"
                    );
                }
                // A malformed ARN or name: StartExecution says which.
                Some("InvalidArn" | "InvalidName") => {}
                _ => return Err(map_sdk_error("DescribeExecution", &self.target(), e)),
            },
        }
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(execution_name)
            .input(input)
            .send()
            .await;
        match started {
            Ok(out) => Ok(StartOutcome::Started {
                execution_arn: out.execution_arn,
            }),
            Err(e) => match error_code(&e) {
                Some("ExecutionAlreadyExists") => Ok(StartOutcome::AlreadyExists {
                    execution_arn: execution_arn(&self.state_machine_arn, execution_name),
                }),
                Some("StateMachineDoesNotExist" | "InvalidArn" | "StateMachineDeleting") => {
                    Err(self
                        .target()
                        .misconfigured(format!("StartExecution: {}", error_code(&e).unwrap_or(""))))
                }
                Some("InvalidName") => Err(StoreError::Invalid(format!(
                    "execution name `{execution_name}` is not valid for Step Functions"
                ))),
                Some("InvalidExecutionInput") => Err(StoreError::Invalid(
                    "workflow input refused by Step Functions".into(),
                )),
                _ => Err(map_sdk_error("StartExecution", &self.target(), e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arn_from_state_machine_arn() {
        assert_eq!(
            execution_arn(
                "arn:aws:states:us-east-1:123456789012:stateMachine:p2p-invoice-workflow",
                "doc-abc"
            ),
            "arn:aws:states:us-east-1:123456789012:execution:p2p-invoice-workflow:doc-abc"
        );
    }
}
