//! The interpreter: runs a [`StateMachine`] with in-process handlers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

use crate::choice::parse_ts;
use crate::context::{ts, ContextObject, ExecutionMeta};
use crate::definition::{
    FailField, Graph, Kind, NumSpec, Sel, State, StateMachine, Transition, WaitSpec,
};
use crate::error::{names, ExecutorError, StatesError};
use crate::history::{payload, HistoryEvent};
use crate::json::{num_f64, type_name};
use crate::mock::{MockConfig, MockOutcome, MockTestCase};
use crate::registry::{parse_resource, ResourceKind, ResourceResolver, TaskContext, TaskError};
use crate::retry::{decide, error_output, find_catcher, Decision};
use crate::template::Env;

/// How time passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TimeMode {
    /// Waits and retry back-offs advance a virtual clock instantly (default).
    #[default]
    Virtual,
    /// Waits and back-offs really sleep (tokio).
    Real,
}

/// Executor settings.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Virtual (default) or real time.
    pub time: TimeMode,
    /// Virtual start time (default: now).
    pub start_time: Option<DateTime<Utc>>,
    /// Region used in ARNs (default `us-east-1`).
    pub region: String,
    /// Account id used in ARNs (default `123456789012`).
    pub account_id: String,
    /// Execution role ARN (`$$.Execution.RoleArn`).
    pub role_arn: Option<String>,
    /// Selected mock test case: mocked states never call the registry.
    pub mock: Option<MockTestCase>,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        ExecutorOptions {
            time: TimeMode::Virtual,
            start_time: None,
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            role_arn: None,
            mock: None,
        }
    }
}

/// A task waiting for `SendTaskSuccess`/`SendTaskFailure` at the top level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PendingTask {
    /// Task state name.
    pub state_name: String,
    /// The token.
    pub task_token: String,
    /// The state's raw input (for ResultPath).
    pub raw_input: Value,
    /// Retries made per retrier.
    pub retry_counts: Vec<u32>,
    /// When the state was entered.
    pub entered_time: DateTime<Utc>,
    /// `TimeoutSeconds` deadline.
    pub timeout_deadline: Option<DateTime<Utc>>,
    /// `HeartbeatSeconds`.
    pub heartbeat_seconds: Option<u64>,
    /// Heartbeat deadline.
    pub heartbeat_deadline: Option<DateTime<Utc>>,
    /// History `resourceType`.
    pub resource_type: String,
    /// History `resource`.
    pub resource: String,
}

/// A paused top-level execution, serializable so another process can resume it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSnapshot {
    /// Format version (1).
    pub format_version: u32,
    /// The definition (after substitutions).
    pub definition: Value,
    /// Execution facts.
    pub execution: ExecutionMeta,
    /// Clock at pause.
    pub clock: DateTime<Utc>,
    /// Time mode of the execution.
    pub time_mode: TimeMode,
    /// History so far.
    pub history: Vec<HistoryEvent>,
    /// Last event id of the top-level thread.
    pub last_event_id: u64,
    /// The waiting task.
    pub pending: PendingTask,
    /// Mock invocation counters per state.
    pub mock_counters: HashMap<String, u32>,
    /// Jitter random state.
    pub rng: u64,
}

impl ExecutionSnapshot {
    /// The token the execution waits for.
    pub fn task_token(&self) -> &str {
        &self.pending.task_token
    }
    /// The earliest deadline (timeout or heartbeat), if any.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        match (
            self.pending.timeout_deadline,
            self.pending.heartbeat_deadline,
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    /// To JSON text.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
    /// From JSON text.
    pub fn from_json(text: &str) -> Result<ExecutionSnapshot, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// How an execution ended (or paused).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `SUCCEEDED` with the output.
    Succeeded(Value),
    /// `FAILED`.
    Failed {
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
    /// Waiting for a task token (top level only).
    Paused {
        /// Tokens awaited.
        task_tokens: Vec<String>,
        /// State to resume from.
        snapshot: Box<ExecutionSnapshot>,
    },
}

/// A finished or paused execution.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Execution name.
    pub name: String,
    /// Execution ARN.
    pub execution_arn: String,
    /// State machine ARN.
    pub state_machine_arn: String,
    /// Start time.
    pub start_date: DateTime<Utc>,
    /// End time (None while paused).
    pub stop_date: Option<DateTime<Utc>>,
    /// The outcome.
    pub outcome: Outcome,
    /// Full history.
    pub history: Vec<HistoryEvent>,
}

impl Execution {
    /// `SUCCEEDED`, `FAILED` or `PAUSED`.
    pub fn status(&self) -> &'static str {
        match self.outcome {
            Outcome::Succeeded(_) => "SUCCEEDED",
            Outcome::Failed { .. } => "FAILED",
            Outcome::Paused { .. } => "PAUSED",
        }
    }
    /// The output if succeeded.
    pub fn output(&self) -> Option<&Value> {
        match &self.outcome {
            Outcome::Succeeded(v) => Some(v),
            _ => None,
        }
    }
    /// `(error, cause)` if failed.
    pub fn error(&self) -> Option<(&str, &str)> {
        match &self.outcome {
            Outcome::Failed { error, cause } => Some((error, cause)),
            _ => None,
        }
    }
    /// The snapshot if paused.
    pub fn snapshot(&self) -> Option<&ExecutionSnapshot> {
        match &self.outcome {
            Outcome::Paused { snapshot, .. } => Some(snapshot),
            _ => None,
        }
    }
    /// The history as AWS's `GetExecutionHistory` JSON (`{"events": [...]}`).
    pub fn history_json(&self) -> Value {
        json!({"events": self.history.iter().map(HistoryEvent::to_json).collect::<Vec<_>>()})
    }
    /// Event types in order (handy in tests).
    pub fn event_types(&self) -> Vec<&str> {
        self.history.iter().map(|e| e.event_type.as_str()).collect()
    }
}

type Waiters = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, TaskError>>>>>;

/// Runs state machines. Cheap to share (`&self` methods); one executor can run many executions.
pub struct Executor {
    resolver: Arc<dyn ResourceResolver>,
    options: ExecutorOptions,
    waiters: Waiters,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("options", &self.options)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Thread {
    clock: DateTime<Utc>,
    last_event: u64,
    allow_pause: bool,
}

enum Step {
    Next(String, Value),
    End(Value),
    Pause(Box<PendingTask>),
}

enum GraphEnd {
    Done(Value),
    Paused(Box<PendingTask>),
}

enum Attempt {
    Done(Value),
    Pause(Box<PendingTask>),
}

enum Recovered {
    Retry,
    Caught(String, Value),
}

struct Run<'e> {
    exec: &'e Executor,
    meta: ExecutionMeta,
    history: Mutex<Vec<HistoryEvent>>,
    mock_counters: Mutex<HashMap<String, u32>>,
    rng: Mutex<u64>,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

fn input_sel<'v>(sel: &Sel, v: &'v Value, field: &str) -> Result<Cow<'v, Value>, StatesError> {
    match sel {
        Sel::All => Ok(Cow::Borrowed(v)),
        Sel::Null => Ok(Cow::Owned(Value::Object(Map::new()))),
        Sel::Path(p) => p.select_required(v, field).map(Cow::Owned),
    }
}

fn output_sel(sel: &Sel, v: Value) -> Result<Value, StatesError> {
    match sel {
        Sel::All => Ok(v),
        Sel::Null => Ok(Value::Object(Map::new())),
        Sel::Path(p) => p.select_required(&v, "OutputPath"),
    }
}

fn result_sel(sel: &Sel, raw: Value, result: Value) -> Result<Value, StatesError> {
    match sel {
        Sel::All => Ok(result),
        Sel::Null => Ok(raw),
        Sel::Path(p) => {
            let mut raw = raw;
            p.insert(&mut raw, result)?;
            Ok(raw)
        }
    }
}

fn seconds(d: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((d * 1000.0).round() as i64)
}

impl Executor {
    /// An executor with default options (virtual time) over a resolver such as a [`crate::Registry`].
    pub fn new(resolver: impl ResourceResolver + 'static) -> Self {
        Self::with_resolver(Arc::new(resolver))
    }

    /// From a shared resolver.
    pub fn with_resolver(resolver: Arc<dyn ResourceResolver>) -> Self {
        Executor {
            resolver,
            options: ExecutorOptions::default(),
            waiters: Arc::default(),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: ExecutorOptions) -> Self {
        self.options = options;
        self
    }

    /// Uses real time (sleeps for Wait and back-off).
    pub fn real_time(mut self) -> Self {
        self.options.time = TimeMode::Real;
        self
    }

    /// Sets the virtual start time.
    pub fn start_time(mut self, t: DateTime<Utc>) -> Self {
        self.options.start_time = Some(t);
        self
    }

    /// Runs with a test case of a mock config (looked up by state machine name and case name).
    pub fn with_mock_test_case(
        mut self,
        config: &MockConfig,
        state_machine: &str,
        test_case: &str,
    ) -> Result<Self, ExecutorError> {
        let tc = config
            .test_case(state_machine, test_case)
            .map_err(|e| ExecutorError::Mock(e.to_string()))?;
        self.options.mock = Some(tc);
        Ok(self)
    }

    /// The options.
    pub fn options(&self) -> &ExecutorOptions {
        &self.options
    }

    /// Resources of a machine that nothing resolves (neither the registry nor the mock test case).
    pub fn unresolved_resources(&self, machine: &StateMachine) -> Vec<String> {
        machine
            .resources()
            .into_iter()
            .filter(|r| {
                let spec = parse_resource(r);
                let f = match &spec.kind {
                    ResourceKind::Function(f) => Some(f.as_str()),
                    _ => None,
                };
                spec.kind != ResourceKind::LambdaInvoke && self.resolver.resolve(r, f).is_none()
            })
            .collect()
    }

    fn state_machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            self.options.region, self.options.account_id, name
        )
    }

    /// Starts an execution and runs it until it ends or pauses on a task token.
    pub async fn start(
        &self,
        machine: &StateMachine,
        execution_name: &str,
        input: Value,
    ) -> Execution {
        let name = if execution_name.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            execution_name.to_string()
        };
        let start = match self.options.time {
            TimeMode::Virtual => self.options.start_time.unwrap_or_else(Utc::now),
            TimeMode::Real => Utc::now(),
        };
        let meta = ExecutionMeta {
            execution_arn: format!(
                "arn:aws:states:{}:{}:execution:{}:{}",
                self.options.region, self.options.account_id, machine.name, name
            ),
            name,
            state_machine_arn: self.state_machine_arn(&machine.name),
            state_machine_name: machine.name.clone(),
            input: input.clone(),
            start_time: start,
            role_arn: self.options.role_arn.clone().unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/StepFunctions-{}-role",
                    self.options.account_id, machine.name
                )
            }),
        };
        let seed = meta
            .execution_arn
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
        let run = Run {
            exec: self,
            meta,
            history: Mutex::new(Vec::new()),
            mock_counters: Mutex::new(HashMap::new()),
            rng: Mutex::new(seed),
        };
        let mut th = Thread {
            clock: start,
            last_event: 0,
            allow_pause: true,
        };
        run.event(
            &mut th,
            "ExecutionStarted",
            json!({
                "input": payload(&input),
                "roleArn": run.meta.role_arn,
                "stateMachineArn": run.meta.state_machine_arn,
            }),
        );
        let res = run
            .run_graph(&machine.root, machine.root.start_at.clone(), input, &mut th)
            .await;
        run.finish(machine, res, &mut th)
    }

    /// Resumes a paused execution with the task's output (`SendTaskSuccess`), at the snapshot's clock
    /// (virtual time) or now (real time).
    pub async fn resume_success(
        &self,
        snapshot: ExecutionSnapshot,
        token: &str,
        output: Value,
    ) -> Result<Execution, ExecutorError> {
        self.resume(snapshot, token, Ok(output), None).await
    }

    /// Resumes a paused execution with a task failure (`SendTaskFailure`).
    pub async fn resume_failure(
        &self,
        snapshot: ExecutionSnapshot,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<Execution, ExecutorError> {
        self.resume(snapshot, token, Err(TaskError::new(error, cause)), None)
            .await
    }

    /// Like [`Executor::resume_success`] with the clock set to `now` (deadlines are judged against it).
    pub async fn resume_success_at(
        &self,
        snapshot: ExecutionSnapshot,
        token: &str,
        output: Value,
        now: DateTime<Utc>,
    ) -> Result<Execution, ExecutorError> {
        self.resume(snapshot, token, Ok(output), Some(now)).await
    }

    /// Like [`Executor::resume_failure`] with the clock set to `now`.
    pub async fn resume_failure_at(
        &self,
        snapshot: ExecutionSnapshot,
        token: &str,
        error: &str,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<Execution, ExecutorError> {
        self.resume(
            snapshot,
            token,
            Err(TaskError::new(error, cause)),
            Some(now),
        )
        .await
    }

    /// If the paused task's timeout or heartbeat deadline has passed at `now`, fails the task
    /// with `States.Timeout` / `States.HeartbeatTimeout` (Retry/Catch apply) and continues.
    /// Returns `None` if nothing expired.
    pub async fn expire_waiting(
        &self,
        snapshot: ExecutionSnapshot,
        now: DateTime<Utc>,
    ) -> Result<Option<Execution>, ExecutorError> {
        match snapshot.deadline() {
            Some(d) if d <= now => {
                let token = snapshot.pending.task_token.clone();
                let cause = TaskError::new(names::TIMEOUT, "expired");
                self.resume(snapshot, &token, Err(cause), Some(now))
                    .await
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Records a heartbeat (`SendTaskHeartbeat`) for a paused task, extending its heartbeat deadline.
    pub fn send_task_heartbeat(
        &self,
        snapshot: &mut ExecutionSnapshot,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ExecutorError> {
        if snapshot.pending.task_token != token {
            return Err(ExecutorError::UnknownToken(token.to_string()));
        }
        if let Some(h) = snapshot.pending.heartbeat_seconds {
            snapshot.pending.heartbeat_deadline = Some(now + chrono::Duration::seconds(h as i64));
        }
        Ok(())
    }

    /// Completes a task waiting in memory (a `.waitForTaskToken` task inside a Parallel branch
    /// or Map iteration of a running execution).
    pub fn send_task_success(&self, token: &str, output: Value) -> Result<(), ExecutorError> {
        self.send(token, Ok(output))
    }

    /// Fails a task waiting in memory.
    pub fn send_task_failure(
        &self,
        token: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), ExecutorError> {
        self.send(token, Err(TaskError::new(error, cause)))
    }

    /// Tokens currently awaited in memory.
    pub fn waiting_tokens(&self) -> Vec<String> {
        lock(&self.waiters).keys().cloned().collect()
    }

    fn send(&self, token: &str, r: Result<Value, TaskError>) -> Result<(), ExecutorError> {
        let tx = lock(&self.waiters)
            .remove(token)
            .ok_or_else(|| ExecutorError::UnknownToken(token.to_string()))?;
        tx.send(r)
            .map_err(|_| ExecutorError::UnknownToken(token.to_string()))
    }

    async fn resume(
        &self,
        snapshot: ExecutionSnapshot,
        token: &str,
        result: Result<Value, TaskError>,
        now: Option<DateTime<Utc>>,
    ) -> Result<Execution, ExecutorError> {
        if snapshot.pending.task_token != token {
            return Err(ExecutorError::UnknownToken(token.to_string()));
        }
        let machine = StateMachine::from_value(snapshot.definition.clone(), &HashMap::new())?
            .with_name(snapshot.execution.state_machine_name.clone());
        let pending = snapshot.pending;
        let state = machine
            .root
            .states
            .get(&pending.state_name)
            .ok_or_else(|| {
                ExecutorError::InvalidSnapshot(format!("no state '{}'", pending.state_name))
            })?;
        let run = Run {
            exec: self,
            meta: snapshot.execution,
            history: Mutex::new(snapshot.history),
            mock_counters: Mutex::new(snapshot.mock_counters),
            rng: Mutex::new(snapshot.rng),
        };
        let clock = match (snapshot.time_mode, now) {
            (_, Some(n)) => n.max(snapshot.clock),
            (TimeMode::Virtual, None) => snapshot.clock,
            (TimeMode::Real, None) => Utc::now(),
        };
        let mut th = Thread {
            clock,
            last_event: snapshot.last_event_id,
            allow_pause: true,
        };
        let at = run.now(&th);
        let rt = pending.resource_type.clone();
        let rs = pending.resource.clone();
        let result: Result<Value, StatesError> =
            if pending.timeout_deadline.is_some_and(|d| d <= at) {
                Err(StatesError::new(
                    names::TIMEOUT,
                    format!(
                        "Task timed out waiting for task token (deadline {})",
                        ts(&pending.timeout_deadline.unwrap_or(at))
                    ),
                ))
            } else if pending.heartbeat_deadline.is_some_and(|d| d <= at) {
                Err(StatesError::new(
                    names::HEARTBEAT_TIMEOUT,
                    "No heartbeat received before the heartbeat deadline",
                ))
            } else {
                result.map_err(|e| StatesError::new(e.error, e.cause))
            };
        match &result {
            Ok(v) => run.event(
                &mut th,
                "TaskSucceeded",
                json!({"resourceType": rt, "resource": rs, "output": payload(v)}),
            ),
            Err(e) if e.error == names::TIMEOUT || e.error == names::HEARTBEAT_TIMEOUT => run
                .event(
                    &mut th,
                    "TaskTimedOut",
                    json!({"resourceType": rt, "resource": rs, "error": e.error, "cause": e.cause}),
                ),
            Err(e) => run.event(
                &mut th,
                "TaskFailed",
                json!({"resourceType": rt, "resource": rs, "error": e.error, "cause": e.cause}),
            ),
        };
        let step = run
            .complete(state, *Box::new(pending), result, &mut th)
            .await;
        let res = match step {
            Ok(Step::Next(n, v)) => run.run_graph(&machine.root, n, v, &mut th).await,
            Ok(Step::End(v)) => Ok(GraphEnd::Done(v)),
            Ok(Step::Pause(p)) => Ok(GraphEnd::Paused(p)),
            Err(e) => Err(e),
        };
        Ok(run.finish(&machine, res, &mut th))
    }
}

impl Run<'_> {
    fn now(&self, th: &Thread) -> DateTime<Utc> {
        match self.exec.options.time {
            TimeMode::Virtual => th.clock,
            TimeMode::Real => Utc::now(),
        }
    }

    fn event(&self, th: &mut Thread, ty: &str, details: Value) -> u64 {
        let mut h = lock(&self.history);
        let id = h.len() as u64 + 1;
        h.push(HistoryEvent {
            id,
            previous_event_id: th.last_event,
            timestamp: self.now(th),
            event_type: ty.to_string(),
            details,
        });
        th.last_event = id;
        id
    }

    fn random01(&self) -> f64 {
        let mut s = lock(&self.rng);
        (splitmix(&mut s) >> 11) as f64 / (1u64 << 53) as f64
    }

    async fn advance(&self, th: &mut Thread, secs: f64) {
        if secs <= 0.0 {
            return;
        }
        match self.exec.options.time {
            TimeMode::Virtual => th.clock += seconds(secs),
            TimeMode::Real => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
        }
    }

    async fn advance_to(&self, th: &mut Thread, t: DateTime<Utc>) {
        match self.exec.options.time {
            TimeMode::Virtual => th.clock = th.clock.max(t),
            TimeMode::Real => {
                let d = t - Utc::now();
                if let Ok(std) = d.to_std() {
                    tokio::time::sleep(std).await;
                }
            }
        }
    }

    fn finish(
        &self,
        machine: &StateMachine,
        res: Result<GraphEnd, StatesError>,
        th: &mut Thread,
    ) -> Execution {
        let outcome = match res {
            Ok(GraphEnd::Done(out)) => {
                self.event(th, "ExecutionSucceeded", json!({"output": payload(&out)}));
                Outcome::Succeeded(out)
            }
            Ok(GraphEnd::Paused(p)) => {
                let snapshot = ExecutionSnapshot {
                    format_version: 1,
                    definition: machine.definition.clone(),
                    execution: self.meta.clone(),
                    clock: th.clock,
                    time_mode: self.exec.options.time,
                    history: lock(&self.history).clone(),
                    last_event_id: th.last_event,
                    pending: *p,
                    mock_counters: lock(&self.mock_counters).clone(),
                    rng: *lock(&self.rng),
                };
                Outcome::Paused {
                    task_tokens: vec![snapshot.pending.task_token.clone()],
                    snapshot: Box::new(snapshot),
                }
            }
            Err(e) => {
                self.event(
                    th,
                    "ExecutionFailed",
                    json!({"error": e.error, "cause": e.cause}),
                );
                Outcome::Failed {
                    error: e.error,
                    cause: e.cause,
                }
            }
        };
        let stop_date = match outcome {
            Outcome::Paused { .. } => None,
            _ => Some(self.now(th)),
        };
        Execution {
            name: self.meta.name.clone(),
            execution_arn: self.meta.execution_arn.clone(),
            state_machine_arn: self.meta.state_machine_arn.clone(),
            start_date: self.meta.start_time,
            stop_date,
            outcome,
            history: std::mem::take(&mut *lock(&self.history)),
        }
    }

    fn run_graph<'a>(
        &'a self,
        g: &'a Graph,
        start: String,
        input: Value,
        th: &'a mut Thread,
    ) -> BoxFuture<'a, Result<GraphEnd, StatesError>> {
        async move {
            let mut current = start;
            let mut input = input;
            loop {
                let state = g
                    .states
                    .get(&current)
                    .ok_or_else(|| StatesError::runtime(format!("no state named '{current}'")))?;
                match self.run_state(state, input, th).await? {
                    Step::Next(n, v) => {
                        current = n;
                        input = v;
                    }
                    Step::End(v) => return Ok(GraphEnd::Done(v)),
                    Step::Pause(p) => return Ok(GraphEnd::Paused(p)),
                }
            }
        }
        .boxed()
    }

    fn exited(&self, state: &State, th: &mut Thread, output: &Value) {
        self.event(
            th,
            event_name(state.type_name, false),
            json!({"name": state.name, "output": payload(output)}),
        );
    }

    fn transition(state: &State, out: Value) -> Step {
        match &state.transition {
            Transition::Next(n) => Step::Next(n.clone(), out),
            Transition::End => Step::End(out),
        }
    }

    async fn run_state(
        &self,
        state: &State,
        input: Value,
        th: &mut Thread,
    ) -> Result<Step, StatesError> {
        self.event(
            th,
            event_name(state.type_name, true),
            json!({"name": state.name, "input": payload(&input)}),
        );
        let entered = self.now(th);
        match &state.kind {
            Kind::Pass { result } => {
                let out = {
                    let eff = input_sel(&state.input_path, &input, "InputPath")?;
                    let r = match (result, &state.parameters) {
                        (Some(r), _) => r.clone(),
                        (None, Some(p)) => {
                            let ctx = ContextObject::new(&self.meta, &state.name, entered, 0);
                            p.eval(&Env {
                                input: &eff,
                                ctx: &ctx,
                            })?
                        }
                        (None, None) => eff.into_owned(),
                    };
                    r
                };
                let out = output_sel(
                    &state.output_path,
                    result_sel(&state.result_path, input, out)?,
                )?;
                self.exited(state, th, &out);
                Ok(Self::transition(state, out))
            }
            Kind::Choice { choices, default } => {
                let (next, eff) = {
                    let eff = input_sel(&state.input_path, &input, "InputPath")?;
                    let ctx = ContextObject::new(&self.meta, &state.name, entered, 0);
                    let env = Env {
                        input: &eff,
                        ctx: &ctx,
                    };
                    let mut next = None;
                    for (rule, n) in choices {
                        if rule.eval(&env)? {
                            next = Some(n.clone());
                            break;
                        }
                    }
                    (next, eff.into_owned())
                };
                let next = match (next, default) {
                    (Some(n), _) => n,
                    (None, Some(d)) => d.clone(),
                    (None, None) => {
                        return Err(StatesError::new(
                            names::NO_CHOICE_MATCHED,
                            format!("No Matches! (state '{}')", state.name),
                        ))
                    }
                };
                let out = output_sel(&state.output_path, eff)?;
                self.exited(state, th, &out);
                Ok(Step::Next(next, out))
            }
            Kind::Wait(spec) => {
                let eff = input_sel(&state.input_path, &input, "InputPath")?.into_owned();
                let bad =
                    |m: String| StatesError::runtime(format!("Wait state '{}': {m}", state.name));
                match spec {
                    WaitSpec::Seconds(s) => self.advance(th, *s as f64).await,
                    WaitSpec::SecondsPath(p) => {
                        let v = p.select_one(&eff).ok_or_else(|| {
                            bad(format!("SecondsPath '{}' not found", p.as_str()))
                        })?;
                        let s = v
                            .as_number()
                            .and_then(num_f64)
                            .filter(|x| *x >= 0.0 && x.fract() == 0.0);
                        let s = s.ok_or_else(|| {
                            bad(format!(
                                "SecondsPath '{}' must be a non-negative integer, got {v}",
                                p.as_str()
                            ))
                        })?;
                        self.advance(th, s).await
                    }
                    WaitSpec::Timestamp(t) => {
                        let t = parse_ts(t).ok_or_else(|| bad(format!("bad timestamp {t}")))?;
                        self.advance_to(th, t.with_timezone(&Utc)).await
                    }
                    WaitSpec::TimestampPath(p) => {
                        let v = p.select_one(&eff).ok_or_else(|| {
                            bad(format!("TimestampPath '{}' not found", p.as_str()))
                        })?;
                        let t = v.as_str().and_then(parse_ts).ok_or_else(|| {
                            bad(format!(
                                "TimestampPath '{}' is not an RFC 3339 timestamp: {v}",
                                p.as_str()
                            ))
                        })?;
                        self.advance_to(th, t.with_timezone(&Utc)).await
                    }
                }
                let out = output_sel(&state.output_path, eff)?;
                self.exited(state, th, &out);
                Ok(Self::transition(state, out))
            }
            Kind::Succeed => {
                let eff = input_sel(&state.input_path, &input, "InputPath")?.into_owned();
                let out = output_sel(&state.output_path, eff)?;
                self.exited(state, th, &out);
                Ok(Step::End(out))
            }
            Kind::Fail { error, cause } => {
                let ctx = ContextObject::new(&self.meta, &state.name, entered, 0);
                let env = Env {
                    input: &input,
                    ctx: &ctx,
                };
                let field = |f: &Option<FailField>| -> Result<Option<String>, StatesError> {
                    match f {
                        None => Ok(None),
                        Some(FailField::Text(s)) => Ok(Some(s.clone())),
                        Some(FailField::Dyn(d)) => match d.eval(&env)? {
                            Some(Value::String(s)) => Ok(Some(s)),
                            Some(other) => Err(StatesError::runtime(format!(
                                "Fail state '{}': ErrorPath/CausePath must yield a string, got {}",
                                state.name,
                                type_name(&other)
                            ))),
                            None => Err(StatesError::runtime(format!(
                                "Fail state '{}': ErrorPath/CausePath not found in input",
                                state.name
                            ))),
                        },
                    }
                };
                let e = field(error)?.unwrap_or_default();
                let c = field(cause)?.unwrap_or_default();
                Err(StatesError::new(e, c))
            }
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map { .. } => {
                let counts = vec![0; state.recovery.retry.len()];
                self.run_recoverable(state, input, th, counts, entered)
                    .boxed()
                    .await
            }
        }
    }

    /// Retry loop for Task, Parallel and Map.
    async fn run_recoverable(
        &self,
        state: &State,
        raw: Value,
        th: &mut Thread,
        mut counts: Vec<u32>,
        entered: DateTime<Utc>,
    ) -> Result<Step, StatesError> {
        loop {
            let retry_count: u32 = counts.iter().sum();
            let attempt = match &state.kind {
                Kind::Task { .. } => {
                    self.task_attempt(state, &raw, th, retry_count, entered, &counts)
                        .await
                }
                Kind::Parallel { .. } => self
                    .parallel_attempt(state, &raw, th, retry_count, entered)
                    .await
                    .map(Attempt::Done),
                _ => self
                    .map_attempt(state, &raw, th, retry_count, entered)
                    .await
                    .map(Attempt::Done),
            };
            let result = match attempt {
                Ok(Attempt::Pause(p)) => return Ok(Step::Pause(p)),
                Ok(Attempt::Done(v)) => self.post_process(state, &raw, v, entered, retry_count),
                Err(e) => Err(e),
            };
            match result {
                Ok(out) => {
                    self.exited(state, th, &out);
                    return Ok(Self::transition(state, out));
                }
                Err(e) => match self.recover(state, &raw, e, &mut counts, th).await? {
                    Recovered::Retry => continue,
                    Recovered::Caught(next, out) => {
                        self.exited(state, th, &out);
                        return Ok(Step::Next(next, out));
                    }
                },
            }
        }
    }

    /// Completes a resumed waiting task.
    async fn complete(
        &self,
        state: &State,
        pending: PendingTask,
        result: Result<Value, StatesError>,
        th: &mut Thread,
    ) -> Result<Step, StatesError> {
        let mut counts = pending.retry_counts;
        counts.resize(state.recovery.retry.len(), 0);
        let raw = pending.raw_input;
        let retry_count: u32 = counts.iter().sum();
        let result = result
            .and_then(|v| self.post_process(state, &raw, v, pending.entered_time, retry_count));
        match result {
            Ok(out) => {
                self.exited(state, th, &out);
                Ok(Self::transition(state, out))
            }
            Err(e) => match self.recover(state, &raw, e, &mut counts, th).await? {
                Recovered::Retry => {
                    self.run_recoverable(state, raw, th, counts, pending.entered_time)
                        .await
                }
                Recovered::Caught(next, out) => {
                    self.exited(state, th, &out);
                    Ok(Step::Next(next, out))
                }
            },
        }
    }

    /// ResultSelector, ResultPath, OutputPath.
    fn post_process(
        &self,
        state: &State,
        raw: &Value,
        result: Value,
        entered: DateTime<Utc>,
        retry_count: u32,
    ) -> Result<Value, StatesError> {
        let result = match &state.result_selector {
            Some(sel) => {
                let ctx = ContextObject::new(&self.meta, &state.name, entered, retry_count);
                sel.eval(&Env {
                    input: &result,
                    ctx: &ctx,
                })?
            }
            None => result,
        };
        let merged = match &state.result_path {
            Sel::All => result,
            Sel::Null => raw.clone(),
            Sel::Path(p) => {
                let mut r = raw.clone();
                p.insert(&mut r, result)?;
                r
            }
        };
        output_sel(&state.output_path, merged)
    }

    async fn recover(
        &self,
        state: &State,
        raw: &Value,
        e: StatesError,
        counts: &mut [u32],
        th: &mut Thread,
    ) -> Result<Recovered, StatesError> {
        let r01 = self.random01();
        if let Decision::Retry { delay, .. } = decide(&state.recovery.retry, counts, &e, r01) {
            self.advance(th, delay).await;
            return Ok(Recovered::Retry);
        }
        match find_catcher(&state.recovery.catch, &e) {
            Some(c) => {
                let eo = error_output(&e);
                let out = match &c.result_path {
                    None => raw.clone(),
                    Some(p) => {
                        let mut r = raw.clone();
                        p.insert(&mut r, eo)
                            .map_err(|x| StatesError::runtime(x.cause))?;
                        r
                    }
                };
                Ok(Recovered::Caught(c.next.clone(), out))
            }
            None => {
                let mut e = e;
                e.from_branch = false;
                Err(e)
            }
        }
    }

    fn eval_num(
        &self,
        spec: &Option<NumSpec>,
        input: &Value,
        state: &State,
        field: &str,
    ) -> Result<Option<f64>, StatesError> {
        match spec {
            None => Ok(None),
            Some(NumSpec::Value(v)) => Ok(Some(*v)),
            Some(NumSpec::Path(p)) => {
                let v = p.select_one(input).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "state '{}': {field}Path '{}' not found in input",
                        state.name,
                        p.as_str()
                    ))
                })?;
                v.as_number()
                    .and_then(num_f64)
                    .filter(|x| *x >= 0.0)
                    .map(Some)
                    .ok_or_else(|| {
                        StatesError::runtime(format!(
                            "state '{}': {field}Path '{}' must be a non-negative number, got {v}",
                            state.name,
                            p.as_str()
                        ))
                    })
            }
        }
    }

    fn mock_outcome(&self, state: &State) -> Option<Result<MockOutcome, StatesError>> {
        let tc = self.exec.options.mock.as_ref()?;
        let resp = tc.response(&state.name)?;
        let n = {
            let mut c = lock(&self.mock_counters);
            let e = c.entry(state.name.clone()).or_insert(0);
            let n = *e;
            *e += 1;
            n
        };
        Some(match resp.for_invocation(n) {
            Some(o) => Ok(o.clone()),
            None => Err(StatesError::runtime(format!(
                "mock test case '{}': no mocked response for invocation {n} of state '{}'",
                tc.name, state.name
            ))),
        })
    }

    async fn task_attempt(
        &self,
        state: &State,
        raw: &Value,
        th: &mut Thread,
        retry_count: u32,
        entered: DateTime<Utc>,
        counts: &[u32],
    ) -> Result<Attempt, StatesError> {
        let Kind::Task {
            resource,
            timeout,
            heartbeat,
        } = &state.kind
        else {
            return Err(StatesError::runtime("not a Task state"));
        };
        let spec = parse_resource(resource);
        let token = spec
            .wait_for_token
            .then(|| uuid::Uuid::new_v4().simple().to_string());
        let eff = input_sel(&state.input_path, raw, "InputPath")?;
        let params = match &state.parameters {
            Some(p) => {
                let mut ctx = ContextObject::new(&self.meta, &state.name, entered, retry_count);
                ctx.token = token.as_deref();
                p.eval(&Env {
                    input: &eff,
                    ctx: &ctx,
                })?
            }
            None => eff.clone().into_owned(),
        };
        let timeout_s = self.eval_num(timeout, &eff, state, "TimeoutSeconds")?;
        let heartbeat_s = self.eval_num(heartbeat, &eff, state, "HeartbeatSeconds")?;
        drop(eff);
        let (function, call_input) = match &spec.kind {
            ResourceKind::Function(f) => (Some(f.clone()), params.clone()),
            ResourceKind::LambdaInvoke => {
                let f = params
                    .get("FunctionName")
                    .and_then(Value::as_str)
                    .map(crate::registry::function_name)
                    .ok_or_else(|| {
                        StatesError::runtime(format!(
                            "state '{}': lambda:invoke needs Parameters.FunctionName",
                            state.name
                        ))
                    })?;
                let p = params
                    .get("Payload")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()));
                (Some(f), p)
            }
            ResourceKind::Other => (None, params.clone()),
        };
        let rt = spec.resource_type.clone();
        let rs = spec.resource_name.clone();
        let mut sched = json!({"resourceType": rt, "resource": rs, "region": self.exec.options.region, "parameters": payload(&params)});
        if let Some(o) = sched.as_object_mut() {
            if let Some(t) = timeout_s {
                o.insert("timeoutInSeconds".into(), json!(t as u64));
            }
            if let Some(h) = heartbeat_s {
                o.insert("heartbeatInSeconds".into(), json!(h as u64));
            }
        }
        self.event(th, "TaskScheduled", sched);
        let fail_event = |run: &Self, th: &mut Thread, e: &StatesError| {
            let ty = if e.error == names::TIMEOUT {
                "TaskTimedOut"
            } else {
                "TaskFailed"
            };
            run.event(
                th,
                ty,
                json!({"resourceType": rt, "resource": rs, "error": e.error, "cause": e.cause}),
            );
        };
        let succeed_event = |run: &Self, th: &mut Thread, v: &Value| {
            run.event(
                th,
                "TaskSucceeded",
                json!({"resourceType": rt, "resource": rs, "output": payload(v)}),
            );
        };

        // Mocked?
        if let Some(m) = self.mock_outcome(state) {
            self.event(
                th,
                "TaskStarted",
                json!({"resourceType": rt, "resource": rs}),
            );
            return match m {
                Ok(MockOutcome::Return(v)) => {
                    succeed_event(self, th, &v);
                    Ok(Attempt::Done(v))
                }
                Ok(MockOutcome::Throw { error, cause }) => {
                    let e = StatesError::new(error, cause);
                    fail_event(self, th, &e);
                    Err(e)
                }
                Err(e) => {
                    fail_event(self, th, &e);
                    Err(e)
                }
            };
        }

        let Some(handler) = self.exec.resolver.resolve(resource, function.as_deref()) else {
            let e = StatesError::runtime(match &function {
                Some(f) => format!(
                    "no handler registered for function '{f}' (resource '{resource}', state '{}')",
                    state.name
                ),
                None => format!(
                    "no handler registered for resource '{resource}' (state '{}')",
                    state.name
                ),
            });
            fail_event(self, th, &e);
            return Err(e);
        };
        self.event(
            th,
            "TaskStarted",
            json!({"resourceType": rt, "resource": rs}),
        );
        let ctx = TaskContext {
            task_token: token.clone(),
            execution_name: self.meta.name.clone(),
            execution_arn: self.meta.execution_arn.clone(),
            state_name: state.name.clone(),
            resource: resource.clone(),
            function_name: function.clone(),
            retry_count,
        };
        // In-memory waiter (token inside a branch): register before invoking.
        let waiter = match (&token, th.allow_pause) {
            (Some(t), false) => {
                let (tx, rx) = oneshot::channel();
                lock(&self.exec.waiters).insert(t.clone(), tx);
                Some(rx)
            }
            _ => None,
        };
        let started = std::time::Instant::now();
        let fut = std::panic::AssertUnwindSafe(handler.invoke(call_input, ctx)).catch_unwind();
        let outcome: Result<Value, StatesError> = match timeout_s {
            Some(t) => match tokio::time::timeout(Duration::from_secs_f64(t), fut).await {
                Ok(r) => flatten_invoke(r),
                Err(_) => {
                    self.advance(th, t).await;
                    Err(StatesError::new(
                        names::TIMEOUT,
                        format!("Task timed out after {t} seconds"),
                    ))
                }
            },
            None => flatten_invoke(fut.await),
        };
        let value = match outcome {
            Ok(v) => v,
            Err(e) => {
                if let Some(t) = &token {
                    lock(&self.exec.waiters).remove(t);
                }
                fail_event(self, th, &e);
                return Err(e);
            }
        };
        if let Some(t) = token {
            if let Some(rx) = waiter {
                let remaining =
                    timeout_s.map(|s| Duration::from_secs_f64(s).saturating_sub(started.elapsed()));
                let r = match remaining {
                    Some(rem) => tokio::time::timeout(rem, rx).await.ok(),
                    None => Some(rx.await),
                };
                let r = match r {
                    None => {
                        lock(&self.exec.waiters).remove(&t);
                        if let Some(s) = timeout_s {
                            self.advance(th, s).await;
                        }
                        Err(StatesError::new(
                            names::TIMEOUT,
                            "Task timed out waiting for the task token",
                        ))
                    }
                    Some(Err(_)) => Err(StatesError::runtime("task token waiter dropped")),
                    Some(Ok(Err(te))) => Err(StatesError::new(te.error, te.cause)),
                    Some(Ok(Ok(v))) => Ok(v),
                };
                return match r {
                    Ok(v) => {
                        succeed_event(self, th, &v);
                        Ok(Attempt::Done(v))
                    }
                    Err(e) => {
                        fail_event(self, th, &e);
                        Err(e)
                    }
                };
            }
            let now = self.now(th);
            return Ok(Attempt::Pause(Box::new(PendingTask {
                state_name: state.name.clone(),
                task_token: t,
                raw_input: raw.clone(),
                retry_counts: counts.to_vec(),
                entered_time: entered,
                timeout_deadline: timeout_s.map(|s| now + seconds(s)),
                heartbeat_seconds: heartbeat_s.map(|h| h as u64),
                heartbeat_deadline: heartbeat_s.map(|h| now + seconds(h)),
                resource_type: rt.clone(),
                resource: rs.clone(),
            })));
        }
        let result = if spec.kind == ResourceKind::LambdaInvoke {
            let request_id = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!(
                    "{}/{}/{}",
                    self.meta.execution_arn, state.name, th.last_event
                )
                .as_bytes(),
            );
            json!({
                "ExecutedVersion": "$LATEST",
                "Payload": value,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": request_id.to_string()},
                "StatusCode": 200
            })
        } else {
            value
        };
        succeed_event(self, th, &result);
        Ok(Attempt::Done(result))
    }

    async fn parallel_attempt(
        &self,
        state: &State,
        raw: &Value,
        th: &mut Thread,
        retry_count: u32,
        entered: DateTime<Utc>,
    ) -> Result<Value, StatesError> {
        let Kind::Parallel { branches } = &state.kind else {
            return Err(StatesError::runtime("not a Parallel state"));
        };
        let input = {
            let eff = input_sel(&state.input_path, raw, "InputPath")?;
            match &state.parameters {
                Some(p) => {
                    let ctx = ContextObject::new(&self.meta, &state.name, entered, retry_count);
                    p.eval(&Env {
                        input: &eff,
                        ctx: &ctx,
                    })?
                }
                None => eff.into_owned(),
            }
        };
        self.event(th, "ParallelStateStarted", Value::Null);
        let base = Thread {
            clock: th.clock,
            last_event: th.last_event,
            allow_pause: false,
        };
        let futs = branches.iter().map(|b| {
            let input = input.clone();
            let mut child = Thread {
                clock: base.clock,
                last_event: base.last_event,
                allow_pause: false,
            };
            async move {
                let r = self
                    .run_graph(b, b.start_at.clone(), input, &mut child)
                    .await;
                match r {
                    Ok(GraphEnd::Done(v)) => Ok((v, child.clock)),
                    Ok(GraphEnd::Paused(_)) => Err(StatesError::runtime("a branch cannot pause")),
                    Err(e) => Err(e),
                }
            }
        });
        let res = futures::future::try_join_all(futs).await;
        th.last_event = lock(&self.history).len() as u64;
        match res {
            Ok(results) => {
                let mut out = Vec::with_capacity(results.len());
                for (v, clock) in results {
                    th.clock = th.clock.max(clock);
                    out.push(v);
                }
                self.event(th, "ParallelStateSucceeded", Value::Null);
                Ok(Value::Array(out))
            }
            Err(mut e) => {
                self.event(
                    th,
                    "ParallelStateFailed",
                    json!({"error": e.error, "cause": e.cause}),
                );
                e.from_branch = true;
                Err(e)
            }
        }
    }

    async fn map_attempt(
        &self,
        state: &State,
        raw: &Value,
        th: &mut Thread,
        retry_count: u32,
        entered: DateTime<Utc>,
    ) -> Result<Value, StatesError> {
        let Kind::Map {
            items_path,
            item_selector,
            processor,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
        } = &state.kind
        else {
            return Err(StatesError::runtime("not a Map state"));
        };
        let (inputs, max_c, tol_c, tol_p) = {
            let eff = input_sel(&state.input_path, raw, "InputPath")?;
            let items = match items_path {
                None => eff.clone().into_owned(),
                Some(p) => p.select_one(&eff).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "Map state '{}': ItemsPath '{}' not found in input",
                        state.name,
                        p.as_str()
                    ))
                })?,
            };
            let Value::Array(items) = items else {
                return Err(StatesError::runtime(format!(
                    "Map state '{}': ItemsPath must select an array, got {}",
                    state.name,
                    type_name(&items)
                )));
            };
            let mut inputs = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let v = match item_selector {
                    Some(sel) => {
                        let mut ctx =
                            ContextObject::new(&self.meta, &state.name, entered, retry_count);
                        ctx.item = Some((i, item));
                        sel.eval(&Env {
                            input: &eff,
                            ctx: &ctx,
                        })?
                    }
                    None => item.clone(),
                };
                inputs.push(v);
            }
            (
                inputs,
                self.eval_num(max_concurrency, &eff, state, "MaxConcurrency")?,
                self.eval_num(tolerated_count, &eff, state, "ToleratedFailureCount")?,
                self.eval_num(
                    tolerated_percentage,
                    &eff,
                    state,
                    "ToleratedFailurePercentage",
                )?,
            )
        };
        let n = inputs.len();
        self.event(th, "MapStateStarted", json!({"length": n}));
        let limit = match max_c {
            Some(c) if c >= 1.0 => c as usize,
            _ => n.max(1),
        };
        let parent_clock = th.clock;
        let parent_event = th.last_event;
        let name = state.name.clone();
        let stream = futures::stream::iter(inputs.into_iter().enumerate().map(|(i, input)| {
            let name = name.clone();
            async move {
                let mut child = Thread {
                    clock: parent_clock,
                    last_event: parent_event,
                    allow_pause: false,
                };
                self.event(
                    &mut child,
                    "MapIterationStarted",
                    json!({"name": name, "index": i}),
                );
                let r = self
                    .run_graph(processor, processor.start_at.clone(), input, &mut child)
                    .await;
                let r = match r {
                    Ok(GraphEnd::Done(v)) => Ok(v),
                    Ok(GraphEnd::Paused(_)) => {
                        Err(StatesError::runtime("a Map iteration cannot pause"))
                    }
                    Err(e) => Err(e),
                };
                match &r {
                    Ok(_) => self.event(
                        &mut child,
                        "MapIterationSucceeded",
                        json!({"name": name, "index": i}),
                    ),
                    Err(_) => self.event(
                        &mut child,
                        "MapIterationFailed",
                        json!({"name": name, "index": i}),
                    ),
                };
                (r, child.clock)
            }
        }))
        .buffered(limit);
        futures::pin_mut!(stream);
        let tolerant = tol_c.is_some() || tol_p.is_some();
        let mut results = Vec::with_capacity(n);
        let mut failures = 0usize;
        let mut failure: Option<StatesError> = None;
        while let Some((r, clock)) = stream.next().await {
            th.clock = th.clock.max(clock);
            match r {
                Ok(v) => results.push(v),
                Err(e) => {
                    failures += 1;
                    let exceeded = if !tolerant {
                        true
                    } else {
                        let over_count = tol_c.map(|c| failures as f64 > c).unwrap_or(false);
                        let over_pct = tol_p
                            .map(|p| (failures as f64) * 100.0 / (n as f64) > p)
                            .unwrap_or(false);
                        over_count || over_pct || (tol_c.is_none() && tol_p.is_none())
                    };
                    if exceeded {
                        failure = Some(if tolerant {
                            StatesError::new(
                                names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                format!("Map state '{}' exceeded the tolerated failure threshold ({failures} of {n} items failed; last error {}: {})", state.name, e.error, e.cause),
                            )
                        } else {
                            e
                        });
                        break;
                    }
                    results.push(error_output(&e));
                }
            }
        }
        th.last_event = lock(&self.history).len() as u64;
        match failure {
            None => {
                self.event(th, "MapStateSucceeded", Value::Null);
                Ok(Value::Array(results))
            }
            Some(mut e) => {
                self.event(
                    th,
                    "MapStateFailed",
                    json!({"error": e.error, "cause": e.cause}),
                );
                e.from_branch = true;
                Err(e)
            }
        }
    }
}

fn event_name(type_name: &str, entered: bool) -> &'static str {
    match (type_name, entered) {
        ("Pass", true) => "PassStateEntered",
        ("Pass", false) => "PassStateExited",
        ("Task", true) => "TaskStateEntered",
        ("Task", false) => "TaskStateExited",
        ("Choice", true) => "ChoiceStateEntered",
        ("Choice", false) => "ChoiceStateExited",
        ("Wait", true) => "WaitStateEntered",
        ("Wait", false) => "WaitStateExited",
        ("Succeed", true) => "SucceedStateEntered",
        ("Succeed", false) => "SucceedStateExited",
        ("Fail", true) => "FailStateEntered",
        ("Fail", false) => "FailStateExited",
        ("Parallel", true) => "ParallelStateEntered",
        ("Parallel", false) => "ParallelStateExited",
        (_, true) => "MapStateEntered",
        (_, false) => "MapStateExited",
    }
}

fn flatten_invoke(
    r: Result<Result<Value, TaskError>, Box<dyn std::any::Any + Send>>,
) -> Result<Value, StatesError> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(te)) => Err(StatesError::new(te.error, te.cause)),
        Err(p) => Err(StatesError::new(
            names::TASK_FAILED,
            format!("handler panicked: {}", panic_message(p.as_ref())),
        )),
    }
}
