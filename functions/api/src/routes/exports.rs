//! `/api/v1/exports`: the export dashboard.
//!
//! The seed listed every object under `payments/` and filtered by tags page by page; here
//! the payments index is paged instead (by status or vendor when filtered), and each page's
//! payments contribute their stored files (at most two each). `limit` therefore counts
//! payments, so a page holds up to `2 × limit` files; date and file-type filters apply to
//! the files of the page.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use p2p_adapters::PaymentQuery;
use p2p_core::payment::PaymentFileFormat;
use serde::Deserialize;
use utoipa::IntoParams;

use super::page_request;
use super::payments::{download, parse_format, stored_key};
use crate::extract::{ApiPath, ApiQuery};
use crate::model::{ExportFileView, FileFormat, Page, PaymentStatus};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportListQuery {
    /// Files uploaded on or after this day (UTC).
    pub start_date: Option<NaiveDate>,
    /// Files uploaded on or before this day (UTC).
    pub end_date: Option<NaiveDate>,
    pub vendor_id: Option<String>,
    pub status: Option<PaymentStatus>,
    pub file_type: Option<FileFormat>,
    /// Payments per page (each has up to two files).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

/// List payment files with their metadata and download links.
#[utoipa::path(get, path = "/api/v1/exports", tag = "exports", params(ExportListQuery),
    responses((status = 200, description = "One page", body = Page<ExportFileView>)))]
pub async fn list_exports(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportListQuery>,
) -> ApiResult<Json<Page<ExportFileView>>> {
    caller.require_reader()?;
    if let (Some(s), Some(e)) = (q.start_date, q.end_date) {
        if s > e {
            return Err(ApiError::field(
                "start_date",
                "invalid_range",
                format!("start_date {s} is after end_date {e}"),
            ));
        }
    }
    let page = page_request(q.limit, q.next_token)?;
    let query = PaymentQuery {
        status: q.status.map(Into::into),
        vendor_id: q.vendor_id,
        invoice_id: None,
    };
    let payments = state.services.store.list_payments(&query, &page).await?;
    let formats: Vec<PaymentFileFormat> = match q.file_type {
        Some(f) => vec![f.into()],
        None => vec![PaymentFileFormat::Xml, PaymentFileFormat::Json],
    };
    let mut items = Vec::new();
    for payment in &payments.items {
        for format in &formats {
            let Some(key) = stored_key(payment, *format) else {
                continue;
            };
            let Some(info) = state
                .services
                .objects
                .head_object(&state.services.buckets.payments, key)
                .await?
            else {
                continue;
            };
            let day = info.last_modified.map(|t| t.date_naive());
            let in_range = q.start_date.is_none_or(|s| day.is_some_and(|d| d >= s))
                && q.end_date.is_none_or(|e| day.is_some_and(|d| d <= e));
            if !in_range {
                continue;
            }
            items.push(ExportFileView {
                key: key.clone(),
                payment_id: payment.id.clone(),
                file_type: (*format).into(),
                vendor_id: payment.vendor_id.clone(),
                invoice_id: payment.invoice_id.clone(),
                amount: payment.amount,
                currency: payment.currency.code().to_string(),
                payment_status: payment.status.into(),
                upload_timestamp: info.last_modified,
                size_bytes: info.size,
                download_url: format!("/api/v1/exports/{}/{}", payment.id, format.as_str()),
            });
        }
    }
    Ok(Json(Page {
        items,
        next_token: payments.next_cursor,
    }))
}

/// Download one payment file (the payment must exist; its stored key is used).
#[utoipa::path(get, path = "/api/v1/exports/{payment_id}/{file_type}", tag = "exports",
    params(("payment_id" = String, Path, description = "Payment id"),
        ("file_type" = FileFormat, Path, description = "xml or json")),
    responses((status = 200, description = "The file",
        content((String = "application/xml"), (Object = "application/json")),
        headers(("Content-Disposition" = String, description = "attachment; filename=..."))))
)]
pub async fn download_export(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((payment_id, file_type)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    caller.require_reader()?;
    let format = parse_format("file_type", &file_type)?;
    download(&state, &caller, &payment_id, format).await
}
