//! Execution history in Step Functions' shape:
//! `{"id", "previousEventId", "timestamp", "type", "<detailsKey>": {...}}`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, increasing.
    pub id: u64,
    /// The event this one follows in its branch (0 for the first).
    pub previous_event_id: u64,
    /// When (virtual or real clock).
    pub timestamp: DateTime<Utc>,
    /// Event type, e.g. `TaskStateEntered`.
    pub event_type: String,
    /// The details (stored under the AWS details key, see [`details_key`];
    /// `inputDetails`/`outputDetails` are added when serializing).
    pub details: Value,
}

impl HistoryEvent {
    /// The `name` in state entered/exited details, if any.
    pub fn state_name(&self) -> Option<&str> {
        self.details.get("name").and_then(Value::as_str)
    }

    /// As AWS's JSON.
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// As AWS's JSON, consuming the event (no copy of its payloads).
    pub fn into_json(self) -> Value {
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            Value::String(self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true)),
        );
        let details_key = details_key(&self.event_type);
        m.insert("type".into(), Value::String(self.event_type));
        m.insert("id".into(), Value::from(self.id));
        m.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if let Some(k) = details_key {
            let mut d = self.details;
            if let Some(o) = d.as_object_mut() {
                for (field, flag) in [("input", "inputDetails"), ("output", "outputDetails")] {
                    if o.contains_key(field) {
                        o.insert(flag.into(), serde_json::json!({"truncated": false}));
                    }
                }
            }
            m.insert(k, d);
        }
        Value::Object(m)
    }

    fn from_json(v: Value) -> Result<HistoryEvent, String> {
        let Value::Object(mut m) = v else {
            return Err("history event must be an object".into());
        };
        let id = m.get("id").and_then(Value::as_u64).ok_or("missing id")?;
        let previous_event_id = m
            .get("previousEventId")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let timestamp = m
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or("missing or bad timestamp")?
            .with_timezone(&Utc);
        let event_type = m
            .get("type")
            .and_then(Value::as_str)
            .ok_or("missing type")?
            .to_string();
        let details_key = m.keys().find(|k| k.ends_with("EventDetails")).cloned();
        let mut details = match &details_key {
            Some(k) => m.remove(k).unwrap_or(Value::Null),
            None => Value::Null,
        };
        if let Some(o) = details.as_object_mut() {
            o.shift_remove("inputDetails");
            o.shift_remove("outputDetails");
        }
        Ok(HistoryEvent {
            id,
            previous_event_id,
            timestamp,
            event_type,
            details,
        })
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        HistoryEvent::from_json(v).map_err(serde::de::Error::custom)
    }
}

/// The details key AWS uses for an event type.
pub fn details_key(event_type: &str) -> Option<String> {
    let key = if event_type.ends_with("StateEntered") {
        "stateEnteredEventDetails".to_string()
    } else if event_type.ends_with("StateExited") {
        "stateExitedEventDetails".to_string()
    } else {
        match event_type {
            "ParallelStateStarted" | "ParallelStateSucceeded" | "MapStateSucceeded" => return None,
            "ParallelStateFailed" | "MapStateFailed" => "executionFailedEventDetails".to_string(),
            _ => {
                let mut c = event_type.chars();
                let first = c.next()?;
                format!("{}{}EventDetails", first.to_ascii_lowercase(), c.as_str())
            }
        }
    };
    Some(key)
}

/// Serializes a value the way event details carry payloads (as a JSON string).
pub fn payload(v: &Value) -> Value {
    // serde_json::to_string writes bytes directly (faster than Display).
    Value::String(serde_json::to_string(v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            details_key("TaskStateEntered").as_deref(),
            Some("stateEnteredEventDetails")
        );
        assert_eq!(
            details_key("TaskScheduled").as_deref(),
            Some("taskScheduledEventDetails")
        );
        assert_eq!(
            details_key("MapIterationStarted").as_deref(),
            Some("mapIterationStartedEventDetails")
        );
        assert_eq!(details_key("ParallelStateStarted"), None);
    }

    #[test]
    fn roundtrip() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp: DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            event_type: "PassStateEntered".into(),
            details: serde_json::json!({"name": "A", "input": "{}"}),
        };
        let s = serde_json::to_string(&e).unwrap();
        assert!(s.contains("\"stateEnteredEventDetails\""));
        let back: HistoryEvent = serde_json::from_str(&s).unwrap();
        assert_eq!(back, e);
    }
}
