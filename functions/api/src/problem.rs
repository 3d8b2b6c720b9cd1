//! Errors as RFC 9457 `application/problem+json`, with field-level details.
//!
//! | status | when |
//! | --- | --- |
//! | 400 | malformed JSON, unknown or mistyped fields, invalid values (`errors[]` names each field) |
//! | 401 | no identity (no JWT claims, no dev headers, or a bad Workday signature) |
//! | 403 | the caller lacks the role, or segregation of duties forbids the action |
//! | 404 | the resource in the URL does not exist |
//! | 409 | duplicate, invalid status transition, version conflict, replayed callback |
//! | 413 | body larger than the limit |
//! | 415 | body that is not `application/json` |
//! | 422 | a business rule refuses a well-formed request (e.g. vendor not active) |
//! | 500 | anything unexpected: a generic body; the detail goes to the logs only |
//! | 503 | a transient backend failure (throttling, timeouts): retry |

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use p2p_adapters::StoreError;
use p2p_core::{DomainError, FieldError};
use p2p_function_support::FunctionError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Path of the field as submitted (`lines[0].quantity`), or `$` for the whole body.
    pub field: String,
    /// Machine-readable reason (`required`, `invalid_type`, `unknown_field`, ...).
    pub code: String,
    pub message: String,
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        FieldProblem {
            field: e.field,
            code: e.code,
            message: e.message,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (`/problems/<slug>`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field-level details (validation problems).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// The rule that refused the request (422, 403 for segregation of duties).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("segregation of duties: {0}")]
    SegregationOfDuties(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    Duplicate(String),
    #[error("{0}")]
    Replay(String),
    #[error("this method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("rule violated: {rule}: {message}")]
    Rule { rule: String, message: String },
    /// Well-formed fields that business rules refuse (e.g. a due date not in the future).
    #[error("{detail}")]
    RuleFields {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    #[error("transient failure: {0}")]
    Unavailable(String),
    /// Logged in full, answered generically.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Validation {
            detail: message.clone(),
            errors: vec![FieldProblem {
                field: field.to_string(),
                code: code.to_string(),
                message,
            }],
        }
    }

    /// Field errors: 422 when every one is a business rule on a well-formed value, else 400.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        const RULE_CODES: &[&str] = &[
            "due_date_not_in_future",
            "exceeds_max_amount",
            "future_invoice_date",
        ];
        if !errors.is_empty() && errors.iter().all(|e| RULE_CODES.contains(&e.code.as_str())) {
            match ApiError::fields(errors) {
                ApiError::Validation { detail, errors } => ApiError::RuleFields { detail, errors },
                other => other,
            }
        } else {
            ApiError::fields(errors)
        }
    }

    pub fn fields(errors: Vec<FieldError>) -> Self {
        let detail = if errors.is_empty() {
            "the request is invalid".to_string()
        } else {
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        ApiError::Validation {
            detail,
            errors: errors.into_iter().map(FieldProblem::from).collect(),
        }
    }

    /// A well-formed request naming something that must exist (e.g. the PO of an invoice).
    pub fn missing_reference(field: &str, what: &str, id: &str) -> Self {
        ApiError::Rule {
            rule: format!("{field}_exists"),
            message: format!("{what} `{id}` does not exist"),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::SegregationOfDuties(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_)
            | ApiError::InvalidTransition(_)
            | ApiError::Duplicate(_)
            | ApiError::Replay(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Rule { .. } | ApiError::RuleFields { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation { .. } => ("validation-error", "Invalid request"),
            ApiError::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::SegregationOfDuties(_) => ("segregation-of-duties", "Segregation of duties"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(_) => ("conflict", "Conflict"),
            ApiError::InvalidTransition(_) => ("invalid-transition", "Invalid status transition"),
            ApiError::Duplicate(_) => ("duplicate", "Duplicate"),
            ApiError::Replay(_) => ("replayed-callback", "Replayed callback"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Rule { .. } | ApiError::RuleFields { .. } => {
                ("rule-violation", "Business rule violated")
            }
            ApiError::Unavailable(_) => ("temporarily-unavailable", "Temporarily unavailable"),
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let (detail, errors, rule) = match self {
            ApiError::Validation { detail, errors } => (detail.clone(), errors.clone(), None),
            ApiError::RuleFields { detail, errors } => (detail.clone(), errors.clone(), None),
            ApiError::Rule { rule, message } => (message.clone(), Vec::new(), Some(rule.clone())),
            ApiError::SegregationOfDuties(m) => (
                m.clone(),
                Vec::new(),
                Some("segregation_of_duties".to_string()),
            ),
            // Never leak internals: the log has the detail.
            ApiError::Internal(_) => (
                "An unexpected error occurred. It has been logged.".to_string(),
                Vec::new(),
                None,
            ),
            ApiError::Unavailable(_) => (
                "A backend is temporarily unavailable; retry shortly.".to_string(),
                Vec::new(),
                None,
            ),
            other => (other.to_string(), Vec::new(), None),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status: self.status().as_u16(),
            detail,
            errors,
            rule,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            ApiError::Unavailable(detail) => tracing::warn!(error = %detail, "backend unavailable"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The body was refused unread, so the connection cannot carry another request;
            // saying so keeps a keep-alive client from sending its next one into the close.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => {
                ApiError::NotFound(format!("{entity} `{id}` not found"))
            }
            e @ StoreError::DuplicateInvoice { .. } => ApiError::Duplicate(e.to_string()),
            StoreError::Conflict { entity, id, .. } => ApiError::Conflict(format!(
                "{entity} `{id}` was changed by someone else (or already exists); re-read and retry"
            )),
            e @ StoreError::Transient { .. } => ApiError::Unavailable(e.to_string()),
            // The store refuses a tampered or foreign pagination cursor this way.
            StoreError::Invalid(m) if m.contains("next_token") => {
                ApiError::field("next_token", "invalid_cursor", m)
            }
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(errors) => ApiError::validation(errors),
            e @ DomainError::InvalidTransition { .. } => ApiError::InvalidTransition(e.to_string()),
            DomainError::RuleViolation {
                rule: "segregation_of_duties",
                message,
            } => ApiError::SegregationOfDuties(message),
            DomainError::RuleViolation { rule, message } => ApiError::Rule {
                rule: rule.to_string(),
                message,
            },
            e @ DomainError::Money(_) => ApiError::field("$", "money", e.to_string()),
        }
    }
}

impl From<FunctionError> for ApiError {
    fn from(e: FunctionError) -> Self {
        match e {
            FunctionError::InvoiceInvalid { errors } => ApiError::validation(errors),
            e @ FunctionError::DuplicateInvoice { .. } => ApiError::Duplicate(e.to_string()),
            e @ (FunctionError::PurchaseOrderNotFound(_)
            | FunctionError::VendorNotFound(_)
            | FunctionError::InvoiceNotFound(_)
            | FunctionError::PaymentNotFound(_)) => ApiError::NotFound(e.to_string()),
            FunctionError::InvalidTransition(m) | FunctionError::ApprovalRejected(m) => {
                ApiError::InvalidTransition(m)
            }
            FunctionError::RuleViolation { rule, message } if rule == "segregation_of_duties" => {
                ApiError::SegregationOfDuties(message)
            }
            FunctionError::RuleViolation { rule, message } => ApiError::Rule { rule, message },
            FunctionError::Transient(m) => ApiError::Unavailable(m),
            e @ (FunctionError::Misconfigured(_)
            | FunctionError::InvalidEvent(_)
            | FunctionError::Internal(_)) => ApiError::Internal(e.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let p = ApiError::Internal("sqlite: disk I/O error at /secret/path".into()).to_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret"), "{}", p.detail);
    }

    #[test]
    fn segregation_is_forbidden_with_its_rule() {
        let e = ApiError::from(DomainError::rule("segregation_of_duties", "no"));
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            e.to_problem().rule.as_deref(),
            Some("segregation_of_duties")
        );
        let e = ApiError::from(DomainError::rule("vendor_not_active", "no"));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
