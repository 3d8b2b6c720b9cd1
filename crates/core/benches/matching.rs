//! Matching a 50-line invoice against its PO with goods receipts (budget: ≤ 20 µs).

use std::hint::black_box;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use p2p_core::invoice::{Invoice, InvoiceLine, InvoiceSource, InvoiceStatus};
use p2p_core::matching::{match_invoice, MatchPolicy};
use p2p_core::money::Currency;
use p2p_core::purchase_order::{GoodsReceipt, PoLine, PoStatus, PurchaseOrder, ReceiptLine};
use rust_decimal::Decimal;

const LINES: u32 = 50;

fn fixture() -> (PurchaseOrder, Invoice, Vec<GoodsReceipt>) {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
    let po_lines: Vec<PoLine> = (1..=LINES)
        .map(|n| {
            let quantity = Decimal::from(n * 3);
            let unit_price = Decimal::new(1999 + i64::from(n) * 37, 2);
            PoLine {
                line_no: n,
                description: format!("Part {n}"),
                quantity,
                unit_price,
                amount: quantity * unit_price,
            }
        })
        .collect();
    let total: Decimal = po_lines.iter().map(|l| l.amount).sum();
    let po = PurchaseOrder {
        id: "po-1".into(),
        po_number: "PO-1".into(),
        vendor_id: "ven-1".into(),
        description: String::new(),
        lines: po_lines.clone(),
        currency: Currency::USD,
        total_amount: total,
        status: PoStatus::Approved,
        requested_by: "buyer".into(),
        approved_by: Some("manager".into()),
        delivery_date: None,
        created_at: now,
        updated_at: now,
        version: 2,
    };
    let invoice = Invoice {
        id: "inv-1".into(),
        invoice_number: "INV-1".into(),
        vendor_id: "ven-1".into(),
        po_id: "po-1".into(),
        invoice_date: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        currency: Currency::USD,
        lines: po_lines
            .iter()
            .map(|l| InvoiceLine {
                line_no: l.line_no,
                description: l.description.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                amount: l.amount,
                po_line_no: Some(l.line_no),
            })
            .collect(),
        subtotal: total,
        tax_amount: Decimal::ZERO,
        total_amount: total,
        status: InvoiceStatus::Received,
        source: InvoiceSource::Api,
        description: None,
        submitted_by: "clerk".into(),
        submitted_at: now,
        approved_by: None,
        extraction: None,
        match_report: None,
        notes: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    // Two deliveries of whole units: about two thirds, then the rest.
    let first_part = |q: Decimal| (q * Decimal::TWO / Decimal::from(3)).floor();
    let receipt = |id: &str, part: &dyn Fn(Decimal) -> Decimal| GoodsReceipt {
        id: id.into(),
        po_id: "po-1".into(),
        lines: po_lines
            .iter()
            .map(|l| ReceiptLine {
                line_no: l.line_no,
                quantity_accepted: part(l.quantity),
                quantity_rejected: Decimal::ZERO,
            })
            .collect(),
        received_by: "dock".into(),
        received_at: now,
        notes: None,
    };
    let receipts = vec![
        receipt("gr-1", &first_part),
        receipt("gr-2", &|q| q - first_part(q)),
    ];
    (po, invoice, receipts)
}

fn bench(c: &mut Criterion) {
    let (po, invoice, receipts) = fixture();
    let policy = MatchPolicy::default();
    let check = match_invoice(&invoice, &po, &receipts, &[], &policy);
    assert!(
        check.discrepancies.is_empty(),
        "bench fixture must match: {:?}",
        check.discrepancies
    );
    c.bench_function("match_invoice/50_lines_three_way", |b| {
        b.iter(|| {
            match_invoice(
                black_box(&invoice),
                black_box(&po),
                black_box(&receipts),
                black_box(&[]),
                black_box(&policy),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
