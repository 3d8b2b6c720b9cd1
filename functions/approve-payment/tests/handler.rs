//! approve-payment driven by `events/approve-payment/*.json`, with fault injection to show
//! that a retry after a failure part-way finishes and that a second approval writes nothing.

use std::sync::Arc;

use approve_payment::{handle, Config};
use p2p_adapters::testing::{op, FlakyObjectStore, FlakyStore};
use p2p_core::events::DomainEventType;
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment_files::parse_workday_xml;
use p2p_function_support::testing::{event, TestEnv};
use p2p_function_support::Deadline;
use serde_json::{json, Value};

fn config() -> Config {
    let empty: [(&str, &str); 0] = [];
    Config::from_source(&empty[..]).unwrap()
}

/// Stores and reconciles the sample invoice (matched); returns its id.
async fn matched_invoice(env: &TestEnv) -> String {
    let empty: [(&str, &str); 0] = [];
    let p = process_invoice::Config::from_source(&empty[..]).unwrap();
    let out = process_invoice::handle(&env.services, &p, event("process-invoice/task-input.json"))
        .await
        .unwrap();
    let r = reconcile::Config::from_source(&empty[..]).unwrap();
    let rec = reconcile::handle(
        &env.services,
        &r,
        event("reconcile/task-input.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(rec["outcome"], "matched");
    out["invoice_id"].as_str().unwrap().to_string()
}

/// The environment with counting, fault-injecting object store and store.
fn flaky(
    env: TestEnv,
    objects: FlakyObjectStore,
    store: FlakyStore,
) -> (TestEnv, Arc<FlakyObjectStore>, Arc<FlakyStore>) {
    let objects = Arc::new(objects);
    let store = Arc::new(store);
    let (o, s) = (objects.clone(), store.clone());
    let env = env.with_services(|mut services| {
        services.objects = o;
        services.store = s;
        services
    });
    (env, objects, store)
}

#[tokio::test]
async fn approves_uploads_tagged_files_stores_keys_and_publishes() {
    let env = TestEnv::seeded().await;
    let invoice_id = matched_invoice(&env).await;
    let out = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap();
    let payment_id = out["payment_id"].as_str().unwrap().to_string();
    assert_eq!(out["invoice_id"], invoice_id.as_str());
    assert_eq!(out["status"], "approved");
    assert_eq!(out["amount"], "1750.00");
    assert_eq!(out["currency"], "USD");
    assert_eq!(
        out["xml_s3_key"],
        format!("payments/{payment_id}/payment.xml")
    );
    assert_eq!(
        out["json_s3_key"],
        format!("payments/{payment_id}/payment.json")
    );

    let bucket = env.services.buckets.payments.clone();
    let xml = env
        .services
        .objects
        .get_object(&bucket, out["xml_s3_key"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(xml.info.content_type.as_deref(), Some("application/xml"));
    let file = parse_workday_xml(std::str::from_utf8(&xml.body).unwrap()).unwrap();
    assert_eq!(file.id, payment_id);
    assert_eq!(file.invoice_id, invoice_id);
    let tags = env
        .services
        .objects
        .get_object_tags(&bucket, out["json_s3_key"].as_str().unwrap())
        .await
        .unwrap();
    for (k, v) in [
        ("invoice_id", invoice_id.as_str()),
        ("vendor_id", "ven-acme"),
        ("amount", "1750.00"),
        ("status", "approved"),
        ("payment_id", payment_id.as_str()),
        ("file_format", "json"),
        ("content_type", "application/json"),
    ] {
        assert_eq!(
            tags.get(k).map(String::as_str),
            Some(v),
            "tag {k}: {tags:?}"
        );
    }
    assert!(tags.contains_key("upload_timestamp"));

    let invoice = env
        .services
        .store
        .get_invoice(&invoice_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Approved);
    assert_eq!(invoice.approved_by.as_deref(), Some("system:auto-approval"));
    assert_eq!(
        env.audit_actions(&payment_id).await,
        vec!["APPROVE", "APPROVE_WITH_FILES"]
    );
    let events = env.published_events().await;
    assert_eq!(
        events.last().unwrap().event_type,
        DomainEventType::InvoiceApproved
    );
}

#[tokio::test]
async fn a_second_approval_returns_the_same_payment_and_writes_no_file() {
    let env = TestEnv::seeded().await;
    matched_invoice(&env).await;
    let objects = FlakyObjectStore::new(env.services.objects.clone());
    let store = FlakyStore::new(env.services.store.clone());
    let (env, objects, store) = flaky(env, objects, store);
    let first = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(objects.calls(op::PUT_OBJECT), 2);
    let commits = store.calls(op::COMMIT);
    let second = handle(
        &env.services,
        &config(),
        event("approve-payment/human-approval.json"),
    )
    .await
    .unwrap();
    assert_eq!(first, second);
    assert_eq!(objects.calls(op::PUT_OBJECT), 2, "no file written again");
    assert_eq!(store.calls(op::COMMIT), commits, "nothing committed again");
}

#[tokio::test]
async fn a_failed_upload_is_transient_and_the_retry_uploads_only_the_missing_file() {
    let env = TestEnv::seeded().await;
    matched_invoice(&env).await;
    let objects = FlakyObjectStore::new(env.services.objects.clone()).fail_put_on(2);
    let store = FlakyStore::new(env.services.store.clone());
    let (env, objects, _store) = flaky(env, objects, store);
    let e = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "Transient");
    // The payment exists (step 1 committed) but has no keys yet.
    let pending = env
        .services
        .store
        .get_payment_for_invoice("inv-54e5c5877b02559e99d33984e6645077")
        .await
        .unwrap()
        .unwrap();
    assert!(pending.xml_s3_key.is_none());
    let out = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["payment_id"], pending.id.as_str());
    // xml (ok), json (injected failure), json again: the xml was not re-uploaded.
    assert_eq!(objects.calls(op::PUT_OBJECT), 3);
    assert_eq!(
        env.audit_actions(&pending.id).await,
        vec!["APPROVE", "APPROVE_WITH_FILES"]
    );
}

#[tokio::test]
async fn a_failed_key_commit_is_finished_by_the_retry_without_reuploading() {
    let env = TestEnv::seeded().await;
    matched_invoice(&env).await;
    let objects = FlakyObjectStore::new(env.services.objects.clone());
    let store = FlakyStore::new(env.services.store.clone()).fail_commit_on(2);
    let (env, objects, _store) = flaky(env, objects, store);
    let e = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "Transient");
    let out = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap();
    assert!(out["xml_s3_key"].is_string());
    assert_eq!(objects.calls(op::PUT_OBJECT), 2);
}

#[tokio::test]
async fn refusals_are_named_and_change_nothing() {
    let env = TestEnv::seeded().await;
    // Not yet reconciled: received.
    let empty: [(&str, &str); 0] = [];
    let p = process_invoice::Config::from_source(&empty[..]).unwrap();
    let out = process_invoice::handle(&env.services, &p, event("process-invoice/task-input.json"))
        .await
        .unwrap();
    let id = out["invoice_id"].as_str().unwrap();
    let e = handle(
        &env.services,
        &config(),
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidTransition", "{e}");
    let r = reconcile::Config::from_source(&empty[..]).unwrap();
    reconcile::handle(
        &env.services,
        &r,
        json!({"invoice_id": id}),
        Deadline::never(),
    )
    .await
    .unwrap();

    let cases: Vec<(Value, &str)> = vec![
        (
            event("approve-payment/unknown-invoice.json"),
            "InvoiceNotFound",
        ),
        (
            event("approve-payment/missing-approver.json"),
            "InvalidEvent",
        ),
        (
            json!({"invoice_id": id, "approved_by": "ap-clerk@company.example"}),
            "RuleViolation",
        ),
        (
            json!({"invoice_id": id, "approved_by": "x", "unexpected": 1}),
            "InvalidEvent",
        ),
    ];
    for (input, expected) in cases {
        let e = handle(&env.services, &config(), input.clone())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), expected, "{input}: {e}");
    }
    // Above the auto-approve limit the automatic approver is refused.
    let low = Config::from_source(&[("AUTO_APPROVE_LIMIT", "100")][..]).unwrap();
    let e = handle(
        &env.services,
        &low,
        event("approve-payment/task-input.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "RuleViolation");
    assert!(env
        .services
        .store
        .get_payment_for_invoice(id)
        .await
        .unwrap()
        .is_none());
    let invoice = env.services.store.get_invoice(id).await.unwrap().unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Matched);
}
