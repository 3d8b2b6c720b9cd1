//! The ports the functions use: narrow traits, one per capability, each implemented by the
//! aws adapters and by the local (embedded) adapters, and proven equal by one contract suite.
//!
//! Writes go through [`UnitOfWork::commit`]: every state change travels with its audit
//! entries in one atomic commit (one `TransactWriteItems` on DynamoDB, one SQLite
//! transaction locally). Uniqueness is the database's job: creating an invoice also claims
//! its vendor + invoice-number guard; creating a payment is conditional on its derived id.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use p2p_core::audit::AuditEntry;
use p2p_core::events::DomainEvent;
use p2p_core::invoice::{Invoice, InvoiceStatus};
use p2p_core::payment::{Payment, PaymentStatus};
use p2p_core::purchase_order::{GoodsReceipt, PoStatus, PurchaseOrder};
use p2p_core::vendor::{Vendor, VendorStatus};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Largest page a list returns; bigger requests are clamped.
pub const MAX_PAGE_SIZE: u32 = 100;
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Most records a lookup by a normalised key (tax id, name, PO number) returns, oldest
/// first: these keys are not unique, but more matches than this mean the key identifies
/// nothing.
pub const MAX_LOOKUP_MATCHES: u32 = 20;

/// A page request: a size and the opaque cursor of the previous page's `next_cursor`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        PageRequest {
            limit: Some(limit),
            cursor: None,
        }
    }
    /// The effective page size, 1..=MAX_PAGE_SIZE.
    pub fn size(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of results, oldest first; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What a write expects of the stored item: absent (create) or at a version (update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The item must not exist yet.
    Absent,
    /// The stored item must have exactly this `version` (optimistic concurrency).
    Version(u64),
}

/// One write in a [`ChangeSet`]. Records carry their new `version`; `Expect` says what the
/// stored one must be.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // a handful per commit, short-lived: boxing buys nothing
pub enum Write {
    PutVendor(Vendor, Expect),
    PutPurchaseOrder(PurchaseOrder, Expect),
    /// Always a create (receipts are immutable).
    PutGoodsReceipt(GoodsReceipt),
    /// `Expect::Absent` also claims the vendor + invoice-number guard (duplicates fail with
    /// [`StoreError::DuplicateInvoice`]). Invoice number and vendor never change afterwards.
    PutInvoice(Invoice, Expect),
    /// `Expect::Absent` fails with [`StoreError::Conflict`] (`AlreadyExists`) when the
    /// invoice already has its payment.
    PutPayment(Payment, Expect),
    DeleteVendor {
        id: String,
        version: u64,
    },
    DeletePurchaseOrder {
        id: String,
        version: u64,
    },
    /// Also releases the invoice-number guard.
    DeleteInvoice {
        invoice: Box<Invoice>,
        version: u64,
    },
}

/// Writes and their audit entries, committed all or nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangeSet {
    pub writes: Vec<Write>,
    pub audit: Vec<AuditEntry>,
}

impl ChangeSet {
    pub fn new() -> Self {
        ChangeSet::default()
    }
    pub fn write(mut self, w: Write) -> Self {
        self.writes.push(w);
        self
    }
    pub fn audit(mut self, a: AuditEntry) -> Self {
        self.audit.push(a);
        self
    }
}

/// Commits a change set atomically. Most 25 writes + audit entries per commit on DynamoDB's
/// limits are far away (100 items); the adapters refuse bigger sets with `Invalid`.
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendorQuery {
    pub status: Option<VendorStatus>,
}

#[async_trait]
pub trait VendorRepository: Send + Sync {
    async fn get_vendor(&self, id: &str) -> Result<Option<Vendor>, StoreError>;
    async fn list_vendors(
        &self,
        query: &VendorQuery,
        page: &PageRequest,
    ) -> Result<Page<Vendor>, StoreError>;
    /// Vendors whose tax id has the same [`p2p_core::vendor::tax_id_key`] as `tax_id`
    /// (spacing, punctuation and case ignored), oldest first, at most
    /// [`MAX_LOOKUP_MATCHES`]. One index lookup; empty when the key is empty.
    async fn find_vendors_by_tax_id(&self, tax_id: &str) -> Result<Vec<Vendor>, StoreError>;
    /// Vendors whose name has the same [`p2p_core::vendor::name_key`] as `name` (case,
    /// punctuation and trailing legal forms ignored), oldest first, at most
    /// [`MAX_LOOKUP_MATCHES`]. Names are not unique: every match is returned.
    async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<Vendor>, StoreError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurchaseOrderQuery {
    pub vendor_id: Option<String>,
    pub status: Option<PoStatus>,
}

#[async_trait]
pub trait PurchaseOrderRepository: Send + Sync {
    async fn get_purchase_order(&self, id: &str) -> Result<Option<PurchaseOrder>, StoreError>;
    async fn list_purchase_orders(
        &self,
        query: &PurchaseOrderQuery,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError>;
    /// Every goods receipt of a PO, oldest first.
    async fn list_goods_receipts(&self, po_id: &str) -> Result<Vec<GoodsReceipt>, StoreError>;
    /// Purchase orders whose number has the same [`p2p_core::purchase_order::po_number_key`]
    /// as `po_number`, oldest first, at most [`MAX_LOOKUP_MATCHES`]. PO numbers are not
    /// unique across vendors, so this is a list. One index lookup; empty when the key is
    /// empty.
    async fn find_purchase_orders_by_number(
        &self,
        po_number: &str,
    ) -> Result<Vec<PurchaseOrder>, StoreError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub po_id: Option<String>,
    pub vendor_id: Option<String>,
    pub status: Option<InvoiceStatus>,
}

#[async_trait]
pub trait InvoiceRepository: Send + Sync {
    async fn get_invoice(&self, id: &str) -> Result<Option<Invoice>, StoreError>;
    /// The invoice holding this vendor + invoice-number guard, if any.
    async fn find_invoice_by_number(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Option<Invoice>, StoreError>;
    /// Lists by the most selective index (status for the jobs' work queues), oldest first.
    async fn list_invoices(
        &self,
        query: &InvoiceQuery,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentQuery {
    pub status: Option<PaymentStatus>,
    pub vendor_id: Option<String>,
    pub invoice_id: Option<String>,
}

#[async_trait]
pub trait PaymentRepository: Send + Sync {
    async fn get_payment(&self, id: &str) -> Result<Option<Payment>, StoreError>;
    async fn get_payment_for_invoice(
        &self,
        invoice_id: &str,
    ) -> Result<Option<Payment>, StoreError>;
    async fn list_payments(
        &self,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError>;
}

#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// An entity's audit trail, oldest first.
    async fn list_audit(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
}

/// Everything the functions need from the database.
pub trait Store:
    UnitOfWork
    + VendorRepository
    + PurchaseOrderRepository
    + InvoiceRepository
    + PaymentRepository
    + AuditRepository
{
}

impl<T> Store for T where
    T: UnitOfWork
        + VendorRepository
        + PurchaseOrderRepository
        + InvoiceRepository
        + PaymentRepository
        + AuditRepository
{
}

/// How an object is stored: content type, user metadata, tags. Always encrypted at rest
/// (SSE AES256 on S3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub content_type: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What `head` and `list` say about an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    pub content_type: Option<String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub version_id: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub info: ObjectInfo,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutReceipt {
    pub version_id: Option<String>,
    pub etag: Option<String>,
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
    ) -> Result<PutReceipt, StoreError>;
    /// `StoreError::NotFound` when absent.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<StoredObject, StoreError>;
    /// `None` when absent.
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError>;
    async fn get_object_tags(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, StoreError>;
    /// Replaces the object's tags.
    async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
    /// Keys under `prefix` in key order, a page at a time.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<Page<ObjectInfo>, StoreError>;
}

/// An SNS-like notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub subject: String,
    pub message: String,
    /// Message attributes, e.g. `event_type`, `invoice_id`, `vendor_id`.
    pub attributes: BTreeMap<String, String>,
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Publishes and returns the message id.
    async fn notify(&self, notification: &Notification) -> Result<String, StoreError>;
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes domain events; fails if any entry was not accepted.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StartOutcome {
    Started {
        execution_arn: String,
    },
    /// An execution with this name already exists: a re-delivery, and still a success.
    AlreadyExists {
        execution_arn: String,
    },
}

#[async_trait]
pub trait WorkflowStarter: Send + Sync {
    async fn start_workflow(
        &self,
        execution_name: &str,
        input: &serde_json::Value,
    ) -> Result<StartOutcome, StoreError>;
}
