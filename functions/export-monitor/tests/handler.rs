//! export-monitor driven by `events/export-monitor/*.json` against a Workday stand-in on
//! 127.0.0.1 that answers 200 (after checking the signature), 500, or never (timeout).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use export_monitor::{handle, Config, WorkdayClient};
use p2p_adapters::testing::FlakyObjectStore;
use p2p_core::events::DomainEventType;
use p2p_core::invoice::InvoiceStatus;
use p2p_core::payment::PaymentStatus;
use p2p_function_support::signature;
use p2p_function_support::testing::{event, TestEnv};
use p2p_function_support::Deadline;
use serde_json::{json, Value};

const SECRET: &str = "test-callback-secret";

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Value>>>);

async fn ok(State(r): State<Received>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let ts = headers
        .get("x-p2p-timestamp")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let sig = headers
        .get("x-p2p-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now: i64 = ts.parse().unwrap_or(0);
    if signature::verify(SECRET.as_bytes(), ts, sig, &body, now, 300).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    r.0.lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    StatusCode::OK
}

async fn fail() -> StatusCode {
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn hang() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(30)).await;
    StatusCode::OK
}

/// Starts the stand-in; returns its base URL and what it received.
async fn workday() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/ok", post(ok))
        .route("/fail", post(fail))
        .route("/hang", post(hang))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), received)
}

fn config(url: &str, path: &str) -> Config {
    Config::from_source(
        &[
            ("WORKDAY_CALLBACK_URL", format!("{url}{path}").as_str()),
            ("WORKDAY_CALLBACK_SECRET", SECRET),
            ("WORKDAY_TIMEOUT_SECONDS", "1"),
            ("DEBTOR_NAME", "Company Example AG"),
            ("DEBTOR_IBAN", "CH9300762011623852957"),
            ("DEBTOR_BIC", "UBSWCHZH80A"),
            ("EXPORT_CONCURRENCY", "2"),
        ][..],
    )
    .unwrap()
}

/// One approved payment for ven-acme (IBAN) and one for ven-globex (US ACH).
async fn approved_payments(env: &TestEnv) -> (String, String) {
    let empty: [(&str, &str); 0] = [];
    let p = process_invoice::Config::from_source(&empty[..]).unwrap();
    let r = reconcile::Config::from_source(&empty[..]).unwrap();
    let a = approve_payment::Config::from_source(&empty[..]).unwrap();
    let globex = json!({
        "invoice": {
            "invoice_number": "GX-77", "vendor_id": "ven-globex", "po_id": "po-globex-0001",
            "invoice_date": "2024-11-01", "due_date": "2099-12-31", "total_amount": "425.00",
            "lines": [{"description": "Paper, A4, boxes", "quantity": "10", "unit_price": "42.50"}]
        },
        "execution_name": "exec-globex-77"
    });
    let mut ids = Vec::new();
    for input in [event("process-invoice/task-input.json"), globex] {
        let inv = process_invoice::handle(&env.services, &p, input)
            .await
            .unwrap();
        let rec = reconcile::handle(
            &env.services,
            &r,
            json!({"invoice_id": inv["invoice_id"]}),
            Deadline::never(),
        )
        .await
        .unwrap();
        assert_eq!(rec["outcome"], "matched", "{rec}");
        let pay = approve_payment::handle(
            &env.services,
            &a,
            json!({"invoice_id": inv["invoice_id"], "approved_by": "system:auto-approval"}),
        )
        .await
        .unwrap();
        ids.push(pay["payment_id"].as_str().unwrap().to_string());
    }
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn confirmed_payments_are_sent_invoices_paid_and_the_run_file_written() {
    let env = TestEnv::seeded().await;
    let (acme, globex) = approved_payments(&env).await;
    let (url, received) = workday().await;
    let config = config(&url, "/ok");
    let client = WorkdayClient::new(&config.workday).unwrap();
    let out = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["payments_scanned"], 2, "{out}");
    assert_eq!(out["approved_payments_found"], 2);
    assert_eq!(out["files_validated"], 2);
    assert_eq!(out["missing_files"], 0);
    assert_eq!(out["workday_callbacks_sent"], 2);
    assert_eq!(out["workday_callbacks_failed"], 0);
    assert_eq!(out["success_rate"].to_string(), "100.0");
    assert_eq!(out["errors"], json!([]));

    let bodies = received.0.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        2,
        "each callback arrived with a valid signature"
    );
    let body = bodies
        .iter()
        .find(|b| b["payment_id"] == acme.as_str())
        .unwrap();
    assert_eq!(body["amount"], "1750.00");
    assert_eq!(body["xml_s3_key"], format!("payments/{acme}/payment.xml"));

    for id in [&acme, &globex] {
        let p = env.services.store.get_payment(id).await.unwrap().unwrap();
        assert_eq!(p.status, PaymentStatus::Sent);
        assert!(p.workday_callback_received);
        assert!(p.workday_confirmed_at.is_some());
        let inv = env
            .services
            .store
            .get_invoice(&p.invoice_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(inv.status, InvoiceStatus::Paid);
        assert_eq!(
            env.audit_actions(id).await,
            vec!["APPROVE", "APPROVE_WITH_FILES", "WORKDAY_DELIVERY_SUCCESS"]
        );
    }
    let paid = env
        .published_events()
        .await
        .into_iter()
        .filter(|e| e.event_type == DomainEventType::InvoicePaid)
        .count();
    assert_eq!(paid, 2);

    // The pain.001 file holds the IBAN vendor's payment; the ACH vendor's is reported.
    let run = &out["payment_run"];
    let run_id = out["run_id"].as_str().unwrap();
    assert_eq!(run["key"], format!("payment-runs/{run_id}/pain.001.xml"));
    assert_eq!(run["included"], json!([acme]));
    assert_eq!(run["excluded"][0]["payment_id"], globex.as_str());
    let file = env
        .services
        .objects
        .get_object(&env.services.buckets.payments, run["key"].as_str().unwrap())
        .await
        .unwrap();
    let xml = String::from_utf8(file.body).unwrap();
    assert!(xml.contains("urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"));
    assert!(xml.contains("DE89370400440532013000"));
    assert!(
        xml.contains("<InstdAmt Ccy=\"USD\">1750.00</InstdAmt>"),
        "{xml}"
    );
    assert_eq!(
        env.audit_actions(run_id).await,
        vec!["MONITOR_START", "PAYMENT_RUN_FILE", "MONITOR_COMPLETE"]
    );

    // Nothing left to do on the next run.
    let again = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(again["approved_payments_found"], 0);
    assert_eq!(received.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_500_or_a_timeout_fails_the_delivery_and_the_next_run_retries() {
    let env = TestEnv::seeded().await;
    let (acme, _globex) = approved_payments(&env).await;
    let (url, received) = workday().await;
    for path in ["/fail", "/hang"] {
        let config = config(&url, path);
        let client = WorkdayClient::new(&config.workday).unwrap();
        let out = handle(
            &env.services,
            &config,
            &client,
            event("export-monitor/scheduled.json"),
            Deadline::never(),
        )
        .await
        .unwrap();
        assert_eq!(out["workday_callbacks_sent"], 0, "{path}: {out}");
        assert_eq!(out["workday_callbacks_failed"], 2, "{path}: {out}");
        assert_eq!(out["success_rate"].to_string(), "0.0");
        let errors = out["errors"].to_string();
        let expected = if path == "/fail" {
            "HTTP 500"
        } else {
            "Network timeout"
        };
        assert!(errors.contains(expected), "{path}: {errors}");
        assert!(out["payment_run"].is_null());
        let p = env
            .services
            .store
            .get_payment(&acme)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.status, PaymentStatus::Approved);
    }
    let trail = env.audit_actions(&acme).await;
    assert_eq!(
        trail
            .iter()
            .filter(|a| *a == "WORKDAY_DELIVERY_FAILED")
            .count(),
        2
    );

    let config = config(&url, "/ok");
    let client = WorkdayClient::new(&config.workday).unwrap();
    let out = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["workday_callbacks_sent"], 2, "{out}");
    assert_eq!(received.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn missing_files_are_reported_and_nothing_is_delivered() {
    let env = TestEnv::seeded().await;
    let empty: [(&str, &str); 0] = [];
    let p = process_invoice::Config::from_source(&empty[..]).unwrap();
    let r = reconcile::Config::from_source(&empty[..]).unwrap();
    let a = approve_payment::Config::from_source(&empty[..]).unwrap();
    let inv = process_invoice::handle(&env.services, &p, event("process-invoice/task-input.json"))
        .await
        .unwrap();
    reconcile::handle(
        &env.services,
        &r,
        event("reconcile/task-input.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    // The upload fails after the payment was committed: a payment without files.
    let flaky = Arc::new(FlakyObjectStore::new(env.services.objects.clone()).fail_put_on(1));
    let mut broken = env.services.clone();
    broken.objects = flaky;
    approve_payment::handle(&broken, &a, event("approve-payment/task-input.json"))
        .await
        .unwrap_err();
    let payment = env
        .services
        .store
        .get_payment_for_invoice(inv["invoice_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();

    let (url, received) = workday().await;
    let config = config(&url, "/ok");
    let client = WorkdayClient::new(&config.workday).unwrap();
    let out = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["approved_payments_found"], 1, "{out}");
    assert_eq!(out["missing_files"], 1);
    assert_eq!(out["files_validated"], 0);
    assert_eq!(out["workday_callbacks_sent"], 0);
    assert!(out["errors"][0].as_str().unwrap().contains(&payment.id));
    assert!(received.0.lock().unwrap().is_empty());
    assert_eq!(
        env.audit_actions(&payment.id).await,
        vec!["APPROVE", "FILES_MISSING"]
    );
}

#[tokio::test]
async fn a_dry_run_checks_but_delivers_and_writes_nothing() {
    let env = TestEnv::seeded().await;
    let (acme, _) = approved_payments(&env).await;
    let (url, received) = workday().await;
    let config = config(&url, "/ok");
    let client = WorkdayClient::new(&config.workday).unwrap();
    let out = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled-dry-run.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["dry_run"], true);
    assert_eq!(out["approved_payments_found"], 2);
    assert_eq!(out["files_validated"], 2);
    assert_eq!(out["workday_callbacks_sent"], 0);
    assert!(received.0.lock().unwrap().is_empty());
    assert_eq!(
        env.audit_actions(&acme).await,
        vec!["APPROVE", "APPROVE_WITH_FILES"]
    );
    assert!(env
        .audit_actions(out["run_id"].as_str().unwrap())
        .await
        .is_empty());
}

#[tokio::test]
async fn the_deadline_leaves_payments_for_the_next_run() {
    let env = TestEnv::seeded().await;
    approved_payments(&env).await;
    let (url, received) = workday().await;
    let mut config = config(&url, "/ok");
    config.concurrency = 1;
    let client = WorkdayClient::new(&config.workday).unwrap();
    let out = handle(
        &env.services,
        &config,
        &client,
        event("export-monitor/scheduled.json"),
        Deadline::after_checks(1),
    )
    .await
    .unwrap();
    assert_eq!(out["workday_callbacks_sent"], 1, "{out}");
    assert_eq!(out["skipped"], 1);
    assert_eq!(out["complete"], false);
    assert_eq!(received.0.lock().unwrap().len(), 1);
}

#[test]
fn configuration_is_checked_up_front() {
    let missing = Config::from_source(&[("WORKDAY_CALLBACK_SECRET", "s")][..]).unwrap_err();
    assert!(
        missing.to_string().contains("WORKDAY_CALLBACK_URL"),
        "{missing}"
    );
    let e = p2p_function_support::FunctionError::from(missing);
    assert_eq!(e.error_type(), "Misconfigured");
    let partial = Config::from_source(
        &[
            ("WORKDAY_CALLBACK_URL", "https://workday.example/callback"),
            ("WORKDAY_CALLBACK_SECRET", "s"),
            ("DEBTOR_NAME", "Company"),
        ][..],
    );
    assert!(partial.is_err());
    let bad_iban = Config::from_source(
        &[
            ("WORKDAY_CALLBACK_URL", "https://workday.example/callback"),
            ("WORKDAY_CALLBACK_SECRET", "s"),
            ("DEBTOR_NAME", "Company"),
            ("DEBTOR_IBAN", "DE00"),
            ("DEBTOR_BIC", "COBADEFFXXX"),
        ][..],
    );
    assert!(bad_iban.unwrap_err().to_string().contains("DEBTOR_IBAN"));
    let ok = Config::from_source(
        &[
            ("WORKDAY_CALLBACK_URL", "https://workday.example/callback"),
            ("WORKDAY_CALLBACK_SECRET", "very-secret"),
        ][..],
    )
    .unwrap();
    assert!(ok.debtor.is_none());
    assert!(
        !format!("{ok:?}").contains("very-secret"),
        "the secret is never printed"
    );
    let bad_event = serde_json::json!({"source": "aws.events", "detail": {"dry_run": 1}});
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env = TestEnv::empty();
    let client = WorkdayClient::new(&ok.workday).unwrap();
    let e = rt
        .block_on(handle(
            &env.services,
            &ok,
            &client,
            bad_event,
            Deadline::never(),
        ))
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
}
