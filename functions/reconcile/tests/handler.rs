//! reconcile driven by `events/reconcile/*.json` (invoices stored through process-invoice).

use p2p_adapters::{ChangeSet, Expect, InvoiceQuery, PageRequest, Write};
use p2p_core::invoice::InvoiceStatus;
use p2p_function_support::testing::{event, TestEnv};
use p2p_function_support::Deadline;
use reconcile::{handle, Config};
use serde_json::{json, Value};

fn config() -> Config {
    let empty: [(&str, &str); 0] = [];
    Config::from_source(&empty[..]).unwrap()
}

fn serial_config() -> Config {
    Config::from_source(&[("RECONCILE_CONCURRENCY", "1"), ("RECONCILE_PAGE_SIZE", "2")][..])
        .unwrap()
}

async fn submit(env: &TestEnv, execution: &str, number: &str, rate: &str) -> String {
    let mut input = event("process-invoice/task-input.json");
    input["execution_name"] = json!(execution);
    input["invoice"]["invoice_number"] = json!(number);
    input["invoice"]["lines"][0]["unit_price"] = json!(rate);
    input["invoice"]["lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("amount");
    input["invoice"].as_object_mut().unwrap().remove("subtotal");
    input["invoice"]
        .as_object_mut()
        .unwrap()
        .remove("total_amount");
    let total = match rate {
        "30.00" => "1750.00",
        "31.00" => "1800.00",
        other => panic!("no total for rate {other}"),
    };
    input["invoice"]["total_amount"] = json!(total);
    let pconfig =
        process_invoice::Config::from_source(&[("MAX_INVOICE_AMOUNT", "none")][..]).unwrap();
    let out = process_invoice::handle(&env.services, &pconfig, input)
        .await
        .unwrap();
    out["invoice_id"].as_str().unwrap().to_string()
}

async fn status(env: &TestEnv, id: &str) -> InvoiceStatus {
    env.services
        .store
        .get_invoice(id)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn received(env: &TestEnv) -> usize {
    let q = InvoiceQuery {
        status: Some(InvoiceStatus::Received),
        ..InvoiceQuery::default()
    };
    env.services
        .store
        .list_invoices(&q, &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn task_matches_one_invoice_and_a_repeat_returns_the_same_outcome() {
    let env = TestEnv::seeded().await;
    let stored = process_invoice::handle(
        &env.services,
        &process_invoice::Config::from_source(&[("X", "")][..]).unwrap(),
        event("process-invoice/task-input.json"),
    )
    .await
    .unwrap();
    let task = event("reconcile/task-input.json");
    assert_eq!(
        stored["invoice_id"], task["invoice_id"],
        "the sample's id is the derived one"
    );
    let out = handle(&env.services, &config(), task.clone(), Deadline::never())
        .await
        .unwrap();
    assert_eq!(out["outcome"], "matched", "{out}");
    assert_eq!(out["approval_required"], false);
    assert_eq!(out["total_amount"], "1750.00");
    assert_eq!(out["currency"], "USD");
    assert_eq!(out["report"]["validation_summary"]["po_status_valid"], true);
    let id = out["invoice_id"].as_str().unwrap();
    assert_eq!(status(&env, id).await, InvoiceStatus::Matched);

    let again = handle(&env.services, &config(), task, Deadline::never())
        .await
        .unwrap();
    assert_eq!(again, out);
    assert_eq!(env.audit_actions(id).await, vec!["CREATE", "RECONCILE"]);
}

#[tokio::test]
async fn task_rejects_a_price_mismatch_with_its_discrepancies() {
    let env = TestEnv::seeded().await;
    let id = submit(&env, "exec-r1", "R-1", "31.00").await;
    let out = handle(
        &env.services,
        &config(),
        json!({"invoice_id": id}),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["outcome"], "rejected", "{out}");
    let codes: Vec<&str> = out["report"]["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"price_mismatch"), "{codes:?}");
    assert_eq!(status(&env, &id).await, InvoiceStatus::Rejected);
}

#[tokio::test]
async fn approval_is_required_above_the_auto_approve_limit() {
    let env = TestEnv::seeded().await;
    let id = submit(&env, "exec-a1", "A-1", "30.00").await;
    let low_limit = Config::from_source(&[("AUTO_APPROVE_LIMIT", "1000")][..]).unwrap();
    let out = handle(
        &env.services,
        &low_limit,
        json!({"invoice_id": id}),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(out["approval_required"], true);
}

#[tokio::test]
async fn task_errors_are_named() {
    let env = TestEnv::seeded().await;
    let e = handle(
        &env.services,
        &config(),
        event("reconcile/task-unknown-invoice.json"),
        Deadline::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvoiceNotFound");
    let e = handle(
        &env.services,
        &config(),
        event("reconcile/task-malformed.json"),
        Deadline::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    let e = handle(
        &env.services,
        &config(),
        json!({"invoice_id": "x", "extra": 1}),
        Deadline::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    // The PO disappeared (moved to another id): PurchaseOrderNotFound, invoice untouched.
    let id = submit(&env, "exec-p1", "P-1", "30.00").await;
    repoint_po(&env, &id, "po-gone").await;
    let e = handle(
        &env.services,
        &config(),
        json!({"invoice_id": id}),
        Deadline::never(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_type(), "PurchaseOrderNotFound");
    assert_eq!(status(&env, &id).await, InvoiceStatus::Received);
}

async fn repoint_po(env: &TestEnv, id: &str, po_id: &str) {
    let mut inv = env.services.store.get_invoice(id).await.unwrap().unwrap();
    let expected = inv.version;
    inv.po_id = po_id.to_string();
    inv.version += 1;
    env.services
        .store
        .commit(ChangeSet::new().write(Write::PutInvoice(inv, Expect::Version(expected))))
        .await
        .unwrap();
}

fn stats(v: &Value) -> (u64, u64, u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    (
        n("processed"),
        n("matched"),
        n("rejected"),
        n("errors"),
        n("skipped"),
    )
}

#[tokio::test]
async fn the_job_reconciles_every_received_invoice_and_a_dry_run_writes_nothing() {
    let env = TestEnv::seeded().await;
    let ok1 = submit(&env, "exec-j1", "J-1", "30.00").await;
    let ok2 = submit(&env, "exec-j2", "J-2", "30.00").await;
    let bad = submit(&env, "exec-j3", "J-3", "31.00").await;
    let broken = submit(&env, "exec-j4", "J-4", "30.00").await;
    let elsewhere = submit(&env, "exec-j5", "J-5", "31.00").await;
    repoint_po(&env, &broken, "po-gone").await;
    // One invoice is not in the queue (already rejected by someone).
    handle(
        &env.services,
        &config(),
        json!({"invoice_id": elsewhere}),
        Deadline::never(),
    )
    .await
    .unwrap();

    let dry = handle(
        &env.services,
        &serial_config(),
        event("reconcile/scheduled-dry-run.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(dry["dry_run"], true);
    // J-1 and J-2 bill the same PO: the first matched fills it, so in a dry run (where
    // nothing is stored) both still match.
    assert_eq!(stats(&dry), (4, 2, 1, 1, 0), "{dry}");
    assert_eq!(received(&env).await, 4, "a dry run changes nothing");
    assert_eq!(env.audit_actions(&ok1).await, vec!["CREATE"]);

    let run = handle(
        &env.services,
        &serial_config(),
        event("reconcile/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    let (processed, matched, rejected, errors, skipped) = stats(&run);
    assert_eq!((processed, errors, skipped), (4, 1, 0), "{run}");
    // Stored outcomes count: once J-1 matched, J-2 would bill the PO twice.
    assert_eq!((matched, rejected), (1, 2), "{run}");
    assert_eq!(run["complete"], true);
    assert!(
        run["failures"][0].as_str().unwrap().contains(&broken),
        "{run}"
    );
    assert_eq!(status(&env, &bad).await, InvoiceStatus::Rejected);
    let mut both = [status(&env, &ok1).await, status(&env, &ok2).await];
    both.sort_by_key(|s| s.as_str());
    assert_eq!(both, [InvoiceStatus::Matched, InvoiceStatus::Rejected]);
    assert_eq!(
        env.audit_actions(&ok1).await,
        vec!["CREATE", "BATCH_RECONCILE"]
    );
    assert_eq!(
        env.audit_actions(&ok2).await,
        vec!["CREATE", "BATCH_RECONCILE"]
    );
    assert_eq!(
        env.audit_actions(&broken).await,
        vec!["CREATE", "RECONCILE_ERROR"]
    );
    let run_id = run["run_id"].as_str().unwrap();
    assert_eq!(env.audit_actions(run_id).await, vec!["JOB_COMPLETE"]);
    assert_eq!(
        received(&env).await,
        1,
        "only the failed invoice waits for the next run"
    );
}

#[tokio::test]
async fn the_job_stops_at_its_deadline_and_the_next_run_resumes() {
    let env = TestEnv::seeded().await;
    for i in 0..3 {
        submit(&env, &format!("exec-d{i}"), &format!("D-{i}"), "31.00").await;
    }
    // One check before the page, then one per invoice: the second invoice is refused.
    let first = handle(
        &env.services,
        &serial_config(),
        event("reconcile/scheduled.json"),
        Deadline::after_checks(2),
    )
    .await
    .unwrap();
    assert_eq!(stats(&first), (1, 0, 1, 0, 1), "{first}");
    assert_eq!(first["complete"], false);
    assert_eq!(received(&env).await, 2);
    let next = handle(
        &env.services,
        &serial_config(),
        event("reconcile/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(stats(&next), (2, 0, 2, 0, 0), "{next}");
    assert_eq!(next["complete"], true);
    assert_eq!(received(&env).await, 0);
}

#[tokio::test]
async fn bad_job_events_are_invalid() {
    let env = TestEnv::empty();
    let mut ev = event("reconcile/scheduled.json");
    ev["detail"] = json!({"dry_run": "yes"});
    let e = handle(&env.services, &config(), ev, Deadline::never())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    let e = handle(&env.services, &config(), json!("run"), Deadline::never())
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    let empty = handle(
        &env.services,
        &config(),
        event("reconcile/scheduled.json"),
        Deadline::never(),
    )
    .await
    .unwrap();
    assert_eq!(stats(&empty), (0, 0, 0, 0, 0));
    assert!(Config::from_source(&[("RECONCILE_CONCURRENCY", "0")][..]).is_err());
}
