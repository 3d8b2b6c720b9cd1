//! Errors of the domain layer. Every parse and rule failure names the field it is about.

use serde::{Deserialize, Serialize};

use crate::money::MoneyError;

/// One failed check on one field, e.g. `invoice.lines[2].quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Path of the field in the submitted document (dots and `[i]`).
    pub field: String,
    /// Stable machine-readable code, e.g. `required`, `not_positive`, `too_many_decimals`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
    pub fn required(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("{field} is required");
        FieldError {
            field,
            code: "required".into(),
            message,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects every failure instead of stopping at the first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        FieldErrors(Vec::new())
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Runs a parse, recording its error under `field`; returns the value if it parsed.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        code: &str,
        r: Result<T, E>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, code, e.to_string());
                None
            }
        }
    }
    pub fn into_result<T>(self, value: T) -> Result<T, DomainError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}

/// The domain's error: a typed reason, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid input: {}", summarize(.0))]
    Invalid(Vec<FieldError>),
    #[error("invalid {entity} status transition from `{from}` to `{to}`")]
    InvalidTransition {
        entity: &'static str,
        from: String,
        to: String,
    },
    #[error("{0}")]
    Money(#[from] MoneyError),
    #[error("rule violated: {rule}: {message}")]
    RuleViolation { rule: &'static str, message: String },
}

impl DomainError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, code, message)])
    }
    pub fn rule(rule: &'static str, message: impl Into<String>) -> Self {
        DomainError::RuleViolation {
            rule,
            message: message.into(),
        }
    }
    /// The field errors carried, if any.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            DomainError::Invalid(v) => v,
            _ => &[],
        }
    }
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
