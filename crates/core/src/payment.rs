//! Payments: one per invoice, approved under the approval rules, confirmed by Workday.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::clock::{derived_id, prefix};
use crate::error::DomainError;
use crate::invoice::{Invoice, InvoiceStatus};
use crate::money::{Currency, Money};
use crate::status::Lifecycle;
use crate::status_enum;

status_enum!(
    /// `approved -> sent | failed`
    PaymentStatus {
        Approved => "approved",
        Sent => "sent",
        Failed => "failed",
    }
);

impl Lifecycle for PaymentStatus {
    const ENTITY: &'static str = "payment";
    const TRANSITIONS: &'static [(Self, Self)] = &[
        (PaymentStatus::Approved, PaymentStatus::Sent),
        (PaymentStatus::Approved, PaymentStatus::Failed),
        // A failed delivery may be retried.
        (PaymentStatus::Failed, PaymentStatus::Approved),
    ];
    fn as_str(&self) -> &'static str {
        PaymentStatus::as_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    pub vendor_id: String,
    /// The invoice number, carried as remittance information in payment files.
    pub invoice_number: String,
    #[serde(with = "crate::money::decimal_str")]
    pub amount: Decimal,
    pub currency: Currency,
    pub status: PaymentStatus,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xml_s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workday_confirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub workday_callback_received: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

impl Payment {
    pub fn money(&self) -> Money {
        Money {
            amount: self.amount,
            currency: self.currency,
        }
    }

    /// Moves to `to` through the transition table.
    pub fn with_status(
        &self,
        to: PaymentStatus,
        now: DateTime<Utc>,
    ) -> Result<Payment, DomainError> {
        let mut p = self.clone();
        p.status = self.status.transition(to)?;
        p.updated_at = now;
        p.version += 1;
        Ok(p)
    }

    /// Records Workday's confirmation: `approved -> sent`, confirmed timestamp, callback flag.
    pub fn confirm_by_workday(&self, now: DateTime<Utc>) -> Result<Payment, DomainError> {
        let mut p = self.with_status(PaymentStatus::Sent, now)?;
        p.workday_confirmed_at = Some(now);
        p.workday_callback_received = true;
        Ok(p)
    }
}

/// The payment id of an invoice: derived, so a retried approval finds the same payment.
pub fn payment_id_for(invoice_id: &str) -> String {
    derived_id(prefix::PAYMENT, &["payment-of", invoice_id])
}

/// Who is approving and with which roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub user_id: String,
    /// True when the caller holds the approver (or admin) role.
    pub has_approver_role: bool,
}

/// Approval rules from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// Above this amount an approver role is needed.
    pub approver_role_required_above: Decimal,
    /// Up to this amount the workflow approves automatically (no human step).
    pub auto_approve_limit: Decimal,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            approver_role_required_above: Decimal::from(5_000),
            auto_approve_limit: Decimal::from(5_000),
        }
    }
}

/// The automatic approver's user id (the workflow under the auto-approve limit).
pub const AUTO_APPROVER: &str = "system:auto-approval";

impl ApprovalPolicy {
    /// Whether the workflow must wait for a human to approve this invoice.
    pub fn needs_manual_approval(&self, invoice: &Invoice) -> bool {
        invoice.total_amount > self.auto_approve_limit
    }

    /// Creates the payment for a matched invoice, or says which rule forbids it.
    pub fn approve(
        &self,
        invoice: &Invoice,
        approver: &Approver,
        now: DateTime<Utc>,
    ) -> Result<Payment, DomainError> {
        if invoice.status != InvoiceStatus::Matched {
            return Err(DomainError::rule(
                "invoice_not_matched",
                format!(
                    "invoice {} is {}, only a matched invoice can be approved for payment",
                    invoice.id, invoice.status
                ),
            ));
        }
        if approver.user_id.trim().is_empty() {
            return Err(DomainError::field(
                "approved_by",
                "required",
                "approved_by is required",
            ));
        }
        if approver.user_id.eq_ignore_ascii_case(&invoice.submitted_by) {
            return Err(DomainError::rule(
                "segregation_of_duties",
                format!(
                    "{} submitted invoice {} and may not approve its payment",
                    approver.user_id, invoice.id
                ),
            ));
        }
        let automatic = approver.user_id == AUTO_APPROVER;
        if automatic && self.needs_manual_approval(invoice) {
            return Err(DomainError::rule(
                "manual_approval_required",
                format!(
                    "invoice {} is above the auto-approve limit {}",
                    invoice.id, self.auto_approve_limit
                ),
            ));
        }
        if !automatic
            && invoice.total_amount > self.approver_role_required_above
            && !approver.has_approver_role
        {
            return Err(DomainError::rule(
                "approver_role_required",
                format!(
                    "amounts above {} need the approver role",
                    self.approver_role_required_above
                ),
            ));
        }
        Ok(Payment {
            id: payment_id_for(&invoice.id),
            invoice_id: invoice.id.clone(),
            vendor_id: invoice.vendor_id.clone(),
            invoice_number: invoice.invoice_number.clone(),
            amount: invoice.total_amount,
            currency: invoice.currency,
            status: PaymentStatus::Approved,
            approved_by: approver.user_id.clone(),
            approved_at: now,
            xml_s3_key: None,
            json_s3_key: None,
            workday_confirmed_at: None,
            workday_callback_received: false,
            notes: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

/// S3 keys of a payment's files: `payments/{payment_id}/payment.xml|json`.
pub fn payment_file_key(payment_id: &str, format: PaymentFileFormat) -> String {
    format!("payments/{payment_id}/payment.{}", format.as_str())
}

status_enum!(
    /// The two Workday payment file formats.
    PaymentFileFormat {
        Xml => "xml",
        Json => "json",
    }
);

impl PaymentFileFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            PaymentFileFormat::Xml => "application/xml",
            PaymentFileFormat::Json => "application/json",
        }
    }
}
