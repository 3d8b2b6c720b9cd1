//! `textract-processor`: an uploaded invoice document becomes a checked invoice draft, a
//! stored invoice and (when nothing needs a human) one invoice workflow execution.
//!
//! Input: an S3 event notification (`Records[]`) or an EventBridge `Object Created` event
//! (see [`event`]). Output: `{"documents": [<DocumentOutcome>...]}`, one per created object.
//!
//! Per document:
//! 1. HeadObject; oversize is rejected before download. Then [`check_document`] (type by
//!    magic bytes and extension, empty, encrypted or truncated PDF, executables).
//! 2. AnalyzeExpense through the [`DocumentAnalyzer`] port; AnalyzeDocument (FORMS, TABLES)
//!    when the expense draft has nothing useful.
//! 3. [`review`] with the configured thresholds, vendor and PO resolved by tax id / name /
//!    PO number, and the canonical submission validated as the workflow will.
//! 4. Outcomes:
//!    - `rejected`: the raw object is tagged with the reason, a notification is sent and an
//!      audit entry written; nothing else (no processed objects, invoice or workflow).
//!    - `needs_review`: `processed/{document_id}/textract.json` and `extracted.json`, the
//!      invoice with status `needs_review` and its extraction metadata when vendor, PO and
//!      the fields are there (otherwise the reasons go to an audit entry on the document),
//!      a notification, the raw object tagged. No workflow: it is never approved
//!      automatically; a reviewer sends it on.
//!    - `submitted`: the processed objects, the invoice (`received`, source `textract`,
//!      extraction metadata) with its audit entry in one commit, then the workflow started
//!      with the execution name derived from the document. `process-invoice` derives the
//!      same invoice id from that name and finds the stored invoice.
//!
//! Idempotency: the document id (and so the execution name and invoice id) derives from
//! bucket, key and version id (or the content's SHA-256 without versioning). Writes are
//! ordered so that a retry finishes the job: objects are overwritten with the same content,
//! the invoice create finds its own invoice, and a workflow that already exists is success.
//! Nothing is written for a document until its analysis and decision are complete.

pub mod event;
pub mod resolve;

use std::collections::BTreeMap;
use std::sync::Arc;

use p2p_adapters::analyzer::{AnalysisOutput, AnalysisRequest, AnalyzerError, DocumentAnalyzer};
use p2p_adapters::{
    ChangeSet, ConflictReason, Expect, Notification, ObjectMeta, Services, StartOutcome,
    StoreError, Write,
};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::{derived_id, prefix};
use p2p_core::extraction::{
    check_document, draft_from_document, draft_from_expense, draft_from_text, estimate_pdf_pages,
    review, to_submission, DocumentPolicy, DocumentRejection, DocumentResponse, ExpenseJobError,
    ExpenseResponse, InvoiceDraft, ReviewDecision, ReviewPolicy,
};
use p2p_core::invoice::{Invoice, InvoiceSource, InvoiceStatus};
use p2p_core::validation::{build_invoice, validate, SubmissionDocument, ValidationPolicy};
use p2p_core::FieldError;
use p2p_function_support::config::{ConfigSource, Reader, RuleConfig};
use p2p_function_support::telemetry;
use p2p_function_support::{ConfigError, FunctionError, Metrics};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tracing::Instrument;

pub use event::{parse_event, ObjectCreated};

pub const FUNCTION_NAME: &str = "textract-processor";
/// Who submits extracted invoices (segregation of duties: never an approver).
pub const ACTOR: &str = "system:textract-processor";
/// Id prefix of documents (and of the workflow executions they start).
pub const DOCUMENT_PREFIX: &str = "doc";

/// Environment variables of this function (besides the tables, buckets, topic and state
/// machine of `p2p_adapters::schema` and the rule variables of [`RuleConfig`]).
pub mod var {
    /// Largest accepted upload in bytes (default 10 MiB, Textract's synchronous limit).
    pub const MAX_DOCUMENT_BYTES: &str = "MAX_DOCUMENT_BYTES";
    /// Every extracted field must reach this confidence (0..=100, default 70).
    pub const MIN_FIELD_CONFIDENCE: &str = "MIN_FIELD_CONFIDENCE";
    /// The mean field confidence must reach this (default 85).
    pub const MIN_AVERAGE_CONFIDENCE: &str = "MIN_AVERAGE_CONFIDENCE";
    /// How long to wait for an asynchronous Textract job (seconds, default 240).
    pub const TEXTRACT_MAX_WAIT_SECONDS: &str = "TEXTRACT_MAX_WAIT_SECONDS";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub document: DocumentPolicy,
    pub review: ReviewPolicy,
    pub rules: RuleConfig,
    pub textract_max_wait: std::time::Duration,
    pub metrics_namespace: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            document: DocumentPolicy::default(),
            review: ReviewPolicy::default(),
            rules: RuleConfig::default(),
            textract_max_wait: std::time::Duration::from_secs(240),
            metrics_namespace: p2p_function_support::metrics::DEFAULT_NAMESPACE.into(),
        }
    }
}

impl Config {
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        let r = Reader(source);
        let d = Config::default();
        let review = ReviewPolicy {
            field_min_confidence: r
                .decimal(var::MIN_FIELD_CONFIDENCE, d.review.field_min_confidence)?,
            average_min_confidence: r
                .decimal(var::MIN_AVERAGE_CONFIDENCE, d.review.average_min_confidence)?,
            ..d.review
        };
        Ok(Config {
            document: DocumentPolicy {
                max_bytes: r.parsed(var::MAX_DOCUMENT_BYTES, d.document.max_bytes)?,
            },
            review,
            rules: RuleConfig::from_source(source)?,
            textract_max_wait: r.seconds(var::TEXTRACT_MAX_WAIT_SECONDS, 240)?,
            metrics_namespace: source
                .var(p2p_function_support::config::var::METRICS_NAMESPACE)
                .unwrap_or(d.metrics_namespace),
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&p2p_function_support::ProcessEnv)
    }
}

/// What the handler works with.
#[derive(Clone)]
pub struct Deps {
    pub services: Services,
    pub analyzer: Arc<dyn DocumentAnalyzer>,
}

/// Why a document did not become a submitted invoice. `code` is stable (object tags,
/// notifications, audit details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

impl Reason {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Reason {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not analysed or not usable; tagged, notified, audited.
    Rejected,
    /// Stored for a human; no workflow.
    NeedsReview,
    /// Same vendor + invoice number as an invoice from another document or the API.
    Duplicate,
    /// Stored and the workflow started (or found already started).
    Submitted,
    /// The object is gone (deleted before we got to it).
    Gone,
}

/// The result for one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentOutcome {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub document_id: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    /// Whether this delivery started the execution (false: it already existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_started: Option<bool>,
}

/// Handles one event: every created object in it. The first error (after trying every
/// object) fails the invocation, so Lambda retries; finished objects are no-ops then.
pub async fn handle(deps: &Deps, config: &Config, event: Value) -> Result<Value, FunctionError> {
    let span = telemetry::invocation_span(FUNCTION_NAME);
    let objects = parse_event(&event)?;
    async move {
        let mut metrics = Metrics::new(&config.metrics_namespace, FUNCTION_NAME);
        let mut outcomes = Vec::new();
        let mut first_error = None;
        for object in objects {
            match process_document(deps, config, &object).await {
                Ok(o) => {
                    metrics.count(
                        match o.outcome {
                            Outcome::Rejected => "DocumentsRejected",
                            Outcome::NeedsReview => "DocumentsNeedReview",
                            Outcome::Duplicate => "DocumentsDuplicate",
                            Outcome::Submitted => "DocumentsSubmitted",
                            Outcome::Gone => "DocumentsGone",
                        },
                        1,
                    );
                    tracing::info!(key = %o.key, document_id = %o.document_id, outcome = ?o.outcome, "document processed");
                    outcomes.push(o);
                }
                Err(e) => {
                    metrics.count("DocumentErrors", 1);
                    tracing::warn!(key = %object.key, error_type = e.error_type(), error = %e, "document not processed");
                    first_error.get_or_insert(e);
                }
            }
        }
        metrics.emit(deps.services.clock.now().timestamp_millis());
        match first_error {
            Some(e) => Err(e),
            None => Ok(json!({ "documents": outcomes })),
        }
    }
    .instrument(span.clone())
    .await
}

/// The document's identity: bucket, key and version id, or the content hash when the bucket
/// is not versioned. The execution name and the invoice id derive from it.
pub fn document_id(bucket: &str, key: &str, version_or_hash: &str) -> String {
    derived_id(DOCUMENT_PREFIX, &[bucket, key, version_or_hash])
}

/// The invoice id `process-invoice` derives from the execution name.
pub fn invoice_id_for_execution(execution_name: &str) -> String {
    derived_id(prefix::INVOICE, &["execution", execution_name])
}

pub fn processed_key(document_id: &str, file: &str) -> String {
    format!("processed/{document_id}/{file}")
}

fn analyzer_error(e: AnalyzerError) -> FunctionError {
    if e.is_retryable() {
        FunctionError::Transient(e.to_string())
    } else {
        match e {
            AnalyzerError::Misconfigured { .. } => FunctionError::Misconfigured(e.to_string()),
            other => FunctionError::Internal(other.to_string()),
        }
    }
}

/// The normalised result of the analyses, with what was analysed (stored as textract.json).
struct Extraction {
    draft: InvoiceDraft,
    raw: Vec<Value>,
}

/// `Err(Ok(reason))`: the document is the problem (reject); `Err(Err(e))`: fail the call.
type AnalysisResult = Result<Extraction, Result<Reason, FunctionError>>;

fn reject_for(e: AnalyzerError) -> Result<Reason, FunctionError> {
    if e.is_document_problem() {
        Ok(Reason::new(e.code(), e.to_string()))
    } else {
        Err(analyzer_error(e))
    }
}

fn draft_of(output: &AnalysisOutput) -> Result<InvoiceDraft, Result<Reason, FunctionError>> {
    match output {
        AnalysisOutput::Expense { responses, .. } => {
            let pages = responses
                .iter()
                .map(|r| serde_json::from_value::<ExpenseResponse>(r.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    Err(FunctionError::Internal(format!(
                        "AnalyzeExpense response: {e}"
                    )))
                })?;
            draft_from_expense(&pages).map_err(|e| match e {
                ExpenseJobError::InProgress => Err(FunctionError::Transient(e.to_string())),
                ExpenseJobError::Failed { .. } => {
                    Ok(Reason::new("textract_job_failed", e.to_string()))
                }
                ExpenseJobError::NoResponse => Err(FunctionError::Internal(e.to_string())),
            })
        }
        AnalysisOutput::Document { responses, .. } => {
            let pages = responses
                .iter()
                .map(|r| serde_json::from_value::<DocumentResponse>(r.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    Err(FunctionError::Internal(format!(
                        "AnalyzeDocument response: {e}"
                    )))
                })?;
            if let Some(failed) = pages
                .iter()
                .find(|p| p.job_status == Some(p2p_core::extraction::JobStatus::Failed))
            {
                return Err(Ok(Reason::new(
                    "textract_job_failed",
                    format!(
                        "document analysis failed: {}",
                        failed
                            .status_message
                            .as_deref()
                            .unwrap_or("no status message")
                    ),
                )));
            }
            Ok(draft_from_document(&pages))
        }
        AnalysisOutput::TextLayer { text } => Ok(draft_from_text(text)),
    }
}

/// Expense analysis, then the document analysis when the expense draft is not useful.
async fn analyze(analyzer: &dyn DocumentAnalyzer, request: &AnalysisRequest) -> AnalysisResult {
    let expense = analyzer
        .analyze_expense(request)
        .await
        .map_err(reject_for)?;
    let mut draft = draft_of(&expense)?;
    let mut raw = vec![expense.to_json()];
    if !draft.is_useful() && !matches!(expense, AnalysisOutput::TextLayer { .. }) {
        match analyzer.analyze_document(request).await {
            Ok(document) => {
                let mut fallback = draft_of(&document)?;
                raw.push(document.to_json());
                fallback.fill_missing_from(&draft);
                draft = fallback;
            }
            // Offline there is no AnalyzeDocument: the expense draft is all there is.
            Err(AnalyzerError::NeedsTextract { .. }) => {}
            Err(e) => return Err(reject_for(e)),
        }
    }
    if !draft.is_useful() {
        return Err(Ok(Reason::new(
            "no_invoice_content",
            "no invoice number, amount or line item was found in the document (no readable text?)",
        )));
    }
    Ok(Extraction { draft, raw })
}

/// Processes one created object (see the crate docs).
pub async fn process_document(
    deps: &Deps,
    config: &Config,
    object: &ObjectCreated,
) -> Result<DocumentOutcome, FunctionError> {
    let services = &deps.services;
    let Some(head) = services
        .objects
        .head_object(&object.bucket, &object.key)
        .await?
    else {
        tracing::info!(key = %object.key, "the object no longer exists: nothing to do");
        return Ok(outcome(
            object,
            None,
            document_id(&object.bucket, &object.key, "gone"),
            Outcome::Gone,
        ));
    };
    let version_id = object.version_id.clone().or(head.version_id.clone());

    if head.size > config.document.max_bytes {
        let id = document_id(
            &object.bucket,
            &object.key,
            version_id
                .as_deref()
                .unwrap_or(&format!("size:{}", head.size)),
        );
        let rejection = DocumentRejection::TooLarge {
            file_name: object.key.clone(),
            size: head.size,
            max_bytes: config.document.max_bytes,
        };
        let reason = Reason::new(rejection.code(), rejection.to_string());
        return reject(deps, object, version_id, id, reason).await;
    }

    let stored = services
        .objects
        .get_object(&object.bucket, &object.key)
        .await?;
    let content = stored.body;
    let identity = match &version_id {
        Some(v) => v.clone(),
        None => format!("sha256:{}", hex::encode(Sha256::digest(&content))),
    };
    let doc_id = document_id(&object.bucket, &object.key, &identity);
    let span = tracing::info_span!("document", document_id = %doc_id, key = %object.key);

    async move {
        let kind = match check_document(
            &object.key,
            content.len() as u64,
            &content,
            &config.document,
        ) {
            Ok(kind) => kind,
            Err(rejection) => {
                let reason = Reason::new(rejection.code(), rejection.to_string());
                return reject(deps, object, version_id, doc_id, reason).await;
            }
        };
        let pages = if kind == p2p_core::extraction::DocumentKind::Pdf {
            estimate_pdf_pages(&content)
        } else {
            Some(1)
        };
        let request = AnalysisRequest {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            version_id: version_id.clone(),
            kind,
            pages,
            document_id: doc_id.clone(),
            content,
        };
        let extraction = match analyze(deps.analyzer.as_ref(), &request).await {
            Ok(x) => x,
            Err(Ok(reason)) => return reject(deps, object, version_id, doc_id, reason).await,
            Err(Err(e)) => return Err(e),
        };
        decide_and_store(deps, config, object, version_id, doc_id, extraction).await
    }
    .instrument(span)
    .await
}

fn outcome(
    object: &ObjectCreated,
    version_id: Option<String>,
    document_id: String,
    outcome: Outcome,
) -> DocumentOutcome {
    DocumentOutcome {
        bucket: object.bucket.clone(),
        key: object.key.clone(),
        version_id,
        document_id,
        outcome,
        reasons: Vec::new(),
        invoice_id: None,
        execution_name: None,
        execution_arn: None,
        workflow_started: None,
    }
}

/// Adds ours to the object's tags (S3 allows 10; ours are 3 and replace earlier ones).
async fn tag_object(
    services: &Services,
    object: &ObjectCreated,
    tags: &[(&str, &str)],
) -> Result<(), FunctionError> {
    let mut current: BTreeMap<String, String> = match services
        .objects
        .get_object_tags(&object.bucket, &object.key)
        .await
    {
        Ok(t) => t,
        // Deleted meanwhile: there is nothing left to tag.
        Err(StoreError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for (k, v) in tags {
        current.insert((*k).to_string(), tag_value(v));
    }
    match services
        .objects
        .put_object_tags(&object.bucket, &object.key, &current)
        .await
    {
        Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// S3 tag values: at most 256 of letters, digits, spaces and `+ - = . _ : / @`.
fn tag_value(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c.is_alphanumeric() || " +-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

const TAG_STATUS: &str = "p2p-status";
const TAG_REASON: &str = "p2p-reason";
const TAG_DOCUMENT: &str = "p2p-document-id";

/// Tags the object, audits and notifies a rejected document; nothing else is written.
async fn reject(
    deps: &Deps,
    object: &ObjectCreated,
    version_id: Option<String>,
    doc_id: String,
    reason: Reason,
) -> Result<DocumentOutcome, FunctionError> {
    let services = &deps.services;
    tracing::info!(code = %reason.code, reason = %reason.message, "document rejected");
    tag_object(
        services,
        object,
        &[
            (TAG_STATUS, "rejected"),
            (TAG_REASON, &reason.code),
            (TAG_DOCUMENT, &doc_id),
        ],
    )
    .await?;
    let details = json!({
        "bucket": object.bucket,
        "key": object.key,
        "version_id": version_id,
        "reason": reason,
    });
    audit_document(
        services,
        &doc_id,
        action::DOCUMENT_REJECTED,
        details.clone(),
    )
    .await?;
    services
        .notifier
        .notify(&Notification {
            subject: truncate_subject(&format!("Document rejected: {}", object.key)),
            message: json!({
                "event_type": "document_rejected",
                "document_id": doc_id,
                "bucket": object.bucket,
                "key": object.key,
                "reason": reason,
            })
            .to_string(),
            attributes: BTreeMap::from([
                ("event_type".to_string(), "document_rejected".to_string()),
                ("document_id".to_string(), doc_id.clone()),
                ("reason".to_string(), reason.code.clone()),
            ]),
        })
        .await?;
    let mut out = outcome(object, version_id, doc_id, Outcome::Rejected);
    out.reasons = vec![reason];
    Ok(out)
}

/// SNS subjects: at most 100 characters.
fn truncate_subject(s: &str) -> String {
    s.chars().take(100).collect()
}

/// One audit entry on the document's trail. Its id derives from the document and action,
/// so a retried invocation does not record it twice.
async fn audit_document(
    services: &Services,
    doc_id: &str,
    action_name: &str,
    details: Value,
) -> Result<(), FunctionError> {
    let mut entry = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::DocumentAction,
        action_name,
        entity::DOCUMENT,
        doc_id,
        ACTOR,
        services.clock.now(),
        details,
    );
    entry.id = derived_id(prefix::AUDIT, &[doc_id, action_name]);
    match services.store.commit(ChangeSet::new().audit(entry)).await {
        Ok(())
        | Err(StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The review reasons as stable codes and sentences.
fn review_reasons(decision: &ReviewDecision) -> Vec<Reason> {
    decision
        .reasons
        .iter()
        .map(|r| Reason::new(r.code(), r.message()))
        .collect()
}

async fn decide_and_store(
    deps: &Deps,
    config: &Config,
    object: &ObjectCreated,
    version_id: Option<String>,
    doc_id: String,
    extraction: Extraction,
) -> Result<DocumentOutcome, FunctionError> {
    let services = &deps.services;
    let draft = &extraction.draft;
    let decision = review(draft, &config.review);
    let mut reasons = review_reasons(&decision);

    let found = resolve::resolve(services, draft).await?;
    if let Some((by_name, by_po)) = &found.vendor_conflict {
        reasons.push(Reason::new(
            "vendor_mismatch",
            format!("the document's vendor is {by_name} but its purchase order belongs to {by_po}"),
        ));
    }
    if found.vendor.is_none() {
        let named = [
            draft
                .vendor_name
                .as_ref()
                .map(|f| format!("name `{}`", f.value)),
            draft
                .vendor_tax_id
                .as_ref()
                .map(|f| format!("tax id `{}`", f.value)),
            draft
                .po_number
                .as_ref()
                .map(|f| format!("PO `{}`", f.value)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        reasons.push(Reason::new(
            "vendor_not_found",
            if named.is_empty() {
                "no vendor could be identified".to_string()
            } else {
                format!("no registered vendor matches {}", named.join(", "))
            },
        ));
    }
    if found.purchase_order.is_none() {
        reasons.push(Reason::new(
            "purchase_order_not_found",
            match &draft.po_number {
                Some(f) => format!("no purchase order numbered `{}`", f.value),
                None => "the document names no purchase order number".to_string(),
            },
        ));
    }

    let vendor_id = found
        .vendor
        .as_ref()
        .map(|v| v.id.clone())
        .unwrap_or_default();
    let po_id = found.purchase_order.as_ref().map(|p| p.id.clone());
    let submission = to_submission(draft, &vendor_id, po_id.as_deref());
    let execution_name = doc_id.clone();
    let invoice_id = invoice_id_for_execution(&execution_name);

    // The invoice as the workflow will see it: validated with the workflow's rules.
    let mut invoice = None;
    if found.vendor.is_some() && found.purchase_order.is_some() {
        let parsed = serde_json::to_value(&submission)
            .map_err(|e| FunctionError::Internal(format!("submission JSON: {e}")))
            .and_then(|v| {
                SubmissionDocument::from_json(&v)
                    .map_err(|e| FunctionError::Internal(e.to_string()))
            })?;
        let terms = found.vendor.as_ref().map(|v| &v.payment_terms);
        let today = services.clock.today();
        let policy = ValidationPolicy {
            require_po: true,
            ..config.rules.validation.clone()
        };
        let full = validate(&parsed, &policy, today, terms);
        reasons.extend(full.errors.iter().map(validation_reason));
        // Structurally complete: it can be stored, for review if nothing else.
        let structural = validate(&parsed, &ValidationPolicy::structural(), today, terms);
        if structural.valid {
            let mut built = build_invoice(
                &structural,
                invoice_id.clone(),
                ACTOR,
                services.clock.now(),
                InvoiceSource::Textract,
            )?;
            if !reasons.is_empty() {
                built.status = InvoiceStatus::NeedsReview;
            }
            invoice = Some(built);
        }
    }
    let needs_review = !reasons.is_empty();
    let mut metadata_decision = decision.clone();
    metadata_decision.needs_review = needs_review;
    let mut metadata =
        draft.extraction_metadata(&doc_id, &object.bucket, &object.key, &metadata_decision);
    metadata.review_reasons = reasons.iter().map(|r| r.message.clone()).collect();

    // 1. What was analysed and what came out of it (overwritten identically on a retry).
    let extracted = json!({
        "document_id": doc_id,
        "bucket": object.bucket,
        "key": object.key,
        "version_id": version_id,
        "status": if needs_review { "needs_review" } else { "ready_for_matching" },
        "reasons": reasons,
        "review": decision,
        "draft": draft,
        "submission": submission,
        "invoice_id": invoice.as_ref().map(|i| i.id.clone()),
    });
    put_json(
        services,
        &processed_key(&doc_id, "textract.json"),
        &json!({
            "document_id": doc_id,
            "analyses": extraction.raw,
        }),
    )
    .await?;
    put_json(
        services,
        &processed_key(&doc_id, "extracted.json"),
        &extracted,
    )
    .await?;

    // 2. The invoice and its audit entry, one commit.
    let mut out = outcome(
        object,
        version_id.clone(),
        doc_id.clone(),
        Outcome::Submitted,
    );
    if let Some(mut inv) = invoice {
        inv.extraction = Some(metadata.clone());
        match store_invoice(services, &inv, &doc_id, &execution_name, &reasons).await? {
            Stored::Ours => out.invoice_id = Some(inv.id.clone()),
            Stored::Duplicate { existing_id } => {
                let reason = Reason::new(
                    "duplicate_invoice",
                    format!(
                        "vendor {} already has invoice number `{}`{}",
                        inv.vendor_id,
                        inv.invoice_number,
                        existing_id
                            .as_deref()
                            .map(|i| format!(" ({i})"))
                            .unwrap_or_default()
                    ),
                );
                return finish_without_workflow(
                    deps,
                    object,
                    out,
                    Outcome::Duplicate,
                    vec![reason],
                )
                .await;
            }
        }
    } else {
        audit_document(
            services,
            &doc_id,
            action::DOCUMENT_EXTRACTED,
            json!({
                "bucket": object.bucket,
                "key": object.key,
                "version_id": version_id,
                "status": "needs_review",
                "reasons": reasons,
                "extracted_key": processed_key(&doc_id, "extracted.json"),
            }),
        )
        .await?;
    }

    if needs_review {
        return finish_without_workflow(deps, object, out, Outcome::NeedsReview, reasons).await;
    }

    // 3. The workflow, once per document.
    let mut input = serde_json::to_value(&submission)
        .map_err(|e| FunctionError::Internal(format!("submission JSON: {e}")))?;
    if let Some(obj) = input.as_object_mut() {
        obj.insert("submitted_by".into(), json!(ACTOR));
        // The workflow passes it to process-invoice, which records the invoice as read
        // from a document (not keyed in through the API).
        obj.insert("source".into(), json!("textract"));
    }
    let started = services
        .workflows
        .start_workflow(&execution_name, &input)
        .await?;
    let (arn, fresh) = match started {
        StartOutcome::Started { execution_arn } => (execution_arn, true),
        StartOutcome::AlreadyExists { execution_arn } => (execution_arn, false),
    };
    tracing::info!(execution_name = %execution_name, started = fresh, "invoice workflow");
    out.execution_name = Some(execution_name);
    out.execution_arn = Some(arn);
    out.workflow_started = Some(fresh);
    tag_object(
        services,
        object,
        &[(TAG_STATUS, "submitted"), (TAG_DOCUMENT, &doc_id)],
    )
    .await?;
    Ok(out)
}

fn validation_reason(e: &FieldError) -> Reason {
    Reason::new("invalid_invoice", e.to_string())
}

enum Stored {
    Ours,
    Duplicate { existing_id: Option<String> },
}

async fn store_invoice(
    services: &Services,
    invoice: &Invoice,
    doc_id: &str,
    execution_name: &str,
    reasons: &[Reason],
) -> Result<Stored, FunctionError> {
    let audit = AuditEntry::new(
        services.ids.as_ref(),
        AuditType::DocumentAction,
        action::DOCUMENT_EXTRACTED,
        entity::INVOICE,
        &invoice.id,
        ACTOR,
        services.clock.now(),
        json!({
            "document_id": doc_id,
            "bucket": invoice.extraction.as_ref().map(|m| m.bucket.clone()),
            "key": invoice.extraction.as_ref().map(|m| m.key.clone()),
            "status": invoice.status,
            "reasons": reasons,
            "execution_name": execution_name,
            "invoice_number": invoice.invoice_number,
            "vendor_id": invoice.vendor_id,
            "po_id": invoice.po_id,
            "total_amount": invoice.total_amount.to_string(),
            "currency": invoice.currency.code(),
        }),
    );
    let changes = ChangeSet::new()
        .write(Write::PutInvoice(invoice.clone(), Expect::Absent))
        .audit(audit);
    match services.store.commit(changes).await {
        Ok(()) => Ok(Stored::Ours),
        Err(StoreError::DuplicateInvoice { .. })
        | Err(StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }) => {
            // Our own invoice from an earlier delivery, or another document's.
            if services.store.get_invoice(&invoice.id).await?.is_some() {
                return Ok(Stored::Ours);
            }
            let existing = services
                .store
                .find_invoice_by_number(&invoice.vendor_id, &invoice.invoice_number)
                .await?;
            Ok(Stored::Duplicate {
                existing_id: existing.map(|e| e.id),
            })
        }
        Err(e) => Err(e.into()),
    }
}

async fn put_json(services: &Services, key: &str, value: &Value) -> Result<(), FunctionError> {
    let body = serde_json::to_vec_pretty(value)
        .map_err(|e| FunctionError::Internal(format!("{key}: {e}")))?;
    services
        .objects
        .put_object(
            &services.buckets.processed,
            key,
            body,
            &ObjectMeta {
                content_type: "application/json".into(),
                ..Default::default()
            },
        )
        .await?;
    Ok(())
}

/// Needs review or duplicate: audit (for duplicates), notify, tag. No workflow.
async fn finish_without_workflow(
    deps: &Deps,
    object: &ObjectCreated,
    mut out: DocumentOutcome,
    result: Outcome,
    reasons: Vec<Reason>,
) -> Result<DocumentOutcome, FunctionError> {
    let services = &deps.services;
    let (event_type, status) = match result {
        Outcome::Duplicate => ("document_duplicate", "duplicate"),
        _ => ("document_needs_review", "needs_review"),
    };
    if result == Outcome::Duplicate {
        audit_document(
            services,
            &out.document_id,
            action::DUPLICATE,
            json!({ "bucket": object.bucket, "key": object.key, "reasons": reasons }),
        )
        .await?;
    }
    let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
    let mut unique: Vec<&str> = Vec::new();
    for c in &codes {
        if !unique.contains(c) {
            unique.push(c);
        }
    }
    services
        .notifier
        .notify(&Notification {
            subject: truncate_subject(&format!(
                "Document {}: {}",
                status.replace('_', " "),
                object.key
            )),
            message: json!({
                "event_type": event_type,
                "document_id": out.document_id,
                "bucket": object.bucket,
                "key": object.key,
                "invoice_id": out.invoice_id,
                "reasons": reasons,
                "extracted_key": processed_key(&out.document_id, "extracted.json"),
            })
            .to_string(),
            attributes: BTreeMap::from([
                ("event_type".to_string(), event_type.to_string()),
                ("document_id".to_string(), out.document_id.clone()),
                ("reason".to_string(), unique.join(",")),
            ]),
        })
        .await?;
    tag_object(
        services,
        object,
        &[
            (TAG_STATUS, status),
            (TAG_REASON, codes.first().copied().unwrap_or("")),
            (TAG_DOCUMENT, &out.document_id.clone()),
        ],
    )
    .await?;
    out.outcome = result;
    out.reasons = reasons;
    Ok(out)
}

/// The draft and decision `p2p extract` prints (nothing stored).
pub fn extraction_report(draft: &InvoiceDraft, decision: &ReviewDecision) -> Value {
    json!({
        "status": decision.status,
        "needs_review": decision.needs_review,
        "reasons": review_reasons(decision),
        "average_confidence": decision.average_confidence.map(|d| d.to_string()),
        "draft": draft,
    })
}

/// Why [`extract_draft`] produced no draft.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExtractFailure {
    /// The document cannot give an invoice (the function would reject it).
    #[error("{}: {}", .0.code, .0.message)]
    Rejected(Reason),
    #[error(transparent)]
    Failed(#[from] FunctionError),
}

/// The function's analysis (expense, then the document fallback) without storing anything:
/// the draft `p2p extract` prints.
pub async fn extract_draft(
    analyzer: &dyn DocumentAnalyzer,
    request: &AnalysisRequest,
) -> Result<InvoiceDraft, ExtractFailure> {
    match analyze(analyzer, request).await {
        Ok(x) => Ok(x.draft),
        Err(Ok(reason)) => Err(ExtractFailure::Rejected(reason)),
        Err(Err(e)) => Err(ExtractFailure::Failed(e)),
    }
}

/// The S3 `ObjectCreated:Put` notification for one object, its key encoded as S3 does
/// (`+` for spaces, `%XX` otherwise): what the CLI hands the handler after an upload.
pub fn s3_event_for(bucket: &str, key: &str, version_id: Option<&str>, size: u64) -> Value {
    let encoded: String = key
        .split(' ')
        .map(|part| percent_encoding::utf8_percent_encode(part, KEY_ENCODE_SET).to_string())
        .collect::<Vec<_>>()
        .join("+");
    let mut object = json!({ "key": encoded, "size": size });
    if let Some(v) = version_id {
        object["versionId"] = json!(v);
    }
    json!({ "Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": { "s3SchemaVersion": "1.0", "bucket": { "name": bucket }, "object": object }
    }]})
}

/// What S3 percent-encodes in event keys: everything but unreserved characters and `/`.
const KEY_ENCODE_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Normalises an analysis output (the same rules as the function) for `p2p extract`.
pub fn draft_from_output(output: &AnalysisOutput) -> Result<InvoiceDraft, String> {
    draft_of(output).map_err(|e| match e {
        Ok(reason) => format!("{}: {}", reason.code, reason.message),
        Err(err) => err.to_string(),
    })
}
