//! The API's configuration, read once at start-up.

use p2p_function_support::config::{ConfigSource, Reader, RuleConfig};
use p2p_function_support::signature::DEFAULT_TOLERANCE_SECONDS;
use p2p_function_support::ConfigError;

/// Largest accepted request body by default (API Gateway's own limit is 10 MB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct ApiConfig {
    pub rules: RuleConfig,
    /// `WORKDAY_CALLBACK_SECRET`: the HMAC key of `POST /workday/callback`. Without it
    /// every callback is refused (401): nothing can be verified.
    pub workday_secret: Option<Vec<u8>>,
    /// `WORKDAY_CALLBACK_TOLERANCE_SECONDS` (default 300): accepted clock skew of
    /// `X-P2P-Timestamp`.
    pub callback_tolerance_seconds: i64,
    /// `API_MAX_BODY_BYTES` (default 1 MiB): bigger bodies get 413.
    pub max_body_bytes: usize,
    pub process: process_invoice::Config,
    pub reconcile: reconcile::Config,
    pub approve: approve_payment::Config,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("rules", &self.rules)
            .field(
                "workday_secret",
                &self.workday_secret.as_ref().map(|_| "<set>"),
            )
            .field(
                "callback_tolerance_seconds",
                &self.callback_tolerance_seconds,
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl ApiConfig {
    pub fn from_source<S: ConfigSource + ?Sized>(source: &S) -> Result<Self, ConfigError> {
        let r = Reader(source);
        Ok(ApiConfig {
            rules: RuleConfig::from_source(source)?,
            workday_secret: r
                .optional("WORKDAY_CALLBACK_SECRET")
                .map(|s| s.into_bytes()),
            callback_tolerance_seconds: r
                .positive(
                    "WORKDAY_CALLBACK_TOLERANCE_SECONDS",
                    DEFAULT_TOLERANCE_SECONDS as usize,
                )?
                .try_into()
                .unwrap_or(DEFAULT_TOLERANCE_SECONDS),
            max_body_bytes: r.positive("API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?,
            process: process_invoice::Config::from_source(source)?,
            reconcile: reconcile::Config::from_source(source)?,
            approve: approve_payment::Config::from_source(source)?,
        })
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&p2p_function_support::ProcessEnv)
    }
}
