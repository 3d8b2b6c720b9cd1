//! # p2p-asl: an in-process Amazon States Language interpreter
//!
//! Runs Step Functions definitions (JSONPath query language) with Rust task
//! handlers: no AWS account, Docker or Java.
//!
//! ## Definitions
//! [`StateMachine::from_json`]`(text, &substitutions)` applies `${Name}`
//! DefinitionSubstitutions to every string, parses and checks the definition
//! (StartAt, Next targets, reachability, state types and fields, paths,
//! intrinsic syntax, Retry/Catch rules, Parallel branches and Map processors).
//! Errors are a [`DefinitionError`] listing every [`Problem`], each naming its
//! state and location. Use [`StateMachine::with_name`] to set the name used in
//! ARNs, `$$.StateMachine` and mock configs.
//!
//! ## Handlers
//! ```
//! use p2p_asl::{Registry, TaskError};
//! use serde_json::{json, Value};
//! let registry = Registry::new()
//!     .register_fn("validate-invoice", |input: Value| async move {
//!         if input["total"].is_null() {
//!             return Err(TaskError::new("InvalidInvoice", "no total"));
//!         }
//!         Ok(json!({"valid": true}))
//!     });
//! ```
//! A handler is anything implementing [`TaskHandler`] (`async fn invoke(input,
//! TaskContext) -> Result<Value, TaskError>`); closures register with
//! [`Registry::register_fn`] / [`Registry::register_fn_ctx`]. Resources resolve
//! through [`ResourceResolver`]: Lambda ARNs (`...:function:name[:alias]`) and
//! bare names by function name; `arn:aws:states:::lambda:invoke` by
//! `Parameters.FunctionName`, passing `Payload` and wrapping the result like AWS
//! (`{"ExecutedVersion","Payload","StatusCode":200,...}`); any other resource by its
//! full text. A [`TaskError`] becomes the state error (`error` matched by
//! `ErrorEquals`). A panicking handler fails the task with `States.TaskFailed`.
//! An unknown resource fails the execution with `States.Runtime` naming it.
//!
//! ## Running
//! ```
//! # use p2p_asl::*;
//! # use serde_json::json;
//! # use std::collections::HashMap;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let machine = StateMachine::from_json(
//!     r#"{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":60,"Next":"B"},"B":{"Type":"Succeed"}}}"#,
//!     &HashMap::new(),
//! ).unwrap().with_name("Demo");
//! let executor = Executor::new(Registry::new()); // virtual time by default
//! let execution = executor.start(&machine, "run-1", json!({"x": 1})).await;
//! assert_eq!(execution.output(), Some(&json!({"x": 1})));
//! assert_eq!(execution.history.last().unwrap().event_type, "ExecutionSucceeded");
//! # });
//! ```
//! [`Executor::start`] returns an [`Execution`] whose [`Outcome`] is
//! `Succeeded(output)`, `Failed { error, cause }` or `Paused { task_tokens,
//! snapshot }`, plus the full [`HistoryEvent`] list (AWS event types and
//! `*EventDetails`; [`Execution::history_json`] gives `{"events": [...]}`).
//!
//! Time is virtual by default: Wait states and retry back-off advance a clock
//! (starting at [`Executor::start_time`] or now) without sleeping; `$$` times and
//! history timestamps use it. [`Executor::real_time`] sleeps instead. Task
//! `TimeoutSeconds` always bounds the handler future in real time.
//!
//! ## Task tokens
//! A Task whose resource ends in `.waitForTaskToken` invokes its handler with
//! the token in `$$.Task.Token` (and [`TaskContext::task_token`]), then pauses.
//! At the top level the execution returns `Outcome::Paused` with a
//! serializable [`ExecutionSnapshot`] (definition, history, clock, pending task,
//! retry counters). Store it (e.g. `snapshot.to_json()`), and later, in any
//! process: [`Executor::resume_success`]`(snapshot, token, output)` or
//! [`Executor::resume_failure`]`(snapshot, token, error, cause)` (the `_at`
//! variants set the clock; resuming after `TimeoutSeconds` gives
//! `States.Timeout`, after `HeartbeatSeconds` without
//! [`Executor::send_task_heartbeat`] gives `States.HeartbeatTimeout`).
//! [`Executor::expire_waiting`]`(snapshot, now)` fails an expired wait.
//! Inside Parallel branches and Map iterations, tokens are awaited in memory
//! only: complete them with [`Executor::send_task_success`] /
//! [`Executor::send_task_failure`] while `start` runs.
//!
//! ## Mocked test cases
//! [`MockConfig::from_file`] reads Step Functions Local's mock config
//! (`StateMachines.<name>.TestCases.<case>.<State> = <Response>`,
//! `MockedResponses.<Response>."0" | "1-2" = {"Return": ...} | {"Throw": {"Error","Cause"}}`);
//! [`Executor::with_mock_test_case`]`(&config, machine_name, case)` runs with it:
//! the n-th invocation of a mocked state uses the matching entry and never calls
//! the registry.
//!
//! ## Not supported
//! JSONata, variables (`Assign`), distributed Map (`ItemReader`, `ResultWriter`,
//! `ItemBatcher`), the state machine level `TimeoutSeconds`, and snapshots of
//! executions paused inside Parallel/Map.
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
