//! Finding the vendor and the purchase order an extracted invoice names: the PO by its
//! number (then its vendor), the vendor by tax id, then by name. Reads only, and only the
//! store's narrow lookups (one index query each; never a walk over a whole table). Tax ids,
//! names and PO numbers are compared by the normalised keys of `p2p_core::vendor` and
//! `p2p_core::purchase_order`, which the store indexes.

use p2p_adapters::{Services, StoreError};
use p2p_core::extraction::InvoiceDraft;
use p2p_core::purchase_order::PurchaseOrder;
use p2p_core::vendor::Vendor;

/// What resolution found.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub vendor: Option<Vendor>,
    pub purchase_order: Option<PurchaseOrder>,
    /// `(vendor found by tax id/name, vendor of the PO found by number)` when they differ.
    pub vendor_conflict: Option<(String, String)>,
}

/// The vendors the document names: by tax id when it has one that matches, else by name.
async fn vendor_candidates(
    services: &Services,
    draft: &InvoiceDraft,
) -> Result<Vec<Vendor>, StoreError> {
    if let Some(tax_id) = &draft.vendor_tax_id {
        let found = services.store.find_vendors_by_tax_id(&tax_id.value).await?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    match &draft.vendor_name {
        Some(name) => services.store.find_vendors_by_name(&name.value).await,
        None => Ok(Vec::new()),
    }
}

/// The POs the number names: by number, else (a document may print the PO's id) the PO
/// with that id.
async fn purchase_orders_numbered(
    services: &Services,
    number: &str,
) -> Result<Vec<PurchaseOrder>, StoreError> {
    let found = services
        .store
        .find_purchase_orders_by_number(number)
        .await?;
    if !found.is_empty() {
        return Ok(found);
    }
    let id = number.trim();
    if id.len() > 3 && id.is_char_boundary(3) && id[..3].eq_ignore_ascii_case("po-") {
        let by_id = services.store.get_purchase_order(id).await?;
        return Ok(by_id.into_iter().collect());
    }
    Ok(Vec::new())
}

/// Resolves the draft's vendor and PO against the store.
///
/// A PO whose vendor is among the vendors the document names wins (names are not unique,
/// and neither are PO numbers across vendors). Otherwise the first (oldest) of each is
/// taken: a named vendor with another vendor's PO is a `vendor_conflict`; a PO alone
/// brings its vendor.
pub async fn resolve(services: &Services, draft: &InvoiceDraft) -> Result<Resolution, StoreError> {
    let vendors = vendor_candidates(services, draft).await?;
    let purchase_orders = match &draft.po_number {
        Some(number) => purchase_orders_numbered(services, &number.value).await?,
        None => Vec::new(),
    };
    let agreeing = purchase_orders.iter().find_map(|po| {
        vendors
            .iter()
            .find(|v| v.id == po.vendor_id)
            .map(|v| (v.clone(), po.clone()))
    });
    if let Some((vendor, po)) = agreeing {
        return Ok(Resolution {
            vendor: Some(vendor),
            purchase_order: Some(po),
            vendor_conflict: None,
        });
    }
    let po = purchase_orders.into_iter().next();
    let named = vendors.into_iter().next();
    let mut resolution = Resolution::default();
    resolution.vendor = match (named, &po) {
        (Some(vendor), Some(po)) => {
            resolution.vendor_conflict = Some((vendor.id.clone(), po.vendor_id.clone()));
            Some(vendor)
        }
        (Some(vendor), None) => Some(vendor),
        (None, Some(po)) => services.store.get_vendor(&po.vendor_id).await?,
        (None, None) => None,
    };
    resolution.purchase_order = po;
    Ok(resolution)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use p2p_adapters::testing::{op, FlakyStore};
    use p2p_adapters::{ChangeSet, Expect, Write};
    use p2p_core::extraction::{DraftSource, ExtractedField};
    use p2p_core::purchase_order::PurchaseOrderInput;
    use p2p_core::vendor::VendorInput;
    use p2p_function_support::testing::{test_now, TestEnv};
    use rust_decimal::Decimal;
    use serde_json::json;

    use super::*;

    fn field(value: &str) -> Option<ExtractedField<String>> {
        Some(ExtractedField {
            value: value.to_string(),
            raw_text: value.to_string(),
            confidence: Decimal::ONE_HUNDRED,
            page: 1,
        })
    }

    fn draft(tax_id: Option<&str>, name: Option<&str>, po: Option<&str>) -> InvoiceDraft {
        let mut d = InvoiceDraft::empty(DraftSource::AnalyzeExpense);
        d.vendor_tax_id = tax_id.and_then(field);
        d.vendor_name = name.and_then(field);
        d.po_number = po.and_then(field);
        d
    }

    /// The local store behind a counting wrapper, so the tests see which calls were made.
    struct Env {
        _env: TestEnv,
        services: Services,
        store: Arc<FlakyStore>,
    }

    async fn env() -> Env {
        let env = TestEnv::empty();
        let store = Arc::new(FlakyStore::new(env.services.store.clone()));
        let mut services = env.services.clone();
        services.store = store.clone();
        Env {
            _env: env,
            services,
            store,
        }
    }

    async fn add_vendor(e: &Env, id: &str, name: &str, tax_id: Option<&str>) -> Vendor {
        let input: VendorInput = serde_json::from_value(json!({
            "name": name, "email": "ar@vendor.example", "tax_id": tax_id,
        }))
        .unwrap();
        let v = input.into_vendor(id.into(), test_now()).unwrap();
        e.services
            .store
            .commit(ChangeSet::new().write(Write::PutVendor(v.clone(), Expect::Absent)))
            .await
            .unwrap();
        v
    }

    async fn add_po(e: &Env, id: &str, number: &str, vendor: &Vendor) -> PurchaseOrder {
        let input: PurchaseOrderInput = serde_json::from_value(json!({
            "po_number": number, "requested_by": "buyer@company.example",
            "lines": [{"description": "Item", "quantity": "1", "unit_price": "10"}]
        }))
        .unwrap();
        let po = input
            .into_purchase_order(id.into(), vendor, test_now())
            .unwrap();
        e.services
            .store
            .commit(ChangeSet::new().write(Write::PutPurchaseOrder(po.clone(), Expect::Absent)))
            .await
            .unwrap();
        po
    }

    fn never_listed(e: &Env) {
        assert_eq!(e.store.calls(op::LIST_VENDORS), 0, "vendors were listed");
        assert_eq!(
            e.store.calls(op::LIST_PURCHASE_ORDERS),
            0,
            "POs were listed"
        );
    }

    fn ids(r: &Resolution) -> (Option<&str>, Option<&str>) {
        (
            r.vendor.as_ref().map(|v| v.id.as_str()),
            r.purchase_order.as_ref().map(|p| p.id.as_str()),
        )
    }

    #[tokio::test]
    async fn vendor_by_tax_id_then_name_and_po_by_number() {
        let e = env().await;
        let acme = add_vendor(&e, "ven-acme", "ACME Supplies GmbH", Some("DE 232 446 240")).await;
        let _other = add_vendor(&e, "ven-other", "Other Ltd", Some("GB 1")).await;
        let po = add_po(&e, "po-1", "PO-0042", &acme).await;

        // Tax id written differently; the name is wrong but the tax id wins.
        let r = resolve(
            &e.services,
            &draft(Some("de232446240"), Some("Other"), Some("po 0042")),
        )
        .await
        .unwrap();
        assert_eq!(ids(&r), (Some("ven-acme"), Some("po-1")));
        assert!(r.vendor_conflict.is_none());

        // No tax id match: by name, legal form ignored.
        let r = resolve(
            &e.services,
            &draft(Some("XX 9"), Some("Acme Supplies, Inc."), None),
        )
        .await
        .unwrap();
        assert_eq!(ids(&r), (Some("ven-acme"), None));

        // Only a PO number: the PO brings its vendor.
        let r = resolve(&e.services, &draft(None, None, Some("PO-0042")))
            .await
            .unwrap();
        assert_eq!(ids(&r), (Some("ven-acme"), Some(po.id.as_str())));

        // A printed PO id is accepted too.
        let r = resolve(&e.services, &draft(None, None, Some(" po-1 ")))
            .await
            .unwrap();
        assert_eq!(ids(&r), (Some("ven-acme"), Some("po-1")));

        // Nothing matches.
        let r = resolve(
            &e.services,
            &draft(Some("ZZ"), Some("Nobody"), Some("PO-9")),
        )
        .await
        .unwrap();
        assert_eq!(ids(&r), (None, None));
        never_listed(&e);
    }

    #[tokio::test]
    async fn another_vendors_po_is_a_conflict() {
        let e = env().await;
        let acme = add_vendor(&e, "ven-acme", "ACME Supplies GmbH", Some("DE 1")).await;
        let globex = add_vendor(&e, "ven-globex", "Globex", None).await;
        add_po(&e, "po-g", "PO-7", &globex).await;
        let _ = acme;
        let r = resolve(&e.services, &draft(Some("DE1"), None, Some("PO-7")))
            .await
            .unwrap();
        assert_eq!(ids(&r), (Some("ven-acme"), Some("po-g")));
        assert_eq!(
            r.vendor_conflict,
            Some(("ven-acme".to_string(), "ven-globex".to_string()))
        );
        never_listed(&e);
    }

    #[tokio::test]
    async fn shared_names_and_numbers_resolve_to_the_pair_that_agrees() {
        let e = env().await;
        // Two vendors of one name, each with a PO numbered PO-1.
        let first = add_vendor(&e, "ven-a", "Acme", None).await;
        let second = add_vendor(&e, "ven-b", "ACME Inc", None).await;
        add_po(&e, "po-a", "PO-1", &first).await;
        add_po(&e, "po-b", "PO 1", &second).await;
        // A third vendor has a PO-2; the name "Acme" matches only the first two.
        let third = add_vendor(&e, "ven-c", "Initech", None).await;
        add_po(&e, "po-c", "PO-2", &third).await;
        add_po(&e, "po-b2", "PO-2b", &second).await;

        let r = resolve(&e.services, &draft(None, Some("acme"), Some("PO-1")))
            .await
            .unwrap();
        assert_eq!(ids(&r), (Some("ven-a"), Some("po-a")), "the oldest pair");
        assert!(r.vendor_conflict.is_none());
        let r = resolve(&e.services, &draft(None, Some("Acme"), Some("PO-2B")))
            .await
            .unwrap();
        assert_eq!(
            ids(&r),
            (Some("ven-b"), Some("po-b2")),
            "the vendor owning the PO"
        );
        assert!(r.vendor_conflict.is_none());
        never_listed(&e);
    }

    #[tokio::test]
    async fn store_errors_propagate() {
        let e = env().await;
        let flaky = Arc::new(
            FlakyStore::new(e.services.store.clone()).fail_on(op::FIND_VENDORS_BY_TAX_ID, 1),
        );
        let mut services = e.services.clone();
        services.store = flaky;
        let err = resolve(&services, &draft(Some("DE1"), None, None))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Transient { .. }), "{err:?}");
    }
}
