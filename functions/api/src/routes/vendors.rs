//! `/api/v1/vendors`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use p2p_adapters::{
    ChangeSet, Expect, InvoiceQuery, PageRequest, PurchaseOrderQuery, VendorQuery, Write,
};
use p2p_core::audit::{action, entity, AuditType};
use p2p_core::clock::{derived_id, prefix};
use p2p_core::events::{DomainEvent, DomainEventType};
use p2p_core::vendor::{Vendor, VendorInput};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{audit_entry, check_id, commit, created, page_request};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::model::{Page, PurchaseOrderView, VendorCreate, VendorStatus, VendorUpdate, VendorView};
use crate::problem::{ApiError, ApiResult};
use crate::{AppState, Caller, Role};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorListQuery {
    pub status: Option<VendorStatus>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

pub(crate) async fn load_vendor(state: &AppState, id: &str) -> ApiResult<Vendor> {
    check_id("id", id)?;
    state
        .services
        .store
        .get_vendor(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("vendor `{id}` not found")))
}

fn status_text(s: Option<VendorStatus>) -> Option<String> {
    s.map(|s| p2p_core::vendor::VendorStatus::from(s).as_str().to_string())
}

/// Register a vendor.
#[utoipa::path(post, path = "/api/v1/vendors", tag = "vendors", request_body = VendorCreate,
    responses((status = 201, description = "Registered", body = VendorView)))]
pub async fn create_vendor(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<VendorCreate>,
) -> ApiResult<Response> {
    caller.require(&[Role::Clerk], "register vendors")?;
    let now = state.services.clock.now();
    let input = VendorInput {
        name: Some(body.name),
        email: Some(body.email),
        phone: body.phone,
        address: body.address,
        tax_id: body.tax_id,
        payment_terms: body.payment_terms,
        status: status_text(body.status),
        bank_account: body.bank_account.map(Into::into),
    };
    let vendor = input.into_vendor(state.services.ids.new_id(prefix::VENDOR), now)?;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::VendorAction,
        action::CREATE,
        entity::VENDOR,
        &vendor.id,
        json!({"name": vendor.name, "email": vendor.email.as_str(), "status": vendor.status}),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutVendor(vendor.clone(), Expect::Absent))
            .audit(audit),
    )
    .await?;
    let event = DomainEvent::new(
        derived_id(prefix::EVENT, &["VendorRegistered", &vendor.id]),
        DomainEventType::VendorRegistered,
        &vendor.id,
        None,
        now,
        json!({"name": vendor.name, "status": vendor.status, "registered_by": caller.id}),
    );
    // The vendor is stored either way; a lost event is logged, not a failed request.
    if let Err(e) = state.services.events.publish(&[event]).await {
        tracing::warn!(vendor_id = %vendor.id, error = %e, "VendorRegistered not published");
    }
    Ok(created(
        format!("/api/v1/vendors/{}", vendor.id),
        VendorView::from(vendor),
    ))
}

/// List vendors, optionally by status.
#[utoipa::path(get, path = "/api/v1/vendors", tag = "vendors", params(VendorListQuery),
    responses((status = 200, description = "One page", body = Page<VendorView>)))]
pub async fn list_vendors(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<VendorListQuery>,
) -> ApiResult<Json<Page<VendorView>>> {
    caller.require_reader()?;
    let page = page_request(q.limit, q.next_token)?;
    let query = VendorQuery {
        status: q.status.map(Into::into),
    };
    let p = state.services.store.list_vendors(&query, &page).await?;
    Ok(Json(Page {
        items: p.items.into_iter().map(Into::into).collect(),
        next_token: p.next_cursor,
    }))
}

/// Get a vendor.
#[utoipa::path(get, path = "/api/v1/vendors/{id}", tag = "vendors",
    params(("id" = String, Path, description = "Vendor id")),
    responses((status = 200, description = "The vendor", body = VendorView)))]
pub async fn get_vendor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<VendorView>> {
    caller.require_reader()?;
    Ok(Json(load_vendor(&state, &id).await?.into()))
}

/// Update a vendor (status changes follow the vendor lifecycle).
#[utoipa::path(put, path = "/api/v1/vendors/{id}", tag = "vendors", request_body = VendorUpdate,
    params(("id" = String, Path, description = "Vendor id")),
    responses((status = 200, description = "Updated", body = VendorView)))]
pub async fn update_vendor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    JsonBody(body): JsonBody<VendorUpdate>,
) -> ApiResult<Json<VendorView>> {
    caller.require(&[Role::Clerk], "update vendors")?;
    let existing = load_vendor(&state, &id).await?;
    let input = VendorInput {
        name: body.name,
        email: body.email,
        phone: body.phone,
        address: body.address,
        tax_id: body.tax_id,
        payment_terms: body.payment_terms,
        status: status_text(body.status),
        bank_account: body.bank_account.map(Into::into),
    };
    let updated = input.apply_to(&existing, state.services.clock.now())?;
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::VendorAction,
        action::UPDATE,
        entity::VENDOR,
        &id,
        json!({
            "previous_status": existing.status,
            "new_status": updated.status,
            "previous": existing,
            "changes": updated,
        }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::PutVendor(
                updated.clone(),
                Expect::Version(existing.version),
            ))
            .audit(audit),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// Whether the vendor still has open purchase orders or unpaid invoices.
async fn open_business(state: &AppState, vendor_id: &str) -> ApiResult<Option<String>> {
    let store = &state.services.store;
    let query = PurchaseOrderQuery {
        vendor_id: Some(vendor_id.to_string()),
        status: None,
    };
    let mut page = PageRequest::first(p2p_adapters::MAX_PAGE_SIZE);
    loop {
        let p = store.list_purchase_orders(&query, &page).await?;
        if let Some(po) = p.items.iter().find(|po| po.status.is_open()) {
            return Ok(Some(format!("purchase order {} is {}", po.id, po.status)));
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    let query = InvoiceQuery {
        vendor_id: Some(vendor_id.to_string()),
        ..InvoiceQuery::default()
    };
    let mut page = PageRequest::first(p2p_adapters::MAX_PAGE_SIZE);
    loop {
        let p = store.list_invoices(&query, &page).await?;
        if let Some(inv) = p.items.iter().find(|i| i.status.is_unpaid()) {
            return Ok(Some(format!("invoice {} is {}", inv.id, inv.status)));
        }
        match p.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(None)
}

/// Delete a vendor with no open POs and no unpaid invoices (admin).
#[utoipa::path(delete, path = "/api/v1/vendors/{id}", tag = "vendors",
    params(("id" = String, Path, description = "Vendor id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_vendor(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[], "delete vendors")?;
    let vendor = load_vendor(&state, &id).await?;
    if let Some(reason) = open_business(&state, &id).await? {
        return Err(ApiError::Conflict(format!(
            "vendor {id} cannot be deleted while it has open business: {reason}"
        )));
    }
    let audit = audit_entry(
        &state,
        &caller,
        AuditType::VendorAction,
        action::DELETE,
        entity::VENDOR,
        &id,
        json!({ "record": vendor }),
    );
    commit(
        &state,
        ChangeSet::new()
            .write(Write::DeleteVendor {
                id: id.clone(),
                version: vendor.version,
            })
            .audit(audit),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The vendor's purchase orders.
#[utoipa::path(get, path = "/api/v1/vendors/{id}/purchase-orders", tag = "vendors",
    params(("id" = String, Path, description = "Vendor id"), PageQuery),
    responses((status = 200, description = "One page", body = Page<PurchaseOrderView>)))]
pub async fn list_vendor_purchase_orders(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<PurchaseOrderView>>> {
    caller.require_reader()?;
    let page = page_request(q.limit, q.next_token)?;
    load_vendor(&state, &id).await?;
    let query = PurchaseOrderQuery {
        vendor_id: Some(id),
        status: None,
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
