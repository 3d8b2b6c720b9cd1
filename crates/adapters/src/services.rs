//! The set of adapters a function or the CLI works with, whichever backend provides them.

use std::sync::Arc;

use p2p_core::clock::{Clock, IdSource, SystemClock, UuidIds};

use crate::ports::{EventPublisher, Notifier, ObjectStore, Store, WorkflowStarter};
use crate::schema;

/// Physical bucket names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    pub raw: String,
    pub processed: String,
    pub payments: String,
}

impl Buckets {
    /// From `RAW_BUCKET`, `PROCESSED_BUCKET`, `PAYMENTS_BUCKET`, or the default names.
    pub fn from_env() -> Self {
        let get = |r: schema::NamedResource| {
            std::env::var(r.env_var)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| r.default_name.to_string())
        };
        Buckets {
            raw: get(schema::RAW_BUCKET),
            processed: get(schema::PROCESSED_BUCKET),
            payments: get(schema::PAYMENTS_BUCKET),
        }
    }
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            raw: schema::RAW_BUCKET.default_name.to_string(),
            processed: schema::PROCESSED_BUCKET.default_name.to_string(),
            payments: schema::PAYMENTS_BUCKET.default_name.to_string(),
        }
    }
}

/// Everything a handler may touch, built once per process and shared.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub objects: Arc<dyn ObjectStore>,
    pub notifier: Arc<dyn Notifier>,
    pub events: Arc<dyn EventPublisher>,
    pub workflows: Arc<dyn WorkflowStarter>,
    pub buckets: Buckets,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl Services {
    /// Replaces the clock and id source (tests: deterministic time and ids).
    pub fn with_clock_and_ids(mut self, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        self.clock = clock;
        self.ids = ids;
        self
    }

    /// The production clock and ids.
    pub fn system_clock_and_ids() -> (Arc<dyn Clock>, Arc<dyn IdSource>) {
        (Arc::new(SystemClock), Arc::new(UuidIds))
    }
}
