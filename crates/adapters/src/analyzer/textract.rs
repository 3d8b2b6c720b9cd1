//! Textract behind the [`DocumentAnalyzer`] port.
//!
//! [`TextractAnalyzer`] holds the orchestration (sync or async, polling, pagination,
//! throttling retries) over a narrow [`TextractApi`]; [`SdkTextractApi`] is that API over
//! `aws-sdk-textract`, converting the SDK's typed output back to Textract's JSON. Tests drive
//! the orchestration with recorded real responses through a fake `TextractApi`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_textract::types::{
    Block, Document, DocumentLocation, DocumentMetadata, ExpenseDetection, ExpenseDocument,
    ExpenseField, FeatureType, S3Object, Warning,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{json, Map, Value};

use super::retry::{RetryPolicy, Sleeper, TokioSleeper};
use super::{AnalysisOperation, AnalysisOutput, AnalysisRequest, AnalyzerError, DocumentAnalyzer};

/// Which asynchronous Textract job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// StartExpenseAnalysis / GetExpenseAnalysis.
    Expense,
    /// StartDocumentAnalysis / GetDocumentAnalysis (FORMS, TABLES).
    Document,
}

impl JobKind {
    fn start_operation(self) -> &'static str {
        match self {
            JobKind::Expense => "StartExpenseAnalysis",
            JobKind::Document => "StartDocumentAnalysis",
        }
    }
    fn get_operation(self) -> &'static str {
        match self {
            JobKind::Expense => "GetExpenseAnalysis",
            JobKind::Document => "GetDocumentAnalysis",
        }
    }
}

/// How a Textract call failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// ProvisionedThroughputExceeded, Throttling, LimitExceeded: back off and retry.
    Throttled,
    /// InternalServerError, timeouts, connection failures: retry.
    Transient,
    /// UnsupportedDocument, BadDocument, DocumentTooLarge, InvalidS3Object: the document.
    BadDocument,
    /// AccessDenied, InvalidParameter, InvalidJobId, ...: the deployment or the code.
    Misconfigured,
}

/// A failed Textract call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_deref().unwrap_or("error"))]
pub struct ApiError {
    pub kind: ApiErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl ApiError {
    /// Classifies a Textract error code.
    pub fn from_code(code: Option<&str>, message: impl Into<String>) -> ApiError {
        let kind = match code {
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "LimitExceededException"
                | "Throttling"
                | "TooManyRequestsException",
            ) => ApiErrorKind::Throttled,
            Some("InternalServerError" | "ServiceUnavailable" | "ServiceUnavailableException") => {
                ApiErrorKind::Transient
            }
            Some(
                "UnsupportedDocumentException"
                | "BadDocumentException"
                | "DocumentTooLargeException"
                | "InvalidS3ObjectException",
            ) => ApiErrorKind::BadDocument,
            Some(_) => ApiErrorKind::Misconfigured,
            // No code: the request never got a service answer (timeout, dispatch failure).
            None => ApiErrorKind::Transient,
        };
        ApiError {
            kind,
            code: code.map(str::to_string),
            message: message.into(),
        }
    }
}

/// The Textract calls the analyzer makes, each returning the response as Textract's JSON.
#[async_trait]
pub trait TextractApi: Send + Sync {
    async fn analyze_expense(&self, request: &AnalysisRequest) -> Result<Value, ApiError>;
    async fn analyze_document(&self, request: &AnalysisRequest) -> Result<Value, ApiError>;
    /// Starts a job; `token` makes the start idempotent (same token, same job).
    async fn start_job(
        &self,
        kind: JobKind,
        request: &AnalysisRequest,
        token: &str,
    ) -> Result<String, ApiError>;
    async fn get_job(
        &self,
        kind: JobKind,
        job_id: &str,
        next_token: Option<&str>,
    ) -> Result<Value, ApiError>;
}

/// How long and how often to poll an asynchronous job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    pub initial: Duration,
    pub max_interval: Duration,
    /// Give up (retryably) after waiting this long in all.
    pub max_wait: Duration,
}

impl Default for PollPolicy {
    /// 1 s doubling to 10 s, up to 4 minutes (the function's timeout is 5 minutes).
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            max_wait: Duration::from_secs(240),
        }
    }
}

/// The result pages of one job can be many; stop following `NextToken` after this many.
const MAX_RESULT_PAGES: usize = 1000;

/// [`DocumentAnalyzer`] over Textract.
#[derive(Clone)]
pub struct TextractAnalyzer {
    api: Arc<dyn TextractApi>,
    retry: RetryPolicy,
    poll: PollPolicy,
    sleeper: Arc<dyn Sleeper>,
}

impl TextractAnalyzer {
    pub fn new(api: Arc<dyn TextractApi>) -> Self {
        TextractAnalyzer {
            api,
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            sleeper: Arc::new(TokioSleeper),
        }
    }

    /// Over a client built from the standard AWS configuration.
    pub fn from_sdk_config(config: &aws_types::SdkConfig) -> Self {
        Self::from_client(aws_sdk_textract::Client::new(config))
    }

    /// Over the SDK client.
    pub fn from_client(client: aws_sdk_textract::Client) -> Self {
        Self::new(Arc::new(SdkTextractApi::new(client)))
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Calls `call` until it succeeds, fails for good, or throttling outlasts the policy.
    async fn retrying<T, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, AnalyzerError>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: std::future::Future<Output = Result<T, ApiError>> + Send,
        T: Send,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let retryable =
                        matches!(e.kind, ApiErrorKind::Throttled | ApiErrorKind::Transient);
                    if !retryable || attempt >= self.retry.max_attempts {
                        return Err(to_analyzer_error(operation, attempt, e));
                    }
                    tracing::warn!(operation, attempt, error = %e, "Textract call failed, backing off");
                    self.sleeper.sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Starts a job, polls it until it leaves `IN_PROGRESS`, then follows `NextToken`.
    async fn run_job(
        &self,
        kind: JobKind,
        request: &AnalysisRequest,
    ) -> Result<Vec<Value>, AnalyzerError> {
        let token = client_request_token(kind, &request.document_id);
        let job_id = self
            .retrying(kind.start_operation(), || {
                self.api.start_job(kind, request, &token)
            })
            .await?;
        tracing::info!(job_id = %job_id, operation = kind.start_operation(), "Textract job started");
        let mut waited = Duration::ZERO;
        let mut interval = self.poll.initial;
        let first = loop {
            let page = self
                .retrying(kind.get_operation(), || {
                    self.api.get_job(kind, &job_id, None)
                })
                .await?;
            match page.get("JobStatus").and_then(Value::as_str) {
                Some("IN_PROGRESS") => {
                    if waited >= self.poll.max_wait {
                        return Err(AnalyzerError::JobTimedOut {
                            job_id,
                            waited_secs: waited.as_secs(),
                        });
                    }
                    self.sleeper.sleep(interval).await;
                    waited += interval;
                    interval = (interval * 2).min(self.poll.max_interval);
                }
                Some("FAILED") => {
                    return Err(AnalyzerError::JobFailed {
                        job_id,
                        message: page
                            .get("StatusMessage")
                            .and_then(Value::as_str)
                            .unwrap_or("no status message")
                            .to_string(),
                    })
                }
                Some("SUCCEEDED" | "PARTIAL_SUCCESS") => break page,
                other => {
                    return Err(AnalyzerError::InvalidResponse {
                        operation: kind.get_operation(),
                        message: format!("unexpected JobStatus {other:?}"),
                    })
                }
            }
        };
        let mut pages = vec![first];
        while let Some(next) = pages
            .last()
            .and_then(|p| p.get("NextToken"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
        {
            if pages.len() >= MAX_RESULT_PAGES {
                return Err(AnalyzerError::InvalidResponse {
                    operation: kind.get_operation(),
                    message: format!("more than {MAX_RESULT_PAGES} result pages"),
                });
            }
            let page = self
                .retrying(kind.get_operation(), || {
                    self.api.get_job(kind, &job_id, Some(&next))
                })
                .await?;
            pages.push(page);
        }
        Ok(pages)
    }
}

/// Textract's `ClientRequestToken`: 1..=64 of `[a-zA-Z0-9-_]`.
fn client_request_token(kind: JobKind, document_id: &str) -> String {
    let prefix = match kind {
        JobKind::Expense => "exp-",
        JobKind::Document => "doc-",
    };
    let clean: String = document_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let mut token = format!("{prefix}{clean}");
    token.truncate(64);
    token
}

fn to_analyzer_error(operation: &'static str, attempts: u32, e: ApiError) -> AnalyzerError {
    let message = e.to_string();
    match e.kind {
        ApiErrorKind::Throttled => AnalyzerError::Throttled {
            operation,
            attempts,
            message,
        },
        ApiErrorKind::Transient => AnalyzerError::Transient { operation, message },
        ApiErrorKind::BadDocument => AnalyzerError::BadDocument { operation, message },
        ApiErrorKind::Misconfigured => AnalyzerError::Misconfigured { operation, message },
    }
}

/// Synchronous analysis takes images and single-page documents only.
fn is_single_page(request: &AnalysisRequest) -> bool {
    !p2p_core::extraction::needs_async_analysis(request.kind, request.pages)
}

#[async_trait]
impl DocumentAnalyzer for TextractAnalyzer {
    async fn analyze_expense(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        if is_single_page(request) {
            let response = self
                .retrying("AnalyzeExpense", || self.api.analyze_expense(request))
                .await?;
            Ok(AnalysisOutput::Expense {
                operation: AnalysisOperation::AnalyzeExpense,
                responses: vec![response],
            })
        } else {
            Ok(AnalysisOutput::Expense {
                operation: AnalysisOperation::GetExpenseAnalysis,
                responses: self.run_job(JobKind::Expense, request).await?,
            })
        }
    }

    async fn analyze_document(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        if is_single_page(request) {
            let response = self
                .retrying("AnalyzeDocument", || self.api.analyze_document(request))
                .await?;
            Ok(AnalysisOutput::Document {
                operation: AnalysisOperation::AnalyzeDocument,
                responses: vec![response],
            })
        } else {
            Ok(AnalysisOutput::Document {
                operation: AnalysisOperation::GetDocumentAnalysis,
                responses: self.run_job(JobKind::Document, request).await?,
            })
        }
    }
}

/// [`TextractApi`] over `aws-sdk-textract`. Documents are read by Textract from S3 (the
/// function's role needs `s3:GetObject` on the raw bucket), so nothing is uploaded twice.
#[derive(Debug, Clone)]
pub struct SdkTextractApi {
    client: aws_sdk_textract::Client,
}

impl SdkTextractApi {
    pub fn new(client: aws_sdk_textract::Client) -> Self {
        SdkTextractApi { client }
    }
}

fn s3_object(request: &AnalysisRequest) -> S3Object {
    S3Object::builder()
        .bucket(&request.bucket)
        .name(&request.key)
        .set_version(request.version_id.clone())
        .build()
}

fn sdk_error<E, R>(err: aws_smithy_runtime_api::client::result::SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let code = err.code().map(str::to_string);
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| crate::aws::describe_error(&err));
    ApiError::from_code(code.as_deref(), message)
}

#[async_trait]
impl TextractApi for SdkTextractApi {
    async fn analyze_expense(&self, request: &AnalysisRequest) -> Result<Value, ApiError> {
        let out = self
            .client
            .analyze_expense()
            .document(Document::builder().s3_object(s3_object(request)).build())
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(expense_response_json(
            None,
            None,
            None,
            out.document_metadata(),
            out.expense_documents(),
            &[],
        ))
    }

    async fn analyze_document(&self, request: &AnalysisRequest) -> Result<Value, ApiError> {
        let out = self
            .client
            .analyze_document()
            .document(Document::builder().s3_object(s3_object(request)).build())
            .feature_types(FeatureType::Forms)
            .feature_types(FeatureType::Tables)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(document_response_json(
            None,
            None,
            None,
            out.document_metadata(),
            out.blocks(),
            &[],
        ))
    }

    async fn start_job(
        &self,
        kind: JobKind,
        request: &AnalysisRequest,
        token: &str,
    ) -> Result<String, ApiError> {
        let location = DocumentLocation::builder()
            .s3_object(s3_object(request))
            .build();
        let job_id = match kind {
            JobKind::Expense => self
                .client
                .start_expense_analysis()
                .document_location(location)
                .client_request_token(token)
                .send()
                .await
                .map_err(sdk_error)?
                .job_id
                .clone(),
            JobKind::Document => self
                .client
                .start_document_analysis()
                .document_location(location)
                .feature_types(FeatureType::Forms)
                .feature_types(FeatureType::Tables)
                .client_request_token(token)
                .send()
                .await
                .map_err(sdk_error)?
                .job_id
                .clone(),
        };
        job_id.ok_or_else(|| ApiError {
            kind: ApiErrorKind::Transient,
            code: None,
            message: format!("{} returned no JobId", kind.start_operation()),
        })
    }

    async fn get_job(
        &self,
        kind: JobKind,
        job_id: &str,
        next_token: Option<&str>,
    ) -> Result<Value, ApiError> {
        match kind {
            JobKind::Expense => {
                let out = self
                    .client
                    .get_expense_analysis()
                    .job_id(job_id)
                    .set_next_token(next_token.map(str::to_string))
                    .send()
                    .await
                    .map_err(sdk_error)?;
                Ok(expense_response_json(
                    out.job_status().map(|s| s.as_str()),
                    out.status_message(),
                    out.next_token(),
                    out.document_metadata(),
                    out.expense_documents(),
                    out.warnings(),
                ))
            }
            JobKind::Document => {
                let out = self
                    .client
                    .get_document_analysis()
                    .job_id(job_id)
                    .set_next_token(next_token.map(str::to_string))
                    .send()
                    .await
                    .map_err(sdk_error)?;
                Ok(document_response_json(
                    out.job_status().map(|s| s.as_str()),
                    out.status_message(),
                    out.next_token(),
                    out.document_metadata(),
                    out.blocks(),
                    out.warnings(),
                ))
            }
        }
    }
}

// ---- SDK types -> Textract JSON (the fields p2p_core::extraction reads, PascalCase) ----

/// A confidence as an exact JSON number: the SDK's `f32` printed as its shortest decimal
/// (what the f32 holds; never widened to f64 digits that Textract did not send).
fn confidence_json(c: f32) -> Option<Value> {
    if !c.is_finite() {
        return None;
    }
    serde_json::from_str(&c.to_string()).ok()
}

fn put<V: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<V>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v.into());
    }
}

fn detection_json(d: &ExpenseDetection) -> Value {
    let mut m = Map::new();
    put(&mut m, "Text", d.text());
    put(
        &mut m,
        "Confidence",
        d.confidence().and_then(confidence_json),
    );
    Value::Object(m)
}

fn field_json(f: &ExpenseField) -> Value {
    let mut m = Map::new();
    if let Some(t) = f.r#type() {
        let mut tm = Map::new();
        put(&mut tm, "Text", t.text());
        put(
            &mut tm,
            "Confidence",
            t.confidence().and_then(confidence_json),
        );
        m.insert("Type".into(), Value::Object(tm));
    }
    put(
        &mut m,
        "LabelDetection",
        f.label_detection().map(detection_json),
    );
    put(
        &mut m,
        "ValueDetection",
        f.value_detection().map(detection_json),
    );
    put(&mut m, "PageNumber", f.page_number());
    if let Some(c) = f.currency() {
        let mut cm = Map::new();
        put(&mut cm, "Code", c.code());
        put(
            &mut cm,
            "Confidence",
            c.confidence().and_then(confidence_json),
        );
        m.insert("Currency".into(), Value::Object(cm));
    }
    if !f.group_properties().is_empty() {
        let groups: Vec<Value> = f
            .group_properties()
            .iter()
            .map(|g| {
                let mut gm = Map::new();
                gm.insert("Types".into(), json!(g.types()));
                put(&mut gm, "Id", g.id());
                Value::Object(gm)
            })
            .collect();
        m.insert("GroupProperties".into(), Value::Array(groups));
    }
    Value::Object(m)
}

fn expense_document_json(d: &ExpenseDocument) -> Value {
    let mut m = Map::new();
    put(&mut m, "ExpenseIndex", d.expense_index());
    m.insert(
        "SummaryFields".into(),
        Value::Array(d.summary_fields().iter().map(field_json).collect()),
    );
    let groups: Vec<Value> = d
        .line_item_groups()
        .iter()
        .map(|g| {
            let items: Vec<Value> = g
                .line_items()
                .iter()
                .map(|i| {
                    json!({ "LineItemExpenseFields":
                        i.line_item_expense_fields().iter().map(field_json).collect::<Vec<_>>() })
                })
                .collect();
            let mut gm = Map::new();
            put(&mut gm, "LineItemGroupIndex", g.line_item_group_index());
            gm.insert("LineItems".into(), Value::Array(items));
            Value::Object(gm)
        })
        .collect();
    m.insert("LineItemGroups".into(), Value::Array(groups));
    Value::Object(m)
}

fn envelope(
    job_status: Option<&str>,
    status_message: Option<&str>,
    next_token: Option<&str>,
    metadata: Option<&DocumentMetadata>,
    warnings: &[Warning],
) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "JobStatus", job_status);
    put(&mut m, "StatusMessage", status_message);
    put(&mut m, "NextToken", next_token);
    if let Some(md) = metadata {
        let mut mm = Map::new();
        put(&mut mm, "Pages", md.pages());
        m.insert("DocumentMetadata".into(), Value::Object(mm));
    }
    if !warnings.is_empty() {
        let ws: Vec<Value> = warnings
            .iter()
            .map(|w| {
                let mut wm = Map::new();
                put(&mut wm, "ErrorCode", w.error_code());
                wm.insert("Pages".into(), json!(w.pages()));
                Value::Object(wm)
            })
            .collect();
        m.insert("Warnings".into(), Value::Array(ws));
    }
    m
}

/// An AnalyzeExpense / GetExpenseAnalysis response as Textract's JSON.
pub(crate) fn expense_response_json(
    job_status: Option<&str>,
    status_message: Option<&str>,
    next_token: Option<&str>,
    metadata: Option<&DocumentMetadata>,
    documents: &[ExpenseDocument],
    warnings: &[Warning],
) -> Value {
    let mut m = envelope(job_status, status_message, next_token, metadata, warnings);
    m.insert(
        "ExpenseDocuments".into(),
        Value::Array(documents.iter().map(expense_document_json).collect()),
    );
    Value::Object(m)
}

fn block_json(b: &Block) -> Value {
    let mut m = Map::new();
    put(&mut m, "BlockType", b.block_type().map(|t| t.as_str()));
    put(&mut m, "Id", b.id());
    put(&mut m, "Text", b.text());
    put(
        &mut m,
        "Confidence",
        b.confidence().and_then(confidence_json),
    );
    if !b.entity_types().is_empty() {
        let types: Vec<&str> = b.entity_types().iter().map(|e| e.as_str()).collect();
        m.insert("EntityTypes".into(), json!(types));
    }
    if !b.relationships().is_empty() {
        let rels: Vec<Value> = b
            .relationships()
            .iter()
            .map(|r| {
                let mut rm = Map::new();
                put(&mut rm, "Type", r.r#type().map(|t| t.as_str()));
                rm.insert("Ids".into(), json!(r.ids()));
                Value::Object(rm)
            })
            .collect();
        m.insert("Relationships".into(), Value::Array(rels));
    }
    put(&mut m, "RowIndex", b.row_index());
    put(&mut m, "ColumnIndex", b.column_index());
    put(&mut m, "RowSpan", b.row_span());
    put(&mut m, "ColumnSpan", b.column_span());
    put(&mut m, "Page", b.page());
    put(
        &mut m,
        "SelectionStatus",
        b.selection_status().map(|s| s.as_str()),
    );
    Value::Object(m)
}

/// An AnalyzeDocument / GetDocumentAnalysis response as Textract's JSON.
pub(crate) fn document_response_json(
    job_status: Option<&str>,
    status_message: Option<&str>,
    next_token: Option<&str>,
    metadata: Option<&DocumentMetadata>,
    blocks: &[Block],
    warnings: &[Warning],
) -> Value {
    let mut m = envelope(job_status, status_message, next_token, metadata, warnings);
    m.insert(
        "Blocks".into(),
        Value::Array(blocks.iter().map(block_json).collect()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_textract::types::{
        BlockType, EntityType, ExpenseCurrency, ExpenseType, LineItemFields, LineItemGroup,
        Relationship, RelationshipType,
    };
    use p2p_core::extraction::{
        draft_from_document, draft_from_expense, DocumentResponse, ExpenseResponse,
    };
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn field(kind: &str, label: Option<(&str, f32)>, value: (&str, f32)) -> ExpenseField {
        let mut b = ExpenseField::builder()
            .r#type(ExpenseType::builder().text(kind).confidence(99.0).build())
            .value_detection(
                ExpenseDetection::builder()
                    .text(value.0)
                    .confidence(value.1)
                    .build(),
            )
            .page_number(1);
        if let Some((text, c)) = label {
            b = b.label_detection(ExpenseDetection::builder().text(text).confidence(c).build());
        }
        b.build()
    }

    #[test]
    fn sdk_expense_output_becomes_json_core_reads() {
        let doc = ExpenseDocument::builder()
            .expense_index(1)
            .summary_fields(field(
                "INVOICE_RECEIPT_ID",
                Some(("Invoice #", 98.5)),
                ("INV-7", 97.25),
            ))
            .summary_fields(
                ExpenseField::builder()
                    .r#type(
                        ExpenseType::builder()
                            .text("TOTAL")
                            .confidence(99.0)
                            .build(),
                    )
                    .label_detection(
                        ExpenseDetection::builder()
                            .text("Total")
                            .confidence(99.1)
                            .build(),
                    )
                    .value_detection(
                        ExpenseDetection::builder()
                            .text("$1,210.00")
                            .confidence(96.6)
                            .build(),
                    )
                    .currency(
                        ExpenseCurrency::builder()
                            .code("USD")
                            .confidence(90.0)
                            .build(),
                    )
                    .page_number(1)
                    .build(),
            )
            .line_item_groups(
                LineItemGroup::builder()
                    .line_item_group_index(1)
                    .line_items(
                        LineItemFields::builder()
                            .line_item_expense_fields(field("ITEM", None, ("Widget", 95.0)))
                            .line_item_expense_fields(field("PRICE", None, ("1,210.00", 94.5)))
                            .build(),
                    )
                    .build(),
            )
            .build();
        let metadata = DocumentMetadata::builder().pages(1).build();
        let json = expense_response_json(None, None, None, Some(&metadata), &[doc], &[]);
        assert_eq!(
            json["ExpenseDocuments"][0]["SummaryFields"][0]["ValueDetection"]["Confidence"]
                .to_string(),
            "97.25"
        );

        let parsed = ExpenseResponse::from_slice(json.to_string().as_bytes()).unwrap();
        let draft = draft_from_expense(&[parsed]).unwrap();
        let number = draft.invoice_number.unwrap();
        assert_eq!(number.value, "INV-7");
        // The lower of label (98.5) and value (97.25).
        assert_eq!(number.confidence, Decimal::from_str("97.25").unwrap());
        assert_eq!(
            draft.total.unwrap().value,
            Decimal::from_str("1210.00").unwrap()
        );
        assert_eq!(draft.line_items.len(), 1);
        assert_eq!(
            draft.line_items[0].amount,
            Some(Decimal::from_str("1210.00").unwrap())
        );
        assert_eq!(draft.pages, 1);
    }

    #[test]
    fn sdk_document_output_becomes_json_core_reads() {
        let key = Block::builder()
            .block_type(BlockType::KeyValueSet)
            .id("k1")
            .entity_types(EntityType::Key)
            .confidence(91.5)
            .relationships(
                Relationship::builder()
                    .r#type(RelationshipType::Value)
                    .ids("v1")
                    .build(),
            )
            .relationships(
                Relationship::builder()
                    .r#type(RelationshipType::Child)
                    .ids("w1")
                    .build(),
            )
            .page(1)
            .build();
        let value = Block::builder()
            .block_type(BlockType::KeyValueSet)
            .id("v1")
            .entity_types(EntityType::Value)
            .confidence(90.25)
            .relationships(
                Relationship::builder()
                    .r#type(RelationshipType::Child)
                    .ids("w2")
                    .build(),
            )
            .page(1)
            .build();
        let w1 = Block::builder()
            .block_type(BlockType::Word)
            .id("w1")
            .text("Invoice Number")
            .confidence(99.0)
            .page(1)
            .build();
        let w2 = Block::builder()
            .block_type(BlockType::Word)
            .id("w2")
            .text("INV-3337")
            .confidence(99.0)
            .page(1)
            .build();
        let json = document_response_json(
            Some("SUCCEEDED"),
            None,
            None,
            None,
            &[key, value, w1, w2],
            &[Warning::builder().error_code("W1").pages(2).build()],
        );
        assert_eq!(json["Blocks"][0]["EntityTypes"], json!(["KEY"]));
        assert_eq!(json["Warnings"][0]["Pages"], json!([2]));
        let parsed = DocumentResponse::from_slice(json.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.blocks.len(), 4);
        let draft = draft_from_document(&[parsed]);
        assert_eq!(draft.invoice_number.unwrap().value, "INV-3337");
    }

    #[test]
    fn error_codes_are_classified() {
        let k = |c| ApiError::from_code(Some(c), "m").kind;
        assert_eq!(
            k("ProvisionedThroughputExceededException"),
            ApiErrorKind::Throttled
        );
        assert_eq!(k("ThrottlingException"), ApiErrorKind::Throttled);
        assert_eq!(k("LimitExceededException"), ApiErrorKind::Throttled);
        assert_eq!(k("InternalServerError"), ApiErrorKind::Transient);
        assert_eq!(k("UnsupportedDocumentException"), ApiErrorKind::BadDocument);
        assert_eq!(k("BadDocumentException"), ApiErrorKind::BadDocument);
        assert_eq!(k("AccessDeniedException"), ApiErrorKind::Misconfigured);
        assert_eq!(
            ApiError::from_code(None, "timeout").kind,
            ApiErrorKind::Transient
        );
    }

    #[test]
    fn request_tokens_fit_textract_rules() {
        let t = client_request_token(JobKind::Expense, "doc-0123456789abcdef0123456789abcdef");
        assert!(t.len() <= 64 && t.starts_with("exp-doc-"));
        let long = "x".repeat(100);
        assert_eq!(client_request_token(JobKind::Document, &long).len(), 64);
        assert!(client_request_token(JobKind::Expense, "a b/c")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn confidences_keep_the_f32_digits() {
        assert_eq!(confidence_json(99.96474).unwrap().to_string(), "99.96474");
        assert!(confidence_json(f32::NAN).is_none());
    }
}
