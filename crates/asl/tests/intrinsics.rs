mod common;

use common::*;
use serde_json::{json, Value};

async fn eval(expr: &str, input: Value) -> Result<Value, (String, String)> {
    let e = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": expr}, "OutputPath": "$.r", "End": true}}}),
        input,
    )
    .await;
    match e.output() {
        Some(v) => Ok(v.clone()),
        None => Err(error(&e)),
    }
}

async fn ok(expr: &str, input: Value) -> Value {
    eval(expr, input)
        .await
        .unwrap_or_else(|e| panic!("{expr}: {e:?}"))
}

async fn fails(expr: &str, input: Value) {
    let e = eval(expr, input).await.expect_err(expr);
    assert_eq!(e.0, "States.IntrinsicFailure", "{expr}: {e:?}");
}

#[tokio::test]
async fn format() {
    assert_eq!(
        ok(
            "States.Format('Hello, {}! You are {} ({})', $.name, $.age, $.ok)",
            json!({"name": "Ann", "age": 30, "ok": true})
        )
        .await,
        json!("Hello, Ann! You are 30 (true)")
    );
    assert_eq!(
        ok(
            "States.Format('esc \\{\\} and \\' quote {}', 'x')",
            json!({})
        )
        .await,
        json!("esc {} and ' quote x")
    );
    assert_eq!(
        ok("States.Format('obj {}', $.o)", json!({"o": {"a": 1}})).await,
        json!("obj {\"a\":1}")
    );
    fails("States.Format('{} {}', 'one')", json!({})).await;
    fails("States.Format('{}', 'a', 'b')", json!({})).await;
}

#[tokio::test]
async fn json_string_conversions() {
    assert_eq!(
        ok("States.StringToJson($.s)", json!({"s": "{\"a\":[1,2]}"})).await,
        json!({"a": [1, 2]})
    );
    fails("States.StringToJson($.s)", json!({"s": "{nope"})).await;
    assert_eq!(
        ok("States.JsonToString($.o)", json!({"o": {"a": 1}})).await,
        json!("{\"a\":1}")
    );
}

#[tokio::test]
async fn arrays() {
    assert_eq!(
        ok(
            "States.Array('a', 1, $.x, true, null)",
            json!({"x": {"k": 2}})
        )
        .await,
        json!(["a", 1, {"k": 2}, true, null])
    );
    assert_eq!(
        ok(
            "States.ArrayPartition($.a, 2)",
            json!({"a": [1, 2, 3, 4, 5]})
        )
        .await,
        json!([[1, 2], [3, 4], [5]])
    );
    fails("States.ArrayPartition($.a, 0)", json!({"a": [1]})).await;
    assert_eq!(
        ok("States.ArrayContains($.a, 2)", json!({"a": [1, 2.0, 3]})).await,
        json!(true)
    );
    assert_eq!(
        ok("States.ArrayContains($.a, 'x')", json!({"a": [1, 2]})).await,
        json!(false)
    );
    assert_eq!(
        ok("States.ArrayRange(1, 9, 2)", json!({})).await,
        json!([1, 3, 5, 7, 9])
    );
    assert_eq!(
        ok("States.ArrayRange(5, 1, -2)", json!({})).await,
        json!([5, 3, 1])
    );
    fails("States.ArrayRange(1, 2000, 1)", json!({})).await;
    fails("States.ArrayRange(1, 3, 0)", json!({})).await;
    assert_eq!(
        ok("States.ArrayGetItem($.a, 1)", json!({"a": ["x", "y"]})).await,
        json!("y")
    );
    fails("States.ArrayGetItem($.a, 5)", json!({"a": ["x"]})).await;
    assert_eq!(
        ok("States.ArrayLength($.a)", json!({"a": [1, 2, 3]})).await,
        json!(3)
    );
    fails("States.ArrayLength($.a)", json!({"a": "str"})).await;
    assert_eq!(
        ok(
            "States.ArrayUnique($.a)",
            json!({"a": [1, 2, 2, 1.0, "1", {"x": 1}, {"x": 1}]})
        )
        .await,
        json!([1, 2, "1", {"x": 1}])
    );
}

#[tokio::test]
async fn base64_and_hash() {
    assert_eq!(
        ok("States.Base64Encode('Data to encode')", json!({})).await,
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({})).await,
        json!("Data to encode")
    );
    fails("States.Base64Decode('!!!')", json!({})).await;
    assert_eq!(
        ok("States.Hash('abc', 'MD5')", json!({})).await,
        json!("900150983cd24fb0d6963f7d28e17f72")
    );
    assert_eq!(
        ok("States.Hash('abc', 'SHA-1')", json!({})).await,
        json!("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        ok("States.Hash('abc', 'SHA-256')", json!({})).await,
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        ok("States.Hash('abc', 'SHA-384')", json!({})).await,
        json!("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
    );
    assert_eq!(
        ok("States.Hash($.d, $.alg)", json!({"d": "abc", "alg": "SHA-512"})).await,
        json!("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    );
    fails("States.Hash('abc', 'CRC32')", json!({})).await;
}

#[tokio::test]
async fn merge_math_split_uuid() {
    assert_eq!(
        ok(
            "States.JsonMerge($.a, $.b, false)",
            json!({"a": {"x": 1, "n": {"p": 1}}, "b": {"y": 2, "n": {"q": 2}}})
        )
        .await,
        json!({"x": 1, "n": {"q": 2}, "y": 2})
    );
    assert_eq!(
        ok(
            "States.JsonMerge($.a, $.b, true)",
            json!({"a": {"n": {"p": 1}}, "b": {"n": {"q": 2}}})
        )
        .await,
        json!({"n": {"p": 1, "q": 2}})
    );
    fails("States.JsonMerge($.a, 'x', false)", json!({"a": {}})).await;
    for _ in 0..5 {
        let r = ok("States.MathRandom(1, 10)", json!({}))
            .await
            .as_i64()
            .unwrap();
        assert!((1..10).contains(&r), "{r}");
    }
    let a = ok("States.MathRandom(0, 1000, 42)", json!({})).await;
    let b = ok("States.MathRandom(0, 1000, 42)", json!({})).await;
    assert_eq!(a, b, "seeded random is deterministic");
    fails("States.MathRandom(5, 5)", json!({})).await;
    assert_eq!(ok("States.MathAdd(111, -1)", json!({})).await, json!(110));
    assert_eq!(
        ok("States.MathAdd($.v, 1)", json!({"v": 41})).await,
        json!(42)
    );
    fails("States.MathAdd('a', 1)", json!({})).await;
    assert_eq!(
        ok("States.StringSplit('1,2,3', ',')", json!({})).await,
        json!(["1", "2", "3"])
    );
    assert_eq!(
        ok(
            "States.StringSplit('This.is+a,test=string', '.+,=')",
            json!({})
        )
        .await,
        json!(["This", "is", "a", "test", "string"])
    );
    let u = ok("States.UUID()", json!({})).await;
    let s = u.as_str().unwrap();
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
}

#[tokio::test]
async fn nested_calls_and_context() {
    assert_eq!(
        ok("States.Format('{} items: {}', States.ArrayLength($.a), States.JsonToString(States.ArrayPartition($.a, 2)))", json!({"a": [1, 2, 3]})).await,
        json!("3 items: [[1,2],[3]]")
    );
    assert_eq!(
        ok("States.Format('exec={}', $$.Execution.Name)", json!({})).await,
        json!("exec=exec-1")
    );
    // filter path with commas and parens inside an argument
    assert_eq!(
        ok(
            "States.ArrayLength($.items[?(@.p > 1)])",
            json!({"items": [{"p": 1}, {"p": 2}, {"p": 3}]})
        )
        .await,
        json!(2)
    );
    // missing path argument
    fails("States.ArrayLength($.nope)", json!({})).await;
}

#[test]
fn parse_errors_are_definition_errors() {
    use std::collections::HashMap;
    for bad in [
        "States.Nope(1)",
        "States.Format('x'",
        "States.ArrayLength()",
        "States.UUID(1)",
        "States.Format('unterminated)",
        "States.MathAdd(1, 2) trailing",
    ] {
        let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": bad}, "End": true}}});
        let err = p2p_asl::StateMachine::from_value(def, &HashMap::new()).expect_err(bad);
        assert!(err.to_string().contains("'P'"), "{err}");
    }
}
