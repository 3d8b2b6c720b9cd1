//! Payment files: the Workday XML/JSON pair stored per payment, the S3 object tags that go
//! with them, and ISO 20022 pain.001.001.09 credit transfer files for a batch of payments.
//!
//! Rendering writes straight into one pre-sized `String`; text goes through
//! [`quick_xml::escape::escape`] after characters XML 1.0 cannot carry have been replaced.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use crate::clock::rfc3339;
use crate::payment::{Payment, PaymentFileFormat};

pub mod pain001;
pub mod workday;

pub use pain001::{
    end_to_end_id, render_pain001, Creditor, Debtor, ExcludedPayment, ExclusionReason,
    IncludedPayment, Pain001Batch, Pain001Error, Pain001File, TransferOrder, PAIN001_NAMESPACE,
};
pub use workday::{
    parse_workday_json, parse_workday_xml, render_workday_json, render_workday_xml,
    WorkdayFileError, WorkdayPaymentFile,
};

/// S3 limits on one tag (characters).
pub const MAX_TAG_KEY_LEN: usize = 128;
pub const MAX_TAG_VALUE_LEN: usize = 256;

/// The S3 object tags of a stored payment file, in the seed's order:
/// `invoice_id, vendor_id, amount, status, payment_id, file_format, upload_timestamp,
/// content_type`. Values are restricted to S3's portable tag charset (see [`tag_value`]).
pub fn payment_file_tags(
    payment: &Payment,
    format: PaymentFileFormat,
    upload_timestamp: DateTime<Utc>,
) -> Vec<(String, String)> {
    let amount = payment.currency.format_amount(payment.amount);
    let tags: [(&str, &str); 8] = [
        ("invoice_id", &payment.invoice_id),
        ("vendor_id", &payment.vendor_id),
        ("amount", &amount),
        ("status", payment.status.as_str()),
        ("payment_id", &payment.id),
        ("file_format", format.as_str()),
        ("upload_timestamp", &rfc3339(upload_timestamp)),
        ("content_type", format.content_type()),
    ];
    tags.iter()
        .map(|(k, v)| ((*k).to_string(), tag_value(v)))
        .collect()
}

/// An S3 tag value: ASCII letters, digits, spaces and `+ - = . _ : / @` are kept, any other
/// character becomes `_`, and the result is cut to [`MAX_TAG_VALUE_LEN`] characters.
/// (S3 accepts more in some regions; this set is the one every AWS service accepts.)
pub fn tag_value(value: &str) -> String {
    value
        .chars()
        .take(MAX_TAG_VALUE_LEN)
        .map(|c| {
            if c.is_ascii_alphanumeric() || " +-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether `c` may appear in an XML 1.0 document (the `Char` production). Rust `char`s are
/// never surrogates, so only C0 controls and U+FFFE/U+FFFF are excluded.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text for element content: characters XML 1.0 cannot represent (C0 controls other than tab
/// and line feed, CR which parsers rewrite, U+FFFE/U+FFFF) become U+FFFD, then the five
/// markup characters are escaped. Borrowed, with no allocation, in the usual clean case.
pub(crate) fn xml_text(raw: &str) -> Cow<'_, str> {
    let clean = |c: char| is_xml_char(c) && c != '\r';
    if raw.chars().all(clean) {
        quick_xml::escape::escape(raw)
    } else {
        let replaced: String = raw
            .chars()
            .map(|c| if clean(c) { c } else { '\u{FFFD}' })
            .collect();
        Cow::Owned(quick_xml::escape::escape(replaced).into_owned())
    }
}

/// Appends `<name>text</name>` on its own line at `indent` levels of two spaces.
pub(crate) fn push_element(out: &mut String, indent: usize, name: &str, text: &str) {
    push_indent(out, indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_text(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Bytes that send text down the slow path: markup characters, C0 controls other than tab
/// and LF, CR, and 0xEF (the lead byte of U+FFFE/U+FFFF, and of other U+Fxxx characters,
/// which the slow path then keeps).
const SLOW_PATH: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'&' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[0xEF] = true;
    t
};

/// Appends element text: copied as is when one table-driven byte scan finds nothing to do,
/// otherwise through [`xml_text`].
pub(crate) fn push_text(out: &mut String, text: &str) {
    if text.bytes().any(|b| SLOW_PATH[usize::from(b)]) {
        out.push_str(&xml_text(text));
    } else {
        out.push_str(text);
    }
}

/// Appends `YYYY-MM-DD` (years 0..=9999, as `xs:date` and RFC 3339 need four digits).
pub(crate) fn push_date(out: &mut String, date: NaiveDate) {
    let year = date.year();
    if (0..=9999).contains(&year) {
        let y = year as u32;
        push_2(out, y / 100);
        push_2(out, y % 100);
    } else {
        // Outside RFC 3339; chrono's rendering keeps the value visible.
        let _ = write!(out, "{year}");
    }
    out.push('-');
    push_2(out, date.month());
    out.push('-');
    push_2(out, date.day());
}

/// Appends RFC 3339 UTC with whole seconds and `Z`, e.g. `2025-07-21T18:33:00Z`.
pub(crate) fn push_timestamp(out: &mut String, t: DateTime<Utc>) {
    push_date(out, t.date_naive());
    out.push('T');
    push_2(out, t.hour());
    out.push(':');
    push_2(out, t.minute());
    out.push(':');
    push_2(out, t.second());
    out.push('Z');
}

fn push_2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

pub(crate) fn push_open(out: &mut String, indent: usize, name: &str) {
    push_indent(out, indent);
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

pub(crate) fn push_close(out: &mut String, indent: usize, name: &str) {
    push_indent(out, indent);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn push_indent(out: &mut String, indent: usize) {
    const SPACES: &str = "                                ";
    let n = (indent * 2).min(SPACES.len());
    out.push_str(&SPACES[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_markup_and_replaces_unrepresentable_characters() {
        assert_eq!(xml_text("plain"), "plain");
        assert!(matches!(xml_text("plain"), Cow::Borrowed(_)));
        assert_eq!(
            xml_text(r#"A&B <C> "d" 'e'"#),
            "A&amp;B &lt;C&gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(
            xml_text("a\u{1}b\rc\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(
            xml_text("tab\tand\nnewline é 日本"),
            "tab\tand\nnewline é 日本"
        );
    }

    #[test]
    fn push_text_takes_the_fast_path_only_for_clean_text() {
        for raw in [
            "plain",
            "é 日本 🚚",
            "a&b",
            "<",
            "x\r",
            "\u{1}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{FFFD}",
            "ｱ",
            "\u{EFFF}",
        ] {
            let mut out = String::new();
            push_text(&mut out, raw);
            assert_eq!(out, xml_text(raw), "{raw:?}");
        }
    }

    #[test]
    fn dates_and_timestamps_match_rfc3339() {
        use chrono::TimeZone;
        for t in [
            Utc.with_ymd_and_hms(2025, 7, 21, 18, 33, 0).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ] {
            let mut out = String::new();
            push_timestamp(&mut out, t);
            assert_eq!(out, crate::clock::rfc3339(t));
        }
    }

    #[test]
    fn tag_values_keep_the_portable_charset_and_length() {
        assert_eq!(
            tag_value("inv-2025/001 a+b=c@d.e_f:g"),
            "inv-2025/001 a+b=c@d.e_f:g"
        );
        assert_eq!(tag_value("Müller & Söhne #1"), "M_ller _ S_hne _1");
        let long = "x".repeat(300);
        assert_eq!(tag_value(&long).len(), MAX_TAG_VALUE_LEN);
    }
}
