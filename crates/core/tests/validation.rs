//! Invoice validation: the seed's samples (tests/fixtures/invoices/seed-*.json, copied verbatim
//! from seeds/invoice-step-functions-workflow.md) and every rule, in both document shapes.

use chrono::{NaiveDate, TimeZone, Utc};
use p2p_core::invoice::{InvoiceSource, InvoiceStatus};
use p2p_core::validation::{
    build_invoice, validate, InvoiceSubmission, SubmissionDocument, SubmissionShape,
    ValidationPolicy, ValidationReport,
};
use p2p_core::vendor::PaymentTerms;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/invoices/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The brief's "today" (the seed's 2024-12-31 due dates are in the past).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn before_seed_due_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, 1).unwrap()
}

fn no_future_rule() -> ValidationPolicy {
    ValidationPolicy {
        require_future_due_date: false,
        ..ValidationPolicy::default()
    }
}

fn run(doc: &Value, policy: &ValidationPolicy, today: NaiveDate) -> ValidationReport {
    let sub = SubmissionDocument::from_json(doc).unwrap();
    validate(&sub, policy, today, None)
}

/// `(field, code)` pairs, sorted, for whole-set comparisons.
fn failures(r: &ValidationReport) -> Vec<(String, String)> {
    let mut v: Vec<_> = r
        .errors
        .iter()
        .map(|e| (e.field.clone(), e.code.clone()))
        .collect();
    v.sort();
    v
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = items
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    v.sort();
    v
}

const SEED_VALID: &[&str] = &[
    "seed-cli-valid.json",
    "seed-console-test.json",
    "seed-sample-valid.json",
];
const SEED_INVALID: &[&str] = &[
    "seed-cli-invalid-missing-fields.json",
    "seed-sample-invalid-missing-fields.json",
];

#[test]
fn seed_valid_samples_pass_when_their_due_date_is_still_ahead() {
    for name in SEED_VALID {
        let r = run(
            &fixture(name),
            &ValidationPolicy::default(),
            before_seed_due_date(),
        );
        assert!(r.valid, "{name}: {:?}", r.errors);
        assert_eq!(r.invoice.shape, SubmissionShape::Seed);
    }
}

#[test]
fn seed_valid_samples_fail_only_on_the_past_due_date_today() {
    for name in SEED_VALID {
        let r = run(&fixture(name), &ValidationPolicy::default(), today());
        assert!(!r.valid, "{name}");
        assert_eq!(
            failures(&r),
            pairs(&[("invoice.dueDate", "due_date_not_in_future")]),
            "{name}"
        );
    }
}

#[test]
fn seed_valid_samples_pass_today_with_the_future_rule_off() {
    for name in SEED_VALID {
        let r = run(&fixture(name), &no_future_rule(), today());
        assert!(r.valid, "{name}: {:?}", r.errors);
    }
}

#[test]
fn seed_invalid_samples_name_the_missing_fields() {
    for name in SEED_INVALID {
        for (policy, day) in [
            (ValidationPolicy::default(), today()),
            (no_future_rule(), today()),
            (ValidationPolicy::default(), before_seed_due_date()),
        ] {
            let r = run(&fixture(name), &policy, day);
            assert!(!r.valid);
            assert_eq!(
                failures(&r),
                pairs(&[
                    ("invoice.amount", "required"),
                    ("invoice.dueDate", "required")
                ]),
                "{name}"
            );
        }
    }
}

#[test]
fn seed_sample_maps_customer_to_vendor_and_items_to_lines() {
    let r = run(
        &fixture("seed-sample-valid.json"),
        &no_future_rule(),
        today(),
    );
    let inv = &r.invoice;
    assert_eq!(inv.invoice_number.as_deref(), Some("INV-001"));
    assert_eq!(inv.vendor_id.as_deref(), Some("CUST-123"));
    assert_eq!(inv.vendor_email.as_deref(), Some("customer@example.com"));
    assert_eq!(inv.total_amount, Some(dec!(1500.00)));
    assert_eq!(inv.subtotal, Some(dec!(1500.00)));
    assert_eq!(inv.tax_amount, Some(dec!(0)));
    assert_eq!(inv.currency.as_deref(), Some("USD"));
    assert_eq!(inv.due_date.as_deref(), Some("2024-12-31"));
    assert_eq!(inv.invoice_date.as_deref(), Some("2026-11-23"));
    assert_eq!(inv.lines.len(), 1);
    assert_eq!(inv.lines[0].line_no, Some(1));
    assert_eq!(inv.lines[0].unit_price, Some(dec!(30.00)));
    assert_eq!(inv.lines[0].amount, Some(dec!(1500.00)));
}

#[test]
fn seed_items_must_sum_to_the_amount() {
    let mut doc = fixture("seed-sample-valid.json");
    doc["invoice"]["items"][0]["quantity"] = json!(49);
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(failures(&r), pairs(&[("invoice.amount", "total_mismatch")]));
    assert!(
        r.errors[0].message.contains("1470"),
        "{}",
        r.errors[0].message
    );
}

#[test]
fn seed_shape_reports_item_errors_under_items_and_rate() {
    let mut doc = fixture("seed-sample-valid.json");
    doc["invoice"]["items"] = json!([
        {"description": "Consulting hours", "quantity": 50, "rate": 30.00},
        {"description": "Travel", "quantity": 1, "rate": "-5"}
    ]);
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("invoice.items[1].rate", "not_positive")])
    );
}

#[test]
fn seed_shape_accepts_po_and_currency() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["poId"] = json!("po-000001");
    doc["invoice"]["currency"] = json!("eur");
    let r = run(&doc, &no_future_rule(), today());
    assert!(r.valid, "{:?}", r.errors);
    assert_eq!(r.invoice.po_id.as_deref(), Some("po-000001"));
    assert_eq!(r.invoice.currency.as_deref(), Some("EUR"));

    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["po_id"] = json!("po-000002");
    let sub = SubmissionDocument::from_json(&doc).unwrap();
    assert_eq!(sub.po_id.as_deref(), Some("po-000002"));
}

#[test]
fn seed_example_limit_of_ten_thousand() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["amount"] = json!(10000.01);
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("invoice.amount", "exceeds_max_amount")])
    );
    doc["invoice"]["amount"] = json!("10000.00");
    assert!(run(&doc, &no_future_rule(), today()).valid);
    let unlimited = ValidationPolicy {
        max_amount: None,
        ..no_future_rule()
    };
    doc["invoice"]["amount"] = json!(250000);
    assert!(run(&doc, &unlimited, today()).valid);
}

#[test]
fn amount_must_be_positive() {
    for amount in [json!(0), json!("-1500.00")] {
        let mut doc = fixture("seed-cli-valid.json");
        doc["invoice"]["amount"] = amount;
        let r = run(&doc, &no_future_rule(), today());
        assert_eq!(failures(&r), pairs(&[("invoice.amount", "not_positive")]));
    }
}

#[test]
fn due_date_today_is_not_in_the_future() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["dueDate"] = json!("2026-11-23");
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("invoice.dueDate", "due_date_not_in_future")])
    );
    doc["invoice"]["dueDate"] = json!("2026-11-24");
    assert!(run(&doc, &ValidationPolicy::default(), today()).valid);
}

#[test]
fn impossible_dates_are_named() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["dueDate"] = json!("2024-02-30");
    doc["invoice"]["invoiceDate"] = json!("21/11/2026");
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(
        failures(&r),
        pairs(&[
            ("invoice.dueDate", "invalid_date"),
            ("invoice.invoiceDate", "invalid_date")
        ])
    );
}

#[test]
fn leap_day_is_a_real_date() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["dueDate"] = json!("2028-02-29");
    assert!(run(&doc, &ValidationPolicy::default(), today()).valid);
}

#[test]
fn invalid_email_is_reported_when_given() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["customerEmail"] = json!("customer@");
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("invoice.customerEmail", "invalid_email")])
    );
    // Absent is fine.
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]
        .as_object_mut()
        .unwrap()
        .remove("customerEmail");
    assert!(run(&doc, &no_future_rule(), today()).valid);
}

#[test]
fn canonical_valid_fixture_and_its_invoice() {
    let r = run(
        &fixture("canonical-valid.json"),
        &ValidationPolicy::default(),
        today(),
    );
    assert!(r.valid, "{:?}", r.errors);
    assert_eq!(r.invoice.shape, SubmissionShape::Canonical);
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
    let inv = build_invoice(&r, "inv-000001".into(), "", now, InvoiceSource::Api).unwrap();
    assert_eq!(inv.id, "inv-000001");
    assert_eq!(inv.status, InvoiceStatus::Received);
    assert_eq!(inv.source, InvoiceSource::Api);
    assert_eq!(inv.version, 1);
    assert_eq!(inv.submitted_by, "ap-clerk@example.com");
    assert_eq!(inv.submitted_at, now);
    assert_eq!(inv.created_at, now);
    assert_eq!(inv.po_id, "po-000017");
    assert_eq!(inv.currency.code(), "EUR");
    assert_eq!(inv.subtotal, dec!(1020.00));
    assert_eq!(inv.tax_amount, dec!(193.80));
    assert_eq!(inv.total_amount, dec!(1213.80));
    assert_eq!(inv.due_date, NaiveDate::from_ymd_opt(2026, 12, 20).unwrap());
    let numbers: Vec<_> = inv
        .lines
        .iter()
        .map(|l| (l.line_no, l.po_line_no))
        .collect();
    assert_eq!(numbers, vec![(1, Some(1)), (2, Some(2))]);
    assert_eq!(inv.lines[0].amount, dec!(510.00));
    // The authenticated submitter wins over the document's claim.
    let inv = build_invoice(&r, "inv-2".into(), "textract", now, InvoiceSource::Textract).unwrap();
    assert_eq!(inv.submitted_by, "textract");
    assert_eq!(inv.source, InvoiceSource::Textract);
}

#[test]
fn canonical_invalid_fixture_reports_every_failure() {
    let r = run(
        &fixture("canonical-invalid-every-rule.json"),
        &ValidationPolicy {
            require_po: true,
            ..ValidationPolicy::default()
        },
        today(),
    );
    assert!(!r.valid);
    assert_eq!(
        failures(&r),
        pairs(&[
            ("invoice_number", "required"),
            ("po_id", "required"),
            ("vendor_email", "invalid_email"),
            ("currency", "unknown_currency"),
            ("invoice_date", "invalid_date"),
            ("due_date", "due_date_not_in_future"),
            ("lines[0].quantity", "not_positive"),
            ("lines[1].description", "required"),
            ("lines[1].unit_price", "not_positive"),
            ("subtotal", "negative"),
            ("tax_amount", "negative"),
            ("total_amount", "not_positive"),
        ])
    );
}

fn canonical() -> Value {
    fixture("canonical-valid.json")
}

#[test]
fn lines_must_sum_to_subtotal_and_subtotal_plus_tax_to_total() {
    let mut doc = canonical();
    doc["subtotal"] = json!("1020.01");
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(
        failures(&r),
        pairs(&[
            ("subtotal", "subtotal_mismatch"),
            ("total_amount", "total_mismatch")
        ])
    );

    let mut doc = canonical();
    doc["tax_amount"] = json!("193.79");
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(failures(&r), pairs(&[("total_amount", "total_mismatch")]));

    // Without subtotal, the lines' sum stands in for it.
    let mut doc = canonical();
    doc.as_object_mut().unwrap().remove("subtotal");
    assert!(run(&doc, &ValidationPolicy::default(), today()).valid);
}

#[test]
fn line_amount_must_equal_quantity_times_price() {
    let mut doc = canonical();
    doc["lines"][1]["amount"] = json!("500.00");
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("lines[1].amount", "amount_mismatch")])
    );
}

#[test]
fn decimals_are_limited_to_the_currency_minor_units() {
    let mut doc = canonical();
    doc["tax_amount"] = json!("193.805");
    doc["lines"][0]["unit_price"] = json!("4.251");
    let r = run(&doc, &ValidationPolicy::default(), today());
    let f = failures(&r);
    assert!(
        f.contains(&("tax_amount".into(), "too_many_decimals".into())),
        "{f:?}"
    );
    assert!(
        f.contains(&("lines[0].unit_price".into(), "too_many_decimals".into())),
        "{f:?}"
    );

    // JPY has no minor units.
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["currency"] = json!("JPY");
    doc["invoice"]["amount"] = json!("1500.50");
    let r = run(&doc, &no_future_rule(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("invoice.amount", "too_many_decimals")])
    );
    doc["invoice"]["amount"] = json!("1500");
    assert!(run(&doc, &no_future_rule(), today()).valid);
}

#[test]
fn line_count_is_limited_by_policy() {
    let mut doc = canonical();
    let policy = ValidationPolicy {
        max_lines: 1,
        ..ValidationPolicy::default()
    };
    let r = run(&doc, &policy, today());
    assert!(failures(&r).contains(&("lines".into(), "too_many_lines".into())));
    doc["lines"].as_array_mut().unwrap().truncate(1);
    doc["subtotal"] = json!("510.00");
    doc["tax_amount"] = json!("0");
    doc["total_amount"] = json!("510.00");
    let r = run(&doc, &policy, today());
    assert!(r.valid, "{:?}", r.errors);
}

#[test]
fn duplicate_line_numbers_are_refused() {
    let mut doc = canonical();
    doc["lines"][0]["line_no"] = json!(2);
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(
        failures(&r),
        pairs(&[("lines[1].line_no", "duplicate_line_no")])
    );
}

#[test]
fn due_date_derived_from_vendor_terms_when_absent() {
    let mut doc = canonical();
    doc.as_object_mut().unwrap().remove("due_date");
    let sub = SubmissionDocument::from_json(&doc).unwrap();
    let terms = PaymentTerms::parse("Net 30 EOM").unwrap();
    let r = validate(&sub, &ValidationPolicy::default(), today(), Some(&terms));
    assert!(r.valid, "{:?}", r.errors);
    assert_eq!(r.invoice.due_date.as_deref(), Some("2026-12-31"));
    let r = validate(&sub, &ValidationPolicy::default(), today(), None);
    assert_eq!(failures(&r), pairs(&[("due_date", "required")]));
}

#[test]
fn due_date_before_invoice_date_and_future_invoice_date() {
    let mut doc = canonical();
    doc["invoice_date"] = json!("2026-11-25");
    doc["due_date"] = json!("2026-11-24");
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(
        failures(&r),
        pairs(&[
            ("due_date", "due_before_invoice_date"),
            ("invoice_date", "future_invoice_date")
        ])
    );
}

#[test]
fn text_fields_have_length_limits() {
    let mut doc = canonical();
    doc["invoice_number"] = json!("X".repeat(129));
    let r = run(&doc, &ValidationPolicy::default(), today());
    assert_eq!(failures(&r), pairs(&[("invoice_number", "too_long")]));
}

#[test]
fn build_invoice_refuses_an_invalid_report() {
    let r = run(
        &fixture("seed-cli-invalid-missing-fields.json"),
        &ValidationPolicy::default(),
        today(),
    );
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
    let err = build_invoice(&r, "inv-1".into(), "api", now, InvoiceSource::Api).unwrap_err();
    assert_eq!(err.field_errors().len(), 2);

    // A report claiming validity over a broken submission is re-checked.
    let forged = ValidationReport {
        valid: true,
        shape: SubmissionShape::Canonical,
        errors: vec![],
        invoice: InvoiceSubmission {
            invoice_number: Some("X".into()),
            ..Default::default()
        },
    };
    assert!(build_invoice(&forged, "inv-1".into(), "api", now, InvoiceSource::Api).is_err());

    // Someone must have submitted it.
    let r = run(&fixture("seed-cli-valid.json"), &no_future_rule(), today());
    let err = build_invoice(&r, "inv-1".into(), " ", now, InvoiceSource::Api).unwrap_err();
    assert_eq!(err.field_errors()[0].field, "invoice.submittedBy");
    let inv = build_invoice(&r, "inv-1".into(), "api-user", now, InvoiceSource::Api).unwrap();
    assert_eq!(inv.po_id, "");
    assert!(inv.lines.is_empty());
    assert_eq!(inv.subtotal, dec!(1500.00));
}

#[test]
fn normalized_report_round_trips_through_json_to_the_next_step() {
    let r = run(&canonical(), &ValidationPolicy::default(), today());
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains(r#""total_amount":"1213.80""#), "{text}");
    let back: ValidationReport = serde_json::from_str(&text).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 30, 0, 0, 0).unwrap();
    let inv = build_invoice(&back, "inv-1".into(), "api", now, InvoiceSource::Api).unwrap();
    assert_eq!(inv.total_amount, dec!(1213.80));

    // A seed-shaped report still names seed fields after the round trip.
    let r = run(&fixture("seed-cli-valid.json"), &no_future_rule(), today());
    let back: ValidationReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.shape, SubmissionShape::Seed);
    let err = build_invoice(&back, "inv-1".into(), "", now, InvoiceSource::Api).unwrap_err();
    assert_eq!(err.field_errors()[0].field, "invoice.submittedBy");
}

// ---- document shape errors ----

fn shape_errors(doc: Value) -> Vec<(String, String)> {
    let err = SubmissionDocument::from_json(&doc).unwrap_err();
    let mut v: Vec<_> = err
        .field_errors()
        .iter()
        .map(|e| (e.field.clone(), e.code.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn neither_shape_is_refused_at_the_root() {
    assert_eq!(shape_errors(json!([1, 2])), pairs(&[("$", "invalid_type")]));
    assert_eq!(
        shape_errors(json!("INV-1")),
        pairs(&[("$", "invalid_type")])
    );
    assert_eq!(
        shape_errors(json!({"invoice": "INV-1"})),
        pairs(&[("invoice", "invalid_type")])
    );
}

#[test]
fn both_shapes_at_once_are_ambiguous() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice_number"] = json!("INV-001");
    assert_eq!(shape_errors(doc), pairs(&[("$", "ambiguous_shape")]));
}

#[test]
fn unknown_fields_are_named_in_either_shape() {
    let mut doc = fixture("seed-sample-valid.json");
    doc["invoice"]["customer"] = json!("x");
    doc["invoice"]["items"][0]["unit"] = json!("h");
    assert_eq!(
        shape_errors(doc),
        pairs(&[
            ("invoice.customer", "unknown_field"),
            ("invoice.items[0].unit", "unknown_field")
        ])
    );
    let mut doc = canonical();
    doc["invoiceId"] = json!("x");
    assert_eq!(shape_errors(doc), pairs(&[("invoiceId", "unknown_field")]));
}

#[test]
fn wrong_types_are_named_with_their_path() {
    let mut doc = fixture("seed-sample-valid.json");
    doc["invoice"]["amount"] = json!(true);
    doc["invoice"]["customerId"] = json!(123);
    doc["invoice"]["items"][0]["quantity"] = json!("fifty");
    doc["invoice"]["dueDate"] = json!({"y": 2024});
    assert_eq!(
        shape_errors(doc),
        pairs(&[
            ("invoice.amount", "invalid_decimal"),
            ("invoice.customerId", "invalid_type"),
            ("invoice.dueDate", "invalid_type"),
            ("invoice.items[0].quantity", "invalid_decimal"),
        ])
    );
    let mut doc = canonical();
    doc["lines"] = json!({"description": "x"});
    assert_eq!(shape_errors(doc), pairs(&[("lines", "invalid_type")]));
    let mut doc = canonical();
    doc["lines"][1] = json!(7);
    doc["lines"][0]["po_line_no"] = json!(0);
    assert_eq!(
        shape_errors(doc),
        pairs(&[
            ("lines[0].po_line_no", "invalid_line_number"),
            ("lines[1]", "invalid_type")
        ])
    );
}

#[test]
fn amounts_are_exact_from_strings_and_numbers_but_not_floats_text() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["amount"] = serde_json::from_str("1500.10").unwrap();
    let sub = SubmissionDocument::from_json(&doc).unwrap();
    assert_eq!(sub.total_amount, Some(dec!(1500.10)));
    doc["invoice"]["amount"] = json!("1.5e3");
    assert_eq!(
        shape_errors(doc),
        pairs(&[("invoice.amount", "invalid_decimal")])
    );
}

#[test]
fn null_counts_as_absent() {
    let mut doc = fixture("seed-cli-valid.json");
    doc["invoice"]["customerEmail"] = Value::Null;
    let sub = SubmissionDocument::from_json(&doc).unwrap();
    assert_eq!(sub.vendor_email, None);
}

#[test]
fn canonical_struct_denies_unknown_fields_via_serde_too() {
    let err = serde_json::from_value::<InvoiceSubmission>(json!({"invoiceId": "x"}));
    assert!(err.is_err());
}
