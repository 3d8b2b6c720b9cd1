//! JSONPath handling, precompiled at definition time.
//!
//! Simple paths (`$`, `$.a.b`, `$['a'][0]`) are evaluated by a fast walker;
//! everything else (wildcards, filters, slices, recursive descent) goes
//! through `serde_json_path`. Reference paths (for `ResultPath`) must be simple.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::error::StatesError;

/// One step of a simple path.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Object member.
    Key(String),
    /// Array element.
    Index(usize),
}

#[derive(Debug, Clone)]
enum Kind {
    Simple(Vec<Segment>),
    Query(Box<JsonPath>),
}

/// A compiled path, either over the state's data (`$...`) or the context object (`$$...`).
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    context: bool,
    kind: Kind,
}

impl Path {
    /// Compiles a path. `$$` prefixes make it a context-object path.
    pub fn parse(text: &str) -> Result<Path, String> {
        let (context, rest) = if let Some(r) = text.strip_prefix("$$") {
            (true, format!("${r}"))
        } else if text.starts_with('$') {
            (false, text.to_string())
        } else {
            return Err(format!("path '{text}' must start with '$'"));
        };
        let kind = match parse_simple(&rest) {
            Some(segs) => Kind::Simple(segs),
            None => match JsonPath::parse(&rest) {
                Ok(p) => Kind::Query(Box::new(p)),
                Err(e) => return Err(format!("invalid JSONPath '{text}': {e}")),
            },
        };
        Ok(Path {
            text: text.to_string(),
            context,
            kind,
        })
    }

    /// `$`.
    pub fn root() -> Path {
        Path {
            text: "$".into(),
            context: false,
            kind: Kind::Simple(Vec::new()),
        }
    }

    /// Compiles a reference path (no wildcards or filters), as `ResultPath` requires.
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        let p = Path::parse(text)?;
        if p.context {
            return Err(format!(
                "reference path '{text}' cannot use the context object"
            ));
        }
        match p.kind {
            Kind::Simple(_) => Ok(p),
            Kind::Query(_) => Err(format!(
                "'{text}' is not a reference path (no wildcards, filters or slices allowed)"
            )),
        }
    }

    /// The source text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for `$$...` paths.
    pub fn is_context(&self) -> bool {
        self.context
    }

    /// True for `$` alone.
    pub fn is_root(&self) -> bool {
        matches!(&self.kind, Kind::Simple(s) if s.is_empty()) && !self.context
    }

    /// Segments of a simple path.
    pub fn segments(&self) -> Option<&[Segment]> {
        match &self.kind {
            Kind::Simple(s) => Some(s),
            Kind::Query(_) => None,
        }
    }

    /// Walks simple segments from `doc`.
    pub fn walk_segments<'a>(doc: &'a Value, segs: &[Segment]) -> Option<&'a Value> {
        walk(doc, segs)
    }

    /// Evaluates the path. A simple path yields its value or `None` when absent;
    /// a query path yields an array of all matches (possibly empty -> `None`
    /// only if the path is singular and matched nothing).
    pub fn select(&self, doc: &Value) -> Option<Value> {
        match &self.kind {
            Kind::Simple(segs) => walk(doc, segs).cloned(),
            Kind::Query(q) => {
                let nodes = q.query(doc);
                Some(Value::Array(nodes.all().into_iter().cloned().collect()))
            }
        }
    }

    /// Borrowing evaluation for simple paths (falls back to `None` for queries).
    pub fn select_ref<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        match &self.kind {
            Kind::Simple(segs) => walk(doc, segs),
            Kind::Query(_) => None,
        }
    }

    /// Whether a simple path resolves, or a query path matches at least one node.
    pub fn is_present(&self, doc: &Value) -> bool {
        match &self.kind {
            Kind::Simple(segs) => walk(doc, segs).is_some(),
            Kind::Query(q) => !q.query(doc).is_empty(),
        }
    }

    /// Evaluates for a single value (Choice variables, SecondsPath, ...):
    /// a query path must match exactly one node.
    pub fn select_one(&self, doc: &Value) -> Option<Value> {
        match &self.kind {
            Kind::Simple(segs) => walk(doc, segs).cloned(),
            Kind::Query(q) => q.query(doc).exactly_one().ok().cloned(),
        }
    }

    /// `InputPath`/`OutputPath` semantics: missing path is `States.Runtime`.
    pub fn select_required(&self, doc: &Value, field: &str) -> Result<Value, StatesError> {
        self.select(doc).ok_or_else(|| {
            StatesError::runtime(format!(
                "Invalid path '{}' : The {} path references an invalid value.",
                self.text, field
            ))
        })
    }

    /// Writes `value` at this reference path inside `doc`, creating objects as needed.
    pub fn insert(&self, doc: &mut Value, value: Value) -> Result<(), StatesError> {
        let segs = match &self.kind {
            Kind::Simple(s) => s,
            Kind::Query(_) => {
                return Err(StatesError::result_path(format!(
                    "'{}' is not a reference path",
                    self.text
                )))
            }
        };
        if segs.is_empty() {
            *doc = value;
            return Ok(());
        }
        let mut cur = doc;
        let fail = |why: &str| {
            StatesError::result_path(format!(
                "Unable to apply ResultPath \"{}\" to input: {}",
                self.text, why
            ))
        };
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            match seg {
                Segment::Key(k) => {
                    if cur.is_null() {
                        *cur = Value::Object(Map::new());
                    }
                    let obj = match cur {
                        Value::Object(o) => o,
                        other => {
                            return Err(fail(&format!(
                                "cannot set field '{k}' on a {}",
                                crate::json::type_name(other)
                            )))
                        }
                    };
                    if last {
                        obj.insert(k.clone(), value);
                        return Ok(());
                    }
                    cur = obj.entry(k.clone()).or_insert(Value::Null);
                }
                Segment::Index(ix) => {
                    let arr = match cur {
                        Value::Array(a) => a,
                        other => {
                            return Err(fail(&format!(
                                "cannot index a {}",
                                crate::json::type_name(other)
                            )))
                        }
                    };
                    let len = arr.len();
                    let slot = arr
                        .get_mut(*ix)
                        .ok_or_else(|| fail(&format!("index {ix} out of bounds ({len})")))?;
                    if last {
                        *slot = value;
                        return Ok(());
                    }
                    cur = slot;
                }
            }
        }
        Ok(())
    }
}

fn walk<'a>(doc: &'a Value, segs: &[Segment]) -> Option<&'a Value> {
    let mut cur = doc;
    for s in segs {
        cur = match (s, cur) {
            (Segment::Key(k), Value::Object(o)) => o.get(k)?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Parses `$`, `.name`, `['name']`, `["name"]` and `[n]` segments; `None` if not simple.
fn parse_simple(text: &str) -> Option<Vec<Segment>> {
    let b = text.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut segs = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len()
                    && !matches!(
                        b[j],
                        b'.' | b'[' | b']' | b'*' | b'@' | b'?' | b' ' | b'(' | b')' | b'\'' | b'"'
                    )
                {
                    j += 1;
                }
                if j == start {
                    return None; // `..` recursive descent or `.*`
                }
                segs.push(Segment::Key(text[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let rest = &text[i + 1..];
                if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') {
                    let body = &rest[1..];
                    let end = body.find(q)?;
                    let name = &body[..end];
                    if name.contains('\\') {
                        return None;
                    }
                    let after = &body[end + 1..];
                    if !after.starts_with(']') {
                        return None;
                    }
                    segs.push(Segment::Key(name.to_string()));
                    i += 1 + 1 + end + 1 + 1;
                } else {
                    let end = rest.find(']')?;
                    let n: usize = rest[..end].trim().parse().ok()?;
                    segs.push(Segment::Index(n));
                    i += 1 + end + 1;
                }
            }
            _ => return None,
        }
    }
    Some(segs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn simple_paths() {
        let d = json!({"a": {"b": [1, {"c": "x"}]}, "my-key": 3});
        assert_eq!(
            Path::parse("$.a.b[1].c").unwrap().select(&d),
            Some(json!("x"))
        );
        assert_eq!(
            Path::parse("$['a']['b'][0]").unwrap().select(&d),
            Some(json!(1))
        );
        assert_eq!(Path::parse("$.my-key").unwrap().select(&d), Some(json!(3)));
        assert_eq!(Path::parse("$").unwrap().select(&d), Some(d.clone()));
        assert_eq!(Path::parse("$.zz").unwrap().select(&d), None);
        assert!(Path::parse("$$.Execution.Id").unwrap().is_context());
    }

    #[test]
    fn query_paths() {
        let d = json!({"items": [{"p": 1}, {"p": 5}, {"p": 9}]});
        let p = Path::parse("$.items[?(@.p > 2)].p").unwrap();
        assert_eq!(p.select(&d), Some(json!([5, 9])));
        assert_eq!(
            Path::parse("$.items[*].p").unwrap().select(&d),
            Some(json!([1, 5, 9]))
        );
        assert!(Path::parse("$.items[").is_err());
        assert!(Path::parse_reference("$.items[*]").is_err());
        assert!(Path::parse("nope").is_err());
    }

    #[test]
    fn insert_creates_nested() {
        let mut d = json!({"a": 1});
        Path::parse_reference("$.x.y.z")
            .unwrap()
            .insert(&mut d, json!(2))
            .unwrap();
        assert_eq!(d, json!({"a": 1, "x": {"y": {"z": 2}}}));
        let mut s = json!("str");
        let e = Path::parse_reference("$.x")
            .unwrap()
            .insert(&mut s, json!(1))
            .unwrap_err();
        assert_eq!(e.error, "States.ResultPathMatchFailure");
    }
}
