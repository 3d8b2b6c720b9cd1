mod common;

use std::sync::{Arc, Mutex};

use common::*;
use p2p_asl::{ExecutionSnapshot, Outcome, Registry, TaskContext};
use serde_json::{json, Value};

fn approval_def() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"amount": 100}, "ResultPath": "$.req", "Next": "Approve"},
        "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "request-approval", "Payload": {"token.$": "$$.Task.Token", "req.$": "$.req"}},
            "ResultPath": "$.approval", "TimeoutSeconds": 3600, "HeartbeatSeconds": 600,
            "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "RejectedEnd"}],
            "Next": "Done"},
        "Done": {"Type": "Pass", "End": true},
        "RejectedEnd": {"Type": "Fail", "Error": "Rejected", "CausePath": "$.rejection.Cause"}
    }})
}

fn recorder() -> (Registry, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let reg =
        Registry::new().register_fn_ctx("request-approval", move |i: Value, ctx: TaskContext| {
            let s = s.clone();
            async move {
                assert_eq!(ctx.task_token.as_deref(), i["token"].as_str());
                s.lock().unwrap().push(i);
                Ok(json!({"ignored": true}))
            }
        });
    (reg, seen)
}

async fn pause() -> (p2p_asl::Execution, Arc<Mutex<Vec<Value>>>) {
    let (reg, seen) = recorder();
    let e = executor(reg)
        .start(
            &machine(approval_def()),
            "approve-1",
            json!({"id": "inv-1"}),
        )
        .await;
    (e, seen)
}

#[tokio::test]
async fn pause_serialize_resume_success() {
    let (e, seen) = pause().await;
    assert_eq!(e.status(), "PAUSED");
    assert!(e.stop_date.is_none());
    let Outcome::Paused {
        task_tokens,
        snapshot,
    } = &e.outcome
    else {
        panic!()
    };
    assert_eq!(task_tokens.len(), 1);
    let token = task_tokens[0].clone();
    assert_eq!(seen.lock().unwrap()[0]["token"], json!(token.clone()));
    assert_eq!(seen.lock().unwrap()[0]["req"], json!({"amount": 100}));
    assert_eq!(snapshot.task_token(), token);

    // through JSON text, as the CLI stores it
    let text = snapshot.to_json().unwrap();
    let back = ExecutionSnapshot::from_json(&text).unwrap();
    assert_eq!(&back, snapshot.as_ref());

    // a fresh executor (another process) resumes it
    let (reg, _) = recorder();
    let resumed = executor(reg)
        .resume_success(back, &token, json!({"approvedBy": "bob"}))
        .await
        .unwrap();
    assert_eq!(
        output(&resumed),
        json!({"id": "inv-1", "req": {"amount": 100}, "approval": {"approvedBy": "bob"}})
    );
    let types = resumed.event_types();
    assert_eq!(types[0], "ExecutionStarted");
    assert_eq!(
        &types[types.len() - 5..],
        [
            "TaskSucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, ev) in resumed.history.iter().enumerate() {
        assert_eq!(ev.id, i as u64 + 1);
    }
}

#[tokio::test]
async fn resume_failure_is_caught() {
    let (e, _) = pause().await;
    let snap = e.snapshot().unwrap().clone();
    let token = snap.task_token().to_string();
    let r = executor(Registry::new())
        .resume_failure(snap, &token, "Rejected", "over budget")
        .await
        .unwrap();
    assert_eq!(error(&r), ("Rejected".into(), "over budget".into()));
}

#[tokio::test]
async fn wrong_token_is_rejected() {
    let (e, _) = pause().await;
    let snap = e.snapshot().unwrap().clone();
    let err = executor(Registry::new())
        .resume_success(snap, "not-the-token", json!({}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not-the-token"));
}

#[tokio::test]
async fn resume_after_deadline_times_out_and_expire_waiting() {
    let (e, _) = pause().await;
    let snap = e.snapshot().unwrap().clone();
    let token = snap.task_token().to_string();
    assert_eq!(snap.deadline(), Some(t0() + chrono::Duration::seconds(600)));
    // heartbeat keeps it alive past 600s
    let mut hb = snap.clone();
    let ex = executor(Registry::new());
    ex.send_task_heartbeat(&mut hb, &token, t0() + chrono::Duration::seconds(500))
        .unwrap();
    let r = ex
        .resume_success_at(
            hb,
            &token,
            json!({"ok": 1}),
            t0() + chrono::Duration::seconds(1000),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), "SUCCEEDED");
    // past the overall timeout
    let r = ex
        .resume_success_at(
            snap.clone(),
            &token,
            json!({}),
            t0() + chrono::Duration::seconds(4000),
        )
        .await
        .unwrap();
    assert_eq!(error(&r).0, "States.Timeout");
    assert!(r.event_types().contains(&"TaskTimedOut"));
    // missed heartbeat
    let r = ex
        .resume_success_at(
            snap.clone(),
            &token,
            json!({}),
            t0() + chrono::Duration::seconds(700),
        )
        .await
        .unwrap();
    assert_eq!(error(&r).0, "States.HeartbeatTimeout");
    // expire_waiting: nothing yet, then expired
    assert!(ex
        .expire_waiting(snap.clone(), t0() + chrono::Duration::seconds(10))
        .await
        .unwrap()
        .is_none());
    let r = ex
        .expire_waiting(snap, t0() + chrono::Duration::seconds(5000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), "FAILED");
}

#[tokio::test]
async fn pause_inside_retry_keeps_counts() {
    let reg = Registry::new().register_fn("notify", |_i: Value| async move { Ok(json!(null)) });
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:notify.waitForTaskToken",
              "Parameters": {"rc.$": "$$.State.RetryCount"},
              "Retry": [{"ErrorEquals": ["Again"], "MaxAttempts": 1, "IntervalSeconds": 7}], "End": true}}});
    let ex = executor(reg);
    let e = ex.start(&machine(def), "r", json!({})).await;
    let snap = e.snapshot().unwrap().clone();
    let t1 = snap.task_token().to_string();
    let e2 = ex
        .resume_failure(snap, &t1, "Again", "once more")
        .await
        .unwrap();
    assert_eq!(e2.status(), "PAUSED", "retried and waiting again");
    let snap2 = e2.snapshot().unwrap().clone();
    assert_eq!(snap2.pending.retry_counts, vec![1]);
    assert_ne!(snap2.task_token(), t1);
    let e3 = ex
        .resume_failure(
            snap2,
            e2.snapshot().unwrap().task_token(),
            "Again",
            "no more",
        )
        .await
        .unwrap();
    assert_eq!(error(&e3).0, "Again");
    assert_eq!(elapsed(&e3), 7.0);
}

#[tokio::test]
async fn token_inside_parallel_is_awaited_in_memory() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reg = Registry::new().register_fn_ctx("ask", move |_i: Value, ctx: TaskContext| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(ctx.task_token.unwrap_or_default());
            Ok(json!(null))
        }
    });
    let ex = executor(reg);
    let m = machine(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"t.$": "$$.Task.Token"}}, "End": true}}}]}}}),
    );
    let (e, ()) = tokio::join!(ex.start(&m, "x", json!({})), async {
        let token = rx.recv().await.unwrap();
        ex.send_task_success(&token, json!({"answer": 42})).unwrap();
    });
    assert_eq!(output(&e), json!([{"answer": 42}]));
    assert!(ex.waiting_tokens().is_empty());
    assert!(ex.send_task_success("unknown", json!({})).is_err());
}
