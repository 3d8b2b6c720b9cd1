mod common;

use common::*;
use p2p_asl::{Registry, TaskError};
use serde_json::{json, Value};

#[tokio::test]
async fn pass_result_and_result_path() {
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a.b", "Next": "B"},
            "B": {"Type": "Pass", "ResultPath": null, "Result": "ignored", "Next": "C"},
            "C": {"Type": "Pass", "InputPath": "$.a", "End": true}
        }}),
        json!({"keep": true}),
    )
    .await;
    assert_eq!(output(&e), json!({"b": {"x": 1}}));
    assert_eq!(
        e.event_types(),
        vec![
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    // ids and previousEventId chain
    for (i, ev) in e.history.iter().enumerate() {
        assert_eq!(ev.id, i as u64 + 1);
        assert_eq!(ev.previous_event_id, i as u64);
    }
    let h = e.history_json();
    assert_eq!(h["events"][1]["stateEnteredEventDetails"]["name"], "A");
    assert_eq!(
        h["events"][1]["stateEnteredEventDetails"]["input"],
        "{\"keep\":true}"
    );
    assert_eq!(
        h["events"][0]["executionStartedEventDetails"]["input"],
        "{\"keep\":true}"
    );
}

#[tokio::test]
async fn io_processing_order_with_null_paths() {
    // InputPath null -> {}, OutputPath null -> {}
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "InputPath": null, "Parameters": {"n.$": "States.JsonToString($)"}, "ResultPath": "$.r", "Next": "B"},
            "B": {"Type": "Pass", "OutputPath": null, "End": true}
        }}),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(output(&e), json!({}));
    let e = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "InputPath": null, "Parameters": {"n.$": "States.JsonToString($)"}, "ResultPath": "$.r", "End": true}
        }}),
        json!({"a": 1}),
    )
    .await;
    assert_eq!(output(&e), json!({"a": 1, "r": {"n": "{}"}}));
}

#[tokio::test]
async fn task_full_io_pipeline() {
    let reg = Registry::new().register_fn("calc", |input: Value| async move {
        let a = input["a"].as_i64().unwrap_or(0);
        let b = input["b"].as_i64().unwrap_or(0);
        Ok(json!({"sum": a + b, "noise": "x"}))
    });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:calc",
                  "InputPath": "$.numbers",
                  "Parameters": {"a.$": "$.x", "b.$": "$.y", "static": 1},
                  "ResultSelector": {"total.$": "$.sum"},
                  "ResultPath": "$.result",
                  "OutputPath": "$.result",
                  "End": true}
        }}),
        json!({"numbers": {"x": 2, "y": 3}, "other": 0}),
    )
    .await;
    assert_eq!(output(&e), json!({"total": 5}));
    let types = e.event_types();
    assert_eq!(
        types,
        vec![
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let sched = &e.history_json()["events"][2]["taskScheduledEventDetails"];
    assert_eq!(sched["resourceType"], "lambda");
    assert_eq!(sched["resource"], "calc");
    let params: Value = serde_json::from_str(sched["parameters"].as_str().unwrap()).unwrap();
    assert_eq!(params, json!({"a": 2, "b": 3, "static": 1}));
}

#[tokio::test]
async fn result_path_creates_nested_and_fails_on_scalar() {
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 7, "ResultPath": "$.x.y.z", "End": true}}}),
        json!({"x": {"w": 1}}),
    )
    .await;
    assert_eq!(output(&e), json!({"x": {"w": 1, "y": {"z": 7}}}));
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 7, "ResultPath": "$.x", "End": true}}}),
        json!("scalar"),
    )
    .await;
    assert_eq!(error(&e).0, "States.ResultPathMatchFailure");
}

#[tokio::test]
async fn missing_input_path_is_runtime_error_and_parameters_path_failure() {
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.nope", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime");
    let e = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$.nope"}, "End": true}}}),
        json!({}),
    )
    .await;
    let (err, cause) = error(&e);
    assert_eq!(err, "States.ParameterPathFailure");
    assert!(cause.contains("$.nope"), "{cause}");
}

#[tokio::test]
async fn context_object() {
    let reg = Registry::new().register_fn("echo", |i: Value| async move { Ok(i) });
    let e = run_with(
        reg,
        json!({"StartAt": "Ctx", "States": {
            "Ctx": {"Type": "Task", "Resource": "echo", "Parameters": {
                "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input",
                "start.$": "$$.Execution.StartTime", "role.$": "$$.Execution.RoleArn",
                "sm.$": "$$.StateMachine.Id", "smName.$": "$$.StateMachine.Name",
                "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime", "retry.$": "$$.State.RetryCount"
            }, "End": true}
        }}),
        json!({"k": "v"}),
    )
    .await;
    let o = output(&e);
    assert_eq!(
        o["id"],
        "arn:aws:states:us-east-1:123456789012:execution:Test:exec-1"
    );
    assert_eq!(o["name"], "exec-1");
    assert_eq!(o["input"], json!({"k": "v"}));
    assert_eq!(o["start"], "2024-01-01T00:00:00.000Z");
    assert!(o["role"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::123456789012:role/"));
    assert_eq!(
        o["sm"],
        "arn:aws:states:us-east-1:123456789012:stateMachine:Test"
    );
    assert_eq!(o["smName"], "Test");
    assert_eq!(o["state"], "Ctx");
    assert_eq!(o["entered"], "2024-01-01T00:00:00.000Z");
    assert_eq!(o["retry"], 0);
    assert_eq!(
        e.execution_arn,
        "arn:aws:states:us-east-1:123456789012:execution:Test:exec-1"
    );
}

#[tokio::test]
async fn wait_variants_advance_virtual_clock() {
    let e = run(
        json!({"StartAt": "W1", "States": {
            "W1": {"Type": "Wait", "Seconds": 10, "Next": "W2"},
            "W2": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "W3"},
            "W3": {"Type": "Wait", "Timestamp": "2024-01-01T01:00:00Z", "Next": "W4"},
            "W4": {"Type": "Wait", "TimestampPath": "$.until", "Next": "Ctx"},
            "Ctx": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": true}
        }}),
        json!({"delay": 5, "until": "2024-01-01T02:00:00+00:00"}),
    )
    .await;
    assert_eq!(output(&e), json!({"t": "2024-01-01T02:00:00.000Z"}));
    assert_eq!(elapsed(&e), 7200.0);
    // timestamps of W2 exit = 15s
    let w2_exit = e
        .history
        .iter()
        .find(|ev| ev.event_type == "WaitStateExited" && ev.state_name() == Some("W2"))
        .unwrap();
    assert_eq!((w2_exit.timestamp - t0()).num_seconds(), 15);
    // Past timestamp: no wait
    let e = run(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2000-01-01T00:00:00Z", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(elapsed(&e), 0.0);
    // bad SecondsPath
    let e = run(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.d", "End": true}}}),
        json!({"d": "soon"}),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime");
}

#[tokio::test]
async fn real_time_wait_sleeps() {
    let m = machine(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}),
    );
    let started = std::time::Instant::now();
    let e = p2p_asl::Executor::new(Registry::new())
        .real_time()
        .start(&m, "r", json!({}))
        .await;
    assert_eq!(e.status(), "SUCCEEDED");
    assert!(started.elapsed() >= std::time::Duration::from_millis(950));
}

#[tokio::test]
async fn succeed_and_fail_states() {
    let e = run(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}}),
        json!({"a": {"b": 42}}),
    )
    .await;
    assert_eq!(output(&e), json!(42));
    assert_eq!(
        e.event_types()[1..3],
        ["SucceedStateEntered", "SucceedStateExited"]
    );

    let e = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "because"}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e), ("Bad".into(), "because".into()));
    assert_eq!(
        e.event_types(),
        vec!["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    );
    assert_eq!(
        e.history_json()["events"][2]["executionFailedEventDetails"]["error"],
        "Bad"
    );

    let e = run(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"}}}),
        json!({"e": "Dyn", "c": 7}),
    )
    .await;
    assert_eq!(error(&e), ("Dyn".into(), "code 7".into()));
}

#[tokio::test]
async fn parallel_branches_and_failure() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Parameters": {"v.$": "$.v"}, "ResultPath": "$.out", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 30, "Next": "A2"}, "A2": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$.v", "End": true}}}
        ]}
    }});
    let e = run(def, json!({"v": 3})).await;
    assert_eq!(output(&e), json!({"v": 3, "out": ["a", 3]}));
    assert_eq!(
        elapsed(&e),
        30.0,
        "parallel clock is the max of branch clocks"
    );
    let t = e.event_types();
    assert!(t.contains(&"ParallelStateStarted") && t.contains(&"ParallelStateSucceeded"));
    assert_eq!(t[t.len() - 2], "ParallelStateExited");

    let e = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "BranchBoom", "Cause": "c"}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
            ], "Catch": [{"ErrorEquals": ["States.BranchFailed"], "ResultPath": "$.err", "Next": "Done"}]},
            "Done": {"Type": "Pass", "End": true}
        }}),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&e),
        json!({"err": {"Error": "BranchBoom", "Cause": "c"}})
    );
    assert!(e.event_types().contains(&"ParallelStateFailed"));
    let e = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "BranchBoom", "Cause": "c"}}}]}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e).0, "BranchBoom");
}

#[tokio::test]
async fn map_items_selector_and_context() {
    let e = run(
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                  "ItemSelector": {"idx.$": "$$.Map.Item.Index", "val.$": "$$.Map.Item.Value", "k.$": "$.k"},
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Double", "States": {
                      "Double": {"Type": "Pass", "Parameters": {"i.$": "$.idx", "v.$": "States.MathAdd($.val, $.val)", "k.$": "$.k"}, "End": true}}},
                  "ResultPath": "$.results", "End": true}
        }}),
        json!({"items": [1, 2, 3], "k": "K"}),
    )
    .await;
    assert_eq!(
        output(&e)["results"],
        json!([{"i": 0, "v": 2, "k": "K"}, {"i": 1, "v": 4, "k": "K"}, {"i": 2, "v": 6, "k": "K"}])
    );
    let t = e.event_types();
    assert_eq!(t.iter().filter(|x| **x == "MapIterationStarted").count(), 3);
    assert_eq!(
        t.iter().filter(|x| **x == "MapIterationSucceeded").count(),
        3
    );
    assert!(t.contains(&"MapStateStarted") && t.contains(&"MapStateSucceeded"));
    let started = e
        .history
        .iter()
        .find(|x| x.event_type == "MapStateStarted")
        .unwrap();
    assert_eq!(started.details["length"], 3);

    // legacy Iterator + Parameters
    let e = run(
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "Parameters": {"x.$": "$$.Map.Item.Value"},
                  "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}
        }}),
        json!(["a", "b"]),
    )
    .await;
    assert_eq!(output(&e), json!([{"x": "a"}, {"x": "b"}]));
}

#[tokio::test]
async fn map_tolerated_failures() {
    let reg = || {
        Registry::new().register_fn("check", |i: Value| async move {
            if i.as_i64().unwrap_or(0) % 2 == 0 {
                Err(TaskError::new("Even", "even number"))
            } else {
                Ok(i)
            }
        })
    };
    let def = |tol: Value| {
        let mut m = json!({"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Task", "Resource": "check", "End": true}}}, "End": true});
        for (k, v) in tol.as_object().unwrap() {
            m[k] = v.clone();
        }
        json!({"StartAt": "M", "States": {"M": m}})
    };
    // no tolerance: the item's error fails the map
    let e = run_with(reg(), def(json!({})), json!([1, 2, 3])).await;
    assert_eq!(error(&e).0, "Even");
    assert!(e.event_types().contains(&"MapIterationFailed"));
    // tolerate 1 failure
    let e = run_with(
        reg(),
        def(json!({"ToleratedFailureCount": 1})),
        json!([1, 2, 3]),
    )
    .await;
    let o = output(&e);
    assert_eq!(o[0], 1);
    assert_eq!(o[1]["Error"], "Even");
    assert_eq!(o[2], 3);
    // 2 failures > 1 tolerated
    let e = run_with(
        reg(),
        def(json!({"ToleratedFailureCount": 1})),
        json!([1, 2, 4]),
    )
    .await;
    assert_eq!(error(&e).0, "States.ExceedToleratedFailureThreshold");
    // percentage: 2/4 = 50% tolerated
    let e = run_with(
        reg(),
        def(json!({"ToleratedFailurePercentage": 50})),
        json!([1, 2, 3, 4]),
    )
    .await;
    assert_eq!(e.status(), "SUCCEEDED");
    let e = run_with(
        reg(),
        def(json!({"ToleratedFailurePercentagePath": "$.pct"})),
        json!([1, 2, 3, 4]),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime", "items input has no $.pct");
    let e = run_with(
        reg(),
        def(json!({"ToleratedFailurePercentage": 40})),
        json!([1, 2, 3, 4]),
    )
    .await;
    assert_eq!(error(&e).0, "States.ExceedToleratedFailureThreshold");
}

#[tokio::test]
async fn map_items_path_not_array() {
    let e = run(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.x",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}),
        json!({"x": 5}),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime");
}

#[tokio::test]
async fn unknown_resource_is_clear_error() {
    let e = run(
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:missing-fn", "End": true}}}),
        json!({}),
    )
    .await;
    let (err, cause) = error(&e);
    assert_eq!(err, "States.Runtime");
    assert!(cause.contains("missing-fn"), "{cause}");
}

#[tokio::test]
async fn lambda_invoke_wraps_result() {
    let reg = Registry::new().register_fn("validate-invoice", |i: Value| async move {
        Ok(json!({"valid": true, "got": i}))
    });
    let e = run_with(
        reg,
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:validate-invoice:$LATEST", "Payload.$": "$"},
            "End": true}}}),
        json!({"id": 1}),
    )
    .await;
    let o = output(&e);
    assert_eq!(o["StatusCode"], 200);
    assert_eq!(o["ExecutedVersion"], "$LATEST");
    assert_eq!(o["Payload"], json!({"valid": true, "got": {"id": 1}}));
}

#[tokio::test]
async fn other_resources_by_full_arn_and_ctx_handler() {
    let reg = Registry::new().register_fn_ctx(
        "arn:aws:states:::sns:publish",
        |i: Value, ctx: p2p_asl::TaskContext| async move {
            Ok(json!({"MessageId": "m-1", "state": ctx.state_name, "msg": i["Message"]}))
        },
    );
    let e = run_with(
        reg,
        json!({"StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "hi"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        output(&e),
        json!({"MessageId": "m-1", "state": "Notify", "msg": "hi"})
    );
}
