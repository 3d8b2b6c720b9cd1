//! Workday payment files: byte-for-byte against the seed's examples, escaping, parsing back,
//! verification against the payment, and the S3 object tags.

use chrono::{DateTime, TimeZone, Utc};
use p2p_core::money::Currency;
use p2p_core::payment::{Payment, PaymentFileFormat, PaymentStatus};
use p2p_core::payment_files::{
    parse_workday_json, parse_workday_xml, payment_file_tags, render_workday_json,
    render_workday_xml, WorkdayFileError, WorkdayPaymentFile,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const SEED_XML: &str = include_str!("fixtures/workday/payment.xml");
const SEED_JSON: &str = include_str!("fixtures/workday/payment.json");

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The payment the seed's example files describe.
fn seed_payment() -> Payment {
    let approved_at = at("2025-07-21T18:33:00Z");
    Payment {
        id: "pay_001".into(),
        invoice_id: "inv_123".into(),
        vendor_id: "vnd_456".into(),
        invoice_number: "INV-2025-001".into(),
        amount: dec!(250),
        currency: Currency::USD,
        status: PaymentStatus::Approved,
        approved_by: "approver@example.com".into(),
        approved_at,
        xml_s3_key: None,
        json_s3_key: None,
        workday_confirmed_at: None,
        workday_callback_received: false,
        notes: None,
        created_at: approved_at,
        updated_at: approved_at,
        version: 1,
    }
}

#[test]
fn xml_matches_the_seed_example_byte_for_byte() {
    assert_eq!(render_workday_xml(&seed_payment()), SEED_XML);
}

#[test]
fn json_matches_the_seed_example_byte_for_byte() {
    assert_eq!(render_workday_json(&seed_payment()), SEED_JSON);
}

#[test]
fn the_seed_files_parse_back_into_the_payment_fields() {
    let expected = WorkdayPaymentFile {
        id: "pay_001".into(),
        invoice_id: "inv_123".into(),
        vendor_id: "vnd_456".into(),
        amount: dec!(250.00),
        currency: Currency::USD,
        status: PaymentStatus::Approved,
        timestamp: at("2025-07-21T18:33:00Z"),
    };
    let from_xml = parse_workday_xml(SEED_XML).unwrap();
    let from_json = parse_workday_json(SEED_JSON).unwrap();
    assert_eq!(from_xml, expected);
    assert_eq!(from_json, expected);
    from_xml.verify(&seed_payment()).unwrap();
    from_json.verify(&seed_payment()).unwrap();
    assert_eq!(WorkdayPaymentFile::from_payment(&seed_payment()), expected);
    assert_eq!(expected.to_xml(), SEED_XML);
    assert_eq!(expected.to_json(), SEED_JSON);
}

#[test]
fn markup_characters_and_non_ascii_are_escaped_and_round_trip() {
    let mut p = seed_payment();
    p.id = r#"pay-<1>&"2"'3'"#.into();
    p.invoice_id = "inv-]]>-&amp;".into();
    p.vendor_id = "vnd-Müller & Söhne 日本 🚚".into();
    let xml = render_workday_xml(&p);
    assert!(xml.contains("<ID>pay-&lt;1&gt;&amp;&quot;2&quot;&apos;3&apos;</ID>"));
    assert!(xml.contains("<InvoiceID>inv-]]&gt;-&amp;amp;</InvoiceID>"));
    assert!(xml.contains("<VendorID>vnd-Müller &amp; Söhne 日本 🚚</VendorID>"));
    let parsed = parse_workday_xml(&xml).unwrap();
    assert_eq!(parsed.id, p.id);
    assert_eq!(parsed.invoice_id, p.invoice_id);
    assert_eq!(parsed.vendor_id, p.vendor_id);
    parsed.verify(&p).unwrap();

    let json = render_workday_json(&p);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["Payment"]["ID"], p.id.as_str());
    parse_workday_json(&json).unwrap().verify(&p).unwrap();
}

#[test]
fn characters_xml_cannot_carry_are_replaced_and_then_fail_verification() {
    let mut p = seed_payment();
    p.id = "pay\u{1}001\r".into();
    let xml = render_workday_xml(&p);
    assert!(xml.contains("<ID>pay\u{FFFD}001\u{FFFD}</ID>"));
    let parsed = parse_workday_xml(&xml).unwrap();
    assert!(matches!(
        parsed.verify(&p),
        Err(WorkdayFileError::Mismatch { field: "ID", .. })
    ));
    // JSON can carry them (escaped) and stays exact.
    let json = render_workday_json(&p);
    assert!(json.contains(r#""ID": "pay\u0001001\r""#));
    parse_workday_json(&json).unwrap().verify(&p).unwrap();
}

#[test]
fn amounts_use_the_currency_minor_units() {
    let mut p = seed_payment();
    p.currency = Currency::parse("JPY").unwrap();
    p.amount = dec!(1500);
    assert!(render_workday_xml(&p).contains("<Amount>1500</Amount>"));
    assert!(render_workday_json(&p).contains(r#""Amount": "1500","#));
    p.currency = Currency::parse("BHD").unwrap();
    p.amount = dec!(1.5);
    assert!(render_workday_xml(&p).contains("<Amount>1.500</Amount>"));
    parse_workday_xml(&render_workday_xml(&p))
        .unwrap()
        .verify(&p)
        .unwrap();
    p.currency = Currency::EUR;
    p.amount = dec!(1234567.8);
    assert!(render_workday_xml(&p).contains("<Amount>1234567.80</Amount>"));
    assert!(render_workday_xml(&p).contains("<Currency>EUR</Currency>"));
}

#[test]
fn timestamp_is_approved_at_in_utc_whole_seconds() {
    let mut p = seed_payment();
    p.approved_at =
        Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::milliseconds(678);
    p.created_at = at("2030-01-01T00:00:00Z");
    let xml = render_workday_xml(&p);
    assert!(xml.contains("<Timestamp>2025-01-02T03:04:05Z</Timestamp>"));
    assert!(render_workday_json(&p).contains(r#""Timestamp": "2025-01-02T03:04:05Z""#));
    parse_workday_xml(&xml).unwrap().verify(&p).unwrap();
}

#[test]
fn status_is_the_payment_status() {
    let mut p = seed_payment();
    p.status = PaymentStatus::Sent;
    assert!(render_workday_xml(&p).contains("<Status>sent</Status>"));
    let parsed = parse_workday_xml(&render_workday_xml(&p)).unwrap();
    assert_eq!(parsed.status, PaymentStatus::Sent);
    assert!(matches!(
        parsed.verify(&seed_payment()),
        Err(WorkdayFileError::Mismatch {
            field: "Status",
            ..
        })
    ));
}

#[test]
fn verification_names_the_field_that_differs() {
    let tampered = SEED_XML.replace("250.00", "2500.00");
    let err = parse_workday_xml(&tampered)
        .unwrap()
        .verify(&seed_payment())
        .unwrap_err();
    assert_eq!(
        err,
        WorkdayFileError::Mismatch {
            field: "Amount",
            expected: "250.00".into(),
            found: "2500.00".into(),
        }
    );
    let other_vendor = SEED_XML.replace("vnd_456", "vnd_999");
    assert!(matches!(
        parse_workday_xml(&other_vendor)
            .unwrap()
            .verify(&seed_payment()),
        Err(WorkdayFileError::Mismatch {
            field: "VendorID",
            ..
        })
    ));
    let later = SEED_JSON.replace("18:33:00Z", "18:34:00Z");
    assert!(matches!(
        parse_workday_json(&later).unwrap().verify(&seed_payment()),
        Err(WorkdayFileError::Mismatch {
            field: "Timestamp",
            ..
        })
    ));
}

#[test]
fn malformed_files_are_rejected_with_the_reason() {
    type Expect = fn(&WorkdayFileError) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        (SEED_XML.replace("  <Currency>USD</Currency>\n", ""), |e| {
            matches!(e, WorkdayFileError::MissingElement("Currency"))
        }),
        (
            SEED_XML.replace(
                "<Status>approved</Status>",
                "<Status>approved</Status><Status>sent</Status>",
            ),
            |e| matches!(e, WorkdayFileError::DuplicateElement("Status")),
        ),
        (
            SEED_XML.replace("<ID>", "<Extra>x</Extra><ID>"),
            |e| matches!(e, WorkdayFileError::UnexpectedElement(n) if n == "Extra"),
        ),
        (
            SEED_XML
                .replace("<Payment>", "<Pay>")
                .replace("</Payment>", "</Pay>"),
            |e| matches!(e, WorkdayFileError::WrongRoot(n) if n == "Pay"),
        ),
        (SEED_XML.replace("250.00", "250.0"), |e| {
            matches!(
                e,
                WorkdayFileError::InvalidValue {
                    field: "Amount",
                    ..
                }
            )
        }),
        (SEED_XML.replace("250.00", "2.5e2"), |e| {
            matches!(
                e,
                WorkdayFileError::InvalidValue {
                    field: "Amount",
                    ..
                }
            )
        }),
        (SEED_XML.replace("USD", "XYZ"), |e| {
            matches!(
                e,
                WorkdayFileError::InvalidValue {
                    field: "Currency",
                    ..
                }
            )
        }),
        (SEED_XML.replace("approved", "pending"), |e| {
            matches!(
                e,
                WorkdayFileError::InvalidValue {
                    field: "Status",
                    ..
                }
            )
        }),
        (SEED_XML.replace("18:33:00Z", "18:33:00+02:00"), |e| {
            matches!(
                e,
                WorkdayFileError::InvalidValue {
                    field: "Timestamp",
                    ..
                }
            )
        }),
        (SEED_XML.replace("<ID>pay_001</ID>", "<ID> </ID>"), |e| {
            matches!(e, WorkdayFileError::InvalidValue { field: "ID", .. })
        }),
        (SEED_XML.replace("</Amount>", "</Amnt>"), |e| {
            matches!(e, WorkdayFileError::Xml(_))
        }),
        (String::new(), |e| {
            matches!(e, WorkdayFileError::WrongRoot(_))
        }),
    ];
    for (xml, expected) in cases {
        let err = parse_workday_xml(&xml).unwrap_err();
        assert!(expected(&err), "unexpected error {err:?} for\n{xml}");
    }
    assert!(matches!(
        parse_workday_json(&SEED_JSON.replace("\"Currency\"", "\"Ccy\"")),
        Err(WorkdayFileError::Json(_))
    ));
    assert!(matches!(
        parse_workday_json(&SEED_JSON.replace("\"250.00\"", "250.00")),
        Err(WorkdayFileError::Json(_))
    ));
}

#[test]
fn s3_tags_follow_the_seed() {
    let upload = at("2025-07-21T18:33:05Z");
    let tags = payment_file_tags(&seed_payment(), PaymentFileFormat::Xml, upload);
    let expected: Vec<(String, String)> = [
        ("invoice_id", "inv_123"),
        ("vendor_id", "vnd_456"),
        ("amount", "250.00"),
        ("status", "approved"),
        ("payment_id", "pay_001"),
        ("file_format", "xml"),
        ("upload_timestamp", "2025-07-21T18:33:05Z"),
        ("content_type", "application/xml"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(tags, expected);

    let json_tags = payment_file_tags(&seed_payment(), PaymentFileFormat::Json, upload);
    assert!(json_tags.contains(&("file_format".into(), "json".into())));
    assert!(json_tags.contains(&("content_type".into(), "application/json".into())));
}

#[test]
fn s3_tag_values_are_sanitized_and_bounded() {
    let mut p = seed_payment();
    p.vendor_id = "vnd#1 (Müller & Co)".into();
    p.invoice_id = "i".repeat(400);
    let tags = payment_file_tags(&p, PaymentFileFormat::Json, at("2025-07-21T18:33:05Z"));
    let get = |k: &str| tags.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(get("vendor_id"), "vnd_1 _M_ller _ Co_");
    assert_eq!(get("invoice_id").len(), 256);
    for (k, v) in &tags {
        assert!(k.len() <= 128);
        assert!(v.chars().count() <= 256);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || " +-=._:/@".contains(c)),
            "tag {k}={v}"
        );
    }
}

proptest! {
    #[test]
    fn any_representable_ids_and_amounts_round_trip(
        id in "[^\u{0}-\u{8}\u{b}-\u{1f}\u{fffe}\u{ffff}]{1,40}",
        vendor in "\\PC{1,40}",
        cents in 1i64..10_000_000_000,
        secs in 0i64..4_000_000_000,
    ) {
        prop_assume!(!id.trim().is_empty() && !vendor.trim().is_empty());
        let mut p = seed_payment();
        p.id = id;
        p.vendor_id = vendor;
        p.amount = Decimal::new(cents, 2);
        p.approved_at = Utc.timestamp_opt(secs, 0).unwrap();
        let from_xml = parse_workday_xml(&render_workday_xml(&p)).unwrap();
        prop_assert_eq!(from_xml.verify(&p), Ok(()));
        let from_json = parse_workday_json(&render_workday_json(&p)).unwrap();
        prop_assert_eq!(from_json.verify(&p), Ok(()));
        prop_assert_eq!(from_xml, from_json);
    }
}
