#![allow(dead_code)]
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use p2p_asl::{Execution, Executor, Registry, StateMachine};
use serde_json::Value;

pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn machine(def: Value) -> StateMachine {
    StateMachine::from_value(def, &HashMap::new())
        .unwrap_or_else(|e| panic!("definition rejected: {e}"))
        .with_name("Test")
}

pub fn executor(reg: Registry) -> Executor {
    Executor::new(reg).start_time(t0())
}

pub async fn run(def: Value, input: Value) -> Execution {
    executor(Registry::new())
        .start(&machine(def), "exec-1", input)
        .await
}

pub async fn run_with(reg: Registry, def: Value, input: Value) -> Execution {
    executor(reg).start(&machine(def), "exec-1", input).await
}

pub fn output(e: &Execution) -> Value {
    match e.output() {
        Some(v) => v.clone(),
        None => panic!(
            "execution did not succeed: {:?} {:?}",
            e.status(),
            e.error()
        ),
    }
}

pub fn error(e: &Execution) -> (String, String) {
    match e.error() {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => panic!("execution did not fail: {:?} {:?}", e.status(), e.output()),
    }
}

/// Elapsed virtual seconds from start to stop.
pub fn elapsed(e: &Execution) -> f64 {
    (e.stop_date.unwrap() - e.start_date).num_milliseconds() as f64 / 1000.0
}
