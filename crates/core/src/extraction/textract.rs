//! Serde models of the Textract JSON this crate reads: AnalyzeExpense / GetExpenseAnalysis
//! and AnalyzeDocument / GetDocumentAnalysis. PascalCase as on the wire; every field is
//! optional and unknown fields (Geometry, Polygon, ResponseMetadata, ...) are skipped
//! without being materialised, which keeps a 456 KB response well under a millisecond.
//! Confidences are read exactly into `Decimal` (serde_json's `arbitrary_precision`).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// Reads `null` as the type's default, so `"LineItems": null` is an empty list.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The JSON of a Textract response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Textract {operation} response is not valid: {message}")]
pub struct ResponseError {
    pub operation: &'static str,
    pub message: String,
}

/// `JobStatus` of the asynchronous Get* operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    InProgress,
    Succeeded,
    Failed,
    PartialSuccess,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DocumentMetadata {
    pub pages: Option<u32>,
}

/// A warning Textract attaches to a partially successful job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TextractWarning {
    pub error_code: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub pages: Vec<u32>,
}

/// AnalyzeExpense (synchronous) or one page of GetExpenseAnalysis (asynchronous).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseResponse {
    pub job_status: Option<JobStatus>,
    pub status_message: Option<String>,
    pub next_token: Option<String>,
    pub document_metadata: Option<DocumentMetadata>,
    #[serde(deserialize_with = "nullable")]
    pub expense_documents: Vec<ExpenseDocument>,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<TextractWarning>,
}

impl ExpenseResponse {
    pub fn from_slice(json: &[u8]) -> Result<Self, ResponseError> {
        serde_json::from_slice(json).map_err(|e| ResponseError {
            operation: "AnalyzeExpense",
            message: e.to_string(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseDocument {
    pub expense_index: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    pub summary_fields: Vec<ExpenseField>,
    #[serde(deserialize_with = "nullable")]
    pub line_item_groups: Vec<LineItemGroup>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LineItemGroup {
    pub line_item_group_index: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    pub line_items: Vec<LineItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LineItem {
    #[serde(deserialize_with = "nullable")]
    pub line_item_expense_fields: Vec<ExpenseField>,
}

/// One detected field: its normalised type (`TOTAL`, `ITEM`, ...), the printed label and value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseField {
    #[serde(rename = "Type")]
    pub field_type: Option<ExpenseType>,
    pub label_detection: Option<ExpenseDetection>,
    pub value_detection: Option<ExpenseDetection>,
    pub page_number: Option<u32>,
    pub currency: Option<ExpenseCurrency>,
    #[serde(deserialize_with = "nullable")]
    pub group_properties: Vec<ExpenseGroupProperty>,
}

impl ExpenseField {
    pub fn type_text(&self) -> &str {
        self.field_type
            .as_ref()
            .and_then(|t| t.text.as_deref())
            .unwrap_or("")
    }
    pub fn value_text(&self) -> &str {
        self.value_detection
            .as_ref()
            .and_then(|v| v.text.as_deref())
            .unwrap_or("")
    }
    /// The field's confidence: the lower of label and value detection (a field with no
    /// printed label, like most vendor names, has only its value's confidence).
    pub fn confidence(&self) -> Decimal {
        let value = self.value_detection.as_ref().and_then(|v| v.confidence);
        let label = self.label_detection.as_ref().and_then(|l| l.confidence);
        match (label, value) {
            (Some(l), Some(v)) => l.min(v),
            (None, Some(v)) => v,
            (Some(l), None) => l,
            (None, None) => Decimal::ZERO,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseType {
    pub text: Option<String>,
    pub confidence: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseDetection {
    pub text: Option<String>,
    pub confidence: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseCurrency {
    pub code: Option<String>,
    pub confidence: Option<Decimal>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExpenseGroupProperty {
    #[serde(deserialize_with = "nullable")]
    pub types: Vec<String>,
    pub id: Option<String>,
}

/// AnalyzeDocument (FORMS, TABLES) or one page of GetDocumentAnalysis.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DocumentResponse {
    pub job_status: Option<JobStatus>,
    pub status_message: Option<String>,
    pub next_token: Option<String>,
    pub document_metadata: Option<DocumentMetadata>,
    #[serde(deserialize_with = "nullable")]
    pub blocks: Vec<Block>,
    #[serde(deserialize_with = "nullable")]
    pub warnings: Vec<TextractWarning>,
}

impl DocumentResponse {
    pub fn from_slice(json: &[u8]) -> Result<Self, ResponseError> {
        serde_json::from_slice(json).map_err(|e| ResponseError {
            operation: "AnalyzeDocument",
            message: e.to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockType {
    Page,
    Line,
    Word,
    KeyValueSet,
    Table,
    Cell,
    MergedCell,
    SelectionElement,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Block {
    pub block_type: Option<BlockType>,
    pub id: Option<String>,
    pub text: Option<String>,
    pub confidence: Option<Decimal>,
    /// `KEY`/`VALUE` for KEY_VALUE_SET, `COLUMN_HEADER`/`TABLE_SUMMARY`... for cells.
    #[serde(deserialize_with = "nullable")]
    pub entity_types: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub relationships: Vec<Relationship>,
    pub row_index: Option<u32>,
    pub column_index: Option<u32>,
    pub row_span: Option<u32>,
    pub column_span: Option<u32>,
    pub page: Option<u32>,
    pub selection_status: Option<String>,
}

impl Block {
    pub fn has_entity(&self, entity: &str) -> bool {
        self.entity_types.iter().any(|e| e == entity)
    }
    /// Ids of the related blocks of one relationship type (`CHILD`, `VALUE`).
    pub fn related<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.relationships
            .iter()
            .filter(move |r| r.kind.as_deref() == Some(kind))
            .flat_map(|r| r.ids.iter().map(String::as_str))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Relationship {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub ids: Vec<String>,
}
