//! The one SQLite database of a data directory: opening (pragmas, idempotent migration),
//! a writer connection and a small pool of reader connections, and running work on the
//! blocking pool.
//!
//! WAL lets readers proceed while a writer holds the lock, so reads take their own
//! connection and never queue behind writes. Writers in this process share one connection
//! (SQLite admits one writer at a time anyway) and group-commit what queues up behind a
//! busy writer; writers in other processes are ordered by `BEGIN IMMEDIATE` plus the busy
//! timeout.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::error::StoreError;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "p2p.sqlite3";
/// How long a writer waits for another process's transaction before giving up
/// (then `StoreError::Transient`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle reader connections kept open: about as many as reads run at once, since a read
/// that finds none opens a connection (and parses the schema on its first statement).
const READERS_KEPT: usize = 16;
/// The checkpointer copies the WAL back into the database (and syncs both, as SQLite's
/// own checkpoint does under synchronous=NORMAL) at most this often while commits arrive,
/// so a commit is on disk within about this long plus one checkpoint.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);
/// WAL pages at which a committing writer checkpoints itself (SQLite's autocheckpoint):
/// a fallback for when the checkpointer is gone or keeps failing. Far above the restart
/// size, because under steady reads the WAL is only started over by the checkpointer's
/// restart: past this size every commit would run a checkpoint (and its two fsyncs) on
/// the commit path. Measured: at 10,000 pages the workflow bench's writer took 1.4–2.0 ms
/// per invoice, 0.9–1.1 ms without.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 4 * WAL_RESTART_FRAMES;
/// WAL size (frames, i.e. pages: 64 MiB at 4 KiB) from which the checkpointer starts the
/// WAL over (see `checkpoint`).
const WAL_RESTART_FRAMES: i64 = 16_384;
/// The longest a WAL restart waits for readers to leave the WAL, holding writers off
/// meanwhile; past it the restart is skipped until the next round.
const RESTART_WAIT: Duration = Duration::from_millis(100);
/// How often a waiting restart looks whether the readers have left.
const RESTART_POLL: Duration = Duration::from_micros(100);
/// Before a restart, extra passive checkpoints (at most this many) run until one had at
/// most `RESTART_REMAINDER_FRAMES` (4 MiB) to copy (see `checkpoint`).
const RESTART_CATCH_UP_ROUNDS: usize = 6;
const RESTART_REMAINDER_FRAMES: i64 = 1_024;
/// Bumped when the schema below changes; `migrate` brings older files forward.
/// 2: the vendor and purchase-order lookup keys (columns, indexes, backfilled).
/// 3: the audit log in arrival order (rebuilt from the WITHOUT ROWID table).
const SCHEMA_VERSION: i64 = 3;

/// Columns added after version 1: `CREATE TABLE IF NOT EXISTS` leaves an existing table
/// alone, so a version-1 file gets them by `ALTER TABLE` before the indexes on them.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("vendors", "tax_id_key"),
    ("vendors", "name_key"),
    ("purchase_orders", "po_number_key"),
];

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS vendors (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_sk TEXT NOT NULL,
    doc TEXT NOT NULL,
    -- Lookup keys (schema 2; NULL when the vendor has none): p2p_core::vendor::tax_id_key
    -- and name_key, indexed like the sparse DynamoDB indexes.
    tax_id_key TEXT,
    name_key TEXT
);
CREATE INDEX IF NOT EXISTS vendors_kind ON vendors (created_sk);
CREATE INDEX IF NOT EXISTS vendors_status ON vendors (status, created_sk);
CREATE INDEX IF NOT EXISTS vendors_tax_id ON vendors (tax_id_key, created_sk)
    WHERE tax_id_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS vendors_name ON vendors (name_key, created_sk)
    WHERE name_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS purchase_orders (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    vendor_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_sk TEXT NOT NULL,
    doc TEXT NOT NULL,
    -- Schema 2: p2p_core::purchase_order::po_number_key (NULL when empty).
    po_number_key TEXT
);
CREATE INDEX IF NOT EXISTS purchase_orders_kind ON purchase_orders (created_sk);
CREATE INDEX IF NOT EXISTS purchase_orders_vendor ON purchase_orders (vendor_id, created_sk);
CREATE INDEX IF NOT EXISTS purchase_orders_status ON purchase_orders (status, created_sk);
CREATE INDEX IF NOT EXISTS purchase_orders_number ON purchase_orders (po_number_key, created_sk)
    WHERE po_number_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS goods_receipts (
    id TEXT PRIMARY KEY NOT NULL,
    po_id TEXT NOT NULL,
    created_sk TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS goods_receipts_po ON goods_receipts (po_id, created_sk);

CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    vendor_id TEXT NOT NULL,
    po_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_sk TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS invoices_kind ON invoices (created_sk);
CREATE INDEX IF NOT EXISTS invoices_po ON invoices (po_id, created_sk);
CREATE INDEX IF NOT EXISTS invoices_vendor ON invoices (vendor_id, created_sk);
CREATE INDEX IF NOT EXISTS invoices_status ON invoices (status, created_sk);

-- One row per claimed `vendor_id#NORMALIZED-NUMBER` (Invoice::uniqueness_key).
CREATE TABLE IF NOT EXISTS invoice_guards (
    key TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL,
    invoice_id TEXT NOT NULL,
    vendor_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_sk TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_kind ON payments (created_sk);
CREATE INDEX IF NOT EXISTS payments_invoice ON payments (invoice_id, created_sk);
CREATE INDEX IF NOT EXISTS payments_vendor ON payments (vendor_id, created_sk);
CREATE INDEX IF NOT EXISTS payments_status ON payments (status, created_sk);

-- Schema 3: rows in arrival order (rowid), so an entry lands on the table's last page
-- instead of a random page by its random id (version 2 was WITHOUT ROWID keyed by id: a
-- page split or rewrite of a random full page per entry, a third of all pages written).
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    entity_id TEXT NOT NULL,
    timestamp_sk TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_entity ON audit_log (entity_id, timestamp_sk);

-- Object metadata; the bodies are files under objects/<bucket>/<key>.
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    version_id TEXT NOT NULL,
    etag TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('notification', 'event')),
    message_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_kind ON outbox (kind, seq);

CREATE TABLE IF NOT EXISTS workflow_executions (
    name TEXT PRIMARY KEY NOT NULL,
    execution_arn TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'running', 'paused', 'succeeded', 'failed')),
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    snapshot TEXT,
    history TEXT NOT NULL,
    version INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS workflow_executions_status ON workflow_executions (status);

CREATE TABLE IF NOT EXISTS workflow_task_tokens (
    token TEXT PRIMARY KEY NOT NULL,
    execution_name TEXT NOT NULL
        REFERENCES workflow_executions (name) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS workflow_task_tokens_execution
    ON workflow_task_tokens (execution_name);
"#;

fn add_missing_columns(tx: &rusqlite::Transaction<'_>) -> Result<(), rusqlite::Error> {
    for (table, column) in ADDED_COLUMNS {
        let table_exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [table],
            |r| r.get(0),
        )?;
        let column_exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
            [table, column],
            |r| r.get(0),
        )?;
        if table_exists && !column_exists {
            tx.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} TEXT"))?;
        }
    }
    Ok(())
}

/// A version-2 audit log (WITHOUT ROWID, keyed by id) is set aside as `audit_log_v2`,
/// without its index, so that `SCHEMA` creates the version-3 table and index; true when
/// there was one (then `refill_audit_log` copies it over). No-op on any other file.
fn set_aside_v2_audit_log(tx: &rusqlite::Transaction<'_>) -> Result<bool, rusqlite::Error> {
    let keyed_by_id: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('audit_log') WHERE name = 'id' AND pk = 1)",
        [],
        |r| r.get(0),
    )?;
    if keyed_by_id {
        tx.execute_batch(
            "DROP INDEX IF EXISTS audit_log_entity;
             ALTER TABLE audit_log RENAME TO audit_log_v2;",
        )?;
    }
    Ok(keyed_by_id)
}

/// Copies the set-aside version-2 entries into the new table, oldest first.
fn refill_audit_log(tx: &rusqlite::Transaction<'_>) -> Result<(), rusqlite::Error> {
    tx.execute_batch(
        "INSERT INTO audit_log (id, entity_id, timestamp_sk, doc)
             SELECT id, entity_id, timestamp_sk, doc FROM audit_log_v2 ORDER BY timestamp_sk, id;
         DROP TABLE audit_log_v2;",
    )
}

/// Fills the lookup keys of rows written before version 2 from their documents. Reads the
/// JSON fields rather than the typed records: a row that no longer parses must not stop
/// the database from opening (it just stays unfindable by key).
fn backfill_lookup_keys(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    use p2p_core::purchase_order::po_number_key;
    use p2p_core::vendor::{name_key, tax_id_key};
    let op = "backfill lookup keys";
    let field = |doc: &str, name: &str| -> Option<String> {
        serde_json::from_str::<serde_json::Value>(doc)
            .ok()
            .and_then(|v| v.get(name).and_then(|f| f.as_str()).map(str::to_string))
    };
    let non_empty = |k: String| Some(k).filter(|k| !k.is_empty());
    let rows = read_docs(tx, "SELECT id, doc FROM vendors").op(op)?;
    for (id, doc) in rows {
        let tax = field(&doc, "tax_id").and_then(|t| non_empty(tax_id_key(&t)));
        let name = field(&doc, "name").and_then(|n| non_empty(name_key(&n)));
        tx.execute(
            "UPDATE vendors SET tax_id_key = ?2, name_key = ?3 WHERE id = ?1",
            rusqlite::params![id, tax, name],
        )
        .op(op)?;
    }
    let rows = read_docs(tx, "SELECT id, doc FROM purchase_orders").op(op)?;
    for (id, doc) in rows {
        let number = field(&doc, "po_number").and_then(|n| non_empty(po_number_key(&n)));
        tx.execute(
            "UPDATE purchase_orders SET po_number_key = ?2 WHERE id = ?1",
            rusqlite::params![id, number],
        )
        .op(op)?;
    }
    Ok(())
}

fn read_docs(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
) -> Result<Vec<(String, String)>, rusqlite::Error> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A SQLite error as a store error: a lock held past the busy timeout is transient.
pub(crate) fn sql_error(operation: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Transient {
            operation: operation.to_string(),
            message: e.to_string(),
        },
        _ => StoreError::Backend {
            operation: operation.to_string(),
            message: e.to_string(),
        },
    }
}

/// Shorthand for `map_err(|e| sql_error(op, e))`.
pub(crate) trait SqlResultExt<T> {
    fn op(self, operation: &str) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for Result<T, rusqlite::Error> {
    fn op(self, operation: &str) -> Result<T, StoreError> {
        self.map_err(|e| sql_error(operation, e))
    }
}

pub(crate) struct Db {
    // First: fields drop in order, and the checkpointer's connection must close before
    // the others (the last one to close checkpoints and removes the WAL, as before).
    checkpointer: Option<Checkpointer>,
    data_dir: PathBuf,
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    queue: Mutex<VecDeque<Job>>,
    /// A drainer (see `drain`) is scheduled or running; at most one at a time, so the
    /// change sets that arrive while it commits wait in the queue and share its next
    /// commit instead of each caller's thread taking its own turn at the writer.
    draining: AtomicBool,
    /// The database file, for the checkpointer to flush ahead of a WAL restart. Last, so
    /// it closes after every connection: closing any descriptor of a file drops all of
    /// this process's POSIX locks on it, SQLite's included.
    file: Arc<std::fs::File>,
}

/// A thread with its own connection that runs `PRAGMA wal_checkpoint(PASSIVE)` after
/// commits, so the checkpoint's two fsyncs happen beside the writers instead of inside
/// the commit that crossed the autocheckpoint size (a passive checkpoint blocks neither
/// readers nor writers), and starts a grown WAL over (see `checkpoint`). Stopped and
/// joined when the `Db` drops.
struct Checkpointer {
    signal: Arc<(Mutex<CheckpointState>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct CheckpointState {
    /// Commits happened since the last checkpoint started.
    dirty: bool,
    stop: bool,
}

impl Checkpointer {
    fn start(path: &Path, file: Arc<std::fs::File>) -> Result<Checkpointer, String> {
        let conn = Connection::open(path).map_err(|e| e.to_string())?;
        configure(&conn, true).map_err(|e| e.to_string())?;
        conn.busy_handler(Some(restart_busy))
            .map_err(|e| e.to_string())?;
        let signal = Arc::new((Mutex::new(CheckpointState::default()), Condvar::new()));
        let shared = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("p2p-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&conn, &file, &shared))
            .map_err(|e| e.to_string())?;
        Ok(Checkpointer {
            signal,
            thread: Some(thread),
        })
    }

    fn committed(&self) {
        let (state, wake) = &*self.signal;
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        if !s.dirty {
            s.dirty = true;
            wake.notify_one();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (state, wake) = &*self.signal;
        state.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        wake.notify_one();
        if let Some(t) = self.thread.take() {
            // Joined: the connection closes before the writer's, as before the thread.
            let _ = t.join();
        }
    }
}

fn checkpoint_loop(
    conn: &Connection,
    file: &std::fs::File,
    signal: &(Mutex<CheckpointState>, Condvar),
) {
    let (state, wake) = signal;
    loop {
        {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            while !s.dirty && !s.stop {
                s = wake.wait(s).unwrap_or_else(|p| p.into_inner());
            }
            if s.stop {
                return;
            }
            s.dirty = false;
        }
        checkpoint(conn, file, WAL_RESTART_FRAMES);
        // Pace: commits arriving meanwhile are folded into the next checkpoint.
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        if s.stop {
            return;
        }
        let _ = wake.wait_timeout_while(s, CHECKPOINT_INTERVAL, |s| !s.stop);
    }
}

/// One round of the checkpointer: a passive checkpoint (blocks nobody), then a restart
/// when the WAL holds `restart_frames` or more. A failure (e.g. busy) is retried after
/// the next commit. `file`: the database file.
fn checkpoint(conn: &Connection, file: &std::fs::File, restart_frames: i64) {
    let Some(mut wal_frames) = passive_checkpoint(conn) else {
        return;
    };
    if wal_frames < restart_frames {
        return;
    }
    // Under steady load some reader is always on the WAL, so SQLite never gets to start
    // it over from the beginning and it only grows. RESTART holds new writers off while
    // it syncs and copies what is not yet in the database, then until the readers on the
    // WAL are done (at most RESTART_WAIT), so the next commit writes at its start again.
    // With writers waiting it would sync the WAL frames committed since the last passive
    // round, copy them, and sync the database file, which has every page copied since
    // the last restart to flush: measured on ext4, 35-125 ms per restart. So first,
    // rounds of a passive checkpoint and a flush of the database file, until a round
    // had little to copy: each takes about as long as its commits took to arrive, so
    // the rounds shrink quickly and leave the restart little of either.
    for _ in 0..RESTART_CATCH_UP_ROUNDS {
        let Some(now) = passive_checkpoint(conn) else {
            return;
        };
        if let Err(e) = file.sync_data() {
            tracing::debug!(error = %e, "flushing the database file failed");
        }
        let copied = now - wal_frames;
        wal_frames = now;
        if copied <= RESTART_REMAINDER_FRAMES {
            break;
        }
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
        tracing::debug!(error = %e, "WAL restart failed");
    }
}

/// The checkpointer's busy handler (only a restart waits): looks again every
/// `RESTART_POLL` for up to `RESTART_WAIT`. SQLite's own busy timeout sleeps 1, 2, 5, 10,
/// 15, ... ms between looks, so a reader that left after 4 ms would be noticed at 8 ms and
/// one that left after 9 ms at 18 ms, with the writers held off all along.
fn restart_busy(attempt: i32) -> bool {
    let waited = RESTART_POLL.saturating_mul(u32::try_from(attempt).unwrap_or(u32::MAX));
    if waited >= RESTART_WAIT {
        return false;
    }
    std::thread::sleep(RESTART_POLL);
    true
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: the frames in the WAL when it ran; None on failure.
fn passive_checkpoint(conn: &Connection) -> Option<i64> {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)) {
        Ok(frames) => Some(frames),
        Err(e) => {
            tracing::debug!(error = %e, "background WAL checkpoint failed");
            None
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

fn configure(conn: &Connection, writer: bool) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    // NORMAL in WAL mode: a commit survives a process crash; only a power loss may lose
    // the last transactions (never corrupts). The price of thousands of commits a second.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Statement journals and savepoint sub-journals (every group-commit unit is a
    // savepoint) in memory instead of a file created and deleted under /var/tmp for each:
    // they only serve rollbacks inside an open transaction, never crash recovery (the WAL
    // does), so durability is unchanged.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !writer {
        conn.pragma_update(None, "query_only", "ON")?;
    }
    Ok(())
}

impl Db {
    /// Opens (creating if needed) `<data_dir>/p2p.sqlite3`, switches it to WAL and brings
    /// the schema up to date. Safe to call from several processes at once.
    pub(crate) fn open(data_dir: &Path) -> Result<Arc<Db>, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Misconfigured {
            resource: format!("data directory {}", data_dir.display()),
            env_var: "P2P_DATA_DIR",
            message: e.to_string(),
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let open = "open local database";
        let writer = Connection::open(&path).map_err(|e| StoreError::Misconfigured {
            resource: format!("database {}", path.display()),
            env_var: "P2P_DATA_DIR",
            message: e.to_string(),
        })?;
        writer.busy_timeout(BUSY_TIMEOUT).op(open)?;
        // journal_mode is persistent in the file; setting it again is a no-op.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .op(open)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend {
                operation: open.into(),
                message: format!("could not switch {} to WAL (mode {mode})", path.display()),
            });
        }
        configure(&writer, true).op(open)?;
        // Only ever synced (never written through), so read access is enough.
        let file = std::fs::File::open(&path).map_err(|e| StoreError::Backend {
            operation: open.into(),
            message: format!("{}: {e}", path.display()),
        })?;
        let mut db = Db {
            data_dir: data_dir.to_path_buf(),
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            queue: Mutex::new(VecDeque::new()),
            draining: AtomicBool::new(false),
            checkpointer: None,
            file: Arc::new(file),
        };
        db.migrate()?;
        // Without the thread, SQLite's default autocheckpoint stays on the writer.
        match Checkpointer::start(&db.path, Arc::clone(&db.file)) {
            Ok(c) => {
                db.lock_writer()
                    .pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
                    .op(open)?;
                db.checkpointer = Some(c);
            }
            Err(e) => tracing::warn!(error = %e, "no background WAL checkpointer"),
        }
        Ok(Arc::new(db))
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let op = "migrate local database";
        let mut conn = self.lock_writer();
        // IMMEDIATE: two processes opening a fresh directory migrate one after the other.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .op(op)?;
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .op(op)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::Misconfigured {
                resource: format!("database {}", self.path.display()),
                env_var: "P2P_DATA_DIR",
                message: format!(
                    "schema version {current} is newer than this build's {SCHEMA_VERSION}"
                ),
            });
        }
        add_missing_columns(&tx).op(op)?;
        let old_audit_log = set_aside_v2_audit_log(&tx).op(op)?;
        tx.execute_batch(SCHEMA).op(op)?;
        if old_audit_log {
            refill_audit_log(&tx).op(op)?;
        }
        if current < 2 {
            backfill_lookup_keys(&tx)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .op(op)?;
        tx.commit().op(op)
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no open transaction (rusqlite rolls back on
        // drop), so the connection is still good.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_reader(&self) -> Result<Connection, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(conn) = pooled {
            return Ok(conn);
        }
        let op = "open reader connection";
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .op(op)?;
        configure(&conn, false).op(op)?;
        Ok(conn)
    }

    fn return_reader(&self, conn: Connection) {
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READERS_KEPT {
            pool.push(conn);
        }
    }

    /// Runs `f` with a reader connection on the blocking pool: for reads that may take
    /// long (file bodies, every row of a table).
    pub(crate) async fn read<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        f: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || db.read_inline(f))
            .await
            .map_err(|e| StoreError::Backend {
                operation: operation.to_string(),
                message: format!("blocking task failed: {e}"),
            })?
    }

    /// Runs `f` with a reader connection on the calling thread: for indexed reads of a
    /// bounded number of rows (a key lookup, one page). A WAL reader waits for no writer,
    /// and such a read takes tens of microseconds from the page cache, about what
    /// handing it to the blocking pool and back costs (two thread wake-ups); the pool's
    /// extra runnable threads also took CPU from the single writer. Measured in the
    /// workflow bench (16 and 64 in flight): 6-7% more invoices per second on ext4,
    /// 7-10% in memory.
    pub(crate) fn read_inline<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.take_reader()?;
        let result = f(&conn);
        self.return_reader(conn);
        result
    }

    /// `f` inside its own atomic unit on the writer, on the blocking pool: committed when
    /// it returns `Ok`, rolled back otherwise.
    ///
    /// Group commit: change sets that queue up while the drainer commits are applied by
    /// its next batch in one `BEGIN IMMEDIATE` transaction, each inside its own savepoint (a
    /// failing one is rolled back alone). Every caller learns its outcome only after the
    /// shared `COMMIT`, so what it sees is exactly what is durable; one commit (one WAL
    /// append of the shared index pages) serves many writers.
    pub(crate) async fn transaction<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        f: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (send, outcome) = tokio::sync::oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |tx| {
            let (result, poison) = match tx {
                Ok(tx) => match in_savepoint(tx, operation, f) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e)),
                },
                Err(e) => (Some(Err(e)), None),
            };
            let deliver: Deliver = Box::new(move |commit: Result<(), StoreError>| {
                let delivered = match (commit, result) {
                    (Ok(()), Some(r)) => r,
                    (Err(e), _) => Err(e),
                    (Ok(()), None) => Err(StoreError::Backend {
                        operation: operation.to_string(),
                        message: "savepoint failed".into(),
                    }),
                };
                // The caller may have gone away (cancelled); nothing to tell then.
                let _ = send.send(delivered);
            });
            (deliver, poison)
        });
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(job);
        self.ensure_drainer();
        // A unit that panics drops its sender: the caller gets this error, never a hang.
        outcome.await.map_err(|_| StoreError::Backend {
            operation: operation.to_string(),
            message: "the writer dropped the transaction".into(),
        })?
    }

    fn queue_is_empty(&self) -> bool {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Starts a drainer on the blocking pool unless one is already scheduled or running.
    fn ensure_drainer(self: &Arc<Self>) {
        if !self.draining.swap(true, Ordering::AcqRel) {
            let db = Arc::clone(self);
            // Detached: callers wait for their own outcome, not for the drainer.
            drop(tokio::task::spawn_blocking(move || db.drain()));
        }
    }

    /// Applies batches until the queue is empty, then steps down. A change set queued
    /// between the last batch and stepping down found `draining` set and started no
    /// drainer, so the queue is looked at once more after the flag falls.
    fn drain(self: Arc<Self>) {
        let _on_panic = DrainerPanicGuard(&self);
        loop {
            while self.run_queued() {}
            self.draining.store(false, Ordering::Release);
            if self.queue_is_empty() || self.draining.swap(true, Ordering::AcqRel) {
                return;
            }
        }
    }

    /// Takes the writer and applies up to `MAX_BATCH` queued change sets in one
    /// transaction; false when the queue was empty.
    fn run_queued(&self) -> bool {
        let mut conn = self.lock_writer();
        let jobs: Vec<Job> = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let n = q.len().min(MAX_BATCH);
            q.drain(..n).collect()
        };
        if jobs.is_empty() {
            return false;
        }
        let op = "commit batch";
        let begun = conn.transaction_with_behavior(TransactionBehavior::Immediate);
        match begun {
            Err(e) => {
                let e = sql_error(op, e);
                for job in jobs {
                    job(Err(e.clone())).0(Err(e.clone()));
                }
            }
            Ok(tx) => {
                let mut deliveries: Vec<Deliver> = Vec::with_capacity(jobs.len());
                let mut poisoned = None;
                let mut jobs = jobs.into_iter();
                for job in jobs.by_ref() {
                    let (deliver, poison) = job(Ok(&tx));
                    deliveries.push(deliver);
                    if poison.is_some() {
                        poisoned = poison;
                        break;
                    }
                }
                let committed = match poisoned {
                    // A unit could not be undone on its own: nothing of the batch is kept.
                    Some(e) => {
                        drop(tx);
                        Err(e)
                    }
                    None => tx.commit().op(op),
                };
                if committed.is_ok() {
                    if let Some(c) = &self.checkpointer {
                        c.committed();
                    }
                }
                for deliver in deliveries {
                    deliver(committed.clone());
                }
                // Units never run (after a poisoned one) learn the batch's failure.
                for job in jobs {
                    let e = committed
                        .clone()
                        .err()
                        .unwrap_or_else(|| StoreError::Transient {
                            operation: op.into(),
                            message: "batch aborted".into(),
                        });
                    job(Err(e.clone())).0(Err(e));
                }
            }
        }
        true
    }
}

/// Keeps the queue moving when a unit panics in the drainer (its batch's callers get
/// errors through their dropped senders): the flag falls and, if change sets are still
/// queued, a new drainer takes them.
struct DrainerPanicGuard<'a>(&'a Arc<Db>);

impl Drop for DrainerPanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.draining.store(false, Ordering::Release);
            if !self.0.queue_is_empty() && tokio::runtime::Handle::try_current().is_ok() {
                self.0.ensure_drainer();
            }
        }
    }
}

/// Most change sets one group commit applies.
const MAX_BATCH: usize = 64;

/// Hands a job's outcome to its caller once the batch's commit is known.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A queued unit of work: runs in the batch's transaction (or learns why it cannot).
/// Returns its delivery, and an error when its savepoint could not be undone (the whole
/// batch must then roll back).
type Job = Box<
    dyn for<'a, 'c> FnOnce(
            Result<&'a rusqlite::Transaction<'c>, StoreError>,
        ) -> (Deliver, Option<StoreError>)
        + Send,
>;

/// Runs `f` inside a savepoint: `Ok(result)` with its writes kept (`Ok`) or undone
/// (`Err`); `Err` when the savepoint itself failed and the transaction is unusable.
fn in_savepoint<T, F>(
    tx: &rusqlite::Transaction<'_>,
    operation: &str,
    f: F,
) -> Result<Result<T, StoreError>, StoreError>
where
    F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
{
    tx.prepare_cached("SAVEPOINT unit")
        .and_then(|mut s| s.execute([]))
        .op(operation)?;
    let result = f(tx);
    if result.is_err() {
        tx.prepare_cached("ROLLBACK TO unit")
            .and_then(|mut s| s.execute([]))
            .op(operation)?;
    }
    tx.prepare_cached("RELEASE unit")
        .and_then(|mut s| s.execute([]))
        .op(operation)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits well below the writer's own autocheckpoint size still reach the database
    /// file soon: the background checkpointer copied them out of the WAL.
    #[tokio::test]
    async fn the_checkpointer_copies_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let file = dir.path().join(DATABASE_FILE);
        let before = std::fs::metadata(&file).unwrap().len();
        let doc = "x".repeat(4000);
        for i in 0..50 {
            let doc = doc.clone();
            db.transaction("test", move |tx| insert_audit(tx, &format!("a{i}"), &doc))
                .await
                .unwrap();
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&file).unwrap().len() < before + 50 * 4000 {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing checkpointed into {}",
                file.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Dropping the last handle stops the thread (joined, no hang).
        drop(db);
    }

    /// Under steady reads SQLite never starts the WAL over on its own: a passive checkpoint
    /// stops at the oldest reader's snapshot, so the WAL is never all copied back. The
    /// checkpointer's restart waits that reader out (briefly, holding writers off) and
    /// the next commit writes at the WAL's start again.
    #[test]
    fn a_grown_wal_is_started_over_once_its_readers_leave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        // Made first so that it closes last, as in `Db` (an empty file is an empty database).
        let file = std::fs::File::create(&path).unwrap();
        let open = || {
            let c = Connection::open(&path).unwrap();
            configure(&c, true).unwrap();
            c
        };
        let writer = open();
        writer
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x TEXT NOT NULL)")
            .unwrap();
        let write = |n: usize| {
            for _ in 0..n {
                writer
                    .execute("INSERT INTO t VALUES (?1)", ["x".repeat(3000)])
                    .unwrap();
            }
        };
        let wal_frames = |c: &Connection| -> i64 {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
                .unwrap()
        };
        write(20);
        // A reader whose snapshot predates the next commits.
        let reader = open();
        reader.execute_batch("BEGIN").unwrap();
        let _: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        write(20);
        let grown = wal_frames(&writer);
        assert!(grown >= 40, "{grown}");
        let checkpointer = open();
        // Far longer than the reader takes, so a loaded machine cannot make this flaky.
        checkpointer.busy_timeout(Duration::from_secs(10)).unwrap();
        std::thread::scope(|s| {
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                reader.execute_batch("COMMIT").unwrap();
            });
            checkpoint(&checkpointer, &file, grown);
        });
        write(1);
        let after = wal_frames(&writer);
        assert!(
            after < grown,
            "WAL not started over: {after} frames after {grown}"
        );
    }

    #[test]
    fn a_waiting_restart_gives_up_after_restart_wait() {
        assert!(restart_busy(0));
        let last = i32::try_from(RESTART_WAIT.as_micros() / RESTART_POLL.as_micros()).unwrap();
        assert!(restart_busy(last - 1));
        assert!(!restart_busy(last));
        assert!(!restart_busy(i32::MAX));
    }

    fn insert_audit(tx: &rusqlite::Transaction<'_>, id: &str, doc: &str) -> Result<(), StoreError> {
        tx.execute(
            "INSERT INTO audit_log (id, entity_id, timestamp_sk, doc) VALUES (?1, 'e', 't', ?2)",
            [id, doc],
        )
        .op("test")?;
        Ok(())
    }

    /// Many concurrent units all commit, each exactly once, through the one drainer; a
    /// unit that panics fails its own caller (no hang) and the queue keeps moving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_units_commit_once_and_a_panicking_unit_wedges_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..200 {
            let db = Arc::clone(&db);
            set.spawn(async move {
                db.transaction("test", move |tx| {
                    if i == 77 {
                        panic!("unit {i} panics");
                    }
                    insert_audit(tx, &format!("a{i}"), "{}")
                })
                .await
            });
        }
        let (mut ok, mut failed) = (0, 0);
        // Bounded: a wedged queue must fail the test, not hang it.
        while let Some(joined) = tokio::time::timeout(Duration::from_secs(30), set.join_next())
            .await
            .expect("a unit never finished: the queue is wedged")
        {
            match joined.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::Backend { .. }) => failed += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        // The panicking unit's batch is rolled back with it: its other units fail too.
        assert!(failed >= 1, "the panicking unit must fail");
        assert_eq!(ok + failed, 200);
        let stored: i64 = db
            .read("test", |c| {
                c.query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
                    .op("test")
            })
            .await
            .unwrap();
        assert_eq!(stored, ok);
        // And the store still takes writes.
        tokio::time::timeout(
            Duration::from_secs(30),
            db.transaction("test", |tx| insert_audit(tx, "after", "{}")),
        )
        .await
        .expect("the store takes no writes after a panic")
        .unwrap();
    }
}
