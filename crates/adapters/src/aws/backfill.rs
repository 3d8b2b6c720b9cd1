//! One-off maintenance after deploying the lookup indexes (`tax-id-index`, `name-index`,
//! `po-number-index`): vendor and purchase-order items written before them carry no
//! lookup attributes, so DynamoDB's own index backfill finds nothing to index. This writes
//! the attributes onto such items. It scans the two tables: a maintenance job run once per
//! deployment that adds the indexes, never a request path.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use p2p_core::purchase_order::po_number_key;
use p2p_core::vendor::{name_key, tax_id_key};
use serde_json::Value;

use super::errors::map_sdk_error;
use super::item::{self, kind, Item, DOC, ID, VERSION};
use super::AwsBackend;
use crate::error::StoreError;
use crate::schema::{
    TableSpec, KIND, NAME_KEY, PO_NUMBER_KEY, PURCHASE_ORDERS, TAX_ID_KEY, VENDORS,
};

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    /// Items read (every item of the two tables, receipts included).
    pub scanned: u64,
    /// Items whose lookup attributes were written or corrected.
    pub updated: u64,
    /// Items changed by a concurrent write while being backfilled: that write carried the
    /// attributes itself.
    pub changed_meanwhile: u64,
}

/// The lookup attributes an item should carry, from its `doc` (read as JSON, not as the
/// typed record: a document that no longer parses is left alone, not a failure).
fn wanted(item: &Item) -> Option<Vec<(&'static str, Option<String>)>> {
    let doc: Value = serde_json::from_str(item::string_attr(item, DOC)?).ok()?;
    let text = |field: &str| doc.get(field).and_then(Value::as_str);
    let non_empty = |k: String| Some(k).filter(|k| !k.is_empty());
    match item::string_attr(item, KIND)? {
        kind::VENDOR => Some(vec![
            (
                TAX_ID_KEY,
                text("tax_id").and_then(|t| non_empty(tax_id_key(t))),
            ),
            (NAME_KEY, text("name").and_then(|n| non_empty(name_key(n)))),
        ]),
        kind::PURCHASE_ORDER => Some(vec![(
            PO_NUMBER_KEY,
            text("po_number").and_then(|n| non_empty(po_number_key(n))),
        )]),
        _ => None,
    }
}

impl AwsBackend {
    /// Writes the lookup attributes onto every vendor and purchase order that lacks them
    /// (or carries stale ones). Idempotent; each update is conditional on the item's
    /// `version`, so a concurrent write is never overwritten.
    pub async fn backfill_lookup_keys(&self) -> Result<BackfillReport, StoreError> {
        let mut report = BackfillReport::default();
        for spec in [VENDORS, PURCHASE_ORDERS] {
            self.backfill_table(&spec, &mut report).await?;
        }
        Ok(report)
    }

    async fn backfill_table(
        &self,
        spec: &TableSpec,
        report: &mut BackfillReport,
    ) -> Result<(), StoreError> {
        let table = self.names.table(spec).to_string();
        let target = self.target(spec);
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .clients
                .dynamodb
                .scan()
                .table_name(&table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| map_sdk_error("Scan", &target, e))?;
            for found in page.items() {
                report.scanned += 1;
                let Some(attrs) = wanted(found) else { continue };
                let stale = attrs
                    .iter()
                    .any(|(attr, value)| item::string_attr(found, attr) != value.as_deref());
                let (Some(id), Some(version)) = (item::string_attr(found, ID), found.get(VERSION))
                else {
                    continue;
                };
                if !stale {
                    continue;
                }
                if self
                    .set_lookup_attrs(&table, spec, id, version, &attrs)
                    .await?
                {
                    report.updated += 1;
                } else {
                    report.changed_meanwhile += 1;
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    /// `Ok(false)` when the item's version moved on (or it was deleted) meanwhile.
    async fn set_lookup_attrs(
        &self,
        table: &str,
        spec: &TableSpec,
        id: &str,
        version: &AttributeValue,
        attrs: &[(&'static str, Option<String>)],
    ) -> Result<bool, StoreError> {
        let mut names = BTreeMap::new();
        let mut values = BTreeMap::new();
        let mut set = Vec::new();
        let mut remove = Vec::new();
        names.insert("#version".to_string(), VERSION.to_string());
        values.insert(":version".to_string(), version.clone());
        for (i, (attr, value)) in attrs.iter().enumerate() {
            names.insert(format!("#a{i}"), attr.to_string());
            match value {
                Some(v) => {
                    values.insert(format!(":a{i}"), AttributeValue::S(v.clone()));
                    set.push(format!("#a{i} = :a{i}"));
                }
                None => remove.push(format!("#a{i}")),
            }
        }
        let mut update = String::new();
        if !set.is_empty() {
            update.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let sent = self
            .clients
            .dynamodb
            .update_item()
            .table_name(table)
            .key(ID, AttributeValue::S(id.to_string()))
            .update_expression(update.trim())
            .condition_expression("#version = :version")
            .set_expression_attribute_names(Some(names.into_iter().collect()))
            .set_expression_attribute_values(Some(values.into_iter().collect()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if super::is_error_code(&e, "ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(map_sdk_error("UpdateItem", &self.target(spec), e)),
        }
    }
}
