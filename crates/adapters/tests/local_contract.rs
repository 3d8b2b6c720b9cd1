//! The contract suite against the local adapters (SQLite + files + outbox), plus what only
//! the local backend promises: several processes on one directory, key validation,
//! workflow-execution bookkeeping, reopening.

#[macro_use]
mod contract;

use std::sync::Arc;

use async_trait::async_trait;
use contract::Backend;
use p2p_adapters::local::{
    ExecutionStatus, LocalBackend, LocalOutbox, LocalStore, OutboxKind, DATABASE_FILE,
};
use p2p_adapters::{
    ChangeSet, Expect, InvoiceQuery, Notification, ObjectMeta, ObjectStore, PageRequest,
    StartOutcome, StoreError, UnitOfWork, WorkflowStarter, Write,
};
use p2p_adapters::{InvoiceRepository, PurchaseOrderRepository, VendorRepository};
use p2p_core::events::DomainEvent;
use p2p_core::invoice::InvoiceStatus;

/// Reads the local outbox back for the messaging cases.
struct OutboxReader(Arc<LocalOutbox>);

impl OutboxReader {
    async fn all(
        &self,
        kind: OutboxKind,
    ) -> Result<Vec<p2p_adapters::local::OutboxMessage>, StoreError> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch = self.0.read_outbox(Some(kind), after, 100).await?;
            match batch.last() {
                Some(m) => after = m.seq,
                None => return Ok(out),
            }
            out.extend(batch);
        }
    }
}

#[async_trait]
impl contract::PublishedMessages for OutboxReader {
    async fn notifications(&self) -> Result<Vec<Notification>, StoreError> {
        self.all(OutboxKind::Notification)
            .await?
            .iter()
            .map(|m| m.notification())
            .collect()
    }
    async fn events(&self) -> Result<Vec<DomainEvent>, StoreError> {
        self.all(OutboxKind::Event)
            .await?
            .iter()
            .map(|m| m.event())
            .collect()
    }
}

fn backend_in(dir: tempfile::TempDir) -> Backend {
    let local = LocalBackend::open(dir.path()).unwrap();
    Backend {
        store: local.store.clone(),
        objects: local.objects.clone(),
        notifier: local.outbox.clone(),
        events: local.outbox.clone(),
        workflows: local.workflows.clone(),
        bucket: "p2p-contract".into(),
        published: Some(Arc::new(OutboxReader(local.outbox.clone()))),
        keep_alive: vec![Box::new(dir)],
    }
}

async fn make_backend() -> Backend {
    backend_in(tempfile::tempdir().unwrap())
}

contract_tests!(make_backend);

use contract::fixtures::{at, invoice, invoice_created, invoice_number, unique, vendor};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_directory_commit_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    // Two independent opens: separate connections and locks, as two processes would have.
    let a = Arc::new(LocalStore::open(dir.path()).unwrap());
    let b = Arc::new(LocalStore::open(dir.path()).unwrap());
    let ven = unique("ven");
    let number = invoice_number();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let ven = ven.clone();
        // Half race on one number, half are distinct invoices.
        let n = if i % 4 == 0 {
            number.clone()
        } else {
            invoice_number()
        };
        tasks.push(tokio::spawn(async move {
            let inv = invoice(&ven, &unique("po"), &n, InvoiceStatus::Received, at(i));
            store
                .commit(
                    ChangeSet::new()
                        .write(Write::PutInvoice(inv.clone(), Expect::Absent))
                        .audit(invoice_created(&inv)),
                )
                .await
        }));
    }
    let mut ok = 0;
    let mut dup = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::DuplicateInvoice { .. }) => dup += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    // 10 racers on one number (i % 4 == 0): one wins; the other 30 are distinct.
    assert_eq!((ok, dup), (31, 9));
    let q = InvoiceQuery {
        vendor_id: Some(ven.clone()),
        ..Default::default()
    };
    let seen_by_a = a.list_invoices(&q, &PageRequest::first(100)).await.unwrap();
    let seen_by_b = b.list_invoices(&q, &PageRequest::first(100)).await.unwrap();
    assert_eq!(seen_by_a.items.len(), 31);
    assert_eq!(seen_by_a, seen_by_b, "both handles see every commit");
}

/// A data directory written by the previous version (schema 1: no lookup-key columns)
/// opens, is migrated to the current schema and its records are findable by key.
#[tokio::test]
async fn a_schema_1_database_is_migrated_and_its_records_found_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    v.name = "Legacy Supplies GmbH".into();
    v.tax_id = Some("DE 123 456 789".into());
    let mut po = contract::fixtures::purchase_order(
        &v.id,
        p2p_core::purchase_order::PoStatus::Approved,
        at(1),
    );
    po.po_number = "PO-LEGACY-1".into();
    {
        // The version-1 tables as the previous build created them, with one row each.
        let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE vendors (id TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL,
                 status TEXT NOT NULL, created_sk TEXT NOT NULL, doc TEXT NOT NULL);
             CREATE INDEX vendors_kind ON vendors (created_sk);
             CREATE INDEX vendors_status ON vendors (status, created_sk);
             CREATE TABLE purchase_orders (id TEXT PRIMARY KEY NOT NULL,
                 version INTEGER NOT NULL, vendor_id TEXT NOT NULL, status TEXT NOT NULL,
                 created_sk TEXT NOT NULL, doc TEXT NOT NULL);
             CREATE INDEX purchase_orders_kind ON purchase_orders (created_sk);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO vendors VALUES (?1, 1, 'active', ?2, ?3)",
            rusqlite::params![
                v.id,
                contract::fixtures::created_sk(v.created_at, &v.id),
                serde_json::to_string(&v).unwrap()
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO purchase_orders VALUES (?1, 1, ?2, 'approved', ?3, ?4)",
            rusqlite::params![
                po.id,
                v.id,
                contract::fixtures::created_sk(po.created_at, &po.id),
                serde_json::to_string(&po).unwrap()
            ],
        )
        .unwrap();
    }
    let local = LocalBackend::open(dir.path()).unwrap();
    let s = &local.store;
    assert_eq!(
        s.find_vendors_by_tax_id("de123456789").await.unwrap(),
        vec![v.clone()]
    );
    assert_eq!(
        s.find_vendors_by_name("LEGACY SUPPLIES").await.unwrap(),
        vec![v.clone()]
    );
    assert_eq!(
        s.find_purchase_orders_by_number("po legacy 1")
            .await
            .unwrap(),
        vec![po.clone()]
    );
    assert_eq!(s.get_vendor(&v.id).await.unwrap(), Some(v.clone()));
    let version: i64 = rusqlite::Connection::open(dir.path().join(DATABASE_FILE))
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    drop(local);
    // Opening again is a no-op; new writes carry their keys.
    let local = LocalBackend::open(dir.path()).unwrap();
    let mut renamed = v.clone();
    renamed.name = "Legacy Trading AG".into();
    renamed.version = 2;
    local
        .store
        .commit(ChangeSet::new().write(Write::PutVendor(renamed.clone(), Expect::Version(1))))
        .await
        .unwrap();
    assert_eq!(
        local
            .store
            .find_vendors_by_name("legacy trading")
            .await
            .unwrap(),
        vec![renamed]
    );
    assert!(local
        .store
        .find_vendors_by_name("legacy supplies")
        .await
        .unwrap()
        .is_empty());
}

/// A version-2 audit log (WITHOUT ROWID, keyed by its random id) is rebuilt in arrival
/// order: its entries list as before, oldest first, and an id already there is still
/// refused.
#[tokio::test]
async fn a_schema_2_audit_log_is_rebuilt_and_keeps_its_entries() {
    use p2p_adapters::AuditRepository;
    let dir = tempfile::tempdir().unwrap();
    drop(LocalBackend::open(dir.path()).unwrap());
    let entries: Vec<_> = (0..3)
        .map(|i| {
            contract::fixtures::audit(
                p2p_core::audit::AuditType::InvoiceAction,
                p2p_core::audit::action::CREATE,
                p2p_core::audit::entity::INVOICE,
                "inv-legacy",
                at(i),
            )
        })
        .collect();
    {
        // The table as version 2 had it, entries inserted newest first.
        let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE audit_log;
             CREATE TABLE audit_log (id TEXT PRIMARY KEY NOT NULL, entity_id TEXT NOT NULL,
                 timestamp_sk TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
             CREATE INDEX audit_log_entity ON audit_log (entity_id, timestamp_sk);
             PRAGMA user_version = 2;",
        )
        .unwrap();
        for e in entries.iter().rev() {
            conn.execute(
                "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    e.id,
                    e.entity_id,
                    contract::fixtures::created_sk(e.timestamp, &e.id),
                    serde_json::to_string(e).unwrap()
                ],
            )
            .unwrap();
        }
    }
    let local = LocalBackend::open(dir.path()).unwrap();
    let listed = local
        .store
        .list_audit("inv-legacy", &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, entries);
    let again = local
        .store
        .commit(ChangeSet::new().audit(entries[0].clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            StoreError::Conflict {
                reason: p2p_adapters::ConflictReason::AlreadyExists,
                ..
            }
        ),
        "{again:?}"
    );
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let (version, seq_column): (i64, bool) = conn
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    EXISTS (SELECT 1 FROM pragma_table_info('audit_log') WHERE name = 'seq')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((version, seq_column), (3, true));
}

/// A database from a newer build is refused, not half-understood.
#[tokio::test]
async fn a_database_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(LocalBackend::open(dir.path()).unwrap());
    rusqlite::Connection::open(dir.path().join(DATABASE_FILE))
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let e = LocalBackend::open(dir.path()).unwrap_err();
    assert!(
        matches!(e, StoreError::Misconfigured { .. }) && e.to_string().contains("99"),
        "{e}"
    );
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let v = vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    {
        let local = LocalBackend::open(dir.path()).unwrap();
        local
            .store
            .commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
            .await
            .unwrap();
        local
            .objects
            .put_object(
                "p2p-raw-documents",
                "uploads/a.pdf",
                b"%PDF".to_vec(),
                &ObjectMeta::default(),
            )
            .await
            .unwrap();
    }
    let again = LocalBackend::open(dir.path()).unwrap();
    assert_eq!(again.store.get_vendor(&v.id).await.unwrap(), Some(v));
    let obj = again
        .objects
        .get_object("p2p-raw-documents", "uploads/a.pdf")
        .await
        .unwrap();
    assert_eq!(obj.body, b"%PDF");
    assert_eq!(
        obj.info.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert!(dir
        .path()
        .join("objects/p2p-raw-documents/uploads/a.pdf")
        .is_file());
    assert!(dir.path().join("p2p.sqlite3").is_file());
}

#[tokio::test]
async fn object_keys_cannot_escape_the_data_directory() {
    let b = make_backend().await;
    for key in [
        "../escape",
        "/etc/passwd",
        "a/../../b",
        "a\0b",
        "a//b",
        "./a",
    ] {
        let e = b
            .objects
            .put_object(&b.bucket, key, b"x".to_vec(), &ObjectMeta::default())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{key:?}: {e:?}");
        let e = b.objects.get_object(&b.bucket, key).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{key:?}: {e:?}");
    }
    let e = b
        .objects
        .put_object("../etc", "x", b"x".to_vec(), &ObjectMeta::default())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
}

#[tokio::test]
async fn workflow_executions_are_claimed_saved_and_found_by_token() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalBackend::open(dir.path()).unwrap();
    let wf = &local.workflows;
    let input = serde_json::json!({ "invoice_id": "inv-1" });
    let StartOutcome::Started { execution_arn } =
        wf.start_workflow("exec-1", &input).await.unwrap()
    else {
        panic!("not started")
    };
    assert_eq!(
        execution_arn,
        "arn:aws:states:local:000000000000:execution:p2p-invoice-workflow:exec-1"
    );
    wf.start_workflow("exec-2", &input).await.unwrap();
    let e = wf.start_workflow("bad name", &input).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");

    let pending = wf.pending_executions().await.unwrap();
    assert_eq!(
        pending.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["exec-1", "exec-2"]
    );
    assert_eq!(pending[0].input, input);

    let mut running = wf
        .claim_execution("exec-1")
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(running.status, ExecutionStatus::Running);
    assert!(
        wf.claim_execution("exec-1").await.unwrap().is_none(),
        "claimed once only"
    );

    running.status = ExecutionStatus::Paused;
    running.snapshot = Some(serde_json::json!({ "state": "WaitForApproval" }));
    running.task_tokens = vec!["token-abc".into()];
    running
        .history
        .push(serde_json::json!({ "type": "TaskStateEntered" }));
    let saved = wf.save_execution(&running).await.unwrap();
    assert_eq!(saved.version, running.version + 1);
    let stale = wf.save_execution(&running).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");

    let found = wf
        .find_by_task_token("token-abc")
        .await
        .unwrap()
        .expect("found");
    assert_eq!(found.name, "exec-1");
    assert_eq!(found.status, ExecutionStatus::Paused);
    assert_eq!(found.snapshot, saved.snapshot);
    assert_eq!(found.history.len(), 1);
    assert!(wf.find_by_task_token("token-xyz").await.unwrap().is_none());

    let mut done = found.clone();
    done.status = ExecutionStatus::Succeeded;
    done.task_tokens.clear();
    done.output = Some(serde_json::json!({ "payment_id": "pay-1" }));
    wf.save_execution(&done).await.unwrap();
    assert!(
        wf.find_by_task_token("token-abc").await.unwrap().is_none(),
        "token released"
    );
    let all = wf.list_executions().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].status, ExecutionStatus::Succeeded);
    assert_eq!(
        wf.get_execution("exec-2").await.unwrap().unwrap().status,
        ExecutionStatus::Pending
    );
    assert!(wf.get_execution("exec-3").await.unwrap().is_none());
}

#[tokio::test]
async fn outbox_reads_back_in_order_by_kind() {
    let b = make_backend().await;
    let local = LocalBackend::open(
        b.keep_alive[0]
            .downcast_ref::<tempfile::TempDir>()
            .unwrap()
            .path(),
    )
    .unwrap();
    for i in 0..3 {
        b.notifier
            .notify(&Notification {
                subject: format!("s{i}"),
                message: "m".into(),
                attributes: Default::default(),
            })
            .await
            .unwrap();
    }
    let all = local.outbox.read_outbox(None, 0, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    let after_first = local
        .outbox
        .read_outbox(Some(OutboxKind::Notification), all[0].seq, 1)
        .await
        .unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].notification().unwrap().subject, "s1");
    assert!(local
        .outbox
        .read_outbox(Some(OutboxKind::Event), 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(all[0].event().is_err());
}

#[tokio::test]
async fn corrupt_record_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalBackend::open(dir.path()).unwrap();
    let v = vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    local
        .store
        .commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("p2p.sqlite3")).unwrap();
    conn.execute(
        "UPDATE vendors SET doc = '{\"id\": 1}' WHERE id = ?1",
        [&v.id],
    )
    .unwrap();
    let e = local.store.get_vendor(&v.id).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                entity: "vendor",
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn oversized_or_self_conflicting_change_sets_are_refused() {
    let b = make_backend().await;
    let mut big = ChangeSet::new();
    for i in 0..101 {
        big = big.write(Write::PutVendor(
            vendor(p2p_core::vendor::VendorStatus::Active, at(i)),
            Expect::Absent,
        ));
    }
    let e = b.store.commit(big).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    let v = vendor(p2p_core::vendor::VendorStatus::Active, at(0));
    let e = b
        .store
        .commit(
            ChangeSet::new()
                .write(Write::PutVendor(v.clone(), Expect::Absent))
                .write(Write::PutVendor(v.clone(), Expect::Version(1))),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert_eq!(b.store.get_vendor(&v.id).await.unwrap(), None);
}

mod fault_injection {
    use super::*;
    use p2p_adapters::testing::{op, FlakyObjectStore, FlakyStore};
    use p2p_adapters::ConflictReason;

    #[tokio::test]
    async fn failed_commit_writes_nothing_and_retry_finishes() {
        let b = make_backend().await;
        let flaky = FlakyStore::new(b.store.clone()).fail_commit_on(1);
        let inv = invoice(
            &unique("ven"),
            &unique("po"),
            &invoice_number(),
            InvoiceStatus::Received,
            at(0),
        );
        let changes = ChangeSet::new()
            .write(Write::PutInvoice(inv.clone(), Expect::Absent))
            .audit(invoice_created(&inv));
        let e = flaky.commit(changes.clone()).await.unwrap_err();
        assert!(e.is_retryable(), "{e:?}");
        assert_eq!(b.store.get_invoice(&inv.id).await.unwrap(), None);
        assert_eq!(
            b.store
                .find_invoice_by_number(&inv.vendor_id, &inv.invoice_number)
                .await
                .unwrap(),
            None
        );
        flaky.commit(changes).await.expect("retry");
        assert_eq!(b.store.get_invoice(&inv.id).await.unwrap(), Some(inv));
        assert_eq!(flaky.calls(op::COMMIT), 2);
    }

    #[tokio::test]
    async fn lost_ack_is_detected_by_the_retry() {
        let b = make_backend().await;
        let flaky = FlakyStore::new(b.store.clone()).lose_commit_ack_on(1);
        let inv = invoice(
            &unique("ven"),
            &unique("po"),
            &invoice_number(),
            InvoiceStatus::Received,
            at(0),
        );
        let changes = ChangeSet::new().write(Write::PutInvoice(inv.clone(), Expect::Absent));
        assert!(flaky
            .commit(changes.clone())
            .await
            .unwrap_err()
            .is_retryable());
        // Applied despite the error; the retry learns it was its own write.
        assert_eq!(
            b.store.get_invoice(&inv.id).await.unwrap().as_ref(),
            Some(&inv)
        );
        let e = flaky.commit(changes).await.unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Conflict {
                    reason: ConflictReason::AlreadyExists,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn predicate_fails_matching_commits_until_healed() {
        let b = make_backend().await;
        let flaky = FlakyStore::new(b.store.clone())
            .fail_commit_when(|c| c.writes.iter().any(|w| matches!(w, Write::PutVendor(..))));
        let v = vendor(p2p_core::vendor::VendorStatus::Active, at(0));
        let put = ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent));
        assert!(flaky.commit(put.clone()).await.is_err());
        assert_eq!(b.store.get_vendor(&v.id).await.unwrap(), None);
        flaky.heal();
        flaky.commit(put).await.unwrap();
        assert!(b.store.get_vendor(&v.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn failed_put_leaves_no_object_and_retry_finishes() {
        let b = make_backend().await;
        let flaky = FlakyObjectStore::new(b.objects.clone()).fail_put_on(2);
        let meta = ObjectMeta {
            content_type: "application/xml".into(),
            ..Default::default()
        };
        flaky
            .put_object(
                &b.bucket,
                "payments/p1/payment.xml",
                b"<x/>".to_vec(),
                &meta,
            )
            .await
            .unwrap();
        let e = flaky
            .put_object(&b.bucket, "payments/p1/payment.json", b"{}".to_vec(), &meta)
            .await
            .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(
            b.objects
                .head_object(&b.bucket, "payments/p1/payment.json")
                .await
                .unwrap(),
            None
        );
        flaky
            .put_object(&b.bucket, "payments/p1/payment.json", b"{}".to_vec(), &meta)
            .await
            .expect("retry");
        assert!(b
            .objects
            .head_object(&b.bucket, "payments/p1/payment.json")
            .await
            .unwrap()
            .is_some());
        assert_eq!(flaky.calls(op::PUT_OBJECT), 3);
    }

    #[tokio::test]
    async fn object_predicate_targets_keys() {
        let b = make_backend().await;
        let flaky =
            FlakyObjectStore::new(b.objects.clone()).fail_when(|c| c.key.ends_with(".json"));
        let meta = ObjectMeta::default();
        flaky
            .put_object(&b.bucket, "a.xml", b"x".to_vec(), &meta)
            .await
            .unwrap();
        assert!(flaky
            .put_object(&b.bucket, "a.json", b"x".to_vec(), &meta)
            .await
            .is_err());
        assert!(flaky.get_object(&b.bucket, "a.json").await.is_err());
        assert_eq!(
            flaky.get_object(&b.bucket, "a.xml").await.unwrap().body,
            b"x"
        );
    }
}
