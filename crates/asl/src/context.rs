//! The context object (`$$`), built lazily per state.

use std::cell::OnceCell;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::path::{Path, Segment};
use crate::template::ContextProvider;

/// Facts about an execution, kept in snapshots.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionMeta {
    /// Execution name.
    pub name: String,
    /// Execution ARN (`$$.Execution.Id`).
    pub execution_arn: String,
    /// State machine ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// State machine name.
    pub state_machine_name: String,
    /// Execution input.
    pub input: Value,
    /// Start time.
    pub start_time: DateTime<Utc>,
    /// Role ARN.
    pub role_arn: String,
}

/// Formats a timestamp like Step Functions (`2024-01-01T00:00:00.000Z`).
pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Lazily-built context object for one state.
pub struct ContextObject<'a> {
    pub(crate) meta: &'a ExecutionMeta,
    pub(crate) state: &'a str,
    pub(crate) entered: DateTime<Utc>,
    pub(crate) retry_count: u32,
    pub(crate) token: Option<&'a str>,
    pub(crate) item: Option<(usize, &'a Value)>,
    cell: OnceCell<Value>,
}

impl<'a> ContextObject<'a> {
    /// Creates the (not yet built) context object.
    pub fn new(
        meta: &'a ExecutionMeta,
        state: &'a str,
        entered: DateTime<Utc>,
        retry_count: u32,
    ) -> Self {
        ContextObject {
            meta,
            state,
            entered,
            retry_count,
            token: None,
            item: None,
            cell: OnceCell::new(),
        }
    }
}

impl ContextObject<'_> {
    fn section(&self, name: &str) -> Option<Value> {
        match name {
            "State" => Some(
                json!({"Name": self.state, "EnteredTime": ts(&self.entered), "RetryCount": self.retry_count}),
            ),
            "StateMachine" => Some(
                json!({"Id": self.meta.state_machine_arn, "Name": self.meta.state_machine_name}),
            ),
            "Task" => self.token.map(|t| json!({"Token": t})),
            "Map" => self
                .item
                .map(|(i, item)| json!({"Item": {"Index": i, "Value": item}})),
            _ => None,
        }
    }
}

impl ContextProvider for ContextObject<'_> {
    fn lookup(&self, path: &Path) -> Option<Value> {
        if self.cell.get().is_none() {
            if let Some([Segment::Key(first), rest @ ..]) = path.segments() {
                if first == "State" {
                    match rest {
                        [Segment::Key(k)] if k == "Name" => {
                            return Some(Value::String(self.state.to_string()))
                        }
                        [Segment::Key(k)] if k == "RetryCount" => {
                            return Some(Value::from(self.retry_count))
                        }
                        _ => {}
                    }
                }
                if first != "Execution" {
                    let sec = self.section(first)?;
                    return Path::walk_segments(&sec, rest).cloned();
                }
            }
        }
        path.select(self.context())
    }

    fn context(&self) -> &Value {
        self.cell.get_or_init(|| {
            let mut v = json!({
                "Execution": {
                    "Id": self.meta.execution_arn,
                    "Name": self.meta.name,
                    "Input": self.meta.input,
                    "StartTime": ts(&self.meta.start_time),
                    "RoleArn": self.meta.role_arn,
                    "RedriveCount": 0
                },
                "StateMachine": {"Id": self.meta.state_machine_arn, "Name": self.meta.state_machine_name},
                "State": {"Name": self.state, "EnteredTime": ts(&self.entered), "RetryCount": self.retry_count}
            });
            if let Some(obj) = v.as_object_mut() {
                if let Some(t) = self.token {
                    obj.insert("Task".into(), json!({"Token": t}));
                }
                if let Some((i, item)) = self.item {
                    obj.insert("Map".into(), json!({"Item": {"Index": i, "Value": item}}));
                }
            }
            v
        })
    }
}
