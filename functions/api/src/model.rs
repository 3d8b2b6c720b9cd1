//! The API's wire types: requests (strict: unknown fields refused) and responses, each with
//! its OpenAPI schema. Amounts are decimal strings (never floats); responses are built
//! from the core records by `From`, so the wire shape is decided here, not by storage.

use chrono::{DateTime, NaiveDate, Utc};
use p2p_core::audit::AuditEntry;
use p2p_core::invoice::{Invoice, InvoiceLine};
use p2p_core::payment::{Payment, PaymentFileFormat};
use p2p_core::purchase_order::{GoodsReceipt, PoLine, PurchaseOrder, ReceiptLine};
use p2p_core::vendor::{BankAccountInput, Vendor};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Mirrors a core status enum with an OpenAPI schema, converting both ways.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident => $core:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // Every wire text is the snake_case variant name; `rename_all` (unlike a per-variant
        // rename inside a macro) is what the schema generator reads too.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }
        impl $name {
            /// The wire text (checked against the core's in tests).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl From<$name> for $core {
            fn from(v: $name) -> $core {
                match v { $($name::$variant => <$core>::$variant),+ }
            }
        }
        impl From<$core> for $name {
            fn from(v: $core) -> $name {
                match v { $(<$core>::$variant => $name::$variant),+ }
            }
        }
    };
}

api_enum!(VendorStatus => p2p_core::vendor::VendorStatus {
    Pending => "pending", Active => "active", Inactive => "inactive", Suspended => "suspended",
});
api_enum!(PoStatus => p2p_core::purchase_order::PoStatus {
    Draft => "draft", Pending => "pending", Approved => "approved", Rejected => "rejected",
    Sent => "sent", Closed => "closed",
});
api_enum!(InvoiceStatus => p2p_core::invoice::InvoiceStatus {
    Received => "received", Validated => "validated", Matched => "matched",
    Rejected => "rejected", NeedsReview => "needs_review", Approved => "approved",
    Paid => "paid", Duplicate => "duplicate", Cancelled => "cancelled",
});
api_enum!(PaymentStatus => p2p_core::payment::PaymentStatus {
    Approved => "approved", Sent => "sent", Failed => "failed",
});
api_enum!(FileFormat => PaymentFileFormat { Xml => "xml", Json => "json" });

/// Statuses a new PO may start in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewPoStatus {
    Draft,
    Pending,
}

/// A decimal amount as submitted: a string (preferred) or an exact JSON number.
pub const DECIMAL_PATTERN: &str = r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$";

mod dec_opt {
    pub use p2p_core::money::decimal_str_opt::*;
}

// ---------------------------------------------------------------- pagination

/// One page of results, oldest first; `next_token` is absent on the last page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------- vendors

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
}

impl From<BankAccountBody> for BankAccountInput {
    fn from(b: BankAccountBody) -> Self {
        BankAccountInput {
            iban: b.iban,
            bic: b.bic,
            routing_number: b.routing_number,
            account_number: b.account_number,
        }
    }
}

/// A new vendor. `status` defaults to `active`, `payment_terms` to `Net 30`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorCreate {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(example = "ap@vendor.example")]
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    /// e.g. `Net 30`, `2/10 Net 30`, `Net 30 EOM`, `Due on receipt`.
    #[serde(default)]
    pub payment_terms: Option<String>,
    #[serde(default)]
    pub status: Option<VendorStatus>,
    #[serde(default)]
    pub bank_account: Option<BankAccountBody>,
}

/// Changes to a vendor; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorUpdate {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub payment_terms: Option<String>,
    #[serde(default)]
    pub status: Option<VendorStatus>,
    #[serde(default)]
    pub bank_account: Option<BankAccountBody>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VendorView {
    pub id: String,
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    pub payment_terms: String,
    pub status: VendorStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<BankAccountBody>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: u64,
}

impl From<Vendor> for VendorView {
    fn from(v: Vendor) -> Self {
        VendorView {
            bank_account: v.bank_account.as_ref().map(|b| {
                let i = b.to_input();
                BankAccountBody {
                    iban: i.iban,
                    bic: i.bic,
                    routing_number: i.routing_number,
                    account_number: i.account_number,
                }
            }),
            id: v.id,
            name: v.name,
            email: v.email.as_str().to_string(),
            phone: v.phone,
            address: v.address,
            tax_id: v.tax_id,
            payment_terms: v.payment_terms.to_string(),
            status: v.status.into(),
            created_at: v.created_at,
            updated_at: v.updated_at,
            version: v.version,
        }
    }
}

// ---------------------------------------------------------------- purchase orders

/// A PO or invoice line. `amount` defaults to quantity × unit price (and must equal it).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    #[serde(default)]
    #[schema(minimum = 1)]
    pub line_no: Option<u32>,
    #[schema(min_length = 1)]
    pub description: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String, pattern = r"^[0-9]{1,9}(\.[0-9]{1,4})?$", example = "10")]
    pub quantity: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String, pattern = r"^[0-9]{1,9}(\.[0-9]{1,2})?$", example = "12.50")]
    pub unit_price: Decimal,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub amount: Option<Decimal>,
}

impl From<LineBody> for p2p_core::purchase_order::LineInput {
    fn from(l: LineBody) -> Self {
        p2p_core::purchase_order::LineInput {
            line_no: l.line_no,
            description: Some(l.description),
            quantity: Some(l.quantity),
            unit_price: Some(l.unit_price),
            amount: l.amount,
        }
    }
}

/// A new purchase order; the requester is the caller.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderCreate {
    pub vendor_id: String,
    #[serde(default)]
    pub po_number: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<LineBody>,
    /// ISO 4217, default USD.
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: Option<String>,
    /// When given, must equal the sum of the lines.
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub total_amount: Option<Decimal>,
    #[serde(default)]
    pub delivery_date: Option<NaiveDate>,
    #[serde(default)]
    pub status: Option<NewPoStatus>,
}

/// Changes to an editable (draft, pending or rejected) PO; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderUpdate {
    #[serde(default)]
    pub po_number: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Option<Vec<LineBody>>,
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default)]
    pub delivery_date: Option<NaiveDate>,
    /// `draft` or `pending` (submit for approval).
    #[serde(default)]
    pub status: Option<NewPoStatus>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PoLineView {
    pub line_no: u32,
    pub description: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub amount: Decimal,
}

impl From<PoLine> for PoLineView {
    fn from(l: PoLine) -> Self {
        PoLineView {
            line_no: l.line_no,
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            amount: l.amount,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrderView {
    pub id: String,
    pub po_number: String,
    pub vendor_id: String,
    pub description: String,
    pub lines: Vec<PoLineView>,
    pub currency: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub total_amount: Decimal,
    pub status: PoStatus,
    pub requested_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl From<PurchaseOrder> for PurchaseOrderView {
    fn from(p: PurchaseOrder) -> Self {
        PurchaseOrderView {
            id: p.id,
            po_number: p.po_number,
            vendor_id: p.vendor_id,
            description: p.description,
            lines: p.lines.into_iter().map(Into::into).collect(),
            currency: p.currency.code().to_string(),
            total_amount: p.total_amount,
            status: p.status.into(),
            requested_by: p.requested_by,
            approved_by: p.approved_by,
            delivery_date: p.delivery_date,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineBody {
    #[schema(minimum = 1)]
    pub line_no: u32,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,9}(\.[0-9]{1,4})?$")]
    pub quantity_accepted: Option<Decimal>,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,9}(\.[0-9]{1,4})?$")]
    pub quantity_rejected: Option<Decimal>,
}

/// Goods received on an approved or sent PO; the receiver is the caller.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoodsReceiptCreate {
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<ReceiptLineBody>,
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptLineView {
    pub line_no: u32,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub quantity_accepted: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub quantity_rejected: Decimal,
}

impl From<ReceiptLine> for ReceiptLineView {
    fn from(l: ReceiptLine) -> Self {
        ReceiptLineView {
            line_no: l.line_no,
            quantity_accepted: l.quantity_accepted,
            quantity_rejected: l.quantity_rejected,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoodsReceiptView {
    pub id: String,
    pub po_id: String,
    pub lines: Vec<ReceiptLineView>,
    pub received_by: String,
    pub received_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl From<GoodsReceipt> for GoodsReceiptView {
    fn from(g: GoodsReceipt) -> Self {
        GoodsReceiptView {
            id: g.id,
            po_id: g.po_id,
            lines: g.lines.into_iter().map(Into::into).collect(),
            received_by: g.received_by,
            received_at: g.received_at,
            notes: g.notes,
        }
    }
}

// ---------------------------------------------------------------- invoices

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineBody {
    #[serde(default)]
    #[schema(minimum = 1)]
    pub line_no: Option<u32>,
    /// The PO line billed; default: the PO line with this line's number.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub po_line_no: Option<u32>,
    #[schema(min_length = 1)]
    pub description: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String, pattern = r"^[0-9]{1,9}(\.[0-9]{1,4})?$", example = "10")]
    pub quantity: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String, pattern = r"^[0-9]{1,9}(\.[0-9]{1,2})?$", example = "12.50")]
    pub unit_price: Decimal,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub amount: Option<Decimal>,
}

impl From<InvoiceLineBody> for p2p_core::validation::InvoiceLineInput {
    fn from(l: InvoiceLineBody) -> Self {
        p2p_core::validation::InvoiceLineInput {
            line_no: l.line_no,
            po_line_no: l.po_line_no,
            description: Some(l.description),
            quantity: Some(l.quantity),
            unit_price: Some(l.unit_price),
            amount: l.amount,
        }
    }
}

/// An invoice against a purchase order; the submitter is the caller. `vendor_id` defaults
/// to the PO's vendor; `due_date` to the vendor's payment terms.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceCreate {
    #[schema(min_length = 1, max_length = 128)]
    pub invoice_number: String,
    pub po_id: String,
    #[serde(default)]
    pub vendor_id: Option<String>,
    #[serde(default)]
    pub invoice_date: Option<NaiveDate>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: Option<String>,
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<InvoiceLineBody>,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub tax_amount: Option<Decimal>,
    /// Lines plus tax; must match them.
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$", example = "125.00")]
    pub total_amount: Decimal,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

/// Changes to an invoice not yet matched; absent fields keep their value. A rejected or
/// needs-review invoice goes back to `received` for matching.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceUpdate {
    #[serde(default)]
    pub invoice_date: Option<NaiveDate>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    #[serde(default)]
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Option<Vec<InvoiceLineBody>>,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub tax_amount: Option<Decimal>,
    #[serde(default, with = "dec_opt")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
    pub total_amount: Option<Decimal>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceLineView {
    pub line_no: u32,
    pub description: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub po_line_no: Option<u32>,
}

impl From<InvoiceLine> for InvoiceLineView {
    fn from(l: InvoiceLine) -> Self {
        InvoiceLineView {
            line_no: l.line_no,
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            amount: l.amount,
            po_line_no: l.po_line_no,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: String,
    pub invoice_number: String,
    pub vendor_id: String,
    pub po_id: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub lines: Vec<InvoiceLineView>,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub tax_amount: Decimal,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub total_amount: Decimal,
    pub status: InvoiceStatus,
    /// `api` or `textract`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The last reconciliation's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub match_report: Option<serde_json::Value>,
    /// Textract extraction details, for scanned invoices.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extraction: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        InvoiceView {
            extraction: i
                .extraction
                .as_ref()
                .and_then(|e| serde_json::to_value(e).ok()),
            id: i.id,
            invoice_number: i.invoice_number,
            vendor_id: i.vendor_id,
            po_id: i.po_id,
            invoice_date: i.invoice_date,
            due_date: i.due_date,
            currency: i.currency.code().to_string(),
            lines: i.lines.into_iter().map(Into::into).collect(),
            subtotal: i.subtotal,
            tax_amount: i.tax_amount,
            total_amount: i.total_amount,
            status: i.status.into(),
            source: i.source.as_str().to_string(),
            description: i.description,
            submitted_by: i.submitted_by,
            submitted_at: i.submitted_at,
            approved_by: i.approved_by,
            match_report: i.match_report,
            notes: i.notes,
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        }
    }
}

/// The outcome of `PUT /invoices/{id}/reconcile`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReconciliationView {
    pub invoice_id: String,
    /// `matched`, `rejected` or `needs_review`.
    pub outcome: String,
    /// Above the auto-approve limit: a human approver is needed.
    pub approval_required: bool,
    #[schema(value_type = String)]
    pub total_amount: String,
    pub currency: String,
    /// The match report: checks, discrepancies, tolerances.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

// ---------------------------------------------------------------- payments

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileLink {
    pub format: FileFormat,
    pub key: String,
    pub download_url: String,
}

pub fn download_url(payment_id: &str, format: PaymentFileFormat) -> String {
    format!("/api/v1/payments/{payment_id}/files/{}", format.as_str())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub invoice_id: String,
    pub vendor_id: String,
    pub invoice_number: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    pub status: PaymentStatus,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xml_s3_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_s3_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workday_confirmed_at: Option<DateTime<Utc>>,
    pub workday_callback_received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Download links of the payment files that were generated.
    pub files: Vec<FileLink>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        let mut files = Vec::new();
        for (key, format) in [
            (&p.xml_s3_key, PaymentFileFormat::Xml),
            (&p.json_s3_key, PaymentFileFormat::Json),
        ] {
            if let Some(key) = key {
                files.push(FileLink {
                    format: format.into(),
                    key: key.clone(),
                    download_url: download_url(&p.id, format),
                });
            }
        }
        PaymentView {
            files,
            id: p.id,
            invoice_id: p.invoice_id,
            vendor_id: p.vendor_id,
            invoice_number: p.invoice_number,
            amount: p.amount,
            currency: p.currency.code().to_string(),
            status: p.status.into(),
            approved_by: p.approved_by,
            approved_at: p.approved_at,
            xml_s3_key: p.xml_s3_key,
            json_s3_key: p.json_s3_key,
            workday_confirmed_at: p.workday_confirmed_at,
            workday_callback_received: p.workday_callback_received,
            notes: p.notes,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// Statuses a payment may be moved to through the API (`sent` is Workday's to confirm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatusChange {
    /// Back to approved after a failed delivery (retry).
    Approved,
    Failed,
}

/// Changes to a payment.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentUpdate {
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    #[serde(default)]
    pub status: Option<PaymentStatusChange>,
}

/// A payment file as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentFileView {
    pub format: FileFormat,
    pub key: String,
    pub content_type: String,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<DateTime<Utc>>,
    pub download_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentFilesView {
    pub payment_id: String,
    pub files: Vec<PaymentFileView>,
}

// ---------------------------------------------------------------- exports

/// One payment file in the export dashboard (the seed's shape; sizes in bytes, not MB).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportFileView {
    pub key: String,
    pub payment_id: String,
    pub file_type: FileFormat,
    pub vendor_id: String,
    pub invoice_id: String,
    #[serde(with = "p2p_core::money::decimal_str")]
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    pub payment_status: PaymentStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_timestamp: Option<DateTime<Utc>>,
    pub size_bytes: u64,
    pub download_url: String,
}

// ---------------------------------------------------------------- workday

/// The body Workday (or the export monitor standing in for it) posts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkdayCallback {
    pub payment_id: String,
    /// `sent` confirms the payment; `failed` reports a failed import.
    pub status: WorkdayOutcome,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub vendor_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub amount: Option<serde_json::Value>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub xml_s3_key: Option<String>,
    #[serde(default)]
    pub json_s3_key: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkdayOutcome {
    Sent,
    Failed,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkdayCallbackResult {
    pub payment_id: String,
    pub previous_status: PaymentStatus,
    pub current_status: PaymentStatus,
    pub workday_callback_received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workday_confirmed_at: Option<DateTime<Utc>>,
    pub invoice_id: String,
    pub invoice_status: InvoiceStatus,
}

/// The seed's integration status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkdayStatusView {
    pub payment_id: String,
    pub current_status: PaymentStatus,
    pub workday_callback_received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workday_confirmed_at: Option<DateTime<Utc>>,
    pub xml_file_available: bool,
    pub json_file_available: bool,
    /// `confirmed`, `pending` (files ready, awaiting Workday), `files_missing`, `failed`.
    pub integration_status: String,
}

// ---------------------------------------------------------------- audit, health

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    #[serde(rename = "type")]
    pub audit_type: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Who did it.
    pub user_id: String,
    pub timestamp: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(a: AuditEntry) -> Self {
        AuditEntryView {
            id: a.id,
            audit_type: a.audit_type.as_str().to_string(),
            action: a.action,
            entity_type: a.entity_type,
            entity_id: a.entity_id,
            user_id: a.user_id,
            timestamp: a.timestamp,
            details: a.details,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
    pub version: String,
}
