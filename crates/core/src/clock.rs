//! Time and ids come in through these small traits so every rule is deterministic in tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, virtual time).
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }
    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

/// RFC 3339, UTC, `Z`, whole seconds: the one timestamp format of the suite.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 3339 with milliseconds, for ordering keys (audit, status index).
pub fn rfc3339_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Source of new, random ids. Deterministic ids (a payment of an invoice) do not use it.
pub trait IdSource: Send + Sync {
    /// A new id with the given type prefix, e.g. `inv-…`.
    fn new_id(&self, prefix: &str) -> String;
}

/// Time-ordered UUID v7 ids (a millisecond timestamp, then random bits): ids made later
/// sort later, so a new row's key lands at the end of an index instead of on a random
/// page (in the embedded store, random keys cost a page write each). The id reveals when
/// it was made, which every record here carries in the open anyway.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidIds;

impl IdSource for UuidIds {
    fn new_id(&self, prefix: &str) -> String {
        format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
    }
}

/// Sequential ids for tests: `inv-000001`, `inv-000002`, ...
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn new_id(&self, prefix: &str) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}-{n:06}")
    }
}

/// Id prefixes, one per entity type.
pub mod prefix {
    pub const VENDOR: &str = "ven";
    pub const PURCHASE_ORDER: &str = "po";
    pub const INVOICE: &str = "inv";
    pub const PAYMENT: &str = "pay";
    pub const GOODS_RECEIPT: &str = "gr";
    pub const AUDIT: &str = "aud";
    pub const EVENT: &str = "evt";
    pub const PAYMENT_RUN: &str = "run";
}

/// A deterministic id derived from parts (UUID v5 over the joined parts): the same
/// parts always give the same id, which is what idempotency needs.
pub fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let name = parts.join("\u{1f}");
    format!(
        "{prefix}-{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).simple()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("pay", &["inv-1"]), derived_id("pay", &["inv-1"]));
        assert_ne!(derived_id("pay", &["inv-1"]), derived_id("pay", &["inv-2"]));
        assert_ne!(derived_id("x", &["a", "bc"]), derived_id("x", &["ab", "c"]));
    }

    #[test]
    fn new_ids_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..1_000).map(|_| UuidIds.new_id("aud")).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, ids);
        assert!(
            ids[0].starts_with("aud-") && ids[0].len() == 4 + 32,
            "{}",
            ids[0]
        );
    }

    #[test]
    fn timestamps_are_utc_z() {
        let t = DateTime::parse_from_rfc3339("2025-07-21T18:33:00+02:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(t), "2025-07-21T16:33:00Z");
    }
}
