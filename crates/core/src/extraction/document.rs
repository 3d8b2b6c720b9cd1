//! AnalyzeDocument (FORMS, TABLES) -> [`InvoiceDraft`], the fallback when AnalyzeExpense
//! finds nothing useful. KEY_VALUE_SET keys are matched by their printed label; a TABLE
//! whose header names line-item columns becomes line items; any other two-column table
//! (label | value) is read like key-value pairs.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::assemble::{clean_text, DraftBuilder};
use super::textract::{Block, BlockType, DocumentResponse};
use super::values::{parse_line_amount, parse_quantity};
use super::{DraftField, DraftSource, ExtractedLine, ExtractionWarning, InvoiceDraft, WarningKind};

/// Label text, folded: lower case, punctuation other than `#` and `°` to spaces.
pub(crate) fn fold_label(label: &str) -> String {
    let mapped: String = label
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '#' || c == '°' {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Printed labels of summary fields (folded), English, German and French.
pub(crate) fn field_for_label(folded: &str) -> Option<DraftField> {
    use DraftField::*;
    let field = match folded {
        "invoice number" | "invoice no" | "invoice #" | "invoice nr" | "invoice id"
        | "invoice num" | "inv no" | "inv #" | "invoice" | "bill number" | "bill no"
        | "receipt number" | "receipt no" | "rechnungsnr" | "rechnungsnummer" | "rechnung nr"
        | "facture n°" | "numéro de facture" | "n° de facture" | "no de facture" => {
            InvoiceNumber
        }
        "order number"
        | "order no"
        | "order #"
        | "po"
        | "po number"
        | "po no"
        | "po #"
        | "p o"
        | "p o #"
        | "p o number"
        | "purchase order"
        | "purchase order number"
        | "purchase order no"
        | "customer po"
        | "your order"
        | "bestellnummer"
        | "bestellung"
        | "bon de commande" => PoNumber,
        "invoice date"
        | "date"
        | "date of issue"
        | "issue date"
        | "issued"
        | "bill date"
        | "billing date"
        | "rechnungsdatum"
        | "datum"
        | "date de facture"
        | "date de facturation"
        | "date d émission" => InvoiceDate,
        "due date"
        | "payment due"
        | "payment due date"
        | "due"
        | "due by"
        | "pay by"
        | "payment due by"
        | "fällig"
        | "fällig am"
        | "zahlungsziel"
        | "date d échéance"
        | "échéance"
        | "date limite de paiement" => DueDate,
        "payment terms" | "terms" | "zahlungsbedingungen" | "conditions de paiement" => {
            PaymentTerms
        }
        "sub total" | "subtotal" | "net amount" | "net total" | "total net" | "total excl vat"
        | "amount before tax" | "zwischensumme" | "nettobetrag" | "summe netto" | "total ht"
        | "montant ht" => Subtotal,
        "tax" | "vat" | "gst" | "sales tax" | "tax amount" | "vat amount" | "mwst" | "ust"
        | "tva" | "montant tva" => Tax,
        "total" | "total due" | "grand total" | "invoice total" | "total amount"
        | "total incl vat" | "gesamtbetrag" | "rechnungsbetrag" | "summe" | "total ttc"
        | "montant ttc" | "total facture" => Total,
        "amount due" | "balance due" | "amount payable" | "balance" | "zu zahlen"
        | "zahlbetrag" | "somme à payer" | "net à payer" => AmountDue,
        "vat id"
        | "vat number"
        | "vat no"
        | "vat reg no"
        | "vat registration number"
        | "tax id"
        | "ustid"
        | "ust id"
        | "ust idnr"
        | "n° de tva"
        | "tva intracommunautaire"
        | "abn"
        | "gst number"
        | "gst no" => VendorTaxId,
        // Not "From:": its value is the whole address block.
        "vendor" | "vendor name" | "supplier" | "sold by" | "lieferant" | "fournisseur" => {
            VendorName
        }
        _ => return None,
    };
    Some(field)
}

/// A line-item column named by its header (folded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Description,
    Quantity,
    UnitPrice,
    Amount,
    ProductCode,
}

fn column_for_header(folded: &str) -> Option<Column> {
    use Column::*;
    Some(match folded {
        "description" | "item" | "items" | "service" | "services" | "product" | "details"
        | "item description" | "particulars" | "beschreibung" | "bezeichnung" | "artikel"
        | "désignation" | "libellé" => Description,
        "qty" | "quantity" | "hrs qty" | "qty hrs" | "hours" | "hrs" | "units" | "menge"
        | "anzahl" | "quantité" | "qté" => Quantity,
        "unit price" | "rate" | "price" | "rate price" | "unit cost" | "price each"
        | "einzelpreis" | "preis" | "vk preis" | "prix unitaire" => UnitPrice,
        "amount" | "total" | "line total" | "sub total" | "subtotal" | "net amount" | "betrag"
        | "gesamt" | "zeilenbetrag" | "montant" | "total ht" => Amount,
        "code" | "product code" | "item code" | "sku" | "item #" | "part number" | "part no"
        | "artikelnr" | "référence" => ProductCode,
        _ => return None,
    })
}

/// Blocks by id, and the text of any block (its own or its WORD children's).
struct Index<'a> {
    by_id: HashMap<&'a str, &'a Block>,
}

impl<'a> Index<'a> {
    fn new(blocks: &'a [Block]) -> Self {
        let by_id = blocks
            .iter()
            .filter_map(|b| b.id.as_deref().map(|id| (id, b)))
            .collect();
        Index { by_id }
    }

    fn text(&self, block: &Block) -> String {
        if let Some(t) = &block.text {
            return t.clone();
        }
        let words: Vec<&str> = block
            .related("CHILD")
            .filter_map(|id| self.by_id.get(id))
            .filter(|b| b.block_type == Some(BlockType::Word))
            .filter_map(|b| b.text.as_deref())
            .collect();
        words.join(" ")
    }
}

fn confidence(block: &Block) -> Decimal {
    block.confidence.unwrap_or(Decimal::ZERO)
}

/// Normalises AnalyzeDocument response pages (all of one job) into a draft.
pub fn draft_from_document(responses: &[DocumentResponse]) -> InvoiceDraft {
    let mut b = DraftBuilder::new(DraftSource::AnalyzeDocument);
    for r in responses {
        if let Some(p) = r.document_metadata.as_ref().and_then(|m| m.pages) {
            b.pages = b.pages.max(p);
        }
        let index = Index::new(&r.blocks);
        for block in &r.blocks {
            match block.block_type {
                Some(BlockType::KeyValueSet) if block.has_entity("KEY") => {
                    key_value(&index, block, &mut b)
                }
                Some(BlockType::Table) => table(&index, block, &mut b),
                _ => {}
            }
        }
    }
    b.build()
}

fn key_value(index: &Index<'_>, key: &Block, b: &mut DraftBuilder) {
    let label = fold_label(&index.text(key));
    let Some(field) = field_for_label(&label) else {
        return;
    };
    for value in key.related("VALUE").filter_map(|id| index.by_id.get(id)) {
        let text = index.text(value);
        let conf = confidence(key).min(confidence(value));
        b.push(field, &text, conf, key.page.unwrap_or(1), 0);
    }
}

fn table(index: &Index<'_>, table: &Block, b: &mut DraftBuilder) {
    let cells: Vec<&Block> = table
        .related("CHILD")
        .filter_map(|id| index.by_id.get(id).copied())
        .filter(|c| c.block_type == Some(BlockType::Cell))
        .collect();
    let page = table.page.unwrap_or(1);
    let max_col = cells
        .iter()
        .filter_map(|c| c.column_index)
        .max()
        .unwrap_or(0);
    let header_row = if cells.iter().any(|c| c.has_entity("COLUMN_HEADER")) {
        cells
            .iter()
            .filter(|c| c.has_entity("COLUMN_HEADER"))
            .filter_map(|c| c.row_index)
            .max()
            .unwrap_or(1)
    } else {
        1
    };
    let columns: HashMap<u32, Column> = cells
        .iter()
        .filter(|c| c.row_index == Some(header_row))
        .filter_map(|c| {
            let col = column_for_header(&fold_label(&index.text(c)))?;
            Some((c.column_index?, col))
        })
        .collect();
    let has = |k: Column| columns.values().any(|c| *c == k);
    if has(Column::Description) && (has(Column::Amount) || has(Column::UnitPrice)) {
        line_table(index, &cells, header_row, &columns, page, b);
    } else if max_col == 2 {
        // Label | value pairs, e.g. the totals box.
        let mut rows: HashMap<u32, (Option<&Block>, Option<&Block>)> = HashMap::new();
        for c in &cells {
            let (Some(r), Some(col)) = (c.row_index, c.column_index) else {
                continue;
            };
            let e = rows.entry(r).or_default();
            if col == 1 {
                e.0 = Some(c);
            } else {
                e.1 = Some(c);
            }
        }
        let mut ordered: Vec<_> = rows.into_iter().collect();
        ordered.sort_by_key(|(r, _)| *r);
        for (_, (label, value)) in ordered {
            let (Some(label), Some(value)) = (label, value) else {
                continue;
            };
            if let Some(field) = field_for_label(&fold_label(&index.text(label))) {
                let conf = confidence(label).min(confidence(value));
                b.push(field, &index.text(value), conf, page, 0);
            }
        }
    }
}

fn line_table(
    index: &Index<'_>,
    cells: &[&Block],
    header_row: u32,
    columns: &HashMap<u32, Column>,
    page: u32,
    b: &mut DraftBuilder,
) {
    let mut rows: Vec<u32> = cells
        .iter()
        .filter_map(|c| c.row_index)
        .filter(|r| *r > header_row)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    for row in rows {
        let line_no = b.lines.len();
        let mut line = ExtractedLine {
            description: None,
            quantity: None,
            unit_price: None,
            amount: None,
            product_code: None,
            confidence: Decimal::MAX,
            page,
        };
        let mut used = false;
        for cell in cells.iter().filter(|c| c.row_index == Some(row)) {
            let Some(col) = cell.column_index.and_then(|i| columns.get(&i)) else {
                continue;
            };
            let text = index.text(cell);
            if text.trim().is_empty() {
                continue;
            }
            let field = |name: &str| format!("line_items[{line_no}].{name}");
            let mut warn = |name: &str, kind, message: String| {
                b.warnings.push(ExtractionWarning {
                    field: field(name),
                    kind,
                    raw_text: text.clone(),
                    message,
                })
            };
            let ok = match col {
                Column::Description => {
                    line.description = Some(clean_text(&text));
                    true
                }
                Column::ProductCode => {
                    line.product_code = Some(clean_text(&text));
                    true
                }
                Column::Quantity => match parse_quantity(&text) {
                    Ok(q) => {
                        line.quantity = Some(q);
                        true
                    }
                    Err(e) => {
                        warn("quantity", WarningKind::UnparseableQuantity, e.to_string());
                        false
                    }
                },
                Column::UnitPrice | Column::Amount => match parse_line_amount(&text) {
                    Ok(a) => {
                        if *col == Column::Amount {
                            line.amount = Some(a.value);
                        } else {
                            line.unit_price = Some(a.value);
                        }
                        true
                    }
                    Err(e) => {
                        let name = if *col == Column::Amount {
                            "amount"
                        } else {
                            "unit_price"
                        };
                        warn(name, WarningKind::UnparseableAmount, e.to_string());
                        false
                    }
                },
            };
            if ok {
                used = true;
                line.confidence = line.confidence.min(confidence(cell));
            }
        }
        // A summary row inside the table ("Total") is not a line.
        let summary_row = line
            .description
            .as_deref()
            .is_some_and(|d| field_for_label(&fold_label(d)).is_some());
        if used && !summary_row && (line.description.is_some() || line.amount.is_some()) {
            b.lines.push(line);
        }
    }
}
