//! The Lambda handlers, in-process: one [`FunctionSet`] holds the services and each
//! function's typed configuration (read once), invokes a handler by its function name, and
//! registers every handler in an ASL [`Registry`] for the workflow.

use std::sync::Arc;
use std::time::Duration;

use p2p_adapters::Services;
use p2p_asl::{Registry, TaskError};
use p2p_function_support::{ConfigSource, Deadline, FunctionError, ProcessEnv};
use serde_json::Value;

pub const VALIDATE_INVOICE: &str = validate_invoice::FUNCTION_NAME;
pub const PROCESS_INVOICE: &str = process_invoice::FUNCTION_NAME;
pub const RECONCILE: &str = reconcile::FUNCTION_NAME;
pub const APPROVE_PAYMENT: &str = approve_payment::FUNCTION_NAME;
pub const SEND_NOTIFICATION: &str = send_notification::FUNCTION_NAME;
pub const EXPORT_MONITOR: &str = export_monitor::FUNCTION_NAME;

/// Every function `p2p invoke` knows, in workflow order.
pub const FUNCTIONS: [&str; 6] = [
    VALIDATE_INVOICE,
    PROCESS_INVOICE,
    RECONCILE,
    APPROVE_PAYMENT,
    SEND_NOTIFICATION,
    EXPORT_MONITOR,
];

/// The workflow's `DefinitionSubstitutions` and the function each one names.
pub const SUBSTITUTIONS: [(&str, &str); 5] = [
    ("ValidateInvoiceFunctionArn", VALIDATE_INVOICE),
    ("ProcessInvoiceFunctionArn", PROCESS_INVOICE),
    ("ReconcileFunctionArn", RECONCILE),
    ("ApprovePaymentFunctionArn", APPROVE_PAYMENT),
    ("SendNotificationFunctionArn", SEND_NOTIFICATION),
];

/// Functions the tests of bad input use (`P2P_CLI_TEST_TASKS=1`): one panics, one never answers.
pub const TEST_PANIC: &str = "p2p-test-panic";
pub const TEST_HANG: &str = "p2p-test-hang";
pub const TEST_TASKS_ENV: &str = "P2P_CLI_TEST_TASKS";

/// The ARN a function has in the substituted definition (the interpreter resolves it by name).
pub fn function_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

/// `${...}` substitutions for the invoice workflow.
pub fn workflow_substitutions() -> std::collections::HashMap<String, String> {
    SUBSTITUTIONS
        .iter()
        .map(|(k, f)| (k.to_string(), function_arn(f)))
        .collect()
}

pub fn is_known(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

pub fn test_tasks_enabled() -> bool {
    ProcessEnv
        .var(TEST_TASKS_ENV)
        .is_some_and(|v| v == "1" || v == "true")
}

/// Why an invocation failed: the handler's error (with its `errorType`) or a configuration
/// problem found before the handler ran.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvokeError {
    #[error("unknown function `{name}` (known: {known})", name = .0, known = FUNCTIONS.join(", "))]
    UnknownFunction(String),
    #[error("{function}: {error}")]
    Function {
        function: String,
        error: FunctionError,
    },
}

impl InvokeError {
    /// The Lambda `errorType`.
    pub fn error_type(&self) -> &str {
        match self {
            InvokeError::UnknownFunction(_) => "UnknownFunction",
            InvokeError::Function { error, .. } => error.error_type(),
        }
    }

    /// The handler's message (no function prefix).
    pub fn message(&self) -> String {
        match self {
            InvokeError::UnknownFunction(_) => self.to_string(),
            InvokeError::Function { error, .. } => error.to_string(),
        }
    }
}

/// Export monitor's configuration and client, or why there is none.
#[derive(Clone)]
enum ExportMonitor {
    Ready {
        config: Box<export_monitor::Config>,
        client: export_monitor::WorkdayClient,
    },
    Unavailable(FunctionError),
}

/// The six handlers with their configuration, over one set of services.
#[derive(Clone)]
pub struct FunctionSet {
    pub services: Services,
    validate: validate_invoice::Config,
    process: process_invoice::Config,
    reconcile: reconcile::Config,
    approve: approve_payment::Config,
    notify: send_notification::Config,
    export: ExportMonitor,
}

impl std::fmt::Debug for FunctionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionSet").finish_non_exhaustive()
    }
}

impl FunctionSet {
    /// Configuration from the process environment, as each Lambda reads it. The export
    /// monitor's (Workday URL and secret) is only required when it is invoked.
    pub fn from_env(services: Services) -> Result<Self, FunctionError> {
        Self::from_source(services, &ProcessEnv)
    }

    pub fn from_source<S: ConfigSource + ?Sized>(
        services: Services,
        source: &S,
    ) -> Result<Self, FunctionError> {
        let export = match export_monitor::Config::from_source(source) {
            Ok(config) => match export_monitor::WorkdayClient::new(&config.workday) {
                Ok(client) => ExportMonitor::Ready {
                    config: Box::new(config),
                    client,
                },
                Err(e) => ExportMonitor::Unavailable(e),
            },
            Err(e) => ExportMonitor::Unavailable(e.into()),
        };
        Ok(FunctionSet {
            validate: validate_invoice::Config::from_source(source)?,
            process: process_invoice::Config::from_source(source)?,
            reconcile: reconcile::Config::from_source(source)?,
            approve: approve_payment::Config::from_source(source)?,
            notify: send_notification::Config::from_source(source)?,
            export,
            services,
        })
    }

    /// Replaces the export monitor's configuration (e.g. the demo's local Workday receiver).
    pub fn with_export_monitor(
        mut self,
        config: export_monitor::Config,
    ) -> Result<Self, FunctionError> {
        let client = export_monitor::WorkdayClient::new(&config.workday)?;
        self.export = ExportMonitor::Ready {
            config: Box::new(config),
            client,
        };
        Ok(self)
    }

    pub fn reconcile_config(&self) -> &reconcile::Config {
        &self.reconcile
    }

    /// The export monitor's configuration, or why it is missing.
    pub fn export_monitor(
        &self,
    ) -> Result<(&export_monitor::Config, &export_monitor::WorkdayClient), FunctionError> {
        match &self.export {
            ExportMonitor::Ready { config, client } => Ok((config, client)),
            ExportMonitor::Unavailable(e) => Err(e.clone()),
        }
    }

    /// Runs one handler on one event. Jobs run without a deadline (no Lambda timeout here).
    pub async fn invoke(&self, function: &str, event: Value) -> Result<Value, InvokeError> {
        let s = &self.services;
        let result = match function {
            VALIDATE_INVOICE => validate_invoice::handle(s, &self.validate, event).await,
            PROCESS_INVOICE => process_invoice::handle(s, &self.process, event).await,
            RECONCILE => reconcile::handle(s, &self.reconcile, event, Deadline::never()).await,
            APPROVE_PAYMENT => approve_payment::handle(s, &self.approve, event).await,
            SEND_NOTIFICATION => send_notification::handle(s, &self.notify, event).await,
            EXPORT_MONITOR => match self.export_monitor() {
                Ok((config, client)) => {
                    export_monitor::handle(s, config, client, event, Deadline::never()).await
                }
                Err(e) => Err(e),
            },
            other => return Err(InvokeError::UnknownFunction(other.to_string())),
        };
        result.map_err(|error| InvokeError::Function {
            function: function.to_string(),
            error,
        })
    }

    /// Every handler registered under its function name. `task_timeout` plays the Lambda
    /// function timeout: a handler that does not answer in time fails the task with
    /// `Sandbox.Timedout`, as Lambda reports it.
    pub fn registry(self: &Arc<Self>, task_timeout: Duration) -> Registry {
        let mut registry = Registry::new();
        for name in FUNCTIONS {
            let set = Arc::clone(self);
            registry = registry.register_fn(name, move |input: Value| {
                let set = Arc::clone(&set);
                async move { call(&set, name, input, task_timeout).await }
            });
        }
        if test_tasks_enabled() {
            registry = with_test_tasks(registry, task_timeout);
        }
        registry
    }
}

/// One handler call as a workflow task: the handler's error becomes the task error (its
/// `errorType` is what Retry/Catch match), a call slower than `timeout` fails with
/// `Sandbox.Timedout`.
pub async fn call(
    set: &FunctionSet,
    function: &str,
    input: Value,
    timeout: Duration,
) -> Result<Value, TaskError> {
    guarded(timeout, set.invoke(function, input)).await
}

async fn guarded(
    timeout: Duration,
    call: impl std::future::Future<Output = Result<Value, InvokeError>>,
) -> Result<Value, TaskError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(TaskError::new(e.error_type(), e.message())),
        Err(_) => Err(TaskError::new(
            "Sandbox.Timedout",
            format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
        )),
    }
}

/// The bad-input tests' functions: one panics, one never answers.
pub fn with_test_tasks(registry: Registry, task_timeout: Duration) -> Registry {
    registry
        .register_fn(TEST_PANIC, |_input: Value| async move {
            panic!("{TEST_PANIC} was asked to panic")
        })
        .register_fn(TEST_HANG, move |_input: Value| async move {
            guarded(task_timeout, std::future::pending()).await
        })
}

/// A registry whose handlers answer nothing: only for checking which resources resolve.
pub fn probe_registry() -> Registry {
    let mut registry = Registry::new();
    for name in FUNCTIONS {
        registry = registry.register_fn(name, |_input: Value| async move { Ok(Value::Null) });
    }
    if test_tasks_enabled() {
        registry = with_test_tasks(registry, Duration::from_secs(1));
    }
    registry
}
