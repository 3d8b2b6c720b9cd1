//! [`LocalObjectStore`]: object bodies as files under `<data_dir>/objects/<bucket>/<key>`,
//! their metadata (content type, user metadata, tags, version id, ETag, size, time) as rows
//! of the `objects` table in the same SQLite database.
//!
//! Why rows rather than sidecar files: listing by prefix in key order with cursors is an
//! index range scan, a sidecar name can never collide with a real key, and replacing the
//! tags is one atomic update. A body is written to a temporary file beside its destination
//! (and its key's folders made) outside the lock, then renamed into place inside the
//! metadata row's write transaction, so readers see either the old object or the
//! new one, and concurrent writers (other processes too) are ordered by the database lock.
//! A row is the object's existence: a file without a row (a crash between rename and
//! commit) is invisible and overwritten by the next put.
//!
//! Why beside the destination rather than in one shared folder: creating a file locks its
//! folder, and a rename across folders locks both (and the file system's rename lock), so
//! one shared temporary folder made every concurrent put wait on every other.

use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use rusqlite::params;

use super::db::{Db, SqlResultExt};
use crate::cursor::CursorCodec;
use crate::error::StoreError;
use crate::ports::{
    ObjectInfo, ObjectMeta, ObjectStore, Page, PageRequest, PutReceipt, StoredObject,
};

/// The folder (inside the data directory) holding the buckets.
pub const OBJECTS_DIR: &str = "objects";
/// Name prefix of a body being written, in its destination folder (same folder, so the
/// final rename is atomic and locks only that folder). Reserved: no key segment may start
/// with it, so such a file is never an object (a crash can leave one; it is invisible).
const UPLOAD_PREFIX: &str = ".p2p-upload-";
const MAX_KEY_BYTES: usize = 1024;
/// Known folders remembered (forgotten all at once beyond this: a cache, not a record).
const KNOWN_DIRS_KEPT: usize = 4096;

#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    db: Arc<Db>,
    root: PathBuf,
    cursors: CursorCodec,
    /// Folders this store created or found, so a put into a known folder (the second
    /// file of a payment, every upload under `uploads/`) makes no `mkdir` calls. Only a
    /// hint: a folder that vanished is made again when creating the upload says so.
    dirs: Arc<Mutex<HashSet<PathBuf>>>,
}

fn dir_error(bucket: &str, key: &str, parent: &Path, e: std::io::Error) -> StoreError {
    match e.kind() {
        // A path component is an existing object's file (`a` vs `a/b`).
        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
            StoreError::Invalid(format!(
                "object key `{key}` nests under an existing object's key in bucket {bucket}"
            ))
        }
        _ => io_error("put object", parent, e),
    }
}

/// Creates `parent` (and its parents) unless it is known to exist.
fn make_dirs(
    dirs: &Mutex<HashSet<PathBuf>>,
    parent: &Path,
    bucket: &str,
    key: &str,
) -> Result<(), StoreError> {
    if dirs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(parent)
    {
        return Ok(());
    }
    std::fs::create_dir_all(parent).map_err(|e| dir_error(bucket, key, parent, e))?;
    let mut known = dirs.lock().unwrap_or_else(|p| p.into_inner());
    if known.len() >= KNOWN_DIRS_KEPT {
        known.clear();
    }
    known.insert(parent.to_path_buf());
    Ok(())
}

/// Writes `body` to a new temporary file in `parent` (made first unless known). A cached
/// folder removed behind the store's back is made again.
fn write_upload(
    dirs: &Mutex<HashSet<PathBuf>>,
    parent: &Path,
    body: &[u8],
    bucket: &str,
    key: &str,
) -> Result<tempfile::NamedTempFile, StoreError> {
    let op = "put object";
    make_dirs(dirs, parent, bucket, key)?;
    let create = || {
        tempfile::Builder::new()
            .prefix(UPLOAD_PREFIX)
            .tempfile_in(parent)
    };
    let mut tmp = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            dirs.lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(parent);
            make_dirs(dirs, parent, bucket, key)?;
            create()
        }
        other => other,
    }
    .map_err(|e| io_error(op, parent, e))?;
    // Unbuffered: write_all hands the bytes to the file itself, nothing is left to flush.
    tmp.write_all(body)
        .map_err(|e| io_error(op, tmp.path(), e))?;
    Ok(tmp)
}

/// Renames the written body onto `path` (under the write lock). Repairs an empty folder
/// left at `path` by a put that failed after making it (removed, with any upload a crash
/// left in it); a folder with objects in it means the key is a prefix of other keys.
fn place(
    tmp: tempfile::NamedTempFile,
    path: &Path,
    bucket: &str,
    key: &str,
) -> Result<(), StoreError> {
    let op = "put object";
    let tmp = match tmp.persist(path) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    match tmp.error.kind() {
        // The upload's folder went away meanwhile (a concurrent put of a key that is this
        // key's prefix, or a hand): nothing is changed, and a retry meets the new state.
        std::io::ErrorKind::NotFound => {
            return Err(StoreError::Transient {
                operation: op.into(),
                message: format!("the folder of {} was removed while writing", path.display()),
            })
        }
        std::io::ErrorKind::IsADirectory
        | std::io::ErrorKind::DirectoryNotEmpty
        | std::io::ErrorKind::AlreadyExists => {
            if !remove_folder_without_objects(path) && path.is_dir() {
                return Err(StoreError::Invalid(format!(
                    "object key `{key}` is a prefix of other keys in bucket {bucket}"
                )));
            }
        }
        _ => return Err(io_error(op, path, tmp.error)),
    }
    tmp.file
        .persist(path)
        .map(|_| ())
        .map_err(|e| io_error(op, path, e.error))
}

/// Removes `folder` if nothing but uploads (never objects) is in it; false otherwise.
fn remove_folder_without_objects(folder: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return false;
    };
    let mut uploads = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) if e.file_name().to_string_lossy().starts_with(UPLOAD_PREFIX) => {
                uploads.push(e.path())
            }
            _ => return false,
        }
    }
    uploads.iter().all(|u| std::fs::remove_file(u).is_ok()) && std::fs::remove_dir(folder).is_ok()
}

/// S3's bucket naming rules, which also keep a bucket one plain folder name.
fn check_bucket(bucket: &str) -> Result<(), StoreError> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if (3..=63).contains(&bucket.len())
        && ok_chars
        && ends_ok(bucket.bytes().next())
        && ends_ok(bucket.bytes().last())
        && !bucket.contains("..")
    {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "bucket name `{bucket}`: 3-63 lower-case letters, digits, `-` or `.`, starting and ending with a letter or digit"
        )))
    }
}

/// A key maps to exactly one path below its bucket folder: no absolute paths, no `.` or
/// `..` segments, no empty segments, no NUL or backslash.
fn check_key(key: &str) -> Result<(), StoreError> {
    let bad = |why: &str| {
        Err(StoreError::Invalid(format!(
            "object key `{}`: {why}",
            key.escape_debug()
        )))
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad("longer than 1024 bytes");
    }
    if key.contains('\0') {
        return bad("contains NUL");
    }
    if key.contains('\\') {
        return bad("contains a backslash");
    }
    if key.starts_with('/') {
        return bad("absolute path");
    }
    for segment in key.split('/') {
        match segment {
            "" => return bad("empty path segment"),
            "." | ".." => return bad("`.` or `..` path segment"),
            s if s.starts_with(UPLOAD_PREFIX) => {
                return bad(&format!(
                    "segments starting with `{UPLOAD_PREFIX}` are reserved"
                ))
            }
            _ => {}
        }
    }
    if Path::new(key).is_absolute() {
        return bad("absolute path");
    }
    Ok(())
}

fn object_id(bucket: &str, key: &str) -> String {
    format!("{bucket}/{key}")
}

fn not_found(bucket: &str, key: &str) -> StoreError {
    StoreError::NotFound {
        entity: "object",
        id: object_id(bucket, key),
    }
}

fn io_error(operation: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backend {
        operation: operation.to_string(),
        message: format!("{}: {e}", path.display()),
    }
}

/// The stored row of an object.
struct Row {
    size: u64,
    content_type: String,
    metadata: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    version_id: String,
    etag: String,
    last_modified: DateTime<Utc>,
}

fn decode_map(bucket: &str, key: &str, json: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        entity: "object",
        id: object_id(bucket, key),
        message: e.to_string(),
    })
}

fn encode_map(map: &BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(map).map_err(|e| StoreError::Invalid(format!("object metadata: {e}")))
}

const ROW_COLUMNS: &str =
    "key, size, content_type, metadata, tags, version_id, etag, last_modified";

fn read_row(bucket: &str, r: &rusqlite::Row<'_>) -> Result<(String, Row), StoreError> {
    let op = "read object metadata";
    let key: String = r.get(0).op(op)?;
    let size: i64 = r.get(1).op(op)?;
    let metadata: String = r.get(3).op(op)?;
    let tags: String = r.get(4).op(op)?;
    let modified: String = r.get(7).op(op)?;
    let corrupt = |message: String| StoreError::Corrupt {
        entity: "object",
        id: object_id(bucket, &key),
        message,
    };
    let row = Row {
        size: u64::try_from(size).map_err(|_| corrupt(format!("negative size {size}")))?,
        content_type: r.get(2).op(op)?,
        metadata: decode_map(bucket, &key, &metadata)?,
        tags: decode_map(bucket, &key, &tags)?,
        version_id: r.get(5).op(op)?,
        etag: r.get(6).op(op)?,
        last_modified: DateTime::parse_from_rfc3339(&modified)
            .map_err(|e| corrupt(format!("last_modified: {e}")))?
            .with_timezone(&Utc),
    };
    Ok((key, row))
}

fn get_row(
    conn: &rusqlite::Connection,
    bucket: &str,
    key: &str,
) -> Result<Option<Row>, StoreError> {
    let op = "read object metadata";
    let sql = format!("SELECT {ROW_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2");
    let mut stmt = conn.prepare_cached(&sql).op(op)?;
    let mut rows = stmt.query(params![bucket, key]).op(op)?;
    match rows.next().op(op)? {
        Some(r) => Ok(Some(read_row(bucket, r)?.1)),
        None => Ok(None),
    }
}

fn info(bucket: &str, key: String, row: &Row) -> ObjectInfo {
    ObjectInfo {
        bucket: bucket.to_string(),
        key,
        size: row.size,
        content_type: Some(row.content_type.clone()),
        last_modified: Some(row.last_modified),
        version_id: Some(row.version_id.clone()),
        metadata: row.metadata.clone(),
    }
}

fn etag_of(body: &[u8]) -> String {
    // S3's ETag of a single-part upload: the quoted hex MD5 of the body.
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

impl LocalObjectStore {
    /// Opens the object store of a data directory (its own database handle).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::with_db(Db::open(data_dir.as_ref())?, CursorCodec::from_env())
    }

    pub(crate) fn with_db(db: Arc<Db>, cursors: CursorCodec) -> Result<Self, StoreError> {
        let root = db.data_dir().join(OBJECTS_DIR);
        std::fs::create_dir_all(&root).map_err(|e| StoreError::Misconfigured {
            resource: format!("object folder {}", root.display()),
            env_var: "P2P_DATA_DIR",
            message: e.to_string(),
        })?;
        Ok(LocalObjectStore {
            db,
            root,
            cursors,
            dirs: Arc::default(),
        })
    }

    /// Replaces the cursor signing key.
    pub fn with_cursor_codec(mut self, cursors: CursorCodec) -> Self {
        self.cursors = cursors;
        self
    }

    /// Where an object's body lives (whether or not it exists).
    pub fn path_of(&self, bucket: &str, key: &str) -> Result<PathBuf, StoreError> {
        check_bucket(bucket)?;
        check_key(key)?;
        Ok(self.root.join(bucket).join(key))
    }
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
    ) -> Result<PutReceipt, StoreError> {
        let op = "put object";
        let path = self.path_of(bucket, key)?;
        let metadata = encode_map(&meta.metadata)?;
        let tags = encode_map(&meta.tags)?;
        let content_type = if meta.content_type.is_empty() {
            "application/octet-stream".to_string()
        } else {
            meta.content_type.clone()
        };
        let (bucket, key) = (bucket.to_string(), key.to_string());
        let (bucket_c, key_c) = (bucket.clone(), key.clone());
        let version_id = uuid::Uuid::new_v4().simple().to_string();
        let etag = etag_of(&body);
        let size = i64::try_from(body.len())
            .map_err(|_| StoreError::Invalid("object too large".into()))?;
        let receipt = PutReceipt {
            version_id: Some(version_id.clone()),
            etag: Some(etag.clone()),
        };

        // The body and the key's folders are written before taking the database lock; only
        // the rename happens under it.
        let parent = path
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| StoreError::Invalid(format!("object key `{key}` has no folder")))?;
        let dirs = Arc::clone(&self.dirs);
        let tmp = tokio::task::spawn_blocking(move || {
            write_upload(&dirs, &parent, &body, &bucket_c, &key_c)
        })
        .await
        .map_err(|e| StoreError::Backend {
            operation: op.into(),
            message: format!("blocking task failed: {e}"),
        })??;

        self.db
            .transaction(op, move |tx| {
                tx.prepare_cached(
                    "INSERT INTO objects (bucket, key, size, content_type, metadata, tags, version_id, etag, last_modified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size,
                        content_type = excluded.content_type, metadata = excluded.metadata,
                        tags = excluded.tags, version_id = excluded.version_id, etag = excluded.etag,
                        last_modified = excluded.last_modified",
                )
                .op(op)?
                .execute(params![
                    bucket,
                    key,
                    size,
                    content_type,
                    metadata,
                    tags,
                    version_id,
                    etag,
                    p2p_core::clock::rfc3339_millis(Utc::now())
                ])
                .op(op)?;
                // Last: if the rename fails the row update rolls back with the transaction.
                place(tmp, &path, &bucket, &key)
            })
            .await?;
        Ok(receipt)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<StoredObject, StoreError> {
        let path = self.path_of(bucket, key)?;
        let (b, k) = (bucket.to_string(), key.to_string());
        self.db
            .read("get object", move |conn| {
                let op = "get object";
                // A put from another process may land between reading the row and the
                // file: the ETag tells, and a second look gets a matching pair.
                for _ in 0..5 {
                    let row = get_row(conn, &b, &k)?.ok_or_else(|| not_found(&b, &k))?;
                    let body = match std::fs::read(&path) {
                        Ok(body) => body,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            return Err(StoreError::Corrupt {
                                entity: "object",
                                id: object_id(&b, &k),
                                message: format!("body file {} is missing", path.display()),
                            })
                        }
                        Err(e) => return Err(io_error(op, &path, e)),
                    };
                    if etag_of(&body) == row.etag {
                        return Ok(StoredObject {
                            info: info(&b, k.clone(), &row),
                            body,
                        });
                    }
                }
                Err(StoreError::Transient {
                    operation: op.into(),
                    message: format!("{} kept changing while being read", object_id(&b, &k)),
                })
            })
            .await
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let (b, k) = (bucket.to_string(), key.to_string());
        self.db
            .read("head object", move |conn| {
                Ok(get_row(conn, &b, &k)?.map(|row| info(&b, k.clone(), &row)))
            })
            .await
    }

    async fn get_object_tags(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let (b, k) = (bucket.to_string(), key.to_string());
        self.db
            .read("get object tags", move |conn| {
                get_row(conn, &b, &k)?
                    .map(|row| row.tags)
                    .ok_or_else(|| not_found(&b, &k))
            })
            .await
    }

    async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        check_bucket(bucket)?;
        check_key(key)?;
        let tags = encode_map(tags)?;
        let (b, k) = (bucket.to_string(), key.to_string());
        self.db
            .transaction("put object tags", move |tx| {
                let changed = tx
                    .prepare_cached("UPDATE objects SET tags = ?3 WHERE bucket = ?1 AND key = ?2")
                    .op("put object tags")?
                    .execute(params![b, k, tags])
                    .op("put object tags")?;
                if changed == 0 {
                    return Err(not_found(&b, &k));
                }
                Ok(())
            })
            .await
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<Page<ObjectInfo>, StoreError> {
        check_bucket(bucket)?;
        let scope = serde_json::to_string(&("objects", bucket, prefix))
            .map_err(|e| StoreError::Invalid(format!("list scope: {e}")))?;
        let after: Option<String> = match &page.cursor {
            Some(c) => Some(self.cursors.decode(&scope, c)?),
            None => None,
        };
        let limit = page.size();
        let (b, p) = (bucket.to_string(), prefix.to_string());
        let (items, last) = self
            .db
            .read("list objects", move |conn| {
                let op = "list objects";
                // Keys are compared byte-wise (UTF-8 order, as S3 lists them); every key
                // starting with the prefix sorts below prefix + U+10FFFF.
                let upper = format!("{p}\u{10FFFF}");
                let lower = match &after {
                    Some(a) if a.as_str() >= p.as_str() => a.clone(),
                    _ => p.clone(),
                };
                let sql = format!(
                    "SELECT {ROW_COLUMNS} FROM objects WHERE bucket = ?1 AND key >= ?2 AND key < ?3
                     AND (?4 IS NULL OR key > ?4) ORDER BY key LIMIT ?5"
                );
                let mut stmt = conn.prepare_cached(&sql).op(op)?;
                let mut rows = stmt
                    .query(params![b, lower, upper, after, i64::from(limit) + 1])
                    .op(op)?;
                let mut items = Vec::new();
                let mut more = false;
                while let Some(r) = rows.next().op(op)? {
                    if items.len() == limit as usize {
                        more = true;
                        break;
                    }
                    let (key, row) = read_row(&b, r)?;
                    items.push(info(&b, key, &row));
                }
                let last = if more {
                    items.last().map(|i: &ObjectInfo| i.key.clone())
                } else {
                    None
                };
                Ok((items, last))
            })
            .await?;
        let next_cursor = last.map(|k| self.cursors.encode(&scope, &k)).transpose()?;
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_their_bucket() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\0b",
            "a\\b",
            "..",
            ".",
            ".p2p-upload-x1",
            "a/.p2p-upload-x1/b",
        ] {
            assert!(
                matches!(check_key(bad), Err(StoreError::Invalid(_))),
                "{bad:?}"
            );
        }
        for good in [
            "a",
            "payments/pay-1/payment.xml",
            "uploads/2025/inv 001.pdf",
            "a..b",
            ".hidden",
            "a/.p2p-uploaded",
        ] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "ab",
            ".tmp",
            "Upper",
            "a..b",
            "-ab",
            "ab-",
            "a/b",
            &"a".repeat(64),
        ] {
            assert!(check_bucket(bad).is_err(), "{bad:?}");
        }
        assert!(check_bucket("p2p-payment-files").is_ok());
    }

    fn meta() -> ObjectMeta {
        ObjectMeta {
            content_type: "text/plain".into(),
            ..ObjectMeta::default()
        }
    }

    /// Puts `body` at `key` and reads it back.
    async fn put_and_read(store: &LocalObjectStore, bucket: &str, key: &str, body: &[u8]) {
        store
            .put_object(bucket, key, body.to_vec(), &meta())
            .await
            .unwrap();
        assert_eq!(store.get_object(bucket, key).await.unwrap().body, body);
    }

    /// Folders are made outside the write lock, so a failed put can leave an empty one
    /// behind, and a cached folder can vanish: neither may refuse a later valid put.
    #[tokio::test]
    async fn folders_made_outside_the_lock_never_refuse_a_valid_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalObjectStore::open(dir.path()).unwrap();
        let b = "p2p-test-bucket";
        // An empty folder where an object's file belongs (as a failed `a/b` put leaves).
        std::fs::create_dir_all(store.path_of(b, "a").unwrap()).unwrap();
        put_and_read(&store, b, "a", b"one").await;
        // The folder of a key written before is removed behind the store's back.
        store
            .put_object(b, "p/x", b"x".to_vec(), &meta())
            .await
            .unwrap();
        std::fs::remove_file(store.path_of(b, "p/x").unwrap()).unwrap();
        std::fs::remove_dir(store.path_of(b, "p").unwrap()).unwrap();
        put_and_read(&store, b, "p/y", b"y").await;
        // A folder holding only an upload a crash left behind is no key's prefix.
        let crashed = store.path_of(b, "c").unwrap();
        std::fs::create_dir_all(&crashed).unwrap();
        std::fs::write(crashed.join(".p2p-upload-abc123"), b"half").unwrap();
        put_and_read(&store, b, "c", b"c").await;
        // Still refused: a key under an object, an object over other keys.
        assert!(matches!(
            store.put_object(b, "a/b", b"n".to_vec(), &meta()).await,
            Err(StoreError::Invalid(m)) if m.contains("nests under")
        ));
        assert!(matches!(
            store.put_object(b, "p", b"n".to_vec(), &meta()).await,
            Err(StoreError::Invalid(m)) if m.contains("prefix of other keys")
        ));
        // And the refused put left no row behind.
        assert!(store.head_object(b, "p").await.unwrap().is_none());
    }
}
