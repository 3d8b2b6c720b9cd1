//! Scheduled jobs: the EventBridge trigger (with `dry_run` in its detail) and the deadline
//! a job stops taking new work at, so it ends cleanly before Lambda kills it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::FunctionError;

/// A scheduled run: from an EventBridge `Scheduled Event`, or invoked directly with
/// `{"dry_run": bool}` / `{}` (CLI, `cargo lambda invoke`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobTrigger {
    pub dry_run: bool,
    /// The EventBridge event id, when there is one.
    pub event_id: Option<String>,
    /// The schedule's `time`, when there is one.
    pub scheduled_time: Option<String>,
}

/// Whether the event looks like an EventBridge event (schedule or rule).
pub fn is_eventbridge_event(event: &Value) -> bool {
    event.get("detail-type").is_some()
        || matches!(
            event.get("source").and_then(Value::as_str),
            Some("aws.events" | "aws.scheduler")
        )
}

impl JobTrigger {
    pub fn from_event(event: &Value) -> Result<Self, FunctionError> {
        let Some(obj) = event.as_object() else {
            return Err(FunctionError::invalid_event(
                "a job trigger must be a JSON object (an EventBridge scheduled event or {\"dry_run\": bool})",
            ));
        };
        let (detail, event_id, scheduled_time) = if is_eventbridge_event(event) {
            let detail = match obj.get("detail") {
                None | Some(Value::Null) => None,
                Some(d @ Value::Object(_)) => Some(d),
                Some(_) => {
                    return Err(FunctionError::invalid_event(
                        "detail of the scheduled event must be an object",
                    ))
                }
            };
            (
                detail,
                obj.get("id").and_then(Value::as_str).map(str::to_string),
                obj.get("time").and_then(Value::as_str).map(str::to_string),
            )
        } else {
            if let Some(k) = obj.keys().find(|k| k.as_str() != "dry_run") {
                return Err(FunctionError::invalid_event(format!(
                    "unknown field `{k}` in job trigger; expected an EventBridge scheduled event or {{\"dry_run\": bool}}"
                )));
            }
            (Some(event), None, None)
        };
        let dry_run = match detail.and_then(|d| d.get("dry_run")) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(FunctionError::invalid_event(format!(
                    "dry_run must be true or false, got {other}"
                )))
            }
        };
        Ok(JobTrigger {
            dry_run,
            event_id,
            scheduled_time,
        })
    }
}

/// When a job must stop taking new work.
#[derive(Debug, Clone)]
pub struct Deadline(Kind);

#[derive(Debug, Clone)]
enum Kind {
    Never,
    At(Instant),
    /// Tests: expired after this many checks have said "not yet".
    AfterChecks {
        allowed: u64,
        seen: Arc<AtomicU64>,
    },
}

impl Deadline {
    pub fn never() -> Self {
        Deadline(Kind::Never)
    }

    pub fn at(instant: Instant) -> Self {
        Deadline(Kind::At(instant))
    }

    /// From the Lambda context's deadline (epoch milliseconds) less a safety margin.
    pub fn from_lambda(deadline_epoch_ms: u64, margin: Duration) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Deadline(Kind::At(Instant::now() + left.saturating_sub(margin)))
    }

    /// Allows `n` items to start, then reports expiry (deterministic tests of a clean stop).
    pub fn after_checks(n: u64) -> Self {
        Deadline(Kind::AfterChecks {
            allowed: n,
            seen: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Asked before each new item.
    pub fn expired(&self) -> bool {
        match &self.0 {
            Kind::Never => false,
            Kind::At(t) => Instant::now() >= *t,
            Kind::AfterChecks { allowed, seen } => seen.fetch_add(1, Ordering::SeqCst) >= *allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scheduled_events_and_direct_invocations() {
        let ev = json!({"version": "0", "id": "e-1", "detail-type": "Scheduled Event",
            "source": "aws.events", "time": "2025-01-21T15:30:00Z", "detail": {"dry_run": true}});
        let t = JobTrigger::from_event(&ev).unwrap();
        assert!(t.dry_run);
        assert_eq!(t.event_id.as_deref(), Some("e-1"));
        let ev = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        assert!(!JobTrigger::from_event(&ev).unwrap().dry_run);
        assert!(
            JobTrigger::from_event(&json!({"dry_run": true}))
                .unwrap()
                .dry_run
        );
        assert!(!JobTrigger::from_event(&json!({})).unwrap().dry_run);
        for bad in [
            json!([]),
            json!({"dry_run": "yes"}),
            json!({"invoice": 1}),
            json!({"source": "aws.events", "detail": "x"}),
        ] {
            let e = JobTrigger::from_event(&bad).unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
        }
    }

    #[test]
    fn deadlines() {
        assert!(!Deadline::never().expired());
        let d = Deadline::after_checks(2);
        assert!(!d.expired());
        assert!(!d.clone().expired());
        assert!(d.expired());
        assert!(Deadline::at(Instant::now()).expired());
        assert!(Deadline::from_lambda(0, Duration::from_secs(1)).expired());
    }
}
