//! The Workday payment file pair (seed: "XML/JSON Format Specifications"):
//!
//! ```xml
//! <?xml version="1.0" ?>
//! <Payment>
//!   <ID>pay_001</ID>
//!   <InvoiceID>inv_123</InvoiceID>
//!   <VendorID>vnd_456</VendorID>
//!   <Amount>250.00</Amount>
//!   <Currency>USD</Currency>
//!   <Status>approved</Status>
//!   <Timestamp>2025-07-21T18:33:00Z</Timestamp>
//! </Payment>
//! ```
//!
//! and its JSON mirror `{"Payment": {...}}` with the same names, in the same order, every
//! value a string. Both use two-space indentation and end with a newline. `Amount` has exactly
//! the currency's minor units; `Timestamp` is the payment's `approved_at`, RFC 3339 UTC, whole
//! seconds, `Z`.

use chrono::{DateTime, SubsecRound, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use crate::money::{parse_decimal, Currency};
use crate::payment::{Payment, PaymentStatus};

use super::{push_element, push_timestamp};

/// The XML declaration exactly as the seed writes it (Python minidom's `toprettyxml` form).
const XML_DECLARATION: &str = "<?xml version=\"1.0\" ?>\n";

/// Element names in file order.
const FIELDS: [&str; 7] = [
    "ID",
    "InvoiceID",
    "VendorID",
    "Amount",
    "Currency",
    "Status",
    "Timestamp",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkdayFileError {
    #[error("payment file is not well-formed XML: {0}")]
    Xml(String),
    #[error("payment file is not valid JSON: {0}")]
    Json(String),
    #[error("payment file root element is `{0}`, expected `Payment`")]
    WrongRoot(String),
    #[error("payment file has an unexpected element `{0}`")]
    UnexpectedElement(String),
    #[error("payment file has element `{0}` more than once")]
    DuplicateElement(&'static str),
    #[error("payment file is missing element `{0}`")]
    MissingElement(&'static str),
    #[error("payment file element `{field}` has an invalid value `{value}`: {reason}")]
    InvalidValue {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("payment file field `{field}` is `{found}`, the payment has `{expected}`")]
    Mismatch {
        field: &'static str,
        expected: String,
        found: String,
    },
}

/// The fields of one Workday payment file, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkdayPaymentFile {
    pub id: String,
    pub invoice_id: String,
    pub vendor_id: String,
    pub amount: Decimal,
    pub currency: Currency,
    pub status: PaymentStatus,
    /// Whole seconds: the files carry no sub-second part.
    pub timestamp: DateTime<Utc>,
}

impl WorkdayPaymentFile {
    pub fn from_payment(payment: &Payment) -> Self {
        WorkdayPaymentFile {
            id: payment.id.clone(),
            invoice_id: payment.invoice_id.clone(),
            vendor_id: payment.vendor_id.clone(),
            amount: payment.amount,
            currency: payment.currency,
            status: payment.status,
            timestamp: payment.approved_at.trunc_subsecs(0),
        }
    }

    pub fn to_xml(&self) -> String {
        render_xml(&self.view())
    }

    pub fn to_json(&self) -> String {
        render_json(&self.view())
    }

    /// Checks a stored file against the payment it claims to be (export monitor): every
    /// field must agree; the first disagreement is reported, naming the field.
    pub fn verify(&self, payment: &Payment) -> Result<(), WorkdayFileError> {
        let expected = WorkdayPaymentFile::from_payment(payment);
        let mismatch = |field: &'static str, expected: String, found: String| {
            Err(WorkdayFileError::Mismatch {
                field,
                expected,
                found,
            })
        };
        if self.id != expected.id {
            return mismatch("ID", expected.id, self.id.clone());
        }
        if self.invoice_id != expected.invoice_id {
            return mismatch("InvoiceID", expected.invoice_id, self.invoice_id.clone());
        }
        if self.vendor_id != expected.vendor_id {
            return mismatch("VendorID", expected.vendor_id, self.vendor_id.clone());
        }
        if self.amount != expected.amount {
            return mismatch(
                "Amount",
                expected.currency.format_amount(expected.amount),
                self.amount.to_string(),
            );
        }
        if self.currency != expected.currency {
            return mismatch(
                "Currency",
                expected.currency.to_string(),
                self.currency.to_string(),
            );
        }
        if self.status != expected.status {
            return mismatch(
                "Status",
                expected.status.to_string(),
                self.status.to_string(),
            );
        }
        if self.timestamp != expected.timestamp {
            return mismatch(
                "Timestamp",
                rfc3339(expected.timestamp),
                rfc3339(self.timestamp),
            );
        }
        Ok(())
    }

    fn view(&self) -> View<'_> {
        View {
            id: &self.id,
            invoice_id: &self.invoice_id,
            vendor_id: &self.vendor_id,
            amount: self.amount,
            currency: self.currency,
            status: self.status,
            timestamp: self.timestamp,
        }
    }
}

/// Borrowed fields, so rendering from a `Payment` copies no strings.
struct View<'a> {
    id: &'a str,
    invoice_id: &'a str,
    vendor_id: &'a str,
    amount: Decimal,
    currency: Currency,
    status: PaymentStatus,
    timestamp: DateTime<Utc>,
}

impl<'a> From<&'a Payment> for View<'a> {
    fn from(p: &'a Payment) -> Self {
        View {
            id: &p.id,
            invoice_id: &p.invoice_id,
            vendor_id: &p.vendor_id,
            amount: p.amount,
            currency: p.currency,
            status: p.status,
            timestamp: p.approved_at,
        }
    }
}

/// The Workday XML file of a payment.
///
/// Characters XML 1.0 cannot carry (C0 controls except tab and LF, CR) are written as
/// U+FFFD; [`WorkdayPaymentFile::verify`] then reports such a file as not matching.
pub fn render_workday_xml(payment: &Payment) -> String {
    render_xml(&View::from(payment))
}

/// The Workday JSON mirror of a payment.
pub fn render_workday_json(payment: &Payment) -> String {
    render_json(&View::from(payment))
}

/// Amount with the currency's minor units (the files' number format).
fn amount_text(amount: Decimal, currency: Currency) -> String {
    currency.format_amount(amount)
}

fn render_xml(v: &View<'_>) -> String {
    let mut out = String::with_capacity(256 + v.id.len() + v.invoice_id.len() + v.vendor_id.len());
    out.push_str(XML_DECLARATION);
    out.push_str("<Payment>\n");
    push_element(&mut out, 1, "ID", v.id);
    push_element(&mut out, 1, "InvoiceID", v.invoice_id);
    push_element(&mut out, 1, "VendorID", v.vendor_id);
    push_element(&mut out, 1, "Amount", &amount_text(v.amount, v.currency));
    push_element(&mut out, 1, "Currency", v.currency.code());
    push_element(&mut out, 1, "Status", v.status.as_str());
    out.push_str("  <Timestamp>");
    push_timestamp(&mut out, v.timestamp);
    out.push_str("</Timestamp>\n");
    out.push_str("</Payment>\n");
    out
}

#[derive(Serialize, Deserialize)]
struct JsonDocument<T> {
    #[serde(rename = "Payment")]
    payment: T,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "InvoiceID")]
    invoice_id: &'a str,
    #[serde(rename = "VendorID")]
    vendor_id: &'a str,
    #[serde(rename = "Amount")]
    amount: &'a str,
    #[serde(rename = "Currency")]
    currency: &'a str,
    #[serde(rename = "Status")]
    status: &'a str,
    #[serde(rename = "Timestamp")]
    timestamp: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonIn {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "InvoiceID")]
    invoice_id: String,
    #[serde(rename = "VendorID")]
    vendor_id: String,
    #[serde(rename = "Amount")]
    amount: String,
    #[serde(rename = "Currency")]
    currency: String,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Timestamp")]
    timestamp: String,
}

fn render_json(v: &View<'_>) -> String {
    let amount = amount_text(v.amount, v.currency);
    let mut timestamp = String::with_capacity(20);
    push_timestamp(&mut timestamp, v.timestamp);
    let doc = JsonDocument {
        payment: JsonOut {
            id: v.id,
            invoice_id: v.invoice_id,
            vendor_id: v.vendor_id,
            amount: &amount,
            currency: v.currency.code(),
            status: v.status.as_str(),
            timestamp: &timestamp,
        },
    };
    let mut buf = Vec::with_capacity(256 + v.id.len() + v.invoice_id.len() + v.vendor_id.len());
    // Serializing plain strings into a Vec has no failure mode; the fallback keeps the
    // signature total without a panic path.
    if serde_json::to_writer_pretty(&mut buf, &doc).is_err() {
        buf.clear();
    }
    buf.push(b'\n');
    String::from_utf8(buf).unwrap_or_default()
}

/// Reads a Workday XML payment file back into its fields. Strict: the root must be
/// `Payment`, each of the seven elements must appear exactly once, nothing else may.
pub fn parse_workday_xml(xml: &str) -> Result<WorkdayPaymentFile, WorkdayFileError> {
    // No trimming: whitespace inside a field is data; between elements it is ignored below.
    let mut reader = Reader::from_str(xml);
    let xml_err = |e: quick_xml::Error| WorkdayFileError::Xml(e.to_string());

    let mut values: [Option<String>; 7] = Default::default();
    let mut depth = 0usize;
    let mut current: Option<usize> = None;
    let mut seen_root = false;
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                depth += 1;
                match depth {
                    1 if name == "Payment" && !seen_root => seen_root = true,
                    1 => return Err(WorkdayFileError::WrongRoot(name)),
                    2 => {
                        let i = FIELDS
                            .iter()
                            .position(|f| *f == name)
                            .ok_or(WorkdayFileError::UnexpectedElement(name))?;
                        if values[i].is_some() {
                            return Err(WorkdayFileError::DuplicateElement(FIELDS[i]));
                        }
                        values[i] = Some(String::new());
                        current = Some(i);
                    }
                    _ => return Err(WorkdayFileError::UnexpectedElement(name)),
                }
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match (depth, FIELDS.iter().position(|f| *f == name)) {
                    (1, Some(i)) if values[i].is_none() => values[i] = Some(String::new()),
                    (1, Some(i)) => return Err(WorkdayFileError::DuplicateElement(FIELDS[i])),
                    (0, _) => return Err(WorkdayFileError::WrongRoot(name)),
                    _ => return Err(WorkdayFileError::UnexpectedElement(name)),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(xml_err)?;
                match (current, depth) {
                    (Some(i), 2) => {
                        if let Some(v) = values[i].as_mut() {
                            v.push_str(&text);
                        }
                    }
                    _ if text.trim().is_empty() => {}
                    _ => {
                        return Err(WorkdayFileError::Xml(format!(
                            "unexpected text `{text}` outside a field element"
                        )))
                    }
                }
            }
            Event::CData(t) => match (current, values.get_mut(current.unwrap_or(usize::MAX))) {
                (Some(_), Some(Some(v))) if depth == 2 => {
                    v.push_str(&String::from_utf8_lossy(&t.into_inner()))
                }
                _ => return Err(WorkdayFileError::Xml("unexpected CDATA".into())),
            },
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                current = None;
            }
            Event::Eof => break,
            // Declaration, comments, processing instructions, doctype: not data.
            _ => {}
        }
    }
    if !seen_root {
        return Err(WorkdayFileError::WrongRoot(String::new()));
    }
    let [id, invoice_id, vendor_id, amount, currency, status, timestamp] = values;
    let missing = |i: usize| WorkdayFileError::MissingElement(FIELDS[i]);
    fields_from_text(
        id.ok_or_else(|| missing(0))?,
        invoice_id.ok_or_else(|| missing(1))?,
        vendor_id.ok_or_else(|| missing(2))?,
        &amount.ok_or_else(|| missing(3))?,
        &currency.ok_or_else(|| missing(4))?,
        &status.ok_or_else(|| missing(5))?,
        &timestamp.ok_or_else(|| missing(6))?,
    )
}

/// Reads a Workday JSON payment file back into its fields (unknown keys are rejected).
pub fn parse_workday_json(json: &str) -> Result<WorkdayPaymentFile, WorkdayFileError> {
    let doc: JsonDocument<JsonIn> =
        serde_json::from_str(json).map_err(|e| WorkdayFileError::Json(e.to_string()))?;
    let p = doc.payment;
    fields_from_text(
        p.id,
        p.invoice_id,
        p.vendor_id,
        &p.amount,
        &p.currency,
        &p.status,
        &p.timestamp,
    )
}

fn fields_from_text(
    id: String,
    invoice_id: String,
    vendor_id: String,
    amount: &str,
    currency: &str,
    status: &str,
    timestamp: &str,
) -> Result<WorkdayPaymentFile, WorkdayFileError> {
    let invalid =
        |field: &'static str, value: &str, reason: String| WorkdayFileError::InvalidValue {
            field,
            value: value.to_string(),
            reason,
        };
    for (field, value) in [
        ("ID", &id),
        ("InvoiceID", &invoice_id),
        ("VendorID", &vendor_id),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, value, "must not be empty".into()));
        }
    }
    let currency =
        Currency::parse(currency).map_err(|e| invalid("Currency", currency, e.to_string()))?;
    let amount = parse_decimal(amount).map_err(|e| invalid("Amount", amount, e.to_string()))?;
    if amount.scale() != currency.minor_units() {
        return Err(invalid(
            "Amount",
            &amount.to_string(),
            format!(
                "{} amounts are written with {} decimals",
                currency,
                currency.minor_units()
            ),
        ));
    }
    let status = status
        .parse::<PaymentStatus>()
        .map_err(|e| invalid("Status", status, e.to_string()))?;
    let timestamp = DateTime::parse_from_rfc3339(timestamp)
        .map_err(|e| invalid("Timestamp", timestamp, e.to_string()))
        .and_then(|t| {
            if timestamp.ends_with('Z') {
                Ok(t.with_timezone(&Utc))
            } else {
                Err(invalid(
                    "Timestamp",
                    timestamp,
                    "must be UTC with `Z`".into(),
                ))
            }
        })?;
    Ok(WorkdayPaymentFile {
        id,
        invoice_id,
        vendor_id,
        amount,
        currency,
        status,
        timestamp,
    })
}
