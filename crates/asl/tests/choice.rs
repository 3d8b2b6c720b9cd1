mod common;

use common::*;
use serde_json::{json, Value};

/// Runs a Choice with one rule; returns true if the rule matched.
async fn matches(rule: Value, input: Value) -> bool {
    let mut r = rule;
    r["Next"] = json!("Yes");
    let e = run(
        json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [r], "Default": "No"},
            "Yes": {"Type": "Pass", "Result": true, "End": true},
            "No": {"Type": "Pass", "Result": false, "End": true}
        }}),
        input,
    )
    .await;
    output(&e).as_bool().unwrap()
}

#[tokio::test]
async fn string_operators() {
    let i = json!({"s": "banana", "o": "apple"});
    assert!(
        matches(
            json!({"Variable": "$.s", "StringEquals": "banana"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.s", "StringEquals": "apple"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.s", "StringGreaterThan": "apple"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.s", "StringLessThan": "apple"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.s", "StringLessThanEquals": "banana"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.s", "StringGreaterThanEquals": "banana"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.s", "StringGreaterThanEquals": "cherry"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.s", "StringEqualsPath": "$.o"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.s", "StringGreaterThanPath": "$.o"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.o", "StringLessThanPath": "$.s"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.o", "StringLessThanEqualsPath": "$.o"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.o", "StringGreaterThanEqualsPath": "$.o"}),
            i.clone()
        )
        .await
    );
    // type mismatch is false, not an error
    assert!(!matches(json!({"Variable": "$.s", "NumericEquals": 1}), i.clone()).await);
}

#[tokio::test]
async fn numeric_operators() {
    let i = json!({"n": 5, "f": 5.0, "m": 7.5});
    assert!(matches(json!({"Variable": "$.n", "NumericEquals": 5}), i.clone()).await);
    assert!(
        matches(json!({"Variable": "$.f", "NumericEquals": 5}), i.clone()).await,
        "5.0 == 5 numerically"
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericLessThan": 5.5}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.n", "NumericGreaterThan": 5}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericLessThanEquals": 5}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericGreaterThanEquals": 5}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericEqualsPath": "$.f"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericLessThanPath": "$.m"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.m", "NumericGreaterThanPath": "$.n"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.n", "NumericLessThanEqualsPath": "$.f"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.n", "NumericGreaterThanEqualsPath": "$.m"}),
            i.clone()
        )
        .await
    );
}

#[tokio::test]
async fn boolean_and_timestamp_operators() {
    let i = json!({"b": true, "c": true, "t": "2024-01-01T00:00:00Z", "u": "2024-01-01T01:00:00+01:00", "later": "2024-06-01T00:00:00Z"});
    assert!(matches(json!({"Variable": "$.b", "BooleanEquals": true}), i.clone()).await);
    assert!(
        !matches(
            json!({"Variable": "$.b", "BooleanEquals": false}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.b", "BooleanEqualsPath": "$.c"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampEquals": "2024-01-01T00:00:00Z"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampEqualsPath": "$.u"}),
            i.clone()
        )
        .await,
        "same instant, other offset"
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampLessThan": "2024-01-02T00:00:00Z"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.later", "TimestampGreaterThan": "2024-01-02T00:00:00Z"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampLessThanEquals": "2024-01-01T00:00:00Z"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampGreaterThanEquals": "2024-01-01T00:00:00Z"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampLessThanPath": "$.later"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.later", "TimestampGreaterThanPath": "$.t"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.t", "TimestampLessThanEqualsPath": "$.u"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.later"}),
            i.clone()
        )
        .await
    );
}

#[tokio::test]
async fn type_tests_and_presence() {
    let i = json!({"n": 1, "s": "x", "b": false, "z": null, "t": "2024-01-01T00:00:00Z"});
    assert!(matches(json!({"Variable": "$.n", "IsPresent": true}), i.clone()).await);
    assert!(
        matches(
            json!({"Variable": "$.missing", "IsPresent": false}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.missing", "IsPresent": true}),
            i.clone()
        )
        .await
    );
    assert!(matches(json!({"Variable": "$.z", "IsNull": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.n", "IsNull": false}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.n", "IsNumeric": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsNumeric": false}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsString": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.b", "IsBoolean": true}), i.clone()).await);
    assert!(!matches(json!({"Variable": "$.s", "IsBoolean": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.t", "IsTimestamp": true}), i.clone()).await);
    assert!(matches(json!({"Variable": "$.s", "IsTimestamp": false}), i.clone()).await);
}

#[tokio::test]
async fn string_matches_and_combinators() {
    let i = json!({"f": "invoice-2024-001.pdf", "star": "a*b", "n": 3});
    assert!(
        matches(
            json!({"Variable": "$.f", "StringMatches": "invoice-*.pdf"}),
            i.clone()
        )
        .await
    );
    assert!(
        !matches(
            json!({"Variable": "$.f", "StringMatches": "*.xml"}),
            i.clone()
        )
        .await
    );
    assert!(
        matches(
            json!({"Variable": "$.star", "StringMatches": "a\\*b"}),
            i.clone()
        )
        .await
    );
    assert!(matches(
        json!({"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.f", "IsString": true}]}),
        i.clone()
    )
    .await);
    assert!(!matches(
        json!({"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.f", "IsString": false}]}),
        i.clone()
    )
    .await);
    assert!(matches(
        json!({"Or": [{"Variable": "$.n", "NumericGreaterThan": 10}, {"Variable": "$.f", "IsString": true}]}),
        i.clone()
    )
    .await);
    assert!(
        matches(
            json!({"Not": {"Variable": "$.n", "NumericEquals": 4}}),
            i.clone()
        )
        .await
    );
    assert!(matches(
        json!({"Not": {"Or": [{"Variable": "$.x", "IsPresent": true}, {"Variable": "$.n", "NumericEquals": 4}]}}),
        i.clone()
    )
    .await);
}

#[tokio::test]
async fn first_match_wins_default_and_no_match() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.in", "OutputPath": "$.v", "Choices": [
            {"Variable": "$.v", "NumericGreaterThan": 0, "Next": "Pos"},
            {"Variable": "$.v", "NumericGreaterThan": -100, "Next": "Neg"}
        ]},
        "Pos": {"Type": "Pass", "Result": "pos", "End": true},
        "Neg": {"Type": "Pass", "Result": "neg", "End": true}
    }});
    assert_eq!(
        output(&run(def.clone(), json!({"in": {"v": 5}})).await),
        json!("pos")
    );
    assert_eq!(
        output(&run(def.clone(), json!({"in": {"v": -5}})).await),
        json!("neg")
    );
    let e = run(def.clone(), json!({"in": {"v": -500}})).await;
    assert_eq!(error(&e).0, "States.NoChoiceMatched");
    assert_eq!(
        &e.event_types()[1..],
        ["ChoiceStateEntered", "ExecutionFailed"]
    );
    // OutputPath on Choice passes through to next state
    let e = run(def, json!({"in": {"v": 5}})).await;
    let pos_entered = e
        .history
        .iter()
        .find(|x| x.event_type == "PassStateEntered")
        .unwrap();
    assert_eq!(pos_entered.details["input"], "5");
    assert!(e.event_types().contains(&"ChoiceStateExited"));
    // Missing variable -> States.Runtime
    let e = run(
        json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.nope", "StringEquals": "x", "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"}}}),
        json!({}),
    )
    .await;
    assert_eq!(error(&e).0, "States.Runtime");
}
