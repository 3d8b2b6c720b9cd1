//! `approve-payment`: creates the payment of a matched invoice and its Workday files.
//!
//! Input: `{"invoice_id": string, "approved_by": string, "has_approver_role"?: bool,
//! "execution_name"?: string}`. `has_approver_role` defaults to true: a human approval
//! reaches this task only through the approval step, which checks roles before it sends
//! the task token back; the automatic approver (`system:auto-approval`) is held to the
//! auto-approve limit by the rules either way.
//! Output: `{"payment_id","invoice_id","vendor_id","amount","currency","xml_s3_key",
//! "json_s3_key","status","approved_by"}`.
//!
//! Steps, each safe to repeat:
//! 1. one commit: the payment (created only if absent; its id is derived from the invoice),
//!    the invoice `matched -> approved`, and the `APPROVE` audit entry;
//! 2. the files `payments/{payment_id}/payment.xml|json` (SSE, the seed's tags), both at
//!    once, each uploaded only if it is not there yet;
//! 3. one commit: the payment's file keys and the `APPROVE_WITH_FILES` audit entry;
//! 4. `InvoiceApproved` (with an id derived from the payment, so copies can be dropped).
//!
//! A retry after a failure anywhere finds the payment and finishes what is missing; an
//! approval of a finished payment returns it and writes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use p2p_adapters::{ChangeSet, Expect, ObjectMeta, Services, StoreError, Write};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::{derived_id, prefix};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::invoice::{Invoice, InvoiceStatus};
use p2p_core::payment::{payment_file_key, payment_id_for, Approver, Payment, PaymentFileFormat};
use p2p_core::payment_files::{payment_file_tags, render_workday_json, render_workday_xml};
use p2p_core::DomainError;
use p2p_function_support::config::{ConfigSource, RuleConfig};
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, FunctionError, Metrics};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "approve-payment";

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
struct ApproveInput {
    invoice_id: String,
    #[serde(default)]
    approved_by: Option<String>,
    #[serde(default)]
    has_approver_role: Option<bool>,
    #[serde(default)]
    execution_name: Option<String>,
}

pub async fn handle(
    services: &Services,
    config: &Config,
    input: Value,
) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    let input: ApproveInput = serde_json::from_value(input)
        .map_err(|e| FunctionError::from_serde("approve-payment input", e))?;
    telemetry::record_invoice(&span, &input.invoice_id);
    telemetry::record_execution(&span, input.execution_name.as_deref());
    async move {
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        let result = approve(services, config, &input, &mut metrics).await;
        metrics.emit(services.clock.now().timestamp_millis());
        match &result {
            Ok(out) => {
                tracing::info!(payment_id = %out["payment_id"], "payment approved with files")
            }
            Err(e) => tracing::warn!(error_type = e.error_type(), error = %e, "approval failed"),
        }
        result
    }
    .instrument(span.clone())
    .await
}

async fn approve(
    services: &Services,
    config: &Config,
    input: &ApproveInput,
    metrics: &mut Metrics,
) -> Result<Value, FunctionError> {
    let invoice = services
        .store
        .get_invoice(&input.invoice_id)
        .await?
        .ok_or_else(|| FunctionError::InvoiceNotFound(input.invoice_id.clone()))?;
    let payment_id = payment_id_for(&invoice.id);
    // A matched invoice has no payment yet (payment and approval are one commit), so the
    // usual first approval skips the lookup; a concurrent one is met as a conflict.
    let existing = if invoice.status == InvoiceStatus::Matched {
        None
    } else {
        services.store.get_payment(&payment_id).await?
    };
    let (payment, fresh) = match existing {
        Some(existing) => {
            tracing::info!(payment_id = %existing.id, "the invoice already has its payment");
            (existing, false)
        }
        None => {
            let (created, fresh) = create_payment(services, config, &invoice, input).await?;
            metrics.count("PaymentsApproved", 1);
            (created, fresh)
        }
    };
    let payment = if payment.xml_s3_key.is_some() && payment.json_s3_key.is_some() {
        payment
    } else {
        attach_files(services, payment, fresh).await?
    };
    publish_approved(services, &payment).await?;
    Ok(output(&payment))
}

/// Step 1: the payment, the invoice's approval and the audit entry, all or nothing.
/// `true` beside the payment when this call created it (then no file of it can exist yet:
/// files are written only after the payment is stored).
async fn create_payment(
    services: &Services,
    config: &Config,
    invoice: &Invoice,
    input: &ApproveInput,
) -> Result<(Payment, bool), FunctionError> {
    let approved_by = input.approved_by.as_deref().map(str::trim).unwrap_or("");
    if approved_by.is_empty() {
        return Err(FunctionError::invalid_event("approved_by is required"));
    }
    let approver = Approver {
        user_id: approved_by.to_string(),
        has_approver_role: input.has_approver_role.unwrap_or(true),
    };
    let now = services.clock.now();
    let payment = config
        .rules
        .approval
        .approve(invoice, &approver, now)
        .map_err(|e| match e {
            DomainError::RuleViolation {
                rule: "invoice_not_matched",
                message,
            } => FunctionError::InvalidTransition(message),
            DomainError::Invalid(errors) => FunctionError::invalid_event(
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => other.into(),
        })?;
    let mut approved = invoice.with_status(InvoiceStatus::Approved, now)?;
    approved.approved_by = Some(approver.user_id.clone());
    let audit = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::PaymentAction,
        action::APPROVE,
        entity::PAYMENT,
        &payment.id,
        &approver.user_id,
        now,
        json!({
            "status": payment.status,
            "invoice_id": payment.invoice_id,
            "vendor_id": payment.vendor_id,
            "amount": payment.amount.to_string(),
            "currency": payment.currency.code(),
            "approved_by": approver.user_id,
            "execution_name": input.execution_name,
        }),
    );
    let changes = ChangeSet::new()
        .write(Write::PutPayment(payment.clone(), Expect::Absent))
        .write(Write::PutInvoice(
            approved,
            Expect::Version(invoice.version),
        ))
        .audit(audit);
    match services.store.commit(changes).await {
        Ok(()) => {
            tracing::info!(payment_id = %payment.id, amount = %payment.amount, "payment created");
            Ok((payment, true))
        }
        // A concurrent approval won: continue with its payment.
        Err(e @ StoreError::Conflict { .. }) => services
            .store
            .get_payment(&payment.id)
            .await?
            .map(|p| (p, false))
            .ok_or_else(|| FunctionError::from(e)),
        Err(e) => Err(e.into()),
    }
}

/// Steps 2 and 3: upload whatever file is missing (both at once), then store the keys.
/// `fresh`: the payment was created by this call, so no file is there to look for.
async fn attach_files(
    services: &Services,
    payment: Payment,
    fresh: bool,
) -> Result<Payment, FunctionError> {
    let bucket = &services.buckets.payments;
    let now = services.clock.now();
    // Both run to the end (no upload is cancelled half-way by the other's failure), so a
    // retry finds every file that could be written.
    let (xml, json) = tokio::join!(
        upload_file(services, &payment, PaymentFileFormat::Xml, fresh, now),
        upload_file(services, &payment, PaymentFileFormat::Json, fresh, now),
    );
    xml.and(json)?;
    let mut updated = payment.clone();
    updated.xml_s3_key = Some(payment_file_key(&payment.id, PaymentFileFormat::Xml));
    updated.json_s3_key = Some(payment_file_key(&payment.id, PaymentFileFormat::Json));
    updated.updated_at = now;
    updated.version += 1;
    let audit = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::PaymentAction,
        action::APPROVE_WITH_FILES,
        entity::PAYMENT,
        &payment.id,
        &payment.approved_by,
        now,
        json!({
            "status": updated.status,
            "invoice_id": updated.invoice_id,
            "vendor_id": updated.vendor_id,
            "amount": updated.amount.to_string(),
            "currency": updated.currency.code(),
            "xml_s3_key": updated.xml_s3_key,
            "json_s3_key": updated.json_s3_key,
            "s3_bucket": bucket,
            "approved_by": updated.approved_by,
        }),
    );
    let changes = ChangeSet::new()
        .write(Write::PutPayment(
            updated.clone(),
            Expect::Version(payment.version),
        ))
        .audit(audit);
    match services.store.commit(changes).await {
        Ok(()) => Ok(updated),
        Err(e @ StoreError::Conflict { .. }) => {
            // Another delivery finished first.
            match services.store.get_payment(&payment.id).await? {
                Some(p) if p.xml_s3_key.is_some() && p.json_s3_key.is_some() => Ok(p),
                _ => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// One payment file, rendered and uploaded unless it is there already.
async fn upload_file(
    services: &Services,
    payment: &Payment,
    format: PaymentFileFormat,
    fresh: bool,
    now: DateTime<Utc>,
) -> Result<(), FunctionError> {
    let bucket = &services.buckets.payments;
    let key = payment_file_key(&payment.id, format);
    if !fresh && services.objects.head_object(bucket, &key).await?.is_some() {
        tracing::info!(%key, "file already uploaded");
        return Ok(());
    }
    let body = match format {
        PaymentFileFormat::Xml => render_workday_xml(payment),
        PaymentFileFormat::Json => render_workday_json(payment),
    };
    let meta = ObjectMeta {
        content_type: format.content_type().to_string(),
        metadata: BTreeMap::from([
            ("payment-id".to_string(), payment.id.clone()),
            ("invoice-id".to_string(), payment.invoice_id.clone()),
        ]),
        tags: payment_file_tags(payment, format, now)
            .into_iter()
            .collect(),
    };
    services
        .objects
        .put_object(bucket, &key, body.into_bytes(), &meta)
        .await?;
    tracing::info!(%key, "file uploaded");
    Ok(())
}

async fn publish_approved(services: &Services, payment: &Payment) -> Result<(), FunctionError> {
    let event = DomainEvent::new(
        derived_id(prefix::EVENT, &["InvoiceApproved", &payment.id]),
        DomainEventType::InvoiceApproved,
        &payment.vendor_id,
        Some(&payment.invoice_id),
        services.clock.now(),
        json!({
            "payment_id": payment.id,
            "amount": payment.amount.to_string(),
            "currency": payment.currency.code(),
            "approved_by": payment.approved_by,
            "xml_s3_key": payment.xml_s3_key,
            "json_s3_key": payment.json_s3_key,
        }),
    );
    services.events.publish(&[event]).await.map_err(|e| {
        FunctionError::Transient(format!(
            "payment approved, InvoiceApproved not published: {e}"
        ))
    })
}

fn output(payment: &Payment) -> Value {
    json!({
        "payment_id": payment.id,
        "invoice_id": payment.invoice_id,
        "vendor_id": payment.vendor_id,
        "amount": payment.amount.to_string(),
        "currency": payment.currency.code(),
        "xml_s3_key": payment.xml_s3_key,
        "json_s3_key": payment.json_s3_key,
        "status": payment.status,
        "approved_by": payment.approved_by,
    })
}
