//! Builders shared by the matching tests and property tests.
#![allow(dead_code)] // each test binary uses a different subset

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use p2p_core::invoice::{Invoice, InvoiceLine, InvoiceSource, InvoiceStatus};
use p2p_core::money::Currency;
use p2p_core::purchase_order::{GoodsReceipt, PoLine, PoStatus, PurchaseOrder, ReceiptLine};
use rust_decimal::Decimal;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

/// An approved USD purchase order `po-1` of vendor `ven-1` with `(quantity, unit_price)` lines.
pub fn po(lines: &[(Decimal, Decimal)]) -> PurchaseOrder {
    let lines: Vec<PoLine> = lines
        .iter()
        .enumerate()
        .map(|(i, (q, p))| PoLine {
            line_no: i as u32 + 1,
            description: format!("item {}", i + 1),
            quantity: *q,
            unit_price: *p,
            amount: q.saturating_mul(*p).round_dp(2),
        })
        .collect();
    // Saturating: the property tests feed extreme numbers.
    let total = lines
        .iter()
        .fold(Decimal::ZERO, |a, l| a.saturating_add(l.amount));
    PurchaseOrder {
        id: "po-1".into(),
        po_number: "PO-1".into(),
        vendor_id: "ven-1".into(),
        description: String::new(),
        lines,
        currency: Currency::USD,
        total_amount: total,
        status: PoStatus::Approved,
        requested_by: "buyer".into(),
        approved_by: Some("manager".into()),
        delivery_date: None,
        created_at: now(),
        updated_at: now(),
        version: 2,
    }
}

/// An invoice `id` billing `(po_line_no, quantity, unit_price)` on `po-1`, untaxed.
pub fn invoice(id: &str, lines: &[(u32, Decimal, Decimal)]) -> Invoice {
    let lines: Vec<InvoiceLine> = lines
        .iter()
        .enumerate()
        .map(|(i, (po_line, q, p))| InvoiceLine {
            line_no: i as u32 + 1,
            description: format!("billed {}", i + 1),
            quantity: *q,
            unit_price: *p,
            amount: q.saturating_mul(*p).round_dp(2),
            po_line_no: Some(*po_line),
        })
        .collect();
    let subtotal = lines
        .iter()
        .fold(Decimal::ZERO, |a, l| a.saturating_add(l.amount));
    Invoice {
        id: id.into(),
        invoice_number: format!("N-{id}"),
        vendor_id: "ven-1".into(),
        po_id: "po-1".into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        currency: Currency::USD,
        lines,
        subtotal,
        tax_amount: Decimal::ZERO,
        total_amount: subtotal,
        status: InvoiceStatus::Received,
        source: InvoiceSource::Api,
        description: None,
        submitted_by: "clerk".into(),
        submitted_at: now(),
        approved_by: None,
        extraction: None,
        match_report: None,
        notes: None,
        created_at: now(),
        updated_at: now(),
        version: 1,
    }
}

/// An invoice billing every line of `po` exactly as ordered.
pub fn invoice_for(po: &PurchaseOrder) -> Invoice {
    let lines: Vec<(u32, Decimal, Decimal)> = po
        .lines
        .iter()
        .map(|l| (l.line_no, l.quantity, l.unit_price))
        .collect();
    invoice("inv-1", &lines)
}

/// Sets the invoice's net and gross totals (e.g. an invoice-level discount).
pub fn with_subtotal(mut inv: Invoice, subtotal: Decimal) -> Invoice {
    inv.subtotal = subtotal;
    inv.total_amount = subtotal + inv.tax_amount;
    inv
}

pub fn with_status(mut inv: Invoice, status: InvoiceStatus) -> Invoice {
    inv.status = status;
    inv
}

/// A receipt on `po-1` accepting `(line_no, quantity)`.
pub fn receipt(id: &str, lines: &[(u32, Decimal)]) -> GoodsReceipt {
    GoodsReceipt {
        id: id.into(),
        po_id: "po-1".into(),
        lines: lines
            .iter()
            .map(|(n, q)| ReceiptLine {
                line_no: *n,
                quantity_accepted: *q,
                quantity_rejected: Decimal::ZERO,
            })
            .collect(),
        received_by: "dock".into(),
        received_at: now(),
        notes: None,
    }
}
