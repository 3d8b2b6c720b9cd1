//! `reconcile`: one binary, two triggers.
//!
//! **Step Functions task** — input `{"invoice_id": string, "execution_name"?: string}`;
//! output `{"invoice_id","outcome":"matched|rejected|needs_review","approval_required",
//! "total_amount","currency","report": <MatchReport>}`. The status change and its
//! `RECONCILE` audit entry are one commit. A repeated delivery finds the invoice already
//! reconciled and returns the stored outcome.
//!
//! **Scheduled job** (EventBridge `cron(0/30 9-17 ? * MON-FRI *)`, detail
//! `{"dry_run": bool}`) — reconciles every `received` invoice from the status index, a page
//! at a time, at most `RECONCILE_CONCURRENCY` at once. Before each invoice it checks the
//! deadline (Lambda's less `JOB_DEADLINE_MARGIN_SECONDS`); once passed it starts nothing
//! new, counts what it left as `skipped`, and the next run picks those up (they are still
//! `received`). Each invoice's change + `BATCH_RECONCILE` audit is one commit; a version
//! conflict (someone else reconciled it first) is `skipped`, a failure is `errors` with a
//! `RECONCILE_ERROR` audit entry, and the run ends with a `JOB_COMPLETE` entry carrying the
//! statistics. A dry run computes and logs every outcome but writes nothing.
//!
//! Statistics (returned and logged): the seed's `processed, matched, rejected, errors,
//! skipped`, plus `needs_review, dry_run, complete, run_id, failures`. `processed` counts
//! the invoices whose outcome was decided or that failed (`matched + rejected +
//! needs_review + errors`); `skipped` counts conflicts and invoices left for the next run.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use p2p_adapters::{
    ChangeSet, ConflictReason, Expect, InvoiceQuery, PageRequest, Services, StoreError, Write,
};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::invoice::{Invoice, InvoiceStatus};
use p2p_core::matching::{
    match_invoice, reconcile, MatchOutcome, MatchReport, ReconcileAction, RECONCILIATION_JOB_ACTOR,
};
use p2p_function_support::config::{ConfigSource, Reader, RuleConfig};
use p2p_function_support::job::is_eventbridge_event;
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, Deadline, FunctionError, JobTrigger, Metrics};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::Instrument;

pub const FUNCTION_NAME: &str = "reconcile";
/// Actor of reconciliations run by the workflow.
pub const WORKFLOW_ACTOR: &str = "invoice_workflow";
/// Most failure messages kept in the statistics (all are logged and audited).
const MAX_FAILURES_REPORTED: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub rules: RuleConfig,
    /// `RECONCILE_CONCURRENCY` (default 4).
    pub concurrency: usize,
    /// `RECONCILE_PAGE_SIZE` (default 50, at most 100).
    pub page_size: u32,
    /// `JOB_DEADLINE_MARGIN_SECONDS` (default 10).
    pub deadline_margin: Duration,
    pub metrics_namespace: String,
}

impl Config {
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        let r = Reader(source);
        Ok(Config {
            rules: RuleConfig::from_source(source)?,
            concurrency: r.positive("RECONCILE_CONCURRENCY", 4)?,
            page_size: r.positive("RECONCILE_PAGE_SIZE", 50)?.min(100) as u32,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskInput {
    invoice_id: String,
    #[serde(default)]
    execution_name: Option<String>,
}

/// One binary, two triggers: an EventBridge event (or a bare `{"dry_run": ..}`) runs the job,
/// an object with `invoice_id` is the workflow task.
pub async fn handle(
    services: &Services,
    config: &Config,
    input: Value,
    deadline: Deadline,
) -> Result<Value, FunctionError> {
    if !is_eventbridge_event(&input) && input.get("invoice_id").is_some() {
        let task: TaskInput = serde_json::from_value(input)
            .map_err(|e| FunctionError::from_serde("reconcile task input", e))?;
        reconcile_task(services, config, task).await
    } else {
        let trigger = JobTrigger::from_event(&input)?;
        let stats = run_job(services, config, &trigger, deadline).await?;
        serde_json::to_value(&stats)
            .map_err(|e| FunctionError::Internal(format!("cannot serialize statistics: {e}")))
    }
}

/// The facts a match needs: the PO, its receipts, and the other invoices billed on it.
async fn match_report(
    services: &Services,
    config: &Config,
    invoice: &Invoice,
) -> Result<MatchReport, FunctionError> {
    let po = services
        .store
        .get_purchase_order(&invoice.po_id)
        .await?
        .ok_or_else(|| FunctionError::PurchaseOrderNotFound(invoice.po_id.clone()))?;
    let receipts = services.store.list_goods_receipts(&po.id).await?;
    let mut prior = Vec::new();
    let query = InvoiceQuery {
        po_id: Some(po.id.clone()),
        ..InvoiceQuery::default()
    };
    let mut page = PageRequest::first(100);
    loop {
        let p = services.store.list_invoices(&query, &page).await?;
        prior.extend(p.items);
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(match_invoice(
        invoice,
        &po,
        &receipts,
        &prior,
        &config.rules.matching,
    ))
}

fn is_reconciled(status: InvoiceStatus) -> bool {
    matches!(
        status,
        InvoiceStatus::Matched | InvoiceStatus::Rejected | InvoiceStatus::NeedsReview
    )
}

fn task_output(config: &Config, invoice: &Invoice, report: &Value, outcome: &str) -> Value {
    json!({
        "invoice_id": invoice.id,
        "outcome": outcome,
        "approval_required": config.rules.approval.needs_manual_approval(invoice),
        "total_amount": invoice.total_amount.to_string(),
        "currency": invoice.currency.code(),
        "report": report,
    })
}

/// The stored outcome of an already reconciled invoice (repeated delivery).
fn stored_outcome(config: &Config, invoice: &Invoice) -> Option<Value> {
    let report = invoice.match_report.as_ref()?;
    let outcome = match invoice.status {
        InvoiceStatus::Matched => MatchOutcome::Matched,
        InvoiceStatus::Rejected => MatchOutcome::Rejected,
        InvoiceStatus::NeedsReview => MatchOutcome::NeedsReview,
        _ => return None,
    };
    Some(task_output(config, invoice, report, outcome.as_str()))
}

async fn reconcile_task(
    services: &Services,
    config: &Config,
    task: TaskInput,
) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    telemetry::record_invoice(&span, &task.invoice_id);
    telemetry::record_execution(&span, task.execution_name.as_deref());
    async move {
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        let result = reconcile_one_task(
            services,
            config,
            &task.invoice_id,
            WORKFLOW_ACTOR,
            &mut metrics,
        )
        .await;
        metrics.emit(services.clock.now().timestamp_millis());
        match &result {
            Ok(out) => tracing::info!(outcome = %out["outcome"], "invoice reconciled"),
            Err(e) => {
                tracing::warn!(error_type = e.error_type(), error = %e, "reconciliation failed")
            }
        }
        result
    }
    .instrument(span.clone())
    .await
}

/// Reconciles one invoice on behalf of `actor` (e.g. the HTTP API's caller, who is then
/// named on the `RECONCILE` audit entry); same rules and output as the workflow task.
pub async fn reconcile_invoice(
    services: &Services,
    config: &Config,
    invoice_id: &str,
    actor: &str,
) -> Result<Value, FunctionError> {
    let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
    let result = reconcile_one_task(services, config, invoice_id, actor, &mut metrics).await;
    metrics.emit(services.clock.now().timestamp_millis());
    result
}

async fn reconcile_one_task(
    services: &Services,
    config: &Config,
    invoice_id: &str,
    actor: &str,
    metrics: &mut Metrics,
) -> Result<Value, FunctionError> {
    let invoice = services
        .store
        .get_invoice(invoice_id)
        .await?
        .ok_or_else(|| FunctionError::InvoiceNotFound(invoice_id.to_string()))?;
    if is_reconciled(invoice.status) {
        if let Some(out) = stored_outcome(config, &invoice) {
            tracing::info!(status = %invoice.status, "already reconciled: returning the stored outcome");
            return Ok(out);
        }
    }
    if !matches!(
        invoice.status,
        InvoiceStatus::Received | InvoiceStatus::Validated | InvoiceStatus::NeedsReview
    ) {
        return Err(FunctionError::InvalidTransition(format!(
            "invoice {} is {}; only received invoices are reconciled",
            invoice.id, invoice.status
        )));
    }
    let report = match_report(services, config, &invoice).await?;
    let now = services.clock.now();
    let (updated, audit) = reconcile(
        &invoice,
        &report,
        actor,
        ReconcileAction::Manual,
        services.ids.as_ref(),
        now,
    )?;
    let changes = ChangeSet::new()
        .write(Write::PutInvoice(
            updated.clone(),
            Expect::Version(invoice.version),
        ))
        .audit(audit);
    match services.store.commit(changes).await {
        Ok(()) => {}
        Err(StoreError::Conflict {
            reason: ConflictReason::VersionMismatch { .. },
            ..
        }) => {
            // Someone else reconciled it in between: their outcome stands.
            let current = services
                .store
                .get_invoice(invoice_id)
                .await?
                .ok_or_else(|| FunctionError::InvoiceNotFound(invoice_id.to_string()))?;
            return stored_outcome(config, &current).ok_or_else(|| {
                FunctionError::Transient(format!(
                    "invoice {invoice_id} changed during reconciliation; retry"
                ))
            });
        }
        Err(e) => return Err(e.into()),
    }
    count_outcome(metrics, report.outcome);
    let stored = updated.match_report.clone().unwrap_or(Value::Null);
    Ok(task_output(
        config,
        &updated,
        &stored,
        report.outcome.as_str(),
    ))
}

fn count_outcome(metrics: &mut Metrics, outcome: MatchOutcome) {
    metrics.count("InvoicesProcessed", 1);
    match outcome {
        MatchOutcome::Matched => metrics.count("InvoicesMatched", 1),
        MatchOutcome::Rejected => metrics.count("InvoicesRejected", 1),
        MatchOutcome::NeedsReview => metrics.count("InvoicesNeedsReview", 1),
    };
}

/// What a batch run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStats {
    pub processed: u64,
    pub matched: u64,
    pub rejected: u64,
    pub errors: u64,
    pub skipped: u64,
    pub needs_review: u64,
    pub dry_run: bool,
    /// False when the run stopped at its deadline (or on a failure) with work left.
    pub complete: bool,
    pub run_id: String,
    /// The first failures, `"<invoice id>: <message>"`.
    pub failures: Vec<String>,
}

impl JobStats {
    fn fail(&mut self, message: String) {
        self.errors += 1;
        if self.failures.len() < MAX_FAILURES_REPORTED {
            self.failures.push(message);
        }
    }
}

enum ItemOutcome {
    Decided(MatchOutcome),
    /// Another writer got there first.
    Conflict,
    /// Not started: the deadline had passed.
    NotStarted,
    Failed(String),
}

/// The scheduled batch run.
pub async fn run_job(
    services: &Services,
    config: &Config,
    trigger: &JobTrigger,
    deadline: Deadline,
) -> Result<JobStats, FunctionError> {
    let run_id = services.ids.new_id("job");
    let span = tracing::info_span!(
        "invocation",
        function = FUNCTION_NAME,
        run_id = %run_id,
        dry_run = trigger.dry_run,
        invoice_id = tracing::field::Empty,
        execution_name = tracing::field::Empty
    );
    async move {
        let mut stats = JobStats {
            dry_run: trigger.dry_run,
            run_id: run_id.clone(),
            ..JobStats::default()
        };
        tracing::info!(event_id = ?trigger.event_id, "reconciliation job started");
        let query = InvoiceQuery {
            status: Some(InvoiceStatus::Received),
            ..InvoiceQuery::default()
        };
        let mut page = PageRequest::first(config.page_size);
        let mut complete = true;
        loop {
            if deadline.expired() {
                complete = false;
                break;
            }
            let listed = match services.store.list_invoices(&query, &page).await {
                Ok(p) => p,
                Err(e @ StoreError::Misconfigured { .. }) => return Err(e.into()),
                Err(e) => {
                    tracing::error!(error = %e, "listing received invoices failed");
                    stats.fail(format!("listing received invoices: {e}"));
                    complete = false;
                    break;
                }
            };
            let run_id = run_id.as_str();
            let outcomes: Vec<(String, ItemOutcome)> = stream::iter(listed.items)
                .map(|invoice| {
                    let deadline = deadline.clone();
                    async move {
                        let id = invoice.id.clone();
                        if deadline.expired() {
                            return (id, ItemOutcome::NotStarted);
                        }
                        let span = telemetry::item_span(&id);
                        let outcome = reconcile_batch_item(
                            services,
                            config,
                            invoice,
                            run_id,
                            trigger.dry_run,
                        )
                        .instrument(span)
                        .await;
                        (id, outcome)
                    }
                })
                .buffer_unordered(config.concurrency)
                .collect()
                .await;
            for (id, outcome) in outcomes {
                match outcome {
                    ItemOutcome::Decided(o) => {
                        stats.processed += 1;
                        match o {
                            MatchOutcome::Matched => stats.matched += 1,
                            MatchOutcome::Rejected => stats.rejected += 1,
                            MatchOutcome::NeedsReview => stats.needs_review += 1,
                        }
                    }
                    ItemOutcome::Conflict => stats.skipped += 1,
                    ItemOutcome::NotStarted => {
                        stats.skipped += 1;
                        complete = false;
                    }
                    ItemOutcome::Failed(message) => {
                        stats.processed += 1;
                        stats.fail(format!("{id}: {message}"));
                    }
                }
            }
            match listed.next_cursor {
                Some(c) if complete => page.cursor = Some(c),
                _ => break,
            }
        }
        stats.complete = complete;
        if !trigger.dry_run {
            let audit = AuditEntry::new(
                services.ids.as_ref(),
                AuditType::InvoiceAction,
                action::JOB_COMPLETE,
                entity::JOB,
                &run_id,
                RECONCILIATION_JOB_ACTOR,
                services.clock.now(),
                json!({ "statistics": stats, "event_id": trigger.event_id }),
            );
            if let Err(e) = services.store.commit(ChangeSet::new().audit(audit)).await {
                tracing::error!(error = %e, "could not audit the job's completion");
            }
        }
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        metrics
            .count("InvoicesProcessed", stats.processed)
            .count("InvoicesMatched", stats.matched)
            .count("InvoicesRejected", stats.rejected)
            .count("InvoicesNeedsReview", stats.needs_review)
            .count("ReconcileErrors", stats.errors)
            .count("ReconcileSkipped", stats.skipped)
            .property("run_id", run_id.clone())
            .property("dry_run", trigger.dry_run);
        metrics.emit(services.clock.now().timestamp_millis());
        tracing::info!(
            processed = stats.processed,
            matched = stats.matched,
            rejected = stats.rejected,
            needs_review = stats.needs_review,
            errors = stats.errors,
            skipped = stats.skipped,
            complete = stats.complete,
            "reconciliation job finished"
        );
        Ok(stats)
    }
    .instrument(span)
    .await
}

async fn reconcile_batch_item(
    services: &Services,
    config: &Config,
    invoice: Invoice,
    run_id: &str,
    dry_run: bool,
) -> ItemOutcome {
    let report = match match_report(services, config, &invoice).await {
        Ok(r) => r,
        Err(e) => return failed(services, &invoice, run_id, dry_run, &e).await,
    };
    if dry_run {
        tracing::info!(outcome = %report.outcome, discrepancies = report.discrepancies.len(), "dry run: would reconcile");
        return ItemOutcome::Decided(report.outcome);
    }
    let (updated, audit) = match reconcile(
        &invoice,
        &report,
        RECONCILIATION_JOB_ACTOR,
        ReconcileAction::Batch,
        services.ids.as_ref(),
        services.clock.now(),
    ) {
        Ok(r) => r,
        Err(e) => return failed(services, &invoice, run_id, dry_run, &e.into()).await,
    };
    let changes = ChangeSet::new()
        .write(Write::PutInvoice(updated, Expect::Version(invoice.version)))
        .audit(audit);
    match services.store.commit(changes).await {
        Ok(()) => {
            tracing::info!(outcome = %report.outcome, "reconciled");
            ItemOutcome::Decided(report.outcome)
        }
        Err(StoreError::Conflict {
            reason: ConflictReason::VersionMismatch { .. },
            ..
        }) => {
            tracing::info!("changed by someone else meanwhile: skipped");
            ItemOutcome::Conflict
        }
        Err(e) => failed(services, &invoice, run_id, dry_run, &e.into()).await,
    }
}

async fn failed(
    services: &Services,
    invoice: &Invoice,
    run_id: &str,
    dry_run: bool,
    error: &FunctionError,
) -> ItemOutcome {
    tracing::warn!(error_type = error.error_type(), error = %error, "reconciliation failed");
    if !dry_run {
        let audit = AuditEntry::new(
            services.ids.as_ref(),
            AuditType::InvoiceAction,
            action::RECONCILE_ERROR,
            entity::INVOICE,
            &invoice.id,
            RECONCILIATION_JOB_ACTOR,
            services.clock.now(),
            json!({
                "po_id": invoice.po_id,
                "invoice_number": invoice.invoice_number,
                "error_type": error.error_type(),
                "error": error.to_string(),
                "run_id": run_id,
                "processed_by": RECONCILIATION_JOB_ACTOR,
            }),
        );
        if let Err(e) = services.store.commit(ChangeSet::new().audit(audit)).await {
            tracing::error!(error = %e, "could not audit the failure");
        }
    }
    ItemOutcome::Failed(error.to_string())
}
