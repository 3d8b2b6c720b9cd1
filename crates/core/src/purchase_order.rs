//! Purchase orders and their goods receipts (the third leg of a three-way match).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, FieldError, FieldErrors};
use crate::money::{Currency, Money};
use crate::status::Lifecycle;
use crate::status_enum;
use crate::vendor::{Vendor, VendorStatus};

/// Most lines a PO or an invoice may carry; more is refused, not truncated.
pub const MAX_LINES: usize = 500;

status_enum!(
    /// `draft|pending|approved|rejected|sent|closed`
    PoStatus {
        Draft => "draft",
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Sent => "sent",
        Closed => "closed",
    }
);

impl Lifecycle for PoStatus {
    const ENTITY: &'static str = "purchase order";
    const TRANSITIONS: &'static [(Self, Self)] = &[
        (PoStatus::Draft, PoStatus::Pending),
        (PoStatus::Draft, PoStatus::Approved),
        (PoStatus::Pending, PoStatus::Approved),
        (PoStatus::Pending, PoStatus::Rejected),
        (PoStatus::Rejected, PoStatus::Draft),
        (PoStatus::Approved, PoStatus::Sent),
        (PoStatus::Approved, PoStatus::Closed),
        (PoStatus::Sent, PoStatus::Closed),
    ];
    fn as_str(&self) -> &'static str {
        PoStatus::as_str(self)
    }
}

impl PoStatus {
    /// POs whose contents may still be edited.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            PoStatus::Draft | PoStatus::Pending | PoStatus::Rejected
        )
    }
    /// POs an invoice may be matched against (the seed's rule).
    pub fn accepts_invoices(self) -> bool {
        matches!(self, PoStatus::Approved | PoStatus::Sent)
    }
    /// Open POs block deleting their vendor.
    pub fn is_open(self) -> bool {
        !matches!(self, PoStatus::Closed | PoStatus::Rejected)
    }
}

/// One ordered line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    pub line_no: u32,
    pub description: String,
    #[serde(with = "crate::money::decimal_str")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub unit_price: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub id: String,
    pub po_number: String,
    pub vendor_id: String,
    #[serde(default)]
    pub description: String,
    pub lines: Vec<PoLine>,
    pub currency: Currency,
    #[serde(with = "crate::money::decimal_str")]
    pub total_amount: Decimal,
    pub status: PoStatus,
    pub requested_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

impl PurchaseOrder {
    pub fn total(&self) -> Money {
        Money {
            amount: self.total_amount,
            currency: self.currency,
        }
    }

    /// Approves the PO. The requester may not approve their own PO (segregation of duties).
    pub fn approve(
        &self,
        approver: &str,
        now: DateTime<Utc>,
    ) -> Result<PurchaseOrder, DomainError> {
        if approver.trim().is_empty() {
            return Err(DomainError::field(
                "approved_by",
                "required",
                "approved_by is required",
            ));
        }
        if approver.eq_ignore_ascii_case(&self.requested_by) {
            return Err(DomainError::rule(
                "segregation_of_duties",
                format!(
                    "{approver} requested purchase order {} and may not approve it",
                    self.id
                ),
            ));
        }
        let mut po = self.clone();
        po.status = self.status.transition(PoStatus::Approved)?;
        po.approved_by = Some(approver.to_string());
        po.updated_at = now;
        po.version += 1;
        Ok(po)
    }

    /// Moves to a new status through the transition table.
    pub fn with_status(
        &self,
        to: PoStatus,
        now: DateTime<Utc>,
    ) -> Result<PurchaseOrder, DomainError> {
        let mut po = self.clone();
        po.status = self.status.transition(to)?;
        po.updated_at = now;
        po.version += 1;
        Ok(po)
    }
}

/// A line as submitted (amount optional: derived from quantity × unit price).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[serde(default)]
    pub line_no: Option<u32>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub quantity: Option<Decimal>,
    #[serde(default, alias = "rate", with = "crate::money::decimal_str_opt")]
    pub unit_price: Option<Decimal>,
    #[serde(
        default,
        alias = "total_amount",
        with = "crate::money::decimal_str_opt"
    )]
    pub amount: Option<Decimal>,
}

/// A checked line: positive quantity and price, amount = quantity × unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLine {
    pub line_no: u32,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

/// Checks lines, reporting each bad field under `{path}[i].field`.
pub fn check_lines(
    path: &str,
    lines: &[LineInput],
    currency: Currency,
    errs: &mut FieldErrors,
) -> Vec<CheckedLine> {
    if lines.is_empty() {
        errs.add(
            path,
            "required",
            format!("{path} must have at least one line"),
        );
        return Vec::new();
    }
    if lines.len() > MAX_LINES {
        errs.add(
            path,
            "too_many_lines",
            format!(
                "{path} has {} lines; at most {MAX_LINES} are allowed",
                lines.len()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let p = |f: &str| format!("{path}[{i}].{f}");
        let mut ok = true;
        let description = l.description.as_deref().map(str::trim).unwrap_or("");
        if description.is_empty() {
            errs.push(FieldError::required(p("description")));
            ok = false;
        }
        let quantity = positive(&p("quantity"), l.quantity, None, errs);
        let unit_price = positive(&p("unit_price"), l.unit_price, Some(currency), errs);
        let (Some(quantity), Some(unit_price)) = (quantity, unit_price) else {
            continue;
        };
        let Some(computed) = quantity.checked_mul(unit_price) else {
            errs.add(p("amount"), "overflow", "quantity × unit_price overflows");
            continue;
        };
        let computed = computed.round_dp(currency.minor_units());
        let amount = match l.amount {
            Some(a) if a != computed => {
                errs.add(
                    p("amount"),
                    "amount_mismatch",
                    format!("amount {a} is not quantity × unit_price = {computed}"),
                );
                ok = false;
                a
            }
            Some(a) => a,
            None => computed,
        };
        if ok {
            out.push(CheckedLine {
                line_no: l.line_no.unwrap_or(i as u32 + 1),
                description: description.to_string(),
                quantity,
                unit_price,
                amount,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    for l in &out {
        if !seen.insert(l.line_no) {
            errs.add(
                path,
                "duplicate_line_no",
                format!("line number {} appears twice", l.line_no),
            );
        }
    }
    out
}

/// A required, strictly positive decimal; with a currency, at most its minor units.
pub fn positive(
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
        Some(v) => match currency.map(|c| c.check_scale(v)) {
            Some(Err(e)) => {
                errs.add(field, "too_many_decimals", e.to_string());
                None
            }
            _ => Some(v),
        },
    }
}

/// What a caller submits to create or replace a PO.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderInput {
    #[serde(default)]
    pub po_number: Option<String>,
    #[serde(default)]
    pub vendor_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, alias = "items", alias = "line_items")]
    pub lines: Vec<LineInput>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub total_amount: Option<Decimal>,
    #[serde(default)]
    pub requested_by: Option<String>,
    #[serde(default)]
    pub delivery_date: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

impl PurchaseOrderInput {
    /// Parses a new PO for `vendor`; only an active vendor gets a PO.
    pub fn into_purchase_order(
        self,
        id: String,
        vendor: &Vendor,
        now: DateTime<Utc>,
    ) -> Result<PurchaseOrder, DomainError> {
        let mut errs = FieldErrors::new();
        if vendor.status != VendorStatus::Active {
            errs.add(
                "vendor_id",
                "vendor_not_active",
                format!("vendor {} is {}, not active", vendor.id, vendor.status),
            );
        }
        if let Some(v) = &self.vendor_id {
            if v != &vendor.id {
                errs.add(
                    "vendor_id",
                    "vendor_mismatch",
                    "vendor_id does not match the vendor",
                );
            }
        }
        let po_number = match self.po_number.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!(
                "PO-{}",
                id.trim_start_matches("po-")
                    .chars()
                    .take(8)
                    .collect::<String>()
                    .to_uppercase()
            ),
        };
        let currency = match self.currency.as_deref() {
            None => Currency::USD,
            Some(c) => errs
                .check("currency", "unknown_currency", Currency::from_str(c))
                .unwrap_or_default(),
        };
        let lines = check_lines("lines", &self.lines, currency, &mut errs);
        let total: Decimal = lines.iter().map(|l| l.amount).sum();
        if let Some(t) = self.total_amount {
            if t != total && lines.len() == self.lines.len() {
                errs.add(
                    "total_amount",
                    "total_mismatch",
                    format!("total_amount {t} does not equal the sum of the lines {total}"),
                );
            }
        }
        let requested_by = match self.requested_by.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => {
                errs.push(FieldError::required("requested_by"));
                String::new()
            }
        };
        let delivery_date = self.delivery_date.as_deref().and_then(|d| {
            errs.check(
                "delivery_date",
                "invalid_date",
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d"),
            )
        });
        let status = match self.status.as_deref() {
            None => PoStatus::Draft,
            Some(s) => match PoStatus::from_str(s) {
                Ok(s @ (PoStatus::Draft | PoStatus::Pending)) => s,
                Ok(other) => {
                    errs.add(
                        "status",
                        "invalid_initial_status",
                        format!("a new purchase order cannot be {other}"),
                    );
                    PoStatus::Draft
                }
                Err(e) => {
                    errs.add("status", "unknown_status", e.to_string());
                    PoStatus::Draft
                }
            },
        };
        errs.into_result(())?;
        Ok(PurchaseOrder {
            id,
            po_number,
            vendor_id: vendor.id.clone(),
            description: self.description.unwrap_or_default().trim().to_string(),
            lines: lines
                .into_iter()
                .map(|l| PoLine {
                    line_no: l.line_no,
                    description: l.description,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    amount: l.amount,
                })
                .collect(),
            currency,
            total_amount: total,
            status,
            requested_by,
            approved_by: None,
            delivery_date,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

/// Received quantities for one PO line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub line_no: u32,
    #[serde(with = "crate::money::decimal_str")]
    pub quantity_accepted: Decimal,
    #[serde(default, with = "crate::money::decimal_str")]
    pub quantity_rejected: Decimal,
}

/// A delivery against a PO: what arrived, what was accepted, who received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoodsReceipt {
    pub id: String,
    pub po_id: String,
    pub lines: Vec<ReceiptLine>,
    pub received_by: String,
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoodsReceiptInput {
    #[serde(default)]
    pub lines: Vec<ReceiptLineInput>,
    #[serde(default)]
    pub received_by: Option<String>,
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineInput {
    #[serde(default)]
    pub line_no: Option<u32>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub quantity_accepted: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub quantity_rejected: Option<Decimal>,
}

impl GoodsReceiptInput {
    /// Parses a receipt against `po`: lines must exist on the PO, quantities ≥ 0, not all zero.
    pub fn into_receipt(
        self,
        id: String,
        po: &PurchaseOrder,
        now: DateTime<Utc>,
    ) -> Result<GoodsReceipt, DomainError> {
        let mut errs = FieldErrors::new();
        if !po.status.accepts_invoices() {
            errs.add(
                "po_id",
                "po_not_open_for_receipt",
                format!(
                    "purchase order {} is {}; goods are received only on approved or sent POs",
                    po.id, po.status
                ),
            );
        }
        if self.lines.is_empty() {
            errs.add(
                "lines",
                "required",
                "a goods receipt needs at least one line",
            );
        }
        if self.lines.len() > MAX_LINES {
            errs.add(
                "lines",
                "too_many_lines",
                format!("at most {MAX_LINES} lines"),
            );
        }
        let mut lines = Vec::new();
        for (i, l) in self.lines.iter().enumerate().take(MAX_LINES) {
            let p = |f: &str| format!("lines[{i}].{f}");
            let Some(line_no) = l.line_no else {
                errs.push(FieldError::required(p("line_no")));
                continue;
            };
            if !po.lines.iter().any(|pl| pl.line_no == line_no) {
                errs.add(
                    p("line_no"),
                    "unknown_line",
                    format!("purchase order {} has no line {line_no}", po.id),
                );
            }
            let accepted = l.quantity_accepted.unwrap_or(Decimal::ZERO);
            let rejected = l.quantity_rejected.unwrap_or(Decimal::ZERO);
            if accepted < Decimal::ZERO {
                errs.add(
                    p("quantity_accepted"),
                    "negative",
                    "quantity_accepted may not be negative",
                );
            }
            if rejected < Decimal::ZERO {
                errs.add(
                    p("quantity_rejected"),
                    "negative",
                    "quantity_rejected may not be negative",
                );
            }
            if accepted.is_zero() && rejected.is_zero() {
                errs.add(
                    p("quantity_accepted"),
                    "not_positive",
                    "a receipt line must receive something",
                );
            }
            lines.push(ReceiptLine {
                line_no,
                quantity_accepted: accepted,
                quantity_rejected: rejected,
            });
        }
        let received_by = match self.received_by.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => {
                errs.push(FieldError::required("received_by"));
                String::new()
            }
        };
        errs.into_result(())?;
        Ok(GoodsReceipt {
            id,
            po_id: po.id.clone(),
            lines,
            received_by,
            received_at: self.received_at.unwrap_or(now),
            notes: self.notes.filter(|n| !n.trim().is_empty()),
        })
    }
}

/// The key a purchase order is found by from its number as printed on an invoice:
/// [`crate::vendor::identifier_key`], so "PO-0042" = "po 0042".
pub fn po_number_key(po_number: &str) -> String {
    crate::vendor::identifier_key(po_number)
}

impl PurchaseOrder {
    /// [`po_number_key`] of the number; `None` when nothing of it is a letter or digit.
    pub fn po_number_key(&self) -> Option<String> {
        Some(po_number_key(&self.po_number)).filter(|k| !k.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(PoStatus::Draft.transition(PoStatus::Approved).is_ok());
        assert!(PoStatus::Closed.transition(PoStatus::Approved).is_err());
        assert!(PoStatus::Approved.transition(PoStatus::Draft).is_err());
        assert!("bogus".parse::<PoStatus>().is_err());
    }

    #[test]
    fn po_numbers_fold_like_identifiers() {
        assert_eq!(po_number_key("PO-0042"), po_number_key(" po 0042 "));
        assert_eq!(po_number_key("098ZYX7654"), "098ZYX7654");
        assert_ne!(po_number_key("PO-0042"), po_number_key("PO-0043"));
        assert_eq!(po_number_key("--"), "");
    }
}
