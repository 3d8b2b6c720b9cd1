//! `send-notification`: one SNS message per workflow event.
//!
//! Input: `{"event_type": "processed|validation_failed|duplicate|rejected|needs_review|
//! approval_needed|payment_approved|error", "invoice_id"?, "vendor_id"?, "invoice_number"?,
//! "total_amount"?, "currency"?, "errors"?: [FieldError], "discrepancies"?: [Discrepancy],
//! "error"?: {"Error","Cause"}, "task_token"?, "payment_id"?, "amount"?, "approved_by"?,
//! "execution_name"?}`. `approval_needed` requires `task_token`.
//! Output: `{"message_id", "subject"}`.
//!
//! The message has a subject (at most 100 printable ASCII characters, SNS's limit), a
//! readable body, and the attributes `event_type`, `invoice_id`, `vendor_id` (and
//! `task_token` for approvals) so subscribers can filter.

use std::collections::BTreeMap;

use p2p_adapters::{Notification, Services};
use p2p_core::FieldError;
use p2p_function_support::config::ConfigSource;
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, FunctionError, Metrics};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "send-notification";
/// SNS subject limit.
pub const MAX_SUBJECT_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        Ok(Config {
            metrics_namespace: source
                .var(p2p_function_support::config::var::METRICS_NAMESPACE)
                .unwrap_or_else(|| p2p_function_support::metrics::DEFAULT_NAMESPACE.into()),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&p2p_function_support::ProcessEnv)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Processed,
    ValidationFailed,
    Duplicate,
    Rejected,
    NeedsReview,
    ApprovalNeeded,
    PaymentApproved,
    Error,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Processed => "processed",
            EventType::ValidationFailed => "validation_failed",
            EventType::Duplicate => "duplicate",
            EventType::Rejected => "rejected",
            EventType::NeedsReview => "needs_review",
            EventType::ApprovalNeeded => "approval_needed",
            EventType::PaymentApproved => "payment_approved",
            EventType::Error => "error",
        }
    }
}

/// A Step Functions error as caught: `{"Error": name, "Cause": text (often Lambda's JSON)}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaughtError {
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationInput {
    pub event_type: EventType,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub vendor_id: Option<String>,
    #[serde(default)]
    pub invoice_number: Option<String>,
    #[serde(default, with = "p2p_core::money::decimal_str_opt")]
    pub total_amount: Option<Decimal>,
    #[serde(default, with = "p2p_core::money::decimal_str_opt")]
    pub amount: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub errors: Vec<FieldError>,
    #[serde(default)]
    pub discrepancies: Vec<Value>,
    #[serde(default)]
    pub error: Option<CaughtError>,
    #[serde(default)]
    pub task_token: Option<String>,
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub execution_name: Option<String>,
}

pub async fn handle(
    services: &Services,
    config: &Config,
    input: Value,
) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    let input: NotificationInput = serde_json::from_value(input)
        .map_err(|e| FunctionError::from_serde("send-notification input", e))?;
    if let Some(id) = &input.invoice_id {
        telemetry::record_invoice(&span, id);
    }
    telemetry::record_execution(&span, input.execution_name.as_deref());
    async move {
        let notification = compose(&input)?;
        let message_id = services.notifier.notify(&notification).await?;
        tracing::info!(event_type = input.event_type.as_str(), %message_id, "notification sent");
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        metrics.count("NotificationsSent", 1);
        metrics.emit(services.clock.now().timestamp_millis());
        Ok(json!({"message_id": message_id, "subject": notification.subject}))
    }
    .instrument(span.clone())
    .await
}

/// How the invoice is named in text: its number, else its id.
fn invoice_name(input: &NotificationInput) -> String {
    input
        .invoice_number
        .clone()
        .or_else(|| input.invoice_id.clone())
        .unwrap_or_else(|| "(unknown invoice)".to_string())
}

fn money(amount: Option<Decimal>, currency: &Option<String>) -> Option<String> {
    amount.map(|a| match currency {
        Some(c) => format!("{a} {c}"),
        None => a.to_string(),
    })
}

/// Printable ASCII, one line, at most 100 characters (SNS subject rules).
pub fn subject_line(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.len() <= MAX_SUBJECT_LEN {
        clean
    } else {
        let mut cut: String = clean.chars().take(MAX_SUBJECT_LEN - 3).collect();
        cut.push_str("...");
        cut
    }
}

/// The Lambda error message inside a caught error's `Cause`, when it is Lambda's JSON.
fn cause_message(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| cause.to_string())
}

pub fn compose(input: &NotificationInput) -> Result<Notification, FunctionError> {
    let name = invoice_name(input);
    let mut lines: Vec<String> = Vec::new();
    let total = money(input.total_amount.or(input.amount), &input.currency);
    let subject = match input.event_type {
        EventType::Processed => {
            lines.push(format!("Invoice {name} was received and stored."));
            format!("Invoice {name} received")
        }
        EventType::ValidationFailed => {
            lines.push(format!(
                "Invoice {name} failed validation with {} error(s):",
                input.errors.len()
            ));
            lines.extend(
                input
                    .errors
                    .iter()
                    .map(|e| format!("  - {}: {}", e.field, e.message)),
            );
            format!("Invoice {name} failed validation")
        }
        EventType::Duplicate => {
            lines.push(format!(
                "Invoice number {name} was already submitted by vendor {}; the new submission was not stored.",
                input.vendor_id.as_deref().unwrap_or("(unknown)")
            ));
            format!("Duplicate invoice {name}")
        }
        EventType::Rejected => {
            lines.push(format!(
                "Invoice {name} was rejected by reconciliation with {} discrepancy(ies):",
                input.discrepancies.len()
            ));
            lines.extend(input.discrepancies.iter().map(discrepancy_line));
            format!("Invoice {name} rejected")
        }
        EventType::NeedsReview => {
            lines.push(format!("Invoice {name} needs a person to review it:"));
            lines.extend(input.discrepancies.iter().map(discrepancy_line));
            format!("Invoice {name} needs review")
        }
        EventType::ApprovalNeeded => {
            let Some(token) = input.task_token.as_deref().filter(|t| !t.trim().is_empty()) else {
                return Err(FunctionError::invalid_event(
                    "approval_needed requires task_token",
                ));
            };
            lines.push(format!(
                "Invoice {name}{} is matched and needs approval before payment.",
                total
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ));
            lines.push(String::new());
            lines.push("To approve, send task success with the approver:".into());
            lines.push(format!(
                "  aws stepfunctions send-task-success --task-token '{token}' --task-output '{{\"approved_by\": \"you@company.example\"}}'"
            ));
            lines.push("To reject, send task failure with the error ApprovalRejected:".into());
            lines.push(format!(
                "  aws stepfunctions send-task-failure --task-token '{token}' --error ApprovalRejected --cause '<reason>'"
            ));
            lines.push(String::new());
            lines.push(format!("Task token: {token}"));
            format!(
                "Approval needed: invoice {name}{}",
                total
                    .as_deref()
                    .map(|t| format!(" for {t}"))
                    .unwrap_or_default()
            )
        }
        EventType::PaymentApproved => {
            lines.push(format!(
                "Payment {} for invoice {name}{} was approved{}; the Workday files are stored.",
                input.payment_id.as_deref().unwrap_or("(unknown)"),
                total
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                input
                    .approved_by
                    .as_deref()
                    .map(|a| format!(" by {a}"))
                    .unwrap_or_default()
            ));
            format!("Payment approved for invoice {name}")
        }
        EventType::Error => {
            let caught = input.error.clone().unwrap_or_default();
            let error = caught.error.unwrap_or_else(|| "Error".into());
            lines.push(format!("Processing invoice {name} failed: {error}"));
            if let Some(cause) = caught.cause.as_deref() {
                lines.push(cause_message(cause));
            }
            format!("Invoice {name} processing failed: {error}")
        }
    };
    for (label, value) in [
        ("Invoice id", &input.invoice_id),
        ("Vendor", &input.vendor_id),
        ("Execution", &input.execution_name),
    ] {
        if let Some(v) = value {
            lines.push(format!("{label}: {v}"));
        }
    }
    let mut attributes = BTreeMap::from([(
        "event_type".to_string(),
        input.event_type.as_str().to_string(),
    )]);
    for (k, v) in [
        ("invoice_id", &input.invoice_id),
        ("vendor_id", &input.vendor_id),
        ("task_token", &input.task_token),
        ("payment_id", &input.payment_id),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            attributes.insert(k.to_string(), v.to_string());
        }
    }
    Ok(Notification {
        subject: subject_line(&subject),
        message: lines.join("\n"),
        attributes,
    })
}

fn discrepancy_line(d: &Value) -> String {
    let code = d
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("discrepancy");
    match d.get("message").and_then(Value::as_str) {
        Some(m) => format!("  - {code}: {m}"),
        None => format!("  - {code}: {d}"),
    }
}
