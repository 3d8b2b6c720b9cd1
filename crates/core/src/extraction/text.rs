//! A PDF's text layer -> [`InvoiceDraft`], by printed labels (English, German, French).
//!
//! The text is read line by line (pages separated by form feeds, as `pdftotext` and most
//! PDF crates emit them). On each line every label is located; a label's value is the text
//! after it up to the next label on the same line (layout output puts several label/value
//! pairs on one line), or, for ids and dates only, the next non-empty line when the label
//! ends its line. Runs of spaces are column gaps. Line items are not read from text.
//!
//! Every field gets the fixed confidence [`TEXT_LAYER_CONFIDENCE`]: the characters of a text
//! layer are exact, but tying a value to its label is a heuristic.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use rust_decimal::Decimal;

use super::assemble::DraftBuilder;
use super::values::{parse_amount, parse_date};
use super::{DraftField, DraftSource, InvoiceDraft};
use crate::money::Currency;

/// 80: above the default field minimum (70) and below the default average minimum (85), so
/// under the default [`super::ReviewPolicy`] a text-layer draft always gets a human look.
pub const TEXT_LAYER_CONFIDENCE: Decimal = Decimal::from_parts(80, 0, 0, false, 0);

#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Id,
    Date,
    Amount,
    TaxId,
    Text,
}

struct Rule {
    field: DraftField,
    kind: ValueKind,
    /// Lower is a more specific label.
    rank: u8,
    label: Regex,
}

/// Ordered most specific first: on one line an earlier rule's label hides any later label
/// overlapping it ("Sub Total" is not also "Total"; "VAT ID" is not also "VAT").
#[rustfmt::skip]
const SPECS: &[(DraftField, ValueKind, u8, &str)] = {
    use DraftField::*;
    use ValueKind::*;
    &[
        (VendorTaxId, TaxId, 0, r"\bvat\s*(?:id|number|no\b\.?|reg(?:istration)?\.?\s*(?:no\b\.?|number)?)"),
        (VendorTaxId, TaxId, 0, r"\bust\.?\s*-?\s*id(?:\.?\s*-?\s*nr\b\.?)?"),
        (VendorTaxId, TaxId, 0, r"\bn°\s*(?:de\s*)?tva(?:\s*intra\s*-?\s*communautaire)?"),
        (VendorTaxId, TaxId, 0, r"\btva\s*intra\s*-?\s*communautaire"),
        (VendorTaxId, TaxId, 1, r"\btax\s*id\b"),
        (InvoiceNumber, Id, 0, r"\binvoice\s*(?:number|no\b\.?|nr\b\.?|#|id\b)"),
        (InvoiceNumber, Id, 0, r"\brechnungs\s*-?\s*(?:nummer|nr\b\.?)"),
        (InvoiceNumber, Id, 0, r"\bfacture\s*n\s*[°o]\.?"),
        (InvoiceNumber, Id, 0, r"\b(?:n[°o]|numéro)\s*de\s*facture"),
        (InvoiceNumber, Id, 1, r"\b(?:bill|receipt)\s*(?:number|no\b\.?|#)"),
        (PoNumber, Id, 0, r"\bpurchase\s*order(?:\s*(?:number|no\b\.?|#))?"),
        (PoNumber, Id, 0, r"\bp\.?\s*o\.?\s*(?:number|no\b\.?|#)"),
        (PoNumber, Id, 1, r"\border\s*(?:number|no\b\.?|#)"),
        (PoNumber, Id, 1, r"\bbestell\s*(?:nummer|nr\b\.?)"),
        (PoNumber, Id, 1, r"\bbon\s*de\s*commande"),
        (InvoiceDate, Date, 0, r"\binvoice\s*date"),
        (InvoiceDate, Date, 0, r"\brechnungsdatum"),
        (InvoiceDate, Date, 0, r"\bdate\s*de\s*factur(?:e|ation)"),
        (InvoiceDate, Date, 1, r"\b(?:date\s*of\s*issue|issue\s*date|billing\s*date)"),
        (DueDate, Date, 0, r"\bdue\s*date"),
        (DueDate, Date, 0, r"\bpayment\s*due(?:\s*(?:date|by|on))?"),
        (DueDate, Date, 0, r"\bdate\s*limite\s*de\s*paiement(?:\s*le)?"),
        (DueDate, Date, 0, r"\bdate\s*d.\s*[ée]ch[ée]ance"),
        (DueDate, Date, 0, r"\bzahlungsziel"),
        (DueDate, Date, 1, r"\b(?:pay\s*by|f[äa]llig\s*am)"),
        (PaymentTerms, Text, 0, r"\b(?:payment\s*terms|zahlungsbedingungen|conditions\s*de\s*paiement)"),
        (AmountDue, Amount, 0, r"\btotal\s*amount\s*due"),
        (AmountDue, Amount, 0, r"\b(?:amount|balance)\s*(?:due|payable)"),
        (AmountDue, Amount, 0, r"\b(?:somme|net)\s*[àa]\s*payer"),
        (AmountDue, Amount, 0, r"\b(?:zu\s*zahlen|zahlbetrag)"),
        (Subtotal, Amount, 0, r"\bsub\s*-?\s*total"),
        (Subtotal, Amount, 0, r"\b(?:zwischensumme|nettobetrag|summe\s*netto)"),
        (Subtotal, Amount, 1, r"\b(?:net\s*(?:amount|total)|total\s*(?:excl\.?|before)\s*(?:vat|tax)|total\s*ht)\b"),
        (Total, Amount, 0, r"\btotal\s*due"),
        (Total, Amount, 0, r"\b(?:grand|invoice)\s*total"),
        (Total, Amount, 0, r"\btotal\s*(?:for\s*this\s*invoice|amount|facture|ttc)"),
        (Total, Amount, 0, r"\b(?:gesamtbetrag|rechnungsbetrag|montant\s*ttc)"),
        (Total, Amount, 2, r"\b(?:total|summe)\b"),
        (Tax, Amount, 0, r"\b(?:sales\s*)?tax(?:\s*amount)?\b"),
        (Tax, Amount, 0, r"\b(?:vat|gst|mwst|tva)(?:\s*amount)?\b"),
    ]
};

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    SPECS
        .iter()
        .filter_map(|(field, kind, rank, pattern)| {
            // The patterns are constants; a typo would drop the rule, and the tests see it.
            Regex::new(&format!("(?i){pattern}"))
                .ok()
                .map(|label| Rule {
                    field: *field,
                    kind: *kind,
                    rank: *rank,
                    label,
                })
        })
        .collect()
});

/// All labels at once: one pass tells which rules can match a line (most lines match none).
static LABELS: LazyLock<Option<RegexSet>> =
    LazyLock::new(|| RegexSet::new(RULES.iter().map(|r| r.label.as_str())).ok());

static ID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[\s:#.°]*(?:(?i:n[o°])\.?\s*)?([A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|[0-9])")
        .ok()
});

static DATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b",
        r"|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b",
        r"|\b\d{1,2}(?:st|nd|rd|th|er)?\.?(?:\s+of)?[\s-]+\p{L}{3,10}\.?,?[\s-]+\d{2,4}\b",
        r"|\b\p{L}{3,10}\.?\s+\d{1,2}(?:st|nd|rd|th)?\s*,?\s*\d{4}\b",
    ))
    .ok()
});

static AMOUNT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:(?P<pre>\b[A-Z]{3}|US\$|[$€£¥₹])[ \t]*)?",
        r"(?P<num>\(?-?\d+(?:[.,'\u{a0}\u{202f}]\d{3})*(?:[.,]\d{1,2})?\)?)",
        r"(?:[ \t]?(?P<post>[€$£¥₹])|[ \t](?P<code>[A-Z]{3})\b)?",
    ))
    .ok()
});

static TAX_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b[A-Z]{2}(?:[ .]?[0-9A-Z]){8,14}\b|\b\d{2}-\d{7}\b").ok());

/// Phrases that name the currency of a whole document.
const CURRENCY_PHRASES: &[(&str, &str)] = &[
    ("us dollars", "USD"),
    ("u.s. dollars", "USD"),
    ("euros", "EUR"),
    ("euro", "EUR"),
    ("pounds sterling", "GBP"),
];

/// [`draft_from_text_with`] at [`TEXT_LAYER_CONFIDENCE`].
pub fn draft_from_text(text: &str) -> InvoiceDraft {
    draft_from_text_with(text, TEXT_LAYER_CONFIDENCE)
}

/// Normalises a text layer, giving every field `confidence`.
pub fn draft_from_text_with(text: &str, confidence: Decimal) -> InvoiceDraft {
    let mut b = DraftBuilder::new(DraftSource::TextLayer);
    let pages: Vec<&str> = text.split('\u{c}').collect();
    b.pages = pages.iter().filter(|p| !p.trim().is_empty()).count().max(1) as u32;
    b.currency_hint = currency_hint(text).map(|(c, raw)| (c, raw, confidence));
    for (page_index, page) in pages.iter().enumerate() {
        let page_no = page_index as u32 + 1;
        let lines: Vec<&str> = page.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let next_line = lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .copied();
            read_line(line, next_line, page_no, confidence, &mut b);
        }
    }
    b.build()
}

fn read_line(line: &str, next: Option<&str>, page: u32, confidence: Decimal, b: &mut DraftBuilder) {
    // Accepted label matches: (start, end, rule).
    let mut found: Vec<(usize, usize, &Rule)> = Vec::new();
    let candidates: Vec<usize> = match LABELS.as_ref() {
        Some(set) => set.matches(line).into_iter().collect(),
        None => (0..RULES.len()).collect(),
    };
    for rule in candidates.into_iter().filter_map(|i| RULES.get(i)) {
        for m in rule.label.find_iter(line) {
            if found
                .iter()
                .all(|(s, e, _)| m.end() <= *s || m.start() >= *e)
            {
                found.push((m.start(), m.end(), rule));
            }
        }
    }
    if found.is_empty() {
        return;
    }
    found.sort_by_key(|(s, _, _)| *s);
    for (i, (_, end, rule)) in found.iter().enumerate() {
        let stop = found.get(i + 1).map_or(line.len(), |(s, _, _)| *s);
        let value = &line[*end..stop];
        let at_line_end = stop == line.len()
            && value
                .trim_matches(|c: char| {
                    c.is_whitespace() || matches!(c, ':' | '#' | '.' | '°' | '-')
                })
                .is_empty();
        let fallback = if at_line_end { next } else { None };
        match rule.kind {
            ValueKind::Id => {
                let id = find_id(value).or_else(|| fallback.and_then(find_id));
                if let Some((id, rest)) = id {
                    if rule.field == DraftField::PoNumber && id.eq_ignore_ascii_case("box") {
                        continue;
                    }
                    b.push(rule.field, &id, confidence, page, rule.rank);
                    // "Facture n°562044387 du 02 Juillet 2015": the date follows the number.
                    if rule.field == DraftField::InvoiceNumber {
                        if let Some(date) = date_after_number(&rest) {
                            b.push(DraftField::InvoiceDate, &date, confidence, page, 1);
                        }
                    }
                }
            }
            ValueKind::Date => {
                if let Some(date) = find_date(value).or_else(|| fallback.and_then(find_date)) {
                    b.push(rule.field, &date, confidence, page, rule.rank);
                }
            }
            ValueKind::Amount => {
                if let Some(amount) = find_amount(value) {
                    b.push(rule.field, &amount, confidence, page, rule.rank);
                }
            }
            ValueKind::TaxId => {
                if let Some(id) = TAX_ID.as_ref().and_then(|r| r.find(value)) {
                    b.push(rule.field, id.as_str(), confidence, page, rule.rank);
                }
            }
            ValueKind::Text => {
                let text = first_column(value);
                if !text.is_empty() {
                    b.push(rule.field, &text, confidence, page, rule.rank);
                }
            }
        }
    }
}

/// The text up to the first column gap (two or more spaces), without leading `:`.
fn first_column(value: &str) -> String {
    let trimmed = value.trim_start_matches([':', ' ', '\t', '.']);
    trimmed.split("  ").next().unwrap_or("").trim().to_string()
}

/// An identifier with at least one digit, and the text after it.
fn find_id(value: &str) -> Option<(String, String)> {
    let caps = ID.as_ref()?.captures(value)?;
    let m = caps.get(1)?;
    let id = m.as_str().trim_end_matches(['.', '-', '/']);
    if !id.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((id.to_string(), value[m.end()..].to_string()))
}

fn date_after_number(rest: &str) -> Option<String> {
    let lower = rest.trim_start().to_lowercase();
    let keyword = ["du ", "vom ", "of ", "dated ", "from "]
        .iter()
        .find(|k| lower.starts_with(**k))?;
    let rest = rest.trim_start();
    find_date(rest.get(keyword.len()..)?)
}

/// The first date-shaped text that parses.
fn find_date(value: &str) -> Option<String> {
    DATE.as_ref()?
        .find_iter(value)
        .map(|m| m.as_str())
        .find(|s| parse_date(s).is_ok())
        .map(str::to_string)
}

/// The amount of a label's value: the last amount with decimals or a currency, else the
/// last number; never a percentage or digits glued to letters (`CON02858`, `ACP101`).
fn find_amount(value: &str) -> Option<String> {
    let re = AMOUNT.as_ref()?;
    let mut strong: Option<String> = None;
    let mut weak: Option<String> = None;
    for caps in re.captures_iter(value) {
        let Some(num) = caps.name("num") else {
            continue;
        };
        let before = value[..num.start()].chars().next_back();
        let after = value[num.end()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        let is_currency =
            |c: &&str| c.chars().count() == 1 || *c == "US$" || Currency::parse(c).is_ok();
        let pre = caps.name("pre").map(|m| m.as_str()).filter(is_currency);
        if after == Some('%') || glued(after) || (pre.is_none() && glued(before)) {
            continue;
        }
        let currency = pre
            .or(caps.name("post").map(|m| m.as_str()))
            .or(caps.name("code").map(|m| m.as_str()))
            .filter(is_currency);
        let token = match currency {
            Some(c) => format!("{c} {}", num.as_str()),
            None => num.as_str().to_string(),
        };
        if parse_amount(&token).is_err() {
            continue;
        }
        let has_decimals = num
            .as_str()
            .trim_end_matches(')')
            .rsplit_once(['.', ','])
            .is_some_and(|(_, d)| d.len() <= 2);
        if has_decimals || currency.is_some() {
            strong = Some(token);
        } else {
            weak = Some(token);
        }
    }
    strong.or(weak)
}

/// The currency most amounts of the document name, else a phrase like "in US Dollars".
fn currency_hint(text: &str) -> Option<(Currency, String)> {
    let mut votes: Vec<(Currency, usize)> = Vec::new();
    if let Some(re) = AMOUNT.as_ref() {
        for caps in re.captures_iter(text) {
            let marker = caps.name("pre").or(caps.name("post")).or(caps.name("code"));
            let Some(marker) = marker else { continue };
            let Some(num) = caps.name("num") else {
                continue;
            };
            let Ok(a) = parse_amount(&format!("{} {}", marker.as_str(), num.as_str())) else {
                continue;
            };
            if let Some(c) = a.currency {
                match votes.iter_mut().find(|(v, _)| *v == c) {
                    Some((_, n)) => *n += 1,
                    None => votes.push((c, 1)),
                }
            }
        }
    }
    if let Some((c, _)) = votes.iter().max_by_key(|(_, n)| *n) {
        return Some((*c, c.code().to_string()));
    }
    let lower = text.to_lowercase();
    CURRENCY_PHRASES
        .iter()
        .find(|(phrase, _)| lower.contains(phrase))
        .and_then(|(phrase, code)| {
            Currency::parse(code)
                .ok()
                .map(|c| (c, (*phrase).to_string()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), SPECS.len());
        assert!(
            LABELS.is_some()
                && ID.is_some()
                && DATE.is_some()
                && AMOUNT.is_some()
                && TAX_ID.is_some()
        );
    }

    #[test]
    fn amounts_in_a_line() {
        assert_eq!(
            find_amount(" ON August 3 , 2014    $4.11").as_deref(),
            Some("$ 4.11")
        );
        assert_eq!(
            find_amount("   24.99   5.00   29.99").as_deref(),
            Some("29.99")
        );
        assert_eq!(find_amount(" EUR      34,73").as_deref(), Some("EUR 34,73"));
        assert_eq!(find_amount(" 20% payée 5.00").as_deref(), Some("5.00"));
        assert_eq!(find_amount(" Contract No. CON02858"), None);
    }
}
