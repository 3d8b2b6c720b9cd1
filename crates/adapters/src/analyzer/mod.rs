//! The `DocumentAnalyzer` port: what reads an uploaded invoice document, and its
//! implementations.
//!
//! - [`TextractAnalyzer`] (aws): Textract AnalyzeExpense, synchronous for images and
//!   single-page documents, `StartExpenseAnalysis` + `GetExpenseAnalysis` (every result page,
//!   `IN_PROGRESS` polled with back-off, `FAILED` a typed error) for multi-page ones;
//!   AnalyzeDocument (FORMS, TABLES) likewise. Throttling is retried with back-off.
//! - [`LocalAnalyzer`] (offline): a recorded Textract response next to the file when there is
//!   one, else the text layer of a PDF (pdf-extract, laid out in columns), else a clear
//!   "needs Textract" error.
//! - [`RecordedAnalyzer`] (tests, demos): returns recorded Textract JSON per object key.
//!
//! Output is Textract's own JSON (the SDK's typed output is converted back to the wire
//! shape), so the processed bucket keeps exactly what was analysed and `p2p_core::extraction`
//! has one parser for Lambda, CLI and tests.

mod local;
mod recorded;
mod retry;
mod textract;

use async_trait::async_trait;
use p2p_core::extraction::DocumentKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use local::{layout_text, LocalAnalyzer, RECORDED_RESPONSE_SUFFIX};
pub use recorded::RecordedAnalyzer;
pub use retry::{RetryPolicy, Sleeper, TokioSleeper};
pub use textract::{
    ApiError, ApiErrorKind, JobKind, PollPolicy, SdkTextractApi, TextractAnalyzer, TextractApi,
};

/// The document to analyse: where it is (Textract reads it from S3) and its bytes (the local
/// analyzer reads those). Built after the pre-checks, so `kind` is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisRequest {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub kind: DocumentKind,
    /// Page count when known (PDF estimate); `None` when unknown.
    pub pages: Option<u32>,
    /// Deterministic id of the document: the idempotency token of asynchronous jobs, so a
    /// retried invocation rejoins its job instead of paying for a second one.
    pub document_id: String,
    pub content: Vec<u8>,
}

/// Which Textract operation produced an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnalysisOperation {
    AnalyzeExpense,
    GetExpenseAnalysis,
    AnalyzeDocument,
    GetDocumentAnalysis,
    /// A PDF's text layer (local analysis).
    TextLayer,
}

/// What an analysis returned.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalysisOutput {
    /// AnalyzeExpense, or every result page of GetExpenseAnalysis, as Textract's JSON.
    Expense {
        operation: AnalysisOperation,
        responses: Vec<Value>,
    },
    /// AnalyzeDocument (FORMS, TABLES), or every result page of GetDocumentAnalysis.
    Document {
        operation: AnalysisOperation,
        responses: Vec<Value>,
    },
    /// The text layer of a PDF, pages separated by form feeds.
    TextLayer { text: String },
}

impl AnalysisOutput {
    pub fn operation(&self) -> AnalysisOperation {
        match self {
            AnalysisOutput::Expense { operation, .. }
            | AnalysisOutput::Document { operation, .. } => *operation,
            AnalysisOutput::TextLayer { .. } => AnalysisOperation::TextLayer,
        }
    }

    /// The raw output as stored in the processed bucket:
    /// `{"operation": "...", "responses": [<Textract JSON>...]}` or `{"operation":
    /// "TextLayer", "text": "..."}`.
    pub fn to_json(&self) -> Value {
        match self {
            AnalysisOutput::Expense {
                operation,
                responses,
            }
            | AnalysisOutput::Document {
                operation,
                responses,
            } => serde_json::json!({ "operation": operation, "responses": responses }),
            AnalysisOutput::TextLayer { text } => {
                serde_json::json!({ "operation": AnalysisOperation::TextLayer, "text": text })
            }
        }
    }

    /// Reads a saved Textract response (one response object, an array of result pages, or
    /// the [`to_json`](Self::to_json) form) and tells an expense analysis from a document one.
    pub fn from_saved(json: &Value) -> Result<AnalysisOutput, AnalyzerError> {
        let invalid = |message: &str| AnalyzerError::InvalidResponse {
            operation: "saved response",
            message: message.to_string(),
        };
        if let Some(text) = json.get("text").and_then(Value::as_str) {
            return Ok(AnalysisOutput::TextLayer {
                text: text.to_string(),
            });
        }
        let responses: Vec<Value> = match json {
            Value::Array(pages) => pages.clone(),
            Value::Object(o) => match o.get("responses") {
                Some(Value::Array(pages)) => pages.clone(),
                _ => vec![json.clone()],
            },
            _ => return Err(invalid("expected a JSON object or an array of responses")),
        };
        let Some(first) = responses.first() else {
            return Err(invalid("no response in the array"));
        };
        let paged = first.get("JobStatus").is_some();
        if responses
            .iter()
            .any(|r| r.get("ExpenseDocuments").is_some())
            || first.get("AnalyzeExpenseModelVersion").is_some()
        {
            let operation = if paged {
                AnalysisOperation::GetExpenseAnalysis
            } else {
                AnalysisOperation::AnalyzeExpense
            };
            return Ok(AnalysisOutput::Expense {
                operation,
                responses,
            });
        }
        if responses.iter().any(|r| r.get("Blocks").is_some()) {
            let operation = if paged {
                AnalysisOperation::GetDocumentAnalysis
            } else {
                AnalysisOperation::AnalyzeDocument
            };
            return Ok(AnalysisOutput::Document {
                operation,
                responses,
            });
        }
        if paged {
            // An IN_PROGRESS/FAILED job page carries neither: an expense job by default
            // (the only asynchronous analysis this suite starts first).
            return Ok(AnalysisOutput::Expense {
                operation: AnalysisOperation::GetExpenseAnalysis,
                responses,
            });
        }
        Err(invalid(
            "neither ExpenseDocuments nor Blocks: not an AnalyzeExpense or AnalyzeDocument response",
        ))
    }
}

/// Why a document could not be analysed. [`code`](Self::code) is stable (object tags,
/// notifications, audit); [`is_retryable`](Self::is_retryable) says whether the same
/// invocation may succeed later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzerError {
    /// Still throttled after every retry.
    #[error("Textract {operation} throttled after {attempts} attempts: {message}")]
    Throttled {
        operation: &'static str,
        attempts: u32,
        message: String,
    },
    /// Timeouts, 5xx, network: safe to retry.
    #[error("Textract {operation} failed transiently: {message}")]
    Transient {
        operation: &'static str,
        message: String,
    },
    /// The asynchronous job did not finish in the time allowed; a retry rejoins it.
    #[error("Textract job {job_id} still IN_PROGRESS after {waited_secs} s")]
    JobTimedOut { job_id: String, waited_secs: u64 },
    /// The asynchronous job ended with `FAILED`.
    #[error("Textract job {job_id} failed: {message}")]
    JobFailed { job_id: String, message: String },
    /// Textract refused the document (unsupported format, bad or too large document).
    #[error("Textract {operation} refused the document: {message}")]
    BadDocument {
        operation: &'static str,
        message: String,
    },
    /// The local analyzer has no way to read this document without Textract.
    #[error(
        "{key}: needs Textract ({reason}); record a response as `{key}{}` to analyse it offline",
        RECORDED_RESPONSE_SUFFIX
    )]
    NeedsTextract { key: String, reason: String },
    /// A PDF whose structure cannot be read (local analysis).
    #[error("{key}: the PDF cannot be read: {message}")]
    UnreadablePdf { key: String, message: String },
    /// A response that is not Textract's JSON.
    #[error("{operation} response is not valid: {message}")]
    InvalidResponse {
        operation: &'static str,
        message: String,
    },
    /// Access denied, bad parameters, missing bucket: fix the deployment.
    #[error("Textract {operation} misconfigured: {message}")]
    Misconfigured {
        operation: &'static str,
        message: String,
    },
}

impl AnalyzerError {
    pub fn code(&self) -> &'static str {
        match self {
            AnalyzerError::Throttled { .. } => "textract_throttled",
            AnalyzerError::Transient { .. } => "textract_unavailable",
            AnalyzerError::JobTimedOut { .. } => "textract_job_timed_out",
            AnalyzerError::JobFailed { .. } => "textract_job_failed",
            AnalyzerError::BadDocument { .. } => "textract_bad_document",
            AnalyzerError::NeedsTextract { .. } => "needs_textract",
            AnalyzerError::UnreadablePdf { .. } => "unreadable_pdf",
            AnalyzerError::InvalidResponse { .. } => "invalid_textract_response",
            AnalyzerError::Misconfigured { .. } => "textract_misconfigured",
        }
    }

    /// Whether the same request may succeed later (the invocation should fail and be retried).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AnalyzerError::Throttled { .. }
                | AnalyzerError::Transient { .. }
                | AnalyzerError::JobTimedOut { .. }
        )
    }

    /// Whether this is about the document itself (reject it) rather than about the
    /// analyzer's environment (fail the invocation).
    pub fn is_document_problem(&self) -> bool {
        matches!(
            self,
            AnalyzerError::JobFailed { .. }
                | AnalyzerError::BadDocument { .. }
                | AnalyzerError::NeedsTextract { .. }
                | AnalyzerError::UnreadablePdf { .. }
        )
    }
}

/// Reads a document. Implementations: [`TextractAnalyzer`], [`LocalAnalyzer`],
/// [`RecordedAnalyzer`].
#[async_trait]
pub trait DocumentAnalyzer: Send + Sync {
    /// AnalyzeExpense: synchronous for images and single-page documents, the asynchronous
    /// job (every result page) otherwise. Local: a recorded response or the text layer.
    async fn analyze_expense(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError>;

    /// AnalyzeDocument with FORMS and TABLES: the fallback when the expense analysis found
    /// nothing useful.
    async fn analyze_document(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError>;
}
