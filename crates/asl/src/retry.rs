//! `Retry` and `Catch`: error matching and back-off.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{names, StatesError};
use crate::path::Path;

/// `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Jitter {
    /// No jitter.
    None,
    /// Random delay between 0 and the computed interval.
    Full,
}

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: f64,
    /// `MaxAttempts` (default 3; 0 means never retry).
    pub max_attempts: u32,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy`.
    pub jitter: Jitter,
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: String,
    /// `ResultPath`: `None` means `null` (discard the error output).
    pub result_path: Option<Path>,
}

/// Does an error name list match this error?
pub fn error_matches(list: &[String], err: &StatesError) -> bool {
    if err.error == names::RUNTIME {
        return false;
    }
    list.iter().any(|name| match name.as_str() {
        names::ALL => true,
        names::TASK_FAILED => err.error != names::TIMEOUT && err.error != names::HEARTBEAT_TIMEOUT,
        names::BRANCH_FAILED if err.from_branch => true,
        n => n == err.error,
    })
}

impl Retrier {
    /// Delay in seconds before retry number `attempt` (0-based count of retries already made).
    pub fn delay(&self, attempt: u32, random01: f64) -> f64 {
        let mut d = self.interval_seconds * self.backoff_rate.powi(attempt as i32);
        if let Some(m) = self.max_delay_seconds {
            d = d.min(m);
        }
        if self.jitter == Jitter::Full {
            d *= random01;
        }
        d
    }
}

/// What to do after an error.
#[derive(Debug)]
pub enum Decision {
    /// Retry after `delay` seconds using retrier `index`.
    Retry {
        /// Retrier index.
        index: usize,
        /// Seconds.
        delay: f64,
    },
    /// Not retried.
    GiveUp,
}

/// Picks the first retrier matching; `counts[i]` holds retries made under retrier `i`.
pub fn decide(
    retriers: &[Retrier],
    counts: &mut [u32],
    err: &StatesError,
    random01: f64,
) -> Decision {
    for (i, r) in retriers.iter().enumerate() {
        if error_matches(&r.error_equals, err) {
            let done = counts.get(i).copied().unwrap_or(0);
            if done >= r.max_attempts {
                return Decision::GiveUp;
            }
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
            return Decision::Retry {
                index: i,
                delay: r.delay(done, random01),
            };
        }
    }
    Decision::GiveUp
}

/// The first catcher matching the error.
pub fn find_catcher<'a>(catchers: &'a [Catcher], err: &StatesError) -> Option<&'a Catcher> {
    catchers
        .iter()
        .find(|c| error_matches(&c.error_equals, err))
}

/// The error output a catcher passes on: `{"Error": ..., "Cause": ...}`.
pub fn error_output(err: &StatesError) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("Error".into(), Value::String(err.error.clone()));
    m.insert("Cause".into(), Value::String(err.cause.clone()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(names: &[&str], max: u32) -> Retrier {
        Retrier {
            error_equals: names.iter().map(|s| s.to_string()).collect(),
            interval_seconds: 2.0,
            max_attempts: max,
            backoff_rate: 3.0,
            max_delay_seconds: Some(10.0),
            jitter: Jitter::None,
        }
    }

    #[test]
    fn matching_rules() {
        let e = StatesError::new("Custom", "x");
        assert!(error_matches(&["States.ALL".into()], &e));
        assert!(error_matches(&["States.TaskFailed".into()], &e));
        let t = StatesError::new("States.Timeout", "x");
        assert!(!error_matches(&["States.TaskFailed".into()], &t));
        assert!(error_matches(&["States.ALL".into()], &t));
        let rt = StatesError::runtime("x");
        assert!(!error_matches(&["States.ALL".into()], &rt));
        let mut b = StatesError::new("Inner", "x");
        assert!(!error_matches(&["States.BranchFailed".into()], &b));
        b.from_branch = true;
        assert!(error_matches(&["States.BranchFailed".into()], &b));
    }

    #[test]
    fn backoff() {
        let rs = vec![r(&["A"], 3)];
        let mut counts = vec![0];
        let e = StatesError::new("A", "");
        let mut delays = vec![];
        while let Decision::Retry { delay, .. } = decide(&rs, &mut counts, &e, 1.0) {
            delays.push(delay);
        }
        assert_eq!(delays, vec![2.0, 6.0, 10.0]);
        let zero = vec![r(&["A"], 0)];
        assert!(matches!(decide(&zero, &mut [0], &e, 1.0), Decision::GiveUp));
    }
}
