//! Fault injection for tests: wrappers around any backend's ports that make chosen calls
//! fail with [`StoreError::Transient`], so a test can show that a failure part-way through
//! an operation leaves no partial state and that a retry finishes the job.
//!
//! ```ignore
//! let objects = FlakyObjectStore::new(backend.objects.clone()).fail_put_on(2);
//! let store = FlakyStore::new(backend.store.clone()).fail_commit_on(1);
//! ```
//!
//! Calls are counted per operation from 1. A failed call is counted too, so "fail the
//! 2nd put" fails once and the retry (the 3rd put) goes through.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use p2p_core::audit::AuditEntry;
use p2p_core::events::DomainEvent;
use p2p_core::invoice::Invoice;
use p2p_core::payment::Payment;
use p2p_core::purchase_order::{GoodsReceipt, PurchaseOrder};
use p2p_core::vendor::Vendor;

use crate::error::StoreError;
use crate::ports::{
    AuditRepository, ChangeSet, EventPublisher, InvoiceQuery, InvoiceRepository, Notification,
    Notifier, ObjectInfo, ObjectMeta, ObjectStore, Page, PageRequest, PaymentQuery,
    PaymentRepository, PurchaseOrderQuery, PurchaseOrderRepository, PutReceipt, Store,
    StoredObject, UnitOfWork, VendorQuery, VendorRepository,
};

/// Operation names, as counted and as named in the injected error.
pub mod op {
    pub const PUT_OBJECT: &str = "put_object";
    pub const GET_OBJECT: &str = "get_object";
    pub const HEAD_OBJECT: &str = "head_object";
    pub const GET_OBJECT_TAGS: &str = "get_object_tags";
    pub const PUT_OBJECT_TAGS: &str = "put_object_tags";
    pub const LIST_OBJECTS: &str = "list_objects";
    pub const COMMIT: &str = "commit";
    pub const GET_VENDOR: &str = "get_vendor";
    pub const LIST_VENDORS: &str = "list_vendors";
    pub const FIND_VENDORS_BY_TAX_ID: &str = "find_vendors_by_tax_id";
    pub const FIND_VENDORS_BY_NAME: &str = "find_vendors_by_name";
    pub const GET_PURCHASE_ORDER: &str = "get_purchase_order";
    pub const LIST_PURCHASE_ORDERS: &str = "list_purchase_orders";
    pub const LIST_GOODS_RECEIPTS: &str = "list_goods_receipts";
    pub const FIND_PURCHASE_ORDERS_BY_NUMBER: &str = "find_purchase_orders_by_number";
    pub const GET_INVOICE: &str = "get_invoice";
    pub const FIND_INVOICE_BY_NUMBER: &str = "find_invoice_by_number";
    pub const LIST_INVOICES: &str = "list_invoices";
    pub const GET_PAYMENT: &str = "get_payment";
    pub const GET_PAYMENT_FOR_INVOICE: &str = "get_payment_for_invoice";
    pub const LIST_PAYMENTS: &str = "list_payments";
    pub const LIST_AUDIT: &str = "list_audit";
    pub const NOTIFY: &str = "notify";
    pub const PUBLISH: &str = "publish";
}

/// The injected error.
pub fn injected(operation: &str, call: u64) -> StoreError {
    StoreError::Transient {
        operation: operation.to_string(),
        message: format!("injected fault (call {call})"),
    }
}

/// Which calls fail, and how many of each were made.
#[derive(Default)]
struct Plan {
    counts: HashMap<&'static str, u64>,
    nth: HashSet<(&'static str, u64)>,
    from: HashMap<&'static str, u64>,
}

impl Plan {
    /// Counts the call; `Some(n)` when call `n` must fail.
    fn hit(&mut self, operation: &'static str) -> Option<u64> {
        let n = self.counts.entry(operation).or_default();
        *n += 1;
        let n = *n;
        let fails = self.nth.contains(&(operation, n))
            || self.from.get(operation).is_some_and(|from| n >= *from);
        fails.then_some(n)
    }
}

/// Shared bookkeeping of the wrappers.
#[derive(Default)]
struct Faults {
    plan: Mutex<Plan>,
}

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Counts the call and says whether it fails; `Ok` carries the call's number.
    fn check(&self, operation: &'static str) -> Result<u64, StoreError> {
        let mut plan = self.plan();
        match plan.hit(operation) {
            Some(n) => Err(injected(operation, n)),
            None => Ok(plan.counts.get(operation).copied().unwrap_or(0)),
        }
    }
    fn fail_on(&self, operation: &'static str, n: u64) {
        self.plan().nth.insert((operation, n));
    }
    fn fail_from(&self, operation: &'static str, n: u64) {
        self.plan().from.insert(operation, n);
    }
    fn heal(&self) {
        let mut p = self.plan();
        p.nth.clear();
        p.from.clear();
    }
    fn calls(&self, operation: &str) -> u64 {
        self.plan().counts.get(operation).copied().unwrap_or(0)
    }
}

/// A call to the object store, for predicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCall<'a> {
    pub operation: &'static str,
    pub bucket: &'a str,
    pub key: &'a str,
}

type ObjectPredicate = Box<dyn Fn(&ObjectCall<'_>) -> bool + Send + Sync>;

/// An [`ObjectStore`] whose chosen calls fail.
pub struct FlakyObjectStore {
    inner: Arc<dyn ObjectStore>,
    faults: Faults,
    when: Mutex<Vec<ObjectPredicate>>,
}

impl FlakyObjectStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FlakyObjectStore {
            inner,
            faults: Faults::default(),
            when: Mutex::new(Vec::new()),
        }
    }
    /// The `n`-th call (from 1) of `operation` (see [`op`]) fails.
    pub fn fail_on(self, operation: &'static str, n: u64) -> Self {
        self.faults.fail_on(operation, n);
        self
    }
    /// Every call of `operation` from the `n`-th on fails (until [`Self::heal`]).
    pub fn fail_from(self, operation: &'static str, n: u64) -> Self {
        self.faults.fail_from(operation, n);
        self
    }
    /// The `n`-th `put_object` fails (nothing is written).
    pub fn fail_put_on(self, n: u64) -> Self {
        self.fail_on(op::PUT_OBJECT, n)
    }
    /// Every call matching `predicate` fails (until [`Self::heal`]).
    pub fn fail_when(
        self,
        predicate: impl Fn(&ObjectCall<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.when
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(predicate));
        self
    }
    /// Stops failing; counts are kept.
    pub fn heal(&self) {
        self.faults.heal();
        self.when.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Calls of `operation` so far, failed ones included.
    pub fn calls(&self, operation: &str) -> u64 {
        self.faults.calls(operation)
    }

    fn check(&self, operation: &'static str, bucket: &str, key: &str) -> Result<(), StoreError> {
        let n = self.faults.check(operation)?;
        let call = ObjectCall {
            operation,
            bucket,
            key,
        };
        let when = self.when.lock().unwrap_or_else(|p| p.into_inner());
        if when.iter().any(|p| p(&call)) {
            return Err(injected(operation, n));
        }
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for FlakyObjectStore {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
    ) -> Result<PutReceipt, StoreError> {
        self.check(op::PUT_OBJECT, bucket, key)?;
        self.inner.put_object(bucket, key, body, meta).await
    }
    async fn get_object(&self, bucket: &str, key: &str) -> Result<StoredObject, StoreError> {
        self.check(op::GET_OBJECT, bucket, key)?;
        self.inner.get_object(bucket, key).await
    }
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.check(op::HEAD_OBJECT, bucket, key)?;
        self.inner.head_object(bucket, key).await
    }
    async fn get_object_tags(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        self.check(op::GET_OBJECT_TAGS, bucket, key)?;
        self.inner.get_object_tags(bucket, key).await
    }
    async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.check(op::PUT_OBJECT_TAGS, bucket, key)?;
        self.inner.put_object_tags(bucket, key, tags).await
    }
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<Page<ObjectInfo>, StoreError> {
        self.check(op::LIST_OBJECTS, bucket, prefix)?;
        self.inner.list_objects(bucket, prefix, page).await
    }
}

type CommitPredicate = Box<dyn Fn(&ChangeSet) -> bool + Send + Sync>;

/// A [`Store`] whose chosen calls fail: commits before anything is written, or after the
/// commit was applied (a lost acknowledgement, like a timeout after DynamoDB accepted a
/// transaction), and reads.
pub struct FlakyStore {
    inner: Arc<dyn Store>,
    faults: Faults,
    lost_acks: Mutex<HashSet<u64>>,
    when: Mutex<Vec<CommitPredicate>>,
}

impl FlakyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FlakyStore {
            inner,
            faults: Faults::default(),
            lost_acks: Mutex::new(HashSet::new()),
            when: Mutex::new(Vec::new()),
        }
    }
    /// The `n`-th call (from 1) of `operation` (see [`op`]) fails without effect.
    pub fn fail_on(self, operation: &'static str, n: u64) -> Self {
        self.faults.fail_on(operation, n);
        self
    }
    /// Every call of `operation` from the `n`-th on fails (until [`Self::heal`]).
    pub fn fail_from(self, operation: &'static str, n: u64) -> Self {
        self.faults.fail_from(operation, n);
        self
    }
    /// The `n`-th commit fails; nothing of it is written.
    pub fn fail_commit_on(self, n: u64) -> Self {
        self.fail_on(op::COMMIT, n)
    }
    /// The `n`-th commit is applied, then reported as a transient failure.
    pub fn lose_commit_ack_on(self, n: u64) -> Self {
        self.lost_acks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n);
        self
    }
    /// Every commit whose change set matches `predicate` fails (until [`Self::heal`]).
    pub fn fail_commit_when(
        self,
        predicate: impl Fn(&ChangeSet) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.when
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(predicate));
        self
    }
    /// Stops failing; counts are kept.
    pub fn heal(&self) {
        self.faults.heal();
        self.lost_acks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.when.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Calls of `operation` so far, failed ones included.
    pub fn calls(&self, operation: &str) -> u64 {
        self.faults.calls(operation)
    }
}

#[async_trait]
impl UnitOfWork for FlakyStore {
    async fn commit(&self, changes: ChangeSet) -> Result<(), StoreError> {
        let n = self.faults.check(op::COMMIT)?;
        if self
            .when
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|p| p(&changes))
        {
            return Err(injected(op::COMMIT, n));
        }
        self.inner.commit(changes).await?;
        if self
            .lost_acks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&n)
        {
            return Err(injected(op::COMMIT, n));
        }
        Ok(())
    }
}

#[async_trait]
impl VendorRepository for FlakyStore {
    async fn get_vendor(&self, id: &str) -> Result<Option<Vendor>, StoreError> {
        self.faults.check(op::GET_VENDOR)?;
        self.inner.get_vendor(id).await
    }
    async fn list_vendors(
        &self,
        query: &VendorQuery,
        page: &PageRequest,
    ) -> Result<Page<Vendor>, StoreError> {
        self.faults.check(op::LIST_VENDORS)?;
        self.inner.list_vendors(query, page).await
    }
    async fn find_vendors_by_tax_id(&self, tax_id: &str) -> Result<Vec<Vendor>, StoreError> {
        self.faults.check(op::FIND_VENDORS_BY_TAX_ID)?;
        self.inner.find_vendors_by_tax_id(tax_id).await
    }
    async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<Vendor>, StoreError> {
        self.faults.check(op::FIND_VENDORS_BY_NAME)?;
        self.inner.find_vendors_by_name(name).await
    }
}

#[async_trait]
impl PurchaseOrderRepository for FlakyStore {
    async fn get_purchase_order(&self, id: &str) -> Result<Option<PurchaseOrder>, StoreError> {
        self.faults.check(op::GET_PURCHASE_ORDER)?;
        self.inner.get_purchase_order(id).await
    }
    async fn list_purchase_orders(
        &self,
        query: &PurchaseOrderQuery,
        page: &PageRequest,
    ) -> Result<Page<PurchaseOrder>, StoreError> {
        self.faults.check(op::LIST_PURCHASE_ORDERS)?;
        self.inner.list_purchase_orders(query, page).await
    }
    async fn list_goods_receipts(&self, po_id: &str) -> Result<Vec<GoodsReceipt>, StoreError> {
        self.faults.check(op::LIST_GOODS_RECEIPTS)?;
        self.inner.list_goods_receipts(po_id).await
    }
    async fn find_purchase_orders_by_number(
        &self,
        po_number: &str,
    ) -> Result<Vec<PurchaseOrder>, StoreError> {
        self.faults.check(op::FIND_PURCHASE_ORDERS_BY_NUMBER)?;
        self.inner.find_purchase_orders_by_number(po_number).await
    }
}

#[async_trait]
impl InvoiceRepository for FlakyStore {
    async fn get_invoice(&self, id: &str) -> Result<Option<Invoice>, StoreError> {
        self.faults.check(op::GET_INVOICE)?;
        self.inner.get_invoice(id).await
    }
    async fn find_invoice_by_number(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Option<Invoice>, StoreError> {
        self.faults.check(op::FIND_INVOICE_BY_NUMBER)?;
        self.inner
            .find_invoice_by_number(vendor_id, invoice_number)
            .await
    }
    async fn list_invoices(
        &self,
        query: &InvoiceQuery,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError> {
        self.faults.check(op::LIST_INVOICES)?;
        self.inner.list_invoices(query, page).await
    }
}

#[async_trait]
impl PaymentRepository for FlakyStore {
    async fn get_payment(&self, id: &str) -> Result<Option<Payment>, StoreError> {
        self.faults.check(op::GET_PAYMENT)?;
        self.inner.get_payment(id).await
    }
    async fn get_payment_for_invoice(
        &self,
        invoice_id: &str,
    ) -> Result<Option<Payment>, StoreError> {
        self.faults.check(op::GET_PAYMENT_FOR_INVOICE)?;
        self.inner.get_payment_for_invoice(invoice_id).await
    }
    async fn list_payments(
        &self,
        query: &PaymentQuery,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError> {
        self.faults.check(op::LIST_PAYMENTS)?;
        self.inner.list_payments(query, page).await
    }
}

#[async_trait]
impl AuditRepository for FlakyStore {
    async fn list_audit(
        &self,
        entity_id: &str,
        page: &PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        self.faults.check(op::LIST_AUDIT)?;
        self.inner.list_audit(entity_id, page).await
    }
}

/// A [`Notifier`] and [`EventPublisher`] whose chosen calls fail (nothing is published).
pub struct FlakyMessaging {
    notifier: Arc<dyn Notifier>,
    events: Arc<dyn EventPublisher>,
    faults: Faults,
}

impl FlakyMessaging {
    pub fn new(notifier: Arc<dyn Notifier>, events: Arc<dyn EventPublisher>) -> Self {
        FlakyMessaging {
            notifier,
            events,
            faults: Faults::default(),
        }
    }
    pub fn fail_notify_on(self, n: u64) -> Self {
        self.faults.fail_on(op::NOTIFY, n);
        self
    }
    pub fn fail_publish_on(self, n: u64) -> Self {
        self.faults.fail_on(op::PUBLISH, n);
        self
    }
    /// Every call of `operation` from the `n`-th on fails (until [`Self::heal`]).
    pub fn fail_from(self, operation: &'static str, n: u64) -> Self {
        self.faults.fail_from(operation, n);
        self
    }
    pub fn heal(&self) {
        self.faults.heal();
    }
    pub fn calls(&self, operation: &str) -> u64 {
        self.faults.calls(operation)
    }
}

#[async_trait]
impl Notifier for FlakyMessaging {
    async fn notify(&self, notification: &Notification) -> Result<String, StoreError> {
        self.faults.check(op::NOTIFY)?;
        self.notifier.notify(notification).await
    }
}

#[async_trait]
impl EventPublisher for FlakyMessaging {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), StoreError> {
        self.faults.check(op::PUBLISH)?;
        self.events.publish(events).await
    }
}
