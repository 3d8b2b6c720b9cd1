//! The one error type of the function handlers. Its [`FunctionError::error_type`] is the
//! Lambda `errorType` that Step Functions `Retry`/`Catch` match, so the names are the
//! workflow contract's and never change.

use lambda_runtime::Diagnostic;
use p2p_adapters::StoreError;
use p2p_core::{DomainError, FieldError};

/// The contract's error names.
pub mod error_type {
    pub const INVOICE_INVALID: &str = "InvoiceInvalid";
    pub const DUPLICATE_INVOICE: &str = "DuplicateInvoice";
    pub const PURCHASE_ORDER_NOT_FOUND: &str = "PurchaseOrderNotFound";
    pub const VENDOR_NOT_FOUND: &str = "VendorNotFound";
    pub const INVOICE_NOT_FOUND: &str = "InvoiceNotFound";
    pub const PAYMENT_NOT_FOUND: &str = "PaymentNotFound";
    pub const INVALID_TRANSITION: &str = "InvalidTransition";
    pub const APPROVAL_REJECTED: &str = "ApprovalRejected";
    pub const RULE_VIOLATION: &str = "RuleViolation";
    /// The only name the workflow retries.
    pub const TRANSIENT: &str = "Transient";
    pub const MISCONFIGURED: &str = "Misconfigured";
    pub const INVALID_EVENT: &str = "InvalidEvent";
    /// Stored data that cannot be read back, or a backend refusal that retrying cannot fix.
    /// Not retried; the workflow's catch-all notifies and fails.
    pub const INTERNAL: &str = "InternalError";
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FunctionError {
    #[error("invoice is invalid: {}", summarize(.errors))]
    InvoiceInvalid { errors: Vec<FieldError> },
    #[error("duplicate invoice: vendor {vendor_id} already has invoice number `{invoice_number}`{}",
        .existing_invoice_id.as_deref().map(|id| format!(" (invoice {id})")).unwrap_or_default())]
    DuplicateInvoice {
        vendor_id: String,
        invoice_number: String,
        existing_invoice_id: Option<String>,
    },
    #[error("purchase order `{0}` not found")]
    PurchaseOrderNotFound(String),
    #[error("vendor `{0}` not found")]
    VendorNotFound(String),
    #[error("invoice `{0}` not found")]
    InvoiceNotFound(String),
    #[error("payment `{0}` not found")]
    PaymentNotFound(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    ApprovalRejected(String),
    #[error("rule violated: {rule}: {message}")]
    RuleViolation { rule: String, message: String },
    #[error("transient failure: {0}")]
    Transient(String),
    #[error("misconfigured: {0}")]
    Misconfigured(String),
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("internal error: {0}")]
    Internal(String),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl FunctionError {
    /// The Lambda `errorType` (see [`error_type`]).
    pub fn error_type(&self) -> &'static str {
        use error_type::*;
        match self {
            FunctionError::InvoiceInvalid { .. } => INVOICE_INVALID,
            FunctionError::DuplicateInvoice { .. } => DUPLICATE_INVOICE,
            FunctionError::PurchaseOrderNotFound(_) => PURCHASE_ORDER_NOT_FOUND,
            FunctionError::VendorNotFound(_) => VENDOR_NOT_FOUND,
            FunctionError::InvoiceNotFound(_) => INVOICE_NOT_FOUND,
            FunctionError::PaymentNotFound(_) => PAYMENT_NOT_FOUND,
            FunctionError::InvalidTransition(_) => INVALID_TRANSITION,
            FunctionError::ApprovalRejected(_) => APPROVAL_REJECTED,
            FunctionError::RuleViolation { .. } => RULE_VIOLATION,
            FunctionError::Transient(_) => TRANSIENT,
            FunctionError::Misconfigured(_) => MISCONFIGURED,
            FunctionError::InvalidEvent(_) => INVALID_EVENT,
            FunctionError::Internal(_) => INTERNAL,
        }
    }

    /// Whether the workflow retries it.
    pub fn is_retryable(&self) -> bool {
        matches!(self, FunctionError::Transient(_))
    }

    pub fn invalid_event(message: impl Into<String>) -> Self {
        FunctionError::InvalidEvent(message.into())
    }

    /// An event that did not deserialize into the handler's input type.
    pub fn from_serde(what: &str, e: serde_json::Error) -> Self {
        FunctionError::InvalidEvent(format!("{what}: {e}"))
    }
}

impl From<StoreError> for FunctionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => match entity {
                "invoice" => FunctionError::InvoiceNotFound(id),
                "purchase order" => FunctionError::PurchaseOrderNotFound(id),
                "vendor" => FunctionError::VendorNotFound(id),
                "payment" => FunctionError::PaymentNotFound(id),
                other => FunctionError::Internal(format!("{other} `{id}` not found")),
            },
            StoreError::DuplicateInvoice {
                vendor_id,
                invoice_number,
            } => FunctionError::DuplicateInvoice {
                vendor_id,
                invoice_number,
                existing_invoice_id: None,
            },
            // Someone else wrote first: a retry re-reads and decides again.
            e @ StoreError::Conflict { .. } => FunctionError::Transient(e.to_string()),
            e @ StoreError::Transient { .. } => FunctionError::Transient(e.to_string()),
            e @ StoreError::Misconfigured { .. } => FunctionError::Misconfigured(e.to_string()),
            e @ (StoreError::Invalid(_)
            | StoreError::Corrupt { .. }
            | StoreError::Backend { .. }) => FunctionError::Internal(e.to_string()),
        }
    }
}

impl From<DomainError> for FunctionError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(errors) => FunctionError::InvoiceInvalid { errors },
            e @ DomainError::InvalidTransition { .. } => {
                FunctionError::InvalidTransition(e.to_string())
            }
            DomainError::RuleViolation { rule, message } => FunctionError::RuleViolation {
                rule: rule.to_string(),
                message,
            },
            e @ DomainError::Money(_) => FunctionError::InvoiceInvalid {
                errors: vec![FieldError::new("$", "money", e.to_string())],
            },
        }
    }
}

impl From<crate::config::ConfigError> for FunctionError {
    fn from(e: crate::config::ConfigError) -> Self {
        FunctionError::Misconfigured(e.to_string())
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Self {
        Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p2p_adapters::ConflictReason;

    #[test]
    fn store_errors_map_to_contract_names() {
        let nf = |entity| StoreError::NotFound {
            entity,
            id: "x".into(),
        };
        assert_eq!(
            FunctionError::from(nf("invoice")).error_type(),
            "InvoiceNotFound"
        );
        assert_eq!(
            FunctionError::from(nf("purchase order")).error_type(),
            "PurchaseOrderNotFound"
        );
        assert_eq!(
            FunctionError::from(nf("vendor")).error_type(),
            "VendorNotFound"
        );
        assert_eq!(
            FunctionError::from(nf("payment")).error_type(),
            "PaymentNotFound"
        );
        assert_eq!(
            FunctionError::from(nf("object")).error_type(),
            "InternalError"
        );
        let conflict = StoreError::Conflict {
            entity: "invoice",
            id: "i".into(),
            reason: ConflictReason::VersionMismatch { expected: 1 },
        };
        assert_eq!(FunctionError::from(conflict).error_type(), "Transient");
        let dup = StoreError::DuplicateInvoice {
            vendor_id: "v".into(),
            invoice_number: "n".into(),
        };
        assert_eq!(FunctionError::from(dup).error_type(), "DuplicateInvoice");
        let mis = StoreError::Misconfigured {
            resource: "table".into(),
            env_var: "INVOICES_TABLE",
            message: "missing".into(),
        };
        assert_eq!(FunctionError::from(mis).error_type(), "Misconfigured");
    }

    #[test]
    fn diagnostic_carries_the_error_type_and_every_field() {
        let e = FunctionError::InvoiceInvalid {
            errors: vec![
                FieldError::required("due_date"),
                FieldError::new("lines[0].quantity", "not_positive", "must be > 0"),
            ],
        };
        let d = Diagnostic::from(e);
        assert_eq!(d.error_type, "InvoiceInvalid");
        assert!(d.error_message.contains("due_date"), "{}", d.error_message);
        assert!(
            d.error_message.contains("lines[0].quantity"),
            "{}",
            d.error_message
        );
        let d = Diagnostic::from(FunctionError::from(DomainError::rule(
            "segregation_of_duties",
            "no",
        )));
        assert_eq!(d.error_type, "RuleViolation");
    }
}
