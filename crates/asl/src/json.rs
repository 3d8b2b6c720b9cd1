//! JSON helpers: numeric-aware equality (serde_json's `arbitrary_precision`
//! makes `1` and `1.0` textually different numbers) and number construction.

use serde_json::{Number, Value};

/// Numeric value of a JSON number as f64.
pub fn num_f64(n: &Number) -> Option<f64> {
    n.as_f64().or_else(|| n.to_string().parse::<f64>().ok())
}

/// Integer value of a JSON number if it is integral (accepts `2.0`).
pub fn num_i64(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = num_f64(n)?;
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Some(f as i64)
    } else {
        None
    }
}

/// Compares two numbers numerically.
pub fn num_cmp(a: &Number, b: &Number) -> Option<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    num_f64(a)?.partial_cmp(&num_f64(b)?)
}

/// Structural equality where numbers compare numerically.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(std::cmp::Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).map(|w| json_eq(v, w)).unwrap_or(false))
        }
        _ => a == b,
    }
}

/// A JSON number from an f64, written as an integer when integral.
pub fn number_from_f64(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Short type name for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_equality() {
        let a: Value = serde_json::from_str("1").unwrap();
        let b: Value = serde_json::from_str("1.0").unwrap();
        assert_ne!(a, b);
        assert!(json_eq(&a, &b));
        assert!(json_eq(
            &json!({"x": [a.clone()]}),
            &json!({"x": [b.clone()]})
        ));
        assert!(!json_eq(&json!(1), &json!(2)));
    }
}
