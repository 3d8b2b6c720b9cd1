//! `draft_from_text` on the text layers of real invoices (fixtures derived with pdftotext,
//! see fixtures/extraction/PROVENANCE.md), checked against invoice2data's expected JSON.

use chrono::NaiveDate;
use p2p_core::extraction::*;
use p2p_core::money::Currency;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extraction/");
const EXPECTED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/invoices/"
);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}{name}.txt")).unwrap()
}

fn expected(name: &str) -> Value {
    let v: Value =
        serde_json::from_slice(&std::fs::read(format!("{EXPECTED}{name}.json")).unwrap()).unwrap();
    v[0].clone()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// invoice2data's number, date, amount and currency agree with the draft.
fn assert_agrees(name: &str, d: &InvoiceDraft) {
    let e = expected(name);
    assert_eq!(
        d.invoice_number.as_ref().map(|f| f.value.as_str()),
        e["invoice_number"].as_str(),
        "{name}: invoice number"
    );
    assert_eq!(
        d.invoice_date.as_ref().map(|f| f.value),
        Some(date(e["date"].as_str().unwrap())),
        "{name}: date"
    );
    // The expected JSON's amounts are exact numbers (arbitrary_precision), read as Decimal.
    let amount: Decimal = serde_json::from_value(e["amount"].clone()).unwrap();
    assert_eq!(
        d.total.as_ref().map(|f| f.value),
        Some(amount),
        "{name}: total"
    );
    assert_eq!(
        d.currency.as_ref().map(|f| f.value.code().to_string()),
        e["currency"].as_str().map(str::to_string),
        "{name}: currency"
    );
    for field in d.field_confidences() {
        assert_eq!(field.1, TEXT_LAYER_CONFIDENCE, "{name}: {:?}", field.0);
    }
    assert_eq!(d.source, DraftSource::TextLayer);
}

fn fold_tax_id(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn amazon_web_services_invoice() {
    let d = draft_from_text(&fixture("AmazonWebServices"));
    assert_agrees("AmazonWebServices", &d);
    assert_eq!(d.amount_due.as_ref().unwrap().value, dec!(4.11));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(0.00));
    assert_eq!(d.currency.as_ref().unwrap().value, Currency::USD);
    assert!(d.line_items.is_empty());
}

#[test]
fn quality_hosting_german_invoice() {
    let d = draft_from_text(&fixture("QualityHosting"));
    assert_agrees("QualityHosting", &d);
    assert_eq!(d.pages, 2);
    let e = expected("QualityHosting");
    assert_eq!(
        d.vendor_tax_id.as_ref().unwrap().value,
        fold_tax_id(e["vat"].as_str().unwrap())
    );
    // "Zahlungsziel 21.05.14", "Zahlungsbedingungen 14 Tage netto".
    assert_eq!(d.due_date.as_ref().unwrap().value, date("2014-05-21"));
    assert_eq!(d.payment_terms.as_ref().unwrap().value, "14 Tage netto");
    // "Ohne MwSt." column headers are not tax amounts.
    assert!(d.tax.is_none());
}

#[test]
fn free_fiber_french_invoice() {
    let d = draft_from_text(&fixture("free_fiber"));
    assert_agrees("free_fiber", &d);
    let e = expected("free_fiber");
    assert_eq!(
        d.due_date.as_ref().map(|f| f.value),
        Some(date(e["date_due"].as_str().unwrap()))
    );
    assert_eq!(
        d.vendor_tax_id.as_ref().unwrap().value,
        e["vat"].as_str().unwrap()
    );
    assert_eq!(d.amount_due.as_ref().unwrap().value, dec!(29.99));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(5.00));
}

#[test]
fn sample_invoice_text_layer_matches_its_textract_analysis() {
    let d = draft_from_text(&fixture("textractor_sample-invoice"));
    assert_eq!(d.invoice_number.as_ref().unwrap().value, "INV-3337");
    assert_eq!(d.po_number.as_ref().unwrap().value, "12345");
    assert_eq!(d.invoice_date.as_ref().unwrap().value, date("2016-01-25"));
    assert_eq!(d.due_date.as_ref().unwrap().value, date("2016-01-31"));
    assert_eq!(d.total.as_ref().unwrap().value, dec!(93.50));
    assert_eq!(d.subtotal.as_ref().unwrap().value, dec!(85.00));
    assert_eq!(d.tax.as_ref().unwrap().value, dec!(8.50));
}

#[test]
fn text_layer_drafts_always_get_a_human_look_under_the_default_policy() {
    let d = draft_from_text(&fixture("textractor_sample-invoice"));
    let decision = review(&d, &ReviewPolicy::default());
    assert!(decision.needs_review);
    assert_eq!(
        decision.reasons,
        vec![ReviewReason::LowAverageConfidence {
            average: dec!(80),
            minimum: dec!(85)
        }]
    );
    // The submission has one header-level line for the subtotal.
    let sub = to_submission(&d, "ven-9", None);
    assert_eq!(sub.lines.len(), 1);
    assert_eq!(sub.lines[0].amount, dec!(85.00));
    assert_eq!(sub.total_amount, Some(dec!(93.50)));
    assert_eq!(sub.tax_amount, Some(dec!(8.50)));
}

#[test]
fn label_rules_survive_other_whitespace() {
    // Another PDF crate may collapse column gaps, use tabs or CRLF, or drop form feeds.
    for name in ["AmazonWebServices", "QualityHosting", "free_fiber"] {
        let text = fixture(name);
        let collapsed: String = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\r\n");
        let tabs = text.replace("   ", "\t").replace('\u{c}', "\n");
        for variant in [collapsed, tabs] {
            let d = draft_from_text(&variant);
            assert_agrees(name, &d);
        }
    }
}

#[test]
fn a_field_label_at_the_end_of_a_line_takes_the_next_line() {
    let d = draft_from_text(
        "Invoice Number:\n  A-1001\nInvoice Date:\n\n2021-02-03\nTotal: EUR 1.234,50\n",
    );
    assert_eq!(d.invoice_number.unwrap().value, "A-1001");
    assert_eq!(
        d.invoice_date.unwrap().value,
        NaiveDate::from_ymd_opt(2021, 2, 3).unwrap()
    );
    assert_eq!(d.total.as_ref().unwrap().value, dec!(1234.50));
    assert_eq!(d.currency.unwrap().value, Currency::EUR);
}

#[test]
fn nothing_recognisable_is_an_empty_draft() {
    let d = draft_from_text("Hello world\n\nno numbers here");
    assert!(!d.is_useful());
    let decision = review(&d, &ReviewPolicy::default());
    assert!(decision.needs_review);
    assert_eq!(decision.average_confidence, None);
}
