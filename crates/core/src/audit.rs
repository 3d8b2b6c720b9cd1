//! Audit entries in the seed's shape. Rules that change state return their audit entry
//! with the new state, so the two are always written together.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::{prefix, IdSource};
use crate::status_enum;

status_enum!(
    /// The seed's audit entry types.
    AuditType {
        PoAction => "PO_ACTION",
        VendorAction => "VENDOR_ACTION",
        InvoiceAction => "INVOICE_ACTION",
        PaymentAction => "PAYMENT_ACTION",
        ExportAction => "EXPORT_ACTION",
        WorkdayCallback => "WORKDAY_CALLBACK",
        ExportMonitor => "EXPORT_MONITOR",
        DocumentAction => "DOCUMENT_ACTION",
    }
);

/// Entity types named in audit entries.
pub mod entity {
    pub const VENDOR: &str = "Vendor";
    pub const PURCHASE_ORDER: &str = "PurchaseOrder";
    pub const GOODS_RECEIPT: &str = "GoodsReceipt";
    pub const INVOICE: &str = "Invoice";
    pub const PAYMENT: &str = "Payment";
    pub const PAYMENT_RUN: &str = "PaymentRun";
    pub const JOB: &str = "Job";
    pub const DOCUMENT: &str = "Document";
}

/// Audit actions used across the suite (the seed's names).
pub mod action {
    pub const CREATE: &str = "CREATE";
    pub const UPDATE: &str = "UPDATE";
    pub const UPDATE_VIA_API: &str = "UPDATE_VIA_API";
    pub const DELETE: &str = "DELETE";
    pub const APPROVE: &str = "APPROVE";
    pub const RECEIVE: &str = "RECEIVE";
    pub const RECONCILE: &str = "RECONCILE";
    pub const BATCH_RECONCILE: &str = "BATCH_RECONCILE";
    pub const RECONCILE_ERROR: &str = "RECONCILE_ERROR";
    pub const JOB_COMPLETE: &str = "JOB_COMPLETE";
    pub const DUPLICATE: &str = "DUPLICATE";
    pub const APPROVE_WITH_FILES: &str = "APPROVE_WITH_FILES";
    pub const MONITOR_START: &str = "MONITOR_START";
    pub const WORKDAY_DELIVERY_SUCCESS: &str = "WORKDAY_DELIVERY_SUCCESS";
    pub const WORKDAY_DELIVERY_FAILED: &str = "WORKDAY_DELIVERY_FAILED";
    pub const FILES_MISSING: &str = "FILES_MISSING";
    pub const MONITOR_COMPLETE: &str = "MONITOR_COMPLETE";
    pub const MONITOR_ERROR: &str = "MONITOR_ERROR";
    pub const CALLBACK_RECEIVED: &str = "CALLBACK_RECEIVED";
    pub const PAYMENT_RUN_FILE: &str = "PAYMENT_RUN_FILE";
    pub const DOCUMENT_REJECTED: &str = "DOCUMENT_REJECTED";
    pub const DOCUMENT_EXTRACTED: &str = "DOCUMENT_EXTRACTED";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub audit_type: AuditType,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// Who did it: a user, or a system actor such as `reconciliation_job`.
    pub user_id: String,
    pub timestamp: DateTime<Utc>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl AuditEntry {
    #[allow(clippy::too_many_arguments)] // the seed's fields, each named at the call site
    pub fn new(
        ids: &dyn IdSource,
        audit_type: AuditType,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        details: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            id: ids.new_id(prefix::AUDIT),
            audit_type,
            action: action.to_string(),
            entity_type: entity_type.to_string(),
            entity_id: entity_id.to_string(),
            user_id: user_id.to_string(),
            timestamp: now,
            details,
            created_at: now,
        }
    }
}
