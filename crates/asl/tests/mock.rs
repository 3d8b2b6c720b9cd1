mod common;

use common::*;
use p2p_asl::{MockConfig, Registry};
use serde_json::{json, Value};

fn def() -> Value {
    json!({"StartAt": "Validate", "States": {
        "Validate": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "validate-invoice", "Payload.$": "$"},
            "ResultSelector": {"valid.$": "$.Payload.valid", "total.$": "$.Payload.total"},
            "ResultPath": "$.validation",
            "Catch": [{"ErrorEquals": ["InvalidInvoice"], "ResultPath": "$.error", "Next": "Rejected"}],
            "Next": "Pay"},
        "Pay": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:pay",
            "Retry": [{"ErrorEquals": ["Bank.Unavailable"], "IntervalSeconds": 10, "MaxAttempts": 3}],
            "ResultPath": "$.payment", "End": true},
        "Rejected": {"Type": "Pass", "End": true}
    }})
}

fn config() -> MockConfig {
    MockConfig::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/MockConfigFile.json"
    ))
    .unwrap()
}

async fn run_case(case: &str) -> p2p_asl::Execution {
    // The registry would panic if called: mocked states never reach it.
    let reg = Registry::new()
        .register_fn("validate-invoice", |_i: Value| async move {
            panic!("registry called for a mocked state")
        })
        .register_fn("pay", |_i: Value| async move {
            panic!("registry called for a mocked state")
        });
    let ex = executor(reg)
        .with_mock_test_case(&config(), "InvoiceFlow", case)
        .unwrap();
    ex.start(
        &machine(def()).with_name("InvoiceFlow"),
        case,
        json!({"invoice": "INV-1"}),
    )
    .await
}

#[tokio::test]
async fn happy_path() {
    let e = run_case("HappyPath").await;
    assert_eq!(
        output(&e),
        json!({"invoice": "INV-1", "validation": {"valid": true, "total": 120}, "payment": {"paymentId": "pay-1"}})
    );
}

#[tokio::test]
async fn ranges_drive_retries() {
    let e = run_case("PayRetriesThenSucceeds").await;
    assert_eq!(output(&e)["payment"], json!({"paymentId": "pay-3"}));
    assert_eq!(
        e.event_types()
            .iter()
            .filter(|t| **t == "TaskFailed")
            .count(),
        2
    );
    assert_eq!(elapsed(&e), 10.0 + 20.0);
}

#[tokio::test]
async fn throw_is_caught() {
    let e = run_case("ValidationFails").await;
    assert_eq!(
        output(&e)["error"],
        json!({"Error": "InvalidInvoice", "Cause": "missing PO number"})
    );
}

#[tokio::test]
async fn unknown_case_is_an_error() {
    let ex = executor(Registry::new()).with_mock_test_case(&config(), "InvoiceFlow", "Nope");
    assert!(ex.is_err());
    assert_eq!(config().test_case_names().len(), 3);
}
