//! Records for the cases: valid, with fresh ids and explicit timestamps.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use p2p_adapters::{Page, PageRequest, StoreError};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::rfc3339_millis;
use p2p_core::invoice::{Invoice, InvoiceLine, InvoiceSource, InvoiceStatus};
use p2p_core::payment::{payment_id_for, Payment, PaymentStatus};
use p2p_core::purchase_order::{GoodsReceipt, PoLine, PoStatus, PurchaseOrder, ReceiptLine};
use p2p_core::vendor::{Email, PaymentTerms, Vendor, VendorStatus};
use p2p_core::Currency;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A fresh id with a type prefix: unique across tests sharing one backend.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The cases' epoch; `at(n)` is `n` seconds after it.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 9, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::seconds(seconds)
}

/// The order key every list sorts by: `created_at` (millis) then id.
pub fn created_sk(created_at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", rfc3339_millis(created_at))
}

pub fn vendor(status: VendorStatus, created_at: DateTime<Utc>) -> Vendor {
    let id = unique("ven");
    Vendor {
        name: format!("Contract Vendor {id}"),
        email: Email::parse("ap@vendor.example").unwrap(),
        phone: None,
        address: Some("1 Main St".into()),
        tax_id: None,
        payment_terms: PaymentTerms::default(),
        status,
        bank_account: None,
        created_at,
        updated_at: created_at,
        version: 1,
        id,
    }
}

pub fn purchase_order(
    vendor_id: &str,
    status: PoStatus,
    created_at: DateTime<Utc>,
) -> PurchaseOrder {
    let id = unique("po");
    PurchaseOrder {
        po_number: format!("PO-{}", &id[3..11]),
        vendor_id: vendor_id.to_string(),
        description: "Contract test order".into(),
        lines: vec![PoLine {
            line_no: 1,
            description: "Widgets".into(),
            quantity: dec!(10),
            unit_price: dec!(12.50),
            amount: dec!(125.00),
        }],
        currency: Currency::EUR,
        total_amount: dec!(125.00),
        status,
        requested_by: "buyer@corp.example".into(),
        approved_by: None,
        delivery_date: NaiveDate::from_ymd_opt(2025, 4, 1),
        created_at,
        updated_at: created_at,
        version: 1,
        id,
    }
}

pub fn goods_receipt(po_id: &str, received_at: DateTime<Utc>) -> GoodsReceipt {
    GoodsReceipt {
        id: unique("gr"),
        po_id: po_id.to_string(),
        lines: vec![ReceiptLine {
            line_no: 1,
            quantity_accepted: dec!(4),
            quantity_rejected: Decimal::ZERO,
        }],
        received_by: "dock@corp.example".into(),
        received_at,
        notes: None,
    }
}

pub fn invoice(
    vendor_id: &str,
    po_id: &str,
    number: &str,
    status: InvoiceStatus,
    created_at: DateTime<Utc>,
) -> Invoice {
    Invoice {
        id: unique("inv"),
        invoice_number: number.to_string(),
        vendor_id: vendor_id.to_string(),
        po_id: po_id.to_string(),
        invoice_date: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or_default(),
        due_date: NaiveDate::from_ymd_opt(2025, 3, 31).unwrap_or_default(),
        currency: Currency::EUR,
        lines: vec![InvoiceLine {
            line_no: 1,
            description: "Widgets".into(),
            quantity: dec!(10),
            unit_price: dec!(12.50),
            amount: dec!(125.00),
            po_line_no: Some(1),
        }],
        subtotal: dec!(125.00),
        tax_amount: dec!(23.75),
        total_amount: dec!(148.75),
        status,
        source: InvoiceSource::Api,
        description: Some("contract".into()),
        submitted_by: "clerk@corp.example".into(),
        submitted_at: created_at,
        approved_by: None,
        extraction: None,
        match_report: None,
        notes: None,
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

/// A fresh invoice number (unique per test).
pub fn invoice_number() -> String {
    format!("INV-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub fn payment(invoice: &Invoice, status: PaymentStatus, created_at: DateTime<Utc>) -> Payment {
    Payment {
        id: payment_id_for(&invoice.id),
        invoice_id: invoice.id.clone(),
        vendor_id: invoice.vendor_id.clone(),
        invoice_number: invoice.invoice_number.clone(),
        amount: invoice.total_amount,
        currency: invoice.currency,
        status,
        approved_by: "approver@corp.example".into(),
        approved_at: created_at,
        xml_s3_key: None,
        json_s3_key: None,
        workday_confirmed_at: None,
        workday_callback_received: false,
        notes: None,
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

pub fn audit(
    audit_type: AuditType,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    timestamp: DateTime<Utc>,
) -> AuditEntry {
    AuditEntry {
        id: unique("aud"),
        audit_type,
        action: action.to_string(),
        entity_type: entity_type.to_string(),
        entity_id: entity_id.to_string(),
        user_id: "contract-test".into(),
        timestamp,
        details: serde_json::json!({ "case": "contract", "amount": "148.75" }),
        created_at: timestamp,
    }
}

pub fn invoice_created(inv: &Invoice) -> AuditEntry {
    audit(
        AuditType::InvoiceAction,
        action::CREATE,
        entity::INVOICE,
        &inv.id,
        inv.created_at,
    )
}

/// Follows `next_cursor` to the end, checking every page's size.
pub async fn collect_pages<T, F, Fut>(limit: u32, mut list: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    for _ in 0..10_000 {
        let page = list(PageRequest {
            limit: Some(limit),
            cursor: cursor.clone(),
        })
        .await
        .expect("list page");
        assert!(
            page.items.len() <= limit as usize,
            "page of {} items exceeds limit {limit}",
            page.items.len()
        );
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => {
                assert_ne!(Some(&next), cursor.as_ref(), "cursor did not advance");
                cursor = Some(next);
            }
            None => return all,
        }
    }
    panic!("pagination did not end");
}

/// Asserts ids are unique and the sort keys non-decreasing (oldest first).
pub fn assert_oldest_first(keys: &[String], what: &str) {
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        assert!(seen.insert(k), "{what}: `{k}` returned twice");
    }
    for w in keys.windows(2) {
        assert!(w[0] <= w[1], "{what}: `{}` listed before `{}`", w[0], w[1]);
    }
}

/// Keeps the items whose id is in `ours`, in list order.
pub fn only_ours<T>(items: Vec<T>, ours: &[String], id: impl Fn(&T) -> &str) -> Vec<String> {
    items
        .iter()
        .map(|i| id(i).to_string())
        .filter(|i| ours.contains(i))
        .collect()
}
