//! Custom metrics in CloudWatch Embedded Metric Format: one JSON log line with an `_aws`
//! block; CloudWatch extracts the metrics from the log, so no API call is made.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{json, Map, Value};

/// Whether [`Metrics::emit`] writes to stdout (on by default; the `p2p` CLI, whose stdout is
/// its own output, turns it off).
static STDOUT_ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the EMF lines on stdout on or off for this process.
pub fn set_stdout_enabled(enabled: bool) {
    STDOUT_ENABLED.store(enabled, Ordering::Relaxed);
}

/// Default namespace (`METRICS_NAMESPACE` overrides it).
pub const DEFAULT_NAMESPACE: &str = "P2P";

/// CloudWatch metric units used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Percent,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Percent => "Percent",
        }
    }
}

/// The metrics of one invocation, dimensioned by function name.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: String,
    function: String,
    values: Vec<(String, Unit, Value)>,
    properties: Map<String, Value>,
}

impl Metrics {
    pub fn new(namespace: &str, function: &str) -> Self {
        Metrics {
            namespace: namespace.to_string(),
            function: function.to_string(),
            values: Vec::new(),
            properties: Map::new(),
        }
    }

    /// Adds `n` to a count (counts of the same name accumulate).
    pub fn count(&mut self, name: &str, n: u64) -> &mut Self {
        for (existing, _, v) in &mut self.values {
            if existing == name {
                *v = Value::from(v.as_u64().unwrap_or(0).saturating_add(n));
                return self;
            }
        }
        self.values
            .push((name.to_string(), Unit::Count, Value::from(n)));
        self
    }

    pub fn value(&mut self, name: &str, unit: Unit, value: u64) -> &mut Self {
        self.values.retain(|(n, _, _)| n != name);
        self.values
            .push((name.to_string(), unit, Value::from(value)));
        self
    }

    /// A searchable property that is not a metric (e.g. `run_id`).
    pub fn property(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.properties.insert(name.to_string(), value.into());
        self
    }

    /// The EMF document, stamped with `timestamp_ms`.
    pub fn to_emf(&self, timestamp_ms: i64) -> Value {
        let definitions: Vec<Value> = self
            .values
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["Function"]],
                    "Metrics": definitions,
                }],
            }),
        );
        doc.insert("Function".into(), Value::from(self.function.clone()));
        for (k, v) in &self.properties {
            doc.insert(k.clone(), v.clone());
        }
        for (name, _, v) in &self.values {
            doc.insert(name.clone(), v.clone());
        }
        Value::Object(doc)
    }

    /// Writes the EMF line to stdout (nothing when no metric was recorded).
    pub fn emit(&self, timestamp_ms: i64) {
        if self.values.is_empty() || !STDOUT_ENABLED.load(Ordering::Relaxed) {
            return;
        }
        let line = self.to_emf(timestamp_ms).to_string();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric_and_carries_its_value() {
        let mut m = Metrics::new("P2P", "reconcile");
        m.count("InvoicesMatched", 2)
            .count("InvoicesMatched", 1)
            .count("ReconcileErrors", 0)
            .property("run_id", "run-1");
        let doc = m.to_emf(1_700_000_000_000);
        assert_eq!(doc["InvoicesMatched"], 3);
        assert_eq!(doc["ReconcileErrors"], 0);
        assert_eq!(doc["Function"], "reconcile");
        assert_eq!(doc["run_id"], "run-1");
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "P2P");
        assert_eq!(cw["Dimensions"], json!([["Function"]]));
        assert_eq!(
            cw["Metrics"][0],
            json!({"Name": "InvoicesMatched", "Unit": "Count"})
        );
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
