//! Turns raw candidates (from any source) into an [`InvoiceDraft`]: parses values, merges
//! agreeing readings and picks among competing ones (see the module docs of `extraction`).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::values::{parse_amount, parse_date_with, DateOrder};
use super::{
    DraftField, DraftSource, ExtractedField, ExtractedLine, ExtractionWarning, InvoiceDraft,
    WarningKind,
};
use crate::money::Currency;

/// At most this many distinct values per amount field enter the consistency search.
const MAX_AMOUNT_OPTIONS: usize = 6;

/// One reading of a summary field.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub field: DraftField,
    pub raw: String,
    pub confidence: Decimal,
    pub page: u32,
    /// Lower is a better label (text layer); 0 for Textract's typed fields.
    pub rank: u8,
    /// A currency stated beside the value (Textract `Currency.Code`).
    pub currency_code: Option<String>,
}

pub(crate) struct DraftBuilder {
    pub source: DraftSource,
    pub candidates: Vec<Candidate>,
    pub lines: Vec<ExtractedLine>,
    pub pages: u32,
    pub warnings: Vec<ExtractionWarning>,
    /// Used when no candidate states a currency (e.g. "All charges are in US Dollars").
    pub currency_hint: Option<(Currency, String, Decimal)>,
}

/// Agreeing readings of one value.
#[derive(Debug, Clone)]
struct Group<T> {
    value: T,
    raw: String,
    best: Decimal,
    lowest: Decimal,
    page: u32,
    rank: u8,
}

impl<T: Clone> Group<T> {
    fn field(&self) -> ExtractedField<T> {
        ExtractedField {
            value: self.value.clone(),
            raw_text: self.raw.clone(),
            confidence: self.lowest,
            page: self.page,
        }
    }
    /// Better label first, then higher confidence.
    fn key(&self) -> (std::cmp::Reverse<u8>, Decimal) {
        (std::cmp::Reverse(self.rank), self.best)
    }
}

fn group<T: PartialEq + Clone>(readings: Vec<(T, &Candidate)>) -> Vec<Group<T>> {
    let mut groups: Vec<Group<T>> = Vec::new();
    for (value, c) in readings {
        match groups.iter_mut().find(|g| g.value == value) {
            Some(g) => {
                g.lowest = g.lowest.min(c.confidence);
                if (c.rank, std::cmp::Reverse(c.confidence)) < (g.rank, std::cmp::Reverse(g.best)) {
                    g.raw.clone_from(&c.raw);
                    g.page = c.page;
                    g.best = c.confidence;
                    g.rank = c.rank;
                }
            }
            None => groups.push(Group {
                value,
                raw: c.raw.clone(),
                best: c.confidence,
                lowest: c.confidence,
                page: c.page,
                rank: c.rank,
            }),
        }
    }
    // Best first; a stable sort keeps document order among equals.
    groups.sort_by_key(|g| std::cmp::Reverse(g.key()));
    groups
}

/// Whitespace collapsed, stray punctuation at the ends removed (`"META\n-"` -> `"META"`).
pub(crate) fn clean_text(raw: &str) -> String {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | ',' | ';' | '|'))
        .to_string()
}

fn clean_tax_id(raw: &str) -> String {
    clean_text(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl DraftBuilder {
    pub fn new(source: DraftSource) -> Self {
        DraftBuilder {
            source,
            candidates: Vec::new(),
            lines: Vec::new(),
            pages: 0,
            warnings: Vec::new(),
            currency_hint: None,
        }
    }

    pub fn push(&mut self, field: DraftField, raw: &str, confidence: Decimal, page: u32, rank: u8) {
        if raw.trim().is_empty() {
            return;
        }
        self.candidates.push(Candidate {
            field,
            raw: raw.to_string(),
            confidence,
            page,
            rank,
            currency_code: None,
        });
    }

    fn of(&self, field: DraftField) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(move |c| c.field == field)
    }

    fn warn(&mut self, field: &str, kind: WarningKind, raw: &str, message: String) {
        self.warnings.push(ExtractionWarning {
            field: field.to_string(),
            kind,
            raw_text: raw.to_string(),
            message,
        });
    }

    fn conflict<T>(&mut self, field: DraftField, groups: &[Group<T>], by_consistency: bool) {
        if groups.len() < 2 {
            return;
        }
        let others: Vec<&str> = groups[1..].iter().map(|g| g.raw.as_str()).collect();
        let kind = if by_consistency {
            WarningKind::ConflictResolvedByConsistency
        } else {
            WarningKind::ConflictResolvedByConfidence
        };
        let message = format!(
            "{field}: chose `{}` over `{}` ({})",
            groups[0].raw.trim(),
            others.join("`, `"),
            if by_consistency {
                "consistent with the other amounts"
            } else {
                "best label and confidence"
            }
        );
        self.warn(field.as_str(), kind, &groups[0].raw, message);
    }

    fn text_field(
        &mut self,
        field: DraftField,
        clean: fn(&str) -> String,
    ) -> Option<ExtractedField<String>> {
        let readings: Vec<(String, &Candidate)> = self
            .of(field)
            .filter_map(|c| {
                let v = clean(&c.raw);
                (!v.is_empty()).then_some((v, c))
            })
            .collect();
        let groups = group(readings);
        let chosen = groups.first().map(Group::field);
        self.conflict(field, &groups, false);
        chosen
    }

    fn date_field(
        &mut self,
        field: DraftField,
        order: DateOrder,
    ) -> Option<ExtractedField<NaiveDate>> {
        let mut readings = Vec::new();
        let mut failures = Vec::new();
        for c in self.of(field) {
            match parse_date_with(&c.raw, order) {
                Ok(d) => readings.push((d, c)),
                Err(e) => failures.push((c.raw.clone(), e.to_string())),
            }
        }
        let groups = group(readings);
        let chosen = groups.first().map(Group::field);
        for (raw, message) in failures {
            self.warn(field.as_str(), WarningKind::UnparseableDate, &raw, message);
        }
        self.conflict(field, &groups, false);
        chosen
    }

    fn amount_groups(&mut self, field: DraftField) -> Vec<Group<Decimal>> {
        let mut readings = Vec::new();
        let mut failures = Vec::new();
        for c in self.of(field) {
            match parse_amount(&c.raw) {
                Ok(a) => readings.push((a.value, c)),
                Err(e) => failures.push((c.raw.clone(), e.to_string())),
            }
        }
        let groups = group(readings);
        for (raw, message) in failures {
            self.warn(
                field.as_str(),
                WarningKind::UnparseableAmount,
                &raw,
                message,
            );
        }
        groups
    }

    /// The document's currency: codes stated by Textract, then symbols or codes in the
    /// amounts' text, then the document-level hint. Readings vote; ties go to confidence.
    fn currency(&mut self) -> Option<ExtractedField<Currency>> {
        let mut readings: Vec<(Currency, Candidate)> = Vec::new();
        for c in self.candidates.iter() {
            if let Some(code) = &c.currency_code {
                match Currency::parse(code) {
                    Ok(cur) => readings.push((cur, c.clone())),
                    Err(e) => self.warnings.push(ExtractionWarning {
                        field: "currency".into(),
                        kind: WarningKind::UnknownCurrency,
                        raw_text: code.clone(),
                        message: e.to_string(),
                    }),
                }
            } else if c.field.is_amount() || c.field == DraftField::Currency {
                let found = if c.field == DraftField::Currency {
                    Currency::parse(&c.raw).ok()
                } else {
                    parse_amount(&c.raw).ok().and_then(|a| a.currency)
                };
                if let Some(cur) = found {
                    readings.push((cur, c.clone()));
                }
            }
        }
        if readings.is_empty() {
            return self
                .currency_hint
                .as_ref()
                .map(|(c, raw, conf)| ExtractedField {
                    value: *c,
                    raw_text: raw.clone(),
                    confidence: *conf,
                    page: 1,
                });
        }
        let mut votes: HashMap<Currency, usize> = HashMap::new();
        for (c, _) in &readings {
            *votes.entry(*c).or_default() += 1;
        }
        let groups = group(readings.iter().map(|(c, cand)| (*c, cand)).collect());
        let best = groups
            .iter()
            .max_by(|a, b| {
                let va = votes.get(&a.value).copied().unwrap_or(0);
                let vb = votes.get(&b.value).copied().unwrap_or(0);
                (va, a.best).cmp(&(vb, b.best))
            })
            .cloned();
        if groups.len() > 1 {
            if let Some(b) = &best {
                let others: Vec<String> = groups
                    .iter()
                    .filter(|g| g.value != b.value)
                    .map(|g| g.value.to_string())
                    .collect();
                self.warn(
                    "currency",
                    WarningKind::ConflictResolvedByConfidence,
                    &b.raw,
                    format!("currency: chose {} over {}", b.value, others.join(", ")),
                );
            }
        }
        best.map(|g| g.field())
    }

    pub fn build(mut self) -> InvoiceDraft {
        let mut draft = InvoiceDraft::empty(self.source);
        draft.currency = self.currency();
        let order = DateOrder::for_currency(draft.currency.as_ref().map(|c| c.value));

        draft.invoice_number = self.text_field(DraftField::InvoiceNumber, clean_text);
        draft.po_number = self.text_field(DraftField::PoNumber, clean_text);
        draft.vendor_name = self.text_field(DraftField::VendorName, clean_text);
        draft.vendor_tax_id = self.text_field(DraftField::VendorTaxId, clean_tax_id);
        draft.payment_terms = self.text_field(DraftField::PaymentTerms, clean_text);
        draft.invoice_date = self.date_field(DraftField::InvoiceDate, order);
        draft.due_date = self.date_field(DraftField::DueDate, order);

        let subtotals = self.amount_groups(DraftField::Subtotal);
        let taxes = self.amount_groups(DraftField::Tax);
        let totals = self.amount_groups(DraftField::Total);
        let dues = self.amount_groups(DraftField::AmountDue);
        let lines_sum = lines_total(&self.lines);
        let (s, t, tot, score) = choose_amounts(&subtotals, &taxes, &totals, lines_sum);
        let by_consistency = score > 0;
        draft.subtotal = s.map(|i| subtotals[i].field());
        draft.tax = t.map(|i| taxes[i].field());
        draft.total = tot.map(|i| totals[i].field());
        for (field, groups, chosen) in [
            (DraftField::Subtotal, &subtotals, s),
            (DraftField::Tax, &taxes, t),
            (DraftField::Total, &totals, tot),
        ] {
            if let Some(i) = chosen {
                let mut ordered = groups.clone();
                let first = ordered.remove(i);
                ordered.insert(0, first);
                self.conflict(field, &ordered, by_consistency);
            }
        }
        // The amount due that equals the total, else the best reading.
        let total_value = draft.total.as_ref().map(|t| t.value);
        let due_index = dues
            .iter()
            .position(|g| Some(g.value) == total_value)
            .or(if dues.is_empty() { None } else { Some(0) });
        if let Some(i) = due_index {
            draft.amount_due = Some(dues[i].field());
            let mut ordered = dues.clone();
            let first = ordered.remove(i);
            ordered.insert(0, first);
            self.conflict(
                DraftField::AmountDue,
                &ordered,
                Some(dues[i].value) == total_value,
            );
        }

        draft.pages = self
            .pages
            .max(self.candidates.iter().map(|c| c.page).max().unwrap_or(0))
            .max(self.lines.iter().map(|l| l.page).max().unwrap_or(0));
        draft.line_items = self.lines;
        draft.warnings = self.warnings;
        draft
    }
}

fn lines_total(lines: &[ExtractedLine]) -> Option<Decimal> {
    if lines.is_empty() {
        return None;
    }
    lines.iter().try_fold(Decimal::ZERO, |acc, l| {
        l.amount.and_then(|a| acc.checked_add(a))
    })
}

/// Picks one value per amount field. Score: +2 when subtotal + tax = total, +1 when the
/// lines sum to the subtotal (or, without one, to total - tax). Ties: better label and
/// confidence, i.e. the lowest indexes in the (sorted) groups.
fn choose_amounts(
    subtotals: &[Group<Decimal>],
    taxes: &[Group<Decimal>],
    totals: &[Group<Decimal>],
    lines_sum: Option<Decimal>,
) -> (Option<usize>, Option<usize>, Option<usize>, u8) {
    fn options(n: usize) -> Vec<Option<usize>> {
        if n == 0 {
            vec![None]
        } else {
            (0..n.min(MAX_AMOUNT_OPTIONS)).map(Some).collect()
        }
    }
    let mut best: (u8, usize, Option<usize>, Option<usize>, Option<usize>) =
        (0, usize::MAX, None, None, None);
    let mut first = true;
    for s in options(subtotals.len()) {
        for t in options(taxes.len()) {
            for tot in options(totals.len()) {
                let sv = s.map(|i| subtotals[i].value);
                let tv = t.map(|i| taxes[i].value);
                let totv = tot.map(|i| totals[i].value);
                let mut score = 0u8;
                if let (Some(a), Some(b), Some(c)) = (sv, tv, totv) {
                    if a.checked_add(b) == Some(c) {
                        score += 2;
                    }
                }
                if let Some(sum) = lines_sum {
                    let expected = sv.or_else(|| match (totv, tv) {
                        (Some(c), Some(b)) => c.checked_sub(b),
                        (Some(c), None) => Some(c),
                        _ => None,
                    });
                    if expected == Some(sum) {
                        score += 1;
                    }
                }
                let cost = s.unwrap_or(0) + t.unwrap_or(0) + tot.unwrap_or(0);
                if first || score > best.0 || (score == best.0 && cost < best.1) {
                    best = (score, cost, s, t, tot);
                    first = false;
                }
            }
        }
    }
    (best.2, best.3, best.4, best.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn consistent_total_beats_more_confident_one() {
        let mut b = DraftBuilder::new(DraftSource::AnalyzeExpense);
        b.push(DraftField::Subtotal, "$100.00", dec!(99), 1, 0);
        b.push(DraftField::Tax, "$10.00", dec!(99), 1, 0);
        b.push(DraftField::Total, "$100.00", dec!(99.9), 1, 0);
        b.push(DraftField::Total, "$110.00", dec!(90), 1, 0);
        let d = b.build();
        assert_eq!(d.total.unwrap().value, dec!(110.00));
        assert!(d
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::ConflictResolvedByConsistency));
    }

    #[test]
    fn agreeing_readings_keep_the_lowest_confidence() {
        let mut b = DraftBuilder::new(DraftSource::AnalyzeExpense);
        b.push(DraftField::VendorName, "META\n-", dec!(59.8), 1, 0);
        b.push(DraftField::VendorName, "META\n-", dec!(72.0), 2, 0);
        let d = b.build();
        let v = d.vendor_name.unwrap();
        assert_eq!(v.value, "META");
        assert_eq!(v.confidence, dec!(59.8));
        assert_eq!(v.page, 2);
    }
}
