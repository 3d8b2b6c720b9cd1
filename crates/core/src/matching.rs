//! Reconciliation: matching an invoice against its purchase order (two-way) and, when goods
//! receipts exist, against what was received (three-way).
//!
//! The seed's rules are the defaults of [`MatchPolicy`]: the PO must be `approved` or `sent`,
//! the totals agree within ±1 %, the invoice has as many lines as the PO, and each line's
//! quantity and unit price agree with its PO line.
//!
//! Beyond the seed:
//! - the invoice's vendor, currency and PO id must be the PO's;
//! - unit prices may differ by a configurable percentage (default 0: exact);
//! - cumulative invoicing: the net totals of the invoices already `matched`, `approved` or
//!   `paid` on the PO plus this one may not exceed the PO total (within the total tolerance);
//! - partial invoicing (opt-in): the line-count rule becomes "every invoice line maps to a PO
//!   line", quantities billed on a PO line (this and earlier invoices) may not exceed the
//!   ordered quantity, and the total is compared with the PO prices of the billed quantities;
//! - three-way matching (by default whenever receipts exist for the PO): the quantity billed
//!   on a PO line may not exceed the accepted quantity of all receipts less what earlier
//!   invoices already billed on that line.
//!
//! Line mapping: an invoice line bills the PO line named by its `po_line_no`, else the PO line
//! with its own line number (for invoices built from a submission: its 1-based position, the
//! seed's item-by-item order).
//!
//! Amounts compared are net of tax: a PO carries no tax, so an invoice's `subtotal` is what
//! is compared with the PO total (for untaxed invoices, as in the seed, subtotal = total).
//!
//! Outcomes: hard breaches are `rejected` (wrong PO status, vendor, currency or PO; totals or
//! prices beyond tolerance; line count; unmapped lines; quantities other than ordered, or over
//! the ordered quantity when invoicing partially; billing more than the PO in total). Holds a
//! person should look at are `needs_review`: no receipt when three-way matching is required,
//! billed quantity above the received quantity (goods may still arrive), a variance within
//! tolerance but above the policy's review threshold, and a partial invoice without lines.
//! Any rejection wins over review.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{action, entity, AuditEntry, AuditType};
use crate::clock::IdSource;
use crate::error::{DomainError, FieldError};
use crate::invoice::{Invoice, InvoiceLine, InvoiceStatus};
use crate::purchase_order::{GoodsReceipt, PurchaseOrder};
use crate::status_enum;

/// The seed's batch job actor (`user_id` and `processed_by` of its audit entries).
pub const RECONCILIATION_JOB_ACTOR: &str = "reconciliation_job";

const ONE_PERCENT: Decimal = Decimal::ONE;

/// When goods receipts take part in the match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptMatching {
    /// Two-way only.
    Never,
    /// Three-way as soon as the PO has a receipt (the default).
    #[default]
    WhenReceiptsExist,
    /// Three-way always; an invoice on a PO without receipts needs review.
    Required,
}

/// The rules of a match. `Default` is the seed's rule set plus the always-on safety checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchPolicy {
    /// Largest accepted difference of the totals, in percent of the expected total (seed: 1).
    #[serde(with = "crate::money::decimal_str")]
    pub total_tolerance_percent: Decimal,
    /// Largest accepted difference of a unit price, in percent of the PO price (default 0).
    #[serde(with = "crate::money::decimal_str")]
    pub price_tolerance_percent: Decimal,
    /// Differences within tolerance but above this percentage go to review instead of
    /// matching automatically. `None`: anything within tolerance matches (the seed).
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub review_above_percent: Option<Decimal>,
    /// Allow invoices that bill part of the PO (relaxes the seed's line-count rule).
    pub allow_partial: bool,
    pub receipts: ReceiptMatching,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        MatchPolicy {
            total_tolerance_percent: ONE_PERCENT,
            price_tolerance_percent: Decimal::ZERO,
            review_above_percent: None,
            allow_partial: false,
            receipts: ReceiptMatching::WhenReceiptsExist,
        }
    }
}

status_enum!(
    /// Result of a match: `matched | rejected | needs_review`.
    MatchOutcome {
        Matched => "matched",
        Rejected => "rejected",
        NeedsReview => "needs_review",
    }
);

impl MatchOutcome {
    /// The invoice status this outcome leads to.
    pub fn invoice_status(self) -> InvoiceStatus {
        match self {
            MatchOutcome::Matched => InvoiceStatus::Matched,
            MatchOutcome::Rejected => InvoiceStatus::Rejected,
            MatchOutcome::NeedsReview => InvoiceStatus::NeedsReview,
        }
    }
}

/// Whether a discrepancy rejects the invoice or holds it for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Reject,
    Review,
}

/// What disagrees. Each code has one fixed severity ([`DiscrepancyCode::severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscrepancyCode {
    /// The PO is not `approved` or `sent`.
    PoStatusInvalid,
    /// The invoice names another PO than the one matched against.
    PoMismatch,
    VendorMismatch,
    CurrencyMismatch,
    /// Totals differ by more than the tolerance.
    TotalAmountMismatch,
    /// Totals differ within tolerance but above the review threshold.
    TotalAmountVariance,
    /// The seed's item-count rule.
    LineCountMismatch,
    /// An invoice line bills no PO line.
    UnmatchedLine,
    /// Billed quantity differs from the ordered quantity (full invoicing).
    QuantityMismatch,
    /// Billed quantity, with earlier invoices, exceeds the ordered quantity (partial invoicing).
    QuantityExceedsOrdered,
    /// Unit price differs by more than the price tolerance.
    PriceMismatch,
    /// Unit price differs within tolerance but above the review threshold.
    PriceVariance,
    /// Earlier invoices plus this one exceed the PO total.
    CumulativeExceedsPoTotal,
    /// Three-way matching is required and the PO has no receipt.
    ReceiptMissing,
    /// Billed quantity exceeds accepted quantity less what was already billed.
    QuantityExceedsReceived,
    /// A partial invoice without lines cannot be checked line by line.
    LinesMissing,
}

impl DiscrepancyCode {
    pub fn severity(self) -> Severity {
        use DiscrepancyCode::*;
        match self {
            TotalAmountVariance
            | PriceVariance
            | ReceiptMissing
            | QuantityExceedsReceived
            | LinesMissing => Severity::Review,
            _ => Severity::Reject,
        }
    }
}

/// One disagreement, with what was expected and what the invoice says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub code: DiscrepancyCode,
    pub severity: Severity,
    /// Invoice line concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_no: Option<u32>,
    /// PO line concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line_no: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// `actual − expected` for numeric comparisons.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_str_opt"
    )]
    pub difference: Option<Decimal>,
    pub message: String,
}

impl Discrepancy {
    fn text(code: DiscrepancyCode, expected: &str, actual: &str, message: String) -> Self {
        Discrepancy {
            code,
            severity: code.severity(),
            line_no: None,
            po_line_no: None,
            expected: Some(expected.to_string()),
            actual: Some(actual.to_string()),
            difference: None,
            message,
        }
    }

    fn amounts(code: DiscrepancyCode, expected: Decimal, actual: Decimal, message: String) -> Self {
        Discrepancy {
            code,
            severity: code.severity(),
            line_no: None,
            po_line_no: None,
            expected: Some(expected.to_string()),
            actual: Some(actual.to_string()),
            difference: actual.checked_sub(expected),
            message,
        }
    }

    fn on_line(mut self, line_no: Option<u32>, po_line_no: Option<u32>) -> Self {
        self.line_no = line_no;
        self.po_line_no = po_line_no;
        self
    }
}

/// The seed's `validation_summary`, plus the beyond-seed checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationSummary {
    pub po_status_valid: bool,
    pub total_amount_match: bool,
    pub items_match: bool,
    #[serde(with = "crate::money::decimal_str")]
    pub po_total: Decimal,
    /// The invoice's net total (subtotal), the figure compared.
    #[serde(with = "crate::money::decimal_str")]
    pub invoice_total: Decimal,
    /// `|expected − invoice_total|` (expected = PO total, or for a partial invoice the PO
    /// prices of the billed quantities).
    #[serde(with = "crate::money::decimal_str")]
    pub amount_difference: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub expected_total: Decimal,
    #[serde(with = "crate::money::decimal_str")]
    pub tolerance_percent: Decimal,
    pub vendor_match: bool,
    pub currency_match: bool,
    /// Net totals of earlier matched/approved/paid invoices on the PO.
    #[serde(with = "crate::money::decimal_str")]
    pub previously_invoiced: Decimal,
    pub cumulative_within_po_total: bool,
    /// Whether receipts took part, and whether billed quantities are covered by them.
    pub three_way: bool,
    pub receipts_match: bool,
}

/// The full result of matching one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchReport {
    pub invoice_id: String,
    pub invoice_number: String,
    pub po_id: String,
    pub outcome: MatchOutcome,
    pub validation_summary: ValidationSummary,
    pub discrepancies: Vec<Discrepancy>,
    pub policy: MatchPolicy,
}

impl MatchReport {
    pub fn has(&self, code: DiscrepancyCode) -> bool {
        self.discrepancies.iter().any(|d| d.code == code)
    }
}

/// Invoice statuses whose amounts count as already billed on the PO.
fn counts_as_billed(status: InvoiceStatus) -> bool {
    matches!(
        status,
        InvoiceStatus::Matched | InvoiceStatus::Approved | InvoiceStatus::Paid
    )
}

/// The PO line an invoice line bills.
fn po_line_of(line: &InvoiceLine) -> u32 {
    line.po_line_no.unwrap_or(line.line_no)
}

/// Position of PO line `line_no` in `po.lines`: O(1) for the usual 1..n numbering.
fn po_index(po: &PurchaseOrder, line_no: u32) -> Option<usize> {
    let guess = (line_no as usize).checked_sub(1)?;
    match po.lines.get(guess) {
        Some(l) if l.line_no == line_no => Some(guess),
        _ => po.lines.iter().position(|l| l.line_no == line_no),
    }
}

/// `|actual − expected| ≤ expected × percent / 100`. Symmetric around `expected`.
fn within(expected: Decimal, actual: Decimal, percent: Decimal) -> bool {
    let diff = match actual.checked_sub(expected) {
        Some(d) => d.abs(),
        None => return false,
    };
    match expected
        .abs()
        .checked_mul(percent)
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
    {
        Some(limit) => diff <= limit,
        None => false,
    }
}

/// How a numeric comparison came out under a tolerance and an optional review threshold.
enum Comparison {
    Equal,
    WithinReviewBand,
    WithinTolerance,
    Beyond,
}

fn compare(
    expected: Decimal,
    actual: Decimal,
    tolerance: Decimal,
    review: Option<Decimal>,
) -> Comparison {
    if expected == actual {
        Comparison::Equal
    } else if !within(expected, actual, tolerance) {
        Comparison::Beyond
    } else if review.is_some_and(|r| !within(expected, actual, r)) {
        Comparison::WithinReviewBand
    } else {
        Comparison::WithinTolerance
    }
}

/// Per-PO-line quantities.
#[derive(Default, Clone, Copy)]
struct LineTally {
    billed_now: Decimal,
    billed_before: Decimal,
    accepted: Decimal,
    received: bool,
}

/// Matches `invoice` against `po`, its goods `receipts` and the `prior_invoices` on the same
/// PO (other POs' receipts and invoices, the invoice itself, and invoices not yet billed are
/// ignored). Never fails: every disagreement is a [`Discrepancy`] in the report.
pub fn match_invoice(
    invoice: &Invoice,
    po: &PurchaseOrder,
    receipts: &[GoodsReceipt],
    prior_invoices: &[Invoice],
    policy: &MatchPolicy,
) -> MatchReport {
    use DiscrepancyCode as C;
    let mut out: Vec<Discrepancy> = Vec::new();

    let po_status_valid = po.status.accepts_invoices();
    if !po_status_valid {
        out.push(Discrepancy::text(
            C::PoStatusInvalid,
            "approved|sent",
            po.status.as_str(),
            format!(
                "purchase order {} is {}; invoices match only approved or sent orders",
                po.id, po.status
            ),
        ));
    }
    if invoice.po_id != po.id {
        out.push(Discrepancy::text(
            C::PoMismatch,
            &po.id,
            &invoice.po_id,
            format!(
                "invoice names purchase order `{}`, not {}",
                invoice.po_id, po.id
            ),
        ));
    }
    let vendor_match = invoice.vendor_id == po.vendor_id;
    if !vendor_match {
        out.push(Discrepancy::text(
            C::VendorMismatch,
            &po.vendor_id,
            &invoice.vendor_id,
            format!(
                "invoice vendor {} is not the purchase order's vendor {}",
                invoice.vendor_id, po.vendor_id
            ),
        ));
    }
    let currency_match = invoice.currency == po.currency;
    if !currency_match {
        out.push(Discrepancy::text(
            C::CurrencyMismatch,
            po.currency.code(),
            invoice.currency.code(),
            format!(
                "invoice is in {}, the purchase order in {}",
                invoice.currency, po.currency
            ),
        ));
    }

    // Quantities per PO line: this invoice, earlier billed invoices, receipts.
    // Indexed like `po.lines`.
    let mut tally = vec![LineTally::default(); po.lines.len()];
    let mut items_match = true;
    for line in &invoice.lines {
        let po_line_no = po_line_of(line);
        match po_index(po, po_line_no).and_then(|i| tally.get_mut(i)) {
            Some(t) => t.billed_now = t.billed_now.saturating_add(line.quantity),
            None => {
                items_match = false;
                out.push(
                    Discrepancy {
                        code: C::UnmatchedLine,
                        severity: C::UnmatchedLine.severity(),
                        line_no: None,
                        po_line_no: None,
                        expected: None,
                        actual: Some(line.description.clone()),
                        difference: None,
                        message: format!(
                            "invoice line {} bills PO line {po_line_no}, which purchase order {} does not have",
                            line.line_no, po.id
                        ),
                    }
                    .on_line(Some(line.line_no), Some(po_line_no)),
                );
            }
        }
    }
    let prior: Vec<&Invoice> = prior_invoices
        .iter()
        .filter(|p| p.po_id == po.id && p.id != invoice.id && counts_as_billed(p.status))
        .collect();
    let mut previously_invoiced = Decimal::ZERO;
    for p in &prior {
        previously_invoiced = previously_invoiced.saturating_add(p.subtotal);
        for line in &p.lines {
            if let Some(t) = po_index(po, po_line_of(line)).and_then(|i| tally.get_mut(i)) {
                t.billed_before = t.billed_before.saturating_add(line.quantity);
            }
        }
    }
    let po_receipts = receipts.iter().filter(|r| r.po_id == po.id);
    let mut any_receipt = false;
    for r in po_receipts {
        any_receipt = true;
        for rl in &r.lines {
            if let Some(t) = po_index(po, rl.line_no).and_then(|i| tally.get_mut(i)) {
                t.accepted = t.accepted.saturating_add(rl.quantity_accepted);
                t.received = true;
            }
        }
    }

    // The seed's item count, or for partial invoices the presence of lines.
    if !policy.allow_partial && invoice.lines.len() != po.lines.len() {
        items_match = false;
        out.push(Discrepancy::amounts(
            C::LineCountMismatch,
            Decimal::from(po.lines.len()),
            Decimal::from(invoice.lines.len()),
            format!(
                "invoice has {} lines, purchase order {} has {}",
                invoice.lines.len(),
                po.id,
                po.lines.len()
            ),
        ));
    }
    if policy.allow_partial && invoice.lines.is_empty() {
        out.push(Discrepancy {
            code: C::LinesMissing,
            severity: C::LinesMissing.severity(),
            line_no: None,
            po_line_no: None,
            expected: None,
            actual: None,
            difference: None,
            message: "a partial invoice without lines cannot be matched line by line".into(),
        });
    }

    // Item by item: prices (per invoice line) and quantities (per PO line).
    let mut expected_partial = Decimal::ZERO;
    for line in &invoice.lines {
        let Some(po_line) = po_index(po, po_line_of(line)).and_then(|i| po.lines.get(i)) else {
            continue;
        };
        expected_partial =
            expected_partial.saturating_add(po_line.unit_price.saturating_mul(line.quantity));
        if !currency_match {
            continue;
        }
        let code = match compare(
            po_line.unit_price,
            line.unit_price,
            policy.price_tolerance_percent,
            policy.review_above_percent,
        ) {
            Comparison::Equal | Comparison::WithinTolerance => None,
            Comparison::WithinReviewBand => Some(C::PriceVariance),
            Comparison::Beyond => Some(C::PriceMismatch),
        };
        if let Some(code) = code {
            if code.severity() == Severity::Reject {
                items_match = false;
            }
            out.push(
                Discrepancy::amounts(
                    code,
                    po_line.unit_price,
                    line.unit_price,
                    format!(
                        "invoice line {} unit price {} differs from PO line {} price {} (tolerance {}%)",
                        line.line_no,
                        line.unit_price,
                        po_line.line_no,
                        po_line.unit_price,
                        policy.price_tolerance_percent
                    ),
                )
                .on_line(Some(line.line_no), Some(po_line.line_no)),
            );
        }
    }
    let three_way = match policy.receipts {
        ReceiptMatching::Never => false,
        ReceiptMatching::WhenReceiptsExist => any_receipt,
        ReceiptMatching::Required => true,
    };
    if three_way && !any_receipt {
        out.push(Discrepancy {
            code: C::ReceiptMissing,
            severity: C::ReceiptMissing.severity(),
            line_no: None,
            po_line_no: None,
            expected: None,
            actual: None,
            difference: None,
            message: format!(
                "three-way matching is required and purchase order {} has no goods receipt",
                po.id
            ),
        });
    }
    let mut receipts_match = !three_way || any_receipt;
    for (po_line, t) in po.lines.iter().zip(&tally) {
        if policy.allow_partial {
            let total_billed = t.billed_before.saturating_add(t.billed_now);
            if t.billed_now > Decimal::ZERO && total_billed > po_line.quantity {
                items_match = false;
                out.push(
                    Discrepancy::amounts(
                        C::QuantityExceedsOrdered,
                        po_line.quantity,
                        total_billed,
                        format!(
                            "PO line {} ordered {}, billed {} before and {} now",
                            po_line.line_no, po_line.quantity, t.billed_before, t.billed_now
                        ),
                    )
                    .on_line(None, Some(po_line.line_no)),
                );
            }
        } else if t.billed_now != po_line.quantity {
            items_match = false;
            out.push(
                Discrepancy::amounts(
                    C::QuantityMismatch,
                    po_line.quantity,
                    t.billed_now,
                    format!(
                        "PO line {} ordered {}, invoice bills {}",
                        po_line.line_no, po_line.quantity, t.billed_now
                    ),
                )
                .on_line(None, Some(po_line.line_no)),
            );
        }
        if three_way && any_receipt && t.billed_now > Decimal::ZERO {
            let available = t.accepted.saturating_sub(t.billed_before);
            if t.billed_now > available {
                receipts_match = false;
                out.push(
                    Discrepancy::amounts(
                        C::QuantityExceedsReceived,
                        available,
                        t.billed_now,
                        if t.received {
                            format!(
                                "PO line {} has {} accepted, {} already billed: {} left, invoice bills {}",
                                po_line.line_no, t.accepted, t.billed_before, available, t.billed_now
                            )
                        } else {
                            format!(
                                "PO line {} has no goods receipt, invoice bills {}",
                                po_line.line_no, t.billed_now
                            )
                        },
                    )
                    .on_line(None, Some(po_line.line_no)),
                );
            }
        }
    }

    // Totals, net of tax: the seed's ±1 % against the PO (or, for a partial invoice,
    // against the PO prices of what it bills), then the cumulative ceiling.
    let invoice_total = invoice.subtotal;
    let expected_total = if policy.allow_partial && !invoice.lines.is_empty() {
        expected_partial
    } else {
        po.total_amount
    };
    let amount_difference = expected_total
        .checked_sub(invoice_total)
        .map(|d| d.abs())
        .unwrap_or(Decimal::MAX);
    let mut total_amount_match = currency_match;
    if currency_match && !(policy.allow_partial && invoice.lines.is_empty()) {
        let code = match compare(
            expected_total,
            invoice_total,
            policy.total_tolerance_percent,
            policy.review_above_percent,
        ) {
            Comparison::Equal | Comparison::WithinTolerance => None,
            Comparison::WithinReviewBand => Some(C::TotalAmountVariance),
            Comparison::Beyond => Some(C::TotalAmountMismatch),
        };
        if let Some(code) = code {
            total_amount_match = code.severity() == Severity::Review;
            out.push(Discrepancy::amounts(
                code,
                expected_total,
                invoice_total,
                format!(
                    "invoice net total {} differs from the expected {} by {} (tolerance {}%)",
                    invoice_total,
                    expected_total,
                    amount_difference,
                    policy.total_tolerance_percent
                ),
            ));
        }
    }
    let cumulative = previously_invoiced.saturating_add(invoice_total);
    let ceiling_ok = cumulative <= po.total_amount
        || within(po.total_amount, cumulative, policy.total_tolerance_percent);
    // Without earlier invoices an over-limit total is already a total mismatch.
    let already_reported = prior.is_empty() && out.iter().any(|d| d.code == C::TotalAmountMismatch);
    if !ceiling_ok && !already_reported {
        out.push(Discrepancy::amounts(
            C::CumulativeExceedsPoTotal,
            po.total_amount,
            cumulative,
            format!(
                "earlier invoices ({}) plus this one ({}) come to {}, above purchase order total {}",
                previously_invoiced, invoice_total, cumulative, po.total_amount
            ),
        ));
    }

    let outcome = if out.iter().any(|d| d.severity == Severity::Reject) {
        MatchOutcome::Rejected
    } else if out.is_empty() {
        MatchOutcome::Matched
    } else {
        MatchOutcome::NeedsReview
    };
    MatchReport {
        invoice_id: invoice.id.clone(),
        invoice_number: invoice.invoice_number.clone(),
        po_id: po.id.clone(),
        outcome,
        validation_summary: ValidationSummary {
            po_status_valid,
            total_amount_match,
            items_match,
            po_total: po.total_amount,
            invoice_total,
            amount_difference,
            expected_total,
            tolerance_percent: policy.total_tolerance_percent,
            vendor_match,
            currency_match,
            previously_invoiced,
            cumulative_within_po_total: ceiling_ok,
            three_way,
            receipts_match,
        },
        discrepancies: out,
        policy: policy.clone(),
    }
}

/// Who triggered a reconciliation: the API (`RECONCILE`) or the batch job (`BATCH_RECONCILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileAction {
    Manual,
    Batch,
}

impl ReconcileAction {
    pub fn audit_action(self) -> &'static str {
        match self {
            ReconcileAction::Manual => action::RECONCILE,
            ReconcileAction::Batch => action::BATCH_RECONCILE,
        }
    }
}

/// Applies a match report to its invoice: the new status (`matched`, `rejected`,
/// `needs_review`), the stored report, and the `INVOICE_ACTION` audit entry in the seed's job
/// structure. Re-matching an invoice that stays in `needs_review` only refreshes its report.
pub fn reconcile(
    invoice: &Invoice,
    report: &MatchReport,
    actor: &str,
    reconcile_action: ReconcileAction,
    ids: &dyn IdSource,
    now: DateTime<Utc>,
) -> Result<(Invoice, AuditEntry), DomainError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(DomainError::Invalid(vec![FieldError::required("actor")]));
    }
    if report.invoice_id != invoice.id {
        return Err(DomainError::rule(
            "match_report_invoice",
            format!(
                "match report is for invoice {}, not {}",
                report.invoice_id, invoice.id
            ),
        ));
    }
    let target = report.outcome.invoice_status();
    let mut updated = if invoice.status == target && target == InvoiceStatus::NeedsReview {
        let mut same = invoice.clone();
        same.updated_at = now;
        same.version += 1;
        same
    } else {
        invoice.with_status(target, now)?
    };
    let stored = serde_json::to_value(report)
        .map_err(|e| DomainError::rule("match_report_serialization", e.to_string()))?;
    updated.match_report = Some(stored);
    let details = json!({
        "po_id": report.po_id,
        "invoice_number": report.invoice_number,
        "reconciliation_status": report.outcome,
        "previous_status": invoice.status,
        "validation_summary": report.validation_summary,
        "discrepancies": report.discrepancies,
        "processed_by": actor,
    });
    let audit = AuditEntry::new(
        ids,
        AuditType::InvoiceAction,
        reconcile_action.audit_action(),
        entity::INVOICE,
        &invoice.id,
        actor,
        now,
        details,
    );
    Ok((updated, audit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn tolerance_is_symmetric_and_inclusive() {
        assert!(within(dec!(1250), dec!(1262.50), dec!(1)));
        assert!(within(dec!(1250), dec!(1237.50), dec!(1)));
        assert!(!within(dec!(1250), dec!(1262.51), dec!(1)));
        assert!(!within(dec!(1250), dec!(1237.49), dec!(1)));
        assert!(within(dec!(0), dec!(0), dec!(1)));
        assert!(!within(dec!(0), dec!(0.01), dec!(1)));
    }

    #[test]
    fn severities() {
        assert_eq!(DiscrepancyCode::ReceiptMissing.severity(), Severity::Review);
        assert_eq!(DiscrepancyCode::VendorMismatch.severity(), Severity::Reject);
        assert_eq!(
            serde_json::to_value(DiscrepancyCode::QuantityExceedsReceived).unwrap(),
            serde_json::json!("quantity_exceeds_received")
        );
    }
}
