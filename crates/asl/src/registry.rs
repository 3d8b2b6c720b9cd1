//! Task handlers and resource resolution.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An error returned by a handler, like a Lambda's `errorType` / `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskError {
    /// Error name matched by `Retry`/`Catch` `ErrorEquals`.
    pub error: String,
    /// Cause text.
    pub cause: String,
}

impl TaskError {
    /// Creates a task error.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// What a handler knows about the call.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// The task token for `.waitForTaskToken` resources (also in `$$.Task.Token`).
    pub task_token: Option<String>,
    /// Execution name.
    pub execution_name: String,
    /// Execution ARN.
    pub execution_arn: String,
    /// State name.
    pub state_name: String,
    /// The Task's `Resource`.
    pub resource: String,
    /// Function name the resource resolved to (if a Lambda).
    pub function_name: Option<String>,
    /// Retry count of this state (0 on the first attempt).
    pub retry_count: u32,
}

/// An in-process task implementation.
#[async_trait]
pub trait TaskHandler: Send + Sync {
    /// Runs the task with its effective input (for `lambda:invoke`, the `Payload`).
    async fn invoke(&self, input: Value, ctx: TaskContext) -> Result<Value, TaskError>;
}

/// Adapter for closures `|input| async { ... }`.
pub struct FnHandler<F>(pub F);

#[async_trait]
impl<F, Fut> TaskHandler for FnHandler<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    async fn invoke(&self, input: Value, _ctx: TaskContext) -> Result<Value, TaskError> {
        (self.0)(input).await
    }
}

/// Adapter for closures `|input, ctx| async { ... }`.
pub struct FnCtxHandler<F>(pub F);

#[async_trait]
impl<F, Fut> TaskHandler for FnCtxHandler<F>
where
    F: Fn(Value, TaskContext) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    async fn invoke(&self, input: Value, ctx: TaskContext) -> Result<Value, TaskError> {
        (self.0)(input, ctx).await
    }
}

/// Wraps a closure `|input| async {...}` as a handler.
pub fn handler_fn<F, Fut>(f: F) -> FnHandler<F>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, TaskError>> + Send,
{
    FnHandler(f)
}

/// How a Task `Resource` is invoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceKind {
    /// A Lambda ARN or bare function name: the handler gets the effective input, the result is used as is.
    Function(String),
    /// `arn:aws:states:::lambda:invoke`: function from `FunctionName`, input from `Payload`, result wrapped.
    LambdaInvoke,
    /// Any other resource (e.g. `arn:aws:states:::sns:publish`): looked up by its full text.
    Other,
}

/// A parsed resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Kind.
    pub kind: ResourceKind,
    /// `.waitForTaskToken` suffix present.
    pub wait_for_token: bool,
    /// `.sync` suffix present (treated as request-response).
    pub sync: bool,
    /// For history: `resourceType` and `resource` (e.g. `lambda` / `invoke`).
    pub resource_type: String,
    /// See `resource_type`.
    pub resource_name: String,
}

/// Function name from a Lambda ARN, partial ARN or `name[:alias]`.
pub fn function_name(s: &str) -> String {
    let parts: Vec<&str> = s.split(':').collect();
    if s.starts_with("arn:") {
        // arn:aws:lambda:region:acct:function:name[:alias]
        if let Some(i) = parts.iter().position(|p| *p == "function") {
            if let Some(n) = parts.get(i + 1) {
                return n.to_string();
            }
        }
        return parts.last().map(|x| x.to_string()).unwrap_or_default();
    }
    if let Some(i) = parts.iter().position(|p| *p == "function") {
        if let Some(n) = parts.get(i + 1) {
            return n.to_string();
        }
    }
    parts.first().map(|x| x.to_string()).unwrap_or_default()
}

/// Classifies a Task `Resource`.
pub fn parse_resource(resource: &str) -> ResourceSpec {
    let (base, wait_for_token, sync) = if let Some(b) = resource.strip_suffix(".waitForTaskToken") {
        (b, true, false)
    } else if let Some(b) = resource.strip_suffix(".sync:2") {
        (b, false, true)
    } else if let Some(b) = resource.strip_suffix(".sync") {
        (b, false, true)
    } else {
        (resource, false, false)
    };
    if let Some(svc) = base.strip_prefix("arn:aws:states:::") {
        let (t, n) = svc.split_once(':').unwrap_or((svc, ""));
        let kind = if svc == "lambda:invoke" {
            ResourceKind::LambdaInvoke
        } else {
            ResourceKind::Other
        };
        return ResourceSpec {
            kind,
            wait_for_token,
            sync,
            resource_type: t.to_string(),
            resource_name: if wait_for_token {
                format!("{n}.waitForTaskToken")
            } else {
                n.to_string()
            },
        };
    }
    if base.starts_with("arn:") && !base.contains(":lambda:") {
        return ResourceSpec {
            kind: ResourceKind::Other,
            wait_for_token,
            sync,
            resource_type: "activity".into(),
            resource_name: base.to_string(),
        };
    }
    let name = function_name(base);
    ResourceSpec {
        kind: ResourceKind::Function(name.clone()),
        wait_for_token,
        sync,
        resource_type: "lambda".into(),
        resource_name: name,
    }
}

/// Resolves resources to handlers. [`Registry`] is the standard implementation.
pub trait ResourceResolver: Send + Sync {
    /// Finds the handler for a Task's full `resource` text and, for Lambdas, its function name.
    fn resolve(&self, resource: &str, function: Option<&str>) -> Option<Arc<dyn TaskHandler>>;
}

/// Maps function names, ARNs or full resource strings to handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.handlers.keys().collect();
        names.sort();
        f.debug_struct("Registry")
            .field("handlers", &names)
            .finish()
    }
}

impl Registry {
    /// Empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a handler under a function name (`validate-invoice`), a Lambda ARN
    /// (reduced to its function name) or any other full resource string.
    pub fn register(mut self, name: &str, handler: impl TaskHandler + 'static) -> Self {
        self.insert(name, Arc::new(handler));
        self
    }

    /// Registers a closure `|input| async { Ok(json!(...)) }`.
    pub fn register_fn<F, Fut>(self, name: &str, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.register(name, FnHandler(f))
    }

    /// Registers a closure `|input, ctx| async { ... }` that also gets the [`TaskContext`].
    pub fn register_fn_ctx<F, Fut>(self, name: &str, f: F) -> Self
    where
        F: Fn(Value, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.register(name, FnCtxHandler(f))
    }

    /// Registers a shared handler (non-builder form).
    pub fn insert(&mut self, name: &str, handler: Arc<dyn TaskHandler>) {
        let key = if name.starts_with("arn:aws:lambda:") {
            function_name(name)
        } else {
            name.to_string()
        };
        self.handlers.insert(key, handler);
    }

    /// Registered names.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.handlers.keys().cloned().collect();
        v.sort();
        v
    }
}

impl ResourceResolver for Registry {
    fn resolve(&self, resource: &str, function: Option<&str>) -> Option<Arc<dyn TaskHandler>> {
        if let Some(h) = self.handlers.get(resource) {
            return Some(h.clone());
        }
        if let Some(f) = function {
            if let Some(h) = self.handlers.get(f) {
                return Some(h.clone());
            }
        }
        let base = resource
            .strip_suffix(".waitForTaskToken")
            .unwrap_or(resource);
        self.handlers.get(base).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:validate-invoice"),
            "validate-invoice"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:validate-invoice:live"),
            "validate-invoice"
        );
        assert_eq!(function_name("validate-invoice:live"), "validate-invoice");
        assert_eq!(function_name("123456789012:function:x"), "x");
        let r = parse_resource("arn:aws:states:::lambda:invoke.waitForTaskToken");
        assert_eq!(r.kind, ResourceKind::LambdaInvoke);
        assert!(r.wait_for_token);
        let r = parse_resource("arn:aws:lambda:eu-west-1:1:function:f");
        assert_eq!(r.kind, ResourceKind::Function("f".into()));
        let r = parse_resource("arn:aws:states:::sns:publish");
        assert_eq!(r.kind, ResourceKind::Other);
        assert_eq!(r.resource_type, "sns");
    }
}
