//! The OpenAPI document, generated from the handlers' annotations and the wire types.
//! What every operation shares (the problem responses, the security requirement) is added
//! here once, so the annotations stay about each route's own success answer.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, ResponseBuilder, SecurityRequirement};
use utoipa::{Modify, OpenApi};

use crate::auth::AuthMode;
use crate::problem::{FieldProblem, Problem, PROBLEM_CONTENT_TYPE};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "P2P invoice automation API",
        description = "Vendors, purchase orders, goods receipts, invoices, payments, exports, Workday integration and audit. Errors are RFC 9457 problem documents. Lists page with `limit` and the opaque `next_token`.",
    ),
    paths(
        routes::vendors::create_vendor,
        routes::vendors::list_vendors,
        routes::vendors::get_vendor,
        routes::vendors::update_vendor,
        routes::vendors::delete_vendor,
        routes::vendors::list_vendor_purchase_orders,
        routes::purchase_orders::create_purchase_order,
        routes::purchase_orders::list_purchase_orders,
        routes::purchase_orders::get_purchase_order,
        routes::purchase_orders::update_purchase_order,
        routes::purchase_orders::approve_purchase_order,
        routes::purchase_orders::delete_purchase_order,
        routes::purchase_orders::create_goods_receipt,
        routes::purchase_orders::list_goods_receipts,
        routes::invoices::submit_invoice,
        routes::invoices::list_invoices,
        routes::invoices::get_invoice,
        routes::invoices::update_invoice,
        routes::invoices::reconcile_invoice,
        routes::invoices::delete_invoice,
        routes::payments::approve_payment,
        routes::payments::list_payments,
        routes::payments::get_payment,
        routes::payments::update_payment,
        routes::payments::list_payment_files,
        routes::payments::download_payment_file,
        routes::exports::list_exports,
        routes::exports::download_export,
        routes::workday::workday_callback,
        routes::workday::workday_status,
        routes::audit::list_audit,
        routes::meta::health,
        routes::meta::openapi_json,
    ),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "vendors"), (name = "purchase-orders"), (name = "invoices"),
        (name = "payments"), (name = "exports"), (name = "workday"), (name = "audit"),
        (name = "meta"),
    )
)]
pub struct ApiDoc;

/// Security scheme names.
pub const JWT_SCHEME: &str = "jwt";
pub const DEV_SCHEME: &str = "dev_user";
pub const WORKDAY_SCHEME: &str = "workday_signature";

struct Shared {
    auth: AuthMode,
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build()
}

const ERRORS: &[(&str, &str)] = &[
    ("400", "Invalid request (field-level details in `errors`)"),
    ("401", "Not authenticated"),
    ("403", "Role missing, or segregation of duties"),
    ("404", "Not found"),
    (
        "409",
        "Duplicate, invalid status transition, version conflict or replay",
    ),
    ("413", "Body too large"),
    ("415", "Body is not application/json"),
    ("422", "A business rule refuses the request"),
    ("500", "Unexpected error (details only in the logs)"),
    ("503", "A backend is temporarily unavailable; retry"),
];

impl Shared {
    fn decorate(&self, path: &str, op: &mut Operation, method: &str) {
        if !path.starts_with(routes::PREFIX) {
            return;
        }
        let writes = method != "get";
        for (code, description) in ERRORS {
            let only_writes = matches!(*code, "409" | "413" | "415" | "422");
            if only_writes && !writes {
                continue;
            }
            op.responses
                .responses
                .entry((*code).to_string())
                .or_insert_with(|| problem_response(description).into());
        }
        if op.security.is_none() {
            let scheme = match self.auth {
                AuthMode::DevHeaders => DEV_SCHEME,
                AuthMode::Jwt | AuthMode::Refuse => JWT_SCHEME,
            };
            op.security = Some(vec![SecurityRequirement::new::<_, _, &str>(scheme, [])]);
        }
    }
}

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        match self.auth {
            AuthMode::DevHeaders => components.add_security_scheme(
                DEV_SCHEME,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-Dev-User",
                    "Local --dev-auth: the caller id; groups in X-Dev-Groups (comma-separated)",
                ))),
            ),
            AuthMode::Jwt | AuthMode::Refuse => components.add_security_scheme(
                JWT_SCHEME,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "Cognito user pool JWT, verified by the API Gateway authorizer; groups ap-clerk, ap-approver, ap-admin",
                        ))
                        .build(),
                ),
            ),
        }
        components.add_security_scheme(
            WORKDAY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-P2P-Signature",
                "sha256=<hex HMAC-SHA256(secret, \"<X-P2P-Timestamp>.<body>\")>",
            ))),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                if let Some(op) = op {
                    self.decorate(path, op, method);
                }
            }
        }
    }
}

/// The document as served in `mode`: the security scheme says how this server
/// authenticates (bearer JWT on AWS, the dev header locally).
pub fn document(auth: AuthMode) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    Shared { auth }.modify(&mut doc);
    doc
}
