//! `/api/v1/audit`: an entity's audit trail.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{check_id, page_request};
use crate::extract::ApiQuery;
use crate::model::{AuditEntryView, Page};
use crate::problem::ApiResult;
use crate::{AppState, Caller};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The vendor, PO, invoice or payment whose trail is wanted.
    pub entity_id: String,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    pub next_token: Option<String>,
}

/// An entity's audit entries, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "One page", body = Page<AuditEntryView>)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntryView>>> {
    caller.require_reader()?;
    check_id("entity_id", &q.entity_id)?;
    let page = page_request(q.limit, q.next_token)?;
    let p = state.services.store.list_audit(&q.entity_id, &page).await?;
    Ok(Json(Page {
        items: p.items.into_iter().map(Into::into).collect(),
        next_token: p.next_cursor,
    }))
}
