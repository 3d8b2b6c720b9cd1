//! Counts the requests the SDK clients send, per service and operation, so tests and the
//! bench can state what an operation costs ("a status change is one TransactWriteItems").

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// `(service, operation)`, e.g. `("DynamoDB", "TransactWriteItems")`.
pub type CallKey = (String, String);

/// A snapshot of the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts(pub BTreeMap<CallKey, u64>);

impl CallCounts {
    /// Calls of one operation, e.g. `counts.get("DynamoDB", "Query")`.
    pub fn get(&self, service: &str, operation: &str) -> u64 {
        self.0
            .get(&(service.to_string(), operation.to_string()))
            .copied()
            .unwrap_or(0)
    }
    /// All calls to one service.
    pub fn service_total(&self, service: &str) -> u64 {
        self.0
            .iter()
            .filter(|((s, _), _)| s == service)
            .map(|(_, n)| n)
            .sum()
    }
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
    /// What happened after `earlier` was taken.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        CallCounts(
            self.0
                .iter()
                .filter_map(|(k, n)| {
                    let before = earlier.0.get(k).copied().unwrap_or(0);
                    (*n > before).then(|| (k.clone(), n - before))
                })
                .collect(),
        )
    }
}

impl std::fmt::Display for CallCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|((s, o), n)| format!("{s}.{o}×{n}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// An SDK interceptor counting every attempt (retries included: each is a billed request).
/// Cheap to clone; all clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<CallKey, u64>>>,
}

impl RequestCounter {
    pub fn new() -> Self {
        RequestCounter::default()
    }

    pub fn snapshot(&self) -> CallCounts {
        let counts = match self.counts.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        CallCounts(counts)
    }

    pub fn reset(&self) {
        match self.counts.lock() {
            Ok(mut c) => c.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    fn record(&self, service: &str, operation: &str) {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        *counts
            .entry((service.to_string(), operation.to_string()))
            .or_insert(0) += 1;
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<Metadata>() {
            Some(meta) => self.record(meta.service(), meta.name()),
            None => self.record("unknown", "unknown"),
        }
        Ok(())
    }
}
