//! Invoices as stored, and their lifecycle.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::money::{Currency, Money};
use crate::status::Lifecycle;
use crate::status_enum;

status_enum!(
    /// `received -> validated -> matched|rejected|needs_review -> approved -> paid`, plus
    /// `duplicate|cancelled`.
    InvoiceStatus {
        Received => "received",
        Validated => "validated",
        Matched => "matched",
        Rejected => "rejected",
        NeedsReview => "needs_review",
        Approved => "approved",
        Paid => "paid",
        Duplicate => "duplicate",
        Cancelled => "cancelled",
    }
);

impl Lifecycle for InvoiceStatus {
    const ENTITY: &'static str = "invoice";
    const TRANSITIONS: &'static [(Self, Self)] = {
        use InvoiceStatus::*;
        &[
            (Received, Validated),
            (Received, Matched),
            (Received, Rejected),
            (Received, NeedsReview),
            (Received, Duplicate),
            (Received, Cancelled),
            (Validated, Matched),
            (Validated, Rejected),
            (Validated, NeedsReview),
            (Validated, Cancelled),
            // A reviewer resolves a needs-review invoice either way, or re-runs matching.
            (NeedsReview, Matched),
            (NeedsReview, Rejected),
            (NeedsReview, Received),
            (NeedsReview, Cancelled),
            // A corrected invoice goes back for matching.
            (Rejected, Received),
            (Rejected, Cancelled),
            (Matched, Approved),
            (Matched, Cancelled),
            (Approved, Paid),
        ]
    };
    fn as_str(&self) -> &'static str {
        InvoiceStatus::as_str(self)
    }
}

impl InvoiceStatus {
    /// Invoice fields may still change (the seed: update only before matching).
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Received
                | InvoiceStatus::Validated
                | InvoiceStatus::NeedsReview
                | InvoiceStatus::Rejected
        )
    }
    /// Not yet paid or closed: blocks deleting the vendor.
    pub fn is_unpaid(self) -> bool {
        !matches!(
            self,
            InvoiceStatus::Paid
                | InvoiceStatus::Cancelled
                | InvoiceStatus::Duplicate
                | InvoiceStatus::Rejected
        )
    }
    /// May be deleted (only unmatched invoices).
    pub fn is_deletable(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Received
                | InvoiceStatus::Validated
                | InvoiceStatus::Rejected
                | InvoiceStatus::NeedsReview
                | InvoiceStatus::Duplicate
                | InvoiceStatus::Cancelled
        )
    }
}

status_enum!(
    /// How the invoice reached us.
    InvoiceSource {
        Api => "api",
        Textract => "textract",
    }
);

/// One billed line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub line_no: u32,
    pub description: String,
    #[serde(with = "crate::money::decimal_str")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub unit_price: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub amount: Decimal,
    /// The PO line this bills, when known (otherwise matched by position).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line_no: Option<u32>,
}

/// Where an extracted invoice came from and how sure the extraction was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtractionMetadata {
    pub document_id: String,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub key: String,
    /// Confidence (0..=100) per field name, as a decimal string.
    #[serde(default)]
    pub field_confidence: BTreeMap<String, Decimal>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub average_confidence: Option<Decimal>,
    /// Why the extraction needs a human, if it does.
    #[serde(default)]
    pub review_reasons: Vec<String>,
}

/// An invoice as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub invoice_number: String,
    pub vendor_id: String,
    pub po_id: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    #[serde(with = "crate::money::decimal_str")]
    pub subtotal: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub tax_amount: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub total_amount: Decimal,
    pub status: InvoiceStatus,
    pub source: InvoiceSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who submitted it (segregation of duties: they may not approve its payment).
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<ExtractionMetadata>,
    /// The last reconciliation report (JSON of `MatchReport`), when matched or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_report: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

impl Invoice {
    pub fn total(&self) -> Money {
        Money {
            amount: self.total_amount,
            currency: self.currency,
        }
    }

    /// Moves to `to` through the transition table, bumping version and timestamp.
    pub fn with_status(
        &self,
        to: InvoiceStatus,
        now: DateTime<Utc>,
    ) -> Result<Invoice, DomainError> {
        let mut inv = self.clone();
        inv.status = self.status.transition(to)?;
        inv.updated_at = now;
        inv.version += 1;
        Ok(inv)
    }

    /// The key that makes an invoice number unique per vendor (case and spacing folded).
    pub fn uniqueness_key(&self) -> String {
        invoice_number_key(&self.vendor_id, &self.invoice_number)
    }
}

/// `vendor_id#NORMALIZED-NUMBER`: "inv 001" and "INV-001 " are the same invoice number.
pub fn invoice_number_key(vendor_id: &str, invoice_number: &str) -> String {
    let normalized: String = invoice_number
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_' && *c != '/')
        .flat_map(char::to_uppercase)
        .collect();
    format!("{vendor_id}#{normalized}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        use InvoiceStatus::*;
        assert!(Received.transition(Matched).is_ok());
        assert!(Matched.transition(Approved).is_ok());
        assert!(Approved.transition(Paid).is_ok());
        assert!(Paid.transition(Received).is_err());
        assert!(Rejected.transition(Approved).is_err());
        assert!(Received.transition(Approved).is_err());
    }

    #[test]
    fn invoice_number_key_folds_case_and_separators() {
        assert_eq!(
            invoice_number_key("v1", "inv-001"),
            invoice_number_key("v1", " INV 001")
        );
        assert_ne!(
            invoice_number_key("v1", "INV-001"),
            invoice_number_key("v2", "INV-001")
        );
    }
}
