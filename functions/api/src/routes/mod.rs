//! The routes, one module per resource, and what they share.

pub mod audit;
pub mod exports;
pub mod invoices;
pub mod meta;
pub mod payments;
pub mod purchase_orders;
pub mod vendors;
pub mod workday;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use p2p_adapters::{ChangeSet, PageRequest, MAX_PAGE_SIZE};
use p2p_core::audit::{AuditEntry, AuditType};
use serde::Serialize;

use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller};

pub const PREFIX: &str = "/api/v1";

pub fn router() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/vendors",
            post(vendors::create_vendor).get(vendors::list_vendors),
        )
        .route(
            "/vendors/:id",
            get(vendors::get_vendor)
                .put(vendors::update_vendor)
                .delete(vendors::delete_vendor),
        )
        .route(
            "/vendors/:id/purchase-orders",
            get(vendors::list_vendor_purchase_orders),
        )
        .route(
            "/purchase-orders",
            post(purchase_orders::create_purchase_order).get(purchase_orders::list_purchase_orders),
        )
        .route(
            "/purchase-orders/:id",
            get(purchase_orders::get_purchase_order)
                .put(purchase_orders::update_purchase_order)
                .delete(purchase_orders::delete_purchase_order),
        )
        .route(
            "/purchase-orders/:id/approve",
            put(purchase_orders::approve_purchase_order),
        )
        .route(
            "/purchase-orders/:id/receipts",
            post(purchase_orders::create_goods_receipt).get(purchase_orders::list_goods_receipts),
        )
        .route(
            "/invoices",
            post(invoices::submit_invoice).get(invoices::list_invoices),
        )
        .route(
            "/invoices/:id",
            get(invoices::get_invoice)
                .put(invoices::update_invoice)
                .delete(invoices::delete_invoice),
        )
        .route("/invoices/:id/reconcile", put(invoices::reconcile_invoice))
        .route("/payments", get(payments::list_payments))
        .route(
            "/payments/:invoice_id/approve",
            post(payments::approve_payment),
        )
        .route(
            "/payments/:id",
            get(payments::get_payment).put(payments::update_payment),
        )
        .route("/payments/:id/files", get(payments::list_payment_files))
        .route(
            "/payments/:id/files/:format",
            get(payments::download_payment_file),
        )
        .route("/exports", get(exports::list_exports))
        .route(
            "/exports/:payment_id/:file_type",
            get(exports::download_export),
        )
        .route("/workday/callback", post(workday::workday_callback))
        .route("/workday/status/:payment_id", get(workday::workday_status))
        .route("/audit", get(audit::list_audit))
        .route("/health", get(meta::health));
    Router::new()
        .nest(PREFIX, api)
        .route("/health", get(meta::health))
        .route("/openapi.json", get(meta::openapi_json))
        .fallback(meta::not_found)
        .method_not_allowed_fallback(meta::method_not_allowed)
}

/// `limit` 1..=100 (default 20) and the opaque cursor.
pub fn page_request(limit: Option<u32>, next_token: Option<String>) -> ApiResult<PageRequest> {
    if let Some(l) = limit {
        if !(1..=MAX_PAGE_SIZE).contains(&l) {
            return Err(ApiError::field(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_PAGE_SIZE}, got {l}"),
            ));
        }
    }
    let cursor = match next_token {
        Some(t) if t.trim().is_empty() => {
            return Err(ApiError::field(
                "next_token",
                "invalid_cursor",
                "next_token may not be empty",
            ))
        }
        other => other,
    };
    Ok(PageRequest { limit, cursor })
}

/// `201 Created` with a `Location` header.
pub fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// An audit entry by the caller.
pub fn audit_entry(
    state: &AppState,
    caller: &Caller,
    audit_type: AuditType,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    details: serde_json::Value,
) -> AuditEntry {
    AuditEntry::new(
        state.services.ids.as_ref(),
        audit_type,
        action,
        entity_type,
        entity_id,
        &caller.id,
        state.services.clock.now(),
        details,
    )
}

/// Commits a change set (state changes with their audit entries, all or nothing).
pub async fn commit(state: &AppState, changes: ChangeSet) -> ApiResult<()> {
    state
        .services
        .store
        .commit(changes)
        .await
        .map_err(Into::into)
}

/// Rejects ids that cannot exist (empty or absurdly long) before touching the store.
pub fn check_id(field: &str, id: &str) -> ApiResult<()> {
    if id.trim().is_empty() || id.len() > p2p_core::validation::MAX_ID_LEN {
        return Err(ApiError::field(
            field,
            "invalid_id",
            format!(
                "{field} must be 1 to {} characters",
                p2p_core::validation::MAX_ID_LEN
            ),
        ));
    }
    Ok(())
}
