//! process-invoice driven by `events/process-invoice/*.json`.

use std::sync::Arc;

use p2p_adapters::testing::{op, FlakyMessaging};
use p2p_adapters::{InvoiceQuery, PageRequest};
use p2p_core::events::DomainEventType;
use p2p_function_support::testing::{event, TestEnv};
use process_invoice::{handle, Config};
use serde_json::json;

fn config() -> Config {
    let empty: [(&str, &str); 0] = [];
    Config::from_source(&empty[..]).unwrap()
}

async fn stored_invoices(env: &TestEnv) -> usize {
    env.services
        .store
        .list_invoices(&InvoiceQuery::default(), &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn stores_a_received_invoice_audits_and_publishes() {
    let env = TestEnv::seeded().await;
    let out = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    let id = out["invoice_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("inv-"), "{out}");
    assert_eq!(out["status"], "received");
    assert_eq!(out["invoice_number"], "ACME-2024-118");
    assert_eq!(out["vendor_id"], "ven-acme");
    assert_eq!(out["po_id"], "po-acme-0001");
    assert_eq!(out["total_amount"], "1750.00");
    assert_eq!(out["currency"], "USD");

    let stored = env.services.store.get_invoice(&id).await.unwrap().unwrap();
    assert_eq!(stored.submitted_by, "ap-clerk@company.example");
    assert_eq!(stored.lines.len(), 2);
    assert_eq!(env.audit_actions(&id).await, vec!["CREATE"]);
    let events = env.published_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, DomainEventType::InvoiceSubmitted);
    assert_eq!(events[0].invoice_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn a_repeated_delivery_succeeds_again_without_a_second_invoice() {
    let env = TestEnv::seeded().await;
    let first = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    let again = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(first, again);
    assert_eq!(stored_invoices(&env).await, 1);
    let id = first["invoice_id"].as_str().unwrap();
    assert_eq!(env.audit_actions(id).await, vec!["CREATE"]);
    // Re-published with the same event id, so consumers can drop the copy.
    let events = env.published_events().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].id, events[1].id);
}

#[tokio::test]
async fn the_same_number_from_another_submission_is_a_duplicate() {
    let env = TestEnv::seeded().await;
    let first = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    let mut other = event("process-invoice/task-input.json");
    other["execution_name"] = json!("exec-another-upload");
    // Spacing and case are folded: the same invoice number.
    other["invoice"]["invoice_number"] = json!("acme 2024 118");
    let e = handle(&env.services, &config(), other).await.unwrap_err();
    assert_eq!(e.error_type(), "DuplicateInvoice");
    let existing = first["invoice_id"].as_str().unwrap();
    assert!(e.to_string().contains(existing), "{e}");
    assert_eq!(stored_invoices(&env).await, 1);
    assert_eq!(
        env.audit_actions(existing).await,
        vec!["CREATE", "DUPLICATE"]
    );
    // Without an execution name every call is a new submission.
    let mut anonymous = event("process-invoice/task-input.json");
    anonymous.as_object_mut().unwrap().remove("execution_name");
    let e = handle(&env.services, &config(), anonymous)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "DuplicateInvoice");
}

#[tokio::test]
async fn the_seeds_inner_shape_is_accepted() {
    let env = TestEnv::seeded().await;
    let out = handle(
        &env.services,
        &config(),
        event("process-invoice/seed-shape.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["invoice_number"], "ACME-2024-117");
    assert_eq!(out["total_amount"], "1750.00");
    let stored = env
        .services
        .store
        .get_invoice(out["invoice_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.submitted_by, "api");
}

#[tokio::test]
async fn unknown_references_and_bad_documents_fail_by_name_and_store_nothing() {
    let env = TestEnv::seeded().await;
    let cases = [
        ("process-invoice/unknown-po.json", "PurchaseOrderNotFound"),
        ("process-invoice/unknown-vendor.json", "VendorNotFound"),
        ("process-invoice/missing-po.json", "InvoiceInvalid"),
        ("process-invoice/wrong-shape.json", "InvalidEvent"),
        ("validate-invoice/canonical-invalid.json", "InvalidEvent"),
    ];
    for (file, expected) in cases {
        let e = handle(&env.services, &config(), event(file))
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), expected, "{file}: {e}");
    }
    let e = handle(
        &env.services,
        &config(),
        event("process-invoice/missing-po.json"),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("po_id"), "{e}");
    let bad_doc = json!({"invoice": event("validate-invoice/canonical-invalid.json")});
    let e = handle(&env.services, &config(), bad_doc).await.unwrap_err();
    assert_eq!(e.error_type(), "InvoiceInvalid");
    assert_eq!(stored_invoices(&env).await, 0);
    assert!(env.published_events().await.is_empty());
}

#[tokio::test]
async fn a_failed_publish_is_transient_and_the_retry_finishes() {
    let env = TestEnv::seeded().await;
    let flaky = Arc::new(
        FlakyMessaging::new(env.services.notifier.clone(), env.services.events.clone())
            .fail_publish_on(1),
    );
    let env = env.with_services(|mut s| {
        s.events = flaky.clone();
        s
    });
    let e = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "Transient");
    assert_eq!(
        stored_invoices(&env).await,
        1,
        "the invoice itself was committed"
    );
    let out = handle(
        &env.services,
        &config(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], "received");
    assert_eq!(stored_invoices(&env).await, 1);
    assert_eq!(flaky.calls(op::PUBLISH), 2);
    assert_eq!(env.published_events().await.len(), 1);
}
