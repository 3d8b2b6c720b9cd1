//! A procure-to-pay style workflow using Parallel, Map, Retry and Catch together.
mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use common::*;
use p2p_asl::{Registry, TaskError};
use serde_json::{json, Value};

fn definition() -> Value {
    json!({
      "Comment": "Invoice processing",
      "StartAt": "Checks",
      "States": {
        "Checks": {
          "Type": "Parallel",
          "ResultSelector": {"vendor.$": "$[0]", "budget.$": "$[1].Payload"},
          "ResultPath": "$.checks",
          "Next": "LinesMap",
          "Retry": [{"ErrorEquals": ["States.BranchFailed"], "MaxAttempts": 1, "IntervalSeconds": 3}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ManualReview"}],
          "Branches": [
            {"StartAt": "CheckVendor", "States": {"CheckVendor": {
              "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:check-vendor",
              "Parameters": {"vendorId.$": "$.vendorId"},
              "Retry": [{"ErrorEquals": ["Vendor.Throttled"], "IntervalSeconds": 2, "MaxAttempts": 2, "BackoffRate": 2}],
              "End": true}}},
            {"StartAt": "CheckBudget", "States": {"CheckBudget": {
              "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "check-budget", "Payload": {"total.$": "$.total"}},
              "End": true}}}
          ]
        },
        "LinesMap": {
          "Type": "Map",
          "ItemsPath": "$.lines",
          "MaxConcurrency": 2,
          "ItemSelector": {"line.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "vendor.$": "$.vendorId"},
          "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "MatchLine",
            "States": {
              "MatchLine": {
                "Type": "Task", "Resource": "match-line",
                "Catch": [{"ErrorEquals": ["Line.Mismatch"], "ResultPath": "$.mismatch", "Next": "Flag"}],
                "End": true},
              "Flag": {"Type": "Pass", "Parameters": {"index.$": "$.index", "flagged": true}, "End": true}
            }
          },
          "ResultPath": "$.matched",
          "Next": "AnyFlagged"
        },
        "AnyFlagged": {
          "Type": "Choice",
          "Choices": [{"Variable": "$.matched[1].flagged", "IsPresent": true, "Next": "ManualReview"}],
          "Default": "Approve"
        },
        "Approve": {"Type": "Pass", "Parameters": {"status": "APPROVED", "lines.$": "States.ArrayLength($.matched)", "vendor.$": "$.checks.vendor.name"}, "End": true},
        "ManualReview": {"Type": "Pass", "Parameters": {"status": "REVIEW", "why.$": "$"}, "End": true}
      }
    })
}

fn registry(vendor_throttles: u32) -> (Registry, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let reg = Registry::new()
        .register_fn("check-vendor", move |i: Value| {
            let c = c.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < vendor_throttles {
                    return Err(TaskError::new("Vendor.Throttled", "slow down"));
                }
                Ok(json!({"id": i["vendorId"], "name": "Acme"}))
            }
        })
        .register_fn("check-budget", |i: Value| async move {
            let total = i["total"].as_f64().unwrap_or(0.0);
            if total > 1000.0 {
                Err(TaskError::new(
                    "Budget.Exceeded",
                    format!("total {total} over budget"),
                ))
            } else {
                Ok(json!({"ok": true}))
            }
        })
        .register_fn("match-line", |i: Value| async move {
            if i["line"]["qty"].as_i64() == Some(0) {
                Err(TaskError::new("Line.Mismatch", "qty 0"))
            } else {
                Ok(json!({"index": i["index"], "matched": true}))
            }
        });
    (reg, calls)
}

#[tokio::test]
async fn approved_after_retries() {
    let (reg, calls) = registry(2);
    let e = run_with(
        reg,
        definition(),
        json!({"vendorId": "V1", "total": 100, "lines": [{"qty": 1}, {"qty": 2}, {"qty": 3}]}),
    )
    .await;
    assert_eq!(
        output(&e),
        json!({"status": "APPROVED", "lines": 3, "vendor": "Acme"})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // vendor retries: 2s + 4s inside the branch; the Parallel clock is the slowest branch
    assert_eq!(elapsed(&e), 6.0);
    let t = e.event_types();
    assert_eq!(
        t.iter().filter(|x| **x == "MapIterationSucceeded").count(),
        3
    );
    assert!(t.contains(&"ParallelStateSucceeded"));
    // history serializes
    let s = serde_json::to_string(&e.history_json()).unwrap();
    assert!(s.contains("\"mapStateStartedEventDetails\""));
}

#[tokio::test]
async fn line_mismatch_goes_to_review() {
    let (reg, _) = registry(0);
    let e = run_with(
        reg,
        definition(),
        json!({"vendorId": "V1", "total": 100, "lines": [{"qty": 1}, {"qty": 0}]}),
    )
    .await;
    let o = output(&e);
    assert_eq!(o["status"], "REVIEW");
    assert_eq!(o["why"]["matched"][1], json!({"index": 1, "flagged": true}));
}

#[tokio::test]
async fn budget_failure_retried_then_caught() {
    let (reg, _) = registry(0);
    let e = run_with(
        reg,
        definition(),
        json!({"vendorId": "V1", "total": 5000, "lines": []}),
    )
    .await;
    let o = output(&e);
    assert_eq!(o["status"], "REVIEW");
    assert_eq!(o["why"]["error"]["Error"], "Budget.Exceeded");
    // the Parallel was retried once after 3s
    assert_eq!(
        e.event_types()
            .iter()
            .filter(|x| **x == "ParallelStateStarted")
            .count(),
        2
    );
    assert_eq!(elapsed(&e), 3.0);
}
