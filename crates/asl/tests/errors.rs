mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use common::*;
use p2p_asl::{Registry, TaskContext, TaskError};
use serde_json::{json, Value};

/// A handler failing `fails` times with `error`, then succeeding; records retry counts seen.
fn flaky(error: &'static str, fails: u32) -> (Registry, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let reg = Registry::new().register_fn_ctx("flaky", move |_i: Value, ctx: TaskContext| {
        let c = c.clone();
        async move {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if n < fails {
                Err(TaskError::new(error, format!("attempt {n}")))
            } else {
                Ok(json!({"attempts": n + 1, "retryCount": ctx.retry_count}))
            }
        }
    });
    (reg, calls)
}

#[tokio::test]
async fn retry_backoff_advances_virtual_clock_and_retry_count() {
    let (reg, calls) = flaky("Transient", 3);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky",
            "Parameters": {"rc.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&e), json!({"attempts": 4, "retryCount": 3}));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // 2 + 6 + 18
    assert_eq!(elapsed(&e), 26.0);
    let scheduled: Vec<Value> = e
        .history
        .iter()
        .filter(|x| x.event_type == "TaskScheduled")
        .map(|x| serde_json::from_str(x.details["parameters"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        scheduled,
        vec![
            json!({"rc": 0}),
            json!({"rc": 1}),
            json!({"rc": 2}),
            json!({"rc": 3})
        ]
    );
    assert_eq!(
        e.event_types()
            .iter()
            .filter(|t| **t == "TaskFailed")
            .count(),
        3
    );
}

#[tokio::test]
async fn max_delay_and_exhaustion() {
    let (reg, calls) = flaky("Transient", 10);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky",
            "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 5, "BackoffRate": 10, "MaxAttempts": 3, "MaxDelaySeconds": 20}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e), ("Transient".into(), "attempt 3".into()));
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(elapsed(&e), 5.0 + 20.0 + 20.0);
}

#[tokio::test]
async fn max_attempts_zero_and_retrier_order() {
    let (reg, calls) = flaky("Transient", 1);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky",
            "Retry": [{"ErrorEquals": ["Transient"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        error(&e).0,
        "Transient",
        "first matching retrier decides; MaxAttempts 0 means no retry"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn jitter_full_stays_within_bounds() {
    let (reg, _) = flaky("Transient", 2);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky",
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 10, "MaxAttempts": 2, "JitterStrategy": "FULL"}],
            "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(e.status(), "SUCCEEDED");
    let el = elapsed(&e);
    assert!((0.0..=30.0).contains(&el), "{el}");
}

#[tokio::test]
async fn catch_with_result_path_and_order() {
    let (reg, _) = flaky("Boom", 100);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "flaky", "End": true, "Catch": [
                {"ErrorEquals": ["Other"], "Next": "Wrong"},
                {"ErrorEquals": ["Boom", "Else"], "ResultPath": "$.error", "Next": "Handle"},
                {"ErrorEquals": ["States.ALL"], "Next": "Wrong"}
            ]},
            "Handle": {"Type": "Pass", "End": true},
            "Wrong": {"Type": "Fail", "Error": "Wrong"}
        }}),
        json!({"orig": 1}),
    )
    .await;
    assert_eq!(
        output(&e),
        json!({"orig": 1, "error": {"Error": "Boom", "Cause": "attempt 0"}})
    );
    // default ResultPath replaces the input with the error output; null keeps the input
    let (reg, _) = flaky("Boom", 100);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "flaky", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({"orig": 1}),
    )
    .await;
    assert_eq!(output(&e), json!({"Error": "Boom", "Cause": "attempt 0"}));
    let (reg, _) = flaky("Boom", 100);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "flaky", "End": true, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": null, "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({"orig": 1}),
    )
    .await;
    assert_eq!(output(&e), json!({"orig": 1}));
}

#[tokio::test]
async fn retry_then_catch() {
    let (reg, calls) = flaky("Boom", 100);
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "flaky", "End": true,
                  "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                  "Catch": [{"ErrorEquals": ["Boom"], "ResultPath": "$.e", "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(output(&e)["e"]["Cause"], "attempt 2");
    assert_eq!(elapsed(&e), 3.0);
}

#[tokio::test]
async fn timeout_bounds_hung_handler_even_in_virtual_time() {
    let reg = Registry::new().register_fn("hang", |_i: Value| async move {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        Ok(json!(null))
    });
    let started = std::time::Instant::now();
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "hang", "TimeoutSeconds": 1, "End": true,
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 3}]}}}),
        json!({}),
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        error(&e).0,
        "States.Timeout",
        "States.TaskFailed does not match States.Timeout"
    );
    assert!(e.event_types().contains(&"TaskTimedOut"));
    // Path form + catch
    let reg = Registry::new().register_fn("hang", |_i: Value| async move {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        Ok(json!(null))
    });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "hang", "TimeoutSecondsPath": "$.t", "End": true,
                  "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({"t": 1}),
    )
    .await;
    assert_eq!(output(&e)["err"]["Error"], "States.Timeout");
}

#[tokio::test]
async fn panicking_handler_is_a_task_failure() {
    let reg = Registry::new().register_fn("boom", |_i: Value| async move {
        if true {
            panic!("kaboom");
        }
        Ok(json!(null))
    });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "boom", "End": true, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
    )
    .await;
    let o = output(&e);
    assert_eq!(o["Error"], "States.TaskFailed");
    assert!(o["Cause"].as_str().unwrap().contains("kaboom"));
}

#[tokio::test]
async fn runtime_errors_are_not_caught_or_retried() {
    let e = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "not-registered", "End": true,
                  "Retry": [{"ErrorEquals": ["States.ALL"]}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime");
    assert_eq!(elapsed(&e), 0.0);
}

#[tokio::test]
async fn parameter_and_result_path_failures_are_catchable_in_tasks() {
    let reg = Registry::new().register_fn("echo", |i: Value| async move { Ok(i) });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "echo", "Parameters": {"x.$": "$.missing"}, "End": true,
                  "Catch": [{"ErrorEquals": ["States.ParameterPathFailure"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&e)["Error"], "States.ParameterPathFailure");
    let reg = Registry::new().register_fn("echo", |i: Value| async move { Ok(i) });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "echo", "ResultPath": "$.a.b", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "ResultPath": null, "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({"a": "scalar"}),
    )
    .await;
    assert_eq!(output(&e), json!({"a": "scalar"}));
    let reg = Registry::new().register_fn("echo", |i: Value| async move { Ok(i) });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "echo", "Parameters": {"x.$": "States.ArrayGetItem($.a, 9)"}, "End": true,
                  "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": true}}}),
        json!({"a": [1]}),
    )
    .await;
    assert_eq!(output(&e)["Error"], "States.IntrinsicFailure");
}

#[tokio::test]
async fn parallel_and_map_retry() {
    let (reg, calls) = flaky("Transient", 1);
    let e = run_with(
        reg,
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Retry": [{"ErrorEquals": ["States.BranchFailed"], "IntervalSeconds": 4, "MaxAttempts": 1}],
            "Branches": [{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "flaky", "End": true}}}]}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&e), json!([{"attempts": 2, "retryCount": 0}]));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(elapsed(&e), 4.0);
}
