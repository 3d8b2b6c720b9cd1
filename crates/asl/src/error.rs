//! Error types: definition problems, runtime `States.*` errors and API misuse.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The spec's predefined error names.
pub mod names {
    /// Wildcard matching any error name except `States.Runtime`.
    pub const ALL: &str = "States.ALL";
    /// A Task ran longer than `TimeoutSeconds` or missed a heartbeat.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A heartbeat was not received in time.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// Wildcard matching any error except `States.Timeout`; also used for handler panics.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// Insufficient privileges.
    pub const PERMISSIONS: &str = "States.Permissions";
    /// `ResultPath` could not be applied to the state input.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A `.$` field of Parameters/ItemSelector/ResultSelector could not be resolved.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A branch of a Parallel state (or an iteration of a Map) failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// No Choice rule matched and there is no Default.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A Map state had more failed items than tolerated.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A Map state's ItemReader failed (ItemReader is not supported in-process).
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// Unprocessable exception (not retriable, not catchable).
    pub const RUNTIME: &str = "States.Runtime";
}

/// A runtime error inside an execution: an error name and a cause, as Step Functions reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
#[error("{error}: {cause}")]
pub struct StatesError {
    /// Error name, e.g. `States.TaskFailed` or a handler's own error type.
    pub error: String,
    /// Human-readable cause.
    pub cause: String,
    /// Set when the error came out of a Parallel branch or Map iteration,
    /// so that `States.BranchFailed` can match it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_branch: bool,
}

impl StatesError {
    /// Creates an error with the given name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError {
            error: error.into(),
            cause: cause.into(),
            from_branch: false,
        }
    }
    /// `States.Runtime`.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(names::RUNTIME, cause)
    }
    /// `States.IntrinsicFailure`.
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(names::INTRINSIC_FAILURE, cause)
    }
    /// `States.ParameterPathFailure`.
    pub fn parameter_path(cause: impl Into<String>) -> Self {
        Self::new(names::PARAMETER_PATH_FAILURE, cause)
    }
    /// `States.ResultPathMatchFailure`.
    pub fn result_path(cause: impl Into<String>) -> Self {
        Self::new(names::RESULT_PATH_MATCH_FAILURE, cause)
    }
}

/// One problem found while checking a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: e.g. `States.ProcessItems.ItemProcessor.States.Validate`, or `StartAt`.
    pub location: String,
    /// The state concerned, if any.
    pub state: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            Some(s) => write!(f, "state '{}' ({}): {}", s, self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// Why a definition was rejected.
#[derive(Debug, Error)]
pub enum DefinitionError {
    /// The text is not JSON.
    #[error("state machine definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The definition breaks one or more rules of the spec.
    #[error("invalid state machine definition: {}", join_problems(.0))]
    Invalid(Vec<Problem>),
}

impl DefinitionError {
    /// The problems found (empty for a JSON syntax error).
    pub fn problems(&self) -> &[Problem] {
        match self {
            DefinitionError::Json(_) => &[],
            DefinitionError::Invalid(p) => p,
        }
    }
}

fn join_problems(p: &[Problem]) -> String {
    p.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Errors of the executor API itself (resuming with a wrong token, a bad snapshot, ...).
#[derive(Debug, Error)]
pub enum ExecutorError {
    /// The token does not belong to the paused execution / is not waiting.
    #[error("unknown task token '{0}'")]
    UnknownToken(String),
    /// The snapshot's definition no longer parses.
    #[error("snapshot definition is invalid: {0}")]
    Definition(#[from] DefinitionError),
    /// The snapshot is inconsistent.
    #[error("invalid snapshot: {0}")]
    InvalidSnapshot(String),
    /// A mock test case or state machine was not found in the mock config.
    #[error("mock config: {0}")]
    Mock(String),
}

/// Errors reading a mock configuration.
#[derive(Debug, Error)]
pub enum MockConfigError {
    /// Not JSON / wrong shape.
    #[error("mock config is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// Bad invocation key or response.
    #[error("mock config: {0}")]
    Invalid(String),
    /// Reading the file failed.
    #[error("cannot read mock config: {0}")]
    Io(#[from] std::io::Error),
}
