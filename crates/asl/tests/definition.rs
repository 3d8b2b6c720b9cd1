use std::collections::HashMap;

use p2p_asl::{DefinitionError, StateMachine};
use serde_json::{json, Value};

fn problems(def: Value) -> Vec<String> {
    match StateMachine::from_value(def, &HashMap::new()) {
        Ok(_) => vec![],
        Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
    }
}

fn assert_problem(def: Value, needle: &str) {
    let p = problems(def);
    assert!(
        p.iter().any(|x| x.contains(needle)),
        "expected a problem containing {needle:?}, got {p:?}"
    );
}

#[test]
fn start_at_checks() {
    assert_problem(
        json!({"States": {"A": {"Type": "Succeed"}}}),
        "missing StartAt",
    );
    assert_problem(
        json!({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}}),
        "StartAt 'Nope'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {}}),
        "States must not be empty",
    );
}

#[test]
fn transitions_and_reachability() {
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Ghost"}}}),
        "state 'A'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Ghost"}}}),
        "'Ghost'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "Lonely": {"Type": "Succeed"}}}),
        "state 'Lonely'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}),
        "needs Next or \"End\": true",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A", "End": true}}}),
        "mutually exclusive",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "X"}]}}}),
        "'X'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": true, "Next": "A"}], "Default": "Z"}}}),
        "'Z'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nowhere"}]}}}),
        "'Nowhere'",
    );
}

#[test]
fn types_and_fields() {
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": true}}}),
        "unknown state Type 'Sleep'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"End": true}}}),
        "missing Type",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Succeed", "Next": "A"}}}),
        "not allowed in a Succeed state",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Retry": [], "End": true}}}),
        "'Retry' is not allowed in a Pass state",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}),
        "needs a string Resource",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "Timestamp": "2024-01-01T00:00:00Z", "End": true}}}),
        "exactly one of Seconds",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}}),
        "exactly one of Seconds",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Timestamp": "yesterday", "End": true}}}),
        "RFC 3339",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "x", "ErrorPath": "$.e"}}}),
        "mutually exclusive",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t", "End": true}}}),
        "mutually exclusive",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "TimeoutSeconds": 5, "HeartbeatSeconds": 5, "End": true}}}),
        "HeartbeatSeconds must be smaller",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}),
        "non-empty",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEquals": 1, "Next": "A"}]}}}),
        "wrong type",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringFoo": "a", "Next": "A"}]}}}),
        "unknown choice operator",
    );
}

#[test]
fn paths_are_checked() {
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[", "End": true}}}),
        "InputPath",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": true}}}),
        "not a reference path",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "OutputPath": "a.b", "End": true}}}),
        "must start with '$'",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$$.["}, "End": true}}}),
        "Parameters",
    );
}

#[test]
fn retry_and_catch_rules() {
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}}),
        "States.ALL must be the last",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}}}),
        "alone",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}}}),
        "BackoffRate",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}]}}}),
        "JitterStrategy",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": []}]}}}),
        "ErrorEquals",
    );
    assert_problem(
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}, {"ErrorEquals": ["X"], "Next": "A"}]}}}),
        "States.ALL must be the last",
    );
    // MaxAttempts 0 is fine
    assert!(problems(json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "f", "End": true, "Retry": [{"ErrorEquals": ["X"], "MaxAttempts": 0}]}}})).is_empty());
}

#[test]
fn nested_graphs_are_checked_with_locations() {
    let p = problems(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "Outside"}}}
    ]}, "Outside": {"Type": "Succeed"}}}),
    );
    assert!(
        p.iter()
            .any(|x| x.contains("Branches[0]") && x.contains("'Outside'")),
        "{p:?}"
    );
    let p = problems(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {
        "StartAt": "I", "States": {"I": {"Type": "Wait", "Seconds": -1, "End": true}}}}}}),
    );
    assert!(
        p.iter()
            .any(|x| x.contains("ItemProcessor") && x.contains("state 'I'")),
        "{p:?}"
    );
    assert_problem(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true}}}),
        "ItemProcessor",
    );
    assert_problem(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemReader": {}, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}}}),
        "ItemReader",
    );
    assert_problem(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": []}}}),
        "Branches",
    );
}

#[test]
fn substitutions() {
    let text = r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${ValidateFnArn}", "Parameters": {"Bucket": "${Bucket}-x"}, "End": true}}}"#;
    let mut subs = HashMap::new();
    subs.insert(
        "ValidateFnArn".to_string(),
        "arn:aws:lambda:us-east-1:1:function:validate".to_string(),
    );
    subs.insert("Bucket".to_string(), "b".to_string());
    let m = StateMachine::from_json(text, &subs).unwrap();
    assert_eq!(
        m.resources(),
        vec!["arn:aws:lambda:us-east-1:1:function:validate".to_string()]
    );
    assert_eq!(m.definition()["States"]["T"]["Parameters"]["Bucket"], "b-x");
    let err = StateMachine::from_json(text, &HashMap::new()).unwrap_err();
    assert!(
        err.to_string().contains("unresolved substitution")
            && err.to_string().contains("${ValidateFnArn}"),
        "{err}"
    );
    assert!(matches!(
        StateMachine::from_json("{not json", &HashMap::new()),
        Err(DefinitionError::Json(_))
    ));
}

#[test]
fn all_problems_are_reported() {
    let p = problems(json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Bogus"},
        "C": {"Type": "Succeed"}
    }}));
    assert!(p.len() >= 2, "{p:?}");
}
