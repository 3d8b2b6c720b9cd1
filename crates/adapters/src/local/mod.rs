//! The local adapters: everything the functions need, embedded in one data directory
//! (default `.p2p/`), safe for several processes at once.
//!
//! ```text
//! <data_dir>/p2p.sqlite3          records, invoice-number guards, audit log, object
//!                                 metadata, outbox, workflow executions (WAL mode)
//! <data_dir>/objects/<bucket>/<key>   object bodies
//!                                 (each written first as `.p2p-upload-*` beside it)
//! ```
//!
//! The same guarantees as the aws adapters: uniqueness by the database (primary keys and
//! the invoice-number guard table), each change set with its audit entries in one
//! `BEGIN IMMEDIATE` transaction, version checks in the `UPDATE`'s `WHERE`.

mod db;
mod objects;
mod outbox;
mod store;
mod workflows;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use db::{BUSY_TIMEOUT, DATABASE_FILE};
pub use objects::{LocalObjectStore, OBJECTS_DIR};
pub use outbox::{LocalOutbox, OutboxKind, OutboxMessage};
pub use store::{LocalStore, MAX_COMMIT_ITEMS};
pub use workflows::{
    execution_arn, ExecutionStatus, LocalWorkflows, StartClaim, WorkflowExecution,
};

use crate::cursor::CursorCodec;
use crate::error::StoreError;
use crate::services::{Buckets, Services};

/// The data directory used when none is given.
pub const DEFAULT_DATA_DIR: &str = ".p2p";

/// All local adapters of one data directory, sharing one database handle.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    pub data_dir: PathBuf,
    pub store: Arc<LocalStore>,
    pub objects: Arc<LocalObjectStore>,
    pub outbox: Arc<LocalOutbox>,
    pub workflows: Arc<LocalWorkflows>,
}

impl LocalBackend {
    /// Opens (creating and migrating as needed) the data directory, with the cursor key
    /// from `P2P_CURSOR_KEY`.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_cursor_codec(data_dir, CursorCodec::from_env())
    }

    pub fn open_with_cursor_codec(
        data_dir: impl AsRef<Path>,
        cursors: CursorCodec,
    ) -> Result<Self, StoreError> {
        let data_dir = data_dir.as_ref();
        let db = db::Db::open(data_dir)?;
        Ok(LocalBackend {
            data_dir: data_dir.to_path_buf(),
            store: Arc::new(LocalStore::with_db(Arc::clone(&db), cursors.clone())),
            objects: Arc::new(LocalObjectStore::with_db(Arc::clone(&db), cursors)?),
            outbox: Arc::new(LocalOutbox::with_db(Arc::clone(&db))),
            workflows: Arc::new(LocalWorkflows::with_db(db)),
        })
    }

    /// The adapters as the functions take them: the system clock and random ids.
    pub fn services(&self, buckets: Buckets) -> Services {
        let (clock, ids) = Services::system_clock_and_ids();
        Services {
            store: self.store.clone(),
            objects: self.objects.clone(),
            notifier: self.outbox.clone(),
            events: self.outbox.clone(),
            workflows: self.workflows.clone(),
            buckets,
            clock,
            ids,
        }
    }
}
