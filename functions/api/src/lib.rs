//! `api`: the HTTP API of the P2P suite (every seed endpoint under `/api/v1`).
//!
//! One axum [`Router`] serves both ways: on Lambda through `lambda_http` (API Gateway HTTP
//! API, payload v2, JWT authorizer) and locally through `p2p serve` ([`local`]). Handlers
//! are thin: they authenticate ([`auth`]), parse strictly ([`extract`], [`model`]), call the
//! domain rules in `p2p-core` or a function crate's use case (submit = `process-invoice`,
//! reconcile = `reconcile`, approve a payment = `approve-payment`), commit through the
//! store's unit of work with the caller on every audit entry, and answer with the wire
//! types or an RFC 9457 problem ([`problem`]). `GET /openapi.json` is generated from the
//! code ([`openapi`]).

pub mod auth;
pub mod config;
pub mod extract;
pub mod local;
pub mod model;
pub mod openapi;
pub mod problem;
pub mod routes;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use p2p_adapters::Services;

pub use auth::{AuthMode, Caller, Role};
pub use config::ApiConfig;
pub use problem::{ApiError, Problem};

pub const FUNCTION_NAME: &str = "api";

/// What every handler shares; cloned per request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub services: Services,
    pub config: ApiConfig,
    pub auth: AuthMode,
    /// `GET /openapi.json`, rendered once.
    pub openapi_json: String,
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services, config: ApiConfig, auth: AuthMode) -> Self {
        let openapi_json = openapi::document(auth).to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot render the OpenAPI document");
            "{}".to_string()
        });
        AppState(Arc::new(AppInner {
            services,
            config,
            auth,
            openapi_json,
        }))
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    routes::router().with_state(state)
}
