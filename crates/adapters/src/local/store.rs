//! [`LocalStore`]: the repositories and the unit of work on SQLite.
//!
//! Each record is a JSON document plus the columns its lists filter and sort on (the same
//! index attributes as the DynamoDB tables in [`crate::schema`]), so every list walks an
//! index in `created_sk` order and pages with a signed cursor holding the last sort key.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use p2p_core::audit::AuditEntry;
use p2p_core::clock::rfc3339_millis;
use p2p_core::invoice::{invoice_number_key, Invoice};
use p2p_core::payment::Payment;
use p2p_core::purchase_order::{po_number_key, GoodsReceipt, PurchaseOrder};
use p2p_core::vendor::{name_key, tax_id_key, Vendor};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::db::{Db, SqlResultExt};
use crate::cursor::CursorCodec;
use crate::error::{ConflictReason, StoreError};
use crate::ports::{
    AuditRepository, ChangeSet, Expect, InvoiceQuery, InvoiceRepository, Page, PageRequest,
    PaymentQuery, PaymentRepository, PurchaseOrderQuery, PurchaseOrderRepository, UnitOfWork,
    VendorQuery, VendorRepository, Write, MAX_LOOKUP_MATCHES,
};

/// Most items one commit may touch, as in one DynamoDB `TransactWriteItems` (writes, the
/// invoice-number guards they claim or release, and audit entries).
pub const MAX_COMMIT_ITEMS: usize = 100;

/// Records and audit trail in the data directory's SQLite database.
#[derive(Debug, Clone)]
pub struct LocalStore {
    db: Arc<Db>,
    cursors: CursorCodec,
}

/// `created_at` (millis) + `#` + id: time order, unique.
fn sort_key(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", rfc3339_millis(at))
}

fn to_json<T: Serialize>(entity: &'static str, id: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Invalid(format!("{entity} `{id}` cannot be stored: {e}")))
}

fn from_json<T: DeserializeOwned>(
    entity: &'static str,
    id: &str,
    doc: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        entity,
        id: id.to_string(),
        message: e.to_string(),
    })
}

/// One table's shape for the generic read and write paths.
#[derive(Clone, Copy)]
struct Table {
    name: &'static str,
    entity: &'static str,
    sort: &'static str,
}

const VENDORS: Table = Table {
    name: "vendors",
    entity: "vendor",
    sort: "created_sk",
};
const PURCHASE_ORDERS: Table = Table {
    name: "purchase_orders",
    entity: "purchase order",
    sort: "created_sk",
};
const GOODS_RECEIPTS: Table = Table {
    name: "goods_receipts",
    entity: "goods receipt",
    sort: "created_sk",
};
const INVOICES: Table = Table {
    name: "invoices",
    entity: "invoice",
    sort: "created_sk",
};
const PAYMENTS: Table = Table {
    name: "payments",
    entity: "payment",
    sort: "created_sk",
};
const AUDIT: Table = Table {
    name: "audit_log",
    entity: "audit entry",
    sort: "timestamp_sk",
};

/// A record prepared for writing: serialized outside the write lock.
enum Prepared {
    Vendor {
        id: String,
        version: u64,
        status: &'static str,
        sk: String,
        doc: String,
        tax_id_key: Option<String>,
        name_key: Option<String>,
        expect: Expect,
    },
    PurchaseOrder {
        id: String,
        version: u64,
        vendor_id: String,
        status: &'static str,
        sk: String,
        doc: String,
        po_number_key: Option<String>,
        expect: Expect,
    },
    GoodsReceipt {
        id: String,
        po_id: String,
        sk: String,
        doc: String,
    },
    Invoice {
        id: String,
        version: u64,
        vendor_id: String,
        number: String,
        guard: String,
        po_id: String,
        status: &'static str,
        sk: String,
        doc: String,
        expect: Expect,
    },
    Payment {
        id: String,
        version: u64,
        invoice_id: String,
        vendor_id: String,
        status: &'static str,
        sk: String,
        doc: String,
        expect: Expect,
    },
    Delete {
        table: Table,
        id: String,
        version: u64,
        release_guard: Option<String>,
    },
    Audit {
        id: String,
        entity_id: String,
        sk: String,
        doc: String,
    },
}

fn version_i64(entity: &'static str, id: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Invalid(format!("{entity} `{id}`: version {v} out of range")))
}

fn prepare(changes: ChangeSet) -> Result<Vec<Prepared>, StoreError> {
    let mut items = 0usize;
    let mut targets: HashSet<(&'static str, String)> = HashSet::new();
    let mut out = Vec::with_capacity(changes.writes.len() + changes.audit.len());
    // DynamoDB refuses two operations on one item in a transaction; so does this store,
    // so a change set that works locally works on AWS.
    let mut target = |table: &'static str, id: &str| -> Result<(), StoreError> {
        if targets.insert((table, id.to_string())) {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "change set writes {table} `{id}` twice"
            )))
        }
    };
    for w in changes.writes {
        items += 1;
        match w {
            Write::PutVendor(v, expect) => {
                target("vendors", &v.id)?;
                out.push(Prepared::Vendor {
                    doc: to_json("vendor", &v.id, &v)?,
                    tax_id_key: v.tax_id_key(),
                    name_key: v.name_key(),
                    sk: sort_key(v.created_at, &v.id),
                    status: v.status.as_str(),
                    version: v.version,
                    id: v.id,
                    expect,
                });
            }
            Write::PutPurchaseOrder(po, expect) => {
                target("purchase_orders", &po.id)?;
                out.push(Prepared::PurchaseOrder {
                    doc: to_json("purchase order", &po.id, &po)?,
                    po_number_key: po.po_number_key(),
                    sk: sort_key(po.created_at, &po.id),
                    status: po.status.as_str(),
                    version: po.version,
                    vendor_id: po.vendor_id,
                    id: po.id,
                    expect,
                });
            }
            Write::PutGoodsReceipt(r) => {
                target("goods_receipts", &r.id)?;
                out.push(Prepared::GoodsReceipt {
                    doc: to_json("goods receipt", &r.id, &r)?,
                    sk: sort_key(r.received_at, &r.id),
                    po_id: r.po_id,
                    id: r.id,
                });
            }
            Write::PutInvoice(inv, expect) => {
                target("invoices", &inv.id)?;
                let guard = inv.uniqueness_key();
                if expect == Expect::Absent {
                    items += 1;
                    target("invoice_guards", &guard)?;
                }
                out.push(Prepared::Invoice {
                    doc: to_json("invoice", &inv.id, &inv)?,
                    sk: sort_key(inv.created_at, &inv.id),
                    status: inv.status.as_str(),
                    version: inv.version,
                    vendor_id: inv.vendor_id,
                    number: inv.invoice_number,
                    po_id: inv.po_id,
                    id: inv.id,
                    guard,
                    expect,
                });
            }
            Write::PutPayment(p, expect) => {
                target("payments", &p.id)?;
                out.push(Prepared::Payment {
                    doc: to_json("payment", &p.id, &p)?,
                    sk: sort_key(p.created_at, &p.id),
                    status: p.status.as_str(),
                    version: p.version,
                    invoice_id: p.invoice_id,
                    vendor_id: p.vendor_id,
                    id: p.id,
                    expect,
                });
            }
            Write::DeleteVendor { id, version } => {
                target("vendors", &id)?;
                out.push(Prepared::Delete {
                    table: VENDORS,
                    id,
                    version,
                    release_guard: None,
                });
            }
            Write::DeletePurchaseOrder { id, version } => {
                target("purchase_orders", &id)?;
                out.push(Prepared::Delete {
                    table: PURCHASE_ORDERS,
                    id,
                    version,
                    release_guard: None,
                });
            }
            Write::DeleteInvoice { invoice, version } => {
                items += 1;
                target("invoices", &invoice.id)?;
                let guard = invoice.uniqueness_key();
                target("invoice_guards", &guard)?;
                out.push(Prepared::Delete {
                    table: INVOICES,
                    id: invoice.id,
                    version,
                    release_guard: Some(guard),
                });
            }
        }
    }
    for a in changes.audit {
        items += 1;
        target("audit_log", &a.id)?;
        out.push(Prepared::Audit {
            doc: to_json("audit entry", &a.id, &a)?,
            sk: sort_key(a.timestamp, &a.id),
            entity_id: a.entity_id,
            id: a.id,
        });
    }
    if items > MAX_COMMIT_ITEMS {
        return Err(StoreError::Invalid(format!(
            "change set touches {items} items; at most {MAX_COMMIT_ITEMS} commit together"
        )));
    }
    Ok(out)
}

const OP_COMMIT: &str = "commit change set";

fn already_exists(entity: &'static str, id: String) -> StoreError {
    StoreError::Conflict {
        entity,
        id,
        reason: ConflictReason::AlreadyExists,
    }
}

fn version_mismatch(entity: &'static str, id: String, expected: u64) -> StoreError {
    StoreError::Conflict {
        entity,
        id,
        reason: ConflictReason::VersionMismatch { expected },
    }
}

/// One record row: its table, id, version and document, plus the indexed columns
/// (`(name, value)`) the table keeps beside the document.
struct Row<'a> {
    table: Table,
    id: &'a str,
    version: u64,
    doc: &'a str,
    indexed: &'a [(&'static str, &'a dyn rusqlite::ToSql)],
}

/// Runs one insert-or-update: `Absent` inserts unless the id exists; `Version(v)` updates
/// only the row at version `v`.
///
/// An update sets each indexed column in a statement of its own that matches only when
/// the value differs: SQLite rewrites every index on a column an UPDATE sets, changed or
/// not, and most updates (a status change, a document edit) leave the other keys alone.
/// Each index entry rewritten is a page in the WAL.
fn put_row(tx: &Transaction<'_>, row: Row<'_>, expect: Expect) -> Result<(), StoreError> {
    let ver = version_i64(row.table.entity, row.id, row.version)?;
    let id = row.id;
    match expect {
        Expect::Absent => {
            let names: Vec<&str> = row.indexed.iter().map(|(name, _)| *name).collect();
            let marks: Vec<String> = (4..4 + names.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT INTO {} (id, version, doc, {}) VALUES (?1, ?2, ?3, {})
                 ON CONFLICT (id) DO NOTHING",
                row.table.name,
                names.join(", "),
                marks.join(", ")
            );
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&id, &ver, &row.doc];
            args.extend(row.indexed.iter().map(|(_, value)| *value));
            let mut stmt = tx.prepare_cached(&sql).op(OP_COMMIT)?;
            if stmt.execute(args.as_slice()).op(OP_COMMIT)? == 0 {
                return Err(already_exists(row.table.entity, id.to_string()));
            }
        }
        Expect::Version(v) => {
            let expected = version_i64(row.table.entity, id, v)?;
            let sql = format!(
                "UPDATE {} SET version = ?2, doc = ?3 WHERE id = ?1 AND version = ?4",
                row.table.name
            );
            let mut stmt = tx.prepare_cached(&sql).op(OP_COMMIT)?;
            if stmt
                .execute(params![id, ver, row.doc, expected])
                .op(OP_COMMIT)?
                == 0
            {
                return Err(version_mismatch(row.table.entity, id.to_string(), v));
            }
            for (name, value) in row.indexed {
                let sql = format!(
                    "UPDATE {} SET {name} = ?2 WHERE id = ?1 AND {name} IS NOT ?2",
                    row.table.name
                );
                let mut stmt = tx.prepare_cached(&sql).op(OP_COMMIT)?;
                stmt.execute(params![id, value]).op(OP_COMMIT)?;
            }
        }
    }
    Ok(())
}

fn apply(tx: &Transaction<'_>, item: Prepared) -> Result<(), StoreError> {
    match item {
        Prepared::Vendor {
            id,
            version,
            status,
            sk,
            doc,
            tax_id_key,
            name_key,
            expect,
        } => put_row(
            tx,
            Row {
                table: VENDORS,
                id: &id,
                version,
                doc: &doc,
                indexed: &[
                    ("status", &status),
                    ("created_sk", &sk),
                    ("tax_id_key", &tax_id_key),
                    ("name_key", &name_key),
                ],
            },
            expect,
        ),
        Prepared::PurchaseOrder {
            id,
            version,
            vendor_id,
            status,
            sk,
            doc,
            po_number_key,
            expect,
        } => put_row(
            tx,
            Row {
                table: PURCHASE_ORDERS,
                id: &id,
                version,
                doc: &doc,
                indexed: &[
                    ("vendor_id", &vendor_id),
                    ("status", &status),
                    ("created_sk", &sk),
                    ("po_number_key", &po_number_key),
                ],
            },
            expect,
        ),
        Prepared::GoodsReceipt { id, po_id, sk, doc } => {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO goods_receipts (id, po_id, created_sk, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO NOTHING",
                )
                .op(OP_COMMIT)?;
            if stmt.execute(params![id, po_id, sk, doc]).op(OP_COMMIT)? == 0 {
                return Err(already_exists("goods receipt", id));
            }
            Ok(())
        }
        Prepared::Invoice {
            id,
            version,
            vendor_id,
            number,
            guard,
            po_id,
            status,
            sk,
            doc,
            expect,
        } => {
            // The record first: re-sending the very same invoice is `AlreadyExists` (the
            // caller's own earlier write), another invoice with its number is a duplicate.
            put_row(
                tx,
                Row {
                    table: INVOICES,
                    id: &id,
                    version,
                    doc: &doc,
                    indexed: &[
                        ("vendor_id", &vendor_id),
                        ("po_id", &po_id),
                        ("status", &status),
                        ("created_sk", &sk),
                    ],
                },
                expect,
            )?;
            if expect == Expect::Absent {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO invoice_guards (key, invoice_id) VALUES (?1, ?2)
                         ON CONFLICT (key) DO NOTHING",
                    )
                    .op(OP_COMMIT)?;
                if stmt.execute(params![guard, id]).op(OP_COMMIT)? == 0 {
                    return Err(StoreError::DuplicateInvoice {
                        vendor_id,
                        invoice_number: number,
                    });
                }
            }
            Ok(())
        }
        Prepared::Payment {
            id,
            version,
            invoice_id,
            vendor_id,
            status,
            sk,
            doc,
            expect,
        } => put_row(
            tx,
            Row {
                table: PAYMENTS,
                id: &id,
                version,
                doc: &doc,
                indexed: &[
                    ("invoice_id", &invoice_id),
                    ("vendor_id", &vendor_id),
                    ("status", &status),
                    ("created_sk", &sk),
                ],
            },
            expect,
        ),
        Prepared::Delete {
            table,
            id,
            version,
            release_guard,
        } => {
            let ver = version_i64(table.entity, &id, version)?;
            let sql = format!("DELETE FROM {} WHERE id = ?1 AND version = ?2", table.name);
            let mut stmt = tx.prepare_cached(&sql).op(OP_COMMIT)?;
            if stmt.execute(params![id, ver]).op(OP_COMMIT)? == 0 {
                return Err(version_mismatch(table.entity, id, version));
            }
            if let Some(guard) = release_guard {
                tx.prepare_cached("DELETE FROM invoice_guards WHERE key = ?1 AND invoice_id = ?2")
                    .op(OP_COMMIT)?
                    .execute(params![guard, id])
                    .op(OP_COMMIT)?;
            }
            Ok(())
        }
        Prepared::Audit {
            id,
            entity_id,
            sk,
            doc,
        } => {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO audit_log (id, entity_id, timestamp_sk, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO NOTHING",
                )
                .op(OP_COMMIT)?;
            if stmt
                .execute(params![id, entity_id, sk, doc])
                .op(OP_COMMIT)?
                == 0
            {
                return Err(already_exists("audit entry", id));
            }
            Ok(())
        }
    }
}

/// Equality filters of a list, in a fixed order (the SQL text is the statement cache key).
type Filters = Vec<(&'static str, String)>;

fn get_doc<T: DeserializeOwned>(
    conn: &rusqlite::Connection,
    table: Table,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let op = "get record";
    let sql = format!("SELECT doc FROM {} WHERE id = ?1", table.name);
    let doc: Option<String> = conn
        .prepare_cached(&sql)
        .op(op)?
        .query_row([id], |r| r.get(0))
        .optional()
        .op(op)?;
    doc.map(|d| from_json(table.entity, id, &d)).transpose()
}

/// One page of `table` filtered by `filters`, after sort key `after`, oldest first. Fetches
/// one row more than the page to know whether another page exists.
fn list_docs<T: DeserializeOwned>(
    conn: &rusqlite::Connection,
    table: Table,
    filters: &Filters,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<T>, Option<String>), StoreError> {
    let op = "list records";
    let fetch = i64::from(limit) + 1;
    let mut sql = format!("SELECT id, doc, {} FROM {}", table.sort, table.name);
    let mut args: Vec<&dyn rusqlite::ToSql> = Vec::new();
    let mut clauses = Vec::new();
    for (col, val) in filters {
        args.push(val);
        clauses.push(format!("{col} = ?{}", args.len()));
    }
    if let Some(a) = &after {
        args.push(a);
        clauses.push(format!("{} > ?{}", table.sort, args.len()));
    }
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    args.push(&fetch);
    sql.push_str(&format!(" ORDER BY {} LIMIT ?{}", table.sort, args.len()));

    let mut stmt = conn.prepare_cached(&sql).op(op)?;
    let mut rows = stmt.query(args.as_slice()).op(op)?;
    let mut items = Vec::new();
    let mut last_sk = None;
    let mut more = false;
    while let Some(row) = rows.next().op(op)? {
        if items.len() == limit as usize {
            more = true;
            break;
        }
        let id: String = row.get(0).op(op)?;
        let doc: String = row.get(1).op(op)?;
        last_sk = Some(row.get::<_, String>(2).op(op)?);
        items.push(from_json(table.entity, &id, &doc)?);
    }
    Ok((items, if more { last_sk } else { None }))
}

fn lookup_sql(table: Table, column: &str) -> String {
    format!(
        "SELECT id, doc FROM {} WHERE {column} = ?1 ORDER BY {} LIMIT ?2",
        table.name, table.sort
    )
}

/// Records of `table` whose lookup-key `column` equals `key`, oldest first, at most
/// [`MAX_LOOKUP_MATCHES`] (a walk of the column's partial index).
fn find_by_key<T: DeserializeOwned>(
    conn: &rusqlite::Connection,
    table: Table,
    column: &'static str,
    key: &str,
) -> Result<Vec<T>, StoreError> {
    query_docs(
        conn,
        "find by lookup key",
        &lookup_sql(table, column),
        params![key, i64::from(MAX_LOOKUP_MATCHES)],
        table.entity,
    )
}

/// The records of `entity` that a `SELECT id, doc ...` statement returns, in its order.
fn query_docs<T: DeserializeOwned>(
    conn: &rusqlite::Connection,
    op: &str,
    sql: &str,
    params: impl rusqlite::Params,
    entity: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).op(op)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .op(op)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, doc) = row.op(op)?;
        out.push(from_json(entity, &id, &doc)?);
    }
    Ok(out)
}

impl LocalStore {
    /// Opens the store of a data directory (created and migrated as needed), with the
    /// cursor key from `P2P_CURSOR_KEY`.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self::with_db(
            Db::open(data_dir.as_ref())?,
            CursorCodec::from_env(),
        ))
    }

    pub(crate) fn with_db(db: Arc<Db>, cursors: CursorCodec) -> Self {
        LocalStore { db, cursors }
    }

    /// Replaces the cursor signing key.
    pub fn with_cursor_codec(mut self, cursors: CursorCodec) -> Self {
        self.cursors = cursors;
        self
    }

    async fn get<T>(&self, table: Table, id: &str) -> Result<Option<T>, StoreError>
    where
        T: DeserializeOwned,
    {
        self.db.read_inline(|c| get_doc(c, table, id))
    }

    /// [`find_by_key`] on a reader; no read at all for an empty key (nothing is stored
    /// under one).
    async fn find<T>(
        &self,
        table: Table,
        column: &'static str,
        key: String,
    ) -> Result<Vec<T>, StoreError>
    where
        T: DeserializeOwned,
    {
        if key.is_empty() {
            return Ok(Vec::new());
        }
        self.db.read_inline(|c| find_by_key(c, table, column, &key))
    }

    async fn list<T>(
        &self,
        table: Table,
        filters: Filters,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError>
    where
        T: DeserializeOwned,
    {
        // The scope binds a cursor to this very list: table and filter values.
        let scope = serde_json::to_string(&(table.name, &filters))
            .map_err(|e| StoreError::Invalid(format!("list scope: {e}")))?;
        let after: Option<String> = match &page.cursor {
            Some(c) => Some(self.cursors.decode(&scope, c)?),
            None => None,
        };
        let limit = page.size();
        let (items, last) = self
            .db
            .read_inline(|c| list_docs(c, table, &filters, after.as_deref(), limit))?;
        let next_cursor = last
            .map(|sk| self.cursors.encode(&scope, &sk))
            .transpose()?;
        Ok(Page { items, next_cursor })
    }
}

#[async_trait]
impl UnitOfWork for LocalStore {
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let prepared = prepare(changes)?;
        if prepared.is_empty() {
            return Ok(());
        }
        self.db
            .transaction(OP_COMMIT, move |tx| {
                for item in prepared {
                    apply(tx, item)?;
                }
                Ok(())
            })
            .await
    }
}

fn push(filters: &mut Filters, col: &'static str, val: Option<String>) {
    if let Some(v) = val {
        filters.push((col, v));
    }
}

#[async_trait]
impl VendorRepository for LocalStore {
    async fn get_vendor(&self, id: &str) -> Result<Option<Vendor>, StoreError> {
        self.get(VENDORS, id).await
    }

    async fn list_vendors(
        &self,
        query: &VendorQuery,
        page: &PageRequest,
    ) -> Result<Page<Vendor>, StoreError> {
        let mut f = Filters::new();
        push(
            &mut f,
            "status",
            query.status.map(|s| s.as_str().to_string()),
        );
        self.list(VENDORS, f, page).await
    }

    async fn find_vendors_by_tax_id(&self, tax_id: &str) -> Result<Vec<Vendor>, StoreError> {
        self.find(VENDORS, "tax_id_key", tax_id_key(tax_id)).await
    }

    async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<Vendor>, StoreError> {
        self.find(VENDORS, "name_key", name_key(name)).await
    }
}

#[async_trait]
impl PurchaseOrderRepository for LocalStore {
    async fn get_purchase_order(&self, id: &str) -> Result<Option<PurchaseOrder>, StoreError> {
        self.get(PURCHASE_ORDERS, id).await
    }

    async fn list_purchase_orders(
        &self,
        query: &PurchaseOrderQuery,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError> {
        let mut f = Filters::new();
        push(&mut f, "vendor_id", query.vendor_id.clone());
        push(
            &mut f,
            "status",
            query.status.map(|s| s.as_str().to_string()),
        );
        self.list(PURCHASE_ORDERS, f, page).await
    }

    async fn list_goods_receipts(&self, po_id: &str) -> Result<Vec<GoodsReceipt>, StoreError> {
        self.db.read_inline(|c| {
            query_docs(
                c,
                "list goods receipts",
                "SELECT id, doc FROM goods_receipts WHERE po_id = ?1 ORDER BY created_sk",
                [po_id],
                GOODS_RECEIPTS.entity,
            )
        })
    }

    async fn find_purchase_orders_by_number(
        &self,
        po_number: &str,
    ) -> Result<Vec<PurchaseOrder>, StoreError> {
        self.find(PURCHASE_ORDERS, "po_number_key", po_number_key(po_number))
            .await
    }
}

#[async_trait]
impl InvoiceRepository for LocalStore {
    async fn get_invoice(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        self.get(INVOICES, id).await
    }

    async fn find_invoice_by_number(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Option<Invoice>, StoreError> {
        let key = invoice_number_key(vendor_id, invoice_number);
        self.db.read_inline(|c| {
            let op = "find invoice by number";
            let row: Option<(String, String)> = c
                .prepare_cached(
                    "SELECT i.id, i.doc FROM invoice_guards g JOIN invoices i ON i.id = g.invoice_id
                     WHERE g.key = ?1",
                )
                .op(op)?
                .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .op(op)?;
            row.map(|(id, doc)| from_json(INVOICES.entity, &id, &doc))
                .transpose()
        })
    }

    async fn list_invoices(
        &self,
        query: &InvoiceQuery,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError> {
        let mut f = Filters::new();
        push(
            &mut f,
            "status",
            query.status.map(|s| s.as_str().to_string()),
        );
        push(&mut f, "po_id", query.po_id.clone());
        push(&mut f, "vendor_id", query.vendor_id.clone());
        self.list(INVOICES, f, page).await
    }
}

#[async_trait]
impl PaymentRepository for LocalStore {
    async fn get_payment(&self, id: &str) -> Result<Option<Payment>, StoreError> {
        self.get(PAYMENTS, id).await
    }

    async fn get_payment_for_invoice(
        &self,
        invoice_id: &str,
    ) -> Result<Option<Payment>, StoreError> {
        let page = self
            .list::<Payment>(
                PAYMENTS,
                vec![("invoice_id", invoice_id.to_string())],
                &PageRequest::first(1),
            )
            .await?;
        Ok(page.items.into_iter().next())
    }

    async fn list_payments(
        &self,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError> {
        let mut f = Filters::new();
        push(
            &mut f,
            "status",
            query.status.map(|s| s.as_str().to_string()),
        );
        push(&mut f, "invoice_id", query.invoice_id.clone());
        push(&mut f, "vendor_id", query.vendor_id.clone());
        self.list(PAYMENTS, f, page).await
    }
}

#[async_trait]
impl AuditRepository for LocalStore {
    async fn list_audit(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.list(AUDIT, vec![("entity_id", entity_id.to_string())], page)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each lookup walks its partial index (no table scan, no sort), on a fresh database
    /// and so on a migrated one (both end at the same schema).
    #[test]
    fn lookups_search_their_index() {
        let dir = tempfile::tempdir().unwrap();
        drop(Db::open(dir.path()).unwrap());
        let conn =
            rusqlite::Connection::open(dir.path().join(super::super::DATABASE_FILE)).unwrap();
        for (table, column, index) in [
            (VENDORS, "tax_id_key", "vendors_tax_id"),
            (VENDORS, "name_key", "vendors_name"),
            (PURCHASE_ORDERS, "po_number_key", "purchase_orders_number"),
        ] {
            let sql = format!("EXPLAIN QUERY PLAN {}", lookup_sql(table, column));
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(params!["K", 20], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                plan,
                vec![format!(
                    "SEARCH {} USING INDEX {index} ({column}=?)",
                    table.name
                )],
                "{column}"
            );
        }
    }
}
