//! Parsers for the values printed on real invoices: amounts (`$6,231.09`, `1.234,56 €`,
//! `6 231,09`, `(12.00)`, `USD 1,000`) and dates (`01-Jan-2021`, `Thursday, 26 March 2020`,
//! `01/31/2021`, `2021-01-31`, `January 25, 2016`, `26.03.2020`, `7. Mai 2014`, ...).
//!
//! Every parser returns a typed error on garbage and never panics.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// Inputs longer than this are not values but paragraphs; refusing them keeps parsing cheap.
const MAX_VALUE_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AmountError {
    #[error("amount is empty")]
    Empty,
    #[error("`{raw}` is too long to be an amount")]
    TooLong { raw: String },
    #[error("`{raw}` contains no digits")]
    NoDigits { raw: String },
    #[error("`{raw}` is not an amount")]
    Malformed { raw: String },
    #[error("`{raw}` names an unknown currency `{currency}`")]
    UnknownCurrency { raw: String, currency: String },
    #[error("`{raw}` is out of range")]
    OutOfRange { raw: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DateError {
    #[error("date is empty")]
    Empty,
    #[error("`{raw}` is too long to be a date")]
    TooLong { raw: String },
    #[error("`{raw}` is not a date in a known format")]
    Unrecognized { raw: String },
    #[error("`{raw}` is not a valid calendar date")]
    InvalidDate { raw: String },
}

/// An amount and, when the text names one, its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedAmount {
    pub value: Decimal,
    pub currency: Option<Currency>,
}

/// How to read an all-numeric date whose day and month are both ≤ 12 (`03/04/2021`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// `MM/DD/YYYY` (US). The default: the Textract samples and most USD invoices.
    #[default]
    MonthFirst,
    /// `DD/MM/YYYY` (most of the world).
    DayFirst,
}

impl DateOrder {
    /// The order suggested by an invoice's currency: US order for USD (and unknown),
    /// day first for every other currency.
    pub fn for_currency(currency: Option<Currency>) -> DateOrder {
        match currency {
            Some(c) if c != Currency::USD => DateOrder::DayFirst,
            _ => DateOrder::MonthFirst,
        }
    }
}

/// Symbols and their ISO codes. `$` alone means USD (documented guess; a `Currency.Code`
/// from Textract or an explicit code such as `CAD` overrides it).
const SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("$", "USD"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₱", "PHP"),
    ("₺", "TRY"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
    ("₪", "ILS"),
    ("₫", "VND"),
    ("Fr.", "CHF"),
];

fn currency_for_symbol(symbol: &str) -> Option<Currency> {
    SYMBOLS
        .iter()
        .find(|(s, _)| *s == symbol)
        .and_then(|(_, code)| Currency::parse(code).ok())
}

/// Detects a currency named anywhere in `text`: an ISO code (`EUR`, `usd` as a word) or a
/// symbol. Returns the first found, codes before symbols.
pub fn detect_currency(text: &str) -> Option<Currency> {
    for word in text.split(|c: char| !c.is_ascii_alphabetic()) {
        if word.len() == 3 && word.chars().all(|c| c.is_ascii_uppercase()) {
            if let Ok(c) = Currency::parse(word) {
                return Some(c);
            }
        }
    }
    // Longest symbols first: `US$` before `$`.
    SYMBOLS
        .iter()
        .filter(|(s, _)| *s != "Fr.")
        .find(|(s, _)| text.contains(s))
        .and_then(|(_, code)| Currency::parse(code).ok())
}

/// Parses an amount as printed. Rules:
/// - currency symbol or ISO code before or after (`$1,000`, `1.234,56 €`, `USD 1,000`);
/// - negatives as `-12`, `12-`, `(12.00)` or `−12` (Unicode minus);
/// - the decimal separator is the last `.` or `,` when both occur; a lone separator
///   followed by exactly three digits is a thousands separator (`1,000` = 1000,
///   `1.000` = 1000), otherwise it is the decimal separator (`34,73` = 34.73);
/// - spaces, no-break spaces and apostrophes group thousands (`6 231,09`, `1'234.50`).
pub fn parse_amount(raw: &str) -> Result<ParsedAmount, AmountError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(AmountError::TooLong {
            raw: truncate(text),
        });
    }
    if !text.chars().any(|c| c.is_ascii_digit()) {
        return Err(AmountError::NoDigits { raw: raw.into() });
    }
    let malformed = || AmountError::Malformed { raw: raw.into() };

    let mut negative = false;
    let mut body = text.to_string();
    if body.starts_with('(') && body.ends_with(')') && body.len() >= 2 {
        negative = true;
        body = body[1..body.len() - 1].trim().to_string();
    }

    // Split off the currency marker(s) around the number.
    let mut currency: Option<Currency> = None;
    let start = body
        .find(|c: char| c.is_ascii_digit() || c == '-' || c == '−' || c == '+')
        .ok_or_else(malformed)?;
    let end = body
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_digit() || *c == '-' || *c == '−')
        .map(|(i, c)| i + c.len_utf8())
        .ok_or_else(malformed)?;
    if end <= start {
        return Err(malformed());
    }
    let prefix = body[..start].trim();
    let suffix = body[end..].trim();
    let mut number = body[start..end].trim().to_string();
    // "$12 USD" names the currency twice in two ways; "$12$" is not an amount.
    if !prefix.is_empty() && prefix == suffix {
        return Err(malformed());
    }
    for marker in [prefix, suffix] {
        if marker.is_empty() {
            continue;
        }
        let found = currency_marker(marker, raw)?;
        match (currency, found) {
            (Some(a), Some(b)) if a != b => return Err(malformed()),
            (None, f) => currency = f,
            _ => {}
        }
    }

    // Sign: leading or trailing minus, unicode minus.
    if let Some(rest) = number.strip_prefix(['-', '−']) {
        negative = !negative;
        number = rest.trim().to_string();
    } else if let Some(rest) = number.strip_prefix('+') {
        number = rest.trim().to_string();
    } else if let Some(rest) = number.strip_suffix(['-', '−']) {
        negative = !negative;
        number = rest.trim().to_string();
    }
    if number.is_empty() || !number.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(malformed());
    }

    let canonical = canonical_number(&number).ok_or_else(malformed)?;
    let mut value = Decimal::from_str_exact(&canonical)
        .or_else(|_| Decimal::from_str(&canonical))
        .map_err(|_| AmountError::OutOfRange { raw: raw.into() })?;
    if negative {
        value.set_sign_negative(true);
    }
    Ok(ParsedAmount { value, currency })
}

/// A currency symbol or code around a number; anything else is an error.
fn currency_marker(marker: &str, raw: &str) -> Result<Option<Currency>, AmountError> {
    if let Some(c) = currency_for_symbol(marker) {
        return Ok(Some(c));
    }
    // "USD $" or "$ USD": code plus symbol, the code decides.
    let words: Vec<&str> = marker.split_whitespace().collect();
    let mut found = None;
    for w in &words {
        if let Some(c) = currency_for_symbol(w) {
            found.get_or_insert(c);
            continue;
        }
        if w.len() == 3 && w.chars().all(|c| c.is_ascii_alphabetic()) {
            match Currency::parse(w) {
                Ok(c) => {
                    found = Some(c);
                    continue;
                }
                Err(_) => {
                    return Err(AmountError::UnknownCurrency {
                        raw: raw.into(),
                        currency: (*w).to_string(),
                    })
                }
            }
        }
        return Err(AmountError::Malformed { raw: raw.into() });
    }
    Ok(found)
}

/// Rewrites a grouped number (`1.234,56`, `6 231,09`, `1,000`) to `1234.56` form.
fn canonical_number(number: &str) -> Option<String> {
    let is_group_space = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'');
    // Which of '.' and ',' is the decimal separator?
    let last_dot = number.rfind('.');
    let last_comma = number.rfind(',');
    let decimal_sep = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) => lone_separator_is_decimal(number, '.').then_some('.'),
        (None, Some(_)) => lone_separator_is_decimal(number, ',').then_some(','),
        (None, None) => None,
    };
    let (int_part, frac_part) = match decimal_sep {
        Some(sep) => {
            let i = number.rfind(sep)?;
            (&number[..i], Some(&number[i + sep.len_utf8()..]))
        }
        None => (number, None),
    };
    // Integer part: digits with optional group separators, each group of exactly three.
    let group_sep = |c: char| (c == '.' || c == ',' || is_group_space(c)) && Some(c) != decimal_sep;
    let groups: Vec<&str> = int_part.split(group_sep).collect();
    if groups
        .iter()
        .any(|g| g.is_empty() || !g.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let mut out: String = groups.concat();
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// A separator that occurs once and is not followed by exactly three digits is decimal.
fn lone_separator_is_decimal(number: &str, sep: char) -> bool {
    if number.matches(sep).count() != 1 {
        return false;
    }
    match number.rsplit_once(sep) {
        // A thousands group never follows a leading zero: `0.001` is a decimal.
        Some((int, frac)) => frac.len() != 3 || int.trim_start_matches('0').is_empty(),
        None => false,
    }
}

/// Parses a quantity (`3`, `4.5`, `1,5`, `2 pcs`, `x2`). Quantities have no currency.
pub fn parse_quantity(raw: &str) -> Result<Decimal, AmountError> {
    let mut text = raw.trim().to_ascii_lowercase();
    for unit in [
        "pcs", "pc", "ea", "each", "units", "unit", "hrs", "hr", "h", "x",
    ] {
        if let Some(rest) = text.strip_suffix(unit) {
            text = rest.trim().to_string();
            break;
        }
    }
    if let Some(rest) = text.strip_prefix('x') {
        text = rest.trim().to_string();
    }
    let parsed = parse_amount(&text).map_err(|e| match e {
        AmountError::Empty => AmountError::Empty,
        _ => AmountError::Malformed { raw: raw.into() },
    })?;
    if parsed.currency.is_some() {
        return Err(AmountError::Malformed { raw: raw.into() });
    }
    Ok(parsed.value)
}

/// Parses a line-item amount: like [`parse_amount`], also accepting a receipt's trailing
/// tax flag (`$899.99 S`, `43.00 V`) and a per-unit suffix (`21.50/Unit`, `@ 3.00 ea`).
pub fn parse_line_amount(raw: &str) -> Result<ParsedAmount, AmountError> {
    let mut text = raw.trim();
    if let Some(rest) = text.strip_prefix('@') {
        text = rest.trim_start();
    }
    let lower = text.to_ascii_lowercase();
    for suffix in ["/unit", "/ea", "/each", " each", " ea", "/pc", " per unit"] {
        if lower.ends_with(suffix) && text.len() >= suffix.len() {
            text = text[..text.len() - suffix.len()].trim_end();
            break;
        }
    }
    // A single letter after a space is a receipt tax code, never a currency.
    let bytes = text.as_bytes();
    if bytes.len() >= 3
        && bytes[bytes.len() - 1].is_ascii_alphabetic()
        && bytes[bytes.len() - 2] == b' '
    {
        text = text[..text.len() - 2].trim_end();
    }
    parse_amount(text).map_err(|e| match e {
        AmountError::Empty => AmountError::Empty,
        AmountError::TooLong { .. } => AmountError::TooLong { raw: truncate(raw) },
        AmountError::NoDigits { .. } => AmountError::NoDigits { raw: raw.into() },
        AmountError::UnknownCurrency { currency, .. } => AmountError::UnknownCurrency {
            raw: raw.into(),
            currency,
        },
        AmountError::OutOfRange { .. } => AmountError::OutOfRange { raw: raw.into() },
        AmountError::Malformed { .. } => AmountError::Malformed { raw: raw.into() },
    })
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_VALUE_CHARS).collect()
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Month names and abbreviations in English, German, French, Spanish, Italian and Dutch
/// (lower case, accents kept and folded forms added).
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("jänner", 1),
    ("janvier", 1),
    ("janv", 1),
    ("enero", 1),
    ("ene", 1),
    ("gennaio", 1),
    ("gen", 1),
    ("januari", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("févr", 2),
    ("fevr", 2),
    ("févr", 2),
    ("febrero", 2),
    ("febbraio", 2),
    ("februari", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mär", 3),
    ("mars", 3),
    ("marzo", 3),
    ("maart", 3),
    ("mrt", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("avr", 4),
    ("abril", 4),
    ("abr", 4),
    ("aprile", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("maggio", 5),
    ("mag", 5),
    ("mei", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("giugno", 6),
    ("giu", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("juil", 7),
    ("julio", 7),
    ("luglio", 7),
    ("lug", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("ago", 8),
    ("augustus", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("settembre", 9),
    ("set", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("okt", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("ottobre", 10),
    ("ott", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("dez", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("déc", 12),
    ("diciembre", 12),
    ("dic", 12),
    ("dicembre", 12),
];

/// Words that may surround a date and carry no information (weekdays, "of", "le").
const NOISE_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "of",
    "the",
    "le",
    "du",
    "de",
    "den",
    "der",
    "el",
    "il",
];

pub fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS.iter().find(|(name, _)| *name == w).map(|(_, m)| *m)
}

/// Parses a date with the default order ([`DateOrder::MonthFirst`]).
pub fn parse_date(raw: &str) -> Result<NaiveDate, DateError> {
    parse_date_with(raw, DateOrder::default())
}

/// Parses a date as printed on invoices. All-numeric dates: `YYYY-MM-DD` (any of `-/.`)
/// first; otherwise day and month are told apart when one of them is > 12, then a `.`
/// separator means day first (`26.03.2020`), then `order` decides. Two-digit years
/// are 2000-2069 for 00-69 and 1970-1999 for 70-99. Textual months in six languages,
/// weekday names and ordinals (`1st`, `1er`, `7.`) are accepted.
pub fn parse_date_with(raw: &str, order: DateOrder) -> Result<NaiveDate, DateError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(DateError::Empty);
    }
    if text.chars().count() > MAX_VALUE_CHARS {
        return Err(DateError::TooLong {
            raw: truncate(text),
        });
    }
    let unrecognized = || DateError::Unrecognized { raw: raw.into() };
    let invalid = || DateError::InvalidDate { raw: raw.into() };

    // ISO 8601 timestamps: keep the date part.
    let text = match text.find('T') {
        Some(i) if i == 10 && text.as_bytes().get(4) == Some(&b'-') => &text[..i],
        _ => text,
    };

    if text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | ' '))
    {
        return parse_numeric_date(text, order, raw);
    }

    // Textual: tokens of letters or digits.
    let mut day: Option<u32> = None;
    let mut month: Option<u32> = None;
    let mut year: Option<i32> = None;
    let mut numbers: Vec<(u32, usize)> = Vec::new();
    for token in text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '/' | '.'))
        .filter(|t| !t.is_empty())
    {
        if token.chars().all(|c| c.is_ascii_digit()) {
            let n: u32 = token.parse().map_err(|_| unrecognized())?;
            numbers.push((n, token.len()));
            continue;
        }
        let lower = token.to_lowercase();
        // Ordinals: 1st 2nd 3rd 4th 1er 1º.
        let digits: String = lower.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            let rest = &lower[digits.len()..];
            if matches!(rest, "st" | "nd" | "rd" | "th" | "er" | "º" | "°") {
                let n: u32 = digits.parse().map_err(|_| unrecognized())?;
                if day.replace(n).is_some() {
                    return Err(unrecognized());
                }
                continue;
            }
            return Err(unrecognized());
        }
        if let Some(m) = month_number(&lower) {
            if month.replace(m).is_some() {
                return Err(unrecognized());
            }
            continue;
        }
        if NOISE_WORDS.contains(&lower.as_str()) {
            continue;
        }
        return Err(unrecognized());
    }
    let month = month.ok_or_else(unrecognized)?;
    for (n, len) in numbers {
        if len == 4 || n > 31 {
            if year.replace(expand_year(n, len)).is_some() {
                return Err(unrecognized());
            }
        } else if day.is_none() {
            day = Some(n);
        } else if year.is_none() && len == 2 {
            year = Some(expand_year(n, len));
        } else {
            return Err(unrecognized());
        }
    }
    let (day, year) = (
        day.ok_or_else(unrecognized)?,
        year.ok_or_else(unrecognized)?,
    );
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)
}

fn expand_year(n: u32, len: usize) -> i32 {
    let n = n as i32;
    if len <= 2 {
        if n < 70 {
            2000 + n
        } else {
            1900 + n
        }
    } else {
        n
    }
}

fn parse_numeric_date(text: &str, order: DateOrder, raw: &str) -> Result<NaiveDate, DateError> {
    let unrecognized = || DateError::Unrecognized { raw: raw.into() };
    let invalid = || DateError::InvalidDate { raw: raw.into() };
    let sep = text
        .chars()
        .find(|c| matches!(c, '-' | '/' | '.'))
        .ok_or_else(unrecognized)?;
    let parts: Vec<&str> = text
        .split(['-', '/', '.'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.len() > 4 || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(unrecognized());
    }
    let num = |p: &str| p.parse::<u32>().map_err(|_| unrecognized());
    let (a, b, c) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
    if parts[0].len() == 4 {
        // Year first is always Y-M-D.
        return NaiveDate::from_ymd_opt(a as i32, b, c).ok_or_else(invalid);
    }
    if !(parts[2].len() == 4 || parts[2].len() == 2) {
        return Err(unrecognized());
    }
    let year = expand_year(c, parts[2].len());
    let (day, month) = if a > 12 && b <= 12 {
        (a, b)
    } else if b > 12 && a <= 12 {
        (b, a)
    } else if sep == '.' {
        (a, b)
    } else {
        match order {
            DateOrder::MonthFirst => (b, a),
            DateOrder::DayFirst => (a, b),
        }
    };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn amt(s: &str) -> Decimal {
        parse_amount(s).unwrap().value
    }

    #[test]
    fn amounts() {
        assert_eq!(amt("$6,231.09"), dec!(6231.09));
        assert_eq!(amt("1.234,56 €"), dec!(1234.56));
        assert_eq!(amt("6 231,09"), dec!(6231.09));
        assert_eq!(amt("(12.00)"), dec!(-12.00));
        assert_eq!(amt("USD 1,000"), dec!(1000));
        assert_eq!(amt("34,73"), dec!(34.73));
        assert_eq!(amt("1.000"), dec!(1000));
        assert_eq!(amt("-5"), dec!(-5));
        assert_eq!(amt("5.00-"), dec!(-5.00));
        assert_eq!(
            parse_amount("1.234,56 €").unwrap().currency,
            Some(Currency::EUR)
        );
        assert!(parse_amount("12.34.56,7.8").is_err());
        assert!(parse_amount("abc").is_err());
        assert!(matches!(
            parse_amount("12 XYZ"),
            Err(AmountError::UnknownCurrency { .. })
        ));
    }

    #[test]
    fn dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(parse_date("01-Jan-2021").unwrap(), d(2021, 1, 1));
        assert_eq!(parse_date("01/31/2021").unwrap(), d(2021, 1, 31));
        assert_eq!(parse_date("12/07/2019").unwrap(), d(2019, 12, 7));
        assert_eq!(
            parse_date_with("12/07/2019", DateOrder::DayFirst).unwrap(),
            d(2019, 7, 12)
        );
        assert_eq!(
            parse_date("Thursday, 26 March 2020").unwrap(),
            d(2020, 3, 26)
        );
        assert_eq!(parse_date("7. Mai 2014").unwrap(), d(2014, 5, 7));
        assert_eq!(parse_date("August 3 , 2014").unwrap(), d(2014, 8, 3));
        assert!(matches!(
            parse_date("31/02/2020"),
            Err(DateError::InvalidDate { .. })
        ));
    }
}
