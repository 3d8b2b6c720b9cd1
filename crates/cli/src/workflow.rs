//! The workflow runner: the real `statemachine/invoice-workflow.asl.json` run by the `asl`
//! interpreter with the real handlers, every execution persisted in the data directory's
//! `workflow_executions` table.
//!
//! Lifecycle of an execution (the table's status):
//! - [`WorkflowRunner::start`] records it already claimed (`running`) in one transaction (an
//!   existing name is a re-delivery: the stored execution is returned, nothing runs again;
//!   a `pending` one queued by others is claimed) and runs it until it ends (`succeeded` /
//!   `failed`, with output or error and the history) or pauses on a task token (`paused`,
//!   with the interpreter's snapshot and the tokens).
//! - Executions queued by others (e.g. `p2p ingest` through `Services::workflows`) stay
//!   `pending` until [`WorkflowRunner::run_pending`] claims and runs them.
//! - [`WorkflowRunner::send_task_success`] / [`WorkflowRunner::send_task_failure`] find the
//!   paused execution by its token, claim it (a version check: two resumes of one token
//!   cannot both run), and resume it from the stored snapshot in a fresh executor.
//! - [`WorkflowRunner::expire_waiting`] fails waits whose `TimeoutSeconds` has passed
//!   (`States.Timeout`, which the workflow catches).
//!
//! Time is virtual while an execution runs (retry back-off and Wait states do not sleep);
//! resuming and expiring use the real clock, so a 7-day approval timeout is 7 real days.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use p2p_adapters::local::{ExecutionStatus, LocalWorkflows, StartClaim, WorkflowExecution};
use p2p_adapters::StoreError;
use p2p_asl::{
    Execution, ExecutionSnapshot, Executor, ExecutorError, ExecutorOptions, HistoryEvent, Outcome,
    Registry, StateMachine,
};
use serde_json::{json, Value};

use crate::functions::{self, FunctionSet};

/// The workflow file, relative to the repository root.
pub const WORKFLOW_FILE: &str = "statemachine/invoice-workflow.asl.json";
/// The copy compiled into the binary, used when no file is found.
pub const EMBEDDED_WORKFLOW: &str = include_str!("../../../statemachine/invoice-workflow.asl.json");
/// The state machine's name (as in the template and the local execution ARNs).
pub const WORKFLOW_NAME: &str = p2p_adapters::schema::STATE_MACHINE.default_name;
/// Default Lambda-like timeout of one handler call.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the invoice workflow definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinitionSource {
    File(PathBuf),
    Embedded,
}

impl std::fmt::Display for DefinitionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DefinitionSource::File(p) => write!(f, "{}", p.display()),
            DefinitionSource::Embedded => {
                write!(f, "{WORKFLOW_FILE} (copy embedded in the binary)")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot read the workflow definition {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid workflow definition {source_name}: {error}")]
    Definition {
        source_name: String,
        error: p2p_asl::DefinitionError,
    },
    #[error("workflow executions: {0}")]
    Store(#[from] StoreError),
    #[error("execution {name}: stored snapshot is unreadable: {message}")]
    Snapshot { name: String, message: String },
    #[error("no paused execution waits for task token `{0}`")]
    UnknownToken(String),
    #[error("execution {name} is {status}, not paused")]
    NotPaused { name: String, status: String },
    #[error("execution {name} is being resumed by someone else")]
    ResumeConflict { name: String },
    #[error("execution {name} cannot resume: {error}")]
    Resume { name: String, error: ExecutorError },
}

/// The invoice workflow: `explicit` if given, else the repository's file (found from the
/// current directory, then from the source tree the binary was built in), else the
/// embedded copy. A file found wins over the embedded copy, so edits take effect without a
/// rebuild.
pub fn load_invoice_workflow(
    explicit: Option<&Path>,
) -> Result<(StateMachine, DefinitionSource), WorkflowError> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => vec![
            PathBuf::from(WORKFLOW_FILE),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(WORKFLOW_FILE),
        ],
    };
    for path in candidates {
        if explicit.is_none() && !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| WorkflowError::Read {
            path: path.clone(),
            source,
        })?;
        // Shown to the user: the real path, without `..`.
        let source = DefinitionSource::File(path.canonicalize().unwrap_or(path));
        return Ok((parse_workflow(&text, &source)?, source));
    }
    let source = DefinitionSource::Embedded;
    Ok((parse_workflow(EMBEDDED_WORKFLOW, &source)?, source))
}

fn parse_workflow(text: &str, source: &DefinitionSource) -> Result<StateMachine, WorkflowError> {
    StateMachine::from_json(text, &functions::workflow_substitutions())
        .map(|m| m.with_name(WORKFLOW_NAME))
        .map_err(|error| WorkflowError::Definition {
            source_name: source.to_string(),
            error,
        })
}

/// Executor options matching the local execution ARNs.
pub fn executor_options() -> ExecutorOptions {
    ExecutorOptions {
        region: "local".into(),
        account_id: "000000000000".into(),
        ..ExecutorOptions::default()
    }
}

/// What [`WorkflowRunner::start`] did.
#[derive(Debug, Clone)]
pub enum Started {
    /// Ran now (ended or paused).
    Ran(WorkflowExecution),
    /// An execution of that name existed: nothing ran, this is the stored one.
    Existing(WorkflowExecution),
}

impl Started {
    pub fn execution(&self) -> &WorkflowExecution {
        match self {
            Started::Ran(e) | Started::Existing(e) => e,
        }
    }
    pub fn into_execution(self) -> WorkflowExecution {
        match self {
            Started::Ran(e) | Started::Existing(e) => e,
        }
    }
}

/// Runs and resumes executions with one executor, persisting each.
pub struct WorkflowRunner {
    executor: Executor,
    executions: Arc<LocalWorkflows>,
}

impl std::fmt::Debug for WorkflowRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowRunner").finish_non_exhaustive()
    }
}

impl WorkflowRunner {
    /// With the real handlers of `functions`.
    pub fn new(functions: Arc<FunctionSet>, executions: Arc<LocalWorkflows>) -> Self {
        Self::with_registry(functions.registry(DEFAULT_TASK_TIMEOUT), executions)
    }

    /// With any registry (tests, `p2p run` of other definitions).
    pub fn with_registry(registry: Registry, executions: Arc<LocalWorkflows>) -> Self {
        WorkflowRunner {
            executor: Executor::new(registry).with_options(executor_options()),
            executions,
        }
    }

    /// With a prepared executor (e.g. a mock test case).
    pub fn with_executor(executor: Executor, executions: Arc<LocalWorkflows>) -> Self {
        WorkflowRunner {
            executor,
            executions,
        }
    }

    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    pub fn executions(&self) -> &Arc<LocalWorkflows> {
        &self.executions
    }

    /// Starts `name` (idempotent by name) and runs it.
    pub async fn start(
        &self,
        machine: &StateMachine,
        name: &str,
        input: Value,
    ) -> Result<Started, WorkflowError> {
        // One transaction: stored as running for us, or found (pending: claimed now).
        match self.executions.start_claimed(name, &input).await? {
            StartClaim::Claimed(claimed) => {
                Ok(Started::Ran(self.run_claimed(machine, claimed).await?))
            }
            StartClaim::Existing(existing) => Ok(Started::Existing(existing)),
        }
    }

    /// Runs every `pending` execution (queued through the `WorkflowStarter` port), oldest first.
    pub async fn run_pending(
        &self,
        machine: &StateMachine,
    ) -> Result<Vec<WorkflowExecution>, WorkflowError> {
        let mut ran = Vec::new();
        for pending in self.executions.pending_executions().await? {
            if let Some(claimed) = self.executions.claim_execution(&pending.name).await? {
                ran.push(self.run_claimed(machine, claimed).await?);
            }
        }
        Ok(ran)
    }

    async fn run_claimed(
        &self,
        machine: &StateMachine,
        claimed: WorkflowExecution,
    ) -> Result<WorkflowExecution, WorkflowError> {
        let execution = self
            .executor
            .start(machine, &claimed.name, claimed.input.clone())
            .await;
        self.save(claimed, execution).await
    }

    /// Stores an execution that was run without being recorded first (e.g. `p2p run` of a
    /// definition that needed no store until it paused).
    pub async fn record(
        &self,
        execution: &Execution,
        input: &Value,
    ) -> Result<WorkflowExecution, WorkflowError> {
        let claimed = match self
            .executions
            .start_claimed(&execution.name, input)
            .await?
        {
            StartClaim::Claimed(claimed) => claimed,
            StartClaim::Existing(_) => {
                return Err(StoreError::Conflict {
                    entity: "workflow execution",
                    id: execution.name.clone(),
                    reason: p2p_adapters::ConflictReason::AlreadyExists,
                }
                .into())
            }
        };
        self.save(claimed, execution.clone()).await
    }

    async fn save(
        &self,
        mut record: WorkflowExecution,
        execution: Execution,
    ) -> Result<WorkflowExecution, WorkflowError> {
        apply_outcome(&mut record, execution)?;
        Ok(self.executions.save(record).await?)
    }

    /// `SendTaskSuccess`: resumes the execution waiting on `token` with `output`.
    pub async fn send_task_success(
        &self,
        token: &str,
        output: Value,
    ) -> Result<WorkflowExecution, WorkflowError> {
        self.resume(token, Utc::now(), Resumption::Success(output))
            .await
    }

    /// `SendTaskFailure`: fails the task waiting on `token` (the workflow's Catch decides).
    pub async fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<WorkflowExecution, WorkflowError> {
        self.resume(
            token,
            Utc::now(),
            Resumption::Failure {
                error: error.to_string(),
                cause: cause.to_string(),
            },
        )
        .await
    }

    /// Like [`Self::send_task_success`] at a given time (deadlines are judged against it).
    pub async fn send_task_success_at(
        &self,
        token: &str,
        output: Value,
        now: DateTime<Utc>,
    ) -> Result<WorkflowExecution, WorkflowError> {
        self.resume(token, now, Resumption::Success(output)).await
    }

    /// Fails every paused execution whose wait expired at `now`; returns those it resumed.
    pub async fn expire_waiting(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<WorkflowExecution>, WorkflowError> {
        let mut resumed = Vec::new();
        for record in self.executions.list_executions().await? {
            if record.status != ExecutionStatus::Paused {
                continue;
            }
            let snapshot = snapshot_of(&record)?;
            if snapshot.deadline().is_none_or(|d| d > now) {
                continue;
            }
            let token = snapshot.pending.task_token.clone();
            resumed.push(self.resume(&token, now, Resumption::Expire).await?);
        }
        Ok(resumed)
    }

    async fn resume(
        &self,
        token: &str,
        now: DateTime<Utc>,
        how: Resumption,
    ) -> Result<WorkflowExecution, WorkflowError> {
        let record = self
            .executions
            .find_by_task_token(token)
            .await?
            .ok_or_else(|| WorkflowError::UnknownToken(token.to_string()))?;
        if record.status != ExecutionStatus::Paused {
            return Err(WorkflowError::NotPaused {
                name: record.name.clone(),
                status: record.status.to_string(),
            });
        }
        let snapshot = snapshot_of(&record)?;
        // Claim the resume: a concurrent resume of the same token loses on the version.
        let mut running = record.clone();
        running.status = ExecutionStatus::Running;
        let running = match self.executions.save_execution(&running).await {
            Ok(r) => r,
            Err(StoreError::Conflict { .. }) => {
                return Err(WorkflowError::ResumeConflict {
                    name: record.name.clone(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let resumed = match how {
            Resumption::Success(output) => {
                self.executor
                    .resume_success_at(snapshot, token, output, now)
                    .await
            }
            Resumption::Failure { error, cause } => {
                self.executor
                    .resume_failure_at(snapshot, token, &error, &cause, now)
                    .await
            }
            Resumption::Expire => match self.executor.expire_waiting(snapshot, now).await {
                Ok(Some(e)) => Ok(e),
                Ok(None) => Err(ExecutorError::UnknownToken(token.to_string())),
                Err(e) => Err(e),
            },
        };
        match resumed {
            Ok(execution) => self.save(running, execution).await,
            Err(error) => {
                // Put it back as it was: still waiting.
                let mut back = record;
                back.version = running.version;
                self.executions.save_execution(&back).await?;
                Err(WorkflowError::Resume {
                    name: back.name,
                    error,
                })
            }
        }
    }
}

enum Resumption {
    Success(Value),
    Failure { error: String, cause: String },
    Expire,
}

fn snapshot_of(record: &WorkflowExecution) -> Result<ExecutionSnapshot, WorkflowError> {
    let value = record
        .snapshot
        .clone()
        .ok_or_else(|| WorkflowError::Snapshot {
            name: record.name.clone(),
            message: "no snapshot stored".into(),
        })?;
    serde_json::from_value(value).map_err(|e| WorkflowError::Snapshot {
        name: record.name.clone(),
        message: e.to_string(),
    })
}

/// Moves an interpreter execution's outcome into its stored record.
fn apply_outcome(
    record: &mut WorkflowExecution,
    execution: Execution,
) -> Result<(), WorkflowError> {
    record.history = execution
        .history
        .into_iter()
        .map(HistoryEvent::into_json)
        .collect();
    record.output = None;
    record.error = None;
    record.snapshot = None;
    record.task_tokens = Vec::new();
    match execution.outcome {
        Outcome::Succeeded(output) => {
            record.status = ExecutionStatus::Succeeded;
            record.output = Some(output);
        }
        Outcome::Failed { error, cause } => {
            record.status = ExecutionStatus::Failed;
            record.error = Some(json!({"error": error, "cause": cause}));
        }
        Outcome::Paused {
            task_tokens,
            snapshot,
        } => {
            record.status = ExecutionStatus::Paused;
            record.task_tokens = task_tokens;
            record.snapshot = Some(serde_json::to_value(snapshot.as_ref()).map_err(|e| {
                WorkflowError::Snapshot {
                    name: record.name.clone(),
                    message: e.to_string(),
                }
            })?);
        }
    }
    Ok(())
}

/// The end state an execution reached (`PaymentApproved`, `InvoiceRejected`, ...): the
/// last `*StateEntered` event's state name.
pub fn end_state(record: &WorkflowExecution) -> Option<String> {
    record
        .history
        .iter()
        .rev()
        .find(|e| {
            e.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("StateEntered"))
        })
        .and_then(|e| e.get("stateEnteredEventDetails"))
        .and_then(|d| d.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Execution names by Step Functions' rules, derived from free text (e.g. a document key).
pub fn execution_name(parts: &[&str]) -> String {
    let mut name: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(80);
    name
}

/// For `p2p run`: substitutions `HashMap` with the invoice workflow's defaults under `extra`.
pub fn substitutions_with_defaults(extra: HashMap<String, String>) -> HashMap<String, String> {
    let mut subs = functions::workflow_substitutions();
    subs.extend(extra);
    subs
}
