//! ISO 20022 `pain.001.001.09` customer credit transfer initiation for a batch of payments.
//!
//! One `PmtInf` per (requested execution date, currency), in date then currency-code order;
//! within a `PmtInf` the transactions keep the caller's order. Every text is cleaned (control
//! characters become spaces, surrounding whitespace trimmed), cut to its XSD length in
//! characters and escaped. Non-ASCII text is kept as UTF-8 (the XSD allows it).
//!
//! A payment that cannot be paid by an IBAN credit transfer is not rendered: it is listed in
//! [`Pain001File::excluded`] with an [`ExclusionReason`], so the caller learns which payments
//! were left out and why and can keep them for another channel (e.g. ACH). A batch with
//! nothing left to pay is an error, because the XSD requires at least one transaction.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::money::Currency;
use crate::payment::{Payment, PaymentStatus};
use crate::vendor::{BankAccount, Bic, Iban, Vendor};

use super::{is_xml_char, push_close, push_date, push_element, push_open, push_timestamp};

pub const PAIN001_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// XSD `Max35Text` / `Max140Text` lengths (characters).
const MAX35: usize = 35;
const MAX140: usize = 140;
/// XSD `totalDigits` of amounts (`ActiveOrHistoricCurrencyAndAmount`) and of `CtrlSum`.
const MAX_TOTAL_DIGITS: usize = 18;

/// The paying company: its name, account and bank (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub name: String,
    pub iban: Iban,
    pub bic: Bic,
}

/// Whom a vendor's payments go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creditor<'a> {
    pub name: &'a str,
    pub account: Option<&'a BankAccount>,
}

impl<'a> From<&'a Vendor> for Creditor<'a> {
    fn from(v: &'a Vendor) -> Self {
        Creditor {
            name: &v.name,
            account: v.bank_account.as_ref(),
        }
    }
}

/// Message-level inputs; both the id and the creation time are given, so the same inputs
/// always produce the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct Pain001Batch<'a> {
    /// `GrpHdr/MsgId`: 1 to 35 characters from the SWIFT character set (see [`end_to_end_id`]).
    pub message_id: &'a str,
    pub created_at: DateTime<Utc>,
    pub debtor: &'a Debtor,
}

/// One payment to transfer and the date it should be executed.
#[derive(Debug, Clone, Copy)]
pub struct TransferOrder<'a> {
    pub payment: &'a Payment,
    pub requested_execution_date: NaiveDate,
}

/// Why a payment was left out of a pain.001 file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExclusionReason {
    #[error("the payment appears more than once in the batch")]
    DuplicatePayment,
    #[error("the payment is {status}; only approved payments are transferred")]
    NotApproved { status: PaymentStatus },
    #[error("amount {amount} is not positive")]
    AmountNotPositive { amount: Decimal },
    #[error("amount {amount} has more decimals than {currency} allows")]
    TooManyDecimals { amount: Decimal, currency: Currency },
    #[error("amount {amount} exceeds the 18 digits pain.001 allows")]
    AmountTooLarge { amount: Decimal },
    #[error("vendor {vendor_id} is unknown")]
    UnknownVendor { vendor_id: String },
    #[error("vendor {vendor_id} has no bank account")]
    NoBankAccount { vendor_id: String },
    #[error(
        "vendor {vendor_id} has a US ACH account; a pain.001 IBAN transfer needs an IBAN and BIC"
    )]
    NotAnIbanAccount { vendor_id: String },
    #[error("vendor {vendor_id} has no name to put in Cdtr/Nm")]
    MissingCreditorName { vendor_id: String },
    #[error("end-to-end id {end_to_end_id} is already used by another payment in the file")]
    DuplicateEndToEndId { end_to_end_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcludedPayment {
    pub payment_id: String,
    pub vendor_id: String,
    pub reason: ExclusionReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedPayment {
    pub payment_id: String,
    /// `PmtId/EndToEndId`, which the bank reports back on statements.
    pub end_to_end_id: String,
    /// The `PmtInfId` of the block the transaction is in.
    pub payment_information_id: String,
}

/// A rendered file and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pain001File {
    pub xml: String,
    pub message_id: String,
    pub included: Vec<IncludedPayment>,
    pub excluded: Vec<ExcludedPayment>,
    /// `GrpHdr/CtrlSum`: the sum of all instructed amounts, irrespective of currency.
    pub control_sum: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pain001Error {
    #[error("message id `{value}` is invalid: {reason}")]
    InvalidMessageId { value: String, reason: &'static str },
    #[error("debtor name is empty")]
    MissingDebtorName,
    #[error("no payment can go into the pain.001 file ({} excluded)", excluded.len())]
    NothingToPay { excluded: Vec<ExcludedPayment> },
    #[error("control sum {control_sum} exceeds the 18 digits pain.001 allows; split the batch")]
    ControlSumTooLarge { control_sum: Decimal },
}

/// The SWIFT (FIN "x") character set that banks accept in references.
fn is_swift_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c)
}

/// The `EndToEndId` of a payment (max 35 characters), stable for a given payment id:
/// 1. an id of 1..=35 SWIFT characters without surrounding spaces is used as is;
/// 2. else, if dropping its `-`s leaves 1..=35 ASCII letters/digits, that (the suite's
///    `pay-<32 hex>` ids, 36 characters, become `pay<32 hex>`, reversible by eye);
/// 3. else `E2E` followed by the first 32 hex digits of the id's SHA-256.
///
/// Collisions (e.g. two long ids differing only in `-`) are caught when a file is built and
/// the later payment is excluded with [`ExclusionReason::DuplicateEndToEndId`].
pub fn end_to_end_id(payment_id: &str) -> Cow<'_, str> {
    // The SWIFT set is ASCII, so byte length equals character count on these paths.
    let bytes = payment_id.as_bytes();
    if (1..=MAX35).contains(&bytes.len())
        && bytes.iter().all(|&b| is_swift_char(char::from(b)))
        && payment_id.trim() == payment_id
    {
        return Cow::Borrowed(payment_id);
    }
    let kept = bytes.iter().filter(|&&b| b != b'-').count();
    if (1..=MAX35).contains(&kept)
        && bytes
            .iter()
            .all(|&b| b == b'-' || b.is_ascii_alphanumeric())
    {
        let mut compact = String::with_capacity(kept);
        compact.extend(payment_id.chars().filter(|&c| c != '-'));
        return Cow::Owned(compact);
    }
    let digest = Sha256::digest(payment_id.as_bytes());
    let mut id = String::with_capacity(MAX35);
    id.push_str("E2E");
    id.push_str(&hex::encode(&digest[..16]));
    Cow::Owned(id)
}

/// Text for a `MaxNText` element: control characters become spaces, surrounding whitespace
/// is trimmed, and the result is cut to `max` characters. `None` when nothing is left.
fn iso_text(raw: &str, max: usize) -> Option<Cow<'_, str>> {
    let bad = |c: char| c.is_control() || !is_xml_char(c);
    let trimmed = raw.trim();
    let text: Cow<'_, str> = if trimmed.chars().any(bad) {
        let cleaned: String = trimmed
            .chars()
            .map(|c| if bad(c) { ' ' } else { c })
            .collect();
        Cow::Owned(cleaned.trim().to_string())
    } else {
        Cow::Borrowed(trimmed)
    };
    if text.is_empty() {
        return None;
    }
    match text.char_indices().nth(max) {
        None => Some(text),
        Some((cut, _)) => {
            let cut_text = text[..cut].trim_end();
            Some(Cow::Owned(cut_text.to_string()))
        }
    }
}

fn digit_count(formatted: &str) -> usize {
    formatted.bytes().filter(u8::is_ascii_digit).count()
}

fn check_message_id(id: &str) -> Result<(), Pain001Error> {
    let bad = |reason| {
        Err(Pain001Error::InvalidMessageId {
            value: id.to_string(),
            reason,
        })
    };
    let n = id.chars().count();
    if n == 0 || n > MAX35 {
        return bad("must have 1 to 35 characters");
    }
    if !id.chars().all(is_swift_char) || id.trim() != id {
        return bad("may only use letters, digits, spaces inside and / - ? : ( ) . , ' +");
    }
    Ok(())
}

/// A payment that passed every check, ready to render.
struct Prepared<'p, 'v> {
    payment: &'p Payment,
    name: Cow<'v, str>,
    iban: &'v Iban,
    bic: &'v Bic,
    end_to_end_id: Cow<'p, str>,
    amount: String,
}

/// Renders one pain.001.001.09 file for `orders`, looking up each payment's creditor by
/// vendor id with `creditor_of`. Payments that cannot go into the file are reported in
/// [`Pain001File::excluded`], never silently dropped.
pub fn render_pain001<'p, 'v>(
    batch: &Pain001Batch<'_>,
    orders: &[TransferOrder<'p>],
    mut creditor_of: impl FnMut(&str) -> Option<Creditor<'v>>,
) -> Result<Pain001File, Pain001Error> {
    check_message_id(batch.message_id)?;
    let debtor_name =
        iso_text(&batch.debtor.name, MAX140).ok_or(Pain001Error::MissingDebtorName)?;

    let mut excluded = Vec::new();
    let mut prepared: Vec<Prepared<'p, 'v>> = Vec::with_capacity(orders.len());
    // (date, currency) -> indices into `prepared` and the block's control sum.
    let mut groups: BTreeMap<(NaiveDate, Currency), (Vec<usize>, Decimal)> = BTreeMap::new();
    let mut seen_payments: HashSet<&str> = HashSet::with_capacity(orders.len());
    let mut seen_e2e: HashSet<String> = HashSet::with_capacity(orders.len());

    for order in orders {
        let p = order.payment;
        let exclude = |reason| ExcludedPayment {
            payment_id: p.id.clone(),
            vendor_id: p.vendor_id.clone(),
            reason,
        };
        match prepare(p, &mut creditor_of, &mut seen_payments, &mut seen_e2e) {
            Ok(item) => {
                let group = groups
                    .entry((order.requested_execution_date, p.currency))
                    .or_insert_with(|| (Vec::new(), Decimal::ZERO));
                match group.1.checked_add(p.amount) {
                    Some(sum) => group.1 = sum,
                    None => {
                        return Err(Pain001Error::ControlSumTooLarge {
                            control_sum: group.1,
                        })
                    }
                }
                group.0.push(prepared.len());
                prepared.push(item);
            }
            Err(reason) => excluded.push(exclude(reason)),
        }
    }
    if prepared.is_empty() {
        return Err(Pain001Error::NothingToPay { excluded });
    }

    // Message control sum, written with the largest minor units among the currencies.
    let mut control_sum = Decimal::ZERO;
    let mut scale = 0;
    for ((_, currency), (_, sum)) in &groups {
        control_sum = control_sum
            .checked_add(*sum)
            .ok_or(Pain001Error::ControlSumTooLarge { control_sum })?;
        scale = scale.max(currency.minor_units());
    }
    let mut control_sum_text = control_sum;
    control_sum_text.rescale(scale);
    let control_sum_text = control_sum_text.to_string();
    if digit_count(&control_sum_text) > MAX_TOTAL_DIGITS {
        return Err(Pain001Error::ControlSumTooLarge { control_sum });
    }
    let mut group_sums = Vec::with_capacity(groups.len());
    for ((_, currency), (_, sum)) in &groups {
        let text = currency.format_amount(*sum);
        if digit_count(&text) > MAX_TOTAL_DIGITS {
            return Err(Pain001Error::ControlSumTooLarge { control_sum: *sum });
        }
        group_sums.push(text);
    }

    let debtor = batch.debtor;
    let mut out = String::with_capacity(1_024 + prepared.len() * 1_100);
    let mut included = Vec::with_capacity(prepared.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"");
    out.push_str(PAIN001_NAMESPACE);
    out.push_str("\">\n");
    push_open(&mut out, 1, "CstmrCdtTrfInitn");
    push_open(&mut out, 2, "GrpHdr");
    push_element(&mut out, 3, "MsgId", batch.message_id);
    out.push_str("      <CreDtTm>");
    push_timestamp(&mut out, batch.created_at);
    out.push_str("</CreDtTm>\n");
    push_number(&mut out, 3, "NbOfTxs", prepared.len());
    push_element(&mut out, 3, "CtrlSum", &control_sum_text);
    push_open(&mut out, 3, "InitgPty");
    push_element(&mut out, 4, "Nm", &debtor_name);
    push_close(&mut out, 3, "InitgPty");
    push_close(&mut out, 2, "GrpHdr");

    for (n, (((date, currency), (members, _)), sum_text)) in
        groups.iter().zip(&group_sums).enumerate()
    {
        let pmt_inf_id = payment_information_id(batch.message_id, n + 1);
        push_open(&mut out, 2, "PmtInf");
        push_element(&mut out, 3, "PmtInfId", &pmt_inf_id);
        push_element(&mut out, 3, "PmtMtd", "TRF");
        push_number(&mut out, 3, "NbOfTxs", members.len());
        push_element(&mut out, 3, "CtrlSum", sum_text);
        push_open(&mut out, 3, "ReqdExctnDt");
        out.push_str("        <Dt>");
        push_date(&mut out, *date);
        out.push_str("</Dt>\n");
        push_close(&mut out, 3, "ReqdExctnDt");
        push_open(&mut out, 3, "Dbtr");
        push_element(&mut out, 4, "Nm", &debtor_name);
        push_close(&mut out, 3, "Dbtr");
        push_account(&mut out, 3, "DbtrAcct", debtor.iban.as_str());
        push_agent(&mut out, 3, "DbtrAgt", debtor.bic.as_str());
        for &i in members {
            let item = &prepared[i];
            push_transaction(&mut out, item, *currency);
            included.push(IncludedPayment {
                payment_id: item.payment.id.clone(),
                end_to_end_id: item.end_to_end_id.to_string(),
                payment_information_id: pmt_inf_id.clone(),
            });
        }
        push_close(&mut out, 2, "PmtInf");
    }
    push_close(&mut out, 1, "CstmrCdtTrfInitn");
    out.push_str("</Document>\n");

    Ok(Pain001File {
        xml: out,
        message_id: batch.message_id.to_string(),
        included,
        excluded,
        control_sum,
    })
}

/// Checks one payment and gathers what its transaction needs, or says why it cannot be paid.
fn prepare<'p, 'v>(
    p: &'p Payment,
    creditor_of: &mut impl FnMut(&str) -> Option<Creditor<'v>>,
    seen_payments: &mut HashSet<&'p str>,
    seen_e2e: &mut HashSet<String>,
) -> Result<Prepared<'p, 'v>, ExclusionReason> {
    if !seen_payments.insert(&p.id) {
        return Err(ExclusionReason::DuplicatePayment);
    }
    if p.status != PaymentStatus::Approved {
        return Err(ExclusionReason::NotApproved { status: p.status });
    }
    if p.amount <= Decimal::ZERO {
        return Err(ExclusionReason::AmountNotPositive { amount: p.amount });
    }
    if p.currency.check_scale(p.amount).is_err() {
        return Err(ExclusionReason::TooManyDecimals {
            amount: p.amount,
            currency: p.currency,
        });
    }
    let amount = p.currency.format_amount(p.amount);
    if digit_count(&amount) > MAX_TOTAL_DIGITS {
        return Err(ExclusionReason::AmountTooLarge { amount: p.amount });
    }
    let vendor_id = || p.vendor_id.clone();
    let creditor = creditor_of(&p.vendor_id).ok_or_else(|| ExclusionReason::UnknownVendor {
        vendor_id: vendor_id(),
    })?;
    let (iban, bic) = match creditor.account {
        Some(BankAccount::Iban { iban, bic }) => (iban, bic),
        Some(BankAccount::UsAch(_)) => {
            return Err(ExclusionReason::NotAnIbanAccount {
                vendor_id: vendor_id(),
            })
        }
        None => {
            return Err(ExclusionReason::NoBankAccount {
                vendor_id: vendor_id(),
            })
        }
    };
    let name =
        iso_text(creditor.name, MAX140).ok_or_else(|| ExclusionReason::MissingCreditorName {
            vendor_id: vendor_id(),
        })?;
    let end_to_end_id = end_to_end_id(&p.id);
    if seen_e2e.contains(end_to_end_id.as_ref()) {
        return Err(ExclusionReason::DuplicateEndToEndId {
            end_to_end_id: end_to_end_id.into_owned(),
        });
    }
    seen_e2e.insert(end_to_end_id.to_string());
    Ok(Prepared {
        payment: p,
        name,
        iban,
        bic,
        end_to_end_id,
        amount,
    })
}

/// `PmtInfId`: the message id (cut if needed) and the block's ordinal, unique in the file.
fn payment_information_id(message_id: &str, n: usize) -> String {
    let suffix = format!("-{n}");
    let keep = MAX35.saturating_sub(suffix.len());
    let mut id: String = message_id.chars().take(keep).collect();
    id.push_str(&suffix);
    id
}

fn push_transaction(out: &mut String, item: &Prepared<'_, '_>, currency: Currency) {
    push_open(out, 3, "CdtTrfTxInf");
    push_open(out, 4, "PmtId");
    push_element(out, 5, "EndToEndId", &item.end_to_end_id);
    push_close(out, 4, "PmtId");
    push_open(out, 4, "Amt");
    out.push_str("          <InstdAmt Ccy=\"");
    out.push_str(currency.code());
    out.push_str("\">");
    out.push_str(&item.amount);
    out.push_str("</InstdAmt>\n");
    push_close(out, 4, "Amt");
    push_agent(out, 4, "CdtrAgt", item.bic.as_str());
    push_open(out, 4, "Cdtr");
    push_element(out, 5, "Nm", &item.name);
    push_close(out, 4, "Cdtr");
    push_account(out, 4, "CdtrAcct", item.iban.as_str());
    if let Some(reference) = iso_text(&item.payment.invoice_number, MAX140) {
        push_open(out, 4, "RmtInf");
        push_element(out, 5, "Ustrd", &reference);
        push_close(out, 4, "RmtInf");
    }
    push_close(out, 3, "CdtTrfTxInf");
}

fn push_number(out: &mut String, indent: usize, name: &str, n: usize) {
    push_element(out, indent, name, &n.to_string());
}

fn push_account(out: &mut String, indent: usize, name: &str, iban: &str) {
    push_open(out, indent, name);
    push_open(out, indent + 1, "Id");
    push_element(out, indent + 2, "IBAN", iban);
    push_close(out, indent + 1, "Id");
    push_close(out, indent, name);
}

fn push_agent(out: &mut String, indent: usize, name: &str, bic: &str) {
    push_open(out, indent, name);
    push_open(out, indent + 1, "FinInstnId");
    push_element(out, indent + 2, "BICFI", bic);
    push_close(out, indent + 1, "FinInstnId");
    push_close(out, indent, name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_to_end_ids_fit_35_characters_and_are_stable() {
        assert_eq!(end_to_end_id("pay-001"), "pay-001");
        let system_id = "pay-0123456789abcdef0123456789abcdef";
        assert_eq!(system_id.len(), 36);
        assert_eq!(
            end_to_end_id(system_id),
            "pay0123456789abcdef0123456789abcdef"
        );
        let odd = "payment/with_underscores_and_more_than_35_characters";
        let e2e = end_to_end_id(odd);
        assert_eq!(e2e.len(), 35);
        assert!(e2e.starts_with("E2E"));
        assert_eq!(e2e, end_to_end_id(odd));
        assert_ne!(
            e2e,
            end_to_end_id("payment/with_underscores_and_more_than_35_characterz")
        );
        assert!(end_to_end_id("ünïcode").starts_with("E2E"));
        assert!(end_to_end_id("").starts_with("E2E"));
    }

    #[test]
    fn iso_text_cleans_trims_and_cuts_by_characters() {
        assert_eq!(iso_text("  Acme  ", 140).as_deref(), Some("Acme"));
        assert_eq!(iso_text("a\tb\nc\u{0}", 140).as_deref(), Some("a b c"));
        assert_eq!(iso_text(" \u{1} ", 140), None);
        let long = "é".repeat(200);
        assert_eq!(iso_text(&long, 140).map(|t| t.chars().count()), Some(140));
    }

    #[test]
    fn payment_information_ids_stay_within_35_characters() {
        assert_eq!(payment_information_id("MSG-1", 2), "MSG-1-2");
        let long = "M".repeat(35);
        let id = payment_information_id(&long, 12);
        assert_eq!(id.chars().count(), 35);
        assert!(id.ends_with("-12"));
    }
}
