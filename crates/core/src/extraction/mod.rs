//! Document ingestion, the pure part: Textract responses and PDF text layers normalised into
//! an [`InvoiceDraft`], the review decision over it, file pre-checks before paying for
//! Textract, and the mapping of a draft to the workflow's invoice submission.
//!
//! Flow (the adapters and the `textract-processor` function do the I/O):
//! 1. [`check_document`] on the uploaded object (type, size, encryption, executables);
//!    [`needs_async_analysis`] picks AnalyzeExpense or StartExpenseAnalysis.
//! 2. [`draft_from_expense`] over the AnalyzeExpense response (or every page of
//!    GetExpenseAnalysis); if the draft [`InvoiceDraft::is_useful`] is false, AnalyzeDocument
//!    (FORMS, TABLES) and [`draft_from_document`]; for a PDF with a text layer,
//!    [`draft_from_text`]. [`InvoiceDraft::fill_missing_from`] combines them.
//! 3. [`review`] with a [`ReviewPolicy`]: `needs_review` with typed reasons, or
//!    `ready_for_matching`. An extracted invoice is never approved automatically: the best
//!    outcome is that it goes on to PO matching like any submitted invoice.
//! 4. [`to_submission`] builds the canonical invoice submission for the workflow.
//!
//! Candidate selection, shared by every source: when a field has several candidates with
//! different values, the one consistent with the others wins (total = subtotal + tax,
//! subtotal = sum of the lines), then the best label (text layer), then the most confident.
//! Candidates with the same value (a header repeated on every page) merge into one field
//! whose confidence is the lowest of them: the pages share one template, so one poor
//! reading is reason enough for a human look.

mod assemble;
mod document;
mod expense;
mod precheck;
mod review;
mod submission;
mod text;
pub mod textract;
pub mod values;

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::Currency;

pub use document::draft_from_document;
pub use expense::{draft_from_expense, ExpenseJobError};
pub use precheck::{
    check_document, estimate_pdf_pages, needs_async_analysis, DocumentKind, DocumentPolicy,
    DocumentRejection,
};
pub use review::{review, RequiredField, ReviewDecision, ReviewPolicy, ReviewReason, ReviewStatus};
pub use submission::{to_submission, DraftSubmission, DraftSubmissionLine};
pub use text::{draft_from_text, draft_from_text_with, TEXT_LAYER_CONFIDENCE};
pub use textract::{DocumentResponse, ExpenseResponse, JobStatus, ResponseError};
pub use values::{
    detect_currency, parse_amount, parse_date, parse_date_with, parse_line_amount, parse_quantity,
    AmountError, DateError, DateOrder, ParsedAmount,
};

/// The summary fields of an invoice draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftField {
    InvoiceNumber,
    PoNumber,
    VendorName,
    VendorTaxId,
    InvoiceDate,
    DueDate,
    PaymentTerms,
    Subtotal,
    Tax,
    Total,
    AmountDue,
    Currency,
}

impl DraftField {
    pub const ALL: [DraftField; 12] = [
        DraftField::InvoiceNumber,
        DraftField::PoNumber,
        DraftField::VendorName,
        DraftField::VendorTaxId,
        DraftField::InvoiceDate,
        DraftField::DueDate,
        DraftField::PaymentTerms,
        DraftField::Subtotal,
        DraftField::Tax,
        DraftField::Total,
        DraftField::AmountDue,
        DraftField::Currency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftField::InvoiceNumber => "invoice_number",
            DraftField::PoNumber => "po_number",
            DraftField::VendorName => "vendor_name",
            DraftField::VendorTaxId => "vendor_tax_id",
            DraftField::InvoiceDate => "invoice_date",
            DraftField::DueDate => "due_date",
            DraftField::PaymentTerms => "payment_terms",
            DraftField::Subtotal => "subtotal",
            DraftField::Tax => "tax",
            DraftField::Total => "total",
            DraftField::AmountDue => "amount_due",
            DraftField::Currency => "currency",
        }
    }

    fn is_amount(self) -> bool {
        matches!(
            self,
            DraftField::Subtotal | DraftField::Tax | DraftField::Total | DraftField::AmountDue
        )
    }
}

impl fmt::Display for DraftField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which analysis produced a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftSource {
    AnalyzeExpense,
    AnalyzeDocument,
    TextLayer,
}

/// A value type an [`ExtractedField`] can hold; decides its JSON form (amounts as strings).
pub trait FieldValue: Clone + PartialEq + fmt::Debug + Sized {
    fn serialize_value<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
    fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

impl FieldValue for String {
    fn serialize_value<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
    fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)
    }
}

impl FieldValue for Decimal {
    fn serialize_value<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::money::decimal_str::serialize(self, s)
    }
    fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::money::decimal_str::deserialize(d)
    }
}

impl FieldValue for NaiveDate {
    fn serialize_value<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize(s)
    }
    fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NaiveDate::deserialize(d)
    }
}

impl FieldValue for Currency {
    fn serialize_value<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.serialize(s)
    }
    fn deserialize_value<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Currency::deserialize(d)
    }
}

/// One extracted summary field: the normalised value, the text it was read from, its
/// confidence (0..=100, the lower of label and value detection) and its page (1-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: FieldValue", deserialize = "T: FieldValue"))]
pub struct ExtractedField<T> {
    #[serde(
        serialize_with = "FieldValue::serialize_value",
        deserialize_with = "FieldValue::deserialize_value"
    )]
    pub value: T,
    pub raw_text: String,
    #[serde(with = "crate::money::decimal_str")]
    pub confidence: Decimal,
    pub page: u32,
}

/// One extracted line item. Values stay as read: nothing is derived here (see
/// [`to_submission`] for the derivations a submission needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractedLine {
    pub description: Option<String>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub unit_price: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub amount: Option<Decimal>,
    pub product_code: Option<String>,
    /// The lowest confidence among the fields the line was built from.
    #[serde(with = "crate::money::decimal_str")]
    pub confidence: Decimal,
    pub page: u32,
}

/// Something the normaliser could not use or had to decide; kept on the draft for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractionWarning {
    /// `total`, `invoice_date`, `line_items[2].amount`, ...
    pub field: String,
    pub kind: WarningKind,
    pub raw_text: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    UnparseableAmount,
    UnparseableDate,
    UnparseableQuantity,
    UnknownCurrency,
    /// Several values; the chosen one fits the other amounts.
    ConflictResolvedByConsistency,
    /// Several values; the chosen one had the best label or confidence.
    ConflictResolvedByConfidence,
    /// Textract reported a partial failure on some pages.
    TextractWarning,
}

/// The normalised result of one document's extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    pub source: DraftSource,
    pub invoice_number: Option<ExtractedField<String>>,
    pub po_number: Option<ExtractedField<String>>,
    pub vendor_name: Option<ExtractedField<String>>,
    pub vendor_tax_id: Option<ExtractedField<String>>,
    pub invoice_date: Option<ExtractedField<NaiveDate>>,
    pub due_date: Option<ExtractedField<NaiveDate>>,
    pub payment_terms: Option<ExtractedField<String>>,
    pub subtotal: Option<ExtractedField<Decimal>>,
    pub tax: Option<ExtractedField<Decimal>>,
    pub total: Option<ExtractedField<Decimal>>,
    pub amount_due: Option<ExtractedField<Decimal>>,
    pub currency: Option<ExtractedField<Currency>>,
    pub line_items: Vec<ExtractedLine>,
    pub pages: u32,
    pub warnings: Vec<ExtractionWarning>,
}

impl InvoiceDraft {
    pub fn empty(source: DraftSource) -> Self {
        InvoiceDraft {
            source,
            invoice_number: None,
            po_number: None,
            vendor_name: None,
            vendor_tax_id: None,
            invoice_date: None,
            due_date: None,
            payment_terms: None,
            subtotal: None,
            tax: None,
            total: None,
            amount_due: None,
            currency: None,
            line_items: Vec::new(),
            pages: 0,
            warnings: Vec::new(),
        }
    }

    /// Confidence of a present field, `None` when the field is missing.
    pub fn confidence_of(&self, field: DraftField) -> Option<Decimal> {
        fn c<T>(f: &Option<ExtractedField<T>>) -> Option<Decimal> {
            f.as_ref().map(|f| f.confidence)
        }
        match field {
            DraftField::InvoiceNumber => c(&self.invoice_number),
            DraftField::PoNumber => c(&self.po_number),
            DraftField::VendorName => c(&self.vendor_name),
            DraftField::VendorTaxId => c(&self.vendor_tax_id),
            DraftField::InvoiceDate => c(&self.invoice_date),
            DraftField::DueDate => c(&self.due_date),
            DraftField::PaymentTerms => c(&self.payment_terms),
            DraftField::Subtotal => c(&self.subtotal),
            DraftField::Tax => c(&self.tax),
            DraftField::Total => c(&self.total),
            DraftField::AmountDue => c(&self.amount_due),
            DraftField::Currency => c(&self.currency),
        }
    }

    pub fn has(&self, field: DraftField) -> bool {
        self.confidence_of(field).is_some()
    }

    /// Present fields and their confidences, in [`DraftField::ALL`] order.
    pub fn field_confidences(&self) -> Vec<(DraftField, Decimal)> {
        DraftField::ALL
            .iter()
            .filter_map(|f| self.confidence_of(*f).map(|c| (*f, c)))
            .collect()
    }

    /// Whether the draft carries enough to be worth reviewing: an invoice number, an
    /// amount or a line item. When AnalyzeExpense's draft is not, call AnalyzeDocument.
    pub fn is_useful(&self) -> bool {
        self.invoice_number.is_some()
            || self.total.is_some()
            || self.amount_due.is_some()
            || self.subtotal.is_some()
            || !self.line_items.is_empty()
    }

    /// Sum of the line amounts, when every line has one.
    pub fn lines_total(&self) -> Option<Decimal> {
        if self.line_items.is_empty() {
            return None;
        }
        self.line_items.iter().try_fold(Decimal::ZERO, |acc, l| {
            l.amount.and_then(|a| acc.checked_add(a))
        })
    }

    /// Completes this draft with the fields (and, if it has none, the line items) of
    /// another source, e.g. AnalyzeExpense completed by AnalyzeDocument or the text layer.
    pub fn fill_missing_from(&mut self, other: &InvoiceDraft) {
        fn fill<T: Clone>(a: &mut Option<ExtractedField<T>>, b: &Option<ExtractedField<T>>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        fill(&mut self.invoice_number, &other.invoice_number);
        fill(&mut self.po_number, &other.po_number);
        fill(&mut self.vendor_name, &other.vendor_name);
        fill(&mut self.vendor_tax_id, &other.vendor_tax_id);
        fill(&mut self.invoice_date, &other.invoice_date);
        fill(&mut self.due_date, &other.due_date);
        fill(&mut self.payment_terms, &other.payment_terms);
        fill(&mut self.subtotal, &other.subtotal);
        fill(&mut self.tax, &other.tax);
        fill(&mut self.total, &other.total);
        fill(&mut self.amount_due, &other.amount_due);
        fill(&mut self.currency, &other.currency);
        if self.line_items.is_empty() {
            self.line_items.clone_from(&other.line_items);
        }
        self.pages = self.pages.max(other.pages);
        self.warnings.extend(other.warnings.iter().cloned());
    }

    /// The invoice's extraction metadata as stored ([`crate::invoice::ExtractionMetadata`]).
    pub fn extraction_metadata(
        &self,
        document_id: &str,
        bucket: &str,
        key: &str,
        decision: &ReviewDecision,
    ) -> crate::invoice::ExtractionMetadata {
        crate::invoice::ExtractionMetadata {
            document_id: document_id.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            field_confidence: self
                .field_confidences()
                .into_iter()
                .map(|(f, c)| (f.as_str().to_string(), c))
                .collect(),
            average_confidence: decision.average_confidence,
            review_reasons: decision.reasons.iter().map(|r| r.message()).collect(),
        }
    }
}
