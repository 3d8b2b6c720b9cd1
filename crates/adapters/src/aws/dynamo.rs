//! The DynamoDB store: [`UnitOfWork`] as one `TransactWriteItems` per change set, and the
//! repositories as `GetItem` (consistent) and `Query` on the indexes of [`crate::schema`].
//! No request path scans.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use aws_smithy_runtime_api::client::result::SdkError;
use p2p_core::audit::AuditEntry;
use p2p_core::invoice::Invoice;
use p2p_core::payment::{payment_id_for, Payment};
use p2p_core::purchase_order::{po_number_key, GoodsReceipt, PurchaseOrder};
use p2p_core::vendor::{name_key, tax_id_key, Vendor};
use sha2::{Digest, Sha256};

use super::errors::{is_throttling_code, map_sdk_error, Target};
use super::item::{self, kind, Item, ID, VERSION};
use super::AwsBackend;
use crate::error::{ConflictReason, StoreError};
use crate::ports::*;
use crate::schema::{
    TableSpec, AUDIT_LOG, CREATED_SK, INVOICES, KIND, NAME_KEY, PAYMENTS, PO_NUMBER_INDEX,
    PO_NUMBER_KEY, PURCHASE_ORDERS, TAX_ID_KEY, TIMESTAMP_SK, VENDORS, VENDOR_NAME_INDEX,
    VENDOR_TAX_ID_INDEX,
};

/// DynamoDB's limit on the items of one transaction.
pub const MAX_TRANSACT_ITEMS: usize = 100;

/// Attempts of a transaction cancelled only by `TransactionConflict` (another transaction
/// held one of its items): not applied, so safe to send again.
const CONFLICT_ATTEMPTS: u32 = 4;

/// What one transaction item stands for, to map a failed condition back to its write.
#[derive(Debug, Clone)]
struct Origin {
    table: TableSpec,
    what: OriginKind,
}

#[derive(Debug, Clone)]
enum OriginKind {
    Record {
        entity: &'static str,
        id: String,
        expect: Expect,
    },
    /// The vendor + invoice-number guard claimed by a new invoice.
    Guard {
        vendor_id: String,
        invoice_number: String,
    },
    /// Releasing the guard of a deleted invoice (only if it is that invoice's).
    GuardRelease {
        guard_id: String,
    },
    Audit {
        id: String,
    },
}

impl Origin {
    fn condition_failed(&self) -> StoreError {
        match &self.what {
            OriginKind::Record { entity, id, expect } => StoreError::Conflict {
                entity,
                id: id.clone(),
                reason: match expect {
                    Expect::Absent => ConflictReason::AlreadyExists,
                    Expect::Version(v) => ConflictReason::VersionMismatch { expected: *v },
                },
            },
            OriginKind::Guard {
                vendor_id,
                invoice_number,
            } => StoreError::DuplicateInvoice {
                vendor_id: vendor_id.clone(),
                invoice_number: invoice_number.clone(),
            },
            OriginKind::GuardRelease { guard_id } => StoreError::Conflict {
                entity: "invoice number guard",
                id: guard_id.clone(),
                reason: ConflictReason::AlreadyExists,
            },
            OriginKind::Audit { id } => StoreError::Conflict {
                entity: "audit entry",
                id: id.clone(),
                reason: ConflictReason::AlreadyExists,
            },
        }
    }
}

/// The transaction of a change set, built before any call.
struct Transaction {
    items: Vec<TransactWriteItem>,
    origins: Vec<Origin>,
    /// Canonical bytes of the request, hashed into the idempotency token.
    digest: Sha256,
}

impl Transaction {
    fn new() -> Self {
        Transaction {
            items: Vec::new(),
            origins: Vec::new(),
            digest: Sha256::new(),
        }
    }

    fn absorb(&mut self, parts: &[&str]) {
        for p in parts {
            self.digest.update(p.as_bytes());
            self.digest.update([0u8]);
        }
    }

    fn absorb_item(&mut self, item: &Item) {
        let sorted: BTreeMap<&String, &AttributeValue> = item.iter().collect();
        for (k, v) in sorted {
            self.digest.update(k.as_bytes());
            self.digest.update(format!("{v:?}").as_bytes());
        }
    }

    fn put(
        &mut self,
        table_name: &str,
        origin: Origin,
        item: Item,
        expect: Expect,
    ) -> Result<(), StoreError> {
        self.absorb(&["put", table_name]);
        self.absorb_item(&item);
        let put = Put::builder().table_name(table_name).set_item(Some(item));
        let put = match expect {
            Expect::Absent => put.condition_expression("attribute_not_exists(#id)"),
            Expect::Version(v) => {
                self.absorb(&["version", &v.to_string()]);
                put.condition_expression("#version = :expected")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":expected", AttributeValue::N(v.to_string()))
            }
        };
        let put = match expect {
            Expect::Absent => put.expression_attribute_names("#id", ID),
            Expect::Version(_) => put,
        };
        let put = put
            .build()
            .map_err(|e| StoreError::Invalid(format!("transaction item: {e}")))?;
        self.items
            .push(TransactWriteItem::builder().put(put).build());
        self.origins.push(origin);
        Ok(())
    }

    fn delete_versioned(
        &mut self,
        table_name: &str,
        origin: Origin,
        id: &str,
        version: u64,
    ) -> Result<(), StoreError> {
        self.absorb(&["delete", table_name, id, &version.to_string()]);
        let delete = Delete::builder()
            .table_name(table_name)
            .key(ID, AttributeValue::S(id.to_string()))
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", AttributeValue::N(version.to_string()))
            .build()
            .map_err(|e| StoreError::Invalid(format!("transaction item: {e}")))?;
        self.items
            .push(TransactWriteItem::builder().delete(delete).build());
        self.origins.push(origin);
        Ok(())
    }

    fn release_guard(&mut self, table_name: &str, invoice: &Invoice) -> Result<(), StoreError> {
        let guard_id = item::guard_id(invoice);
        self.absorb(&["release", table_name, &guard_id, &invoice.id]);
        let delete = Delete::builder()
            .table_name(table_name)
            .key(ID, AttributeValue::S(guard_id.clone()))
            // Never free a guard another invoice holds.
            .condition_expression("attribute_not_exists(#id) OR invoice_id = :invoice")
            .expression_attribute_names("#id", ID)
            .expression_attribute_values(":invoice", AttributeValue::S(invoice.id.clone()))
            .build()
            .map_err(|e| StoreError::Invalid(format!("transaction item: {e}")))?;
        self.items
            .push(TransactWriteItem::builder().delete(delete).build());
        self.origins.push(Origin {
            table: INVOICES,
            what: OriginKind::GuardRelease { guard_id },
        });
        Ok(())
    }

    /// The idempotency token: equal requests get equal tokens, so DynamoDB answers an SDK
    /// retry of an already applied transaction with success instead of a failed condition.
    fn token(&self) -> String {
        let digest = self.digest.clone().finalize();
        digest.iter().take(18).map(|b| format!("{b:02x}")).collect()
    }
}

fn record_origin(table: TableSpec, entity: &'static str, id: &str, expect: Expect) -> Origin {
    Origin {
        table,
        what: OriginKind::Record {
            entity,
            id: id.to_string(),
            expect,
        },
    }
}

/// One list: which index, which partition, which extra equality filters.
struct ListSpec {
    table: TableSpec,
    index: &'static str,
    partition_attr: &'static str,
    partition_value: String,
    sort_attr: &'static str,
    filters: Vec<(&'static str, String)>,
}

impl ListSpec {
    fn new(
        table: TableSpec,
        index: &'static str,
        partition_attr: &'static str,
        partition_value: impl Into<String>,
    ) -> Self {
        ListSpec {
            table,
            index,
            partition_attr,
            partition_value: partition_value.into(),
            sort_attr: CREATED_SK,
            filters: Vec::new(),
        }
    }

    fn filter(mut self, attr: &'static str, value: Option<impl Into<String>>) -> Self {
        if let Some(v) = value {
            self.filters.push((attr, v.into()));
        }
        self
    }

    /// Binds a cursor to this list, partition and filters.
    fn scope(&self) -> String {
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|(a, v)| format!("{a}={v}"))
            .collect();
        format!(
            "{}/{}/{}/{}",
            self.table.logical,
            self.index,
            self.partition_value,
            filters.join("&")
        )
    }

    fn key_attrs(&self) -> [&'static str; 3] {
        [ID, self.partition_attr, self.sort_attr]
    }
}

/// Chooses the index: the most selective filter given (the status index for the jobs'
/// work queues, which pass only a status), the others as filter expressions.
fn first_some<'a>(
    options: &[(&'static str, &'static str, Option<&'a str>)],
) -> Option<(&'static str, &'static str, &'a str)> {
    options
        .iter()
        .find_map(|(index, attr, v)| v.map(|v| (*index, *attr, v)))
}

impl AwsBackend {
    pub(super) fn target(&self, spec: &TableSpec) -> Target {
        Target::new(
            format!("DynamoDB table `{}`", self.names.table(spec)),
            spec.env_var,
        )
    }

    async fn get_item(&self, spec: &TableSpec, id: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .clients
            .dynamodb
            .get_item()
            .table_name(self.names.table(spec))
            .key(ID, AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error("GetItem", &self.target(spec), e))?;
        Ok(out.item)
    }

    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        spec: &TableSpec,
        entity: &'static str,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.get_item(spec, id).await? {
            Some(item) => item::record(entity, kind, &item),
            None => Ok(None),
        }
    }

    /// One page of a list, oldest first. Asks for one item more than the page so the last
    /// page says so (no cursor) instead of handing out a cursor to an empty page; without
    /// filters that is exactly one `Query`.
    async fn query_page(
        &self,
        spec: &ListSpec,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let size = page.size() as usize;
        let scope = spec.scope();
        let mut start: Option<Item> = match &page.cursor {
            Some(token) => {
                let position: BTreeMap<String, String> = self.cursors.decode(&scope, token)?;
                let expected = spec.key_attrs();
                if position.len() != expected.len()
                    || !expected.iter().all(|a| position.contains_key(*a))
                {
                    return Err(StoreError::Invalid(
                        "next_token is not a valid cursor for this list".into(),
                    ));
                }
                Some(
                    position
                        .into_iter()
                        .map(|(k, v)| (k, AttributeValue::S(v)))
                        .collect(),
                )
            }
            None => None,
        };
        let mut found: Vec<Item> = Vec::new();
        loop {
            let need = size + 1 - found.len().min(size);
            // A filter drops items after the limit counted them: read further per call.
            let limit = if spec.filters.is_empty() {
                need
            } else {
                (need * 4).min(1000)
            };
            let mut query = self
                .clients
                .dynamodb
                .query()
                .table_name(self.names.table(&spec.table))
                .index_name(spec.index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", spec.partition_attr)
                .expression_attribute_values(":pk", AttributeValue::S(spec.partition_value.clone()))
                .scan_index_forward(true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if !spec.filters.is_empty() {
                let mut terms = Vec::new();
                for (i, (attr, value)) in spec.filters.iter().enumerate() {
                    terms.push(format!("#f{i} = :f{i}"));
                    query = query
                        .expression_attribute_names(format!("#f{i}"), *attr)
                        .expression_attribute_values(
                            format!(":f{i}"),
                            AttributeValue::S(value.clone()),
                        );
                }
                query = query.filter_expression(terms.join(" AND "));
            }
            let out = query
                .send()
                .await
                .map_err(|e| map_sdk_error("Query", &self.target(&spec.table), e))?;
            found.extend(out.items.unwrap_or_default());
            if found.len() > size {
                break;
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        let next = if found.len() > size {
            found.truncate(size);
            match found.last() {
                Some(last) => Some(self.cursor_after(spec, &scope, last)?),
                None => None,
            }
        } else {
            None
        };
        Ok((found, next))
    }

    fn cursor_after(
        &self,
        spec: &ListSpec,
        scope: &str,
        last: &Item,
    ) -> Result<String, StoreError> {
        let mut position = BTreeMap::new();
        for attr in spec.key_attrs() {
            let value = item::string_attr(last, attr).ok_or_else(|| StoreError::Corrupt {
                entity: "item",
                id: item::string_attr(last, ID).unwrap_or("?").to_string(),
                message: format!("index attribute `{attr}` missing"),
            })?;
            position.insert(attr.to_string(), value.to_string());
        }
        self.cursors.encode(scope, &position)
    }

    async fn list_records<T: serde::de::DeserializeOwned>(
        &self,
        entity: &'static str,
        spec: &ListSpec,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let (items, next_cursor) = self.query_page(spec, page).await?;
        let items = items
            .iter()
            .map(|i| item::parse_doc(entity, i))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// The records under one lookup key: one `Query` of the key's sparse index (no filter,
    /// so the limit counts matches), oldest first, at most [`MAX_LOOKUP_MATCHES`]. No call
    /// for an empty key.
    async fn find_by_key<T: serde::de::DeserializeOwned>(
        &self,
        entity: &'static str,
        table: TableSpec,
        index: &'static str,
        attr: &'static str,
        key: String,
    ) -> Result<Vec<T>, StoreError> {
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .clients
            .dynamodb
            .query()
            .table_name(self.names.table(&table))
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", attr)
            .expression_attribute_values(":pk", AttributeValue::S(key))
            .scan_index_forward(true)
            .limit(i32::try_from(MAX_LOOKUP_MATCHES).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", &self.target(&table), e))?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|i| item::parse_doc(entity, i))
            .collect()
    }

    fn transaction(&self, changes: &ChangeSet) -> Result<Transaction, StoreError> {
        let mut tx = Transaction::new();
        let n = &self.names;
        for write in &changes.writes {
            match write {
                Write::PutVendor(v, expect) => tx.put(
                    &n.vendors_table,
                    record_origin(VENDORS, "vendor", &v.id, *expect),
                    item::vendor_item(v)?,
                    *expect,
                )?,
                Write::PutPurchaseOrder(po, expect) => tx.put(
                    &n.purchase_orders_table,
                    record_origin(PURCHASE_ORDERS, "purchase order", &po.id, *expect),
                    item::purchase_order_item(po)?,
                    *expect,
                )?,
                Write::PutGoodsReceipt(gr) => tx.put(
                    &n.purchase_orders_table,
                    record_origin(PURCHASE_ORDERS, "goods receipt", &gr.id, Expect::Absent),
                    item::goods_receipt_item(gr)?,
                    Expect::Absent,
                )?,
                Write::PutInvoice(inv, expect) => {
                    tx.put(
                        &n.invoices_table,
                        record_origin(INVOICES, "invoice", &inv.id, *expect),
                        item::invoice_item(inv)?,
                        *expect,
                    )?;
                    if *expect == Expect::Absent {
                        tx.put(
                            &n.invoices_table,
                            Origin {
                                table: INVOICES,
                                what: OriginKind::Guard {
                                    vendor_id: inv.vendor_id.clone(),
                                    invoice_number: inv.invoice_number.clone(),
                                },
                            },
                            item::guard_item(inv),
                            Expect::Absent,
                        )?;
                    }
                }
                Write::PutPayment(p, expect) => {
                    // One payment per invoice: the derived id is the uniqueness condition.
                    if *expect == Expect::Absent && p.id != payment_id_for(&p.invoice_id) {
                        return Err(StoreError::Invalid(format!(
                            "payment `{}` of invoice `{}` must have the derived id `{}`",
                            p.id,
                            p.invoice_id,
                            payment_id_for(&p.invoice_id)
                        )));
                    }
                    tx.put(
                        &n.payments_table,
                        record_origin(PAYMENTS, "payment", &p.id, *expect),
                        item::payment_item(p)?,
                        *expect,
                    )?
                }
                Write::DeleteVendor { id, version } => tx.delete_versioned(
                    &n.vendors_table,
                    record_origin(VENDORS, "vendor", id, Expect::Version(*version)),
                    id,
                    *version,
                )?,
                Write::DeletePurchaseOrder { id, version } => tx.delete_versioned(
                    &n.purchase_orders_table,
                    record_origin(
                        PURCHASE_ORDERS,
                        "purchase order",
                        id,
                        Expect::Version(*version),
                    ),
                    id,
                    *version,
                )?,
                Write::DeleteInvoice { invoice, version } => {
                    tx.delete_versioned(
                        &n.invoices_table,
                        record_origin(INVOICES, "invoice", &invoice.id, Expect::Version(*version)),
                        &invoice.id,
                        *version,
                    )?;
                    tx.release_guard(&n.invoices_table, invoice)?;
                }
            }
        }
        for entry in &changes.audit {
            tx.put(
                &n.audit_table,
                Origin {
                    table: AUDIT_LOG,
                    what: OriginKind::Audit {
                        id: entry.id.clone(),
                    },
                },
                item::audit_item(entry)?,
                Expect::Absent,
            )?;
        }
        if tx.items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::Invalid(format!(
                "a change set becomes {} transaction items (writes, invoice-number guards, \
                 audit entries); at most {MAX_TRANSACT_ITEMS} commit atomically",
                tx.items.len()
            )));
        }
        Ok(tx)
    }

    /// Maps a cancelled transaction back to the write whose condition failed; `Ok(true)`
    /// when only `TransactionConflict` cancelled it (worth sending again).
    fn cancellation(&self, tx: &Transaction, codes: &[Option<String>]) -> Result<bool, StoreError> {
        let pairs = || codes.iter().zip(tx.origins.iter());
        if let Some((_, origin)) =
            pairs().find(|(c, _)| c.as_deref() == Some("ConditionalCheckFailed"))
        {
            return Err(origin.condition_failed());
        }
        if let Some((_, origin)) = pairs().find(|(c, _)| {
            matches!(
                c.as_deref(),
                Some("ResourceNotFoundException" | "ResourceNotFound")
            )
        }) {
            return Err(self
                .target(&origin.table)
                .misconfigured("TransactWriteItems: table not found"));
        }
        let failed: Vec<&str> = codes
            .iter()
            .filter_map(|c| c.as_deref())
            .filter(|c| *c != "None")
            .collect();
        if !failed.is_empty() && failed.iter().all(|c| *c == "TransactionConflict") {
            return Ok(true);
        }
        if failed.iter().any(|c| {
            is_throttling_code(c)
                || matches!(
                    *c,
                    "ThrottlingError" | "ProvisionedThroughputExceeded" | "TransactionConflict"
                )
        }) {
            return Err(StoreError::Transient {
                operation: "TransactWriteItems".into(),
                message: format!("transaction cancelled: {}", failed.join(", ")),
            });
        }
        if failed.contains(&"ValidationError") {
            return Err(StoreError::Invalid(format!(
                "transaction refused: {}",
                failed.join(", ")
            )));
        }
        Err(StoreError::Backend {
            operation: "TransactWriteItems".into(),
            message: format!("transaction cancelled: {}", failed.join(", ")),
        })
    }

    /// Which of the tables a transaction touches is missing (only on that error path).
    async fn missing_table(&self, tx: &Transaction) -> Option<StoreError> {
        let mut seen = Vec::new();
        for origin in &tx.origins {
            let name = self.names.table(&origin.table).to_string();
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            let described = self
                .clients
                .dynamodb
                .describe_table()
                .table_name(&name)
                .send()
                .await;
            if let Err(e) = described {
                if super::errors::error_code(&e) == Some("ResourceNotFoundException") {
                    return Some(self.target(&origin.table).misconfigured("table not found"));
                }
            }
        }
        None
    }
}

/// Cancellation codes, one per item: from the structured reasons, else from the message
/// (`... reasons [ConditionalCheckFailed, None]`).
fn cancellation_codes(
    err: &aws_sdk_dynamodb::types::error::TransactionCanceledException,
) -> Vec<Option<String>> {
    let reasons = err.cancellation_reasons();
    if !reasons.is_empty() {
        return reasons
            .iter()
            .map(|r| r.code().map(str::to_string))
            .collect();
    }
    let message = err.message().unwrap_or("");
    match (message.rfind('['), message.rfind(']')) {
        (Some(open), Some(close)) if open < close => message[open + 1..close]
            .split(',')
            .map(|c| Some(c.trim().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

#[async_trait]
impl UnitOfWork for AwsBackend {
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let tx = self.transaction(&changes)?;
        if tx.items.is_empty() {
            return Ok(());
        }
        let token = tx.token();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .clients
                .dynamodb
                .transact_write_items()
                .set_transact_items(Some(tx.items.clone()))
                .client_request_token(token.clone())
                .send()
                .await;
            let err = match sent {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let retry = match &err {
                SdkError::ServiceError(se) => match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(tc) => {
                        self.cancellation(&tx, &cancellation_codes(tc))?
                    }
                    TransactWriteItemsError::ResourceNotFoundException(_) => {
                        return Err(self.missing_table(&tx).await.unwrap_or_else(|| {
                            StoreError::Misconfigured {
                                resource: "a DynamoDB table of this change set".into(),
                                env_var: INVOICES.env_var,
                                message: "TransactWriteItems: table not found".into(),
                            }
                        }))
                    }
                    _ => false,
                },
                _ => false,
            };
            if !retry {
                let target = tx
                    .origins
                    .first()
                    .map(|o| self.target(&o.table))
                    .unwrap_or_else(|| self.target(&AUDIT_LOG));
                return Err(map_sdk_error("TransactWriteItems", &target, err));
            }
            if attempt >= CONFLICT_ATTEMPTS {
                return Err(StoreError::Transient {
                    operation: "TransactWriteItems".into(),
                    message: format!("transaction conflict persisted over {attempt} attempts"),
                });
            }
            tokio::time::sleep(conflict_backoff(attempt)).await;
        }
    }
}

/// 20, 40, 80 ms plus up to 20 ms of jitter from the clock (no RNG dependency).
fn conflict_backoff(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos() % 20))
        .unwrap_or(0);
    Duration::from_millis(20 * (1u64 << attempt.saturating_sub(1).min(4)) + jitter)
}

#[async_trait]
impl VendorRepository for AwsBackend {
    async fn get_vendor(&self, id: &str) -> Result<Option<Vendor>, StoreError> {
        self.get_record(&VENDORS, "vendor", kind::VENDOR, id).await
    }

    async fn list_vendors(
        &self,
        query: &VendorQuery,
        page: &PageRequest,
    ) -> Result<Page<Vendor>, StoreError> {
        let spec = match query.status {
            Some(status) => ListSpec::new(VENDORS, "status-index", "status", status.as_str()),
            None => ListSpec::new(VENDORS, "kind-index", KIND, kind::VENDOR),
        };
        self.list_records("vendor", &spec, page).await
    }

    async fn find_vendors_by_tax_id(&self, tax_id: &str) -> Result<Vec<Vendor>, StoreError> {
        self.find_by_key(
            "vendor",
            VENDORS,
            VENDOR_TAX_ID_INDEX,
            TAX_ID_KEY,
            tax_id_key(tax_id),
        )
        .await
    }

    async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<Vendor>, StoreError> {
        self.find_by_key(
            "vendor",
            VENDORS,
            VENDOR_NAME_INDEX,
            NAME_KEY,
            name_key(name),
        )
        .await
    }
}

#[async_trait]
impl PurchaseOrderRepository for AwsBackend {
    async fn get_purchase_order(&self, id: &str) -> Result<Option<PurchaseOrder>, StoreError> {
        self.get_record(&PURCHASE_ORDERS, "purchase order", kind::PURCHASE_ORDER, id)
            .await
    }

    async fn list_purchase_orders(
        &self,
        query: &PurchaseOrderQuery,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError> {
        let status = query.status.map(|s| s.as_str());
        let spec = match (&query.vendor_id, status) {
            (Some(vendor), _) => {
                ListSpec::new(PURCHASE_ORDERS, "vendor-index", "vendor_id", vendor)
                    .filter("status", status)
            }
            (None, Some(status)) => {
                ListSpec::new(PURCHASE_ORDERS, "status-index", "status", status)
            }
            (None, None) => {
                ListSpec::new(PURCHASE_ORDERS, "kind-index", KIND, kind::PURCHASE_ORDER)
            }
        };
        self.list_records("purchase order", &spec, page).await
    }

    async fn list_goods_receipts(&self, po_id: &str) -> Result<Vec<GoodsReceipt>, StoreError> {
        let spec = ListSpec::new(PURCHASE_ORDERS, "receipts-by-po-index", "po_id", po_id);
        let mut receipts = Vec::new();
        let mut page = PageRequest::first(MAX_PAGE_SIZE);
        loop {
            let got: Page<GoodsReceipt> = self.list_records("goods receipt", &spec, &page).await?;
            receipts.extend(got.items);
            match got.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return Ok(receipts),
            }
        }
    }

    async fn find_purchase_orders_by_number(
        &self,
        po_number: &str,
    ) -> Result<Vec<PurchaseOrder>, StoreError> {
        self.find_by_key(
            "purchase order",
            PURCHASE_ORDERS,
            PO_NUMBER_INDEX,
            PO_NUMBER_KEY,
            po_number_key(po_number),
        )
        .await
    }
}

#[async_trait]
impl InvoiceRepository for AwsBackend {
    async fn get_invoice(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        self.get_record(&INVOICES, "invoice", kind::INVOICE, id)
            .await
    }

    async fn find_invoice_by_number(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Option<Invoice>, StoreError> {
        let guard = self
            .get_item(&INVOICES, &item::guard_id_for(vendor_id, invoice_number))
            .await?;
        match guard
            .as_ref()
            .and_then(|g| item::string_attr(g, "invoice_id"))
        {
            Some(invoice_id) => self.get_invoice(invoice_id).await,
            None => Ok(None),
        }
    }

    async fn list_invoices(
        &self,
        query: &InvoiceQuery,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError> {
        let status = query.status.map(|s| s.as_str());
        let chosen = first_some(&[
            ("po-index", "po_id", query.po_id.as_deref()),
            ("vendor-index", "vendor_id", query.vendor_id.as_deref()),
            ("status-index", "status", status),
        ]);
        let spec = match chosen {
            Some((index, attr, value)) => {
                let mut spec = ListSpec::new(INVOICES, index, attr, value);
                for (a, v) in [
                    ("po_id", query.po_id.as_deref()),
                    ("vendor_id", query.vendor_id.as_deref()),
                    ("status", status),
                ] {
                    if a != attr {
                        spec = spec.filter(a, v);
                    }
                }
                spec
            }
            None => ListSpec::new(INVOICES, "kind-index", KIND, kind::INVOICE),
        };
        self.list_records("invoice", &spec, page).await
    }
}

#[async_trait]
impl PaymentRepository for AwsBackend {
    async fn get_payment(&self, id: &str) -> Result<Option<Payment>, StoreError> {
        self.get_record(&PAYMENTS, "payment", kind::PAYMENT, id)
            .await
    }

    /// One `GetItem`: a payment's id is derived from its invoice's.
    async fn get_payment_for_invoice(
        &self,
        invoice_id: &str,
    ) -> Result<Option<Payment>, StoreError> {
        let payment = self.get_payment(&payment_id_for(invoice_id)).await?;
        Ok(payment.filter(|p| p.invoice_id == invoice_id))
    }

    async fn list_payments(
        &self,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError> {
        let status = query.status.map(|s| s.as_str());
        let chosen = first_some(&[
            ("invoice-index", "invoice_id", query.invoice_id.as_deref()),
            ("vendor-index", "vendor_id", query.vendor_id.as_deref()),
            ("status-index", "status", status),
        ]);
        let spec = match chosen {
            Some((index, attr, value)) => {
                let mut spec = ListSpec::new(PAYMENTS, index, attr, value);
                for (a, v) in [
                    ("invoice_id", query.invoice_id.as_deref()),
                    ("vendor_id", query.vendor_id.as_deref()),
                    ("status", status),
                ] {
                    if a != attr {
                        spec = spec.filter(a, v);
                    }
                }
                spec
            }
            None => ListSpec::new(PAYMENTS, "kind-index", KIND, kind::PAYMENT),
        };
        self.list_records("payment", &spec, page).await
    }
}

#[async_trait]
impl AuditRepository for AwsBackend {
    async fn list_audit(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let mut spec = ListSpec::new(AUDIT_LOG, "entity-index", "entity_id", entity_id);
        spec.sort_attr = TIMESTAMP_SK;
        self.list_records("audit entry", &spec, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_choice_prefers_the_most_selective_filter() {
        assert_eq!(
            first_some(&[
                ("po-index", "po_id", None),
                ("status-index", "status", Some("received"))
            ]),
            Some(("status-index", "status", "received"))
        );
        assert_eq!(
            first_some(&[
                ("po-index", "po_id", Some("po-1")),
                ("status-index", "status", Some("x"))
            ]),
            Some(("po-index", "po_id", "po-1"))
        );
        assert_eq!(first_some(&[("po-index", "po_id", None)]), None);
    }

    #[test]
    fn scope_binds_partition_and_filters() {
        let a = ListSpec::new(INVOICES, "status-index", "status", "received");
        let b = ListSpec::new(INVOICES, "status-index", "status", "matched");
        let c = ListSpec::new(INVOICES, "status-index", "status", "received")
            .filter("vendor_id", Some("v1"));
        assert_ne!(a.scope(), b.scope());
        assert_ne!(a.scope(), c.scope());
    }
}
