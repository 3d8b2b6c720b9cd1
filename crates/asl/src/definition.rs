//! Parsing and checking state machine definitions.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::choice::{parse_ts, Rule};
use crate::error::{names, DefinitionError, Problem};
use crate::path::Path;
use crate::retry::{Catcher, Jitter, Retrier};
use crate::template::{Dynamic, Template};

/// `InputPath` / `OutputPath` / `ResultPath` selection.
#[derive(Debug, Clone)]
pub enum Sel {
    /// Absent or `$`.
    All,
    /// `null`.
    Null,
    /// Any other path.
    Path(Path),
}

/// Where a state goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// `Next`.
    Next(String),
    /// `End: true` (or a terminal state type).
    End,
}

/// A number given literally or through a `...Path` field.
#[derive(Debug, Clone)]
pub enum NumSpec {
    /// Literal.
    Value(f64),
    /// Path into the state input.
    Path(Path),
}

/// How a Wait state waits.
#[derive(Debug, Clone)]
pub enum WaitSpec {
    /// `Seconds`.
    Seconds(u64),
    /// `SecondsPath`.
    SecondsPath(Path),
    /// `Timestamp`.
    Timestamp(String),
    /// `TimestampPath`.
    TimestampPath(Path),
}

/// `Error`/`Cause` of a Fail state.
#[derive(Debug, Clone)]
pub enum FailField {
    /// Literal text.
    Text(String),
    /// `ErrorPath` / `CausePath` (path or intrinsic).
    Dyn(Dynamic),
}

/// Fields shared by Task, Parallel and Map.
#[derive(Debug, Clone, Default)]
pub struct Recovery {
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// A state's type-specific part.
#[derive(Debug, Clone)]
pub enum Kind {
    /// Pass.
    Pass {
        /// `Result`.
        result: Option<Value>,
    },
    /// Task.
    Task {
        /// `Resource`.
        resource: String,
        /// `TimeoutSeconds`/`TimeoutSecondsPath`.
        timeout: Option<NumSpec>,
        /// `HeartbeatSeconds`/`HeartbeatSecondsPath`.
        heartbeat: Option<NumSpec>,
    },
    /// Choice.
    Choice {
        /// Rules and their `Next`.
        choices: Vec<(Rule, String)>,
        /// `Default`.
        default: Option<String>,
    },
    /// Wait.
    Wait(WaitSpec),
    /// Succeed.
    Succeed,
    /// Fail.
    Fail {
        /// Error name.
        error: Option<FailField>,
        /// Cause.
        cause: Option<FailField>,
    },
    /// Parallel.
    Parallel {
        /// `Branches`.
        branches: Vec<Arc<Graph>>,
    },
    /// Map (inline).
    Map {
        /// `ItemsPath`.
        items_path: Option<Path>,
        /// `ItemSelector` (or legacy `Parameters`).
        item_selector: Option<Template>,
        /// `ItemProcessor` (or legacy `Iterator`).
        processor: Arc<Graph>,
        /// `MaxConcurrency(Path)`.
        max_concurrency: Option<NumSpec>,
        /// `ToleratedFailureCount(Path)`.
        tolerated_count: Option<NumSpec>,
        /// `ToleratedFailurePercentage(Path)`.
        tolerated_percentage: Option<NumSpec>,
    },
}

/// One state.
#[derive(Debug, Clone)]
pub struct State {
    /// Name.
    pub name: String,
    /// `Type` as written.
    pub type_name: &'static str,
    /// `InputPath`.
    pub input_path: Sel,
    /// `OutputPath`.
    pub output_path: Sel,
    /// `Parameters` (Pass, Task, Parallel).
    pub parameters: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: Sel,
    /// Next/End.
    pub transition: Transition,
    /// Retry/Catch.
    pub recovery: Recovery,
    /// Type-specific.
    pub kind: Kind,
}

/// A set of states with a start: the top level, a Parallel branch or a Map processor.
#[derive(Debug, Clone)]
pub struct Graph {
    /// `StartAt`.
    pub start_at: String,
    /// States by name.
    pub states: HashMap<String, State>,
}

/// A parsed, checked state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) name: String,
    pub(crate) definition: Value,
    pub(crate) root: Arc<Graph>,
    pub(crate) comment: Option<String>,
}

impl StateMachine {
    /// Parses and checks a definition after applying `${Name}` substitutions
    /// (DefinitionSubstitutions) to every string in it.
    pub fn from_json(
        text: &str,
        substitutions: &HashMap<String, String>,
    ) -> Result<StateMachine, DefinitionError> {
        let v: Value = serde_json::from_str(text)?;
        Self::from_value(v, substitutions)
    }

    /// Like [`StateMachine::from_json`] from an already-parsed value.
    pub fn from_value(
        mut v: Value,
        substitutions: &HashMap<String, String>,
    ) -> Result<StateMachine, DefinitionError> {
        if !substitutions.is_empty() {
            substitute(&mut v, substitutions);
        }
        let mut cx = Cx {
            problems: Vec::new(),
        };
        let root = match v.as_object() {
            Some(o) => {
                for k in o.keys() {
                    if ![
                        "StartAt",
                        "States",
                        "Comment",
                        "Version",
                        "TimeoutSeconds",
                        "QueryLanguage",
                    ]
                    .contains(&k.as_str())
                    {
                        cx.problem("", None, format!("unknown top-level field '{k}'"));
                    }
                }
                if let Some(q) = o.get("QueryLanguage") {
                    if q != "JSONPath" {
                        cx.problem(
                            "QueryLanguage",
                            None,
                            format!("only the JSONPath query language is supported, not {q}"),
                        );
                    }
                }
                cx.graph(o, "")
            }
            None => {
                cx.problem("", None, "the definition must be a JSON object".into());
                None
            }
        };
        match root {
            Some(root) if cx.problems.is_empty() => Ok(StateMachine {
                name: "StateMachine".into(),
                comment: v.get("Comment").and_then(Value::as_str).map(str::to_string),
                definition: v,
                root: Arc::new(root),
            }),
            _ => Err(DefinitionError::Invalid(cx.problems)),
        }
    }

    /// Sets the state machine name (used in ARNs, `$$.StateMachine.Name` and mock configs).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The state machine name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The definition (after substitutions) as JSON.
    pub fn definition(&self) -> &Value {
        &self.definition
    }

    /// `Comment`.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// Every Task `Resource` in the machine, including branches and processors.
    pub fn resources(&self) -> Vec<String> {
        fn walk(g: &Graph, out: &mut Vec<String>) {
            let mut names: Vec<&String> = g.states.keys().collect();
            names.sort();
            for n in names {
                if let Some(s) = g.states.get(n) {
                    match &s.kind {
                        Kind::Task { resource, .. } if !out.contains(resource) => {
                            out.push(resource.clone())
                        }
                        Kind::Parallel { branches } => branches.iter().for_each(|b| walk(b, out)),
                        Kind::Map { processor, .. } => walk(processor, out),
                        _ => {}
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// The top-level graph.
    pub fn graph(&self) -> &Graph {
        &self.root
    }
}

/// Replaces `${Name}` in every string of `v` with the substitution, leaving unknown ones.
pub fn substitute(v: &mut Value, subs: &HashMap<String, String>) {
    match v {
        Value::String(s) if s.contains("${") => {
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                out.push_str(&rest[..i]);
                match rest[i + 2..].find('}') {
                    Some(j) => {
                        let key = &rest[i + 2..i + 2 + j];
                        match subs.get(key) {
                            Some(val) => out.push_str(val),
                            None => out.push_str(&rest[i..i + 3 + j]),
                        }
                        rest = &rest[i + 3 + j..];
                    }
                    None => {
                        out.push_str(&rest[i..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, subs)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, subs)),
        _ => {}
    }
}

struct Cx {
    problems: Vec<Problem>,
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed(t: &str) -> &'static [&'static str] {
    match t {
        "Pass" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "Result",
            "ResultPath",
        ],
        "Task" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        ],
        "Choice" => &["Choices", "Default", "InputPath", "OutputPath"],
        "Wait" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
        ],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "Branches",
        ],
        "Map" => &[
            "Next",
            "End",
            "InputPath",
            "OutputPath",
            "ItemsPath",
            "ItemSelector",
            "Parameters",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "Label",
        ],
        _ => &[],
    }
}

fn static_type(t: &str) -> &'static str {
    match t {
        "Pass" => "Pass",
        "Task" => "Task",
        "Choice" => "Choice",
        "Wait" => "Wait",
        "Succeed" => "Succeed",
        "Fail" => "Fail",
        "Parallel" => "Parallel",
        _ => "Map",
    }
}

impl Cx {
    fn problem(&mut self, loc: &str, state: Option<&str>, message: String) {
        self.problems.push(Problem {
            location: if loc.is_empty() {
                "(root)".into()
            } else {
                loc.to_string()
            },
            state: state.map(str::to_string),
            message,
        });
    }

    fn graph(&mut self, o: &Map<String, Value>, prefix: &str) -> Option<Graph> {
        let loc = |f: &str| {
            if prefix.is_empty() {
                f.to_string()
            } else {
                format!("{prefix}.{f}")
            }
        };
        let start_at = match o.get("StartAt") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.problem(&loc("StartAt"), None, "StartAt must be a string".into());
                None
            }
            None => {
                self.problem(&loc("StartAt"), None, "missing StartAt".into());
                None
            }
        };
        let states_obj = match o.get("States") {
            Some(Value::Object(s)) if !s.is_empty() => s,
            Some(Value::Object(_)) => {
                self.problem(&loc("States"), None, "States must not be empty".into());
                return None;
            }
            _ => {
                self.problem(&loc("States"), None, "missing States object".into());
                return None;
            }
        };
        let mut states = HashMap::with_capacity(states_obj.len());
        for (name, sv) in states_obj {
            let sloc = loc(&format!("States.{name}"));
            if name.is_empty() || name.chars().count() > 80 {
                self.problem(
                    &sloc,
                    Some(name),
                    "state names must be 1 to 80 characters".into(),
                );
            }
            if let Some(st) = self.state(name, sv, &sloc) {
                states.insert(name.clone(), st);
            }
        }
        let start_at = start_at?;
        if !states_obj.contains_key(&start_at) {
            self.problem(
                &loc("StartAt"),
                None,
                format!("StartAt '{start_at}' is not a state in States"),
            );
            return None;
        }
        // Transitions must target existing states.
        let mut names: Vec<&String> = states.keys().collect();
        names.sort();
        for name in &names {
            let Some(s) = states.get(*name) else { continue };
            for t in targets(s) {
                if !states_obj.contains_key(t) {
                    self.problem(
                        &loc(&format!("States.{name}")),
                        Some(name),
                        format!("transition to '{t}', which is not a state in this scope"),
                    );
                }
            }
        }
        // Reachability.
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start_at.clone()]);
        while let Some(n) = queue.pop_front() {
            if !seen.insert(n.clone()) {
                continue;
            }
            if let Some(s) = states.get(&n) {
                queue.extend(targets(s).into_iter().cloned());
            }
        }
        for name in states_obj.keys() {
            if !seen.contains(name) && states.contains_key(name) {
                self.problem(
                    &loc(&format!("States.{name}")),
                    Some(name),
                    "state is unreachable from StartAt".into(),
                );
            }
        }
        Some(Graph { start_at, states })
    }

    fn path_field(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        name: &str,
        loc: &str,
    ) -> Option<Path> {
        match o.get(f) {
            None => None,
            Some(Value::String(s)) => match Path::parse(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.problem(&format!("{loc}.{f}"), Some(name), e);
                    None
                }
            },
            Some(_) => {
                self.problem(
                    &format!("{loc}.{f}"),
                    Some(name),
                    format!("{f} must be a string path"),
                );
                None
            }
        }
    }

    fn sel(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        name: &str,
        loc: &str,
        reference: bool,
    ) -> Sel {
        match o.get(f) {
            None => Sel::All,
            Some(Value::Null) => Sel::Null,
            Some(Value::String(s)) => {
                let r = if reference {
                    Path::parse_reference(s)
                } else {
                    Path::parse(s)
                };
                match r {
                    Ok(p) if p.is_root() => Sel::All,
                    Ok(p) if p.is_context() => {
                        self.problem(
                            &format!("{loc}.{f}"),
                            Some(name),
                            format!("{f} cannot use the context object"),
                        );
                        Sel::All
                    }
                    Ok(p) => Sel::Path(p),
                    Err(e) => {
                        self.problem(&format!("{loc}.{f}"), Some(name), e);
                        Sel::All
                    }
                }
            }
            Some(_) => {
                self.problem(
                    &format!("{loc}.{f}"),
                    Some(name),
                    format!("{f} must be a path string or null"),
                );
                Sel::All
            }
        }
    }

    fn template(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        name: &str,
        loc: &str,
    ) -> Option<Template> {
        let v = o.get(f)?;
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(&format!("{loc}.{f}"), Some(name), e);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn num(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        name: &str,
        loc: &str,
        min: f64,
        max: f64,
        int: bool,
    ) -> Option<NumSpec> {
        let pf = format!("{f}Path");
        let lit = o.get(f);
        let path = self.path_field(o, &pf, name, loc);
        if lit.is_some() && o.contains_key(&pf) {
            self.problem(
                &format!("{loc}.{f}"),
                Some(name),
                format!("{f} and {pf} are mutually exclusive"),
            );
        }
        if let Some(v) = lit {
            let ok = v
                .as_f64()
                .filter(|x| *x >= min && *x <= max && (!int || x.fract() == 0.0));
            match ok {
                Some(x) => return Some(NumSpec::Value(x)),
                None => {
                    self.problem(
                        &format!("{loc}.{f}"),
                        Some(name),
                        format!(
                            "{f} must be {} between {min} and {max}, got {v}",
                            if int { "an integer" } else { "a number" }
                        ),
                    );
                    return None;
                }
            }
        }
        path.map(NumSpec::Path)
    }

    fn error_list(&mut self, v: Option<&Value>, name: &str, loc: &str) -> Vec<String> {
        let list: Vec<String> = match v.and_then(Value::as_array) {
            Some(a) if !a.is_empty() && a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => {
                self.problem(
                    loc,
                    Some(name),
                    "ErrorEquals must be a non-empty array of strings".into(),
                );
                return Vec::new();
            }
        };
        if list.iter().any(|e| e == names::ALL) && list.len() > 1 {
            self.problem(
                loc,
                Some(name),
                "States.ALL must appear alone in ErrorEquals".into(),
            );
        }
        list
    }

    fn recovery(&mut self, o: &Map<String, Value>, name: &str, loc: &str) -> Recovery {
        let mut rec = Recovery::default();
        if let Some(r) = o.get("Retry") {
            let Some(arr) = r.as_array() else {
                self.problem(
                    &format!("{loc}.Retry"),
                    Some(name),
                    "Retry must be an array".into(),
                );
                return rec;
            };
            for (i, rv) in arr.iter().enumerate() {
                let rl = format!("{loc}.Retry[{i}]");
                let Some(ro) = rv.as_object() else {
                    self.problem(&rl, Some(name), "a retrier must be an object".into());
                    continue;
                };
                for k in ro.keys() {
                    if ![
                        "ErrorEquals",
                        "IntervalSeconds",
                        "MaxAttempts",
                        "BackoffRate",
                        "MaxDelaySeconds",
                        "JitterStrategy",
                        "Comment",
                    ]
                    .contains(&k.as_str())
                    {
                        self.problem(&rl, Some(name), format!("unknown retrier field '{k}'"));
                    }
                }
                let errs =
                    self.error_list(ro.get("ErrorEquals"), name, &format!("{rl}.ErrorEquals"));
                if errs.iter().any(|e| e == names::ALL) && i + 1 != arr.len() {
                    self.problem(
                        &rl,
                        Some(name),
                        "a retrier with States.ALL must be the last one".into(),
                    );
                }
                let get = |k: &str| ro.get(k).map(|v| v.as_f64());
                let interval = match get("IntervalSeconds") {
                    None => 1.0,
                    Some(Some(x)) if x >= 1.0 && x.fract() == 0.0 => x,
                    _ => {
                        self.problem(
                            &rl,
                            Some(name),
                            "IntervalSeconds must be a positive integer".into(),
                        );
                        1.0
                    }
                };
                let max_attempts = match get("MaxAttempts") {
                    None => 3,
                    Some(Some(x)) if x >= 0.0 && x.fract() == 0.0 && x <= 99_999_999.0 => x as u32,
                    _ => {
                        self.problem(
                            &rl,
                            Some(name),
                            "MaxAttempts must be a non-negative integer".into(),
                        );
                        3
                    }
                };
                let backoff = match get("BackoffRate") {
                    None => 2.0,
                    Some(Some(x)) if x >= 1.0 => x,
                    _ => {
                        self.problem(
                            &rl,
                            Some(name),
                            "BackoffRate must be a number >= 1.0".into(),
                        );
                        2.0
                    }
                };
                let max_delay = match get("MaxDelaySeconds") {
                    None => None,
                    Some(Some(x)) if x > 0.0 && x.fract() == 0.0 => Some(x),
                    _ => {
                        self.problem(
                            &rl,
                            Some(name),
                            "MaxDelaySeconds must be a positive integer".into(),
                        );
                        None
                    }
                };
                let jitter = match ro.get("JitterStrategy").map(|v| v.as_str()) {
                    None | Some(Some("NONE")) => Jitter::None,
                    Some(Some("FULL")) => Jitter::Full,
                    _ => {
                        self.problem(
                            &rl,
                            Some(name),
                            "JitterStrategy must be FULL or NONE".into(),
                        );
                        Jitter::None
                    }
                };
                rec.retry.push(Retrier {
                    error_equals: errs,
                    interval_seconds: interval,
                    max_attempts,
                    backoff_rate: backoff,
                    max_delay_seconds: max_delay,
                    jitter,
                });
            }
        }
        if let Some(c) = o.get("Catch") {
            let Some(arr) = c.as_array() else {
                self.problem(
                    &format!("{loc}.Catch"),
                    Some(name),
                    "Catch must be an array".into(),
                );
                return rec;
            };
            for (i, cv) in arr.iter().enumerate() {
                let cl = format!("{loc}.Catch[{i}]");
                let Some(co) = cv.as_object() else {
                    self.problem(&cl, Some(name), "a catcher must be an object".into());
                    continue;
                };
                for k in co.keys() {
                    if !["ErrorEquals", "Next", "ResultPath", "Comment"].contains(&k.as_str()) {
                        self.problem(&cl, Some(name), format!("unknown catcher field '{k}'"));
                    }
                }
                let errs =
                    self.error_list(co.get("ErrorEquals"), name, &format!("{cl}.ErrorEquals"));
                if errs.iter().any(|e| e == names::ALL) && i + 1 != arr.len() {
                    self.problem(
                        &cl,
                        Some(name),
                        "a catcher with States.ALL must be the last one".into(),
                    );
                }
                let next = match co.get("Next").and_then(Value::as_str) {
                    Some(n) => n.to_string(),
                    None => {
                        self.problem(&cl, Some(name), "a catcher needs a Next".into());
                        continue;
                    }
                };
                let result_path = match self.sel(co, "ResultPath", name, &cl, true) {
                    Sel::All => Some(Path::root()),
                    Sel::Null => None,
                    Sel::Path(p) => Some(p),
                };
                rec.catch.push(Catcher {
                    error_equals: errs,
                    next,
                    result_path,
                });
            }
        }
        rec
    }

    fn state(&mut self, name: &str, v: &Value, loc: &str) -> Option<State> {
        let Some(o) = v.as_object() else {
            self.problem(loc, Some(name), "a state must be an object".into());
            return None;
        };
        let t = match o.get("Type").and_then(Value::as_str) {
            Some(t)
                if [
                    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
                ]
                .contains(&t) =>
            {
                t
            }
            Some(t) => {
                self.problem(loc, Some(name), format!("unknown state Type '{t}'"));
                return None;
            }
            None => {
                self.problem(loc, Some(name), "missing Type".into());
                return None;
            }
        };
        let allow = allowed(t);
        for k in o.keys() {
            if COMMON.contains(&k.as_str()) || allow.contains(&k.as_str()) {
                continue;
            }
            let msg = match k.as_str() {
                "ItemReader" | "ResultWriter" | "ItemBatcher" => {
                    format!("{k} (distributed Map) is not supported in-process")
                }
                "Assign" | "Arguments" | "Output" => {
                    format!("{k} (JSONata / variables) is not supported")
                }
                _ => format!("field '{k}' is not allowed in a {t} state"),
            };
            self.problem(loc, Some(name), msg);
        }
        if let Some(q) = o.get("QueryLanguage") {
            if q != "JSONPath" {
                self.problem(
                    loc,
                    Some(name),
                    "only the JSONPath query language is supported".into(),
                );
            }
        }
        let terminal = matches!(t, "Choice" | "Succeed" | "Fail");
        let transition = if terminal {
            Transition::End
        } else {
            let next = o.get("Next");
            let end = o.get("End");
            match (next, end) {
                (Some(Value::String(n)), None) => Transition::Next(n.clone()),
                (None, Some(Value::Bool(true))) => Transition::End,
                (Some(_), Some(_)) => {
                    self.problem(
                        loc,
                        Some(name),
                        "Next and End are mutually exclusive".into(),
                    );
                    Transition::End
                }
                (Some(_), None) => {
                    self.problem(loc, Some(name), "Next must be a string".into());
                    Transition::End
                }
                (None, Some(_)) => {
                    self.problem(loc, Some(name), "End must be true when present".into());
                    Transition::End
                }
                (None, None) => {
                    self.problem(
                        loc,
                        Some(name),
                        format!("a {t} state needs Next or \"End\": true"),
                    );
                    Transition::End
                }
            }
        };
        let input_path = self.sel(o, "InputPath", name, loc, false);
        let output_path = self.sel(o, "OutputPath", name, loc, false);
        let result_path = self.sel(o, "ResultPath", name, loc, true);
        let parameters = if t == "Map" {
            None
        } else {
            self.template(o, "Parameters", name, loc)
        };
        let result_selector = self.template(o, "ResultSelector", name, loc);
        let recovery = self.recovery(o, name, loc);
        let kind = match t {
            "Pass" => Kind::Pass {
                result: o.get("Result").cloned(),
            },
            "Task" => {
                let resource = match o.get("Resource").and_then(Value::as_str) {
                    Some(r) => {
                        if r.contains("${") {
                            self.problem(
                                &format!("{loc}.Resource"),
                                Some(name),
                                format!("unresolved substitution in Resource '{r}'"),
                            );
                        }
                        r.to_string()
                    }
                    None => {
                        self.problem(
                            loc,
                            Some(name),
                            "a Task state needs a string Resource".into(),
                        );
                        String::new()
                    }
                };
                let timeout = self.num(o, "TimeoutSeconds", name, loc, 1.0, 99_999_999.0, true);
                let heartbeat = self.num(o, "HeartbeatSeconds", name, loc, 1.0, 99_999_999.0, true);
                if let (Some(NumSpec::Value(h)), Some(NumSpec::Value(to))) = (&heartbeat, &timeout)
                {
                    if h >= to {
                        self.problem(
                            loc,
                            Some(name),
                            "HeartbeatSeconds must be smaller than TimeoutSeconds".into(),
                        );
                    }
                }
                Kind::Task {
                    resource,
                    timeout,
                    heartbeat,
                }
            }
            "Choice" => {
                let mut choices = Vec::new();
                match o.get("Choices").and_then(Value::as_array) {
                    Some(a) if !a.is_empty() => {
                        for (i, c) in a.iter().enumerate() {
                            let cl = format!("{loc}.Choices[{i}]");
                            let next = c.get("Next").and_then(Value::as_str);
                            match (Rule::parse(c), next) {
                                (Ok(r), Some(n)) => choices.push((r, n.to_string())),
                                (Err(e), _) => self.problem(&cl, Some(name), e),
                                (Ok(_), None) => self.problem(
                                    &cl,
                                    Some(name),
                                    "a choice rule needs a Next".into(),
                                ),
                            }
                        }
                    }
                    _ => self.problem(loc, Some(name), "Choices must be a non-empty array".into()),
                }
                let default = match o.get("Default") {
                    None => None,
                    Some(Value::String(d)) => Some(d.clone()),
                    Some(_) => {
                        self.problem(loc, Some(name), "Default must be a string".into());
                        None
                    }
                };
                Kind::Choice { choices, default }
            }
            "Wait" => {
                let present: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                    .into_iter()
                    .filter(|k| o.contains_key(*k))
                    .collect();
                if present.len() != 1 {
                    self.problem(
                        loc,
                        Some(name),
                        format!("a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath (found {})", if present.is_empty() { "none".to_string() } else { present.join(", ") }),
                    );
                    return None;
                }
                let spec = match present[0] {
                    "Seconds" => match o.get("Seconds").and_then(Value::as_f64) {
                        Some(s) if s >= 0.0 && s.fract() == 0.0 => WaitSpec::Seconds(s as u64),
                        _ => {
                            self.problem(
                                loc,
                                Some(name),
                                "Seconds must be a non-negative integer".into(),
                            );
                            return None;
                        }
                    },
                    "Timestamp" => match o.get("Timestamp").and_then(Value::as_str) {
                        Some(ts) if parse_ts(ts).is_some() => WaitSpec::Timestamp(ts.to_string()),
                        _ => {
                            self.problem(
                                loc,
                                Some(name),
                                "Timestamp must be an RFC 3339 timestamp".into(),
                            );
                            return None;
                        }
                    },
                    "SecondsPath" => {
                        WaitSpec::SecondsPath(self.path_field(o, "SecondsPath", name, loc)?)
                    }
                    _ => WaitSpec::TimestampPath(self.path_field(o, "TimestampPath", name, loc)?),
                };
                Kind::Wait(spec)
            }
            "Succeed" => Kind::Succeed,
            "Fail" => {
                let mut field = |lit: &str, path: &str| -> Option<FailField> {
                    match (o.get(lit), o.get(path)) {
                        (Some(_), Some(_)) => {
                            self.problem(
                                loc,
                                Some(name),
                                format!("{lit} and {path} are mutually exclusive"),
                            );
                            None
                        }
                        (Some(Value::String(s)), None) => Some(FailField::Text(s.clone())),
                        (Some(_), None) => {
                            self.problem(loc, Some(name), format!("{lit} must be a string"));
                            None
                        }
                        (None, Some(Value::String(p))) => match Dynamic::parse(p) {
                            Ok(d) => Some(FailField::Dyn(d)),
                            Err(e) => {
                                self.problem(&format!("{loc}.{path}"), Some(name), e);
                                None
                            }
                        },
                        (None, Some(_)) => {
                            self.problem(loc, Some(name), format!("{path} must be a string"));
                            None
                        }
                        (None, None) => None,
                    }
                };
                let error = field("Error", "ErrorPath");
                let cause = field("Cause", "CausePath");
                Kind::Fail { error, cause }
            }
            "Parallel" => {
                let mut branches = Vec::new();
                match o.get("Branches").and_then(Value::as_array) {
                    Some(a) if !a.is_empty() => {
                        for (i, b) in a.iter().enumerate() {
                            let bl = format!("{loc}.Branches[{i}]");
                            match b.as_object() {
                                Some(bo) => {
                                    for k in bo.keys() {
                                        if !["StartAt", "States", "Comment", "QueryLanguage"]
                                            .contains(&k.as_str())
                                        {
                                            self.problem(
                                                &bl,
                                                Some(name),
                                                format!("unknown branch field '{k}'"),
                                            );
                                        }
                                    }
                                    if let Some(g) = self.graph(bo, &bl) {
                                        branches.push(Arc::new(g));
                                    }
                                }
                                None => self.problem(
                                    &bl,
                                    Some(name),
                                    "a branch must be an object".into(),
                                ),
                            }
                        }
                    }
                    _ => self.problem(loc, Some(name), "Branches must be a non-empty array".into()),
                }
                Kind::Parallel { branches }
            }
            _ => {
                let items_path = match self.sel(o, "ItemsPath", name, loc, false) {
                    Sel::All => None,
                    Sel::Null => {
                        self.problem(loc, Some(name), "ItemsPath cannot be null".into());
                        None
                    }
                    Sel::Path(p) => Some(p),
                };
                if o.contains_key("ItemSelector") && o.contains_key("Parameters") {
                    self.problem(
                        loc,
                        Some(name),
                        "ItemSelector and Parameters are mutually exclusive".into(),
                    );
                }
                let item_selector = self
                    .template(o, "ItemSelector", name, loc)
                    .or_else(|| self.template(o, "Parameters", name, loc));
                let proc_v = match (o.get("ItemProcessor"), o.get("Iterator")) {
                    (Some(_), Some(_)) => {
                        self.problem(
                            loc,
                            Some(name),
                            "ItemProcessor and Iterator are mutually exclusive".into(),
                        );
                        return None;
                    }
                    (Some(p), None) => ("ItemProcessor", p),
                    (None, Some(p)) => ("Iterator", p),
                    (None, None) => {
                        self.problem(
                            loc,
                            Some(name),
                            "a Map state needs an ItemProcessor (or Iterator)".into(),
                        );
                        return None;
                    }
                };
                let pl = format!("{loc}.{}", proc_v.0);
                let Some(po) = proc_v.1.as_object() else {
                    self.problem(&pl, Some(name), "ItemProcessor must be an object".into());
                    return None;
                };
                for k in po.keys() {
                    if ![
                        "StartAt",
                        "States",
                        "Comment",
                        "ProcessorConfig",
                        "QueryLanguage",
                    ]
                    .contains(&k.as_str())
                    {
                        self.problem(
                            &pl,
                            Some(name),
                            format!("unknown ItemProcessor field '{k}'"),
                        );
                    }
                }
                if let Some(mode) = po.get("ProcessorConfig").and_then(|c| c.get("Mode")) {
                    if mode != "INLINE" && mode != "DISTRIBUTED" {
                        self.problem(
                            &pl,
                            Some(name),
                            format!(
                                "ProcessorConfig.Mode must be INLINE or DISTRIBUTED, got {mode}"
                            ),
                        );
                    }
                }
                let processor = Arc::new(self.graph(po, &pl)?);
                let max_concurrency = self.num(o, "MaxConcurrency", name, loc, 0.0, 1e9, true);
                let tolerated_count =
                    self.num(o, "ToleratedFailureCount", name, loc, 0.0, 1e12, true);
                let tolerated_percentage = self.num(
                    o,
                    "ToleratedFailurePercentage",
                    name,
                    loc,
                    0.0,
                    100.0,
                    false,
                );
                Kind::Map {
                    items_path,
                    item_selector,
                    processor,
                    max_concurrency,
                    tolerated_count,
                    tolerated_percentage,
                }
            }
        };
        Some(State {
            name: name.to_string(),
            type_name: static_type(t),
            input_path,
            output_path,
            parameters,
            result_selector,
            result_path,
            transition,
            recovery,
            kind,
        })
    }
}

/// States a state may transition to.
fn targets(s: &State) -> Vec<&String> {
    let mut v = Vec::new();
    if let Transition::Next(n) = &s.transition {
        v.push(n);
    }
    if let Kind::Choice { choices, default } = &s.kind {
        v.extend(choices.iter().map(|(_, n)| n));
        v.extend(default.iter());
    }
    v.extend(s.recovery.catch.iter().map(|c| &c.next));
    v
}
