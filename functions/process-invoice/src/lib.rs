//! `process-invoice`: stores a validated invoice.
//!
//! Input: `{"invoice": <canonical submission (validate-invoice's output) or the seed's inner
//! object>, "submitted_by"?: string, "execution_name"?: string, "source"?: "api"|"textract"}`.
//! Output: `{"invoice_id","invoice_number","vendor_id","po_id","status","total_amount",
//! "currency"}`.
//!
//! Rules: the submission is re-checked (never trust the previous step), the vendor and the
//! purchase order must exist, the invoice number is unique per vendor (the store's guard
//! item decides: `DuplicateInvoice`). The invoice and its `CREATE` audit entry are one
//! commit; `InvoiceSubmitted` is published afterwards.
//!
//! Idempotency: with an `execution_name` the invoice id is derived from it, so a repeated
//! delivery of the same task finds its own invoice and succeeds again (re-publishing the
//! event with the same event id) instead of reporting a duplicate.

use p2p_adapters::{ChangeSet, ConflictReason, Expect, Services, StoreError, Write};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::{derived_id, prefix};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::invoice::{Invoice, InvoiceSource};
use p2p_core::validation::{
    build_invoice, validate, InvoiceSubmission, SubmissionDocument, ValidationPolicy,
};
use p2p_function_support::config::{ConfigSource, RuleConfig};
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, FunctionError, Metrics};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "process-invoice";
/// Submitter when neither the input nor the document names one (the contract's default).
pub const DEFAULT_SUBMITTER: &str = "api";

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessInput {
    invoice: Value,
    #[serde(default)]
    submitted_by: Option<String>,
    #[serde(default)]
    execution_name: Option<String>,
    #[serde(default)]
    source: Option<InvoiceSource>,
}

/// Keys only the seed's shape has: an inner object with any of them is read as the seed's.
const SEED_ONLY_KEYS: &[&str] = &[
    "invoiceId",
    "customerId",
    "customerEmail",
    "poId",
    "invoiceDate",
    "dueDate",
    "items",
    "amount",
    "submittedBy",
];

fn parse_document(doc: &Value) -> Result<InvoiceSubmission, FunctionError> {
    let seed = doc
        .as_object()
        .is_some_and(|o| o.keys().any(|k| SEED_ONLY_KEYS.contains(&k.as_str())));
    let parsed = if seed {
        SubmissionDocument::from_json(&json!({ "invoice": doc }))
    } else {
        SubmissionDocument::from_json(doc)
    };
    parsed.map_err(|e| FunctionError::InvoiceInvalid {
        errors: e.field_errors().to_vec(),
    })
}

pub async fn handle(
    services: &Services,
    config: &Config,
    input: Value,
) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    let input: ProcessInput = serde_json::from_value(input)
        .map_err(|e| FunctionError::from_serde("process-invoice input", e))?;
    telemetry::record_execution(&span, input.execution_name.as_deref());
    let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
    let result = process(services, config, input, &mut metrics)
        .instrument(span.clone())
        .await;
    metrics.emit(services.clock.now().timestamp_millis());
    if let Err(e) = &result {
        let _enter = span.enter();
        tracing::warn!(error_type = e.error_type(), error = %e, "invoice not processed");
    }
    result
}

async fn process(
    services: &Services,
    config: &Config,
    input: ProcessInput,
    metrics: &mut Metrics,
) -> Result<Value, FunctionError> {
    let submission = parse_document(&input.invoice)?;
    if let Some(number) = &submission.invoice_number {
        tracing::Span::current().record("invoice_id", number.as_str());
    }
    // Vendor first: its terms may derive the due date.
    let vendor = match submission.vendor_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Some(
            services
                .store
                .get_vendor(id)
                .await?
                .ok_or_else(|| FunctionError::VendorNotFound(id.to_string()))?,
        ),
        _ => None,
    };
    // Dates were checked against "today" by validate-invoice; a step that runs after
    // midnight must not refuse what was valid then.
    let policy = ValidationPolicy {
        require_future_due_date: false,
        require_po: true,
        ..config.rules.validation.clone()
    };
    let report = validate(
        &submission,
        &policy,
        services.clock.today(),
        vendor.as_ref().map(|v| &v.payment_terms),
    );
    if !report.valid {
        return Err(FunctionError::InvoiceInvalid {
            errors: report.errors,
        });
    }
    let po_id = report.invoice.po_id.clone().unwrap_or_default();
    if services.store.get_purchase_order(&po_id).await?.is_none() {
        return Err(FunctionError::PurchaseOrderNotFound(po_id));
    }

    let now = services.clock.now();
    let id = match input.execution_name.as_deref() {
        Some(name) if !name.trim().is_empty() => {
            derived_id(prefix::INVOICE, &["execution", name.trim()])
        }
        _ => services.ids.new_id(prefix::INVOICE),
    };
    let submitter = input
        .submitted_by
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or(report.invoice.submitted_by.as_deref())
        .unwrap_or(DEFAULT_SUBMITTER)
        .to_string();
    let source = input.source.unwrap_or(InvoiceSource::Api);
    let invoice = build_invoice(&report, id, &submitter, now, source)?;
    tracing::Span::current().record("invoice_id", invoice.id.as_str());

    let audit = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::InvoiceAction,
        action::CREATE,
        entity::INVOICE,
        &invoice.id,
        &invoice.submitted_by,
        now,
        json!({
            "po_id": invoice.po_id,
            "vendor_id": invoice.vendor_id,
            "invoice_number": invoice.invoice_number,
            "total_amount": invoice.total_amount.to_string(),
            "currency": invoice.currency.code(),
            "status": invoice.status,
            "source": invoice.source,
            "execution_name": input.execution_name,
        }),
    );
    let changes = ChangeSet::new()
        .write(Write::PutInvoice(invoice.clone(), Expect::Absent))
        .audit(audit);
    let stored = match services.store.commit(changes).await {
        Ok(()) => {
            tracing::info!(invoice_number = %invoice.invoice_number, "invoice stored");
            metrics.count("InvoicesProcessed", 1);
            invoice
        }
        Err(StoreError::DuplicateInvoice { .. })
        | Err(StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }) => match already_stored(services, &invoice).await? {
            Some(existing) => {
                tracing::info!("repeated delivery: the invoice is already stored");
                existing
            }
            None => {
                metrics.count("DuplicateInvoices", 1);
                return Err(duplicate(services, &invoice, input.execution_name.as_deref()).await);
            }
        },
        Err(e) => return Err(e.into()),
    };
    publish_submitted(services, &stored).await?;
    Ok(output(&stored))
}

/// The invoice this very task stored on an earlier delivery, if that is what we ran into.
async fn already_stored(
    services: &Services,
    invoice: &Invoice,
) -> Result<Option<Invoice>, FunctionError> {
    let by_number = services
        .store
        .find_invoice_by_number(&invoice.vendor_id, &invoice.invoice_number)
        .await?;
    if let Some(existing) = by_number {
        return Ok((existing.id == invoice.id).then_some(existing));
    }
    // Same derived id, other number: the execution name was reused for another invoice.
    match services.store.get_invoice(&invoice.id).await? {
        Some(existing) => Err(FunctionError::invalid_event(format!(
            "execution already stored invoice {} as number `{}`, not `{}`",
            existing.id, existing.invoice_number, invoice.invoice_number
        ))),
        None => Err(FunctionError::Transient(format!(
            "invoice {} conflicted but is not there any more",
            invoice.id
        ))),
    }
}

/// Records the refused duplicate on the existing invoice's trail (best effort) and builds
/// the `DuplicateInvoice` error.
async fn duplicate(
    services: &Services,
    invoice: &Invoice,
    execution_name: Option<&str>,
) -> FunctionError {
    let existing = services
        .store
        .find_invoice_by_number(&invoice.vendor_id, &invoice.invoice_number)
        .await
        .ok()
        .flatten();
    let existing_id = existing.map(|e| e.id);
    let audit = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::InvoiceAction,
        action::DUPLICATE,
        entity::INVOICE,
        existing_id.as_deref().unwrap_or(&invoice.id),
        &invoice.submitted_by,
        services.clock.now(),
        json!({
            "vendor_id": invoice.vendor_id,
            "invoice_number": invoice.invoice_number,
            "rejected_invoice_id": invoice.id,
            "execution_name": execution_name,
        }),
    );
    if let Err(e) = services.store.commit(ChangeSet::new().audit(audit)).await {
        tracing::warn!(error = %e, "could not audit the refused duplicate");
    }
    tracing::info!(existing_invoice_id = ?existing_id, "duplicate invoice number");
    FunctionError::DuplicateInvoice {
        vendor_id: invoice.vendor_id.clone(),
        invoice_number: invoice.invoice_number.clone(),
        existing_invoice_id: existing_id,
    }
}

async fn publish_submitted(services: &Services, invoice: &Invoice) -> Result<(), FunctionError> {
    // Derived id: a re-publication after a retry carries the same id, so consumers dedupe.
    let event = DomainEvent::new(
        derived_id(prefix::EVENT, &["InvoiceSubmitted", &invoice.id]),
        DomainEventType::InvoiceSubmitted,
        &invoice.vendor_id,
        Some(&invoice.id),
        services.clock.now(),
        json!({
            "invoice_number": invoice.invoice_number,
            "po_id": invoice.po_id,
            "total_amount": invoice.total_amount.to_string(),
            "currency": invoice.currency.code(),
            "source": invoice.source,
        }),
    );
    services.events.publish(&[event]).await.map_err(|e| {
        // The invoice is stored; a retry finds it and publishes again.
        FunctionError::Transient(format!(
            "invoice stored, InvoiceSubmitted not published: {e}"
        ))
    })
}

fn output(invoice: &Invoice) -> Value {
    json!({
        "invoice_id": invoice.id,
        "invoice_number": invoice.invoice_number,
        "vendor_id": invoice.vendor_id,
        "po_id": invoice.po_id,
        "status": invoice.status,
        "total_amount": invoice.total_amount.to_string(),
        "currency": invoice.currency.code(),
    })
}
