//! The REAL `statemachine/invoice-workflow.asl.json` with the REAL handlers on the local
//! backend, through the CLI's workflow runner (executions persisted like `p2p` does).

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use p2p_adapters::local::{ExecutionStatus, LocalBackend, OutboxKind, WorkflowExecution};
use p2p_adapters::{Buckets, ChangeSet, Expect, Services, Write};
use p2p_asl::StateMachine;
use p2p_cli::functions::FunctionSet;
use p2p_cli::workflow::{self, end_state, WorkflowRunner};
use p2p_core::invoice::InvoiceStatus;
use p2p_core::purchase_order::{
    GoodsReceiptInput, LineInput, PurchaseOrderInput, ReceiptLineInput,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const VENDOR: &str = p2p_cli::demo::VENDOR_ID;

struct Env {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    backend: LocalBackend,
    services: Services,
    machine: StateMachine,
}

impl Env {
    /// A fresh data dir with the demo's vendor, POs and receipts.
    async fn new() -> Env {
        // The handlers' EMF lines would bypass the test harness's output capture.
        p2p_function_support::metrics::set_stdout_enabled(false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let backend = LocalBackend::open(&path).unwrap();
        let services = backend.services(Buckets::default());
        p2p_cli::demo::seed_reference_data(&services).await.unwrap();
        let file =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../statemachine/invoice-workflow.asl.json");
        let (machine, _) = workflow::load_invoice_workflow(Some(&file)).unwrap();
        Env {
            _dir: dir,
            path,
            backend,
            services,
            machine,
        }
    }

    /// A runner as a fresh process would build it: its own backend on the same directory.
    fn runner(&self) -> WorkflowRunner {
        let backend = LocalBackend::open(&self.path).unwrap();
        let services = backend.services(Buckets::default());
        let functions = Arc::new(
            FunctionSet::from_source(services, &[("AUTO_APPROVE_LIMIT", "5000")][..]).unwrap(),
        );
        WorkflowRunner::new(functions, backend.workflows.clone())
    }

    async fn run(&self, name: &str, input: Value) -> WorkflowExecution {
        self.runner()
            .start(&self.machine, name, input)
            .await
            .unwrap()
            .into_execution()
    }

    async fn invoice(&self, execution: &WorkflowExecution) -> p2p_core::invoice::Invoice {
        let id = execution.output.as_ref().unwrap()["invoice"]["invoice_id"]
            .as_str()
            .unwrap();
        self.services.store.get_invoice(id).await.unwrap().unwrap()
    }

    async fn notifications(&self) -> Vec<p2p_adapters::Notification> {
        self.backend
            .outbox
            .read_outbox(Some(OutboxKind::Notification), 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|m| m.notification().unwrap())
            .collect()
    }

    /// A PO of `ordered` units at 100.00 with a receipt of `received` units.
    async fn po_with_receipt(&self, id: &str, ordered: &str, received: &str) {
        let now = Utc::now();
        let vendor = self
            .services
            .store
            .get_vendor(VENDOR)
            .await
            .unwrap()
            .unwrap();
        let mut po = PurchaseOrderInput {
            po_number: Some(id.to_uppercase()),
            vendor_id: Some(VENDOR.into()),
            lines: vec![LineInput {
                description: Some("Widgets".into()),
                quantity: Some(ordered.parse().unwrap()),
                unit_price: Some(Decimal::new(10000, 2)),
                ..LineInput::default()
            }],
            currency: Some("EUR".into()),
            requested_by: Some("buyer@example.com".into()),
            ..PurchaseOrderInput::default()
        }
        .into_purchase_order(id.into(), &vendor, now)
        .unwrap()
        .approve("manager@example.com", now)
        .unwrap();
        po.version = 1;
        let receipt = GoodsReceiptInput {
            lines: vec![ReceiptLineInput {
                line_no: Some(1),
                quantity_accepted: Some(received.parse().unwrap()),
                quantity_rejected: None,
            }],
            received_by: Some("warehouse@example.com".into()),
            ..GoodsReceiptInput::default()
        }
        .into_receipt(format!("gr-{id}"), &po, now)
        .unwrap();
        self.services
            .store
            .commit(
                ChangeSet::new()
                    .write(Write::PutPurchaseOrder(po, Expect::Absent))
                    .write(Write::PutGoodsReceipt(receipt)),
            )
            .await
            .unwrap();
    }
}

fn submission(number: &str, po: &str, quantity: &str, price: &str, total: &str) -> Value {
    let today = Utc::now().date_naive();
    json!({
        "invoice_number": number,
        "vendor_id": VENDOR,
        "po_id": po,
        "invoice_date": today.to_string(),
        "due_date": (today + Duration::days(30)).to_string(),
        "currency": "EUR",
        "lines": [{"description": "Item", "quantity": quantity, "unit_price": price}],
        "total_amount": total,
        "submitted_by": "ap-clerk@example.com",
    })
}

/// The demo's PO 1 (20 x 150.00 + 1 x 250.00).
fn matching_po1(number: &str) -> Value {
    let mut s = submission(number, "po-demo-0001", "20", "150.00", "3250.00");
    s["lines"] = json!([
        {"description": "Consulting hours", "quantity": "20", "unit_price": "150.00"},
        {"description": "Travel expenses", "quantity": "1", "unit_price": "250.00"}
    ]);
    s
}

fn states(e: &WorkflowExecution) -> Vec<String> {
    e.history
        .iter()
        .filter_map(|ev| {
            ev.pointer("/stateEnteredEventDetails/name")
                .and_then(Value::as_str)
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn matched_invoice_is_auto_approved_with_both_payment_files() {
    let env = Env::new().await;
    let e = env.run("t-matched", matching_po1("T-0001")).await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.error);
    assert_eq!(end_state(&e).as_deref(), Some("PaymentApproved"));
    let out = e.output.as_ref().unwrap();
    assert_eq!(out["reconciliation"]["outcome"], "matched");
    assert_eq!(out["approval"]["approved_by"], "system:auto-approval");
    let invoice = env.invoice(&e).await;
    assert_eq!(invoice.status, InvoiceStatus::Approved);
    let payment = env
        .services
        .store
        .get_payment_for_invoice(&invoice.id)
        .await
        .unwrap()
        .unwrap();
    for key in [
        payment.xml_s3_key.as_ref().unwrap(),
        payment.json_s3_key.as_ref().unwrap(),
    ] {
        let path = env
            .backend
            .objects
            .path_of(&env.services.buckets.payments, key)
            .unwrap();
        assert!(path.is_file(), "{} missing", path.display());
    }
    let subjects: Vec<String> = env
        .notifications()
        .await
        .into_iter()
        .map(|n| n.attributes["event_type"].clone())
        .collect();
    assert!(
        subjects.contains(&"payment_approved".to_string()),
        "{subjects:?}"
    );
    // The stored record carries the history.
    let stored = env
        .backend
        .workflows
        .get_execution("t-matched")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.history.last().unwrap()["type"], "ExecutionSucceeded");
}

/// textract-processor starts the workflow with `"source": "textract"`; the API leaves it out.
#[tokio::test]
async fn the_stored_invoice_records_the_channel_it_came_through() {
    use p2p_core::invoice::InvoiceSource;
    let env = Env::new().await;
    let mut from_document = matching_po1("T-SRC-1");
    from_document["source"] = json!("textract");
    from_document["submitted_by"] = json!("system:textract-processor");
    let e = env.run("t-source-textract", from_document).await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.error);
    assert_eq!(env.invoice(&e).await.source, InvoiceSource::Textract);

    let e = env.run("t-source-api", matching_po1("T-SRC-2")).await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.error);
    assert_eq!(env.invoice(&e).await.source, InvoiceSource::Api);

    let mut unknown = matching_po1("T-SRC-3");
    unknown["source"] = json!("fax");
    let e = env.run("t-source-unknown", unknown).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_ref().unwrap()["error"], "InvoiceInvalid");
}

#[tokio::test]
async fn price_discrepancy_is_rejected_with_its_report() {
    let env = Env::new().await;
    let e = env
        .run(
            "t-rejected",
            submission("T-0002", "po-demo-0002", "10", "135.00", "1350.00"),
        )
        .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded);
    assert_eq!(end_state(&e).as_deref(), Some("InvoiceRejected"));
    let out = e.output.as_ref().unwrap();
    assert_eq!(out["reconciliation"]["outcome"], "rejected");
    let discrepancies = out["reconciliation"]["report"]["discrepancies"]
        .as_array()
        .unwrap();
    assert!(!discrepancies.is_empty());
    assert_eq!(env.invoice(&e).await.status, InvoiceStatus::Rejected);
    let invoice = env.invoice(&e).await;
    assert!(env
        .services
        .store
        .get_payment_for_invoice(&invoice.id)
        .await
        .unwrap()
        .is_none());
    assert!(states(&e).contains(&"NotifyRejected".to_string()));
}

#[tokio::test]
async fn more_billed_than_received_needs_review() {
    let env = Env::new().await;
    env.po_with_receipt("po-partial", "10", "4").await;
    let e = env
        .run(
            "t-review",
            submission("T-0003", "po-partial", "10", "100.00", "1000.00"),
        )
        .await;
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{:?}", e.error);
    assert_eq!(end_state(&e).as_deref(), Some("InvoiceNeedsReview"));
    assert_eq!(
        e.output.as_ref().unwrap()["reconciliation"]["outcome"],
        "needs_review"
    );
    assert!(states(&e).contains(&"NotifyNeedsReview".to_string()));
}

#[tokio::test]
async fn a_second_invoice_with_the_same_number_is_a_duplicate() {
    let env = Env::new().await;
    let first = env.run("t-first", matching_po1("T-0004")).await;
    assert_eq!(first.status, ExecutionStatus::Succeeded);
    let dup = env.run("t-dup", matching_po1("T-0004")).await;
    assert_eq!(dup.status, ExecutionStatus::Failed);
    assert_eq!(dup.error.as_ref().unwrap()["error"], "DuplicateInvoice");
    assert!(states(&dup).contains(&"NotifyDuplicate".to_string()));
    let events: Vec<String> = env
        .notifications()
        .await
        .into_iter()
        .map(|n| n.attributes["event_type"].clone())
        .collect();
    assert!(events.contains(&"duplicate".to_string()), "{events:?}");
    // Starting the same execution name again is a re-delivery: nothing runs twice.
    let again = env
        .runner()
        .start(&env.machine, "t-first", matching_po1("T-0004"))
        .await
        .unwrap();
    assert!(matches!(again, workflow::Started::Existing(_)));
}

#[tokio::test]
async fn an_invalid_invoice_fails_validation_and_stores_nothing() {
    let env = Env::new().await;
    let mut input = submission("T-0005", "po-demo-0001", "-1", "150.00", "12.00");
    input.as_object_mut().unwrap().remove("po_id");
    let e = env.run("t-invalid", input).await;
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_ref().unwrap()["error"], "InvoiceInvalid");
    assert_eq!(end_state(&e).as_deref(), Some("ValidationFailed"));
    assert!(states(&e).contains(&"NotifyValidationFailed".to_string()));
    assert!(env
        .services
        .store
        .find_invoice_by_number(VENDOR, "T-0005")
        .await
        .unwrap()
        .is_none());
}

/// The demo's PO 3 (1 x 7500.00): above the auto-approve limit.
fn large() -> Value {
    submission("T-0006", "po-demo-0003", "1", "7500.00", "7500.00")
}

#[tokio::test]
async fn approval_pauses_and_resumes_from_a_fresh_runner() {
    let env = Env::new().await;
    let paused = env.run("t-approval", large()).await;
    assert_eq!(paused.status, ExecutionStatus::Paused);
    assert_eq!(paused.task_tokens.len(), 1);
    let token = paused.task_tokens[0].clone();
    // Persisted: snapshot and token, findable by token from another process.
    let stored = env
        .backend
        .workflows
        .find_by_task_token(&token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "t-approval");
    assert!(stored.snapshot.is_some());
    // The approver was notified with the token.
    let notified = env.notifications().await;
    let approval = notified
        .iter()
        .find(|n| n.attributes["event_type"] == "approval_needed")
        .unwrap();
    assert!(
        approval.message.contains(&token) || approval.attributes.values().any(|v| v == &token),
        "{approval:?}"
    );
    let invoice_id = paused.history.iter().rev().find_map(|e| {
        e.pointer("/taskScheduledEventDetails/parameters")
            .and_then(Value::as_str)
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|p| {
                p.pointer("/Payload/invoice_id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
    });

    let resumed = env
        .runner()
        .send_task_success(&token, json!({"approved_by": "controller@example.com"}))
        .await
        .unwrap();
    assert_eq!(
        resumed.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        resumed.error
    );
    assert_eq!(end_state(&resumed).as_deref(), Some("PaymentApproved"));
    assert_eq!(
        resumed.output.as_ref().unwrap()["approval"]["approved_by"],
        "controller@example.com"
    );
    assert!(resumed.task_tokens.is_empty());
    let invoice = env.invoice(&resumed).await;
    if let Some(id) = invoice_id {
        assert_eq!(id, invoice.id);
    }
    assert_eq!(invoice.status, InvoiceStatus::Approved);
    assert_eq!(
        invoice.approved_by.as_deref(),
        Some("controller@example.com")
    );
    // The token is spent.
    assert!(env
        .runner()
        .send_task_success(&token, json!({"approved_by": "x@example.com"}))
        .await
        .is_err());
}

#[tokio::test]
async fn a_rejected_approval_ends_without_payment() {
    let env = Env::new().await;
    let paused = env.run("t-reject", large()).await;
    let token = paused.task_tokens[0].clone();
    let done = env
        .runner()
        .send_task_failure(&token, "ApprovalRejected", "over budget")
        .await
        .unwrap();
    assert_eq!(end_state(&done).as_deref(), Some("ApprovalRejected"));
    assert!(states(&done).contains(&"NotifyApprovalRejected".to_string()));
    let invoice = env.invoice(&done).await;
    assert!(env
        .services
        .store
        .get_payment_for_invoice(&invoice.id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_unanswered_approval_times_out_after_seven_days() {
    let env = Env::new().await;
    let paused = env.run("t-timeout", large()).await;
    assert_eq!(paused.status, ExecutionStatus::Paused);
    let runner = env.runner();
    // Not yet: six days later nothing expires.
    assert!(runner
        .expire_waiting(Utc::now() + Duration::days(6))
        .await
        .unwrap()
        .is_empty());
    let expired = runner
        .expire_waiting(Utc::now() + Duration::days(8))
        .await
        .unwrap();
    assert_eq!(expired.len(), 1);
    let e = &expired[0];
    assert_eq!(e.status, ExecutionStatus::Failed);
    assert_eq!(e.error.as_ref().unwrap()["error"], "ApprovalTimedOut");
    assert!(states(e).contains(&"NotifyApprovalTimedOut".to_string()));
    // A late answer finds nothing waiting.
    assert!(runner
        .send_task_success(
            &paused.task_tokens[0],
            json!({"approved_by": "late@example.com"})
        )
        .await
        .is_err());
}

#[tokio::test]
async fn executions_queued_through_the_port_are_picked_up() {
    let env = Env::new().await;
    env.services
        .workflows
        .start_workflow("queued-1", &matching_po1("T-0007"))
        .await
        .unwrap();
    let pending = env
        .backend
        .workflows
        .get_execution("queued-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.status, ExecutionStatus::Pending);
    let ran = env.runner().run_pending(&env.machine).await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!(
        ran[0].status,
        ExecutionStatus::Succeeded,
        "{:?}",
        ran[0].error
    );
    assert!(env
        .runner()
        .run_pending(&env.machine)
        .await
        .unwrap()
        .is_empty());
}
