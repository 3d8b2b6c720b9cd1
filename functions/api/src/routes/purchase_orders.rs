//! `/api/v1/purchase-orders` and their goods receipts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use p2p_adapters::{ChangeSet, Expect, PurchaseOrderQuery, Write};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::clock::prefix;
use p2p_core::purchase_order::{
    GoodsReceiptInput, LineInput, PoStatus as CorePoStatus, PurchaseOrder, PurchaseOrderInput,
    ReceiptLineInput,
};
use p2p_core::status::Lifecycle;
use p2p_core::vendor::{Vendor, VendorStatus as CoreVendorStatus};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::vendors::load_vendor;
use super::{audit_entry, check_id, commit, created, page_request};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::model::{
    GoodsReceiptCreate, GoodsReceiptView, NewPoStatus, Page, PoStatus, PurchaseOrderCreate,
    PurchaseOrderUpdate, PurchaseOrderView,
};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller, Role};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PurchaseOrderListQuery {
    pub vendor_id: Option<String>,
    pub status: Option<PoStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

pub(crate) async fn load_purchase_order(state: &AppState, id: &str) -> ApiResult<PurchaseOrder> {
    check_id("id", id)?;
    state
        .services
        .store
        .get_purchase_order(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("purchase order `{id}` not found")))
}

fn new_status(s: NewPoStatus) -> CorePoStatus {
    match s {
        NewPoStatus::Draft => CorePoStatus::Draft,
        NewPoStatus::Pending => CorePoStatus::Pending,
    }
}

/// POs are raised and edited only for active vendors.
fn require_active(vendor: &Vendor) -> ApiResult<()> {
    if vendor.status != CoreVendorStatus::Active {
        return Err(ApiError::Rule {
            rule: "vendor_not_active".into(),
            message: format!("vendor {} is {}, not active", vendor.id, vendor.status),
        });
    }
    Ok(())
}

/// Raise a purchase order (the caller is the requester).
#[utoipa::path(post, path = "/api/v1/purchase-orders", tag = "purchase-orders",
    request_body = PurchaseOrderCreate,
    responses((status = 201, description = "Created", body = PurchaseOrderView)))]
pub async fn create_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<PurchaseOrderCreate>,
) -> ApiResult<Response> {
    caller.require(&[Role::Clerk], "raise purchase orders")?;
    check_id("vendor_id", &body.vendor_id)?;
    let vendor = state
        .services
        .store
        .get_vendor(&body.vendor_id)
        .await?
        .ok_or_else(|| ApiError::missing_reference("vendor_id", "vendor", &body.vendor_id))?;
    require_active(&vendor)?;
    let now = state.services.clock.now();
    let input = PurchaseOrderInput {
        po_number: body.po_number,
        vendor_id: Some(body.vendor_id),
        description: body.description,
        lines: body.lines.into_iter().map(Into::into).collect(),
        currency: body.currency,
        total_amount: body.total_amount,
        requested_by: Some(caller.id.clone()),
        delivery_date: body.delivery_date.map(|d| d.to_string()),
        status: body.status.map(|s| new_status(s).as_str().to_string()),
    };
    let po = input.into_purchase_order(
        state.services.ids.new_id(prefix::PURCHASE_ORDER),
        &vendor,
        now,
    )?;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PoAction,
        action::CREATE,
        entity::PURCHASE_ORDER,
        &po.id,
        json!({
            "vendor_id": po.vendor_id,
            "total_amount": po.total_amount.to_string(),
            "currency": po.currency.code(),
            "status": po.status,
            "items_count": po.lines.len(),
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutPurchaseOrder(po.clone(), Expect::Absent))
            .audit(audit),
    )
    .await?;
    Ok(created(
        format!("/api/v1/purchase-orders/{}", po.id),
        PurchaseOrderView::from(po),
    ))
}

/// List purchase orders, optionally by vendor and status.
#[utoipa::path(get, path = "/api/v1/purchase-orders", tag = "purchase-orders",
    params(PurchaseOrderListQuery),
    responses((status = 200, description = "One page", body = Page<PurchaseOrderView>)))]
pub async fn list_purchase_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PurchaseOrderListQuery>,
) -> ApiResult<Json<Page<PurchaseOrderView>>> {
    caller.require_reader()?;
    let page = page_request(q.limit, q.next_token)?;
    let query = PurchaseOrderQuery {
        vendor_id: q.vendor_id,
        status: q.status.map(Into::into),
    };
    let p = state
        .services
        .store
        .list_purchase_orders(&query, &page)
        .await?;
    Ok(Json(Page {
        items: p.items.into_iter().map(Into::into).collect(),
        next_token: p.next_cursor,
    }))
}

/// Get a purchase order.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", tag = "purchase-orders",
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 200, description = "The purchase order", body = PurchaseOrderView)))]
pub async fn get_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PurchaseOrderView>> {
    caller.require_reader()?;
    Ok(Json(load_purchase_order(&state, &id).await?.into()))
}

/// Edit a draft, pending or rejected PO (a rejected one goes back to draft).
#[utoipa::path(put, path = "/api/v1/purchase-orders/{id}", tag = "purchase-orders",
    request_body = PurchaseOrderUpdate,
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 200, description = "Updated", body = PurchaseOrderView)))]
pub async fn update_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<PurchaseOrderUpdate>,
) -> ApiResult<Json<PurchaseOrderView>> {
    caller.require(&[Role::Clerk], "edit purchase orders")?;
    let existing = load_purchase_order(&state, &id).await?;
    if !existing.status.is_editable() {
        return Err(ApiError::InvalidTransition(format!(
            "purchase order {id} is {}; only draft, pending or rejected POs can be edited",
            existing.status
        )));
    }
    let vendor = load_vendor(&state, &existing.vendor_id).await?;
    require_active(&vendor)?;
    let now = state.services.clock.now();
    let lines = match body.lines {
        Some(lines) => lines.into_iter().map(Into::into).collect(),
        None => existing
            .lines
            .iter()
            .map(|l| LineInput {
                line_no: Some(l.line_no),
                description: Some(l.description.clone()),
                quantity: Some(l.quantity),
                unit_price: Some(l.unit_price),
                amount: Some(l.amount),
            })
            .collect(),
    };
    let input = PurchaseOrderInput {
        po_number: Some(body.po_number.unwrap_or_else(|| existing.po_number.clone())),
        vendor_id: Some(existing.vendor_id.clone()),
        description: Some(
            body.description
                .unwrap_or_else(|| existing.description.clone()),
        ),
        lines,
        currency: Some(
            body.currency
                .unwrap_or_else(|| existing.currency.code().to_string()),
        ),
        total_amount: None,
        requested_by: Some(existing.requested_by.clone()),
        delivery_date: body
            .delivery_date
            .or(existing.delivery_date)
            .map(|d| d.to_string()),
        status: None,
    };
    let mut updated = input.into_purchase_order(existing.id.clone(), &vendor, now)?;
    let target = match body.status {
        Some(s) => new_status(s),
        None if existing.status == CorePoStatus::Rejected => CorePoStatus::Draft,
        None => existing.status,
    };
    updated.status = if target == existing.status {
        existing.status
    } else {
        existing.status.transition(target)?
    };
    updated.approved_by = existing.approved_by.clone();
    updated.created_at = existing.created_at;
    updated.version = existing.version + 1;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PoAction,
        action::UPDATE,
        entity::PURCHASE_ORDER,
        &id,
        json!({
            "vendor_id": updated.vendor_id,
            "previous_status": existing.status,
            "new_status": updated.status,
            "total_amount": updated.total_amount.to_string(),
            "changes": {"previous": existing, "current": updated},
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutPurchaseOrder(
                updated.clone(),
                Expect::Version(existing.version),
            ))
            .audit(audit),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// Approve a PO (approver; never the requester).
#[utoipa::path(put, path = "/api/v1/purchase-orders/{id}/approve", tag = "purchase-orders",
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 200, description = "Approved", body = PurchaseOrderView)))]
pub async fn approve_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PurchaseOrderView>> {
    caller.require(&[Role::Approver], "approve purchase orders")?;
    let existing = load_purchase_order(&state, &id).await?;
    let approved = existing.approve(&caller.id, state.services.clock.now())?;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PoAction,
        action::APPROVE,
        entity::PURCHASE_ORDER,
        &id,
        json!({
            "vendor_id": approved.vendor_id,
            "total_amount": approved.total_amount.to_string(),
            "previous_status": existing.status,
            "new_status": approved.status,
            "requested_by": approved.requested_by,
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutPurchaseOrder(
                approved.clone(),
                Expect::Version(existing.version),
            ))
            .audit(audit),
    )
    .await?;
    Ok(Json(approved.into()))
}

/// Delete a draft PO (admin); audited with the full record.
#[utoipa::path(delete, path = "/api/v1/purchase-orders/{id}", tag = "purchase-orders",
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[], "delete purchase orders")?;
    let po = load_purchase_order(&state, &id).await?;
    if po.status != CorePoStatus::Draft {
        return Err(ApiError::InvalidTransition(format!(
            "purchase order {id} is {}; only drafts can be deleted",
            po.status
        )));
    }
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PoAction,
        action::DELETE,
        entity::PURCHASE_ORDER,
        &id,
        json!({ "record": po }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::DeletePurchaseOrder {
                id: id.clone(),
                version: po.version,
            })
            .audit(audit),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record goods received on an approved or sent PO (the caller is the receiver).
#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/receipts", tag = "purchase-orders",
    request_body = GoodsReceiptCreate,
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 201, description = "Recorded", body = GoodsReceiptView)))]
pub async fn create_goods_receipt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<GoodsReceiptCreate>,
) -> ApiResult<Response> {
    caller.require(&[Role::Clerk], "record goods receipts")?;
    let po = load_purchase_order(&state, &id).await?;
    if !po.status.accepts_invoices() {
        return Err(ApiError::InvalidTransition(format!(
            "purchase order {id} is {}; goods are received only on approved or sent POs",
            po.status
        )));
    }
    let input = GoodsReceiptInput {
        lines: body
            .lines
            .into_iter()
            .map(|l| ReceiptLineInput {
                line_no: Some(l.line_no),
                quantity_accepted: l.quantity_accepted,
                quantity_rejected: l.quantity_rejected,
            })
            .collect(),
        received_by: Some(caller.id.clone()),
        received_at: body.received_at,
        notes: body.notes,
    };
    let receipt = input.into_receipt(
        state.services.ids.new_id(prefix::GOODS_RECEIPT),
        &po,
        state.services.clock.now(),
    )?;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::PoAction,
        action::RECEIVE,
        entity::GOODS_RECEIPT,
        &po.id,
        json!({"receipt_id": receipt.id, "lines": receipt.lines.len()}),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutGoodsReceipt(receipt.clone()))
            .audit(audit),
    )
    .await?;
    Ok(created(
        format!("/api/v1/purchase-orders/{id}/receipts"),
        GoodsReceiptView::from(receipt),
    ))
}

/// The PO's goods receipts, oldest first.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}/receipts", tag = "purchase-orders",
    params(("id" = String, Path, description = "Purchase order id")),
    responses((status = 200, description = "Every receipt", body = Page<GoodsReceiptView>)))]
pub async fn list_goods_receipts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Page<GoodsReceiptView>>> {
    caller.require_reader()?;
    load_purchase_order(&state, &id).await?;
    let receipts = state.services.store.list_goods_receipts(&id).await?;
    Ok(Json(Page {
        items: receipts.into_iter().map(Into::into).collect(),
        next_token: None,
    }))
}
