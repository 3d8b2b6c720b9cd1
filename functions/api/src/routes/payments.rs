//! `/api/v1/payments`: approval (through `approve-payment`'s use case), reads, updates and
//! the payment files.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use p2p_adapters::{ChangeSet, Expect, PaymentQuery, StoreError, Write};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::payment::PaymentStatus as CorePaymentStatus;
use p2p_core::payment::{payment_file_key, payment_id_for, Payment, PaymentFileFormat};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::invoices::load_invoice;
use super::{audit_entry, check_id, commit, created, page_request};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::model::{
    download_url, FileFormat, Page, PaymentFileView, PaymentFilesView, PaymentStatus,
    PaymentStatusChange, PaymentUpdate, PaymentView,
};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller, Role};

/// Audit action of a payment file download (the seed's `EXPORT_ACTION`).
pub const DOWNLOAD: &str = "DOWNLOAD";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentListQuery {
    pub status: Option<PaymentStatus>,
    pub vendor_id: Option<String>,
    pub invoice_id: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

pub(crate) async fn load_payment(state: &AppState, id: &str) -> ApiResult<Payment> {
    check_id("id", id)?;
    state
        .services
        .store
        .get_payment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("payment `{id}` not found")))
}

pub(crate) fn parse_format(field: &str, text: &str) -> ApiResult<PaymentFileFormat> {
    match text {
        "xml" => Ok(PaymentFileFormat::Xml),
        "json" => Ok(PaymentFileFormat::Json),
        other => Err(ApiError::field(
            field,
            "unknown_format",
            format!("`{other}` is not a payment file format; use xml or json"),
        )),
    }
}

pub(crate) fn stored_key(payment: &Payment, format: PaymentFileFormat) -> Option<&String> {
    match format {
        PaymentFileFormat::Xml => payment.xml_s3_key.as_ref(),
        PaymentFileFormat::Json => payment.json_s3_key.as_ref(),
    }
}

/// Approve a matched invoice's payment and generate its Workday files (approver; never the
/// invoice's submitter). The approver is the caller.
#[utoipa::path(post, path = "/api/v1/payments/{invoice_id}/approve", tag = "payments",
    params(("invoice_id" = String, Path, description = "The matched invoice")),
    responses((status = 201, description = "Payment approved with its files", body = PaymentView)))]
pub async fn approve_payment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(invoice_id): ApiPath<String>,
) -> ApiResult<Response> {
    caller.require(&[Role::Approver], "approve payments")?;
    let invoice = load_invoice(&state, &invoice_id).await?;
    if invoice.submitted_by.eq_ignore_ascii_case(&caller.id) {
        return Err(ApiError::SegregationOfDuties(format!(
            "{} submitted invoice {invoice_id} and may not approve its payment",
            caller.id
        )));
    }
    if let Some(p) = state
        .services
        .store
        .get_payment(&payment_id_for(&invoice.id))
        .await?
    {
        // A finished approval is not repeated; an interrupted one is completed below.
        if p.xml_s3_key.is_some() && p.json_s3_key.is_some() {
            return Err(ApiError::Conflict(format!(
                "invoice {invoice_id} is already approved: payment {} by {}",
                p.id, p.approved_by
            )));
        }
    }
    let out = approve_payment::handle(
        &state.services,
        &state.config.approve,
        json!({
            "invoice_id": invoice.id,
            "approved_by": caller.id,
            "has_approver_role": caller.is_approver(),
        }),
    )
    .await?;
    let id = out["payment_id"]
        .as_str()
        .ok_or_else(|| ApiError::Internal("approve-payment returned no payment_id".into()))?;
    let payment = load_payment(&state, id).await?;
    Ok(created(
        format!("/api/v1/payments/{}", payment.id),
        PaymentView::from(payment),
    ))
}

/// List payments, optionally by status, vendor and invoice.
#[utoipa::path(get, path = "/api/v1/payments", tag = "payments", params(PaymentListQuery),
    responses((status = 200, description = "One page", body = Page<PaymentView>)))]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PaymentListQuery>,
) -> ApiResult<Json<Page<PaymentView>>> {
    caller.require_reader()?;
    let page = page_request(q.limit, q.next_token)?;
    let query = PaymentQuery {
        status: q.status.map(Into::into),
        vendor_id: q.vendor_id,
        invoice_id: q.invoice_id,
    };
    let p = state.services.store.list_payments(&query, &page).await?;
    Ok(Json(Page {
        items: p.items.into_iter().map(Into::into).collect(),
        next_token: p.next_cursor,
    }))
}

/// Get a payment with its file links.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "Payment id")),
    responses((status = 200, description = "The payment", body = PaymentView)))]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PaymentView>> {
    caller.require_reader()?;
    Ok(Json(load_payment(&state, &id).await?.into()))
}

/// Update a payment's notes, or mark a delivery failed / retry it (approver). `sent` is
/// set only by Workday's callback.
#[utoipa::path(put, path = "/api/v1/payments/{id}", tag = "payments", request_body = PaymentUpdate,
    params(("id" = String, Path, description = "Payment id")),
    responses((status = 200, description = "Updated", body = PaymentView)))]
pub async fn update_payment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<PaymentUpdate>,
) -> ApiResult<Json<PaymentView>> {
    caller.require(&[Role::Approver], "update payments")?;
    let existing = load_payment(&state, &id).await?;
    let now = state.services.clock.now();
    let mut updated = match body.status {
        Some(change) => {
            let to = match change {
                PaymentStatusChange::Approved => CorePaymentStatus::Approved,
                PaymentStatusChange::Failed => CorePaymentStatus::Failed,
            };
            if to == existing.status {
                let mut p = existing.clone();
                p.updated_at = now;
                p.version += 1;
                p
            } else {
                existing.with_status(to, now)?
            }
        }
        None => {
            let mut p = existing.clone();
            p.updated_at = now;
            p.version += 1;
            p
        }
    };
    if let Some(notes) = body.notes {
        updated.notes = Some(notes.trim().to_string()).filter(|n| !n.is_empty());
    }
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PaymentAction,
        action::UPDATE_VIA_API,
        entity::PAYMENT,
        &id,
        json!({
            "invoice_id": updated.invoice_id,
            "vendor_id": updated.vendor_id,
            "previous_status": existing.status,
            "status": updated.status,
            "notes": updated.notes,
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutPayment(
                updated.clone(),
                Expect::Version(existing.version),
            ))
            .audit(audit),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// The payment's files with their availability.
#[utoipa::path(get, path = "/api/v1/payments/{id}/files", tag = "payments",
    params(("id" = String, Path, description = "Payment id")),
    responses((status = 200, description = "The files", body = PaymentFilesView)))]
pub async fn list_payment_files(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PaymentFilesView>> {
    caller.require_reader()?;
    let payment = load_payment(&state, &id).await?;
    let mut files = Vec::new();
    for format in [PaymentFileFormat::Xml, PaymentFileFormat::Json] {
        let key = stored_key(&payment, format)
            .cloned()
            .unwrap_or_else(|| payment_file_key(&payment.id, format));
        let info = if stored_key(&payment, format).is_some() {
            state
                .services
                .objects
                .head_object(&state.services.buckets.payments, &key)
                .await?
        } else {
            None
        };
        files.push(PaymentFileView {
            format: FileFormat::from(format),
            content_type: format.content_type().to_string(),
            available: info.is_some(),
            size_bytes: info.as_ref().map(|i| i.size),
            last_modified: info.and_then(|i| i.last_modified),
            download_url: download_url(&payment.id, format),
            key,
        });
    }
    Ok(Json(PaymentFilesView {
        payment_id: payment.id,
        files,
    }))
}

/// The file body with download headers; the download is audited.
pub(crate) async fn download(
    state: &AppState,
    caller: &Caller,
    payment_id: &str,
    format: PaymentFileFormat,
) -> ApiResult<Response> {
    let payment = load_payment(state, payment_id).await?;
    let key = stored_key(&payment, format).ok_or_else(|| {
        ApiError::NotFound(format!("payment {payment_id} has no {format} file yet"))
    })?;
    let object = match state
        .services
        .objects
        .get_object(&state.services.buckets.payments, key)
        .await
    {
        Ok(o) => o,
        Err(StoreError::NotFound { .. }) => {
            return Err(ApiError::NotFound(format!(
                "the {format} file of payment {payment_id} is missing from storage"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let audit = audit_entry(
        state,
        caller,
        AuditType::ExportAction,
        DOWNLOAD,
        entity::PAYMENT,
        payment_id,
        json!({"key": key, "file_type": format, "size": object.body.len()}),
    );
    commit(state, ChangeSet::new().audit(audit)).await?;
    let mut response = object.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.{}\"",
        payment_id.replace(['"', '\\'], ""),
        format.as_str()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Download a payment file (`xml` or `json`).
#[utoipa::path(get, path = "/api/v1/payments/{id}/files/{format}", tag = "payments",
    params(("id" = String, Path, description = "Payment id"),
        ("format" = FileFormat, Path, description = "xml or json")),
    responses((status = 200, description = "The file",
        content((String = "application/xml"), (Object = "application/json")),
        headers(("Content-Disposition" = String, description = "attachment; filename=..."))))
)]
pub async fn download_payment_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, format)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    caller.require_reader()?;
    let format = parse_format("format", &format)?;
    download(&state, &caller, &id, format).await
}
