//! `/api/v1/invoices`.
//!
//! Submission validates with the full rules (the due date must be in the future, the
//! amount limit, ...), then stores through `process-invoice`'s use case (vendor + PO must
//! exist, unique number per vendor by the store's guard, `CREATE` audit, `InvoiceSubmitted`).
//! The stored invoice is `received`; reconciliation is `PUT /invoices/{id}/reconcile` or
//! the scheduled job.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use p2p_adapters::{ChangeSet, Expect, InvoiceQuery, Write};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::invoice::{Invoice, InvoiceStatus as CoreInvoiceStatus};
use p2p_core::validation::{
    build_invoice, validate, InvoiceLineInput, InvoiceSubmission, SubmissionShape, ValidationPolicy,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{audit_entry, check_id, commit, created, page_request};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::model::{
    InvoiceCreate, InvoiceStatus, InvoiceUpdate, InvoiceView, Page, ReconciliationView,
};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller, Role};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    pub po_id: Option<String>,
    pub vendor_id: Option<String>,
    pub status: Option<InvoiceStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

pub(crate) async fn load_invoice(state: &AppState, id: &str) -> ApiResult<Invoice> {
    check_id("id", id)?;
    state
        .services
        .store
        .get_invoice(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("invoice `{id}` not found")))
}

/// Submit an invoice against a purchase order (the caller is the submitter).
#[utoipa::path(post, path = "/api/v1/invoices", tag = "invoices", request_body = InvoiceCreate,
    responses((status = 201, description = "Stored (status received)", body = InvoiceView)))]
pub async fn submit_invoice(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<InvoiceCreate>,
) -> ApiResult<Response> {
    caller.require(&[Role::Clerk], "submit invoices")?;
    check_id("po_id", &body.po_id)?;
    let store = &state.services.store;
    let po = store
        .get_purchase_order(&body.po_id)
        .await?
        .ok_or_else(|| ApiError::missing_reference("po_id", "purchase order", &body.po_id))?;
    if !po.status.accepts_invoices() {
        return Err(ApiError::Rule {
            rule: "po_accepts_invoices".into(),
            message: format!(
                "purchase order {} is {}; invoices are accepted on approved or sent POs",
                po.id, po.status
            ),
        });
    }
    let vendor_id = match body.vendor_id {
        Some(v) if v != po.vendor_id => {
            return Err(ApiError::Rule {
                rule: "vendor_matches_po".into(),
                message: format!(
                    "vendor_id {v} is not the vendor of purchase order {}",
                    po.id
                ),
            })
        }
        _ => po.vendor_id.clone(),
    };
    let vendor = store
        .get_vendor(&vendor_id)
        .await?
        .ok_or_else(|| ApiError::missing_reference("vendor_id", "vendor", &vendor_id))?;
    let submission = InvoiceSubmission {
        invoice_number: Some(body.invoice_number),
        vendor_id: Some(vendor_id),
        vendor_email: None,
        po_id: Some(body.po_id),
        invoice_date: body.invoice_date.map(|d| d.to_string()),
        due_date: body.due_date.map(|d| d.to_string()),
        currency: body.currency,
        lines: body.lines.into_iter().map(Into::into).collect(),
        subtotal: None,
        tax_amount: body.tax_amount,
        total_amount: Some(body.total_amount),
        description: body.description,
        notes: body.notes,
        submitted_by: None,
        shape: SubmissionShape::Canonical,
    };
    let policy = ValidationPolicy {
        require_po: true,
        ..state.config.rules.validation.clone()
    };
    let report = validate(
        &submission,
        &policy,
        state.services.clock.today(),
        Some(&vendor.payment_terms),
    );
    if !report.valid {
        return Err(ApiError::validation(report.errors));
    }
    let document = serde_json::to_value(&report.invoice)
        .map_err(|e| ApiError::Internal(format!("cannot serialize the submission: {e}")))?;
    let out = process_invoice::handle(
        &state.services,
        &state.config.process,
        json!({"invoice": document, "submitted_by": caller.id, "source": "api"}),
    )
    .await?;
    let id = out["invoice_id"]
        .as_str()
        .ok_or_else(|| ApiError::Internal("process-invoice returned no invoice_id".into()))?;
    let invoice = load_invoice(&state, id).await?;
    Ok(created(
        format!("/api/v1/invoices/{}", invoice.id),
        InvoiceView::from(invoice),
    ))
}

/// List invoices, optionally by PO, vendor and status.
#[utoipa::path(get, path = "/api/v1/invoices", tag = "invoices", params(InvoiceListQuery),
    responses((status = 200, description = "One page", body = Page<InvoiceView>)))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InvoiceListQuery>,
) -> ApiResult<Json<Page<InvoiceView>>> {
    caller.require_reader()?;
    let page = page_request(q.limit, q.next_token)?;
    let query = InvoiceQuery {
        po_id: q.po_id,
        vendor_id: q.vendor_id,
        status: q.status.map(Into::into),
    };
    let p = state.services.store.list_invoices(&query, &page).await?;
    Ok(Json(Page {
        items: p.items.into_iter().map(Into::into).collect(),
        next_token: p.next_cursor,
    }))
}

/// Get an invoice.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "The invoice", body = InvoiceView)))]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<InvoiceView>> {
    caller.require_reader()?;
    Ok(Json(load_invoice(&state, &id).await?.into()))
}

/// Correct an invoice before it is matched; a rejected or needs-review invoice goes back
/// to `received`.
#[utoipa::path(put, path = "/api/v1/invoices/{id}", tag = "invoices", request_body = InvoiceUpdate,
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "Updated", body = InvoiceView)))]
pub async fn update_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<InvoiceUpdate>,
) -> ApiResult<Json<InvoiceView>> {
    caller.require(&[Role::Clerk], "correct invoices")?;
    let existing = load_invoice(&state, &id).await?;
    if !existing.status.is_editable() {
        return Err(ApiError::InvalidTransition(format!(
            "invoice {id} is {}; only invoices not yet matched can be changed",
            existing.status
        )));
    }
    let due_date_changed = body.due_date.is_some();
    let lines = match body.lines {
        Some(lines) => lines.into_iter().map(Into::into).collect(),
        None => existing
            .lines
            .iter()
            .map(|l| InvoiceLineInput {
                line_no: Some(l.line_no),
                po_line_no: l.po_line_no,
                description: Some(l.description.clone()),
                quantity: Some(l.quantity),
                unit_price: Some(l.unit_price),
                amount: Some(l.amount),
            })
            .collect(),
    };
    let submission = InvoiceSubmission {
        invoice_number: Some(existing.invoice_number.clone()),
        vendor_id: Some(existing.vendor_id.clone()),
        vendor_email: None,
        po_id: Some(existing.po_id.clone()),
        invoice_date: Some(
            body.invoice_date
                .unwrap_or(existing.invoice_date)
                .to_string(),
        ),
        due_date: Some(body.due_date.unwrap_or(existing.due_date).to_string()),
        currency: Some(
            body.currency
                .unwrap_or_else(|| existing.currency.code().to_string()),
        ),
        lines,
        subtotal: None,
        tax_amount: Some(body.tax_amount.unwrap_or(existing.tax_amount)),
        // New lines need their new total; unchanged ones keep the stored one.
        total_amount: body.total_amount.or(Some(existing.total_amount)),
        description: body.description.or_else(|| existing.description.clone()),
        notes: body.notes.or_else(|| existing.notes.clone()),
        submitted_by: None,
        shape: SubmissionShape::Canonical,
    };
    // A stored due date that has passed since submission is not the corrector's fault.
    let policy = ValidationPolicy {
        require_po: true,
        require_future_due_date: state.config.rules.validation.require_future_due_date
            && due_date_changed,
        ..state.config.rules.validation.clone()
    };
    let now = state.services.clock.now();
    let report = validate(&submission, &policy, now.date_naive(), None);
    if !report.valid {
        return Err(ApiError::validation(report.errors));
    }
    let mut updated = build_invoice(
        &report,
        existing.id.clone(),
        &existing.submitted_by,
        now,
        existing.source,
    )?;
    updated.status = match existing.status {
        CoreInvoiceStatus::Rejected | CoreInvoiceStatus::NeedsReview => {
            existing
                .with_status(CoreInvoiceStatus::Received, now)?
                .status
        }
        s => s,
    };
    if updated.status != existing.status {
        updated.match_report = None;
    } else {
        updated.match_report = existing.match_report.clone();
    }
    updated.extraction = existing.extraction.clone();
    updated.submitted_at = existing.submitted_at;
    updated.created_at = existing.created_at;
    updated.version = existing.version + 1;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::InvoiceAction,
        action::UPDATE,
        entity::INVOICE,
        &id,
        json!({
            "po_id": updated.po_id,
            "invoice_number": updated.invoice_number,
            "previous_status": existing.status,
            "new_status": updated.status,
            "changes": {"previous": existing, "current": updated},
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutInvoice(
                updated.clone(),
                Expect::Version(existing.version),
            ))
            .audit(audit),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// Reconcile the invoice against its PO and receipts now; returns the report.
#[utoipa::path(put, path = "/api/v1/invoices/{id}/reconcile", tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "The outcome and its report", body = ReconciliationView)))]
pub async fn reconcile_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReconciliationView>> {
    caller.require(&[Role::Clerk, Role::Approver], "reconcile invoices")?;
    check_id("id", &id)?;
    let out =
        reconcile::reconcile_invoice(&state.services, &state.config.reconcile, &id, &caller.id)
            .await?;
    let view: ReconciliationView = serde_json::from_value(out)
        .map_err(|e| ApiError::Internal(format!("unexpected reconcile output: {e}")))?;
    Ok(Json(view))
}

/// Delete an invoice not matched yet (admin); audited with the full record.
#[utoipa::path(delete, path = "/api/v1/invoices/{id}", tag = "invoices",
    params(("id" = String, Path, description = "Invoice id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[], "delete invoices")?;
    let invoice = load_invoice(&state, &id).await?;
    if !invoice.status.is_deletable() {
        return Err(ApiError::InvalidTransition(format!(
            "invoice {id} is {}; only unmatched invoices can be deleted",
            invoice.status
        )));
    }
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::InvoiceAction,
        action::DELETE,
        entity::INVOICE,
        &id,
        json!({ "record": invoice }),
    );
    let version = invoice.version;
    commit(
        &state,
        ChangeSet::new()
            .write(Write::DeleteInvoice {
                invoice: Box::new(invoice),
                version,
            })
            .audit(audit),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
