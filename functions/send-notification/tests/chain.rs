//! The workflow's happy path, one step's output feeding the next, as the state machine
//! wires them: validate -> process -> reconcile -> approve -> notify.

use p2p_adapters::PaymentQuery;
use p2p_core::payment::PaymentStatus;
use p2p_function_support::testing::{event, TestEnv};
use p2p_function_support::Deadline;
use serde_json::json;

#[tokio::test]
async fn validate_process_reconcile_approve_notify() {
    let env = TestEnv::seeded().await;
    let s = &env.services;
    let empty: [(&str, &str); 0] = [];
    let execution = "exec-chain-1";

    let mut input = event("validate-invoice/seed-with-po.json");
    input["execution_name"] = json!(execution);
    let validation = validate_invoice::handle(
        s,
        &validate_invoice::Config::from_source(&empty[..]).unwrap(),
        input,
    )
    .await
    .unwrap();
    assert_eq!(validation["valid"], true, "{validation}");

    let invoice = process_invoice::handle(
        s,
        &process_invoice::Config::from_source(&empty[..]).unwrap(),
        json!({"invoice": validation["invoice"], "execution_name": execution}),
    )
    .await
    .unwrap();
    assert_eq!(invoice["status"], "received");

    let reconciliation = reconcile::handle(
        s,
        &reconcile::Config::from_source(&empty[..]).unwrap(),
        json!({"invoice_id": invoice["invoice_id"], "execution_name": execution}),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(reconciliation["outcome"], "matched");
    assert_eq!(reconciliation["approval_required"], false);

    let payment = approve_payment::handle(
        s,
        &approve_payment::Config::from_source(&empty[..]).unwrap(),
        json!({"invoice_id": invoice["invoice_id"], "approved_by": "system:auto-approval", "execution_name": execution}),
    )
    .await
    .unwrap();
    assert_eq!(payment["status"], "approved");

    let note = send_notification::handle(
        s,
        &send_notification::Config::from_source(&empty[..]).unwrap(),
        json!({
            "event_type": "payment_approved",
            "invoice_id": payment["invoice_id"],
            "vendor_id": payment["vendor_id"],
            "payment_id": payment["payment_id"],
            "amount": payment["amount"],
            "currency": payment["currency"],
            "execution_name": execution,
        }),
    )
    .await
    .unwrap();
    assert!(note["subject"]
        .as_str()
        .unwrap()
        .starts_with("Payment approved"));

    let approved = s
        .store
        .list_payments(
            &PaymentQuery {
                status: Some(PaymentStatus::Approved),
                ..PaymentQuery::default()
            },
            &p2p_adapters::PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(approved.items.len(), 1);
    assert_eq!(
        approved.items[0].id,
        payment["payment_id"].as_str().unwrap()
    );
}
