//! Choice rules: comparison operators, type tests, `StringMatches`, And/Or/Not.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::error::StatesError;
use crate::json::num_cmp;
use crate::path::Path;
use crate::template::Env;

/// Comparison kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// String* operators.
    String,
    /// Numeric* operators.
    Numeric,
    /// Boolean* operators.
    Boolean,
    /// Timestamp* operators.
    Timestamp,
}

/// Comparison relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    /// Equals.
    Eq,
    /// LessThan.
    Lt,
    /// GreaterThan.
    Gt,
    /// LessThanEquals.
    Le,
    /// GreaterThanEquals.
    Ge,
}

/// Right-hand side of a test.
#[derive(Debug, Clone)]
pub enum Operand {
    /// Literal value.
    Value(Value),
    /// `...Path` form.
    Path(Path),
}

/// A test on one variable.
#[derive(Debug, Clone)]
pub enum Test {
    /// Compare.
    Compare(Kind, Rel, Operand),
    /// `StringMatches` with `*` wildcards.
    Matches(String),
    /// `IsPresent`.
    IsPresent(bool),
    /// `IsNull`.
    IsNull(bool),
    /// `IsNumeric`.
    IsNumeric(bool),
    /// `IsString`.
    IsString(bool),
    /// `IsBoolean`.
    IsBoolean(bool),
    /// `IsTimestamp`.
    IsTimestamp(bool),
}

/// A boolean expression.
#[derive(Debug, Clone)]
pub enum Rule {
    /// All must hold.
    And(Vec<Rule>),
    /// Any must hold.
    Or(Vec<Rule>),
    /// Negation.
    Not(Box<Rule>),
    /// Variable test.
    Test {
        /// `Variable` path.
        variable: Path,
        /// The test.
        test: Test,
    },
}

const KINDS: &[(&str, Kind)] = &[
    ("String", Kind::String),
    ("Numeric", Kind::Numeric),
    ("Boolean", Kind::Boolean),
    ("Timestamp", Kind::Timestamp),
];
const RELS: &[(&str, Rel)] = &[
    ("LessThanEquals", Rel::Le),
    ("GreaterThanEquals", Rel::Ge),
    ("Equals", Rel::Eq),
    ("LessThan", Rel::Lt),
    ("GreaterThan", Rel::Gt),
];

/// Keys a rule object may have besides its operator.
const META: &[&str] = &["Variable", "Next", "Comment", "Assign"];

impl Rule {
    /// Parses a rule object; `top` allows `Next`.
    pub fn parse(v: &Value) -> Result<Rule, String> {
        let o = v.as_object().ok_or("a choice rule must be an object")?;
        let ops: Vec<&String> = o.keys().filter(|k| !META.contains(&k.as_str())).collect();
        if ops.len() != 1 {
            return Err(format!(
                "a choice rule needs exactly one operator, found {}",
                if ops.is_empty() {
                    "none".to_string()
                } else {
                    ops.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        }
        let op = ops[0].as_str();
        let arg = &o[op];
        match op {
            "And" | "Or" => {
                if o.contains_key("Variable") {
                    return Err(format!("{op} must not have a Variable"));
                }
                let arr = arg.as_array().ok_or(format!("{op} must be an array"))?;
                if arr.is_empty() {
                    return Err(format!("{op} must not be empty"));
                }
                let rules = arr.iter().map(Rule::parse).collect::<Result<Vec<_>, _>>()?;
                Ok(if op == "And" {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                })
            }
            "Not" => {
                if o.contains_key("Variable") {
                    return Err("Not must not have a Variable".into());
                }
                Ok(Rule::Not(Box::new(Rule::parse(arg)?)))
            }
            _ => {
                let var = o
                    .get("Variable")
                    .and_then(Value::as_str)
                    .ok_or(format!("rule with {op} needs a string Variable"))?;
                let variable = Path::parse(var)?;
                let test = parse_test(op, arg)?;
                Ok(Rule::Test { variable, test })
            }
        }
    }

    /// Evaluates against the (InputPath-filtered) state input.
    pub fn eval(&self, env: &Env<'_>) -> Result<bool, StatesError> {
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(env)?),
            Rule::Test { variable, test } => {
                let val = env.resolve_one(variable);
                if let Test::IsPresent(want) = test {
                    return Ok(val.is_some() == *want);
                }
                let val = val.ok_or_else(|| {
                    StatesError::runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        variable.as_str()
                    ))
                })?;
                test_value(test, &val, env)
            }
        }
    }
}

fn parse_test(op: &str, arg: &Value) -> Result<Test, String> {
    let flag = |t: fn(bool) -> Test| {
        arg.as_bool()
            .map(t)
            .ok_or(format!("{op} must be a boolean"))
    };
    match op {
        "IsPresent" => return flag(Test::IsPresent),
        "IsNull" => return flag(Test::IsNull),
        "IsNumeric" => return flag(Test::IsNumeric),
        "IsString" => return flag(Test::IsString),
        "IsBoolean" => return flag(Test::IsBoolean),
        "IsTimestamp" => return flag(Test::IsTimestamp),
        "StringMatches" => {
            return arg
                .as_str()
                .map(|s| Test::Matches(s.to_string()))
                .ok_or(format!("{op} must be a string"))
        }
        _ => {}
    }
    for (kn, kind) in KINDS {
        if let Some(rest) = op.strip_prefix(kn) {
            let (rest, is_path) = match rest.strip_suffix("Path") {
                Some(r) => (r, true),
                None => (rest, false),
            };
            let rel = RELS
                .iter()
                .find(|(n, _)| *n == rest)
                .map(|(_, r)| *r)
                .ok_or(format!("unknown choice operator '{op}'"))?;
            if *kind == Kind::Boolean && rel != Rel::Eq {
                return Err(format!("unknown choice operator '{op}'"));
            }
            let operand = if is_path {
                let s = arg.as_str().ok_or(format!("{op} must be a path string"))?;
                Operand::Path(Path::parse(s)?)
            } else {
                let ok = match kind {
                    Kind::String => arg.is_string(),
                    Kind::Numeric => arg.is_number(),
                    Kind::Boolean => arg.is_boolean(),
                    Kind::Timestamp => arg.as_str().map(|s| parse_ts(s).is_some()).unwrap_or(false),
                };
                if !ok {
                    return Err(format!("{op} has a value of the wrong type: {arg}"));
                }
                Operand::Value(arg.clone())
            };
            return Ok(Test::Compare(*kind, rel, operand));
        }
    }
    Err(format!("unknown choice operator '{op}'"))
}

/// Parses an RFC 3339 timestamp as the spec requires.
pub fn parse_ts(s: &str) -> Option<DateTime<FixedOffset>> {
    if !s.contains('T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

fn test_value(test: &Test, v: &Value, env: &Env<'_>) -> Result<bool, StatesError> {
    Ok(match test {
        Test::IsPresent(_) => true,
        Test::IsNull(w) => v.is_null() == *w,
        Test::IsNumeric(w) => v.is_number() == *w,
        Test::IsString(w) => v.is_string() == *w,
        Test::IsBoolean(w) => v.is_boolean() == *w,
        Test::IsTimestamp(w) => v.as_str().and_then(parse_ts).is_some() == *w,
        Test::Matches(p) => match v.as_str() {
            Some(s) => string_matches(s, p),
            None => false,
        },
        Test::Compare(kind, rel, operand) => {
            let rhs = match operand {
                Operand::Value(x) => x.clone(),
                Operand::Path(p) => env.resolve_one(p).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "Invalid path '{}': The choice state's condition path references an invalid value.",
                        p.as_str()
                    ))
                })?,
            };
            let ord = match (kind, v, &rhs) {
                (Kind::String, Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                (Kind::Numeric, Value::Number(a), Value::Number(b)) => num_cmp(a, b),
                (Kind::Boolean, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
                (Kind::Timestamp, Value::String(a), Value::String(b)) => {
                    match (parse_ts(a), parse_ts(b)) {
                        (Some(x), Some(y)) => Some(x.cmp(&y)),
                        _ => None,
                    }
                }
                _ => None,
            };
            match ord {
                None => false,
                Some(o) => match rel {
                    Rel::Eq => o == Ordering::Equal,
                    Rel::Lt => o == Ordering::Less,
                    Rel::Gt => o == Ordering::Greater,
                    Rel::Le => o != Ordering::Greater,
                    Rel::Ge => o != Ordering::Less,
                },
            }
        }
    })
}

#[derive(Debug, PartialEq)]
enum Tok {
    Char(char),
    Star,
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literals.
pub fn string_matches(s: &str, pattern: &str) -> bool {
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => toks.push(Tok::Char(n)),
                None => toks.push(Tok::Char('\\')),
            },
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Char(c)),
        }
    }
    let chars: Vec<char> = s.chars().collect();
    // Iterative wildcard matching with backtracking to the last star.
    let (mut si, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < chars.len() {
        match toks.get(pi) {
            Some(Tok::Char(c)) if *c == chars[si] => {
                si += 1;
                pi += 1;
            }
            Some(Tok::Star) => {
                star = Some((pi, si));
                pi += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    toks[pi..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches() {
        assert!(string_matches("log-2024.txt", "log-*.txt"));
        assert!(string_matches("abc", "*"));
        assert!(string_matches("", "*"));
        assert!(!string_matches("abc", "a*d"));
        assert!(string_matches("a*c", "a\\*c"));
        assert!(!string_matches("abc", "a\\*c"));
        assert!(string_matches("a\\b", "a\\\\b"));
        assert!(string_matches("aXbYc", "a*b*c"));
        assert!(!string_matches("aXbY", "a*b*c"));
    }
}
