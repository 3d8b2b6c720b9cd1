//! Invoice validation (the seed's `validate-invoice`): parse a submitted document, check every
//! rule, report every failure with its field path, and build the stored [`Invoice`].
//!
//! Two document shapes are accepted (see [`SubmissionDocument::from_json`]):
//! - canonical: a flat object with snake_case fields ([`InvoiceSubmission`]);
//! - the seed's sample: `{"invoice": {"invoiceId", "customerId", "customerEmail", "amount",
//!   "dueDate", "description", "items": [{"description", "quantity", "rate"}]}}` (customer =
//!   vendor, invoiceId = invoice number, amount = total), plus optional `poId`/`po_id`,
//!   `invoiceDate`, `currency`, `notes`, `submittedBy`.
//!
//! Field-path convention: errors name the field as it was submitted. Canonical paths are the
//! snake_case names (`due_date`, `lines[1].quantity`); seed paths are prefixed with `invoice.`
//! and use the seed's names (`invoice.dueDate`, `invoice.items[0].rate`). Line indices are
//! 0-based positions in the submitted array (stored line numbers are 1-based). The document
//! root is `$`. In the seed shape the PO id is always reported as `invoice.poId`.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DomainError, FieldError, FieldErrors};
use crate::invoice::{Invoice, InvoiceLine, InvoiceSource, InvoiceStatus};
use crate::money::Currency;
use crate::purchase_order::{LineInput, MAX_LINES};
use crate::vendor::{Email, PaymentTerms};

/// Longest accepted id or invoice number (DynamoDB keys and payment-file references stay small).
pub const MAX_ID_LEN: usize = 128;
/// Longest accepted free text (description, notes).
pub const MAX_TEXT_LEN: usize = 4000;

/// The seed's example limit (`invoice.amount > 10000` is refused).
pub const SEED_MAX_AMOUNT: Decimal = Decimal::from_parts(10000, 0, 0, false, 0);

/// Which document shape a submission arrived in; decides how field paths are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionShape {
    #[default]
    Canonical,
    /// `{"invoice": {...camelCase...}}` as in the seed's samples.
    Seed,
}

/// A submitted invoice line: [`LineInput`] plus the PO line it bills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_no: Option<u32>,
    /// The PO line billed; absent means "the PO line with this line's number".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line_no: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub quantity: Option<Decimal>,
    #[serde(
        default,
        alias = "rate",
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub unit_price: Option<Decimal>,
    #[serde(
        default,
        alias = "total_amount",
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub amount: Option<Decimal>,
}

impl From<LineInput> for InvoiceLineInput {
    fn from(l: LineInput) -> Self {
        InvoiceLineInput {
            line_no: l.line_no,
            po_line_no: None,
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            amount: l.amount,
        }
    }
}

/// The canonical submission. Everything is optional at this stage so that [`validate`] can
/// report every missing or malformed field at once; dates and currency stay text until then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSubmission {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_id: Option<String>,
    /// `YYYY-MM-DD`; absent means the day of receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<String>,
    /// `YYYY-MM-DD`; absent means derived from the vendor's payment terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// ISO 4217; absent means USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<InvoiceLineInput>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub subtotal: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub tax_amount: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub total_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    /// Shape it was parsed from (not part of the document).
    #[serde(skip)]
    pub shape: SubmissionShape,
}

/// Fields of a submission, for path lookup in either shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    InvoiceNumber,
    VendorId,
    VendorEmail,
    PoId,
    InvoiceDate,
    DueDate,
    Currency,
    Lines,
    Subtotal,
    TaxAmount,
    TotalAmount,
    Description,
    Notes,
    SubmittedBy,
}

/// Fields of a line, for path lookup in either shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineField {
    LineNo,
    PoLineNo,
    Description,
    Quantity,
    UnitPrice,
    Amount,
}

impl SubmissionShape {
    /// The path of `field` in a document of this shape.
    pub fn path(self, field: Field) -> &'static str {
        use Field::*;
        match self {
            SubmissionShape::Canonical => match field {
                InvoiceNumber => "invoice_number",
                VendorId => "vendor_id",
                VendorEmail => "vendor_email",
                PoId => "po_id",
                InvoiceDate => "invoice_date",
                DueDate => "due_date",
                Currency => "currency",
                Lines => "lines",
                Subtotal => "subtotal",
                TaxAmount => "tax_amount",
                TotalAmount => "total_amount",
                Description => "description",
                Notes => "notes",
                SubmittedBy => "submitted_by",
            },
            // The seed shape has no subtotal or tax: both are derived, so their
            // inconsistencies surface on the amount.
            SubmissionShape::Seed => match field {
                InvoiceNumber => "invoice.invoiceId",
                VendorId => "invoice.customerId",
                VendorEmail => "invoice.customerEmail",
                PoId => "invoice.poId",
                InvoiceDate => "invoice.invoiceDate",
                DueDate => "invoice.dueDate",
                Currency => "invoice.currency",
                Lines => "invoice.items",
                Subtotal | TaxAmount | TotalAmount => "invoice.amount",
                Description => "invoice.description",
                Notes => "invoice.notes",
                SubmittedBy => "invoice.submittedBy",
            },
        }
    }

    /// The path of `field` of the line at 0-based position `index`.
    pub fn line_path(self, index: usize, field: LineField) -> String {
        use LineField::*;
        let name = match (self, field) {
            (SubmissionShape::Canonical, LineNo) => "line_no",
            (SubmissionShape::Canonical, PoLineNo) => "po_line_no",
            (SubmissionShape::Canonical, UnitPrice) => "unit_price",
            (SubmissionShape::Seed, LineNo) => "lineNo",
            (SubmissionShape::Seed, PoLineNo) => "poLineNo",
            (SubmissionShape::Seed, UnitPrice) => "rate",
            (_, Description) => "description",
            (_, Quantity) => "quantity",
            (_, Amount) => "amount",
        };
        format!("{}[{index}].{name}", self.path(Field::Lines))
    }
}

/// Entry point for a raw JSON document in either shape.
pub struct SubmissionDocument;

const ROOT: &str = "$";

const CANONICAL_KEYS: &[&str] = &[
    "invoice_number",
    "vendor_id",
    "vendor_email",
    "po_id",
    "invoice_date",
    "due_date",
    "currency",
    "lines",
    "subtotal",
    "tax_amount",
    "total_amount",
    "description",
    "notes",
    "submitted_by",
];
const CANONICAL_LINE_KEYS: &[&str] = &[
    "line_no",
    "po_line_no",
    "description",
    "quantity",
    "unit_price",
    "rate",
    "amount",
    "total_amount",
];
const SEED_KEYS: &[&str] = &[
    "invoiceId",
    "customerId",
    "customerEmail",
    "poId",
    "po_id",
    "invoiceDate",
    "dueDate",
    "currency",
    "items",
    "amount",
    "description",
    "notes",
    "submittedBy",
];
const SEED_ITEM_KEYS: &[&str] = &[
    "lineNo",
    "poLineNo",
    "description",
    "quantity",
    "rate",
    "amount",
];

impl SubmissionDocument {
    /// Recognises the shape and reads the document, collecting every unknown field and
    /// wrong type with its path. A root object with an `invoice` key is the seed shape
    /// (and must have no other key); any other object is canonical.
    pub fn from_json(doc: &Value) -> Result<InvoiceSubmission, DomainError> {
        let Some(root) = doc.as_object() else {
            return Err(DomainError::field(
                ROOT,
                "invalid_type",
                format!(
                    "an invoice must be a JSON object (canonical fields, or {{\"invoice\": {{...}}}}), got {}",
                    type_name(doc)
                ),
            ));
        };
        let mut errs = FieldErrors::new();
        let sub = if let Some(inner) = root.get("invoice") {
            let extra: Vec<&str> = root
                .keys()
                .map(String::as_str)
                .filter(|k| *k != "invoice")
                .collect();
            if !extra.is_empty() {
                errs.add(
                    ROOT,
                    "ambiguous_shape",
                    format!(
                        "a document with `invoice` may have no other top-level field; found {}",
                        extra.join(", ")
                    ),
                );
            }
            match inner.as_object() {
                Some(obj) => read_seed(obj, &mut errs),
                None => {
                    errs.add(
                        "invoice",
                        "invalid_type",
                        format!("invoice must be an object, got {}", type_name(inner)),
                    );
                    InvoiceSubmission {
                        shape: SubmissionShape::Seed,
                        ..Default::default()
                    }
                }
            }
        } else {
            read_canonical(root, &mut errs)
        };
        errs.into_result(sub)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads typed fields out of one JSON object, recording errors under `prefix` + key.
struct ObjectReader<'a> {
    obj: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> ObjectReader<'a> {
    fn new(
        obj: &'a Map<String, Value>,
        prefix: String,
        known: &[&str],
        errs: &mut FieldErrors,
    ) -> Self {
        for key in obj.keys() {
            if !known.contains(&key.as_str()) {
                errs.add(
                    format!("{prefix}{key}"),
                    "unknown_field",
                    format!(
                        "unknown field `{key}`; expected one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        ObjectReader { obj, prefix }
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The value under `key`; JSON null counts as absent.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str, errs: &mut FieldErrors) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                errs.add(
                    self.path(key),
                    "invalid_type",
                    format!(
                        "{} must be a string, got {}",
                        self.path(key),
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    fn decimal(&self, key: &str, errs: &mut FieldErrors) -> Option<Decimal> {
        let v = self.get(key)?;
        let parsed = match v {
            Value::String(s) => crate::money::parse_decimal(s).ok(),
            Value::Number(n) => number_to_decimal(&n.to_string()),
            _ => None,
        };
        if parsed.is_none() {
            errs.add(
                self.path(key),
                "invalid_decimal",
                format!(
                    "{} must be a decimal number or a string holding one, got {}",
                    self.path(key),
                    match v {
                        Value::String(s) => format!("`{s}`"),
                        Value::Number(n) => format!("`{n}`"),
                        other => type_name(other).to_string(),
                    }
                ),
            );
        }
        parsed
    }

    fn line_number(&self, key: &str, errs: &mut FieldErrors) -> Option<u32> {
        let v = self.get(key)?;
        let n = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1);
        if n.is_none() {
            errs.add(
                self.path(key),
                "invalid_line_number",
                format!("{} must be a whole number from 1", self.path(key)),
            );
        }
        n
    }

    fn array(&self, key: &str, errs: &mut FieldErrors) -> Option<&'a Vec<Value>> {
        match self.get(key)? {
            Value::Array(a) => Some(a),
            other => {
                errs.add(
                    self.path(key),
                    "invalid_type",
                    format!(
                        "{} must be an array, got {}",
                        self.path(key),
                        type_name(other)
                    ),
                );
                None
            }
        }
    }
}

/// A JSON number's exact text as a Decimal (exponents allowed, never via f64).
fn number_to_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

fn read_lines(
    reader: &ObjectReader<'_>,
    key: &str,
    shape: SubmissionShape,
    errs: &mut FieldErrors,
) -> Vec<InvoiceLineInput> {
    let Some(items) = reader.array(key, errs) else {
        return Vec::new();
    };
    let (known, unit_price_keys, amount_keys): (&[&str], &[&str], &[&str]) = match shape {
        SubmissionShape::Canonical => (
            CANONICAL_LINE_KEYS,
            &["unit_price", "rate"],
            &["amount", "total_amount"],
        ),
        SubmissionShape::Seed => (SEED_ITEM_KEYS, &["rate"], &["amount"]),
    };
    let (line_no_key, po_line_key) = match shape {
        SubmissionShape::Canonical => ("line_no", "po_line_no"),
        SubmissionShape::Seed => ("lineNo", "poLineNo"),
    };
    let base = reader.path(key);
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errs.add(
                format!("{base}[{i}]"),
                "invalid_type",
                format!("{base}[{i}] must be an object, got {}", type_name(item)),
            );
            continue;
        };
        let r = ObjectReader::new(obj, format!("{base}[{i}]."), known, errs);
        let one_of = |keys: &[&str], errs: &mut FieldErrors| -> Option<Decimal> {
            let present: Vec<&&str> = keys.iter().filter(|k| r.get(k).is_some()).collect();
            if present.len() > 1 {
                errs.add(
                    r.path(present[1]),
                    "duplicate_field",
                    format!("{} and {} are the same field", present[0], present[1]),
                );
            }
            present.first().and_then(|k| r.decimal(k, errs))
        };
        out.push(InvoiceLineInput {
            line_no: r.line_number(line_no_key, errs),
            po_line_no: r.line_number(po_line_key, errs),
            description: r.string("description", errs),
            quantity: r.decimal("quantity", errs),
            unit_price: one_of(unit_price_keys, errs),
            amount: one_of(amount_keys, errs),
        });
    }
    out
}

fn read_canonical(obj: &Map<String, Value>, errs: &mut FieldErrors) -> InvoiceSubmission {
    let shape = SubmissionShape::Canonical;
    let r = ObjectReader::new(obj, String::new(), CANONICAL_KEYS, errs);
    InvoiceSubmission {
        invoice_number: r.string("invoice_number", errs),
        vendor_id: r.string("vendor_id", errs),
        vendor_email: r.string("vendor_email", errs),
        po_id: r.string("po_id", errs),
        invoice_date: r.string("invoice_date", errs),
        due_date: r.string("due_date", errs),
        currency: r.string("currency", errs),
        lines: read_lines(&r, "lines", shape, errs),
        subtotal: r.decimal("subtotal", errs),
        tax_amount: r.decimal("tax_amount", errs),
        total_amount: r.decimal("total_amount", errs),
        description: r.string("description", errs),
        notes: r.string("notes", errs),
        submitted_by: r.string("submitted_by", errs),
        shape,
    }
}

fn read_seed(obj: &Map<String, Value>, errs: &mut FieldErrors) -> InvoiceSubmission {
    let shape = SubmissionShape::Seed;
    let r = ObjectReader::new(obj, "invoice.".to_string(), SEED_KEYS, errs);
    if r.get("poId").is_some() && r.get("po_id").is_some() {
        errs.add(
            "invoice.po_id",
            "duplicate_field",
            "poId and po_id are the same field",
        );
    }
    let po_id = r.string("poId", errs).or_else(|| r.string("po_id", errs));
    InvoiceSubmission {
        invoice_number: r.string("invoiceId", errs),
        vendor_id: r.string("customerId", errs),
        vendor_email: r.string("customerEmail", errs),
        po_id,
        invoice_date: r.string("invoiceDate", errs),
        due_date: r.string("dueDate", errs),
        currency: r.string("currency", errs),
        lines: read_lines(&r, "items", shape, errs),
        subtotal: None,
        tax_amount: None,
        total_amount: r.decimal("amount", errs),
        description: r.string("description", errs),
        notes: r.string("notes", errs),
        submitted_by: r.string("submittedBy", errs),
        shape,
    }
}

/// Which rules [`validate`] applies beyond the structural ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationPolicy {
    /// The seed: the due date must be after today.
    pub require_future_due_date: bool,
    /// Largest accepted total (the seed's example: 10 000); `None` for no limit.
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub max_amount: Option<Decimal>,
    pub max_lines: usize,
    /// An invoice must name the PO it bills.
    pub require_po: bool,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        ValidationPolicy {
            require_future_due_date: true,
            max_amount: Some(SEED_MAX_AMOUNT),
            max_lines: MAX_LINES,
            require_po: false,
        }
    }
}

impl ValidationPolicy {
    /// Only the structural rules (shape, types, arithmetic): used to rebuild a stored invoice
    /// from an already validated submission, whatever day it is now.
    pub fn structural() -> Self {
        ValidationPolicy {
            require_future_due_date: false,
            max_amount: None,
            max_lines: usize::MAX,
            require_po: false,
        }
    }
}

/// The outcome of [`validate`]: every failure, and the submission normalized (trimmed text,
/// upper-case currency, ISO dates with the derived due date, numbered lines with amounts,
/// subtotal and tax filled in) so the next step can store it without re-deriving anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub valid: bool,
    /// The submitted shape, kept so later steps still name fields as they were submitted.
    #[serde(default)]
    pub shape: SubmissionShape,
    pub errors: Vec<FieldError>,
    pub invoice: InvoiceSubmission,
}

impl ValidationReport {
    /// The normalized submission when valid, else the errors as a `DomainError`.
    pub fn into_result(self) -> Result<InvoiceSubmission, DomainError> {
        if self.valid {
            Ok(self.invoice)
        } else {
            Err(DomainError::Invalid(self.errors))
        }
    }
}

/// A fully checked submission, ready to become an [`Invoice`].
#[derive(Debug, Clone, PartialEq)]
struct CheckedInvoice {
    invoice_number: String,
    vendor_id: String,
    po_id: Option<String>,
    invoice_date: NaiveDate,
    due_date: NaiveDate,
    currency: Currency,
    lines: Vec<InvoiceLine>,
    subtotal: Decimal,
    tax_amount: Decimal,
    total_amount: Decimal,
    description: Option<String>,
    notes: Option<String>,
    submitted_by: Option<String>,
}

/// Validates `submission` against `policy`. `today` is the receiving day (the due date must
/// be after it, the invoice date not after it); `terms` are the vendor's payment terms, used
/// to derive an absent due date.
pub fn validate(
    submission: &InvoiceSubmission,
    policy: &ValidationPolicy,
    today: NaiveDate,
    terms: Option<&PaymentTerms>,
) -> ValidationReport {
    let (errs, normalized, _) = check(submission, policy, today, terms, Mode::Submit);
    ValidationReport {
        valid: errs.is_empty(),
        shape: submission.shape,
        errors: errs.0,
        invoice: normalized,
    }
}

/// Trims text; empty means absent.
fn clean(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn check_len(path: &str, text: &Option<String>, max: usize, errs: &mut FieldErrors) {
    if let Some(t) = text {
        let n = t.chars().count();
        if n > max {
            errs.add(
                path,
                "too_long",
                format!("{path} has {n} characters; at most {max} are allowed"),
            );
        }
    }
}

fn parse_date(path: &str, text: &str, errs: &mut FieldErrors) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(e) => {
            errs.add(
                path,
                "invalid_date",
                format!("{path} `{text}` is not a calendar date (YYYY-MM-DD): {e}"),
            );
            None
        }
    }
}

fn check_scale(path: &str, v: Decimal, currency: Option<Currency>, errs: &mut FieldErrors) -> bool {
    match currency.map(|c| c.check_scale(v)) {
        Some(Err(e)) => {
            errs.add(path, "too_many_decimals", format!("{path}: {e}"));
            false
        }
        _ => true,
    }
}

/// Submit applies every rule; Rebuild (a stored invoice from an already validated,
/// normalized submission) skips the rules that depend on the day they run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Submit,
    Rebuild,
}

fn check(
    sub: &InvoiceSubmission,
    policy: &ValidationPolicy,
    today: NaiveDate,
    terms: Option<&PaymentTerms>,
    mode: Mode,
) -> (FieldErrors, InvoiceSubmission, Option<CheckedInvoice>) {
    let shape = sub.shape;
    let p = |f: Field| shape.path(f);
    let mut errs = FieldErrors::new();

    // Identity fields: the seed's required invoice id and customer (vendor) id.
    let invoice_number = clean(&sub.invoice_number);
    let vendor_id = clean(&sub.vendor_id);
    let po_id = clean(&sub.po_id);
    if invoice_number.is_none() {
        errs.push(FieldError::required(p(Field::InvoiceNumber)));
    }
    if vendor_id.is_none() {
        errs.push(FieldError::required(p(Field::VendorId)));
    }
    if po_id.is_none() && policy.require_po {
        errs.push(FieldError::required(p(Field::PoId)));
    }
    check_len(
        p(Field::InvoiceNumber),
        &invoice_number,
        MAX_ID_LEN,
        &mut errs,
    );
    check_len(p(Field::VendorId), &vendor_id, MAX_ID_LEN, &mut errs);
    check_len(p(Field::PoId), &po_id, MAX_ID_LEN, &mut errs);
    let description = clean(&sub.description);
    let notes = clean(&sub.notes);
    let submitted_by = clean(&sub.submitted_by);
    check_len(p(Field::Description), &description, MAX_TEXT_LEN, &mut errs);
    check_len(p(Field::Notes), &notes, MAX_TEXT_LEN, &mut errs);
    check_len(p(Field::SubmittedBy), &submitted_by, MAX_ID_LEN, &mut errs);

    let vendor_email = match clean(&sub.vendor_email) {
        None => None,
        Some(e) => match Email::parse(&e) {
            Ok(email) => Some(email.as_str().to_string()),
            Err(err) => {
                let message = err
                    .field_errors()
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| err.to_string());
                errs.add(p(Field::VendorEmail), "invalid_email", message);
                Some(e)
            }
        },
    };

    // Currency first: it decides how many decimals the amounts may carry.
    let (currency, currency_text) = match clean(&sub.currency) {
        None => (Some(Currency::USD), Currency::USD.code().to_string()),
        Some(c) => match Currency::parse(&c) {
            Ok(cur) => (Some(cur), cur.code().to_string()),
            Err(e) => {
                errs.add(p(Field::Currency), "unknown_currency", e.to_string());
                (None, c)
            }
        },
    };

    // Dates: invoice date defaults to the day of receipt; due date from the terms.
    let given_invoice_date = clean(&sub.invoice_date);
    let invoice_date = match &given_invoice_date {
        None => Some(today),
        Some(d) => parse_date(p(Field::InvoiceDate), d, &mut errs),
    };
    let dated_by_sender = given_invoice_date.is_some() && mode == Mode::Submit;
    if let Some(d) = invoice_date.filter(|_| dated_by_sender) {
        if d > today {
            errs.add(
                p(Field::InvoiceDate),
                "future_invoice_date",
                format!("{} {d} is after today ({today})", p(Field::InvoiceDate)),
            );
        }
    }
    let due_date = match (clean(&sub.due_date), terms) {
        (Some(d), _) => parse_date(p(Field::DueDate), &d, &mut errs),
        (None, Some(t)) => invoice_date.map(|d| t.due_date(d)),
        (None, None) => {
            errs.push(FieldError::required(p(Field::DueDate)));
            None
        }
    };
    if let Some(due) = due_date {
        if policy.require_future_due_date && due <= today {
            errs.add(
                p(Field::DueDate),
                "due_date_not_in_future",
                format!("{} {due} must be after today ({today})", p(Field::DueDate)),
            );
        }
        // Only against a date the sender wrote: the seed's samples carry no invoice date.
        if let Some(inv) = invoice_date.filter(|_| dated_by_sender) {
            if due < inv {
                errs.add(
                    p(Field::DueDate),
                    "due_before_invoice_date",
                    format!(
                        "{} {due} is before the invoice date {inv}",
                        p(Field::DueDate)
                    ),
                );
            }
        }
    }

    // Lines: every bad field of every line; sums only over fully valid lines.
    let (lines, normalized_lines, lines_ok) = check_lines(sub, policy, currency, &mut errs);

    // Amounts: the seed's required, positive amount; no more decimals than the currency has.
    let total = match sub.total_amount {
        None => {
            errs.push(FieldError::required(p(Field::TotalAmount)));
            None
        }
        Some(t) if t <= Decimal::ZERO => {
            errs.add(
                p(Field::TotalAmount),
                "not_positive",
                format!("{} must be greater than 0, got {t}", p(Field::TotalAmount)),
            );
            None
        }
        Some(t) => check_scale(p(Field::TotalAmount), t, currency, &mut errs).then_some(t),
    };
    if let (Some(t), Some(max)) = (total, policy.max_amount) {
        if t > max {
            errs.add(
                p(Field::TotalAmount),
                "exceeds_max_amount",
                format!("{} {t} exceeds the maximum of {max}", p(Field::TotalAmount)),
            );
        }
    }
    let tax = match sub.tax_amount {
        None => Some(Decimal::ZERO),
        Some(t) if t < Decimal::ZERO => {
            errs.add(
                p(Field::TaxAmount),
                "negative",
                format!("{} may not be negative, got {t}", p(Field::TaxAmount)),
            );
            None
        }
        Some(t) => check_scale(p(Field::TaxAmount), t, currency, &mut errs).then_some(t),
    };
    // A subtotal that was given but is unusable takes no part in the derived checks.
    let mut subtotal_bad = false;
    let given_subtotal = match sub.subtotal {
        None => None,
        Some(s) if s < Decimal::ZERO => {
            errs.add(
                p(Field::Subtotal),
                "negative",
                format!("{} may not be negative, got {s}", p(Field::Subtotal)),
            );
            subtotal_bad = true;
            None
        }
        Some(s) => {
            subtotal_bad = !check_scale(p(Field::Subtotal), s, currency, &mut errs);
            Some(s).filter(|_| !subtotal_bad)
        }
    };
    let lines_sum: Option<Decimal> = if sub.lines.is_empty() || !lines_ok {
        None
    } else {
        lines
            .iter()
            .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(l.amount))
    };
    let subtotal: Option<Decimal> = match (given_subtotal, lines_sum) {
        _ if subtotal_bad => None,
        (Some(s), Some(sum)) => {
            if s != sum {
                errs.add(
                    p(Field::Subtotal),
                    "subtotal_mismatch",
                    format!(
                        "{} {s} does not equal the sum of the lines {sum}",
                        p(Field::Subtotal)
                    ),
                );
            }
            Some(s)
        }
        (Some(s), None) => Some(s),
        (None, Some(sum)) => Some(sum),
        // No lines and no subtotal: the net amount is the total less tax.
        (None, None) if sub.lines.is_empty() => match (total, tax) {
            (Some(t), Some(x)) => t.checked_sub(x),
            _ => None,
        },
        (None, None) => None,
    };
    if let (Some(s), Some(x), Some(t)) = (subtotal, tax, total) {
        match s.checked_add(x) {
            Some(sum) if sum == t => {}
            Some(sum) => {
                let message = match shape {
                    SubmissionShape::Seed => format!(
                        "invoice.amount {t} does not equal the items' quantity × rate sum {sum}"
                    ),
                    SubmissionShape::Canonical => format!(
                        "total_amount {t} does not equal subtotal {s} + tax_amount {x} = {sum}"
                    ),
                };
                errs.add(p(Field::TotalAmount), "total_mismatch", message);
            }
            None => errs.add(
                p(Field::TotalAmount),
                "overflow",
                "subtotal + tax overflows",
            ),
        }
    }

    let normalized = InvoiceSubmission {
        invoice_number: invoice_number.clone(),
        vendor_id: vendor_id.clone(),
        vendor_email,
        po_id: po_id.clone(),
        invoice_date: invoice_date
            .map(|d| d.to_string())
            .or_else(|| clean(&sub.invoice_date)),
        due_date: due_date
            .map(|d| d.to_string())
            .or_else(|| clean(&sub.due_date)),
        currency: Some(currency_text),
        lines: normalized_lines,
        subtotal: subtotal.or(sub.subtotal),
        tax_amount: tax.or(sub.tax_amount),
        total_amount: sub.total_amount,
        description: description.clone(),
        notes: notes.clone(),
        submitted_by: submitted_by.clone(),
        shape,
    };

    let checked = match (
        errs.is_empty(),
        invoice_number,
        vendor_id,
        invoice_date,
        due_date,
        currency,
        subtotal,
        tax,
        total,
    ) {
        (
            true,
            Some(invoice_number),
            Some(vendor_id),
            Some(invoice_date),
            Some(due_date),
            Some(currency),
            Some(subtotal),
            Some(tax_amount),
            Some(total_amount),
        ) => Some(CheckedInvoice {
            invoice_number,
            vendor_id,
            po_id,
            invoice_date,
            due_date,
            currency,
            lines,
            subtotal,
            tax_amount,
            total_amount,
            description,
            notes,
            submitted_by,
        }),
        _ => None,
    };
    (errs, normalized, checked)
}

/// Checks every line, returning the valid lines, the normalized inputs (numbered, with
/// amounts) and whether all lines were valid (only then are sums meaningful).
fn check_lines(
    sub: &InvoiceSubmission,
    policy: &ValidationPolicy,
    currency: Option<Currency>,
    errs: &mut FieldErrors,
) -> (Vec<InvoiceLine>, Vec<InvoiceLineInput>, bool) {
    let shape = sub.shape;
    let p = |f: Field| shape.path(f);
    let mut lines = Vec::with_capacity(sub.lines.len().min(MAX_LINES));
    let mut normalized_lines = sub.lines.clone();
    let mut lines_ok = true;
    if sub.lines.len() > policy.max_lines {
        errs.add(
            p(Field::Lines),
            "too_many_lines",
            format!(
                "{} has {} lines; at most {} are allowed",
                p(Field::Lines),
                sub.lines.len(),
                policy.max_lines
            ),
        );
        lines_ok = false;
    } else {
        let mut seen = HashSet::new();
        for (i, (l, norm)) in sub
            .lines
            .iter()
            .zip(normalized_lines.iter_mut())
            .enumerate()
        {
            let lp = |f: LineField| shape.line_path(i, f);
            let mut ok = true;
            let line_no = l.line_no.unwrap_or(i as u32 + 1);
            if !seen.insert(line_no) {
                errs.add(
                    lp(LineField::LineNo),
                    "duplicate_line_no",
                    format!("line number {line_no} appears twice"),
                );
                ok = false;
            }
            norm.line_no = Some(line_no);
            let line_description = clean(&l.description);
            norm.description = line_description.clone();
            if line_description.is_none() {
                errs.push(FieldError::required(lp(LineField::Description)));
                ok = false;
            }
            check_len(
                &lp(LineField::Description),
                &line_description,
                MAX_TEXT_LEN,
                errs,
            );
            let quantity = positive(&lp(LineField::Quantity), l.quantity, None, errs);
            let unit_price = positive(&lp(LineField::UnitPrice), l.unit_price, currency, errs);
            if let Some(a) = l.amount {
                ok &= check_scale(&lp(LineField::Amount), a, currency, errs);
            }
            let (Some(quantity), Some(unit_price)) = (quantity, unit_price) else {
                lines_ok = false;
                continue;
            };
            let minor = currency.map_or(2, |c| c.minor_units());
            let Some(computed) = quantity.checked_mul(unit_price).map(|a| a.round_dp(minor)) else {
                errs.add(
                    lp(LineField::Amount),
                    "overflow",
                    "quantity × unit price overflows",
                );
                lines_ok = false;
                continue;
            };
            if let Some(a) = l.amount {
                if a != computed {
                    errs.add(
                        lp(LineField::Amount),
                        "amount_mismatch",
                        format!(
                            "{} {a} is not quantity × unit price = {computed}",
                            lp(LineField::Amount)
                        ),
                    );
                    ok = false;
                }
            }
            norm.amount = Some(l.amount.unwrap_or(computed));
            if ok {
                lines.push(InvoiceLine {
                    line_no,
                    description: line_description.unwrap_or_default(),
                    quantity,
                    unit_price,
                    amount: l.amount.unwrap_or(computed),
                    po_line_no: l.po_line_no,
                });
            } else {
                lines_ok = false;
            }
        }
    }
    (lines, normalized_lines, lines_ok)
}

/// A required, strictly positive decimal; with a currency, at most its minor units.
fn positive(
    field: &str,
    v: Option<Decimal>,
    currency: Option<Currency>,
    errs: &mut FieldErrors,
) -> Option<Decimal> {
    match v {
        None => {
            errs.push(FieldError::required(field));
            None
        }
        Some(v) if v <= Decimal::ZERO => {
            errs.add(
                field,
                "not_positive",
                format!("{field} must be greater than 0, got {v}"),
            );
            None
        }
        Some(v) => check_scale(field, v, currency, errs).then_some(v),
    }
}

/// Turns a validated submission into the stored invoice (`received`, version 1).
///
/// `submitted_by` is the authenticated submitter (API principal, or a system actor such as
/// the Textract processor); when empty, the submission's own `submitted_by` is used. The
/// normalized submission is re-checked structurally, so a forged or stale report cannot
/// produce an inconsistent invoice; time-dependent rules are not re-applied.
pub fn build_invoice(
    report: &ValidationReport,
    id: String,
    submitted_by: &str,
    now: DateTime<Utc>,
    source: InvoiceSource,
) -> Result<Invoice, DomainError> {
    if !report.valid {
        let errors = if report.errors.is_empty() {
            vec![FieldError::new(
                ROOT,
                "invalid",
                "the validation report says the invoice is invalid",
            )]
        } else {
            report.errors.clone()
        };
        return Err(DomainError::Invalid(errors));
    }
    let submission = InvoiceSubmission {
        shape: report.shape,
        ..report.invoice.clone()
    };
    let (errs, _, checked) = check(
        &submission,
        &ValidationPolicy::structural(),
        now.date_naive(),
        None,
        Mode::Rebuild,
    );
    errs.into_result(())?;
    let Some(c) = checked else {
        return Err(DomainError::rule(
            "invoice_validation",
            "the submission did not produce a complete invoice",
        ));
    };
    let submitted_by = match submitted_by.trim() {
        "" => c.submitted_by.clone().ok_or_else(|| {
            DomainError::Invalid(vec![FieldError::required(
                report.shape.path(Field::SubmittedBy),
            )])
        })?,
        who => who.to_string(),
    };
    Ok(Invoice {
        id,
        invoice_number: c.invoice_number,
        vendor_id: c.vendor_id,
        po_id: c.po_id.unwrap_or_default(),
        invoice_date: c.invoice_date,
        due_date: c.due_date,
        currency: c.currency,
        lines: c.lines,
        subtotal: c.subtotal,
        tax_amount: c.tax_amount,
        total_amount: c.total_amount,
        status: InvoiceStatus::Received,
        source,
        description: c.description,
        submitted_by,
        submitted_at: now,
        approved_by: None,
        extraction: None,
        match_report: None,
        notes: c.notes,
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn seed_paths_follow_the_seed_names() {
        assert_eq!(
            SubmissionShape::Seed.path(Field::DueDate),
            "invoice.dueDate"
        );
        assert_eq!(
            SubmissionShape::Seed.line_path(2, LineField::UnitPrice),
            "invoice.items[2].rate"
        );
        assert_eq!(
            SubmissionShape::Canonical.line_path(1, LineField::Quantity),
            "lines[1].quantity"
        );
    }

    #[test]
    fn json_numbers_and_exponents_are_exact() {
        assert_eq!(number_to_decimal("1500.00"), Some(dec!(1500.00)));
        assert_eq!(number_to_decimal("1.5e3"), Some(dec!(1500)));
        assert_eq!(number_to_decimal("0.1"), Some(dec!(0.1)));
        assert_eq!(number_to_decimal("1e400"), None);
    }

    #[test]
    fn canonical_reader_matches_serde() {
        let doc = json!({
            "invoice_number": "A-1", "vendor_id": "ven-1", "po_id": "po-1",
            "invoice_date": "2026-11-01", "currency": "EUR", "total_amount": "10.00",
            "lines": [{"description": "x", "quantity": 2, "rate": 5, "po_line_no": 1}]
        });
        let by_reader = SubmissionDocument::from_json(&doc).unwrap();
        let by_serde: InvoiceSubmission = serde_json::from_value(doc).unwrap();
        assert_eq!(by_reader, by_serde);
    }

    #[test]
    fn derived_due_date_uses_terms() {
        let sub = InvoiceSubmission {
            invoice_number: Some("A-1".into()),
            vendor_id: Some("ven-1".into()),
            invoice_date: Some("2026-11-20".into()),
            total_amount: Some(dec!(10)),
            ..Default::default()
        };
        let terms = PaymentTerms::parse("Net 30").unwrap();
        let r = validate(&sub, &ValidationPolicy::default(), today(), Some(&terms));
        assert!(r.valid, "{:?}", r.errors);
        assert_eq!(r.invoice.due_date.as_deref(), Some("2026-12-20"));
        let r = validate(&sub, &ValidationPolicy::default(), today(), None);
        assert_eq!(r.errors[0].field, "due_date");
        assert_eq!(r.errors[0].code, "required");
    }
}
