//! Test support for the function crates (feature `testing`): a local backend in a temp dir
//! with a fixed clock and sequential ids, the reference data of `events/fixtures`, and the
//! sample events of `events/`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use p2p_adapters::local::{LocalBackend, OutboxKind};
use p2p_adapters::{Buckets, ChangeSet, Expect, Notification, Services, Write};
use p2p_core::clock::{FixedClock, SequentialIds};
use p2p_core::events::DomainEvent;
use p2p_core::purchase_order::PurchaseOrderInput;
use p2p_core::vendor::VendorInput;
use serde::Deserialize;
use serde_json::Value;

/// The repository's `events/` directory.
pub fn events_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events"))
}

/// Reads `events/<relative>` as JSON.
pub fn event(relative: &str) -> Value {
    let path = events_dir().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// 2024-11-15T10:00:00Z: the seed's sample due date (2024-12-31) is in the future.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 15, 10, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// A local backend in a fresh temp dir.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub backend: LocalBackend,
    pub clock: Arc<FixedClock>,
    pub services: Services,
}

#[derive(Deserialize)]
struct SeedData {
    vendors: Vec<SeedVendor>,
    purchase_orders: Vec<SeedPo>,
}

#[derive(Deserialize)]
struct SeedVendor {
    id: String,
    input: VendorInput,
}

#[derive(Deserialize)]
struct SeedPo {
    id: String,
    approved_by: Option<String>,
    input: PurchaseOrderInput,
}

impl TestEnv {
    /// An empty store.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = LocalBackend::open(dir.path()).expect("local backend");
        let clock = Arc::new(FixedClock::new(test_now()));
        let services = backend
            .services(Buckets::default())
            .with_clock_and_ids(clock.clone(), Arc::new(SequentialIds::default()));
        TestEnv {
            dir,
            backend,
            clock,
            services,
        }
    }

    /// A store holding `events/fixtures/seed-data.json`.
    pub async fn seeded() -> Self {
        let env = Self::empty();
        env.load_fixtures().await;
        env
    }

    pub async fn load_fixtures(&self) {
        let data: SeedData =
            serde_json::from_value(event("fixtures/seed-data.json")).expect("seed data shape");
        let now = test_now();
        let mut changes = ChangeSet::new();
        for v in data.vendors {
            let vendor = v.input.into_vendor(v.id, now).expect("fixture vendor");
            changes = changes.write(Write::PutVendor(vendor, Expect::Absent));
        }
        self.services.store.commit(changes).await.expect("vendors");
        for p in data.purchase_orders {
            let vendor = self
                .services
                .store
                .get_vendor(p.input.vendor_id.as_deref().unwrap_or_default())
                .await
                .expect("get vendor")
                .expect("fixture PO vendor");
            let mut po = p
                .input
                .into_purchase_order(p.id, &vendor, now)
                .expect("fixture PO");
            if let Some(approver) = p.approved_by {
                po = po.approve(&approver, now).expect("approve fixture PO");
            }
            po.version = 1;
            self.services
                .store
                .commit(ChangeSet::new().write(Write::PutPurchaseOrder(po, Expect::Absent)))
                .await
                .expect("PO");
        }
    }

    /// Replaces the services (e.g. with fault-injecting wrappers).
    pub fn with_services(mut self, f: impl FnOnce(Services) -> Services) -> Self {
        self.services = f(self.services);
        self
    }

    /// Every notification published so far.
    pub async fn notifications(&self) -> Vec<Notification> {
        self.outbox(OutboxKind::Notification)
            .await
            .iter()
            .map(|m| m.notification().expect("notification"))
            .collect()
    }

    /// Every domain event published so far.
    pub async fn published_events(&self) -> Vec<DomainEvent> {
        self.outbox(OutboxKind::Event)
            .await
            .iter()
            .map(|m| m.event().expect("event"))
            .collect()
    }

    async fn outbox(&self, kind: OutboxKind) -> Vec<p2p_adapters::local::OutboxMessage> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let batch = self
                .backend
                .outbox
                .read_outbox(Some(kind), after, 100)
                .await
                .expect("outbox");
            let Some(last) = batch.last() else { break };
            after = last.seq;
            all.extend(batch);
        }
        all
    }

    /// The audit actions recorded for an entity, oldest first.
    pub async fn audit_actions(&self, entity_id: &str) -> Vec<String> {
        let page = self
            .services
            .store
            .list_audit(entity_id, &p2p_adapters::PageRequest::first(100))
            .await
            .expect("audit");
        page.items.into_iter().map(|a| a.action).collect()
    }
}
