//! `validate-invoice`: the workflow's first task.
//!
//! Input: the execution input, either a canonical submission (snake_case fields, see
//! `p2p_core::validation::InvoiceSubmission`) or the seed's `{"invoice": {...camelCase...}}`,
//! optionally with the workflow's envelope keys beside it: `"submitted_by"`,
//! `"execution_name"` and `"source"` (`"api"` | `"textract"`: the channel the invoice came
//! in by, which the workflow's `HasSource` state defaults to `"api"` and `process-invoice`
//! stores; not an invoice field, so it is checked here and taken off the document).
//! Output: `{"valid": bool, "errors": [{"field","code","message"}], "invoice": <normalized
//! canonical submission>}`. An invalid invoice is data (`valid: false`), not an error; only
//! an event that is not a JSON object fails, with `InvalidEvent`.
//!
//! When the submission has no due date, the vendor's payment terms derive it, so the vendor
//! is looked up (an unknown vendor simply has no terms here; `process-invoice` reports it).

use p2p_adapters::Services;
use p2p_core::invoice::InvoiceSource;
use p2p_core::validation::{
    validate, InvoiceSubmission, SubmissionDocument, SubmissionShape, ValidationReport,
};
use p2p_function_support::config::{ConfigSource, RuleConfig};
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, FunctionError, Metrics};
use serde_json::{json, Map, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "validate-invoice";

/// Envelope keys the workflow may put beside the document; they are not invoice fields.
const EXECUTION_NAME: &str = "execution_name";
const SUBMITTED_BY: &str = "submitted_by";
const SOURCE: &str = "source";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub rules: RuleConfig,
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        Ok(Config {
            rules: RuleConfig::from_source(source)?,
            metrics_namespace: source
                .var(p2p_function_support::config::var::METRICS_NAMESPACE)
                .unwrap_or_else(|| p2p_function_support::metrics::DEFAULT_NAMESPACE.into()),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&p2p_function_support::ProcessEnv)
    }
}

/// Splits the workflow's envelope keys from the document: the seed shape may carry
/// `submitted_by` (moved into the document as `submittedBy`) and `execution_name`.
fn split_envelope(input: Value) -> Result<(Value, Option<String>), FunctionError> {
    let Value::Object(mut obj) = input else {
        return Err(FunctionError::invalid_event(format!(
            "validate-invoice expects a JSON object (a canonical submission or {{\"invoice\": {{...}}}}), got {}",
            kind(&input)
        )));
    };
    // Read exactly as process-invoice deserializes it, so a bad value fails here, before
    // anything is stored, rather than in the next task.
    if let Some(source) = obj.remove(SOURCE).filter(|v| !v.is_null()) {
        if serde_json::from_value::<InvoiceSource>(source.clone()).is_err() {
            let allowed: Vec<&str> = InvoiceSource::ALL.iter().map(|s| s.as_str()).collect();
            return Err(FunctionError::invalid_event(format!(
                "source must be one of {}, got {source}",
                allowed.join(", ")
            )));
        }
    }
    let execution_name = match obj.remove(EXECUTION_NAME) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(FunctionError::invalid_event(format!(
                "execution_name must be a string, got {}",
                kind(&other)
            )))
        }
    };
    if obj.contains_key("invoice") {
        if let Some(submitted_by) = obj.remove(SUBMITTED_BY) {
            if let Some(Value::Object(inner)) = obj.get_mut("invoice") {
                inner.entry("submittedBy").or_insert(submitted_by);
            }
        }
    }
    Ok((Value::Object(obj), execution_name))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates one submission.
pub async fn handle(
    services: &Services,
    config: &Config,
    input: Value,
) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    let (document, execution_name) = split_envelope(input)?;
    telemetry::record_execution(&span, execution_name.as_deref());
    async move {
        let report = match SubmissionDocument::from_json(&document) {
            Ok(submission) => validate_submission(services, config, &submission).await?,
            Err(e) => ValidationReport {
                valid: false,
                shape: if document.get("invoice").is_some() {
                    SubmissionShape::Seed
                } else {
                    SubmissionShape::Canonical
                },
                errors: e.field_errors().to_vec(),
                invoice: InvoiceSubmission::default(),
            },
        };
        if let Some(number) = &report.invoice.invoice_number {
            tracing::Span::current().record("invoice_id", number.as_str());
        }
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        if report.valid {
            tracing::info!("invoice is valid");
            metrics.count("InvoicesValidated", 1);
        } else {
            tracing::info!(errors = report.errors.len(), fields = %fields(&report), "invoice is invalid");
            metrics.count("InvoicesInvalid", 1);
        }
        metrics.emit(services.clock.now().timestamp_millis());
        to_output(&report)
    }
    .instrument(span.clone())
    .await
}

fn fields(report: &ValidationReport) -> String {
    report
        .errors
        .iter()
        .map(|e| e.field.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn validate_submission(
    services: &Services,
    config: &Config,
    submission: &InvoiceSubmission,
) -> Result<ValidationReport, FunctionError> {
    // Terms only matter when the due date must be derived.
    let terms = match (&submission.due_date, &submission.vendor_id) {
        (None, Some(vendor_id)) if !vendor_id.trim().is_empty() => services
            .store
            .get_vendor(vendor_id.trim())
            .await?
            .map(|v| v.payment_terms),
        _ => None,
    };
    Ok(validate(
        submission,
        &config.rules.validation,
        services.clock.today(),
        terms.as_ref(),
    ))
}

fn to_output(report: &ValidationReport) -> Result<Value, FunctionError> {
    let invoice = serde_json::to_value(&report.invoice)
        .map_err(|e| FunctionError::Internal(format!("cannot serialize the submission: {e}")))?;
    let errors = serde_json::to_value(&report.errors)
        .map_err(|e| FunctionError::Internal(format!("cannot serialize the errors: {e}")))?;
    let mut out = Map::new();
    out.insert("valid".into(), json!(report.valid));
    out.insert("errors".into(), errors);
    out.insert("invoice".into(), invoice);
    Ok(Value::Object(out))
}
