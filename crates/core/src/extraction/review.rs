//! The review decision over an extracted draft. The outcome is `needs_review` (with typed
//! reasons) or `ready_for_matching`; an extracted invoice is never approved here. Even a
//! perfect extraction only goes on to PO matching and the normal approval rules.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{DraftField, InvoiceDraft, WarningKind};

/// At least one of these fields must be present (`[vendor_name, po_number]`: either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredField {
    pub any_of: Vec<DraftField>,
}

impl RequiredField {
    pub fn one(field: DraftField) -> Self {
        RequiredField {
            any_of: vec![field],
        }
    }
    pub fn any(fields: &[DraftField]) -> Self {
        RequiredField {
            any_of: fields.to_vec(),
        }
    }
    fn label(&self) -> String {
        self.any_of
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// Thresholds from the seed (field minimum 70, average 85), all configurable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    /// Every present field and line item must reach this confidence (0..=100).
    #[serde(with = "crate::money::decimal_str")]
    pub field_min_confidence: Decimal,
    /// The mean confidence of the present summary fields must reach this.
    #[serde(with = "crate::money::decimal_str")]
    pub average_min_confidence: Decimal,
    pub required: Vec<RequiredField>,
    /// Fields whose competing values, when only confidence could settle them, need a human.
    pub conflicts_need_review: Vec<DraftField>,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        use DraftField::*;
        ReviewPolicy {
            field_min_confidence: Decimal::from(70),
            average_min_confidence: Decimal::from(85),
            required: vec![
                RequiredField::one(InvoiceNumber),
                RequiredField::any(&[Total, AmountDue]),
                RequiredField::one(InvoiceDate),
                RequiredField::any(&[VendorName, VendorTaxId, PoNumber]),
                RequiredField::one(Currency),
            ],
            conflicts_need_review: vec![InvoiceNumber, PoNumber, InvoiceDate, Total, AmountDue],
        }
    }
}

/// Why a draft needs a human. Serialized with a stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ReviewReason {
    MissingField {
        any_of: Vec<DraftField>,
    },
    LowFieldConfidence {
        field: DraftField,
        #[serde(with = "crate::money::decimal_str")]
        confidence: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        minimum: Decimal,
    },
    LowLineConfidence {
        line: usize,
        #[serde(with = "crate::money::decimal_str")]
        confidence: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        minimum: Decimal,
    },
    LowAverageConfidence {
        #[serde(with = "crate::money::decimal_str")]
        average: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        minimum: Decimal,
    },
    /// subtotal + tax != total.
    TotalsMismatch {
        #[serde(with = "crate::money::decimal_str")]
        subtotal: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        tax: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        total: Decimal,
    },
    /// The line amounts do not add up to the subtotal (or total - tax).
    LinesMismatch {
        #[serde(with = "crate::money::decimal_str")]
        lines_total: Decimal,
        #[serde(with = "crate::money::decimal_str")]
        expected: Decimal,
    },
    /// A value was printed but could not be read.
    UnreadableValue {
        field: String,
        raw_text: String,
    },
    /// Several values and nothing but confidence to choose between them.
    ConflictingValues {
        field: DraftField,
        raw_text: String,
    },
}

impl ReviewReason {
    pub fn code(&self) -> &'static str {
        match self {
            ReviewReason::MissingField { .. } => "missing_field",
            ReviewReason::LowFieldConfidence { .. } => "low_field_confidence",
            ReviewReason::LowLineConfidence { .. } => "low_line_confidence",
            ReviewReason::LowAverageConfidence { .. } => "low_average_confidence",
            ReviewReason::TotalsMismatch { .. } => "totals_mismatch",
            ReviewReason::LinesMismatch { .. } => "lines_mismatch",
            ReviewReason::UnreadableValue { .. } => "unreadable_value",
            ReviewReason::ConflictingValues { .. } => "conflicting_values",
        }
    }

    /// A sentence for the reviewer.
    pub fn message(&self) -> String {
        match self {
            ReviewReason::MissingField { any_of } => {
                format!(
                    "{} was not found",
                    RequiredField {
                        any_of: any_of.clone()
                    }
                    .label()
                )
            }
            ReviewReason::LowFieldConfidence {
                field,
                confidence,
                minimum,
            } => format!("{field} was read with confidence {confidence}, below {minimum}"),
            ReviewReason::LowLineConfidence {
                line,
                confidence,
                minimum,
            } => format!(
                "line item {} was read with confidence {confidence}, below {minimum}",
                line + 1
            ),
            ReviewReason::LowAverageConfidence { average, minimum } => {
                format!("average confidence {average} is below {minimum}")
            }
            ReviewReason::TotalsMismatch {
                subtotal,
                tax,
                total,
            } => format!("subtotal {subtotal} + tax {tax} does not equal total {total}"),
            ReviewReason::LinesMismatch {
                lines_total,
                expected,
            } => format!("line items add up to {lines_total}, expected {expected}"),
            ReviewReason::UnreadableValue { field, raw_text } => {
                format!("{field}: `{raw_text}` could not be read")
            }
            ReviewReason::ConflictingValues { field, raw_text } => {
                format!("{field} has competing values; `{raw_text}` was chosen by confidence alone")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// A human confirms or corrects the draft before it goes on.
    NeedsReview,
    /// Goes on to PO matching; approval still follows the normal rules.
    ReadyForMatching,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecision {
    pub status: ReviewStatus,
    pub needs_review: bool,
    pub reasons: Vec<ReviewReason>,
    /// Mean confidence of the present summary fields (2 decimals), `None` when none are.
    #[serde(default, with = "crate::money::decimal_str_opt")]
    pub average_confidence: Option<Decimal>,
}

/// Applies `policy` to `draft`.
pub fn review(draft: &InvoiceDraft, policy: &ReviewPolicy) -> ReviewDecision {
    let mut reasons = Vec::new();

    for req in &policy.required {
        if !req.any_of.is_empty() && !req.any_of.iter().any(|f| draft.has(*f)) {
            reasons.push(ReviewReason::MissingField {
                any_of: req.any_of.clone(),
            });
        }
    }

    let confidences = draft.field_confidences();
    for (field, confidence) in &confidences {
        if *confidence < policy.field_min_confidence {
            reasons.push(ReviewReason::LowFieldConfidence {
                field: *field,
                confidence: *confidence,
                minimum: policy.field_min_confidence,
            });
        }
    }
    for (line, item) in draft.line_items.iter().enumerate() {
        if item.confidence < policy.field_min_confidence {
            reasons.push(ReviewReason::LowLineConfidence {
                line,
                confidence: item.confidence,
                minimum: policy.field_min_confidence,
            });
        }
    }
    let average_confidence = if confidences.is_empty() {
        None
    } else {
        let sum: Decimal = confidences.iter().map(|(_, c)| *c).sum();
        Some((sum / Decimal::from(confidences.len())).round_dp(2))
    };
    if let Some(average) = average_confidence {
        if average < policy.average_min_confidence {
            reasons.push(ReviewReason::LowAverageConfidence {
                average,
                minimum: policy.average_min_confidence,
            });
        }
    }

    let subtotal = draft.subtotal.as_ref().map(|f| f.value);
    let tax = draft.tax.as_ref().map(|f| f.value);
    let total = draft.total.as_ref().map(|f| f.value);
    if let (Some(s), Some(t), Some(tot)) = (subtotal, tax, total) {
        if s.checked_add(t) != Some(tot) {
            reasons.push(ReviewReason::TotalsMismatch {
                subtotal: s,
                tax: t,
                total: tot,
            });
        }
    }
    if let Some(lines_total) = draft.lines_total() {
        let expected = subtotal.or(match (total, tax) {
            (Some(tot), Some(t)) => tot.checked_sub(t),
            (Some(tot), None) => Some(tot),
            _ => None,
        });
        if let Some(expected) = expected {
            if lines_total != expected {
                reasons.push(ReviewReason::LinesMismatch {
                    lines_total,
                    expected,
                });
            }
        }
    }

    for w in &draft.warnings {
        let summary = DraftField::ALL.iter().find(|f| f.as_str() == w.field);
        match (w.kind, summary) {
            (WarningKind::UnparseableAmount | WarningKind::UnparseableDate, Some(f))
                if !draft.has(*f) =>
            {
                reasons.push(ReviewReason::UnreadableValue {
                    field: w.field.clone(),
                    raw_text: w.raw_text.clone(),
                })
            }
            (
                WarningKind::UnparseableAmount
                | WarningKind::UnparseableQuantity
                | WarningKind::UnparseableDate,
                None,
            ) if w.field.starts_with("line_items[") => {
                reasons.push(ReviewReason::UnreadableValue {
                    field: w.field.clone(),
                    raw_text: w.raw_text.clone(),
                })
            }
            (WarningKind::ConflictResolvedByConfidence, Some(f))
                if policy.conflicts_need_review.contains(f) =>
            {
                reasons.push(ReviewReason::ConflictingValues {
                    field: *f,
                    raw_text: w.raw_text.clone(),
                })
            }
            _ => {}
        }
    }

    let needs_review = !reasons.is_empty();
    ReviewDecision {
        status: if needs_review {
            ReviewStatus::NeedsReview
        } else {
            ReviewStatus::ReadyForMatching
        },
        needs_review,
        reasons,
        average_confidence,
    }
}
