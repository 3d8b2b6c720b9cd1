//! What every p2p Lambda function shares, kept small: the Step Functions error names
//! ([`error`]), typed configuration from the environment ([`config`]), JSON logs
//! ([`telemetry`]), CloudWatch Embedded Metric Format ([`metrics`]), building the adapters
//! ([`backend`]), the scheduled-job trigger and deadline ([`job`]) and the Workday callback
//! signature scheme ([`signature`]). No business rule lives here: those are in `p2p-core`.

pub mod backend;
pub mod config;
pub mod error;
pub mod job;
pub mod metrics;
pub mod signature;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{ConfigError, ConfigSource, ProcessEnv, RuleConfig};
pub use error::{error_type, FunctionError};
pub use job::{Deadline, JobTrigger};
pub use metrics::Metrics;
