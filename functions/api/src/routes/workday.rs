//! `/api/v1/workday`: Workday's confirmation callback and the integration status.
//!
//! The callback authenticates by signature only (no JWT):
//! `X-P2P-Timestamp: <unix seconds>` and
//! `X-P2P-Signature: sha256=<hex HMAC-SHA256(WORKDAY_CALLBACK_SECRET, "<timestamp>.<raw body>")>`
//! (the scheme of `p2p_function_support::signature`, which the export monitor signs with).
//! Refused with 401: missing secret or headers, a timestamp outside the window (default
//! ±300 s), a signature that does not match the raw body.
//!
//! Replays (409) are refused durably, by the store, two ways: a signature already recorded
//! on the payment's `WORKDAY_CALLBACK` audit trail is a replay, and a confirmation of a
//! payment that is already `sent` is one too (its status can only be confirmed once).
//! Two identical callbacks racing each other both pass the first check, but only one
//! commit wins the payment's version; the other gets 409.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::Json;
use p2p_adapters::{ChangeSet, Expect, PageRequest, Write};
use p2p_core::audit::{action, entity, AuditEntry, AuditType};
use p2p_core::clock::{derived_id, prefix};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::invoice::InvoiceStatus as CoreInvoiceStatus;
use p2p_core::payment::{PaymentFileFormat, PaymentStatus as CorePaymentStatus};
use p2p_function_support::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use serde_json::json;

use super::payments::{load_payment, stored_key};
use super::{check_id, commit};
use crate::extract::{json_bytes, parse_json, ApiPath};
use crate::model::{WorkdayCallback, WorkdayCallbackResult, WorkdayOutcome, WorkdayStatusView};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller};

/// The audit actor of signed callbacks.
pub const WORKDAY_ACTOR: &str = "workday-callback";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> ApiResult<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Unauthenticated(format!("{name} header missing")))
}

/// Whether this signature was already accepted for the payment.
async fn seen_before(state: &AppState, payment_id: &str, sig: &str) -> ApiResult<bool> {
    let mut page = PageRequest::first(p2p_adapters::MAX_PAGE_SIZE);
    loop {
        let p = state.services.store.list_audit(payment_id, &page).await?;
        if p.items.iter().any(|a: &AuditEntry| {
            a.audit_type == AuditType::WorkdayCallback
                && a.details.get("signature").and_then(|s| s.as_str()) == Some(sig)
        }) {
            return Ok(true);
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => return Ok(false),
        }
    }
}

/// Workday confirms (or fails) a payment. Signed, not authenticated by JWT.
#[utoipa::path(post, path = "/api/v1/workday/callback", tag = "workday",
    request_body = WorkdayCallback,
    params(
        ("X-P2P-Timestamp" = String, Header, description = "Unix seconds of the signature"),
        ("X-P2P-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">")),
    security(("workday_signature" = [])),
    responses((status = 200, description = "Recorded", body = WorkdayCallbackResult)))]
pub async fn workday_callback(
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<Json<WorkdayCallbackResult>> {
    let headers = request.headers().clone();
    let body = json_bytes(request, state.config.max_body_bytes).await?;
    let Some(secret) = state.config.workday_secret.as_deref() else {
        tracing::error!("WORKDAY_CALLBACK_SECRET is not set: every Workday callback is refused");
        return Err(ApiError::Unauthenticated(
            "callback signatures cannot be verified".into(),
        ));
    };
    let timestamp = header(&headers, TIMESTAMP_HEADER)?;
    let sig = header(&headers, SIGNATURE_HEADER)?;
    let now = state.services.clock.now();
    signature::verify(
        secret,
        timestamp,
        sig,
        &body,
        now.timestamp(),
        state.config.callback_tolerance_seconds,
    )
    .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
    let callback: WorkdayCallback = parse_json(&body)?;
    check_id("payment_id", &callback.payment_id)?;
    let payment = load_payment(&state, &callback.payment_id).await?;
    let sig = sig.trim().to_ascii_lowercase();
    if seen_before(&state, &payment.id, &sig).await? {
        return Err(ApiError::Replay(format!(
            "this callback for payment {} was already received",
            payment.id
        )));
    }
    let mut invoice = state
        .services
        .store
        .get_invoice(&payment.invoice_id)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "payment {} names invoice {} which does not exist",
                payment.id, payment.invoice_id
            ))
        })?;
    let updated = match callback.status {
        WorkdayOutcome::Sent => {
            if payment.status == CorePaymentStatus::Sent {
                return Err(ApiError::Replay(format!(
                    "payment {} is already confirmed by Workday",
                    payment.id
                )));
            }
            payment.confirm_by_workday(now)?
        }
        WorkdayOutcome::Failed => payment.with_status(CorePaymentStatus::Failed, now)?,
    };
    let mut changes = ChangeSet::new().write(Write::PutPayment(
        updated.clone(),
        Expect::Version(payment.version),
    ));
    let pays_invoice =
        updated.status == CorePaymentStatus::Sent && invoice.status == CoreInvoiceStatus::Approved;
    if pays_invoice {
        let paid = invoice.with_status(CoreInvoiceStatus::Paid, now)?;
        changes = changes.write(Write::PutInvoice(
            paid.clone(),
            Expect::Version(invoice.version),
        ));
        invoice = paid;
    }
    let audit = AuditEntry::new(
        state.services.ids.as_ref(),
        AuditType::WorkdayCallback,
        action::CALLBACK_RECEIVED,
        entity::PAYMENT,
        &payment.id,
        WORKDAY_ACTOR,
        now,
        json!({
            "previous_status": payment.status,
            "status": updated.status,
            "invoice_id": payment.invoice_id,
            "invoice_status": invoice.status,
            "workday_confirmed_at": updated.workday_confirmed_at,
            "signature": sig,
            "signed_at": timestamp,
            "message": callback.message,
        }),
    );
    commit(&state, changes.audit(audit))
        .await
        .map_err(|e| match e {
            ApiError::Conflict(_) => ApiError::Replay(format!(
                "payment {} changed while this callback was processed (a concurrent delivery?)",
                payment.id
            )),
            other => other,
        })?;
    if pays_invoice {
        let event = DomainEvent::new(
            derived_id(prefix::EVENT, &["InvoicePaid", &payment.id]),
            DomainEventType::InvoicePaid,
            &payment.vendor_id,
            Some(&payment.invoice_id),
            now,
            json!({
                "payment_id": payment.id,
                "amount": payment.amount.to_string(),
                "currency": payment.currency.code(),
                "workday_confirmed_at": updated.workday_confirmed_at,
            }),
        );
        if let Err(e) = state.services.events.publish(&[event]).await {
            tracing::warn!(payment_id = %payment.id, error = %e, "InvoicePaid not published");
        }
    }
    Ok(Json(WorkdayCallbackResult {
        payment_id: updated.id.clone(),
        previous_status: payment.status.into(),
        current_status: updated.status.into(),
        workday_callback_received: updated.workday_callback_received,
        workday_confirmed_at: updated.workday_confirmed_at,
        invoice_id: invoice.id,
        invoice_status: invoice.status.into(),
    }))
}

/// The payment's Workday integration status (the seed's shape).
#[utoipa::path(get, path = "/api/v1/workday/status/{payment_id}", tag = "workday",
    params(("payment_id" = String, Path, description = "Payment id")),
    responses((status = 200, description = "The status", body = WorkdayStatusView)))]
pub async fn workday_status(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(payment_id): ApiPath<String>,
) -> ApiResult<Json<WorkdayStatusView>> {
    caller.require_reader()?;
    let payment = load_payment(&state, &payment_id).await?;
    let mut available = [false, false];
    for (i, format) in [PaymentFileFormat::Xml, PaymentFileFormat::Json]
        .into_iter()
        .enumerate()
    {
        if let Some(key) = stored_key(&payment, format) {
            available[i] = state
                .services
                .objects
                .head_object(&state.services.buckets.payments, key)
                .await?
                .is_some();
        }
    }
    let integration_status = if payment.workday_callback_received {
        "confirmed"
    } else if payment.status == CorePaymentStatus::Failed {
        "failed"
    } else if available == [true, true] {
        "pending"
    } else {
        "files_missing"
    };
    Ok(Json(WorkdayStatusView {
        payment_id: payment.id,
        current_status: payment.status.into(),
        workday_callback_received: payment.workday_callback_received,
        workday_confirmed_at: payment.workday_confirmed_at,
        xml_file_available: available[0],
        json_file_available: available[1],
        integration_status: integration_status.to_string(),
    }))
}
