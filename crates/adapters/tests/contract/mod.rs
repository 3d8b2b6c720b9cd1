//! The adapters' contract: one suite of behaviours every backend must show, run against
//! the local adapters (`tests/local_contract.rs`) and the aws adapters on a moto server
//! (`tests/aws_contract.rs`).
//!
//! Plugging a backend in:
//!
//! ```ignore
//! #[macro_use]
//! mod contract;
//! async fn make_backend() -> contract::Backend { /* build one */ }
//! contract_tests!(make_backend);
//! ```
//!
//! The macro expands to one `#[tokio::test]` per case. Cases never assume an empty
//! backend: every id, invoice number, object key and execution name is fresh (a uuid), and
//! lists over shared indexes (status, "all") are checked on the test's own items plus the
//! order of everything returned, so several cases may share one moto server.
#![allow(dead_code)] // each including test crate uses the whole suite, helpers vary

pub mod concurrency;
pub mod fixtures;
pub mod lookups;
pub mod messaging;
pub mod objects;
pub mod store;

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use p2p_adapters::{
    EventPublisher, Notification, Notifier, ObjectStore, Store, StoreError, WorkflowStarter,
};
use p2p_core::events::DomainEvent;

/// Reads back what a backend published, where it can (the local outbox; an SQS queue
/// subscribed to the topic / bus on aws). Absent: the cases only check that publishing
/// succeeded.
#[async_trait]
pub trait PublishedMessages: Send + Sync {
    /// Every notification published so far (or at least the recent ones), oldest first.
    async fn notifications(&self) -> Result<Vec<Notification>, StoreError>;
    /// Every domain event published so far (or at least the recent ones), oldest first.
    async fn events(&self) -> Result<Vec<DomainEvent>, StoreError>;
}

/// The adapters under test, as the functions see them.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub objects: Arc<dyn ObjectStore>,
    pub notifier: Arc<dyn Notifier>,
    pub events: Arc<dyn EventPublisher>,
    pub workflows: Arc<dyn WorkflowStarter>,
    /// An existing bucket the object cases may write under fresh prefixes.
    pub bucket: String,
    pub published: Option<Arc<dyn PublishedMessages>>,
    /// Whatever must outlive the test (a temporary directory, a server guard).
    pub keep_alive: Vec<Box<dyn Any + Send + Sync>>,
}

/// Expands to one `#[tokio::test]` per contract case, each with a backend from `$factory`
/// (an `async fn() -> Backend`).
#[macro_export]
macro_rules! contract_tests {
    ($factory:path) => {
        $crate::contract_tests!(@cases $factory;
            // store: CRUD, lists, pagination, cursors, audit
            vendor_crud,
            purchase_order_crud_and_goods_receipts,
            invoice_crud_and_number_lookup,
            deleting_an_invoice_releases_its_number,
            payment_crud,
            creating_an_existing_record_conflicts,
            stale_update_and_delete_conflict,
            vendors_listed_by_status_oldest_first,
            purchase_orders_listed_by_each_filter,
            invoices_listed_by_each_filter,
            updated_keys_move_an_invoice_between_lists,
            payments_listed_by_each_filter,
            pagination_has_no_duplicates_or_gaps,
            tampered_or_foreign_cursor_is_invalid,
            audit_listed_by_entity_oldest_first,
            // lookups by normalised key
            vendors_found_by_tax_id_whatever_the_spacing_and_case,
            vendors_found_by_name_whatever_the_legal_form,
            vendor_lookups_are_bounded_oldest_first,
            purchase_orders_found_by_number,
            lookups_of_unknown_or_empty_keys_find_nothing,
            // concurrency and atomicity
            concurrent_duplicate_submissions_store_one_invoice,
            concurrent_approvals_create_one_payment,
            concurrent_updates_with_one_version_one_wins,
            failed_change_set_leaves_nothing,
            failed_invoice_change_set_claims_no_number,
            // objects
            object_put_get_head,
            absent_object_is_not_found,
            object_tags_replace,
            objects_listed_by_prefix_in_pages,
            object_overwrite_returns_latest,
            // messaging and workflows
            notifications_are_accepted,
            events_are_accepted,
            workflow_started_once_per_name,
        );
    };
    (@cases $factory:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let backend = $factory().await;
                $crate::contract::run::$case(&backend).await;
            }
        )+
    };
}

/// Every case by name, so the macro can reach them through one path.
pub mod run {
    pub use super::concurrency::*;
    pub use super::lookups::*;
    pub use super::messaging::*;
    pub use super::objects::*;
    pub use super::store::*;
}
