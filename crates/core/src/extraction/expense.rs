//! AnalyzeExpense / GetExpenseAnalysis -> [`InvoiceDraft`]. Every ExpenseDocument of every
//! response page is merged: summary fields pool their candidates, line items are appended
//! in document order.

use rust_decimal::Decimal;

use super::assemble::{clean_text, Candidate, DraftBuilder};
use super::textract::{ExpenseField, ExpenseResponse, JobStatus};
use super::values::{parse_line_amount, parse_quantity};
use super::{DraftField, DraftSource, ExtractedLine, ExtractionWarning, InvoiceDraft, WarningKind};

/// An asynchronous expense analysis that has no result to normalise (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpenseJobError {
    /// Poll again later (or wait for the SNS completion notification).
    #[error("expense analysis is still in progress")]
    InProgress,
    #[error("expense analysis failed: {}", message.as_deref().unwrap_or("no status message"))]
    Failed { message: Option<String> },
    #[error("no expense analysis response was given")]
    NoResponse,
}

impl ExpenseJobError {
    /// Whether asking again can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ExpenseJobError::InProgress)
    }
}

fn summary_field(type_text: &str) -> Option<DraftField> {
    Some(match type_text {
        "INVOICE_RECEIPT_ID" => DraftField::InvoiceNumber,
        "PO_NUMBER" => DraftField::PoNumber,
        "VENDOR_NAME" => DraftField::VendorName,
        "VENDOR_VAT_NUMBER" => DraftField::VendorTaxId,
        "INVOICE_RECEIPT_DATE" => DraftField::InvoiceDate,
        "DUE_DATE" => DraftField::DueDate,
        "PAYMENT_TERMS" => DraftField::PaymentTerms,
        "SUBTOTAL" => DraftField::Subtotal,
        "TAX" => DraftField::Tax,
        "TOTAL" => DraftField::Total,
        "AMOUNT_DUE" => DraftField::AmountDue,
        _ => return None,
    })
}

/// Normalises one or more response pages of the same job (`NextToken` pagination) into one
/// draft. An `IN_PROGRESS` or `FAILED` job is an error; `PARTIAL_SUCCESS` keeps what came
/// back and records Textract's warnings.
pub fn draft_from_expense(responses: &[ExpenseResponse]) -> Result<InvoiceDraft, ExpenseJobError> {
    if responses.is_empty() {
        return Err(ExpenseJobError::NoResponse);
    }
    for r in responses {
        match r.job_status {
            Some(JobStatus::InProgress) => return Err(ExpenseJobError::InProgress),
            Some(JobStatus::Failed) => {
                return Err(ExpenseJobError::Failed {
                    message: r.status_message.clone(),
                })
            }
            _ => {}
        }
    }
    let mut b = DraftBuilder::new(DraftSource::AnalyzeExpense);
    for r in responses {
        if let Some(p) = r.document_metadata.as_ref().and_then(|m| m.pages) {
            b.pages = b.pages.max(p);
        }
        for w in &r.warnings {
            b.warnings.push(ExtractionWarning {
                field: "document".into(),
                kind: WarningKind::TextractWarning,
                raw_text: w.error_code.clone().unwrap_or_default(),
                message: format!(
                    "Textract warning {} on pages {:?}",
                    w.error_code.as_deref().unwrap_or("?"),
                    w.pages
                ),
            });
        }
        let mut docs: Vec<_> = r.expense_documents.iter().collect();
        docs.sort_by_key(|d| d.expense_index.unwrap_or(u32::MAX));
        for doc in docs {
            for f in &doc.summary_fields {
                let Some(field) = summary_field(f.type_text()) else {
                    continue;
                };
                let raw = f.value_text();
                if raw.trim().is_empty() {
                    continue;
                }
                b.candidates.push(Candidate {
                    field,
                    raw: raw.to_string(),
                    confidence: f.confidence(),
                    page: f.page_number.unwrap_or(1),
                    rank: 0,
                    currency_code: f.currency.as_ref().and_then(|c| c.code.clone()),
                });
            }
            for g in &doc.line_item_groups {
                for item in &g.line_items {
                    let index = b.lines.len();
                    if let Some(line) =
                        line_item(&item.line_item_expense_fields, index, &mut b.warnings)
                    {
                        b.lines.push(line);
                    }
                }
            }
        }
    }
    Ok(b.build())
}

/// The most confident field of a type in one line item (a line may repeat a type, e.g. two
/// PRODUCT_CODEs when a neighbouring row's code was read into it).
fn best<'a>(fields: &'a [ExpenseField], kind: &str) -> Option<&'a ExpenseField> {
    fields
        .iter()
        .filter(|f| f.type_text() == kind && !f.value_text().trim().is_empty())
        .max_by_key(|f| f.confidence())
}

fn line_item<'a>(
    fields: &'a [ExpenseField],
    index: usize,
    warnings: &mut Vec<ExtractionWarning>,
) -> Option<ExtractedLine> {
    let item = best(fields, "ITEM");
    let quantity = best(fields, "QUANTITY");
    let unit_price = best(fields, "UNIT_PRICE");
    let price = best(fields, "PRICE");
    let code = best(fields, "PRODUCT_CODE");
    let row = best(fields, "EXPENSE_ROW");

    let mut used: Vec<&'a ExpenseField> = Vec::new();
    let mut warn = |field: &str, kind: WarningKind, raw: &str, message: String| {
        warnings.push(ExtractionWarning {
            field: format!("line_items[{index}].{field}"),
            kind,
            raw_text: raw.to_string(),
            message,
        })
    };

    let description = match (item, row) {
        (Some(f), _) => {
            used.push(f);
            Some(clean_text(f.value_text()))
        }
        // No ITEM: the row's text without its trailing amount.
        (None, Some(r)) => {
            used.push(r);
            Some(row_description(r.value_text()))
        }
        (None, None) => None,
    }
    .filter(|d| !d.is_empty());

    let quantity = quantity.and_then(|f| match parse_quantity(f.value_text()) {
        Ok(q) => {
            used.push(f);
            Some(q)
        }
        Err(e) => {
            warn(
                "quantity",
                WarningKind::UnparseableQuantity,
                f.value_text(),
                e.to_string(),
            );
            None
        }
    });
    let mut money = |f: &'a ExpenseField, name: &str| match parse_line_amount(f.value_text()) {
        Ok(a) => {
            used.push(f);
            Some(a.value)
        }
        Err(e) => {
            warn(
                name,
                WarningKind::UnparseableAmount,
                f.value_text(),
                e.to_string(),
            );
            None
        }
    };
    let unit_price = unit_price.and_then(|f| money(f, "unit_price"));
    let mut amount = price.and_then(|f| money(f, "amount"));
    // No PRICE: the last amount printed on the row.
    if amount.is_none() && price.is_none() {
        if let Some(r) = row {
            if let Some(last) = r.value_text().split_whitespace().last() {
                if let Ok(a) = parse_line_amount(last) {
                    if last.contains(['.', ',', '$', '€', '£']) {
                        amount = Some(a.value);
                        used.push(r);
                    }
                }
            }
        }
    }
    let product_code = code.map(|f| {
        used.push(f);
        clean_text(f.value_text())
    });
    if description.is_none() && amount.is_none() {
        return None;
    }
    let confidence = used
        .iter()
        .map(|f| f.confidence())
        .min()
        .unwrap_or(Decimal::ZERO);
    let page = used.iter().find_map(|f| f.page_number).unwrap_or(1);
    Some(ExtractedLine {
        description,
        quantity,
        unit_price,
        amount,
        product_code,
        confidence,
        page,
    })
}

/// An EXPENSE_ROW's description: its text with trailing amount tokens dropped.
fn row_description(row: &str) -> String {
    let mut words: Vec<&str> = row.split_whitespace().collect();
    while let Some(last) = words.last() {
        let is_amount = parse_line_amount(last).is_ok() && last.contains(['.', ',', '$', '€', '£']);
        let is_flag = last.len() == 1 && last.chars().all(|c| c.is_ascii_alphabetic());
        if is_amount || is_flag {
            words.pop();
        } else {
            break;
        }
    }
    clean_text(&words.join(" "))
}
