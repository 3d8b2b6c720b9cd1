//! Domain events published on the event bus (EventBridge `detail-type` = the variant name).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status_enum;

status_enum!(
    /// The event types of the invoice lifecycle.
    DomainEventType {
        VendorRegistered => "VendorRegistered",
        InvoiceSubmitted => "InvoiceSubmitted",
        InvoiceValidated => "InvoiceValidated",
        InvoiceRejected => "InvoiceRejected",
        InvoiceNeedsReview => "InvoiceNeedsReview",
        InvoiceApproved => "InvoiceApproved",
        InvoicePaid => "InvoicePaid",
    }
);

/// The event source on the bus.
pub const EVENT_SOURCE: &str = "p2p.invoices";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub id: String,
    pub event_type: DomainEventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    pub vendor_id: String,
    pub occurred_at: DateTime<Utc>,
    /// Event-specific facts (amounts as strings, statuses, ...).
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl DomainEvent {
    pub fn new(
        id: String,
        event_type: DomainEventType,
        vendor_id: &str,
        invoice_id: Option<&str>,
        occurred_at: DateTime<Utc>,
        detail: serde_json::Value,
    ) -> Self {
        DomainEvent {
            id,
            event_type,
            invoice_id: invoice_id.map(str::to_string),
            vendor_id: vendor_id.to_string(),
            occurred_at,
            detail,
        }
    }

    /// The EventBridge `Detail` JSON: ids always present.
    pub fn detail_json(&self) -> serde_json::Value {
        serde_json::json!({
            "event_id": self.id,
            "invoice_id": self.invoice_id,
            "vendor_id": self.vendor_id,
            "occurred_at": crate::clock::rfc3339(self.occurred_at),
            "data": self.detail,
        })
    }
}
