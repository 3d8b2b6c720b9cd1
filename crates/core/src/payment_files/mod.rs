//! Payment files: the Workday XML/JSON pair stored per payment, the S3 object tags that go
//! with them, and ISO 20022 pain.001.001.09 credit transfer files for a batch of payments.
//!
//! Rendering writes straight into one pre-sized `String`; text goes through
//! [`quick_xml::escape::escape`] after characters XML 1.0 cannot carry have been replaced.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

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
    out.push_str(&xml_text(text));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
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
    for _ in 0..indent {
        out.push_str("  ");
    }
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
