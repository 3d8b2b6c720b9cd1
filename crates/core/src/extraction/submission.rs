//! A draft mapped to the canonical invoice submission the workflow validates
//! (`invoice_number, vendor_id, po_id, invoice_date, due_date, currency, lines[], subtotal,
//! tax_amount, total_amount`). A typed struct: serialize it with serde_json for the
//! workflow input; `crate::validation::SubmissionDocument::from_json` reads that JSON.
//! Missing values are left out so validation names them; nothing is invented except the
//! documented arithmetic below.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::InvoiceDraft;
use crate::money::Currency;

/// Unit prices derived by division keep this many decimals.
const DERIVED_PRICE_DP: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSubmissionLine {
    pub description: String,
    #[serde(with = "crate::money::decimal_str")]
    pub quantity: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub unit_price: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSubmission {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    pub vendor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    pub lines: Vec<DraftSubmissionLine>,
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
}

/// Days in payment terms such as `30 days`, `Net 30`, `14 Tage netto`, `30 jours`.
pub fn payment_terms_days(terms: &str) -> Option<u64> {
    let lower = terms.to_lowercase();
    let has_unit = [
        "day", "net", "tage", "jours", "días", "dias", "giorni", "dagen",
    ]
    .iter()
    .any(|u| lower.contains(u));
    if !has_unit {
        return None;
    }
    let digits: Vec<u64> = lower
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty() && s.len() <= 3)
        .filter_map(|s| s.parse().ok())
        .collect();
    match digits.as_slice() {
        [n] => Some(*n),
        _ => None,
    }
}

/// Maps a draft. `vendor_id` and `po_id` are resolved by the caller (vendor by name or tax
/// id, PO by `draft.po_number`). Derivations, all exact:
/// - a line's missing quantity is 1 (unit price = amount), a missing unit price is
///   amount / quantity, a missing amount is quantity × unit price; lines with no number at
///   all (notes such as "Contract No. ...") are dropped;
/// - no line items at all: one line "Invoice total" for the subtotal (or total - tax, or
///   total), so header-level matching can run;
/// - total: TOTAL, else AMOUNT_DUE, else subtotal + tax; subtotal: SUBTOTAL, else the sum
///   of the lines, else total - tax; tax: TAX, else total - subtotal;
/// - due date: DUE_DATE, else invoice date + the days of the payment terms.
pub fn to_submission(
    draft: &InvoiceDraft,
    vendor_id: &str,
    po_id: Option<&str>,
) -> DraftSubmission {
    let total_in = draft
        .total
        .as_ref()
        .or(draft.amount_due.as_ref())
        .map(|f| f.value);
    let tax_in = draft.tax.as_ref().map(|f| f.value);

    let mut lines: Vec<DraftSubmissionLine> = draft
        .line_items
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let (quantity, unit_price, amount) = match (l.quantity, l.unit_price, l.amount) {
                (Some(q), Some(p), Some(a)) => (q, p, a),
                (Some(q), None, Some(a)) if !q.is_zero() => (
                    q,
                    a.checked_div(q)?.round_dp(DERIVED_PRICE_DP).normalize(),
                    a,
                ),
                (None, Some(p), Some(a)) if !p.is_zero() && (a % p).is_zero() => (a / p, p, a),
                (_, None, Some(a)) | (None, Some(_), Some(a)) => (Decimal::ONE, a, a),
                (q, Some(p), None) => {
                    let q = q.unwrap_or(Decimal::ONE);
                    (q, p, q.checked_mul(p)?)
                }
                _ => return None,
            };
            let description = l
                .description
                .clone()
                .or_else(|| l.product_code.clone())
                .unwrap_or_else(|| format!("Line {}", i + 1));
            Some(DraftSubmissionLine {
                description,
                quantity,
                unit_price,
                amount,
            })
        })
        .collect();

    let lines_sum = if lines.is_empty() {
        None
    } else {
        lines
            .iter()
            .try_fold(Decimal::ZERO, |acc, l| acc.checked_add(l.amount))
    };
    let subtotal = draft
        .subtotal
        .as_ref()
        .map(|f| f.value)
        .or(lines_sum)
        .or_else(|| match (total_in, tax_in) {
            (Some(t), Some(x)) => t.checked_sub(x),
            _ => None,
        });
    let total = total_in.or_else(|| match (subtotal, tax_in) {
        (Some(s), Some(x)) => s.checked_add(x),
        _ => None,
    });
    let tax = tax_in.or_else(|| match (total, subtotal) {
        (Some(t), Some(s)) => t.checked_sub(s),
        _ => None,
    });
    if lines.is_empty() {
        if let Some(amount) = subtotal.or(total) {
            lines.push(DraftSubmissionLine {
                description: "Invoice total".to_string(),
                quantity: Decimal::ONE,
                unit_price: amount,
                amount,
            });
        }
    }

    let invoice_date = draft.invoice_date.as_ref().map(|f| f.value);
    let due_date = draft.due_date.as_ref().map(|f| f.value).or_else(|| {
        let days = payment_terms_days(&draft.payment_terms.as_ref()?.value)?;
        invoice_date?.checked_add_days(Days::new(days))
    });

    DraftSubmission {
        invoice_number: draft.invoice_number.as_ref().map(|f| f.value.clone()),
        vendor_id: vendor_id.to_string(),
        po_id: po_id.map(str::to_string),
        invoice_date,
        due_date,
        currency: draft.currency.as_ref().map(|f| f.value),
        lines,
        subtotal,
        tax_amount: tax,
        total_amount: total,
    }
}
