//! Intrinsic functions (`States.Format(...)` and friends): a small parser that
//! runs at definition time, and an evaluator whose errors are
//! `States.IntrinsicFailure`.

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use sha2::Digest as _;

use crate::error::StatesError;
use crate::json::{json_eq, num_i64, type_name};
use crate::path::Path;
use crate::template::Env;

/// An argument of an intrinsic call.
#[derive(Debug, Clone)]
pub enum Arg {
    /// String literal; `raw` keeps the escapes (used by `States.Format`).
    Str {
        /// Unescaped value.
        value: String,
        /// Text between the quotes, escapes kept.
        raw: String,
    },
    /// Number literal.
    Num(Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `$...` or `$$...` path.
    Path(Path),
    /// Nested call.
    Call(Box<Intrinsic>),
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    /// Function name, e.g. `States.Format`.
    pub name: String,
    /// Arguments.
    pub args: Vec<Arg>,
}

/// (name, min args, max args)
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("States.Format", 1, usize::MAX),
    ("States.StringToJson", 1, 1),
    ("States.JsonToString", 1, 1),
    ("States.Array", 0, usize::MAX),
    ("States.ArrayPartition", 2, 2),
    ("States.ArrayContains", 2, 2),
    ("States.ArrayRange", 3, 3),
    ("States.ArrayGetItem", 2, 2),
    ("States.ArrayLength", 1, 1),
    ("States.ArrayUnique", 1, 1),
    ("States.Base64Encode", 1, 1),
    ("States.Base64Decode", 1, 1),
    ("States.Hash", 2, 2),
    ("States.JsonMerge", 3, 3),
    ("States.MathRandom", 2, 3),
    ("States.MathAdd", 2, 2),
    ("States.StringSplit", 2, 2),
    ("States.UUID", 0, 0),
];

/// True if a `.$` value looks like an intrinsic call rather than a path.
pub fn looks_like_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

impl Intrinsic {
    /// Parses `States.Name(args...)`.
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            src: text,
            i: 0,
        };
        p.ws();
        let call = p.call()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!(
                "unexpected trailing text at offset {} in '{}'",
                p.i, text
            ));
        }
        Ok(call)
    }

    /// Evaluates the call.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        let mut vals = Vec::with_capacity(self.args.len());
        for a in &self.args {
            vals.push(match a {
                Arg::Str { value, .. } => Value::String(value.clone()),
                Arg::Num(n) => Value::Number(n.clone()),
                Arg::Bool(b) => Value::Bool(*b),
                Arg::Null => Value::Null,
                Arg::Path(p) => env.resolve(p).ok_or_else(|| {
                    StatesError::intrinsic(format!(
                        "The JsonPath argument '{}' of {} could not be found",
                        p.as_str(),
                        self.name
                    ))
                })?,
                Arg::Call(c) => c.eval(env)?,
            });
        }
        call(self, vals)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn call(&mut self) -> Result<Intrinsic, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' {
                self.i += 1;
            } else {
                break;
            }
        }
        let name = self.src[start..self.i].to_string();
        let (_, min, max) = FUNCTIONS
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| format!("unknown intrinsic function '{name}'"))?;
        self.ws();
        if self.peek() != Some(b'(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(b')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected ',' or ')' in arguments of {name}")),
                }
            }
        }
        if args.len() < *min || args.len() > *max {
            return Err(format!(
                "{name} takes {} argument(s), got {}",
                if min == max {
                    min.to_string()
                } else if *max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                },
                args.len()
            ));
        }
        Ok(Intrinsic { name, args })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        match self.peek() {
            Some(b'\'') => {
                self.i += 1;
                let mut value = String::new();
                let start = self.i;
                loop {
                    let c = self
                        .src
                        .get(self.i..)
                        .and_then(|r| r.chars().next())
                        .ok_or("unterminated string literal")?;
                    match c {
                        '\\' => {
                            let n = self
                                .src
                                .get(self.i + 1..)
                                .and_then(|r| r.chars().next())
                                .ok_or("unterminated escape in string literal")?;
                            value.push(n);
                            self.i += 1 + n.len_utf8();
                        }
                        '\'' => {
                            let raw = self.src[start..self.i].to_string();
                            self.i += 1;
                            return Ok(Arg::Str { value, raw });
                        }
                        c => {
                            value.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
            }
            Some(b'$') => {
                let start = self.i;
                let (mut depth, mut quote) = (0i32, None::<u8>);
                while let Some(c) = self.peek() {
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else {
                        match c {
                            b'\'' | b'"' if depth > 0 => quote = Some(c),
                            b'[' | b'(' => depth += 1,
                            b']' => depth -= 1,
                            b')' if depth == 0 => break,
                            b')' => depth -= 1,
                            b',' if depth == 0 => break,
                            _ => {}
                        }
                    }
                    self.i += 1;
                }
                let text = self.src[start..self.i].trim_end();
                Ok(Arg::Path(Path::parse(text)?))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                let t = &self.src[start..self.i];
                let n: Number = serde_json::from_str(t).map_err(|_| format!("bad number '{t}'"))?;
                Ok(Arg::Num(n))
            }
            _ => {
                let rest = &self.src[self.i..];
                for (kw, v) in [
                    ("true", Arg::Bool(true)),
                    ("false", Arg::Bool(false)),
                    ("null", Arg::Null),
                ] {
                    if rest.starts_with(kw)
                        && !rest[kw.len()..]
                            .chars()
                            .next()
                            .map(|c| c.is_alphanumeric())
                            .unwrap_or(false)
                    {
                        self.i += kw.len();
                        return Ok(v);
                    }
                }
                if rest.starts_with("States.") {
                    return Ok(Arg::Call(Box::new(self.call()?)));
                }
                Err(format!(
                    "unexpected argument at offset {} in '{}'",
                    self.i, self.src
                ))
            }
        }
    }
}

fn fail(f: &Intrinsic, msg: impl std::fmt::Display) -> StatesError {
    StatesError::intrinsic(format!("Invalid arguments in {}: {}", f.name, msg))
}

fn as_int(f: &Intrinsic, v: &Value, what: &str) -> Result<i64, StatesError> {
    match v {
        Value::Number(n) => num_i64(n).ok_or_else(|| fail(f, format!("{what} must be an integer"))),
        other => Err(fail(
            f,
            format!("{what} must be an integer, got {}", type_name(other)),
        )),
    }
}

fn as_str<'v>(f: &Intrinsic, v: &'v Value, what: &str) -> Result<&'v str, StatesError> {
    v.as_str()
        .ok_or_else(|| fail(f, format!("{what} must be a string, got {}", type_name(v))))
}

fn as_arr<'v>(f: &Intrinsic, v: &'v Value, what: &str) -> Result<&'v Vec<Value>, StatesError> {
    v.as_array()
        .ok_or_else(|| fail(f, format!("{what} must be an array, got {}", type_name(v))))
}

/// Seeded generator (splitmix64) for `States.MathRandom` with a seed.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn call(f: &Intrinsic, v: Vec<Value>) -> Result<Value, StatesError> {
    match f.name.as_str() {
        "States.Format" => {
            let template = match f.args.first() {
                Some(Arg::Str { raw, .. }) => raw.clone(),
                _ => as_str(f, &v[0], "template")?.replace('\\', "\\\\"),
            };
            let mut out = String::new();
            let mut args = v[1..].iter();
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            out.push(n);
                        }
                    }
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        let a = args
                            .next()
                            .ok_or_else(|| fail(f, "more placeholders than arguments"))?;
                        match a {
                            Value::String(s) => out.push_str(s),
                            other => out.push_str(&other.to_string()),
                        }
                    }
                    c => out.push(c),
                }
            }
            if args.next().is_some() {
                return Err(fail(f, "more arguments than placeholders"));
            }
            Ok(Value::String(out))
        }
        "States.StringToJson" => {
            let s = as_str(f, &v[0], "argument")?;
            serde_json::from_str(s).map_err(|e| fail(f, format!("not valid JSON: {e}")))
        }
        "States.JsonToString" => Ok(Value::String(v[0].to_string())),
        "States.Array" => Ok(Value::Array(v)),
        "States.ArrayPartition" => {
            let arr = as_arr(f, &v[0], "first argument")?;
            let size = as_int(f, &v[1], "chunk size")?;
            if size <= 0 {
                return Err(fail(f, "chunk size must be positive"));
            }
            Ok(Value::Array(
                arr.chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        "States.ArrayContains" => {
            let arr = as_arr(f, &v[0], "first argument")?;
            Ok(Value::Bool(arr.iter().any(|x| json_eq(x, &v[1]))))
        }
        "States.ArrayRange" => {
            let (a, b, step) = (
                as_int(f, &v[0], "start")?,
                as_int(f, &v[1], "end")?,
                as_int(f, &v[2], "step")?,
            );
            if step == 0 {
                return Err(fail(f, "step must not be 0"));
            }
            let mut out = Vec::new();
            let mut x = a;
            while (step > 0 && x <= b) || (step < 0 && x >= b) {
                out.push(Value::from(x));
                if out.len() > 1000 {
                    return Err(fail(f, "the range has more than 1000 items"));
                }
                x += step;
            }
            Ok(Value::Array(out))
        }
        "States.ArrayGetItem" => {
            let arr = as_arr(f, &v[0], "first argument")?;
            let i = as_int(f, &v[1], "index")?;
            if i < 0 {
                return Err(fail(f, "index must not be negative"));
            }
            arr.get(i as usize)
                .cloned()
                .ok_or_else(|| fail(f, format!("index {i} out of bounds (length {})", arr.len())))
        }
        "States.ArrayLength" => Ok(Value::from(as_arr(f, &v[0], "argument")?.len())),
        "States.ArrayUnique" => {
            let arr = as_arr(f, &v[0], "argument")?;
            let mut out: Vec<Value> = Vec::new();
            for x in arr {
                if !out.iter().any(|y| json_eq(x, y)) {
                    out.push(x.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "States.Base64Encode" => {
            let s = as_str(f, &v[0], "argument")?;
            if s.len() > 10_000 {
                return Err(fail(f, "input longer than 10000 characters"));
            }
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            ))
        }
        "States.Base64Decode" => {
            let s = as_str(f, &v[0], "argument")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|e| fail(f, format!("not valid base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail(f, "decoded data is not UTF-8"))
        }
        "States.Hash" => {
            let data = match &v[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let algo = as_str(f, &v[1], "algorithm")?;
            let d = data.as_bytes();
            let h = match algo {
                "MD5" => hex::encode(md5::Md5::digest(d)),
                "SHA-1" => hex::encode(sha1::Sha1::digest(d)),
                "SHA-256" => hex::encode(sha2::Sha256::digest(d)),
                "SHA-384" => hex::encode(sha2::Sha384::digest(d)),
                "SHA-512" => hex::encode(sha2::Sha512::digest(d)),
                other => {
                    return Err(fail(
                        f,
                        format!("unsupported hash algorithm '{other}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
                    ))
                }
            };
            Ok(Value::String(h))
        }
        "States.JsonMerge" => {
            let a = v[0]
                .as_object()
                .ok_or_else(|| fail(f, "first argument must be an object"))?;
            let b = v[1]
                .as_object()
                .ok_or_else(|| fail(f, "second argument must be an object"))?;
            let deep = v[2]
                .as_bool()
                .ok_or_else(|| fail(f, "third argument must be a boolean"))?;
            let mut out = a.clone();
            if deep {
                deep_merge(&mut out, b);
            } else {
                for (k, x) in b {
                    out.insert(k.clone(), x.clone());
                }
            }
            Ok(Value::Object(out))
        }
        "States.MathRandom" => {
            let lo = as_int(f, &v[0], "start")?;
            let hi = as_int(f, &v[1], "end")?;
            if hi <= lo {
                return Err(fail(f, "end must be greater than start"));
            }
            let r = match v.get(2) {
                Some(s) => splitmix(as_int(f, s, "seed")? as u64),
                None => {
                    let u = uuid::Uuid::new_v4();
                    let b = u.as_bytes();
                    let mut x = [0u8; 8];
                    x.copy_from_slice(&b[..8]);
                    u64::from_le_bytes(x)
                }
            };
            let span = (hi - lo) as u64;
            Ok(Value::from(lo + (r % span) as i64))
        }
        "States.MathAdd" => match (&v[0], &v[1]) {
            (Value::Number(a), Value::Number(b)) => match (num_i64(a), num_i64(b)) {
                (Some(x), Some(y)) => x
                    .checked_add(y)
                    .map(Value::from)
                    .ok_or_else(|| fail(f, "integer overflow")),
                _ => Err(fail(f, "arguments must be integers")),
            },
            _ => Err(fail(f, "arguments must be numbers")),
        },
        "States.StringSplit" => {
            let s = as_str(f, &v[0], "first argument")?;
            let d = as_str(f, &v[1], "delimiter")?;
            let parts: Vec<Value> = if d.is_empty() {
                vec![Value::String(s.to_string())]
            } else {
                s.split(|c| d.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect()
            };
            Ok(Value::Array(parts))
        }
        "States.UUID" => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
        other => Err(StatesError::intrinsic(format!(
            "unknown intrinsic function '{other}'"
        ))),
    }
}

fn deep_merge(a: &mut Map<String, Value>, b: &Map<String, Value>) {
    for (k, x) in b {
        match (a.get_mut(k), x) {
            (Some(Value::Object(ao)), Value::Object(bo)) => deep_merge(ao, bo),
            _ => {
                a.insert(k.clone(), x.clone());
            }
        }
    }
}
