//! The Textract responses in ../shared/testdata/textract/ through the extraction rules.

use chrono::NaiveDate;
use p2p_core::extraction::*;
use p2p_core::money::Currency;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/textract/"
);

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}{name}")).unwrap()
}

fn expense(name: &str) -> InvoiceDraft {
    let resp = ExpenseResponse::from_slice(&read(name)).unwrap();
    draft_from_expense(&[resp]).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn reasons(decision: &ReviewDecision) -> Vec<&'static str> {
    decision.reasons.iter().map(|r| r.code()).collect()
}

#[test]
fn every_textract_json_parses_without_panic() {
    let mut seen = 0;
    for entry in std::fs::read_dir(DATA).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let exp = ExpenseResponse::from_slice(&bytes).unwrap();
        let doc = DocumentResponse::from_slice(&bytes).unwrap();
        // Either outcome is fine; neither may panic.
        let _ = draft_from_expense(&[exp]);
        let d = draft_from_document(&[doc]);
        let _ = review(&d, &ReviewPolicy::default());
        seen += 1;
    }
    assert_eq!(seen, 7);
}

#[test]
fn amazon_sample_invoice() {
    let d = expense("trp_invoice-expense-response.json");
    assert_eq!(d.source, DraftSource::AnalyzeExpense);
    assert_eq!(d.invoice_number.as_ref().unwrap().value, "123PQR456");
    assert_eq!(d.po_number.as_ref().unwrap().value, "098ZYX7654");
    assert_eq!(d.invoice_date.as_ref().unwrap().value, date(2021, 1, 1));
    assert_eq!(d.due_date.as_ref().unwrap().value, date(2021, 1, 31));
    assert_eq!(d.subtotal.as_ref().unwrap().value, dec!(6169.40));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(61.69));
    let total = d.total.as_ref().unwrap();
    assert_eq!(total.value, dec!(6231.09));
    assert_eq!(total.raw_text, "$6231.09");
    assert_eq!(total.page, 1);
    // min(label 99.99603271484375, value 99.99756622314453), exactly.
    assert_eq!(total.confidence, dec!(99.99603271484375));
    assert_eq!(d.currency.as_ref().unwrap().value, Currency::USD);
    assert_eq!(d.vendor_tax_id.as_ref().unwrap().value, "12-3456789");
    assert_eq!(d.payment_terms.as_ref().unwrap().value, "30 days");
    assert!(d.vendor_name.is_none());
    assert_eq!(d.pages, 1);

    assert_eq!(d.line_items.len(), 4);
    let l = &d.line_items;
    assert_eq!(l[0].description.as_deref(), Some("Product 1"));
    assert_eq!(l[0].quantity, Some(dec!(1)));
    assert_eq!(l[0].unit_price, Some(dec!(1000)));
    assert_eq!(l[0].amount, Some(dec!(1000)));
    // "Service 3" has its quantity typed OTHER with no text: no quantity.
    assert_eq!(l[1].description.as_deref(), Some("Service 3"));
    assert_eq!(l[1].quantity, None);
    assert_eq!(l[1].amount, Some(dec!(2789)));
    assert_eq!(l[2].quantity, Some(dec!(2)));
    assert_eq!(l[2].unit_price, Some(dec!(106.04)));
    assert_eq!(l[2].amount, Some(dec!(212.08)));
    assert_eq!(l[3].amount, Some(dec!(2168.32)));
    assert_eq!(d.lines_total(), Some(dec!(6169.40)));

    let decision = review(&d, &ReviewPolicy::default());
    assert_eq!(
        decision.status,
        ReviewStatus::ReadyForMatching,
        "{:?}",
        decision.reasons
    );
    assert!(!decision.needs_review);
    assert!(decision.average_confidence.unwrap() > dec!(95));

    let sub = to_submission(&d, "ven-1", Some("po-1"));
    assert_eq!(sub.total_amount, Some(dec!(6231.09)));
    assert_eq!(sub.tax_amount, Some(dec!(61.69)));
    assert_eq!(sub.lines.len(), 4);
    // Service 3: no quantity -> 1 x 2789.
    assert_eq!(sub.lines[1].quantity, Decimal::ONE);
    assert_eq!(sub.lines[1].unit_price, dec!(2789));
    let json = serde_json::to_value(&sub).unwrap();
    assert_eq!(json["total_amount"], "6231.09");
    assert_eq!(json["invoice_date"], "2021-01-01");
    assert_eq!(json["currency"], "USD");
    assert_eq!(json["po_id"], "po-1");
}

#[test]
fn multipage_expense_analysis_is_merged_and_sent_to_review() {
    let d = expense("trp_analyzeExpenseResponse-multipage.json");
    assert_eq!(d.pages, 2);
    assert_eq!(d.invoice_number.as_ref().unwrap().value, "00000135");
    assert_eq!(d.po_number.as_ref().unwrap().value, "F0016");
    assert_eq!(d.invoice_date.as_ref().unwrap().value, date(2020, 3, 12));
    let due = d.due_date.as_ref().unwrap();
    assert_eq!(due.value, date(2020, 3, 26));
    assert_eq!(due.raw_text, "Thursday, 26 March 2020");
    assert_eq!(due.page, 2);
    let total = d.total.as_ref().unwrap();
    assert_eq!(total.value, dec!(5715.00));
    assert_eq!(total.page, 2);
    assert_eq!(d.currency.as_ref().unwrap().value, Currency::USD);
    assert_eq!(d.payment_terms.as_ref().unwrap().value, "14 days");
    // Five lines on page 1, three on page 2, in order.
    assert_eq!(d.line_items.len(), 8);
    assert_eq!(d.line_items.iter().filter(|l| l.page == 1).count(), 5);
    assert_eq!(d.line_items[1].quantity, Some(dec!(4.5)));
    assert!(d.line_items[0]
        .description
        .as_deref()
        .unwrap()
        .starts_with("ACP101 Accounting Package"));
    assert_eq!(d.line_items[7].amount, Some(dec!(495.00)));
    assert_eq!(d.lines_total(), Some(dec!(5715.00)));

    // VENDOR_NAME "META\n-" is read at 59.82 on page 1 and 72.03 on page 2.
    let vendor = d.vendor_name.as_ref().unwrap();
    assert_eq!(vendor.value, "META");
    assert_eq!(vendor.confidence, dec!(59.82245635986328));

    let decision = review(&d, &ReviewPolicy::default());
    assert!(decision.needs_review);
    assert_eq!(decision.status, ReviewStatus::NeedsReview);
    assert_eq!(
        decision.reasons,
        vec![ReviewReason::LowFieldConfidence {
            field: DraftField::VendorName,
            confidence: dec!(59.82245635986328),
            minimum: dec!(70),
        }]
    );
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["status"], "needs_review");
    assert_eq!(json["reasons"][0]["code"], "low_field_confidence");
    assert_eq!(json["reasons"][0]["field"], "vendor_name");

    // A laxer policy lets it through: the thresholds are configuration.
    let lax = ReviewPolicy {
        field_min_confidence: dec!(50),
        ..ReviewPolicy::default()
    };
    assert!(!review(&d, &lax).needs_review);
}

#[test]
fn receipt_totals_items_and_us_date() {
    let d = expense("textractor_analyze_expense_receipt.json");
    assert_eq!(d.total.as_ref().unwrap().value, dec!(1810.46));
    assert_eq!(d.subtotal.as_ref().unwrap().value, dec!(1699.96));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(110.50));
    assert_eq!(d.invoice_number.as_ref().unwrap().value, "21772");
    // 12/07/2019 with USD: US order.
    assert_eq!(d.invoice_date.as_ref().unwrap().value, date(2019, 12, 7));
    assert_eq!(d.currency.as_ref().unwrap().value, Currency::USD);
    // Two VENDOR_NAME readings: the more confident wins, the other is a warning.
    assert_eq!(d.vendor_name.as_ref().unwrap().value, "MEGA MARKET PLUS");
    assert!(d.warnings.iter().any(|w| w.field == "vendor_name"
        && w.kind == WarningKind::ConflictResolvedByConfidence
        && w.message.contains("MEGA BIGBOK")));
    assert_eq!(d.line_items.len(), 4);
    // "$899.99 S": the receipt's tax flag is not part of the amount.
    assert_eq!(d.line_items[0].amount, Some(dec!(899.99)));
    assert_eq!(
        d.line_items[0].description.as_deref(),
        Some("LG FLATSCREEN 65")
    );
    assert_eq!(d.lines_total(), Some(dec!(1699.96)));
    let decision = review(&d, &ReviewPolicy::default());
    assert_eq!(
        decision.status,
        ReviewStatus::ReadyForMatching,
        "{:?}",
        decision.reasons
    );
}

#[test]
fn no_summary_fields_still_yields_line_items() {
    let d = expense("textractor_analyze_expense_no_summary_fields.json");
    assert!(d.invoice_number.is_none() && d.total.is_none());
    assert_eq!(d.line_items.len(), 29);
    assert!(d.is_useful());
    let first = &d.line_items[0];
    assert_eq!(first.description.as_deref(), Some("GIL VNS HR CMEGI CRT"));
    assert_eq!(first.amount, Some(dec!(659.00)));
    assert_eq!(first.product_code.as_deref(), Some("04987176039347"));
    // Two PRODUCT_CODEs in one item: the more confident one.
    let nova = d
        .line_items
        .iter()
        .find(|l| l.description.as_deref() == Some("NOVA CNTRY CHED160G"))
        .unwrap();
    assert_eq!(nova.product_code.as_deref(), Some("04800016666407"));
    // "2 X P21.50/Unit": quantity 2, the unit price "P21.50/Unit" is unreadable.
    let curls = d
        .line_items
        .iter()
        .find(|l| l.description.as_deref() == Some("J&JCHIZ CURLS 55G"))
        .unwrap();
    assert_eq!(curls.quantity, Some(dec!(2)));
    assert_eq!(curls.amount, Some(dec!(43.00)));
    // Garbage such as "/6.50" and "to" becomes typed warnings, not values.
    assert!(d
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::UnparseableAmount && w.raw_text == "/6.50"));
    assert!(d
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::UnparseableQuantity && w.raw_text == "to"));

    let decision = review(&d, &ReviewPolicy::default());
    assert!(decision.needs_review);
    let codes = reasons(&decision);
    assert!(codes.contains(&"missing_field"));
    assert!(decision.reasons.contains(&ReviewReason::MissingField {
        any_of: vec![DraftField::InvoiceNumber]
    }));
    assert!(codes.contains(&"unreadable_value"));
    // Submission still carries the lines; the derived unit price is amount / quantity.
    let sub = to_submission(&d, "ven-1", None);
    let curls = sub
        .lines
        .iter()
        .find(|l| l.description == "J&JCHIZ CURLS 55G")
        .unwrap();
    assert_eq!(curls.unit_price, dec!(21.5));
    assert_eq!(sub.invoice_number, None);
}

#[test]
fn async_in_progress_and_failed_jobs_are_typed() {
    let in_progress =
        ExpenseResponse::from_slice(&read("trp_test-inprogress-response.json")).unwrap();
    assert_eq!(in_progress.job_status, Some(JobStatus::InProgress));
    let err = draft_from_expense(&[in_progress]).unwrap_err();
    assert_eq!(err, ExpenseJobError::InProgress);
    assert!(err.is_retryable());

    let failed = ExpenseResponse::from_slice(&read("trp_test-failed-response.json")).unwrap();
    let err = draft_from_expense(&[failed]).unwrap_err();
    assert_eq!(
        err,
        ExpenseJobError::Failed {
            message: Some("Dummy Status Message".into())
        }
    );
    assert!(!err.is_retryable());
    assert_eq!(
        draft_from_expense(&[]).unwrap_err(),
        ExpenseJobError::NoResponse
    );
}

#[test]
fn paginated_async_results_merge_like_one_response() {
    // Split the multi-page result into two Get* pages, as NextToken pagination does.
    let full: serde_json::Value =
        serde_json::from_slice(&read("trp_analyzeExpenseResponse-multipage.json")).unwrap();
    let mut first = full.clone();
    let mut second = full.clone();
    first["ExpenseDocuments"] = serde_json::json!([full["ExpenseDocuments"][0]]);
    first["NextToken"] = serde_json::json!("token-2");
    second["ExpenseDocuments"] = serde_json::json!([full["ExpenseDocuments"][1]]);
    let pages: Vec<ExpenseResponse> = [first, second]
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .collect();
    assert_eq!(pages[0].next_token.as_deref(), Some("token-2"));
    let merged = draft_from_expense(&pages).unwrap();
    let whole = expense("trp_analyzeExpenseResponse-multipage.json");
    assert_eq!(merged, whole);
}

#[test]
fn analyze_document_fallback_maps_forms_and_tables() {
    let resp =
        DocumentResponse::from_slice(&read("textractor_analyzedocument_sample-invoice.json"))
            .unwrap();
    let d = draft_from_document(&[resp]);
    assert_eq!(d.source, DraftSource::AnalyzeDocument);
    assert_eq!(d.invoice_number.as_ref().unwrap().value, "INV-3337");
    assert_eq!(d.po_number.as_ref().unwrap().value, "12345");
    assert_eq!(d.invoice_date.as_ref().unwrap().value, date(2016, 1, 25));
    assert_eq!(d.due_date.as_ref().unwrap().value, date(2016, 1, 31));
    assert_eq!(d.total.as_ref().unwrap().value, dec!(93.50));
    assert_eq!(d.subtotal.as_ref().unwrap().value, dec!(85.00));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(8.50));
    assert_eq!(d.currency.as_ref().unwrap().value, Currency::USD);
    // "Invoice Number" is read as a key-value pair (95.56) and as a table cell pair
    // (93.55 / 93.90): agreeing readings keep the lowest.
    assert_eq!(
        d.invoice_number.as_ref().unwrap().confidence,
        dec!(93.5546875)
    );
    assert_eq!(d.line_items.len(), 1);
    let line = &d.line_items[0];
    assert_eq!(
        line.description.as_deref(),
        Some("Web Design This is a sample description...")
    );
    assert_eq!(line.quantity, Some(dec!(1.00)));
    assert_eq!(line.unit_price, Some(dec!(85.00)));
    assert_eq!(line.amount, Some(dec!(85.00)));
    // No vendor name or tax id in the form, but the order number satisfies "vendor or PO".
    let decision = review(&d, &ReviewPolicy::default());
    assert_eq!(
        decision.status,
        ReviewStatus::ReadyForMatching,
        "{:?}",
        decision.reasons
    );

    // An expense draft with nothing useful is completed from this one.
    let mut empty = InvoiceDraft::empty(DraftSource::AnalyzeExpense);
    assert!(!empty.is_useful());
    empty.fill_missing_from(&d);
    assert_eq!(empty.total.as_ref().unwrap().value, dec!(93.50));
    assert_eq!(empty.line_items.len(), 1);
}

#[test]
fn draft_round_trips_through_json_with_string_amounts() {
    let d = expense("trp_invoice-expense-response.json");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["total"]["value"], "6231.09");
    assert_eq!(json["total"]["confidence"], "99.99603271484375");
    assert_eq!(json["invoice_date"]["value"], "2021-01-01");
    assert_eq!(json["line_items"][2]["unit_price"], "106.04");
    let back: InvoiceDraft = serde_json::from_value(json).unwrap();
    assert_eq!(back, d);

    let decision = review(&d, &ReviewPolicy::default());
    let meta = d.extraction_metadata("doc-1", "raw", "uploads/a.png", &decision);
    assert_eq!(meta.field_confidence["total"], dec!(99.99603271484375));
    assert_eq!(meta.average_confidence, decision.average_confidence);
}

#[test]
fn submission_json_is_accepted_by_the_workflow_validator() {
    use p2p_core::validation::{validate, SubmissionDocument, ValidationPolicy};
    let today = date(2021, 1, 2);
    let terms = p2p_core::vendor::PaymentTerms {
        net_days: 30,
        end_of_month: false,
        discount: None,
    };
    for name in [
        "trp_invoice-expense-response.json",
        "trp_analyzeExpenseResponse-multipage.json",
        "textractor_analyze_expense_receipt.json",
    ] {
        let d = expense(name);
        let json = serde_json::to_value(to_submission(&d, "ven-1", Some("po-1"))).unwrap();
        let parsed = SubmissionDocument::from_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The receipt prints no due date or terms: the vendor's terms supply it, as in the
        // workflow.
        let report = validate(
            &parsed,
            &ValidationPolicy::structural(),
            today,
            Some(&terms),
        );
        assert!(report.valid, "{name}: {:?}", report.errors);
    }
    // A draft missing its number: the validator names the field.
    let d = expense("textractor_analyze_expense_no_summary_fields.json");
    let json = serde_json::to_value(to_submission(&d, "ven-1", None)).unwrap();
    assert!(json.get("invoice_number").is_none());
    let report = validate(
        &SubmissionDocument::from_json(&json).unwrap(),
        &ValidationPolicy::structural(),
        today,
        None,
    );
    assert!(!report.valid);
    assert!(
        report.errors.iter().any(|e| e.field == "invoice_number"),
        "{:?}",
        report.errors
    );
}
