//! Vendors: who we pay, how, and on what terms.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DomainError, FieldErrors};
use crate::status::Lifecycle;
use crate::status_enum;

/// A syntactically valid e-mail address (lower-cased domain).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim();
        let bad = |why: &str| {
            DomainError::field(
                "email",
                "invalid_email",
                format!("`{t}` is not a valid e-mail address: {why}"),
            )
        };
        if t.len() > 254 {
            return Err(bad("longer than 254 characters"));
        }
        let (local, domain) = t.split_once('@').ok_or_else(|| bad("missing @"))?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(bad("bad local part"));
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(bad("bad local part"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !domain_ok {
            return Err(bad("bad domain"));
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IBAN whose length (per country) and ISO 7064 mod-97 checksum are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

/// IBAN lengths of the countries we pay into most; other countries are checked by checksum
/// and the general 15..=34 length only.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AT", 20),
    ("BE", 16),
    ("CH", 21),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("IE", 22),
    ("IT", 27),
    ("LU", 20),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("SE", 24),
];

impl Iban {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = |why: &str| {
            DomainError::field(
                "iban",
                "invalid_iban",
                format!("`{text}` is not a valid IBAN: {why}"),
            )
        };
        if !(15..=34).contains(&compact.len())
            || !compact.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(bad("wrong length or characters"));
        }
        let (country, rest) = compact.split_at(2);
        if !country.chars().all(|c| c.is_ascii_uppercase())
            || !rest[..2].chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad("must start with a country code and two check digits"));
        }
        if let Some((_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) {
            if compact.len() != *len {
                return Err(bad(&format!("{country} IBANs have {len} characters")));
            }
        }
        let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
        let mut remainder: u32 = 0;
        for c in rearranged.chars() {
            let v = c.to_digit(36).ok_or_else(|| bad("bad character"))?;
            remainder = if v < 10 {
                (remainder * 10 + v) % 97
            } else {
                (remainder * 100 + v) % 97
            };
        }
        if remainder != 1 {
            return Err(bad("checksum mismatch"));
        }
        Ok(Iban(compact))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BIC (ISO 9362): 8 or 11 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bic(String);

impl Bic {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().to_ascii_uppercase();
        let ok = (t.len() == 8 || t.len() == 11)
            && t[..6].chars().all(|c| c.is_ascii_uppercase())
            && t[6..].chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(DomainError::field(
                "bic",
                "invalid_bic",
                format!("`{text}` is not a valid BIC"),
            ));
        }
        Ok(Bic(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A US ABA routing number (checksum verified) and an account number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UsBankAccount {
    routing_number: String,
    account_number: String,
}

impl UsBankAccount {
    pub fn parse(routing: &str, account: &str) -> Result<Self, DomainError> {
        let r = routing.trim();
        let d: Vec<u32> = r.chars().filter_map(|c| c.to_digit(10)).collect();
        if r.len() != 9 || d.len() != 9 {
            return Err(DomainError::field(
                "routing_number",
                "invalid_routing_number",
                "a routing number has 9 digits",
            ));
        }
        let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
        if !sum.is_multiple_of(10) {
            return Err(DomainError::field(
                "routing_number",
                "invalid_routing_number",
                "routing number checksum mismatch",
            ));
        }
        let a = account.trim();
        if !(4..=17).contains(&a.len()) || !a.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::field(
                "account_number",
                "invalid_account_number",
                "an account number has 4 to 17 digits",
            ));
        }
        Ok(UsBankAccount {
            routing_number: r.to_string(),
            account_number: a.to_string(),
        })
    }
    pub fn routing_number(&self) -> &str {
        &self.routing_number
    }
    pub fn account_number(&self) -> &str {
        &self.account_number
    }
}

/// Where a vendor's money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BankAccount {
    Iban { iban: Iban, bic: Bic },
    UsAch(UsBankAccount),
}

/// Wire shape of a bank account (`{"iban","bic"}` or `{"routing_number","account_number"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccountInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
}

impl BankAccount {
    pub fn parse(input: &BankAccountInput) -> Result<Self, DomainError> {
        match input {
            BankAccountInput {
                iban: Some(iban),
                bic: Some(bic),
                routing_number: None,
                account_number: None,
            } => {
                let iban = Iban::parse(iban);
                let bic = Bic::parse(bic);
                match (iban, bic) {
                    (Ok(iban), Ok(bic)) => Ok(BankAccount::Iban { iban, bic }),
                    (iban, bic) => {
                        let mut errs = Vec::new();
                        if let Err(e) = iban {
                            errs.extend(e.field_errors().iter().cloned());
                        }
                        if let Err(e) = bic {
                            errs.extend(e.field_errors().iter().cloned());
                        }
                        Err(DomainError::Invalid(errs))
                    }
                }
            }
            BankAccountInput {
                iban: None,
                bic: None,
                routing_number: Some(r),
                account_number: Some(a),
            } => Ok(BankAccount::UsAch(UsBankAccount::parse(r, a)?)),
            _ => Err(DomainError::field(
                "bank_account",
                "invalid_bank_account",
                "give either iban + bic, or routing_number + account_number",
            )),
        }
    }

    pub fn to_input(&self) -> BankAccountInput {
        match self {
            BankAccount::Iban { iban, bic } => BankAccountInput {
                iban: Some(iban.as_str().into()),
                bic: Some(bic.as_str().into()),
                ..Default::default()
            },
            BankAccount::UsAch(a) => BankAccountInput {
                routing_number: Some(a.routing_number.clone()),
                account_number: Some(a.account_number.clone()),
                ..Default::default()
            },
        }
    }
}

impl Serialize for BankAccount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_input().serialize(s)
    }
}

impl<'de> Deserialize<'de> for BankAccount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let input = BankAccountInput::deserialize(d)?;
        BankAccount::parse(&input).map_err(serde::de::Error::custom)
    }
}

/// Payment terms such as `Net 30`, `2/10 Net 30`, `Net 30 EOM`, `Due on receipt`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentTerms {
    /// Days after the invoice date the full amount is due.
    pub net_days: u32,
    /// Due at the end of the month in which the net period ends.
    pub end_of_month: bool,
    /// Early-payment discount: `percent` off if paid within `days`.
    pub discount: Option<EarlyPaymentDiscount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EarlyPaymentDiscount {
    pub percent: Decimal,
    pub days: u32,
}

impl Default for PaymentTerms {
    fn default() -> Self {
        PaymentTerms {
            net_days: 30,
            end_of_month: false,
            discount: None,
        }
    }
}

impl PaymentTerms {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::field(
                "payment_terms",
                "invalid_payment_terms",
                format!("`{text}` is not understood; use e.g. `Net 30`, `2/10 Net 30`, `Net 30 EOM`, `Due on receipt`"),
            )
        };
        let norm = text
            .trim()
            .to_ascii_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if norm == "due on receipt" || norm == "immediate" {
            return Ok(PaymentTerms {
                net_days: 0,
                end_of_month: false,
                discount: None,
            });
        }
        let mut words: Vec<&str> = norm.split(' ').collect();
        let end_of_month = words.last().is_some_and(|w| *w == "eom");
        if end_of_month {
            words.pop();
        }
        let discount = match words.first() {
            Some(w) if w.contains('/') => {
                let (pct, days) = w.split_once('/').ok_or_else(bad)?;
                let percent = Decimal::from_str(pct.trim_end_matches('%')).map_err(|_| bad())?;
                let days: u32 = days.parse().map_err(|_| bad())?;
                if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
                    return Err(bad());
                }
                words.remove(0);
                Some(EarlyPaymentDiscount { percent, days })
            }
            _ => None,
        };
        let net_days = match words.as_slice() {
            ["net", n] => n.parse::<u32>().map_err(|_| bad())?,
            [n] if n.starts_with("net") => n[3..].parse::<u32>().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if net_days > 365 || discount.as_ref().is_some_and(|d| d.days > net_days) {
            return Err(bad());
        }
        Ok(PaymentTerms {
            net_days,
            end_of_month,
            discount,
        })
    }

    /// The due date of an invoice issued on `invoice_date` under these terms.
    pub fn due_date(&self, invoice_date: NaiveDate) -> NaiveDate {
        let due = invoice_date + Duration::days(i64::from(self.net_days));
        if self.end_of_month {
            last_day_of_month(due)
        } else {
            due
        }
    }

    /// The last day the early-payment discount applies, if any.
    pub fn discount_deadline(&self, invoice_date: NaiveDate) -> Option<NaiveDate> {
        self.discount
            .as_ref()
            .map(|d| invoice_date + Duration::days(i64::from(d.days)))
    }
}

fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(d)
}

impl fmt::Display for PaymentTerms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.net_days == 0 && self.discount.is_none() && !self.end_of_month {
            return f.write_str("Due on receipt");
        }
        if let Some(d) = &self.discount {
            write!(f, "{}/{} ", d.percent.normalize(), d.days)?;
        }
        write!(f, "Net {}", self.net_days)?;
        if self.end_of_month {
            f.write_str(" EOM")?;
        }
        Ok(())
    }
}

impl Serialize for PaymentTerms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PaymentTerms {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PaymentTerms::parse(&s).map_err(serde::de::Error::custom)
    }
}

status_enum!(
    /// `active|inactive|pending|suspended`
    VendorStatus {
        Pending => "pending",
        Active => "active",
        Inactive => "inactive",
        Suspended => "suspended",
    }
);

impl Lifecycle for VendorStatus {
    const ENTITY: &'static str = "vendor";
    const TRANSITIONS: &'static [(Self, Self)] = &[
        (VendorStatus::Pending, VendorStatus::Active),
        (VendorStatus::Pending, VendorStatus::Inactive),
        (VendorStatus::Active, VendorStatus::Inactive),
        (VendorStatus::Active, VendorStatus::Suspended),
        (VendorStatus::Inactive, VendorStatus::Active),
        (VendorStatus::Suspended, VendorStatus::Active),
        (VendorStatus::Suspended, VendorStatus::Inactive),
    ];
    fn as_str(&self) -> &'static str {
        VendorStatus::as_str(self)
    }
}

/// A vendor as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    #[serde(with = "email_serde")]
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub payment_terms: PaymentTerms,
    pub status: VendorStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account: Option<BankAccount>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, bumped on every update.
    #[serde(default)]
    pub version: u64,
}

mod email_serde {
    use super::Email;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(e: &Email, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(e.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Email, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a caller submits to register or update a vendor; parsed, never trusted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    #[serde(default)]
    pub payment_terms: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub bank_account: Option<BankAccountInput>,
}

pub const MAX_NAME_LEN: usize = 200;

impl VendorInput {
    /// Parses a new vendor, reporting every invalid field.
    pub fn into_vendor(self, id: String, now: DateTime<Utc>) -> Result<Vendor, DomainError> {
        let mut errs = FieldErrors::new();
        let name = match self.name.as_deref().map(str::trim) {
            None | Some("") => {
                errs.push(crate::error::FieldError::required("name"));
                None
            }
            Some(n) if n.chars().count() > MAX_NAME_LEN => {
                errs.add(
                    "name",
                    "too_long",
                    format!("name is longer than {MAX_NAME_LEN} characters"),
                );
                None
            }
            Some(n) => Some(n.to_string()),
        };
        let email = match self.email.as_deref() {
            None => {
                errs.push(crate::error::FieldError::required("email"));
                None
            }
            Some(e) => errs.check("email", "invalid_email", Email::parse(e)),
        };
        let payment_terms = match self.payment_terms.as_deref() {
            None => Some(PaymentTerms::default()),
            Some(t) => errs.check(
                "payment_terms",
                "invalid_payment_terms",
                PaymentTerms::parse(t),
            ),
        };
        let status = match self.status.as_deref() {
            None => Some(VendorStatus::Active),
            Some(s) => errs.check("status", "unknown_status", VendorStatus::from_str(s)),
        };
        let bank_account = match &self.bank_account {
            None => Some(None),
            Some(b) => match BankAccount::parse(b) {
                Ok(acc) => Some(Some(acc)),
                Err(e) => {
                    for fe in e.field_errors() {
                        errs.add(
                            format!("bank_account.{}", fe.field),
                            &fe.code,
                            fe.message.clone(),
                        );
                    }
                    None
                }
            },
        };
        let clean = |o: Option<String>| o.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        match (name, email, payment_terms, status, bank_account) {
            (Some(name), Some(email), Some(payment_terms), Some(status), Some(bank_account))
                if errs.is_empty() =>
            {
                Ok(Vendor {
                    id,
                    name,
                    email,
                    phone: clean(self.phone),
                    address: clean(self.address),
                    tax_id: clean(self.tax_id),
                    payment_terms,
                    status,
                    bank_account,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                })
            }
            _ => Err(DomainError::Invalid(errs.0)),
        }
    }

    /// Applies the given fields to an existing vendor (a partial update), validating all.
    pub fn apply_to(self, existing: &Vendor, now: DateTime<Utc>) -> Result<Vendor, DomainError> {
        let current = existing.clone();
        let new_status = self.status.clone();
        let merged = VendorInput {
            name: self.name.or(Some(current.name.clone())),
            email: self.email.or(Some(current.email.as_str().to_string())),
            phone: self.phone.or(current.phone.clone()),
            address: self.address.or(current.address.clone()),
            tax_id: self.tax_id.or(current.tax_id.clone()),
            payment_terms: self
                .payment_terms
                .or(Some(current.payment_terms.to_string())),
            status: Some(current.status.as_str().to_string()),
            bank_account: self
                .bank_account
                .or(current.bank_account.as_ref().map(BankAccount::to_input)),
        };
        let mut updated = merged.into_vendor(current.id.clone(), current.created_at)?;
        if let Some(s) = new_status {
            let to = VendorStatus::from_str(&s)?;
            if to != current.status {
                updated.status = current.status.transition(to)?;
            }
        }
        updated.updated_at = now;
        updated.version = current.version + 1;
        Ok(updated)
    }
}

/// Longest lookup key kept (characters): keys become index keys (DynamoDB allows 2048
/// bytes), and nothing printed on an invoice needs more to be told apart.
pub const MAX_LOOKUP_KEY_CHARS: usize = 256;

/// Letters and digits only, upper case: how identifiers printed on documents are compared,
/// so "DE 232 446 240" = "de232446240" and "PO-0042" = "po 0042".
pub fn identifier_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .take(MAX_LOOKUP_KEY_CHARS)
        .collect()
}

/// The key a vendor is found by from its tax id (VAT/EIN as printed): [`identifier_key`].
pub fn tax_id_key(tax_id: &str) -> String {
    identifier_key(tax_id)
}

/// Legal-form words dropped from the end of a vendor name before comparing.
const LEGAL_FORMS: &[&str] = &[
    "INC",
    "LLC",
    "LTD",
    "LIMITED",
    "GMBH",
    "AG",
    "SA",
    "SAS",
    "SARL",
    "BV",
    "NV",
    "PLC",
    "CORP",
    "CORPORATION",
    "CO",
    "COMPANY",
];

/// The key a vendor is found by from its name: words of letters and digits, upper case,
/// single-spaced, without trailing legal forms ("Amazon.com, Inc." = "AMAZON COM",
/// "ACME Supplies GmbH" = "acme supplies"). A name that is only a legal form keeps it.
pub fn name_key(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect();
    let mut end = words.len();
    while end > 1 && LEGAL_FORMS.contains(&words[end - 1].as_str()) {
        end -= 1;
    }
    words[..end]
        .join(" ")
        .chars()
        .take(MAX_LOOKUP_KEY_CHARS)
        .collect()
}

impl Vendor {
    /// [`tax_id_key`] of the tax id; `None` when there is none (or nothing of it is a
    /// letter or digit): such a vendor is not findable by tax id.
    pub fn tax_id_key(&self) -> Option<String> {
        self.tax_id
            .as_deref()
            .map(tax_id_key)
            .filter(|k| !k.is_empty())
    }
    /// [`name_key`] of the name; `None` when nothing of it is a letter or digit.
    pub fn name_key(&self) -> Option<String> {
        Some(name_key(&self.name)).filter(|k| !k.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn lookup_keys_fold_spacing_case_punctuation_and_legal_forms() {
        assert_eq!(tax_id_key("DE 232 446 240"), "DE232446240");
        assert_eq!(tax_id_key("de232446240"), tax_id_key("DE-232.446.240"));
        assert_eq!(tax_id_key("12-3456789"), "123456789");
        assert_eq!(identifier_key("po-0042"), "PO0042");
        assert_eq!(tax_id_key(" - "), "");
        assert_eq!(name_key("Amazon.com, Inc."), "AMAZON COM");
        assert_eq!(name_key("ACME Supplies GmbH"), "ACME SUPPLIES");
        assert_eq!(
            name_key("acme  supplies"),
            name_key("ACME Supplies Co. Ltd")
        );
        assert_eq!(name_key("AG"), "AG");
        assert_eq!(name_key("Müller GmbH"), "MÜLLER");
        assert_eq!(name_key(""), "");
        assert_eq!(
            tax_id_key(&"9".repeat(5000)).chars().count(),
            MAX_LOOKUP_KEY_CHARS
        );
        assert!(name_key(&"a ".repeat(5000)).chars().count() <= MAX_LOOKUP_KEY_CHARS);
    }

    #[test]
    fn emails() {
        assert!(Email::parse("ap@Example.COM").is_ok_and(|e| e.as_str() == "ap@example.com"));
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a..b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ibans() {
        assert!(Iban::parse("DE89 3704 0044 0532 0130 00").is_ok());
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert!(Iban::parse("DE89370400440532013001").is_err());
        assert!(Iban::parse("DE8937040044053201300").is_err());
        assert!(Iban::parse("").is_err());
    }

    #[test]
    fn routing_numbers() {
        assert!(UsBankAccount::parse("021000021", "123456789").is_ok());
        assert!(UsBankAccount::parse("021000022", "123456789").is_err());
        assert!(UsBankAccount::parse("021000021", "12").is_err());
    }

    #[test]
    fn payment_terms() {
        let t = PaymentTerms::parse("2/10 Net 30").unwrap();
        assert_eq!(t.net_days, 30);
        assert_eq!(
            t.discount,
            Some(EarlyPaymentDiscount {
                percent: dec!(2),
                days: 10
            })
        );
        let d = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
        assert_eq!(t.due_date(d), NaiveDate::from_ymd_opt(2025, 2, 14).unwrap());
        assert_eq!(t.discount_deadline(d), NaiveDate::from_ymd_opt(2025, 1, 25));
        let eom = PaymentTerms::parse("net 30 eom").unwrap();
        assert_eq!(
            eom.due_date(d),
            NaiveDate::from_ymd_opt(2025, 2, 28).unwrap()
        );
        assert_eq!(
            PaymentTerms::parse("Due on receipt").unwrap().due_date(d),
            d
        );
        assert_eq!(PaymentTerms::parse("Net 45").unwrap().to_string(), "Net 45");
        for bad in [
            "",
            "Net",
            "Net -1",
            "30",
            "20/40 Net 30",
            "0/10 Net 30",
            "Net 1000",
        ] {
            assert!(PaymentTerms::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vendor_input_reports_every_bad_field() {
        let input = VendorInput {
            name: Some(" ".into()),
            email: Some("nope".into()),
            payment_terms: Some("whenever".into()),
            status: Some("gone".into()),
            bank_account: Some(BankAccountInput {
                iban: Some("DE00".into()),
                bic: Some("x".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = input.into_vendor("ven-1".into(), Utc::now()).unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "email",
                "payment_terms",
                "status",
                "bank_account.iban",
                "bank_account.bic"
            ]
        );
    }

    #[test]
    fn vendor_status_transitions() {
        assert!(VendorStatus::Active
            .transition(VendorStatus::Suspended)
            .is_ok());
        assert!(VendorStatus::Inactive
            .transition(VendorStatus::Suspended)
            .is_err());
    }
}
