//! The adapters' error: typed, never a panic. Handlers map it to an HTTP status or a
//! Step Functions `errorType`.

/// Which condition of a conditional write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictReason {
    /// A create found the item already there.
    AlreadyExists,
    /// An update or delete found another version (someone else wrote first), or no item.
    VersionMismatch { expected: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} `{id}` not found")]
    NotFound { entity: &'static str, id: String },
    #[error("duplicate invoice: vendor {vendor_id} already has invoice number `{invoice_number}`")]
    DuplicateInvoice {
        vendor_id: String,
        invoice_number: String,
    },
    #[error("conflict on {entity} `{id}`: {reason:?}")]
    Conflict {
        entity: &'static str,
        id: String,
        reason: ConflictReason,
    },
    /// Throttling, timeouts, 5xx: safe to retry.
    #[error("transient failure in {operation}: {message}")]
    Transient { operation: String, message: String },
    /// A missing table, bucket, topic...: names the resource and where its name comes from.
    #[error("misconfigured: {resource} ({message}); check {env_var}")]
    Misconfigured {
        resource: String,
        env_var: &'static str,
        message: String,
    },
    /// A request the store refuses: a tampered cursor, an oversized change set, ...
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Stored data that cannot be read back (never expected; reported, not panicked on).
    #[error("corrupt record {entity} `{id}`: {message}")]
    Corrupt {
        entity: &'static str,
        id: String,
        message: String,
    },
    #[error("{operation} failed: {message}")]
    Backend { operation: String, message: String },
}

impl StoreError {
    /// Safe to retry as is.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Transient { .. })
    }
}
