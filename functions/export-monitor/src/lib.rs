//! `export-monitor`: the hourly Workday export (EventBridge `cron(0 * ? * MON-FRI *)`,
//! detail `{"dry_run": bool}`).
//!
//! 1. Lists `approved` payments from the payments status index; those without a Workday
//!    confirmation are `approved_payments_found`.
//! 2. Checks that both payment files exist (`head_object` on the stored keys); if not:
//!    `FILES_MISSING`, `missing_files`, and the payment waits.
//! 3. Delivers a signed callback to `WORKDAY_CALLBACK_URL`:
//!    `POST` JSON `{"payment_id","invoice_id","vendor_id","amount","currency","status",
//!    "xml_s3_key","json_s3_key","timestamp"}` with the headers
//!    `X-P2P-Timestamp: <unix seconds>` and
//!    `X-P2P-Signature: sha256=<hex HMAC-SHA256(WORKDAY_CALLBACK_SECRET, "<timestamp>.<body>")>`
//!    (see `p2p_function_support::signature`, which the receiver uses to verify).
//!    A 2xx answer confirms: in one commit the payment becomes `sent` (with
//!    `workday_confirmed_at` and `workday_callback_received`), its invoice `paid`, and
//!    `WORKDAY_DELIVERY_SUCCESS` is audited; then `InvoicePaid` is published. Parts the
//!    callback receiver already recorded are not written twice. A timeout, a connection
//!    failure or any other status is `WORKDAY_DELIVERY_FAILED`; the payment stays
//!    `approved` and the next run tries again.
//! 4. Writes the run's ISO 20022 pain.001.001.09 file of the confirmed payments to
//!    `payment-runs/{run_id}/pain.001.xml` (when `DEBTOR_NAME/IBAN/BIC` are configured);
//!    payments that cannot go into it (e.g. vendors paid by US ACH) are reported.
//! 5. Audits `MONITOR_START` / `MONITOR_COMPLETE` (with the statistics) or `MONITOR_ERROR`.
//!
//! A dry run lists and checks but delivers, writes and audits nothing. Before each payment
//! the deadline is checked; payments not reached are `skipped` and retried next run.
//!
//! Statistics: the seed's `payments_scanned, approved_payments_found, files_validated,
//! missing_files, workday_callbacks_sent, workday_callbacks_failed, success_rate` (sent /
//! found × 100, one decimal; 100.0 when nothing was found) and `errors` (messages), plus
//! `skipped, dry_run, complete, run_id, payment_run`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use futures::stream::{self, StreamExt};
use p2p_adapters::{
    ChangeSet, Expect, ObjectMeta, PageRequest, PaymentQuery, Services, StoreError, Write,
};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::{derived_id, prefix, rfc3339};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment::{Payment, PaymentStatus};
use p2p_core::payment_files::{
    end_to_end_id, render_pain001, Creditor, Debtor, Pain001Batch, Pain001Error, TransferOrder,
};
use p2p_core::vendor::{Bic, Iban, Vendor};
use p2p_function_support::config::{ConfigSource, Reader};
use p2p_function_support::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use p2p_function_support::{ConfigError, Deadline, FunctionError, JobTrigger, Metrics};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "export-monitor";
/// The monitor's actor in audit entries.
pub const MONITOR_ACTOR: &str = "export_monitor";

/// Where and how to call Workday.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkdayConfig {
    pub callback_url: String,
    pub secret: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for WorkdayConfig {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkdayConfig")
            .field("callback_url", &self.callback_url)
            .field("secret", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub workday: WorkdayConfig,
    /// The paying company; `None` when `DEBTOR_*` are unset (no pain.001 file).
    pub debtor: Option<Debtor>,
    /// `EXPORT_CONCURRENCY` (default 4).
    pub concurrency: usize,
    /// `JOB_DEADLINE_MARGIN_SECONDS` (default 10).
    pub deadline_margin: Duration,
    pub metrics_namespace: String,
}

impl Config {
    /// `WORKDAY_CALLBACK_URL` and `WORKDAY_CALLBACK_SECRET` are required;
    /// `WORKDAY_TIMEOUT_SECONDS` defaults to 10; `DEBTOR_NAME`, `DEBTOR_IBAN`, `DEBTOR_BIC`
    /// are all set or all unset.
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        let r = Reader(source);
        let callback_url = r.required(
            "WORKDAY_CALLBACK_URL",
            "where payment confirmations are delivered",
        )?;
        if !(callback_url.starts_with("https://") || callback_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                var: "WORKDAY_CALLBACK_URL".into(),
                value: callback_url,
                reason: "must be an http(s) URL".into(),
            });
        }
        let secret = r.required("WORKDAY_CALLBACK_SECRET", "signs the Workday callbacks")?;
        let debtor = match (
            r.optional("DEBTOR_NAME"),
            r.optional("DEBTOR_IBAN"),
            r.optional("DEBTOR_BIC"),
        ) {
            (None, None, None) => None,
            (Some(name), Some(iban), Some(bic)) => Some(Debtor {
                name,
                iban: Iban::parse(&iban).map_err(|e| ConfigError::Invalid {
                    var: "DEBTOR_IBAN".into(),
                    value: iban.clone(),
                    reason: e.to_string(),
                })?,
                bic: Bic::parse(&bic).map_err(|e| ConfigError::Invalid {
                    var: "DEBTOR_BIC".into(),
                    value: bic.clone(),
                    reason: e.to_string(),
                })?,
            }),
            _ => {
                return Err(ConfigError::Missing {
                    var: "DEBTOR_NAME, DEBTOR_IBAN and DEBTOR_BIC".into(),
                    purpose: "the payment run's debtor: set all three or none",
                })
            }
        };
        Ok(Config {
            workday: WorkdayConfig {
                callback_url,
                secret,
                timeout: r.seconds("WORKDAY_TIMEOUT_SECONDS", 10)?,
            },
            debtor,
            concurrency: r.positive("EXPORT_CONCURRENCY", 4)?,
            deadline_margin: r.seconds("JOB_DEADLINE_MARGIN_SECONDS", 10)?,
            metrics_namespace: source
                .var(p2p_function_support::config::var::METRICS_NAMESPACE)
                .unwrap_or_else(|| p2p_function_support::metrics::DEFAULT_NAMESPACE.into()),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&p2p_function_support::ProcessEnv)
    }
}

/// The HTTP client for Workday callbacks (rustls, one connection pool per process).
#[derive(Debug, Clone)]
pub struct WorkdayClient {
    http: reqwest::Client,
    config: WorkdayConfig,
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("Network timeout after {0:?}")]
    Timeout(Duration),
    #[error("Workday answered HTTP {0}")]
    Status(u16),
    #[error("Delivery failed: {0}")]
    Network(String),
}

impl WorkdayClient {
    pub fn new(config: &WorkdayConfig) -> Result<Self, FunctionError> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(config.timeout)
            .build()
            .map_err(|e| FunctionError::Misconfigured(format!("HTTP client: {e}")))?;
        Ok(WorkdayClient {
            http,
            config: config.clone(),
        })
    }

    /// Posts one signed callback; `Ok` only for a 2xx answer.
    pub async fn deliver(&self, body: &[u8], unix_seconds: i64) -> Result<u16, DeliveryError> {
        let signature = signature::sign(self.config.secret.as_bytes(), unix_seconds, body);
        let sent = self
            .http
            .post(&self.config.callback_url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, unix_seconds.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => Ok(resp.status().as_u16()),
            Ok(resp) => Err(DeliveryError::Status(resp.status().as_u16())),
            Err(e) if e.is_timeout() => Err(DeliveryError::Timeout(self.config.timeout)),
            Err(e) => Err(DeliveryError::Network(e.to_string())),
        }
    }
}

/// A percentage written as a JSON number (exact, never via f64).
fn decimal_number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let n = serde_json::Number::from_str(&d.to_string()).map_err(serde::ser::Error::custom)?;
    n.serialize(s)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExcludedFromRun {
    pub payment_id: String,
    pub vendor_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PaymentRunReport {
    /// `payment-runs/{run_id}/pain.001.xml`, or `None` when nothing could be paid by it.
    pub key: Option<String>,
    pub message_id: Option<String>,
    pub included: Vec<String>,
    pub excluded: Vec<ExcludedFromRun>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonitorStats {
    pub payments_scanned: u64,
    pub approved_payments_found: u64,
    pub files_validated: u64,
    pub missing_files: u64,
    pub workday_callbacks_sent: u64,
    pub workday_callbacks_failed: u64,
    #[serde(serialize_with = "decimal_number")]
    pub success_rate: Decimal,
    pub errors: Vec<String>,
    pub skipped: u64,
    pub dry_run: bool,
    pub complete: bool,
    pub run_id: String,
    pub payment_run: Option<PaymentRunReport>,
}

enum ItemOutcome {
    NotStarted,
    FilesMissing(String),
    /// Dry run: the files are there, nothing was sent.
    WouldDeliver,
    Delivered {
        approved: Box<Payment>,
        due_date: Option<NaiveDate>,
    },
    /// Delivered but the confirmation could not be recorded (next run delivers again).
    DeliveredNotRecorded(String),
    Failed(String),
}

pub async fn handle(
    services: &Services,
    config: &Config,
    workday: &WorkdayClient,
    input: Value,
    deadline: Deadline,
) -> Result<Value, FunctionError> {
    let trigger = JobTrigger::from_event(&input)?;
    let stats = run(services, config, workday, &trigger, deadline).await?;
    serde_json::to_value(&stats)
        .map_err(|e| FunctionError::Internal(format!("cannot serialize statistics: {e}")))
}

fn audit(
    services: &Services,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: Value,
) -> AuditEntry {
    AuditEntry::new(
        services.ids.as_ref(),
        AuditType::ExportMonitor,
        action,
        entity_type,
        entity_id,
        MONITOR_ACTOR,
        services.clock.now(),
        details,
    )
}

/// Audit entries that stand alone (not part of a state change): best effort, logged.
async fn record(services: &Services, entry: AuditEntry) {
    let what = entry.action.clone();
    if let Err(e) = services.store.commit(ChangeSet::new().audit(entry)).await {
        tracing::error!(error = %e, action = %what, "could not write the audit entry");
    }
}

pub async fn run(
    services: &Services,
    config: &Config,
    workday: &WorkdayClient,
    trigger: &JobTrigger,
    deadline: Deadline,
) -> Result<MonitorStats, FunctionError> {
    let run_id = services.ids.new_id(prefix::PAYMENT_RUN);
    let span = tracing::info_span!(
        "invocation",
        function = FUNCTION_NAME,
        run_id = %run_id,
        dry_run = trigger.dry_run,
        invoice_id = tracing::field::Empty,
        execution_name = tracing::field::Empty
    );
    async move {
        let dry_run = trigger.dry_run;
        let mut stats = MonitorStats {
            dry_run,
            run_id: run_id.clone(),
            complete: true,
            ..MonitorStats::default()
        };
        tracing::info!(event_id = ?trigger.event_id, "export monitor started");
        if !dry_run {
            record(
                services,
                audit(
                    services,
                    action::MONITOR_START,
                    entity::JOB,
                    &run_id,
                    json!({"event_id": trigger.event_id, "scheduled_time": trigger.scheduled_time}),
                ),
            )
            .await;
        }

        let payments = match approved_payments(services).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "listing approved payments failed");
                stats
                    .errors
                    .push(format!("Listing approved payments failed: {e}"));
                stats.complete = false;
                if !dry_run {
                    record(
                        services,
                        audit(
                            services,
                            action::MONITOR_ERROR,
                            entity::JOB,
                            &run_id,
                            json!({"error": e.to_string(), "statistics": stats}),
                        ),
                    )
                    .await;
                }
                finish(services, config, &stats);
                return match e {
                    StoreError::Misconfigured { .. } => Err(e.into()),
                    _ => Ok(stats),
                };
            }
        };
        stats.payments_scanned = payments.len() as u64;
        let pending: Vec<Payment> = payments
            .into_iter()
            .filter(|p| p.status == PaymentStatus::Approved && !p.workday_callback_received)
            .collect();
        stats.approved_payments_found = pending.len() as u64;

        let run_ref = run_id.as_str();
        let outcomes: Vec<(String, ItemOutcome)> = stream::iter(pending)
            .map(|payment| {
                let deadline = deadline.clone();
                async move {
                    let id = payment.id.clone();
                    if deadline.expired() {
                        return (id, ItemOutcome::NotStarted);
                    }
                    let span = tracing::info_span!("item", payment_id = %payment.id,
                        invoice_id = %payment.invoice_id, execution_name = tracing::field::Empty);
                    let outcome = monitor_payment(services, workday, payment, run_ref, dry_run)
                        .instrument(span)
                        .await;
                    (id, outcome)
                }
            })
            .buffer_unordered(config.concurrency)
            .collect()
            .await;

        let mut confirmed = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                ItemOutcome::NotStarted => {
                    stats.skipped += 1;
                    stats.complete = false;
                }
                ItemOutcome::FilesMissing(what) => {
                    stats.missing_files += 1;
                    stats
                        .errors
                        .push(format!("Files missing for payment {id}: {what}"));
                }
                ItemOutcome::WouldDeliver => stats.files_validated += 1,
                ItemOutcome::Delivered { approved, due_date } => {
                    stats.files_validated += 1;
                    stats.workday_callbacks_sent += 1;
                    confirmed.push((*approved, due_date));
                }
                ItemOutcome::DeliveredNotRecorded(message) => {
                    stats.files_validated += 1;
                    stats.workday_callbacks_sent += 1;
                    stats.errors.push(format!(
                        "Payment {id} confirmed but not recorded: {message}"
                    ));
                }
                ItemOutcome::Failed(message) => {
                    stats.files_validated += 1;
                    stats.workday_callbacks_failed += 1;
                    stats.errors.push(format!("{message} for payment {id}"));
                }
            }
        }
        stats.success_rate = if stats.approved_payments_found == 0 {
            Decimal::ONE_HUNDRED
        } else {
            (Decimal::from(stats.workday_callbacks_sent) * Decimal::ONE_HUNDRED
                / Decimal::from(stats.approved_payments_found))
            .round_dp(1)
        };
        let mut rate = stats.success_rate;
        rate.rescale(1);
        stats.success_rate = rate;

        if !dry_run && !confirmed.is_empty() {
            if let Some(debtor) = &config.debtor {
                stats.payment_run = Some(
                    write_payment_run(services, debtor, &run_id, &confirmed, &mut stats.errors)
                        .await,
                );
            }
        }
        if !dry_run {
            record(
                services,
                audit(
                    services,
                    action::MONITOR_COMPLETE,
                    entity::JOB,
                    &run_id,
                    json!({"statistics": stats}),
                ),
            )
            .await;
        }
        finish(services, config, &stats);
        Ok(stats)
    }
    .instrument(span)
    .await
}

fn finish(services: &Services, config: &Config, stats: &MonitorStats) {
    let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
    metrics
        .count("ApprovedPaymentsFound", stats.approved_payments_found)
        .count("PaymentFilesMissing", stats.missing_files)
        .count("WorkdayCallbacksSent", stats.workday_callbacks_sent)
        .count("WorkdayCallbacksFailed", stats.workday_callbacks_failed)
        .property("run_id", stats.run_id.clone())
        .property("dry_run", stats.dry_run);
    metrics.emit(services.clock.now().timestamp_millis());
    tracing::info!(
        payments_scanned = stats.payments_scanned,
        approved_payments_found = stats.approved_payments_found,
        files_validated = stats.files_validated,
        missing_files = stats.missing_files,
        workday_callbacks_sent = stats.workday_callbacks_sent,
        workday_callbacks_failed = stats.workday_callbacks_failed,
        success_rate = %stats.success_rate,
        skipped = stats.skipped,
        errors = stats.errors.len(),
        "export monitor finished"
    );
}

async fn approved_payments(services: &Services) -> Result<Vec<Payment>, StoreError> {
    let query = PaymentQuery {
        status: Some(PaymentStatus::Approved),
        ..PaymentQuery::default()
    };
    let mut page = PageRequest::first(100);
    let mut all = Vec::new();
    loop {
        let p = services.store.list_payments(&query, &page).await?;
        all.extend(p.items);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(all),
        }
    }
}

/// The callback body (the receiver verifies the signature over exactly these bytes).
pub fn callback_body(payment: &Payment, timestamp: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    json!({
        "payment_id": payment.id,
        "invoice_id": payment.invoice_id,
        "vendor_id": payment.vendor_id,
        "amount": payment.currency.format_amount(payment.amount),
        "currency": payment.currency.code(),
        "status": PaymentStatus::Sent,
        "xml_s3_key": payment.xml_s3_key,
        "json_s3_key": payment.json_s3_key,
        "timestamp": rfc3339(timestamp),
    })
    .to_string()
    .into_bytes()
}

async fn files_present(services: &Services, payment: &Payment) -> Result<Vec<String>, StoreError> {
    let mut missing = Vec::new();
    for (format, key) in [("xml", &payment.xml_s3_key), ("json", &payment.json_s3_key)] {
        match key {
            None => missing.push(format!("no {format} file key stored")),
            Some(k) => {
                if services
                    .objects
                    .head_object(&services.buckets.payments, k)
                    .await?
                    .is_none()
                {
                    missing.push(format!("{k} not found"));
                }
            }
        }
    }
    Ok(missing)
}

async fn monitor_payment(
    services: &Services,
    workday: &WorkdayClient,
    payment: Payment,
    run_id: &str,
    dry_run: bool,
) -> ItemOutcome {
    let missing = match files_present(services, &payment).await {
        Ok(m) => m,
        Err(e) => return ItemOutcome::Failed(format!("File check failed ({e})")),
    };
    if !missing.is_empty() {
        let what = missing.join("; ");
        tracing::warn!(missing = %what, "payment files missing");
        if !dry_run {
            record(
                services,
                audit(
                    services,
                    action::FILES_MISSING,
                    entity::PAYMENT,
                    &payment.id,
                    json!({
                        "invoice_id": payment.invoice_id,
                        "xml_s3_key": payment.xml_s3_key,
                        "json_s3_key": payment.json_s3_key,
                        "missing": missing,
                        "run_id": run_id,
                    }),
                ),
            )
            .await;
        }
        return ItemOutcome::FilesMissing(what);
    }
    if dry_run {
        tracing::info!("dry run: would deliver the Workday callback");
        return ItemOutcome::WouldDeliver;
    }
    let now = services.clock.now();
    let body = callback_body(&payment, now);
    match workday.deliver(&body, now.timestamp()).await {
        Ok(status) => {
            tracing::info!(http_status = status, "Workday confirmed the payment");
            match confirm(services, &payment, run_id, status).await {
                Ok(due_date) => ItemOutcome::Delivered {
                    approved: Box::new(payment),
                    due_date,
                },
                Err(e) => {
                    tracing::error!(error = %e, "confirmation not recorded");
                    ItemOutcome::DeliveredNotRecorded(e.to_string())
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "Workday delivery failed");
            record(
                services,
                audit(
                    services,
                    action::WORKDAY_DELIVERY_FAILED,
                    entity::PAYMENT,
                    &payment.id,
                    json!({
                        "invoice_id": payment.invoice_id,
                        "callback_url": workday.config.callback_url,
                        "error": e.to_string(),
                        "run_id": run_id,
                    }),
                ),
            )
            .await;
            ItemOutcome::Failed(e.to_string())
        }
    }
}

/// Records a confirmed delivery: payment `sent`, invoice `paid`, the success audit entry, in
/// one commit (skipping what the callback receiver already wrote), then `InvoicePaid`.
/// Returns the invoice's due date (the payment run's execution date).
async fn confirm(
    services: &Services,
    delivered: &Payment,
    run_id: &str,
    http_status: u16,
) -> Result<Option<NaiveDate>, FunctionError> {
    // Two attempts: a conflict means the receiver wrote meanwhile; re-read and go again.
    let mut last_error = None;
    for _ in 0..2 {
        let now = services.clock.now();
        let payment = services
            .store
            .get_payment(&delivered.id)
            .await?
            .ok_or_else(|| FunctionError::PaymentNotFound(delivered.id.clone()))?;
        let invoice = services.store.get_invoice(&payment.invoice_id).await?;
        let mut changes = ChangeSet::new();
        if payment.status == PaymentStatus::Approved {
            let sent = payment.confirm_by_workday(now)?;
            changes = changes.write(Write::PutPayment(sent, Expect::Version(payment.version)));
        }
        let mut paid_now = false;
        if let Some(inv) = &invoice {
            if inv.status == InvoiceStatus::Approved {
                let paid = inv.with_status(InvoiceStatus::Paid, now)?;
                changes = changes.write(Write::PutInvoice(paid, Expect::Version(inv.version)));
                paid_now = true;
            }
        }
        changes = changes.audit(audit(
            services,
            action::WORKDAY_DELIVERY_SUCCESS,
            entity::PAYMENT,
            &payment.id,
            json!({
                "invoice_id": payment.invoice_id,
                "http_status": http_status,
                "status": PaymentStatus::Sent,
                "workday_confirmed_at": rfc3339(now),
                "run_id": run_id,
            }),
        ));
        match services.store.commit(changes).await {
            Ok(()) => {
                if paid_now
                    || invoice
                        .as_ref()
                        .is_some_and(|i| i.status == InvoiceStatus::Paid)
                {
                    let event = DomainEvent::new(
                        derived_id(prefix::EVENT, &["InvoicePaid", &payment.invoice_id]),
                        DomainEventType::InvoicePaid,
                        &payment.vendor_id,
                        Some(&payment.invoice_id),
                        now,
                        json!({
                            "payment_id": payment.id,
                            "amount": payment.amount.to_string(),
                            "currency": payment.currency.code(),
                        }),
                    );
                    if let Err(e) = services.events.publish(&[event]).await {
                        tracing::error!(error = %e, "InvoicePaid not published");
                    }
                }
                return Ok(invoice.map(|i| i.due_date));
            }
            Err(e @ StoreError::Conflict { .. }) => last_error = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_error
        .map(FunctionError::from)
        .unwrap_or_else(|| FunctionError::Transient("confirmation not recorded".into())))
}

async fn write_payment_run(
    services: &Services,
    debtor: &Debtor,
    run_id: &str,
    confirmed: &[(Payment, Option<NaiveDate>)],
    errors: &mut Vec<String>,
) -> PaymentRunReport {
    let today = services.clock.today();
    let mut vendors: HashMap<String, Vendor> = HashMap::new();
    for (p, _) in confirmed {
        if vendors.contains_key(&p.vendor_id) {
            continue;
        }
        match services.store.get_vendor(&p.vendor_id).await {
            Ok(Some(v)) => {
                vendors.insert(v.id.clone(), v);
            }
            Ok(None) => {}
            Err(e) => errors.push(format!(
                "Vendor {} not read for the payment run: {e}",
                p.vendor_id
            )),
        }
    }
    let orders: Vec<TransferOrder<'_>> = confirmed
        .iter()
        .map(|(payment, due)| TransferOrder {
            payment,
            requested_execution_date: due.map_or(today, |d| d.max(today)),
        })
        .collect();
    let message_id = end_to_end_id(run_id).into_owned();
    let batch = Pain001Batch {
        message_id: &message_id,
        created_at: services.clock.now(),
        debtor,
    };
    let excluded_report = |excluded: &[p2p_core::payment_files::ExcludedPayment]| {
        excluded
            .iter()
            .map(|x| ExcludedFromRun {
                payment_id: x.payment_id.clone(),
                vendor_id: x.vendor_id.clone(),
                reason: x.reason.to_string(),
            })
            .collect::<Vec<_>>()
    };
    let file = match render_pain001(&batch, &orders, |vendor_id| {
        vendors.get(vendor_id).map(Creditor::from)
    }) {
        Ok(f) => f,
        Err(Pain001Error::NothingToPay { excluded }) => {
            return PaymentRunReport {
                excluded: excluded_report(&excluded),
                ..PaymentRunReport::default()
            }
        }
        Err(e) => {
            errors.push(format!("Payment run file not written: {e}"));
            return PaymentRunReport::default();
        }
    };
    let key = format!("payment-runs/{run_id}/pain.001.xml");
    let report = PaymentRunReport {
        key: Some(key.clone()),
        message_id: Some(file.message_id.clone()),
        included: file.included.iter().map(|i| i.payment_id.clone()).collect(),
        excluded: excluded_report(&file.excluded),
    };
    let meta = ObjectMeta {
        content_type: "application/xml".into(),
        metadata: Default::default(),
        tags: [
            ("run_id".to_string(), run_id.to_string()),
            ("file_format".to_string(), "pain.001.001.09".to_string()),
            ("payment_count".to_string(), file.included.len().to_string()),
        ]
        .into_iter()
        .collect(),
    };
    match services
        .objects
        .put_object(
            &services.buckets.payments,
            &key,
            file.xml.into_bytes(),
            &meta,
        )
        .await
    {
        Ok(_) => {
            tracing::info!(%key, included = report.included.len(), excluded = report.excluded.len(), "payment run file written");
            record(
                services,
                audit(
                    services,
                    action::PAYMENT_RUN_FILE,
                    entity::PAYMENT_RUN,
                    run_id,
                    json!({
                        "key": key,
                        "message_id": file.message_id,
                        "control_sum": file.control_sum.to_string(),
                        "included": report.included,
                        "excluded": report.excluded,
                    }),
                ),
            )
            .await;
            report
        }
        Err(e) => {
            errors.push(format!("Payment run file {key} not written: {e}"));
            PaymentRunReport {
                key: None,
                ..report
            }
        }
    }
}
