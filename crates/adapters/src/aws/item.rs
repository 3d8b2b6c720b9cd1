//! DynamoDB item layout: key, index attributes, `version`, and the record as JSON in `doc`
//! (see the module docs of [`crate::aws`]).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use p2p_core::audit::AuditEntry;
use p2p_core::clock::rfc3339_millis;
use p2p_core::invoice::Invoice;
use p2p_core::payment::Payment;
use p2p_core::purchase_order::{GoodsReceipt, PurchaseOrder};
use p2p_core::vendor::Vendor;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::StoreError;
use crate::schema::{CREATED_SK, KIND, NAME_KEY, PO_NUMBER_KEY, TAX_ID_KEY, TIMESTAMP_SK};

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) const ID: &str = "id";
pub(crate) const DOC: &str = "doc";
pub(crate) const VERSION: &str = "version";

/// Values of the `kind` attribute.
pub(crate) mod kind {
    pub const VENDOR: &str = "Vendor";
    pub const PURCHASE_ORDER: &str = "PurchaseOrder";
    pub const GOODS_RECEIPT: &str = "GoodsReceipt";
    pub const INVOICE: &str = "Invoice";
    pub const PAYMENT: &str = "Payment";
    pub const AUDIT_ENTRY: &str = "AuditEntry";
}

/// `created_at` (RFC 3339 millis) `#` id: time order, unique, and what the indexes sort by.
pub(crate) fn sort_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", rfc3339_millis(at))
}

/// Key of the guard item that makes an invoice number unique per vendor.
pub(crate) fn guard_id(invoice: &Invoice) -> String {
    format!("guard#{}", invoice.uniqueness_key())
}

pub(crate) fn guard_id_for(vendor_id: &str, invoice_number: &str) -> String {
    format!(
        "guard#{}",
        p2p_core::invoice::invoice_number_key(vendor_id, invoice_number)
    )
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn doc<T: Serialize>(
    entity: &'static str,
    id: &str,
    record: &T,
) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(record)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Invalid(format!("{entity} `{id}` cannot be serialized: {e}")))
}

fn base<T: Serialize>(
    entity: &'static str,
    kind: &str,
    id: &str,
    record: &T,
) -> Result<Item, StoreError> {
    let mut item = Item::new();
    item.insert(ID.into(), s(id));
    item.insert(KIND.into(), s(kind));
    item.insert(DOC.into(), doc(entity, id, record)?);
    Ok(item)
}

fn version(n: u64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// Vendors carry their lookup keys when they have them (the sparse lookup indexes).
pub(crate) fn vendor_item(v: &Vendor) -> Result<Item, StoreError> {
    let mut item = base("vendor", kind::VENDOR, &v.id, v)?;
    item.insert("status".into(), s(v.status.as_str()));
    if let Some(key) = v.tax_id_key() {
        item.insert(TAX_ID_KEY.into(), s(key));
    }
    if let Some(key) = v.name_key() {
        item.insert(NAME_KEY.into(), s(key));
    }
    item.insert(CREATED_SK.into(), s(sort_key(v.created_at, &v.id)));
    item.insert(VERSION.into(), version(v.version));
    Ok(item)
}

/// Purchase orders carry no `po_id`: the receipts index is sparse, receipts only. They
/// carry `po_number_key` for the number lookup.
pub(crate) fn purchase_order_item(po: &PurchaseOrder) -> Result<Item, StoreError> {
    let mut item = base("purchase order", kind::PURCHASE_ORDER, &po.id, po)?;
    item.insert("status".into(), s(po.status.as_str()));
    if let Some(key) = po.po_number_key() {
        item.insert(PO_NUMBER_KEY.into(), s(key));
    }
    item.insert("vendor_id".into(), s(&po.vendor_id));
    item.insert(CREATED_SK.into(), s(sort_key(po.created_at, &po.id)));
    item.insert(VERSION.into(), version(po.version));
    Ok(item)
}

/// Receipts carry no `status`/`vendor_id`, so they stay out of the purchase-order lists.
pub(crate) fn goods_receipt_item(gr: &GoodsReceipt) -> Result<Item, StoreError> {
    let mut item = base("goods receipt", kind::GOODS_RECEIPT, &gr.id, gr)?;
    item.insert("po_id".into(), s(&gr.po_id));
    item.insert(CREATED_SK.into(), s(sort_key(gr.received_at, &gr.id)));
    Ok(item)
}

pub(crate) fn invoice_item(inv: &Invoice) -> Result<Item, StoreError> {
    let mut item = base("invoice", kind::INVOICE, &inv.id, inv)?;
    item.insert("status".into(), s(inv.status.as_str()));
    item.insert("vendor_id".into(), s(&inv.vendor_id));
    item.insert("po_id".into(), s(&inv.po_id));
    item.insert(CREATED_SK.into(), s(sort_key(inv.created_at, &inv.id)));
    item.insert(VERSION.into(), version(inv.version));
    Ok(item)
}

/// The vendor + invoice-number guard: no index attributes.
pub(crate) fn guard_item(inv: &Invoice) -> Item {
    let mut item = Item::new();
    item.insert(ID.into(), s(guard_id(inv)));
    item.insert("invoice_id".into(), s(&inv.id));
    item.insert("invoice_number".into(), s(&inv.invoice_number));
    item
}

pub(crate) fn payment_item(p: &Payment) -> Result<Item, StoreError> {
    let mut item = base("payment", kind::PAYMENT, &p.id, p)?;
    item.insert("status".into(), s(p.status.as_str()));
    item.insert("vendor_id".into(), s(&p.vendor_id));
    item.insert("invoice_id".into(), s(&p.invoice_id));
    item.insert(CREATED_SK.into(), s(sort_key(p.created_at, &p.id)));
    item.insert(VERSION.into(), version(p.version));
    Ok(item)
}

pub(crate) fn audit_item(a: &AuditEntry) -> Result<Item, StoreError> {
    let mut item = base("audit entry", kind::AUDIT_ENTRY, &a.id, a)?;
    item.insert("entity_id".into(), s(&a.entity_id));
    item.insert(TIMESTAMP_SK.into(), s(sort_key(a.timestamp, &a.id)));
    Ok(item)
}

pub(crate) fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    }
}

/// The record in `doc`, if the item is of `expected_kind` (a guard or a receipt read by the
/// wrong getter is "not there", not corrupt).
pub(crate) fn record<T: DeserializeOwned>(
    entity: &'static str,
    expected_kind: &str,
    item: &Item,
) -> Result<Option<T>, StoreError> {
    if string_attr(item, KIND) != Some(expected_kind) {
        return Ok(None);
    }
    parse_doc(entity, item).map(Some)
}

pub(crate) fn parse_doc<T: DeserializeOwned>(
    entity: &'static str,
    item: &Item,
) -> Result<T, StoreError> {
    let id = string_attr(item, ID).unwrap_or("?").to_string();
    let json = string_attr(item, DOC).ok_or_else(|| StoreError::Corrupt {
        entity,
        id: id.clone(),
        message: format!("no `{DOC}` attribute"),
    })?;
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        entity,
        id,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sort_keys_order_by_time_then_id() {
        let t1 = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let t2 = t1 + chrono::Duration::milliseconds(1);
        assert!(sort_key(t1, "inv-b") < sort_key(t2, "inv-a"));
        assert!(sort_key(t1, "inv-a") < sort_key(t1, "inv-b"));
        assert_eq!(sort_key(t1, "x"), "2025-01-02T03:04:05.000Z#x");
    }

    #[test]
    fn guard_id_folds_number_like_the_domain() {
        assert_eq!(
            guard_id_for("ven-1", "inv 001"),
            guard_id_for("ven-1", "INV-001")
        );
        assert_eq!(guard_id_for("ven-1", "A1"), "guard#ven-1#A1");
    }
}
