//! ISO 20022 pain.001.001.09 files: every file a test produces is validated against the real
//! XSD with `xmllint` (package libxml2-utils); a missing xmllint fails the test.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, NaiveDate, Utc};
use p2p_core::money::Currency;
use p2p_core::payment::{Payment, PaymentStatus};
use p2p_core::payment_files::{
    end_to_end_id, render_pain001, Creditor, Debtor, ExclusionReason, Pain001Batch, Pain001Error,
    Pain001File, TransferOrder,
};
use p2p_core::vendor::{
    BankAccount, BankAccountInput, Bic, Email, Iban, PaymentTerms, Vendor, VendorStatus,
};
use quick_xml::events::Event;
use quick_xml::Reader;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/iso20022/pain.001.001.09.xsd"
);

/// Writes `xml` to a temp dir and runs `xmllint --noout --schema <XSD>` on it: `Err` with
/// xmllint's report when the file does not validate. A missing xmllint is a test failure.
fn xsd_check(xml: &str) -> Result<(), String> {
    assert!(Path::new(XSD).exists(), "XSD not found at {XSD}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pain.001.xml");
    std::fs::write(&file, xml).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(XSD)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint is needed to validate pain.001 files against the XSD but could not \
                 run ({e}); install it: apt-get install -y libxml2-utils"
            )
        });
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() && stderr.contains("validates") {
        Ok(())
    } else {
        Err(stderr)
    }
}

fn assert_valid(xml: &str) {
    if let Err(report) = xsd_check(xml) {
        panic!("pain.001 file does not validate against {XSD}:\n{report}\n--- file ---\n{xml}");
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn iban_account(iban: &str, bic: &str) -> BankAccount {
    BankAccount::Iban {
        iban: Iban::parse(iban).unwrap(),
        bic: Bic::parse(bic).unwrap(),
    }
}

fn debtor() -> Debtor {
    Debtor {
        name: "Example Buyer GmbH".into(),
        iban: Iban::parse("DE89 3704 0044 0532 0130 00").unwrap(),
        bic: Bic::parse("COBADEFFXXX").unwrap(),
    }
}

fn payment(id: &str, vendor_id: &str, amount: Decimal, currency: &str) -> Payment {
    let t = at("2025-07-21T18:33:00Z");
    Payment {
        id: id.into(),
        invoice_id: format!("inv-{id}"),
        vendor_id: vendor_id.into(),
        invoice_number: format!("INV-{id}"),
        amount,
        currency: Currency::parse(currency).unwrap(),
        status: PaymentStatus::Approved,
        approved_by: "approver@example.com".into(),
        approved_at: t,
        xml_s3_key: None,
        json_s3_key: None,
        workday_confirmed_at: None,
        workday_callback_received: false,
        notes: None,
        created_at: t,
        updated_at: t,
        version: 1,
    }
}

/// Valid IBAN/BIC pairs (published examples) for creditors.
const ACCOUNTS: &[(&str, &str)] = &[
    ("GB82WEST12345698765432", "NWBKGB2L"),
    ("FR1420041010050500013M02606", "BNPAFRPPXXX"),
    ("NL91ABNA0417164300", "ABNANL2A"),
    ("BE68539007547034", "GEBABEBB"),
    ("CH9300762011623852957", "UBSWCHZH80A"),
    ("IT60X0542811101000000123456", "BCITITMM"),
    ("ES9121000418450200051332", "CAIXESBB"),
    ("AT611904300234573201", "BKAUATWW"),
];

struct Directory(HashMap<String, (String, Option<BankAccount>)>);

impl Directory {
    fn new() -> Self {
        Directory(HashMap::new())
    }
    fn add(&mut self, vendor_id: &str, name: &str, account: Option<BankAccount>) {
        self.0
            .insert(vendor_id.to_string(), (name.to_string(), account));
    }
    fn lookup<'a>(&'a self) -> impl FnMut(&str) -> Option<Creditor<'a>> + 'a {
        move |id| {
            self.0.get(id).map(|(name, account)| Creditor {
                name,
                account: account.as_ref(),
            })
        }
    }
}

fn batch<'a>(debtor: &'a Debtor, message_id: &'a str) -> Pain001Batch<'a> {
    Pain001Batch {
        message_id,
        created_at: at("2025-07-22T08:00:00Z"),
        debtor,
    }
}

fn orders<'a>(payments: &'a [Payment], on: &str) -> Vec<TransferOrder<'a>> {
    payments
        .iter()
        .map(|payment| TransferOrder {
            payment,
            requested_execution_date: date(on),
        })
        .collect()
}

/// Every text node of the document with its element path, in document order.
fn texts(xml: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => path.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap()),
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().unwrap();
                if !text.trim().is_empty() {
                    out.push((path.join("/"), text.into_owned()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn values(xml: &str, suffix: &str) -> Vec<String> {
    texts(xml)
        .into_iter()
        .filter(|(p, _)| p.ends_with(suffix))
        .map(|(_, t)| t)
        .collect()
}

fn render(
    debtor: &Debtor,
    message_id: &str,
    orders: &[TransferOrder<'_>],
    dir: &Directory,
) -> Pain001File {
    let file = render_pain001(&batch(debtor, message_id), orders, dir.lookup()).unwrap();
    assert_valid(&file.xml);
    file
}

#[test]
fn one_payment_renders_the_expected_document() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "Acme Supplies Ltd",
        Some(iban_account("GB82WEST12345698765432", "NWBKGB2L")),
    );
    let payments = [payment("pay-001", "ven-1", dec!(250), "EUR")];
    let file = render(
        &d,
        "MSG-2025-07-22-001",
        &orders(&payments, "2025-07-23"),
        &dir,
    );
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>MSG-2025-07-22-001</MsgId>
      <CreDtTm>2025-07-22T08:00:00Z</CreDtTm>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>250.00</CtrlSum>
      <InitgPty>
        <Nm>Example Buyer GmbH</Nm>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>MSG-2025-07-22-001-1</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <NbOfTxs>1</NbOfTxs>
      <CtrlSum>250.00</CtrlSum>
      <ReqdExctnDt>
        <Dt>2025-07-23</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>Example Buyer GmbH</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <IBAN>DE89370400440532013000</IBAN>
        </Id>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <BICFI>COBADEFFXXX</BICFI>
        </FinInstnId>
      </DbtrAgt>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>pay-001</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="EUR">250.00</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <BICFI>NWBKGB2L</BICFI>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>Acme Supplies Ltd</Nm>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <IBAN>GB82WEST12345698765432</IBAN>
          </Id>
        </CdtrAcct>
        <RmtInf>
          <Ustrd>INV-pay-001</Ustrd>
        </RmtInf>
      </CdtTrfTxInf>
    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
"#;
    assert_eq!(file.xml, expected);
    assert_eq!(file.message_id, "MSG-2025-07-22-001");
    assert_eq!(file.control_sum, dec!(250));
    assert!(file.excluded.is_empty());
    assert_eq!(file.included.len(), 1);
    assert_eq!(file.included[0].payment_id, "pay-001");
    assert_eq!(file.included[0].end_to_end_id, "pay-001");
    assert_eq!(
        file.included[0].payment_information_id,
        "MSG-2025-07-22-001-1"
    );
}

#[test]
fn many_vendors_in_one_block_keep_order_and_sum() {
    let d = debtor();
    let mut dir = Directory::new();
    for (i, (iban, bic)) in ACCOUNTS.iter().enumerate() {
        dir.add(
            &format!("ven-{i}"),
            &format!("Vendor {i}"),
            Some(iban_account(iban, bic)),
        );
    }
    let payments: Vec<Payment> = (0..40)
        .map(|n| {
            payment(
                &format!("pay-{n:03}"),
                &format!("ven-{}", n % ACCOUNTS.len()),
                Decimal::new(10_000 + n as i64 * 101, 2),
                "EUR",
            )
        })
        .collect();
    let file = render(&d, "MSG-MANY", &orders(&payments, "2025-07-23"), &dir);
    let expected_sum: Decimal = payments.iter().map(|p| p.amount).sum();
    assert_eq!(file.control_sum, expected_sum);
    assert_eq!(
        values(&file.xml, "GrpHdr/CtrlSum"),
        vec![format!("{:.2}", expected_sum)]
    );
    assert_eq!(values(&file.xml, "GrpHdr/NbOfTxs"), vec!["40"]);
    assert_eq!(values(&file.xml, "PmtInf/NbOfTxs"), vec!["40"]);
    assert_eq!(values(&file.xml, "PmtInf/PmtInfId").len(), 1);
    let e2e = values(&file.xml, "EndToEndId");
    let ids: Vec<String> = payments.iter().map(|p| p.id.clone()).collect();
    assert_eq!(e2e, ids);
    let creditor_ibans = values(&file.xml, "CdtrAcct/Id/IBAN");
    assert_eq!(creditor_ibans[3], ACCOUNTS[3].0);
    assert_eq!(creditor_ibans[11], ACCOUNTS[3].0);
    assert_eq!(
        values(&file.xml, "CdtrAgt/FinInstnId/BICFI")[4],
        ACCOUNTS[4].1
    );
}

#[test]
fn two_currencies_and_two_dates_make_one_block_each() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-eu",
        "Euro Vendor",
        Some(iban_account(ACCOUNTS[1].0, ACCOUNTS[1].1)),
    );
    dir.add(
        "ven-ch",
        "Swiss Vendor",
        Some(iban_account(ACCOUNTS[4].0, ACCOUNTS[4].1)),
    );
    let payments = [
        payment("pay-1", "ven-eu", dec!(100.10), "EUR"),
        payment("pay-2", "ven-ch", dec!(2000), "CHF"),
        payment("pay-3", "ven-eu", dec!(0.01), "EUR"),
        payment("pay-4", "ven-ch", dec!(5.5), "CHF"),
        payment("pay-5", "ven-eu", dec!(7), "EUR"),
    ];
    let mut o = orders(&payments, "2025-07-23");
    o[4].requested_execution_date = date("2025-07-22");
    let file = render(&d, "MSG-FX", &o, &dir);
    // Blocks in (date, currency) order: 07-22 EUR, 07-23 CHF, 07-23 EUR.
    assert_eq!(
        values(&file.xml, "PmtInf/PmtInfId"),
        vec!["MSG-FX-1", "MSG-FX-2", "MSG-FX-3"]
    );
    assert_eq!(
        values(&file.xml, "ReqdExctnDt/Dt"),
        vec!["2025-07-22", "2025-07-23", "2025-07-23"]
    );
    assert_eq!(values(&file.xml, "PmtInf/NbOfTxs"), vec!["1", "2", "2"]);
    assert_eq!(
        values(&file.xml, "PmtInf/CtrlSum"),
        vec!["7.00", "2005.50", "100.11"]
    );
    assert_eq!(values(&file.xml, "GrpHdr/CtrlSum"), vec!["2112.61"]);
    assert_eq!(file.control_sum, dec!(2112.61));
    assert!(file.xml.contains(r#"<InstdAmt Ccy="CHF">5.50</InstdAmt>"#));
    assert!(file.xml.contains(r#"<InstdAmt Ccy="EUR">0.01</InstdAmt>"#));
    let blocks: Vec<(&str, &str)> = file
        .included
        .iter()
        .map(|i| (i.payment_id.as_str(), i.payment_information_id.as_str()))
        .collect();
    assert_eq!(
        blocks,
        vec![
            ("pay-5", "MSG-FX-1"),
            ("pay-2", "MSG-FX-2"),
            ("pay-4", "MSG-FX-2"),
            ("pay-1", "MSG-FX-3"),
            ("pay-3", "MSG-FX-3"),
        ]
    );
}

#[test]
fn currencies_with_zero_and_three_minor_units() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "Vendor",
        Some(iban_account(ACCOUNTS[0].0, ACCOUNTS[0].1)),
    );
    let payments = [
        payment("pay-jpy", "ven-1", dec!(150000), "JPY"),
        payment("pay-bhd", "ven-1", dec!(12.345), "BHD"),
    ];
    let file = render(&d, "MSG-UNITS", &orders(&payments, "2025-07-23"), &dir);
    assert!(file
        .xml
        .contains(r#"<InstdAmt Ccy="JPY">150000</InstdAmt>"#));
    assert!(file
        .xml
        .contains(r#"<InstdAmt Ccy="BHD">12.345</InstdAmt>"#));
    assert_eq!(values(&file.xml, "GrpHdr/CtrlSum"), vec!["150012.345"]);
}

#[test]
fn markup_characters_and_non_ascii_names_are_escaped() {
    let d = Debtor {
        name: r#"Buyer & Sons <"Ops"> 'EU'"#.into(),
        ..debtor()
    };
    let mut dir = Directory::new();
    let tricky = r#"Müller & Söhne <GmbH> "Ünïcødé" 'Ltd' 日本 Ωμέγα 🚚"#;
    dir.add(
        "ven-1",
        tricky,
        Some(iban_account(ACCOUNTS[2].0, ACCOUNTS[2].1)),
    );
    let mut p = payment("pay-1", "ven-1", dec!(42), "EUR");
    p.invoice_number = "INV <1> & \"2\" 'é'".into();
    let payments = [p];
    let file = render(&d, "MSG-ESC", &orders(&payments, "2025-07-23"), &dir);
    assert_eq!(values(&file.xml, "Cdtr/Nm"), vec![tricky]);
    assert_eq!(
        values(&file.xml, "InitgPty/Nm"),
        vec![r#"Buyer & Sons <"Ops"> 'EU'"#]
    );
    assert_eq!(
        values(&file.xml, "RmtInf/Ustrd"),
        vec!["INV <1> & \"2\" 'é'"]
    );
    assert!(file
        .xml
        .contains("<Nm>Müller &amp; Söhne &lt;GmbH&gt; &quot;Ünïcødé&quot; &apos;Ltd&apos; 日本 Ωμέγα 🚚</Nm>"));
}

#[test]
fn control_characters_become_spaces_and_names_are_trimmed() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "  Tab\tNew\nLine\u{1}Co  ",
        Some(iban_account(ACCOUNTS[2].0, ACCOUNTS[2].1)),
    );
    let mut p = payment("pay-1", "ven-1", dec!(1), "EUR");
    p.invoice_number = "\u{0}\u{1}".into();
    let payments = [p];
    let file = render(&d, "MSG-CTRL", &orders(&payments, "2025-07-23"), &dir);
    assert_eq!(values(&file.xml, "Cdtr/Nm"), vec!["Tab New Line Co"]);
    // Nothing left of the invoice number: RmtInf is omitted rather than empty.
    assert!(!file.xml.contains("<RmtInf>"));
}

#[test]
fn maximum_lengths_are_respected() {
    let d = Debtor {
        name: "D".repeat(300),
        ..debtor()
    };
    let mut dir = Directory::new();
    let long_name = "Ä".repeat(139) + "é€𝄞xyz";
    dir.add(
        "ven-1",
        &long_name,
        Some(iban_account(ACCOUNTS[5].0, ACCOUNTS[5].1)),
    );
    let exactly_140 = "N".repeat(140);
    dir.add(
        "ven-2",
        &exactly_140,
        Some(iban_account(ACCOUNTS[6].0, ACCOUNTS[6].1)),
    );

    let exactly_35 = "p".repeat(35);
    let system_id = "pay-0123456789abcdef0123456789abcdef".to_string();
    let odd_long = format!("payment_{}", "x".repeat(200));
    let mut p1 = payment(&exactly_35, "ven-1", dec!(999999999999999.99), "EUR");
    p1.invoice_number = "R".repeat(500);
    let p2 = payment(&system_id, "ven-2", dec!(0.01), "EUR");
    let p3 = payment(&odd_long, "ven-2", dec!(1), "EUR");
    let payments = [p1, p2, p3];
    let message_id = "M".repeat(35);
    let file = render(&d, &message_id, &orders(&payments, "2025-07-23"), &dir);

    assert_eq!(values(&file.xml, "GrpHdr/MsgId"), vec![message_id.clone()]);
    let pmt_inf_id = &values(&file.xml, "PmtInfId")[0];
    assert_eq!(pmt_inf_id.chars().count(), 35);
    assert_eq!(values(&file.xml, "InitgPty/Nm")[0], "D".repeat(140));
    let names = values(&file.xml, "Cdtr/Nm");
    assert_eq!(names[0].chars().count(), 140);
    assert_eq!(names[0], "Ä".repeat(139) + "é");
    assert_eq!(names[1], exactly_140);
    assert_eq!(values(&file.xml, "Ustrd")[0], "R".repeat(140));
    let e2e = values(&file.xml, "EndToEndId");
    assert_eq!(e2e[0], exactly_35);
    assert_eq!(e2e[1], "pay0123456789abcdef0123456789abcdef");
    assert_eq!(e2e[2], end_to_end_id(&odd_long));
    assert!(e2e.iter().all(|id| id.chars().count() <= 35));
    assert!(file
        .xml
        .contains(r#"<InstdAmt Ccy="EUR">999999999999999.99</InstdAmt>"#));
    assert_eq!(
        values(&file.xml, "GrpHdr/CtrlSum"),
        vec!["1000000000000001.00"]
    );
}

#[test]
fn payments_that_cannot_be_paid_by_iban_transfer_are_excluded_with_the_reason() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-iban",
        "Iban Vendor",
        Some(iban_account(ACCOUNTS[0].0, ACCOUNTS[0].1)),
    );
    let ach = BankAccount::parse(&BankAccountInput {
        routing_number: Some("011000015".into()),
        account_number: Some("123456789".into()),
        ..Default::default()
    })
    .unwrap();
    dir.add("ven-ach", "US Vendor", Some(ach));
    dir.add("ven-none", "No Account Vendor", None);
    dir.add(
        "ven-noname",
        "  ",
        Some(iban_account(ACCOUNTS[1].0, ACCOUNTS[1].1)),
    );

    let mut sent = payment("pay-sent", "ven-iban", dec!(1), "EUR");
    sent.status = PaymentStatus::Sent;
    let payments = [
        payment("pay-ok", "ven-iban", dec!(10), "EUR"),
        payment("pay-ach", "ven-ach", dec!(20), "USD"),
        payment("pay-none", "ven-none", dec!(30), "EUR"),
        payment("pay-unknown", "ven-missing", dec!(40), "EUR"),
        payment("pay-noname", "ven-noname", dec!(50), "EUR"),
        sent,
        payment("pay-zero", "ven-iban", dec!(0), "EUR"),
        payment("pay-cents", "ven-iban", dec!(1.005), "EUR"),
        payment("pay-huge", "ven-iban", dec!(10000000000000000), "EUR"),
        payment("pay-ok", "ven-iban", dec!(10), "EUR"),
        payment("pay-ok-2", "ven-iban", dec!(60), "EUR"),
    ];
    let file = render(&d, "MSG-EXCL", &orders(&payments, "2025-07-23"), &dir);
    let included: Vec<&str> = file
        .included
        .iter()
        .map(|i| i.payment_id.as_str())
        .collect();
    assert_eq!(included, vec!["pay-ok", "pay-ok-2"]);
    assert_eq!(values(&file.xml, "GrpHdr/NbOfTxs"), vec!["2"]);
    assert_eq!(values(&file.xml, "GrpHdr/CtrlSum"), vec!["70.00"]);
    let excluded: Vec<(&str, &ExclusionReason)> = file
        .excluded
        .iter()
        .map(|e| (e.payment_id.as_str(), &e.reason))
        .collect();
    assert_eq!(
        excluded,
        vec![
            (
                "pay-ach",
                &ExclusionReason::NotAnIbanAccount {
                    vendor_id: "ven-ach".into()
                }
            ),
            (
                "pay-none",
                &ExclusionReason::NoBankAccount {
                    vendor_id: "ven-none".into()
                }
            ),
            (
                "pay-unknown",
                &ExclusionReason::UnknownVendor {
                    vendor_id: "ven-missing".into()
                }
            ),
            (
                "pay-noname",
                &ExclusionReason::MissingCreditorName {
                    vendor_id: "ven-noname".into()
                }
            ),
            (
                "pay-sent",
                &ExclusionReason::NotApproved {
                    status: PaymentStatus::Sent
                }
            ),
            (
                "pay-zero",
                &ExclusionReason::AmountNotPositive { amount: dec!(0) }
            ),
            (
                "pay-cents",
                &ExclusionReason::TooManyDecimals {
                    amount: dec!(1.005),
                    currency: Currency::EUR
                }
            ),
            (
                "pay-huge",
                &ExclusionReason::AmountTooLarge {
                    amount: dec!(10000000000000000)
                }
            ),
            ("pay-ok", &ExclusionReason::DuplicatePayment),
        ]
    );
    assert_eq!(file.excluded[0].vendor_id, "ven-ach");
    assert_eq!(
        file.excluded[0].reason.to_string(),
        "vendor ven-ach has a US ACH account; a pain.001 IBAN transfer needs an IBAN and BIC"
    );
}

#[test]
fn colliding_end_to_end_ids_exclude_the_later_payment() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "Vendor",
        Some(iban_account(ACCOUNTS[0].0, ACCOUNTS[0].1)),
    );
    // Both long ids compact to the same 35 characters once `-` is dropped.
    let a = format!("pay-{}", "a".repeat(32));
    let b = format!("pay{}-", "a".repeat(32));
    let payments = [
        payment(&a, "ven-1", dec!(1), "EUR"),
        payment(&b, "ven-1", dec!(2), "EUR"),
    ];
    let file = render(&d, "MSG-E2E", &orders(&payments, "2025-07-23"), &dir);
    assert_eq!(file.included.len(), 1);
    assert_eq!(file.excluded.len(), 1);
    assert_eq!(file.excluded[0].payment_id, b);
    assert!(matches!(
        file.excluded[0].reason,
        ExclusionReason::DuplicateEndToEndId { .. }
    ));
}

#[test]
fn a_batch_with_nothing_payable_is_an_error_listing_every_payment() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add("ven-none", "No Account", None);
    let payments = [
        payment("pay-1", "ven-none", dec!(1), "EUR"),
        payment("pay-2", "ven-other", dec!(1), "EUR"),
    ];
    let err = render_pain001(
        &batch(&d, "MSG-NONE"),
        &orders(&payments, "2025-07-23"),
        dir.lookup(),
    )
    .unwrap_err();
    match err {
        Pain001Error::NothingToPay { excluded } => {
            let ids: Vec<&str> = excluded.iter().map(|e| e.payment_id.as_str()).collect();
            assert_eq!(ids, vec!["pay-1", "pay-2"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let empty = render_pain001(&batch(&d, "MSG-EMPTY"), &[], dir.lookup()).unwrap_err();
    assert_eq!(empty, Pain001Error::NothingToPay { excluded: vec![] });
}

#[test]
fn message_id_and_debtor_name_are_checked() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "Vendor",
        Some(iban_account(ACCOUNTS[0].0, ACCOUNTS[0].1)),
    );
    let payments = [payment("pay-1", "ven-1", dec!(1), "EUR")];
    let o = orders(&payments, "2025-07-23");
    for bad in ["", &"M".repeat(36), "MSG&1", " MSG", "MSG\n", "MSGé"] {
        let err = render_pain001(&batch(&d, bad), &o, dir.lookup()).unwrap_err();
        assert!(
            matches!(err, Pain001Error::InvalidMessageId { ref value, .. } if value == bad),
            "{bad:?}: {err:?}"
        );
    }
    let nameless = Debtor {
        name: " \t ".into(),
        ..debtor()
    };
    assert_eq!(
        render_pain001(&batch(&nameless, "MSG-1"), &o, dir.lookup()).unwrap_err(),
        Pain001Error::MissingDebtorName
    );
}

#[test]
fn rendering_is_deterministic() {
    let d = debtor();
    let mut dir = Directory::new();
    for (i, (iban, bic)) in ACCOUNTS.iter().enumerate() {
        dir.add(
            &format!("ven-{i}"),
            &format!("V{i}"),
            Some(iban_account(iban, bic)),
        );
    }
    let payments: Vec<Payment> = (0..20)
        .map(|n| {
            payment(
                &format!("pay-{n}"),
                &format!("ven-{}", n % 8),
                Decimal::new(n + 1, 0),
                if n % 3 == 0 { "CHF" } else { "EUR" },
            )
        })
        .collect();
    let o = orders(&payments, "2025-07-23");
    let a = render(&d, "MSG-DET", &o, &dir);
    let b = render_pain001(&batch(&d, "MSG-DET"), &o, dir.lookup()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_thousand_payments_validate() {
    let d = debtor();
    let mut dir = Directory::new();
    for (i, (iban, bic)) in ACCOUNTS.iter().enumerate() {
        dir.add(
            &format!("ven-{i}"),
            &format!("Vendor {i} & Co"),
            Some(iban_account(iban, bic)),
        );
    }
    let payments: Vec<Payment> = (0..1000)
        .map(|n| {
            payment(
                &p2p_core::payment::payment_id_for(&format!("inv-{n}")),
                &format!("ven-{}", n % 8),
                Decimal::new(1_000 + n * 7, 2),
                "EUR",
            )
        })
        .collect();
    let file = render(&d, "MSG-1000", &orders(&payments, "2025-07-23"), &dir);
    assert_eq!(file.included.len(), 1000);
    assert_eq!(values(&file.xml, "GrpHdr/NbOfTxs"), vec!["1000"]);
    let e2e = values(&file.xml, "EndToEndId");
    let unique: std::collections::HashSet<&String> = e2e.iter().collect();
    assert_eq!(unique.len(), 1000);
}

#[test]
fn creditor_comes_from_a_vendor() {
    let vendor = Vendor {
        id: "ven-1".into(),
        name: "Vendor From Registry".into(),
        email: Email::parse("ap@vendor.example").unwrap(),
        phone: None,
        address: None,
        tax_id: None,
        payment_terms: PaymentTerms::default(),
        status: VendorStatus::Active,
        bank_account: Some(iban_account(ACCOUNTS[3].0, ACCOUNTS[3].1)),
        created_at: at("2025-01-01T00:00:00Z"),
        updated_at: at("2025-01-01T00:00:00Z"),
        version: 1,
    };
    let vendors: HashMap<String, Vendor> = [(vendor.id.clone(), vendor)].into_iter().collect();
    let payments = [payment("pay-1", "ven-1", dec!(12.34), "EUR")];
    let d = debtor();
    let file = render_pain001(
        &batch(&d, "MSG-VEN"),
        &orders(&payments, "2025-07-23"),
        |id| vendors.get(id).map(Creditor::from),
    )
    .unwrap();
    assert_valid(&file.xml);
    assert_eq!(values(&file.xml, "Cdtr/Nm"), vec!["Vendor From Registry"]);
    assert_eq!(values(&file.xml, "CdtrAcct/Id/IBAN"), vec![ACCOUNTS[3].0]);
}

/// The validator itself must reject a broken file, or the checks above prove nothing.
#[test]
fn the_xsd_check_rejects_an_invalid_file() {
    let d = debtor();
    let mut dir = Directory::new();
    dir.add(
        "ven-1",
        "Vendor",
        Some(iban_account(ACCOUNTS[0].0, ACCOUNTS[0].1)),
    );
    let payments = [payment("pay-1", "ven-1", dec!(1), "EUR")];
    let file = render_pain001(
        &batch(&d, "MSG-BAD"),
        &orders(&payments, "2025-07-23"),
        dir.lookup(),
    )
    .unwrap();
    assert_eq!(xsd_check(&file.xml), Ok(()));
    let broken = file
        .xml
        .replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>");
    let report = xsd_check(&broken).unwrap_err();
    assert!(report.contains("PmtMtd"), "{report}");
    let too_long = file
        .xml
        .replace("<Nm>Vendor</Nm>", &format!("<Nm>{}</Nm>", "V".repeat(141)));
    assert!(xsd_check(&too_long).is_err());
}
