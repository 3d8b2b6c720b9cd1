//! Health, the OpenAPI document, and the problem answers of unknown routes and methods.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::model::Health;
use crate::problem::ApiError;
use crate::AppState;

/// Liveness (no authentication).
#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, description = "The process answers", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// This API's OpenAPI 3.1 document, generated from the code.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    let mut response = state.openapi_json.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

/// axum adds the `Allow` header to this answer.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
