//! send-notification driven by `events/send-notification/*.json`.

use std::sync::Arc;

use p2p_adapters::testing::FlakyMessaging;
use p2p_function_support::testing::{event, TestEnv};
use send_notification::{handle, Config};

fn config() -> Config {
    let empty: [(&str, &str); 0] = [];
    Config::from_source(&empty[..]).unwrap()
}

#[tokio::test]
async fn every_event_type_publishes_a_subject_message_and_attributes() {
    let env = TestEnv::empty();
    let cases = [
        (
            "processed",
            "Invoice ACME-2024-118 received",
            "was received",
        ),
        (
            "validation-failed",
            "Invoice INV-002 failed validation",
            "invoice.dueDate",
        ),
        (
            "duplicate",
            "Duplicate invoice ACME-2024-118",
            "already submitted",
        ),
        (
            "rejected",
            "Invoice ACME-2024-118 rejected",
            "price_mismatch",
        ),
        (
            "approval-needed",
            "Approval needed: invoice inv-b9b5b846c84256cc9a0b561db5e4a3a8 for 7500.00 USD",
            "send-task-success",
        ),
        (
            "payment-approved",
            "Payment approved for invoice inv-54e5c5877b02559e99d33984e6645077",
            "pay-95a732822b275183bce463ce29d0074a",
        ),
        (
            "error",
            "Invoice inv-54e5c5877b02559e99d33984e6645077 processing failed: PurchaseOrderNotFound",
            "po-does-not-exist",
        ),
    ];
    for (file, subject, in_message) in cases {
        let input = event(&format!("send-notification/{file}.json"));
        let out = handle(&env.services, &config(), input.clone())
            .await
            .unwrap();
        assert!(!out["message_id"].as_str().unwrap().is_empty());
        assert_eq!(out["subject"], subject, "{file}");
        let sent = env.notifications().await.pop().unwrap();
        assert_eq!(sent.subject, subject);
        assert!(
            sent.message.contains(in_message),
            "{file}: {}",
            sent.message
        );
        assert_eq!(
            sent.attributes["event_type"],
            input["event_type"].as_str().unwrap()
        );
        if let Some(id) = input["invoice_id"].as_str() {
            assert_eq!(sent.attributes["invoice_id"], id);
        }
        assert_eq!(
            sent.attributes["vendor_id"],
            input["vendor_id"].as_str().unwrap()
        );
    }
    let approval = &env.notifications().await[4];
    assert!(approval.attributes["task_token"].starts_with("AQCE"));
    assert!(approval.message.contains("ApprovalRejected"));
}

#[tokio::test]
async fn subjects_stay_within_the_sns_limit() {
    let env = TestEnv::empty();
    let mut input = event("send-notification/processed.json");
    input["invoice_number"] = serde_json::json!("Ü".repeat(150));
    let out = handle(&env.services, &config(), input).await.unwrap();
    let subject = out["subject"].as_str().unwrap();
    assert!(subject.len() <= 100 && subject.is_ascii(), "{subject}");
}

#[tokio::test]
async fn bad_inputs_are_invalid_events_and_send_nothing() {
    let env = TestEnv::empty();
    for file in ["unknown-event-type", "approval-needed-no-token"] {
        let e = handle(
            &env.services,
            &config(),
            event(&format!("send-notification/{file}.json")),
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent", "{file}");
    }
    let e = handle(
        &env.services,
        &config(),
        serde_json::json!({"event_type": "processed", "surprise": 1}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    assert!(env.notifications().await.is_empty());
}

#[tokio::test]
async fn a_failed_publish_is_transient() {
    let env = TestEnv::empty();
    let flaky = Arc::new(
        FlakyMessaging::new(env.services.notifier.clone(), env.services.events.clone())
            .fail_notify_on(1),
    );
    let env = env.with_services(|mut s| {
        s.notifier = flaky.clone();
        s
    });
    let e = handle(
        &env.services,
        &config(),
        event("send-notification/processed.json"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "Transient");
    handle(
        &env.services,
        &config(),
        event("send-notification/processed.json"),
    )
    .await
    .unwrap();
    assert_eq!(env.notifications().await.len(), 1);
}
