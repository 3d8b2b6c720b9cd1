//! A [`DocumentAnalyzer`] that answers with recorded Textract responses (or errors) per
//! object key: tests and demos run the whole ingestion path on real responses without AWS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;

use super::{AnalysisOutput, AnalysisRequest, AnalyzerError, DocumentAnalyzer};

#[derive(Debug, Clone)]
enum Answer {
    Saved(Value),
    Error(AnalyzerError),
}

#[derive(Debug, Default)]
struct Recordings {
    expense: HashMap<String, Answer>,
    document: HashMap<String, Answer>,
    expense_calls: u64,
    document_calls: u64,
}

/// Recorded answers by object key. A key with no expense recording is `NeedsTextract`.
#[derive(Debug, Clone, Default)]
pub struct RecordedAnalyzer {
    inner: Arc<Mutex<Recordings>>,
}

impl RecordedAnalyzer {
    pub fn new() -> Self {
        RecordedAnalyzer::default()
    }

    fn with(self, f: impl FnOnce(&mut Recordings)) -> Self {
        if let Ok(mut r) = self.inner.lock() {
            f(&mut r);
        }
        self
    }

    /// The AnalyzeExpense answer for `key` (a response, an array of result pages, or the
    /// stored `{"operation","responses"}` form).
    pub fn with_expense(self, key: &str, response: Value) -> Self {
        self.with(|r| {
            r.expense.insert(key.to_string(), Answer::Saved(response));
        })
    }

    pub fn with_expense_error(self, key: &str, error: AnalyzerError) -> Self {
        self.with(|r| {
            r.expense.insert(key.to_string(), Answer::Error(error));
        })
    }

    /// The AnalyzeDocument (fallback) answer for `key`.
    pub fn with_document(self, key: &str, response: Value) -> Self {
        self.with(|r| {
            r.document.insert(key.to_string(), Answer::Saved(response));
        })
    }

    pub fn with_document_error(self, key: &str, error: AnalyzerError) -> Self {
        self.with(|r| {
            r.document.insert(key.to_string(), Answer::Error(error));
        })
    }

    /// How many expense and document analyses were asked for.
    pub fn calls(&self) -> (u64, u64) {
        self.inner
            .lock()
            .map(|r| (r.expense_calls, r.document_calls))
            .unwrap_or_default()
    }

    fn answer(&self, key: &str, document: bool) -> Result<AnalysisOutput, AnalyzerError> {
        let answer = {
            let mut r = self
                .inner
                .lock()
                .map_err(|_| AnalyzerError::InvalidResponse {
                    operation: "recorded response",
                    message: "recordings lock poisoned".to_string(),
                })?;
            if document {
                r.document_calls += 1;
                r.document.get(key).cloned()
            } else {
                r.expense_calls += 1;
                r.expense.get(key).cloned()
            }
        };
        match answer {
            Some(Answer::Saved(json)) => AnalysisOutput::from_saved(&json),
            Some(Answer::Error(e)) => Err(e),
            None => Err(AnalyzerError::NeedsTextract {
                key: key.to_string(),
                reason: format!(
                    "no recorded {} response",
                    if document {
                        "AnalyzeDocument"
                    } else {
                        "AnalyzeExpense"
                    }
                ),
            }),
        }
    }
}

#[async_trait]
impl DocumentAnalyzer for RecordedAnalyzer {
    async fn analyze_expense(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        self.answer(&request.key, false)
    }

    async fn analyze_document(
        &self,
        request: &AnalysisRequest,
    ) -> Result<AnalysisOutput, AnalyzerError> {
        self.answer(&request.key, true)
    }
}
