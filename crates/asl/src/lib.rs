//! placeholder
pub mod choice;
pub mod context;
pub mod definition;
pub mod error;
pub mod executor;
pub mod history;
pub mod intrinsics;
pub mod json;
pub mod mock;
pub mod path;
pub mod registry;
pub mod retry;
pub mod template;

pub use definition::StateMachine;
pub use error::{DefinitionError, ExecutorError, MockConfigError, Problem, StatesError};
pub use executor::{
    Execution, ExecutionSnapshot, Executor, ExecutorOptions, Outcome, PendingTask, TimeMode,
};
pub use history::HistoryEvent;
pub use mock::{MockConfig, MockOutcome, MockTestCase};
pub use registry::{handler_fn, Registry, ResourceResolver, TaskContext, TaskError, TaskHandler};
