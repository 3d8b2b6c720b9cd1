//! What only the aws adapters promise, on a moto server
//! (`scripts/with-moto.sh cargo test -p p2p-adapters --test aws_adapters`):
//! request counts per operation (the cost model), no Scan anywhere, the item layout, typed
//! errors for missing resources and throttling, and injected failures mid-operation that
//! leave nothing a retry cannot finish.

mod aws_support;
#[allow(dead_code)]
#[path = "contract/fixtures.rs"]
mod fixtures;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use fixtures::{at, audit, invoice, invoice_created, invoice_number, payment, unique};
use p2p_adapters::aws::{AwsBackend, AwsClients, CallCounts};
use p2p_adapters::cursor::CursorCodec;
use p2p_adapters::provision::provision;
use p2p_adapters::AuditRepository;
use p2p_adapters::{
    ChangeSet, ConflictReason, EventPublisher, Expect, InvoiceQuery, InvoiceRepository,
    Notification, Notifier, ObjectMeta, ObjectStore, PageRequest, PaymentRepository,
    PurchaseOrderRepository, StartOutcome, StoreError, UnitOfWork, VendorRepository,
    WorkflowStarter, Write,
};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::invoice::{Invoice, InvoiceStatus};
use p2p_core::payment::{payment_file_key, PaymentFileFormat, PaymentStatus};
use rust_decimal_macros::dec;

// ---------------------------------------------------------------- fault injection

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    /// The request never leaves: a dispatch failure.
    FailBeforeSend,
    /// The service applied the request but the answer is lost.
    LoseResponse,
    /// The service's answer is replaced by a DynamoDB ThrottlingException (reads only: the
    /// real request was sent).
    Throttle,
}

#[derive(Debug)]
struct Fault {
    service: &'static str,
    operation: &'static str,
    /// Matching calls to let through first.
    skip: u32,
    kind: FaultKind,
    fired: bool,
}

/// Fails chosen SDK calls once each: an interceptor on every client of a backend.
#[derive(Debug, Clone, Default)]
struct Faults(Arc<Mutex<Vec<Fault>>>);

impl Faults {
    fn arm(&self, service: &'static str, operation: &'static str, skip: u32, kind: FaultKind) {
        self.0.lock().unwrap().push(Fault {
            service,
            operation,
            skip,
            kind,
            fired: false,
        });
    }

    fn take(&self, cfg: &ConfigBag, kinds: &[FaultKind]) -> Option<FaultKind> {
        let meta = cfg.load::<Metadata>()?;
        let mut faults = self.0.lock().unwrap();
        for f in faults.iter_mut() {
            if f.fired
                || f.service != meta.service()
                || f.operation != meta.name()
                || !kinds.contains(&f.kind)
            {
                continue;
            }
            if f.skip > 0 {
                f.skip -= 1;
                return None;
            }
            f.fired = true;
            return Some(f.kind);
        }
        None
    }

    fn interceptor(&self) -> SharedInterceptor {
        SharedInterceptor::new(self.clone())
    }
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "Faults"
    }

    fn modify_before_transmit(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match self.take(cfg, &[FaultKind::FailBeforeSend]) {
            Some(_) => Err("injected fault: connection refused before sending".into()),
            None => Ok(()),
        }
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match self.take(cfg, &[FaultKind::LoseResponse, FaultKind::Throttle]) {
            Some(FaultKind::LoseResponse) => Err("injected fault: response lost".into()),
            Some(_) => {
                let mut response = HttpResponse::new(
                    StatusCode::try_from(400u16)?,
                    SdkBody::from(
                        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"injected: rate exceeded"}"#,
                    ),
                );
                response
                    .headers_mut()
                    .insert("content-type", "application/x-amz-json-1.0");
                *context.response_mut() = response;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

async fn backend_with_faults() -> (AwsBackend, Faults) {
    let faults = Faults::default();
    let backend = aws_support::backend_with(vec![faults.interceptor()]).await;
    (backend, faults)
}

// ---------------------------------------------------------------- helpers

fn counts_since(b: &AwsBackend, before: &CallCounts) -> CallCounts {
    b.counter().snapshot().since(before)
}

fn only(counts: &CallCounts, service: &str, operation: &str, n: u64) {
    assert_eq!(
        counts.get(service, operation),
        n,
        "{service}.{operation} calls; all calls: {counts}"
    );
    assert_eq!(counts.total(), n, "no other calls; all calls: {counts}");
}

fn no_scans(b: &AwsBackend) {
    let all = b.counter().snapshot();
    assert_eq!(all.get("DynamoDB", "Scan"), 0, "a Scan was issued: {all}");
}

async fn submit(b: &AwsBackend, inv: &Invoice) -> Result<(), StoreError> {
    b.commit(
        ChangeSet::new()
            .write(Write::PutInvoice(inv.clone(), Expect::Absent))
            .audit(invoice_created(inv)),
    )
    .await
}

fn received(vendor: &str, n: i64) -> Invoice {
    invoice(
        vendor,
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Received,
        at(n),
    )
}

async fn raw_item(
    b: &AwsBackend,
    table: &str,
    id: &str,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    b.clients()
        .dynamodb
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.to_string()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

// ---------------------------------------------------------------- cost: calls per operation

#[tokio::test]
async fn submitting_an_invoice_is_one_transaction() {
    let b = aws_support::backend().await;
    let inv = received(&unique("ven"), 0);
    let before = b.counter().snapshot();
    submit(&b, &inv).await.unwrap();
    // Invoice + number guard + audit entry: one TransactWriteItems.
    only(
        &counts_since(&b, &before),
        "DynamoDB",
        "TransactWriteItems",
        1,
    );
}

#[tokio::test]
async fn status_change_with_audit_is_one_dynamodb_call() {
    let b = aws_support::backend().await;
    let inv = received(&unique("ven"), 0);
    submit(&b, &inv).await.unwrap();
    let matched = inv.with_status(InvoiceStatus::Matched, at(10)).unwrap();
    let before = b.counter().snapshot();
    b.commit(
        ChangeSet::new()
            .write(Write::PutInvoice(
                matched.clone(),
                Expect::Version(inv.version),
            ))
            .audit(audit(
                AuditType::InvoiceAction,
                action::RECONCILE,
                entity::INVOICE,
                &inv.id,
                at(10),
            )),
    )
    .await
    .unwrap();
    only(
        &counts_since(&b, &before),
        "DynamoDB",
        "TransactWriteItems",
        1,
    );
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), Some(matched));
    assert_eq!(
        b.list_audit(&inv.id, &PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    no_scans(&b);
}

#[tokio::test]
async fn approval_with_payment_is_one_dynamodb_call() {
    let b = aws_support::backend().await;
    let inv = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Matched,
        at(0),
    );
    submit(&b, &inv).await.unwrap();
    let approved = inv.with_status(InvoiceStatus::Approved, at(5)).unwrap();
    let pay = payment(&inv, PaymentStatus::Approved, at(5));
    let before = b.counter().snapshot();
    b.commit(
        ChangeSet::new()
            .write(Write::PutPayment(pay.clone(), Expect::Absent))
            .write(Write::PutInvoice(approved, Expect::Version(inv.version)))
            .audit(audit(
                AuditType::PaymentAction,
                action::CREATE,
                entity::PAYMENT,
                &pay.id,
                at(5),
            ))
            .audit(audit(
                AuditType::InvoiceAction,
                action::APPROVE,
                entity::INVOICE,
                &inv.id,
                at(5),
            )),
    )
    .await
    .unwrap();
    only(
        &counts_since(&b, &before),
        "DynamoDB",
        "TransactWriteItems",
        1,
    );

    let before = b.counter().snapshot();
    assert_eq!(b.get_payment_for_invoice(&inv.id).await.unwrap(), Some(pay));
    only(&counts_since(&b, &before), "DynamoDB", "GetItem", 1);
}

#[tokio::test]
async fn reads_cost_one_call_and_lookup_by_number_two() {
    let b = aws_support::backend().await;
    let inv = received(&unique("ven"), 0);
    submit(&b, &inv).await.unwrap();

    let before = b.counter().snapshot();
    assert!(b.get_invoice(&inv.id).await.unwrap().is_some());
    only(&counts_since(&b, &before), "DynamoDB", "GetItem", 1);

    let before = b.counter().snapshot();
    assert!(b
        .find_invoice_by_number(&inv.vendor_id, &inv.invoice_number)
        .await
        .unwrap()
        .is_some());
    // The guard, then the invoice it names.
    only(&counts_since(&b, &before), "DynamoDB", "GetItem", 2);

    let before = b.counter().snapshot();
    assert!(b
        .list_goods_receipts(&unique("po"))
        .await
        .unwrap()
        .is_empty());
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);
}

#[tokio::test]
async fn lookups_by_key_are_one_query_each_and_never_scan() {
    let b = aws_support::backend().await;
    let mut v = fixtures::vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    v.tax_id = Some(format!("DE {}", &unique("x")[2..12]));
    let mut po = fixtures::purchase_order(&v.id, p2p_core::purchase_order::PoStatus::Sent, at(1));
    po.po_number = unique("PO");
    b.commit(
        ChangeSet::new()
            .write(Write::PutVendor(v.clone(), Expect::Absent))
            .write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)),
    )
    .await
    .unwrap();

    let before = b.counter().snapshot();
    let tax = v.tax_id.clone().unwrap_or_default().to_lowercase();
    assert_eq!(
        b.find_vendors_by_tax_id(&tax).await.unwrap(),
        vec![v.clone()]
    );
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);

    let before = b.counter().snapshot();
    assert_eq!(
        b.find_vendors_by_name(&format!("{} Inc.", v.name))
            .await
            .unwrap(),
        vec![v.clone()]
    );
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);

    let before = b.counter().snapshot();
    assert_eq!(
        b.find_purchase_orders_by_number(&po.po_number.to_lowercase())
            .await
            .unwrap(),
        vec![po.clone()]
    );
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);

    // Not found is one Query as well; an empty key costs nothing.
    let before = b.counter().snapshot();
    assert!(b
        .find_purchase_orders_by_number(&unique("PO"))
        .await
        .unwrap()
        .is_empty());
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);
    let before = b.counter().snapshot();
    assert!(b.find_vendors_by_tax_id(" - ").await.unwrap().is_empty());
    assert_eq!(counts_since(&b, &before).total(), 0);
    no_scans(&b);
}

/// The lookup attributes: written normalised, left out when empty (sparse indexes), and
/// never on receipts.
#[tokio::test]
async fn lookup_attributes_are_normalised_and_sparse() {
    let b = aws_support::backend().await;
    let mut with_tax = fixtures::vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    with_tax.name = "Acme Supplies, Inc.".into();
    with_tax.tax_id = Some("de 232-446-240".into());
    let without_tax = fixtures::vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    let mut po = fixtures::purchase_order(
        &with_tax.id,
        p2p_core::purchase_order::PoStatus::Sent,
        at(1),
    );
    po.po_number = "po-0042".into();
    let receipt = fixtures::goods_receipt(&po.id, at(2));
    b.commit(
        ChangeSet::new()
            .write(Write::PutVendor(with_tax.clone(), Expect::Absent))
            .write(Write::PutVendor(without_tax.clone(), Expect::Absent))
            .write(Write::PutPurchaseOrder(po.clone(), Expect::Absent))
            .write(Write::PutGoodsReceipt(receipt.clone())),
    )
    .await
    .unwrap();
    let attr = |item: &std::collections::HashMap<String, AttributeValue>, k: &str| {
        item.get(k).and_then(|v| v.as_s().ok()).cloned()
    };
    let item = raw_item(&b, &b.names().vendors_table, &with_tax.id)
        .await
        .unwrap();
    assert_eq!(attr(&item, "tax_id_key").as_deref(), Some("DE232446240"));
    assert_eq!(attr(&item, "name_key").as_deref(), Some("ACME SUPPLIES"));
    let item = raw_item(&b, &b.names().vendors_table, &without_tax.id)
        .await
        .unwrap();
    assert!(!item.contains_key("tax_id_key"), "{item:?}");
    let item = raw_item(&b, &b.names().purchase_orders_table, &po.id)
        .await
        .unwrap();
    assert_eq!(attr(&item, "po_number_key").as_deref(), Some("PO0042"));
    let item = raw_item(&b, &b.names().purchase_orders_table, &receipt.id)
        .await
        .unwrap();
    assert!(!item.contains_key("po_number_key"), "{item:?}");
}

/// Items stored before the lookup indexes existed carry no lookup attributes; the backfill
/// writes them (and is idempotent), after which the lookups find those records.
#[tokio::test]
async fn backfill_writes_the_lookup_keys_of_items_stored_before_the_indexes() {
    let b = aws_support::backend().await;
    let mut v = fixtures::vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    v.tax_id = Some(format!("OLD {}", &unique("x")[2..12]));
    let mut po = fixtures::purchase_order(&v.id, p2p_core::purchase_order::PoStatus::Sent, at(1));
    po.po_number = unique("OLD-PO");
    b.commit(
        ChangeSet::new()
            .write(Write::PutVendor(v.clone(), Expect::Absent))
            .write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)),
    )
    .await
    .unwrap();
    // What the previous version wrote: the same items without the lookup attributes.
    for (table, id, attrs) in [
        (&b.names().vendors_table, &v.id, "tax_id_key, name_key"),
        (&b.names().purchase_orders_table, &po.id, "po_number_key"),
    ] {
        b.clients()
            .dynamodb
            .update_item()
            .table_name(table)
            .key("id", AttributeValue::S(id.clone()))
            .update_expression(format!("REMOVE {attrs}"))
            .send()
            .await
            .unwrap();
    }
    let tax = v.tax_id.clone().unwrap_or_default();
    assert!(b.find_vendors_by_tax_id(&tax).await.unwrap().is_empty());
    assert!(b
        .find_purchase_orders_by_number(&po.po_number)
        .await
        .unwrap()
        .is_empty());

    let report = b.backfill_lookup_keys().await.unwrap();
    assert!(report.updated >= 2, "{report:?}");
    assert!(report.scanned >= report.updated, "{report:?}");
    assert_eq!(
        b.find_vendors_by_tax_id(&tax).await.unwrap(),
        vec![v.clone()]
    );
    assert_eq!(
        b.find_vendors_by_name(&v.name).await.unwrap(),
        vec![v.clone()]
    );
    assert_eq!(
        b.find_purchase_orders_by_number(&po.po_number)
            .await
            .unwrap(),
        vec![po.clone()]
    );
    // The records themselves are untouched (same version, same document).
    assert_eq!(b.get_vendor(&v.id).await.unwrap(), Some(v.clone()));
    assert_eq!(
        b.get_purchase_order(&po.id).await.unwrap(),
        Some(po.clone())
    );
    // Idempotent: every item now carries its keys (other tests only write through the
    // adapters, which always do), so a second run updates nothing.
    let again = b.backfill_lookup_keys().await.unwrap();
    assert_eq!(again.updated, 0, "{again:?}");
}

#[tokio::test]
async fn work_queue_pages_are_one_query_each_and_never_scan() {
    let b = aws_support::backend().await;
    let ven = unique("ven");
    let mut ids = Vec::new();
    for i in 0..5 {
        let inv = received(&ven, i);
        submit(&b, &inv).await.unwrap();
        ids.push(inv.id);
    }
    // The reconciliation job's queue: received invoices, by the status index.
    let q = InvoiceQuery {
        status: Some(InvoiceStatus::Received),
        ..Default::default()
    };
    let before = b.counter().snapshot();
    let first = b.list_invoices(&q, &PageRequest::first(2)).await.unwrap();
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);
    assert_eq!(first.items.len(), 2);
    let before = b.counter().snapshot();
    let second = b
        .list_invoices(
            &q,
            &PageRequest {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    only(&counts_since(&b, &before), "DynamoDB", "Query", 1);
    assert_eq!(second.items.len(), 2);

    // A vendor's list: the vendor index; with a status as well, still Query only.
    let before = b.counter().snapshot();
    let by_vendor = b
        .list_invoices(
            &InvoiceQuery {
                vendor_id: Some(ven.clone()),
                status: Some(InvoiceStatus::Received),
                ..Default::default()
            },
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(
        by_vendor
            .items
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    assert!(by_vendor.next_cursor.is_none(), "the last page says so");
    let counts = counts_since(&b, &before);
    assert_eq!(counts.get("DynamoDB", "Query"), counts.total(), "{counts}");
    no_scans(&b);
}

#[tokio::test]
async fn object_put_and_head_are_one_call_each() {
    let b = aws_support::backend().await;
    let o = b.object_store();
    let bucket = b.names().payments_bucket.clone();
    let key = format!("payments/{}/payment.xml", unique("pay"));
    let meta = ObjectMeta {
        content_type: "application/xml".into(),
        metadata: BTreeMap::new(),
        tags: BTreeMap::from([
            ("invoice_id".to_string(), unique("inv")),
            ("amount".to_string(), "1250.00".to_string()),
            (
                "upload_timestamp".to_string(),
                "2025-03-03T09:00:00Z".to_string(),
            ),
            ("content_type".to_string(), "application/xml".to_string()),
        ]),
    };
    let before = b.counter().snapshot();
    let first = o
        .put_object(&bucket, &key, b"<a/>".to_vec(), &meta)
        .await
        .unwrap();
    only(&counts_since(&b, &before), "S3", "PutObject", 1);

    let before = b.counter().snapshot();
    let head = o.head_object(&bucket, &key).await.unwrap().unwrap();
    only(&counts_since(&b, &before), "S3", "HeadObject", 1);
    assert_eq!(head.version_id, first.version_id);

    // Tags went with the put; versioned bucket: an overwrite is a new version.
    assert_eq!(o.get_object_tags(&bucket, &key).await.unwrap(), meta.tags);
    let second = o
        .put_object(&bucket, &key, b"<b/>".to_vec(), &meta)
        .await
        .unwrap();
    assert!(first.version_id.is_some() && second.version_id.is_some());
    assert_ne!(first.version_id, second.version_id);
    let raw = b
        .clients()
        .s3
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw.server_side_encryption().map(|s| s.as_str()),
        Some("AES256")
    );
}

#[tokio::test]
async fn events_go_out_in_batches_of_ten() {
    let b = aws_support::backend().await;
    let ven = unique("ven");
    let events: Vec<DomainEvent> = (0..25)
        .map(|i| {
            DomainEvent::new(
                unique("evt"),
                DomainEventType::InvoiceSubmitted,
                &ven,
                Some(&unique("inv")),
                at(i),
                serde_json::json!({ "total_amount": "148.75" }),
            )
        })
        .collect();
    let before = b.counter().snapshot();
    b.event_publisher().publish(&events).await.unwrap();
    only(&counts_since(&b, &before), "EventBridge", "PutEvents", 3);
}

// ---------------------------------------------------------------- item layout

#[tokio::test]
async fn items_keep_index_attributes_top_level_and_the_record_exact() {
    let b = aws_support::backend().await;
    let mut inv = received(&unique("ven"), 0);
    inv.total_amount = dec!(1234567890.123456789);
    inv.match_report =
        Some(serde_json::from_str(r#"{"variance": 0.10000000000000000001}"#).unwrap());
    submit(&b, &inv).await.unwrap();

    let item = raw_item(&b, &b.names().invoices_table, &inv.id)
        .await
        .unwrap();
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(s("kind").as_deref(), Some("Invoice"));
    assert_eq!(s("status").as_deref(), Some("received"));
    assert_eq!(s("vendor_id"), Some(inv.vendor_id.clone()));
    assert_eq!(s("po_id"), Some(inv.po_id.clone()));
    assert_eq!(
        s("created_sk"),
        Some(format!("2025-03-03T09:00:00.000Z#{}", inv.id))
    );
    assert_eq!(
        item.get("version")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some("1")
    );
    let doc = s("doc").unwrap();
    assert!(
        doc.contains(r#""total_amount":"1234567890.123456789""#),
        "{doc}"
    );
    assert!(
        doc.contains("0.10000000000000000001"),
        "exact JSON numbers: {doc}"
    );
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), Some(inv.clone()));

    // The guard: findable by key, invisible to every index.
    let guard_id = format!("guard#{}", inv.uniqueness_key());
    let guard = raw_item(&b, &b.names().invoices_table, &guard_id)
        .await
        .unwrap();
    let mut attrs: Vec<&str> = guard.keys().map(String::as_str).collect();
    attrs.sort_unstable();
    assert_eq!(attrs, ["id", "invoice_id", "invoice_number"]);
    assert_eq!(
        b.get_invoice(&guard_id).await.unwrap(),
        None,
        "a guard is not an invoice"
    );
}

// ---------------------------------------------------------------- typed errors

fn misconfigured(e: &StoreError, resource_part: &str, env: &str) {
    match e {
        StoreError::Misconfigured {
            resource, env_var, ..
        } => {
            assert!(resource.contains(resource_part), "{e}");
            assert_eq!(*env_var, env, "{e}");
        }
        other => panic!("expected Misconfigured naming {resource_part} / {env}, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_resources_are_misconfigured_naming_resource_and_variable() {
    let provisioned = aws_support::backend().await;
    let config = p2p_adapters::aws::load_sdk_config().await;
    // Names nobody created.
    let names = provisioned.names().with_prefix("missing-");
    let b = AwsBackend::with_clients(
        AwsClients::new(&config),
        names.clone(),
        CursorCodec::new(b"k".to_vec()),
    );

    let e = b.get_vendor("ven-1").await.unwrap_err();
    misconfigured(&e, &names.vendors_table, "VENDORS_TABLE");
    let e = b
        .list_invoices(&InvoiceQuery::default(), &PageRequest::first(5))
        .await
        .unwrap_err();
    misconfigured(&e, &names.invoices_table, "INVOICES_TABLE");
    let e = submit(&b, &received("ven-1", 0)).await.unwrap_err();
    misconfigured(&e, &names.invoices_table, "INVOICES_TABLE");

    let o = b.object_store();
    let e = o
        .put_object(
            &names.payments_bucket,
            "k",
            b"x".to_vec(),
            &ObjectMeta::default(),
        )
        .await
        .unwrap_err();
    misconfigured(&e, &names.payments_bucket, "PAYMENTS_BUCKET");
    let e = o.head_object(&names.raw_bucket, "k").await.unwrap_err();
    misconfigured(&e, &names.raw_bucket, "RAW_BUCKET");
    let e = o.get_object(&names.raw_bucket, "k").await.unwrap_err();
    misconfigured(&e, &names.raw_bucket, "RAW_BUCKET");

    let e = b
        .notifier()
        .notify(&Notification {
            subject: "s".into(),
            message: "m".into(),
            attributes: BTreeMap::new(),
        })
        .await
        .unwrap_err();
    misconfigured(&e, "missing-", "NOTIFICATION_TOPIC_ARN");
    let e = b
        .workflow_starter()
        .start_workflow(&unique("exec"), &serde_json::json!({}))
        .await
        .unwrap_err();
    misconfigured(&e, "missing-", "STATE_MACHINE_ARN");
}

#[tokio::test]
async fn invalid_execution_name_is_invalid_and_restart_is_already_exists() {
    let b = aws_support::backend().await;
    let wf = b.workflow_starter();
    let name = unique("exec");
    let first = wf
        .start_workflow(&name, &serde_json::json!({"a": 1}))
        .await
        .unwrap();
    let second = wf
        .start_workflow(&name, &serde_json::json!({"a": 1}))
        .await
        .unwrap();
    let StartOutcome::Started { execution_arn } = first else {
        panic!("{first:?}")
    };
    assert_eq!(second, StartOutcome::AlreadyExists { execution_arn });
    let before = b.counter().snapshot();
    let e = wf
        .start_workflow("bad name with spaces", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    // A start is a DescribeExecution (re-delivery?) and the StartExecution.
    let other = wf
        .start_workflow(&unique("exec"), &serde_json::json!({}))
        .await
        .unwrap();
    assert!(matches!(other, StartOutcome::Started { .. }), "{other:?}");
    let counts = counts_since(&b, &before);
    assert_eq!(counts.get("SFN", "StartExecution"), 2, "{counts}");
}

#[tokio::test]
async fn throttled_read_is_retried_by_the_sdk() {
    let (b, faults) = backend_with_faults().await;
    let inv = received(&unique("ven"), 0);
    submit(&b, &inv).await.unwrap();
    faults.arm("DynamoDB", "GetItem", 0, FaultKind::Throttle);
    let before = b.counter().snapshot();
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), Some(inv));
    // The throttled attempt and its retry.
    only(&counts_since(&b, &before), "DynamoDB", "GetItem", 2);
}

#[tokio::test]
async fn connection_failure_is_transient() {
    let (b, faults) = backend_with_faults().await;
    faults.arm("DynamoDB", "GetItem", 0, FaultKind::FailBeforeSend);
    let e = b.get_invoice("inv-x").await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(
        matches!(e, StoreError::Transient { ref operation, .. } if operation == "GetItem"),
        "{e:?}"
    );
}

// ---------------------------------------------------------------- faults mid-operation

#[tokio::test]
async fn transaction_failing_before_send_writes_nothing_and_retry_finishes() {
    let (b, faults) = backend_with_faults().await;
    let inv = received(&unique("ven"), 0);
    faults.arm(
        "DynamoDB",
        "TransactWriteItems",
        0,
        FaultKind::FailBeforeSend,
    );
    let e = submit(&b, &inv).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), None);
    assert_eq!(
        b.find_invoice_by_number(&inv.vendor_id, &inv.invoice_number)
            .await
            .unwrap(),
        None
    );
    assert!(b
        .list_audit(&inv.id, &PageRequest::first(5))
        .await
        .unwrap()
        .items
        .is_empty());

    submit(&b, &inv).await.expect("the retry finishes");
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), Some(inv.clone()));
    assert_eq!(
        b.list_audit(&inv.id, &PageRequest::first(5))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn transaction_whose_answer_is_lost_is_complete_and_the_retry_knows() {
    let (b, faults) = backend_with_faults().await;
    let inv = received(&unique("ven"), 0);
    faults.arm("DynamoDB", "TransactWriteItems", 0, FaultKind::LoseResponse);
    let e = submit(&b, &inv).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    // All of it was applied: invoice, guard, audit entry.
    assert_eq!(b.get_invoice(&inv.id).await.unwrap(), Some(inv.clone()));
    assert!(b
        .find_invoice_by_number(&inv.vendor_id, &inv.invoice_number)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        b.list_audit(&inv.id, &PageRequest::first(5))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // The retry: DynamoDB honours the idempotency token (success); moto ignores it, and the
    // create's condition says the invoice is already there. Either way nothing doubles.
    match submit(&b, &inv).await {
        Ok(()) => {}
        Err(StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ref id,
            ..
        }) if *id == inv.id => {}
        Err(other) => panic!("{other:?}"),
    }
    assert_eq!(
        b.list_audit(&inv.id, &PageRequest::first(5))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

/// Approve-with-files as the approve-payment step does it, written to be re-run: the
/// payment commit (derived id) tells a re-run it already happened; files are re-put.
async fn approve_with_files(b: &AwsBackend, inv: &Invoice) -> Result<(), StoreError> {
    let pay = payment(inv, PaymentStatus::Approved, at(100));
    let approved = inv
        .with_status(InvoiceStatus::Approved, at(100))
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let committed = b
        .commit(
            ChangeSet::new()
                .write(Write::PutPayment(pay.clone(), Expect::Absent))
                .write(Write::PutInvoice(approved, Expect::Version(inv.version)))
                .audit(audit(
                    AuditType::PaymentAction,
                    action::APPROVE_WITH_FILES,
                    entity::PAYMENT,
                    &pay.id,
                    at(100),
                )),
        )
        .await;
    match committed {
        Ok(()) => {}
        Err(StoreError::Conflict {
            reason: ConflictReason::AlreadyExists,
            ..
        }) => {}
        Err(e) => return Err(e),
    }
    let stored = b
        .get_payment_for_invoice(&inv.id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "payment",
            id: pay.id.clone(),
        })?;
    let bucket = &b.names().payments_bucket;
    let o = b.object_store();
    let xml_key = payment_file_key(&stored.id, PaymentFileFormat::Xml);
    let json_key = payment_file_key(&stored.id, PaymentFileFormat::Json);
    let meta = |ct: &str| ObjectMeta {
        content_type: ct.into(),
        metadata: BTreeMap::new(),
        tags: BTreeMap::from([
            ("payment_id".to_string(), stored.id.clone()),
            ("invoice_id".to_string(), stored.invoice_id.clone()),
        ]),
    };
    o.put_object(
        bucket,
        &xml_key,
        b"<Document/>".to_vec(),
        &meta("application/xml"),
    )
    .await?;
    o.put_object(bucket, &json_key, b"{}".to_vec(), &meta("application/json"))
        .await?;
    if stored.xml_s3_key.is_none() {
        let mut with_keys = stored.clone();
        with_keys.xml_s3_key = Some(xml_key);
        with_keys.json_s3_key = Some(json_key);
        with_keys.version += 1;
        b.commit(ChangeSet::new().write(Write::PutPayment(
            with_keys,
            Expect::Version(stored.version),
        )))
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn s3_failure_between_files_is_finished_by_a_rerun() {
    let (b, faults) = backend_with_faults().await;
    let inv = invoice(
        &unique("ven"),
        &unique("po"),
        &invoice_number(),
        InvoiceStatus::Matched,
        at(0),
    );
    submit(&b, &inv).await.unwrap();
    // The second file's PutObject fails.
    faults.arm("S3", "PutObject", 1, FaultKind::FailBeforeSend);
    let e = approve_with_files(&b, &inv).await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    let pay = b
        .get_payment_for_invoice(&inv.id)
        .await
        .unwrap()
        .expect("payment committed");
    assert_eq!(
        pay.xml_s3_key, None,
        "keys only recorded once both files exist"
    );
    let bucket = b.names().payments_bucket.clone();
    let json_key = payment_file_key(&pay.id, PaymentFileFormat::Json);
    assert_eq!(
        b.object_store()
            .head_object(&bucket, &json_key)
            .await
            .unwrap(),
        None
    );

    approve_with_files(&b, &inv)
        .await
        .expect("the re-run finishes");
    let pay = b.get_payment_for_invoice(&inv.id).await.unwrap().unwrap();
    assert_eq!(pay.json_s3_key.as_deref(), Some(json_key.as_str()));
    assert!(b
        .object_store()
        .head_object(&bucket, &json_key)
        .await
        .unwrap()
        .is_some());
    let inv_now = b.get_invoice(&inv.id).await.unwrap().unwrap();
    assert_eq!(inv_now.status, InvoiceStatus::Approved);
    assert_eq!(
        b.list_audit(&pay.id, &PageRequest::first(5))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

// ---------------------------------------------------------------- provisioning

#[tokio::test]
async fn provisioning_is_idempotent() {
    let b = aws_support::backend().await;
    let again = provision(b.clients(), b.names()).await.unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
    assert_eq!(
        again.names.notification_topic_arn,
        b.names().notification_topic_arn
    );
    // 5 tables, 3 buckets, topic, bus.
    assert_eq!(again.existing.len(), 10, "{:?}", again.existing);
    assert!(again.indexes_added.is_empty(), "{:?}", again.indexes_added);
}

/// A table of an earlier version (here: no indexes at all, and a vendor stored without
/// lookup keys) gets the schema's indexes added and its items backfilled, so the lookups
/// work on it.
#[tokio::test]
async fn a_table_without_the_schemas_indexes_gets_them_and_its_lookup_keys() {
    let b = aws_support::backend().await;
    let names = b
        .names()
        .with_prefix(&format!("bare{}-", &unique("x")[2..8]));
    b.clients()
        .dynamodb
        .create_table()
        .table_name(&names.vendors_table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let old = AwsBackend::with_clients(
        b.clients().clone(),
        names.clone(),
        CursorCodec::new(b"bare".to_vec()),
    );
    let mut v = fixtures::vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    v.tax_id = Some("OLD-1".into());
    old.commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
        .await
        .unwrap();
    b.clients()
        .dynamodb
        .update_item()
        .table_name(&names.vendors_table)
        .key("id", AttributeValue::S(v.id.clone()))
        .update_expression("REMOVE tax_id_key, name_key")
        .send()
        .await
        .unwrap();

    let report = provision(b.clients(), &names).await.unwrap();
    let vendors = &names.vendors_table;
    assert_eq!(
        report.indexes_added,
        ["kind-index", "status-index", "tax-id-index", "name-index"]
            .map(|i| format!("{vendors}/{i}"))
    );
    assert_eq!(report.lookup_keys_backfilled, 1, "{report:?}");
    assert_eq!(
        old.find_vendors_by_tax_id("old1").await.unwrap(),
        vec![v.clone()]
    );
    assert_eq!(
        old.list_vendors(&Default::default(), &PageRequest::first(5))
            .await
            .unwrap()
            .items,
        vec![v.clone()]
    );
    let again = provision(b.clients(), &names).await.unwrap();
    assert!(again.indexes_added.is_empty(), "{again:?}");
    assert_eq!(again.lookup_keys_backfilled, 0);
}

#[tokio::test]
async fn notifications_with_long_subjects_are_accepted() {
    let b = aws_support::backend().await;
    let id = b
        .notifier()
        .notify(&Notification {
            subject: format!(
                "Invoice {} needs review: {}",
                unique("inv"),
                "x".repeat(200)
            ),
            message: "body".into(),
            attributes: BTreeMap::from([
                ("event_type".to_string(), "InvoiceNeedsReview".to_string()),
                ("empty".to_string(), String::new()),
            ]),
        })
        .await
        .unwrap();
    assert!(!id.is_empty());
}
