//! Finding the vendor and the purchase order an extracted invoice names: the PO by its
//! number (then its vendor), the vendor by tax id, then by name. Reads only.

use p2p_adapters::{PageRequest, PurchaseOrderQuery, Services, StoreError, VendorQuery};
use p2p_core::extraction::InvoiceDraft;
use p2p_core::purchase_order::PurchaseOrder;
use p2p_core::vendor::Vendor;

/// Lists are read a page at a time; stop after this many records (a safety net, not a rule).
const MAX_SCANNED: usize = 10_000;

/// Letters and digits only, upper case: "DE 232 446 240" = "de232446240", "PO-0042" = "PO0042".
pub fn fold_id(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// A vendor name without case, punctuation or legal-form suffixes.
pub fn fold_name(s: &str) -> String {
    const SUFFIXES: &[&str] = &[
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
    let words: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_uppercase())
        .collect();
    let mut end = words.len();
    while end > 1 && SUFFIXES.contains(&words[end - 1].as_str()) {
        end -= 1;
    }
    words[..end].join(" ")
}

/// What resolution found.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub vendor: Option<Vendor>,
    pub purchase_order: Option<PurchaseOrder>,
    /// The PO found by number belongs to another vendor than the one found by tax id/name.
    pub vendor_conflict: Option<(String, String)>,
}

async fn all_vendors(services: &Services) -> Result<Vec<Vendor>, StoreError> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(100);
    loop {
        let p = services
            .store
            .list_vendors(&VendorQuery::default(), &page)
            .await?;
        out.extend(p.items);
        match p.next_cursor {
            Some(c) if out.len() < MAX_SCANNED => page.cursor = Some(c),
            _ => return Ok(out),
        }
    }
}

async fn find_po(
    services: &Services,
    po_number: &str,
    vendor_id: Option<&str>,
) -> Result<Option<PurchaseOrder>, StoreError> {
    let wanted = fold_id(po_number);
    if wanted.is_empty() {
        return Ok(None);
    }
    // By vendor when known (an index query), else every PO.
    let query = PurchaseOrderQuery {
        vendor_id: vendor_id.map(str::to_string),
        status: None,
    };
    let mut page = PageRequest::first(100);
    let mut seen = 0;
    loop {
        let p = services.store.list_purchase_orders(&query, &page).await?;
        seen += p.items.len();
        if let Some(po) = p
            .items
            .into_iter()
            .find(|po| fold_id(&po.po_number) == wanted || fold_id(&po.id) == wanted)
        {
            return Ok(Some(po));
        }
        match p.next_cursor {
            Some(c) if seen < MAX_SCANNED => page.cursor = Some(c),
            _ => return Ok(None),
        }
    }
}

/// Resolves the draft's vendor and PO against the store.
pub async fn resolve(services: &Services, draft: &InvoiceDraft) -> Result<Resolution, StoreError> {
    let tax_id = draft.vendor_tax_id.as_ref().map(|f| fold_id(&f.value));
    let name = draft.vendor_name.as_ref().map(|f| fold_name(&f.value));
    let mut vendor = None;
    if tax_id.as_deref().is_some_and(|t| !t.is_empty())
        || name.as_deref().is_some_and(|n| !n.is_empty())
    {
        let vendors = all_vendors(services).await?;
        if let Some(t) = tax_id.as_deref().filter(|t| !t.is_empty()) {
            vendor = vendors
                .iter()
                .find(|v| v.tax_id.as_deref().map(fold_id).as_deref() == Some(t))
                .cloned();
        }
        if vendor.is_none() {
            if let Some(n) = name.as_deref().filter(|n| !n.is_empty()) {
                vendor = vendors.iter().find(|v| fold_name(&v.name) == n).cloned();
            }
        }
    }
    let mut resolution = Resolution::default();
    if let Some(number) = draft.po_number.as_ref().map(|f| f.value.as_str()) {
        let mut po = find_po(services, number, vendor.as_ref().map(|v| v.id.as_str())).await?;
        if po.is_none() && vendor.is_some() {
            // The PO may be another vendor's: report that rather than "not found".
            po = find_po(services, number, None).await?;
        }
        if let Some(po) = po {
            match &vendor {
                Some(v) if v.id != po.vendor_id => {
                    resolution.vendor_conflict = Some((v.id.clone(), po.vendor_id.clone()));
                }
                Some(_) => {}
                None => vendor = services.store.get_vendor(&po.vendor_id).await?,
            }
            resolution.purchase_order = Some(po);
        }
    }
    resolution.vendor = vendor;
    Ok(resolution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_fold() {
        assert_eq!(fold_id("DE 232 446 240"), "DE232446240");
        assert_eq!(fold_id("po-0042"), "PO0042");
        assert_eq!(fold_name("Amazon.com, Inc."), "AMAZON COM");
        assert_eq!(fold_name("ACME Supplies GmbH"), "ACME SUPPLIES");
        assert_eq!(fold_name("AG"), "AG");
    }
}
