//! [`LocalWorkflows`]: workflow executions in the `workflow_executions` table. Starting one
//! records it as `pending`; the CLI's ASL interpreter claims it, runs it, and saves its
//! state back (a paused execution's snapshot and task tokens included), so a later process
//! can resume it when a task token comes back.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use p2p_core::clock::rfc3339_millis;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::db::{Db, SqlResultExt};
use crate::error::{ConflictReason, StoreError};
use crate::ports::{StartOutcome, WorkflowStarter};
use crate::schema::STATE_MACHINE;

p2p_core::status_enum!(
    /// `pending -> running -> paused|succeeded|failed`, `paused -> running`.
    ExecutionStatus {
        Pending => "pending",
        Running => "running",
        Paused => "paused",
        Succeeded => "succeeded",
        Failed => "failed",
    }
);

/// The ARN of a local execution, shaped like Step Functions'.
pub fn execution_arn(name: &str) -> String {
    format!(
        "arn:aws:states:local:000000000000:execution:{}:{name}",
        STATE_MACHINE.default_name
    )
}

/// Step Functions' execution name rules: 1-80 characters, no whitespace, control
/// characters or ``< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /``.
fn check_name(name: &str) -> Result<(), StoreError> {
    const FORBIDDEN: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";
    let len = name.chars().count();
    if (1..=80).contains(&len)
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(c))
    {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "execution name `{}`: 1-80 characters, no whitespace or {FORBIDDEN}",
            name.escape_debug()
        )))
    }
}

/// One execution and everything needed to resume it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowExecution {
    pub name: String,
    pub execution_arn: String,
    pub status: ExecutionStatus,
    pub input: serde_json::Value,
    #[serde(default)]
    pub output: Option<serde_json::Value>,
    /// The failure (`{"error": ..., "cause": ...}`) of a failed execution.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    /// The interpreter's paused-execution snapshot (opaque here).
    #[serde(default)]
    pub snapshot: Option<serde_json::Value>,
    /// Task tokens the paused execution waits on; each finds this execution.
    #[serde(default)]
    pub task_tokens: Vec<String>,
    /// History events, oldest first (opaque here).
    #[serde(default)]
    pub history: Vec<serde_json::Value>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every save; a save from a stale copy is a conflict.
    pub version: u64,
}

/// What [`LocalWorkflows::start_claimed`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum StartClaim {
    /// Started (or found pending) and now `running` for the caller.
    Claimed(WorkflowExecution),
    /// Already claimed or finished by someone else: as stored.
    Existing(WorkflowExecution),
}

#[derive(Debug, Clone)]
pub struct LocalWorkflows {
    db: Arc<Db>,
}

const COLUMNS: &str =
    "name, execution_arn, status, input, output, error, snapshot, history, version, started_at, updated_at";

fn corrupt(name: &str, message: String) -> StoreError {
    StoreError::Corrupt {
        entity: "workflow execution",
        id: name.to_string(),
        message,
    }
}

fn json_col(
    name: &str,
    col: &str,
    text: Option<String>,
) -> Result<Option<serde_json::Value>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(name, format!("{col}: {e}"))))
        .transpose()
}

/// Histories are stored LZ4-compressed (a BLOB, its uncompressed size first): a Step
/// Functions history repeats every state's input and output, so it is most of what a
/// workflow writes (an invoice's: 64 KB of JSON, 3 KB compressed). TEXT rows are read as
/// JSON: stores written before, and the `[]` of an execution not saved since it started.
fn encode_history(name: &str, history: &[serde_json::Value]) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(history)
        .map_err(|e| StoreError::Invalid(format!("execution {name} history: {e}")))?;
    Ok(lz4_flex::block::compress_prepend_size(&json))
}

/// Largest history a row may claim to hold (a corrupt size must not allocate gigabytes).
const MAX_HISTORY_BYTES: usize = 256 << 20;

fn decode_history(
    name: &str,
    stored: rusqlite::types::ValueRef<'_>,
) -> Result<Vec<serde_json::Value>, StoreError> {
    use rusqlite::types::ValueRef;
    let history = |e: String| corrupt(name, format!("history: {e}"));
    let json = match stored {
        ValueRef::Text(text) => std::borrow::Cow::Borrowed(text),
        ValueRef::Blob(blob) => {
            let (size, _) =
                lz4_flex::block::uncompressed_size(blob).map_err(|e| history(e.to_string()))?;
            if size > MAX_HISTORY_BYTES {
                return Err(history(format!("claims {size} bytes uncompressed")));
            }
            std::borrow::Cow::Owned(
                lz4_flex::block::decompress_size_prepended(blob)
                    .map_err(|e| history(e.to_string()))?,
            )
        }
        other => return Err(history(format!("stored as {:?}", other.data_type()))),
    };
    serde_json::from_slice(&json).map_err(|e| history(e.to_string()))
}

fn time_col(name: &str, col: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(name, format!("{col}: {e}")))
}

fn read_execution(
    conn: &rusqlite::Connection,
    r: &rusqlite::Row<'_>,
) -> Result<WorkflowExecution, StoreError> {
    let op = "read workflow execution";
    let name: String = r.get(0).op(op)?;
    let status: String = r.get(2).op(op)?;
    let input: String = r.get(3).op(op)?;
    let version: i64 = r.get(8).op(op)?;
    let started: String = r.get(9).op(op)?;
    let updated: String = r.get(10).op(op)?;
    let mut tokens = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached(
                "SELECT token FROM workflow_task_tokens WHERE execution_name = ?1 ORDER BY rowid",
            )
            .op(op)?;
        let rows = stmt.query_map([&name], |r| r.get::<_, String>(0)).op(op)?;
        for t in rows {
            tokens.push(t.op(op)?);
        }
    }
    Ok(WorkflowExecution {
        execution_arn: r.get(1).op(op)?,
        status: status
            .parse()
            .map_err(|_| corrupt(&name, format!("unknown status `{status}`")))?,
        input: serde_json::from_str(&input).map_err(|e| corrupt(&name, format!("input: {e}")))?,
        output: json_col(&name, "output", r.get(4).op(op)?)?,
        error: json_col(&name, "error", r.get(5).op(op)?)?,
        snapshot: json_col(&name, "snapshot", r.get(6).op(op)?)?,
        task_tokens: tokens,
        history: decode_history(&name, r.get_ref(7).op(op)?)?,
        started_at: time_col(&name, "started_at", &started)?,
        updated_at: time_col(&name, "updated_at", &updated)?,
        version: u64::try_from(version)
            .map_err(|_| corrupt(&name, format!("version {version}")))?,
        name,
    })
}

/// Executions matching `filter` (a SQL condition on `?1`, or none), oldest first.
fn query_executions(
    conn: &rusqlite::Connection,
    filter: Option<(&str, &str)>,
) -> Result<Vec<WorkflowExecution>, StoreError> {
    let op = "list workflow executions";
    let (sql, arg) = match filter {
        Some((cond, arg)) => (
            format!("SELECT {COLUMNS} FROM workflow_executions WHERE {cond} ORDER BY rowid"),
            Some(arg),
        ),
        None => (
            format!("SELECT {COLUMNS} FROM workflow_executions ORDER BY rowid"),
            None,
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).op(op)?;
    let mut rows = match arg {
        Some(a) => stmt.query([a]).op(op)?,
        None => stmt.query([]).op(op)?,
    };
    let mut out = Vec::new();
    while let Some(r) = rows.next().op(op)? {
        out.push(read_execution(conn, r)?);
    }
    Ok(out)
}

/// A row `insert_new` stores: no output, error, snapshot or history yet.
struct NewExecution<'a> {
    name: &'a str,
    arn: &'a str,
    input: &'a str,
    status: ExecutionStatus,
    version: u64,
    now: &'a str,
}

/// Stores a new execution; false (and nothing written) when the name is taken.
fn insert_new(tx: &Transaction<'_>, op: &str, new: &NewExecution<'_>) -> Result<bool, StoreError> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO workflow_executions
                (name, execution_arn, status, input, history, version, started_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, '[]', ?5, ?6, ?6) ON CONFLICT (name) DO NOTHING",
        )
        .op(op)?
        .execute(params![
            new.name,
            new.arn,
            new.status.as_str(),
            new.input,
            new.version,
            new.now
        ])
        .op(op)?;
    Ok(inserted == 1)
}

/// Moves the execution `name` from `pending` to `running`; false when it is not pending.
fn claim_pending(
    tx: &Transaction<'_>,
    op: &str,
    name: &str,
    now: &str,
) -> Result<bool, StoreError> {
    let changed = tx
        .prepare_cached(
            "UPDATE workflow_executions SET status = 'running', version = version + 1, updated_at = ?2
             WHERE name = ?1 AND status = 'pending'",
        )
        .op(op)?
        .execute(params![name, now])
        .op(op)?;
    Ok(changed == 1)
}

fn one_execution(
    conn: &rusqlite::Connection,
    cond: &str,
    arg: &str,
) -> Result<Option<WorkflowExecution>, StoreError> {
    Ok(query_executions(conn, Some((cond, arg)))?
        .into_iter()
        .next())
}

fn to_text(name: &str, col: &str, v: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Invalid(format!("execution {name} {col}: {e}")))
}

fn replace_tokens(tx: &Transaction<'_>, name: &str, tokens: &[String]) -> Result<(), StoreError> {
    let op = "save workflow execution";
    tx.prepare_cached("DELETE FROM workflow_task_tokens WHERE execution_name = ?1")
        .op(op)?
        .execute([name])
        .op(op)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO workflow_task_tokens (token, execution_name) VALUES (?1, ?2) ON CONFLICT (token) DO NOTHING",
        )
        .op(op)?;
    for t in tokens {
        if insert.execute(params![t, name]).op(op)? == 0 {
            return Err(StoreError::Conflict {
                entity: "task token",
                id: t.clone(),
                reason: ConflictReason::AlreadyExists,
            });
        }
    }
    Ok(())
}

impl LocalWorkflows {
    /// Opens the executions of a data directory (its own database handle).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self::with_db(Db::open(data_dir.as_ref())?))
    }

    pub(crate) fn with_db(db: Arc<Db>) -> Self {
        LocalWorkflows { db }
    }

    pub async fn get_execution(&self, name: &str) -> Result<Option<WorkflowExecution>, StoreError> {
        let name = name.to_string();
        self.db
            .read("get workflow execution", move |c| {
                one_execution(c, "name = ?1", &name)
            })
            .await
    }

    /// Every execution, oldest first.
    pub async fn list_executions(&self) -> Result<Vec<WorkflowExecution>, StoreError> {
        self.db
            .read("list workflow executions", |c| query_executions(c, None))
            .await
    }

    /// Started, not yet claimed by a runner, oldest first.
    pub async fn pending_executions(&self) -> Result<Vec<WorkflowExecution>, StoreError> {
        self.db
            .read("list pending executions", |c| {
                query_executions(c, Some(("status = ?1", ExecutionStatus::Pending.as_str())))
            })
            .await
    }

    /// The execution waiting on `token`, if any.
    pub async fn find_by_task_token(
        &self,
        token: &str,
    ) -> Result<Option<WorkflowExecution>, StoreError> {
        let token = token.to_string();
        self.db
            .read("find execution by task token", move |c| {
                one_execution(
                    c,
                    "name = (SELECT execution_name FROM workflow_task_tokens WHERE token = ?1)",
                    &token,
                )
            })
            .await
    }

    /// Moves a pending execution to `running` for this caller; `None` when it is not
    /// pending (another runner, possibly another process, claimed it first).
    pub async fn claim_execution(
        &self,
        name: &str,
    ) -> Result<Option<WorkflowExecution>, StoreError> {
        let name = name.to_string();
        let now = rfc3339_millis(Utc::now());
        self.db
            .transaction("claim workflow execution", move |tx| {
                if !claim_pending(tx, "claim workflow execution", &name, &now)? {
                    return Ok(None);
                }
                one_execution(tx, "name = ?1", &name)
            })
            .await
    }

    /// `start_workflow` and `claim_execution` in one transaction: a new execution is
    /// stored already `running` for this caller (the row start + claim would leave), a
    /// `pending` one of that name is claimed, any other is returned as it is.
    pub async fn start_claimed(
        &self,
        name: &str,
        input: &serde_json::Value,
    ) -> Result<StartClaim, StoreError> {
        check_name(name)?;
        let name = name.to_string();
        let input_text = to_text(&name, "input", input)?;
        // Stored with millisecond precision: the returned record must equal a re-read.
        let now = Utc::now().trunc_subsecs(3);
        let stamp = rfc3339_millis(now);
        let started = WorkflowExecution {
            execution_arn: execution_arn(&name),
            name: name.clone(),
            status: ExecutionStatus::Running,
            input: input.clone(),
            output: None,
            error: None,
            snapshot: None,
            task_tokens: Vec::new(),
            history: Vec::new(),
            started_at: now,
            updated_at: now,
            version: 2,
        };
        self.db
            .transaction("start workflow", move |tx| {
                let op = "start workflow";
                let new = NewExecution {
                    name: &name,
                    arn: &started.execution_arn,
                    input: &input_text,
                    status: ExecutionStatus::Running,
                    version: started.version,
                    now: &stamp,
                };
                if insert_new(tx, op, &new)? {
                    return Ok(StartClaim::Claimed(started));
                }
                let claimed = claim_pending(tx, op, &name, &stamp)?;
                let current =
                    one_execution(tx, "name = ?1", &name)?.ok_or_else(|| StoreError::NotFound {
                        entity: "workflow execution",
                        id: name.clone(),
                    })?;
                Ok(if claimed {
                    StartClaim::Claimed(current)
                } else {
                    StartClaim::Existing(current)
                })
            })
            .await
    }

    /// Saves an execution's new state (status, output, error, snapshot, task tokens,
    /// history) if nobody saved it since `execution` was read (its `version`), and returns
    /// it as stored (version bumped, `updated_at` now).
    pub async fn save_execution(
        &self,
        execution: &WorkflowExecution,
    ) -> Result<WorkflowExecution, StoreError> {
        self.save(execution.clone()).await
    }

    /// [`Self::save_execution`] of an owned record (no copy of its history).
    pub async fn save(
        &self,
        execution: WorkflowExecution,
    ) -> Result<WorkflowExecution, StoreError> {
        let expected_version = execution.version;
        let mut saved = execution;
        saved.version = expected_version + 1;
        // Stored with millisecond precision: the returned record must equal a re-read.
        saved.updated_at = Utc::now().trunc_subsecs(3);
        let name = saved.name.clone();
        let expected = i64::try_from(expected_version)
            .map_err(|_| StoreError::Invalid(format!("execution {name}: version out of range")))?;
        let version = expected + 1;
        let output = saved
            .output
            .as_ref()
            .map(|v| to_text(&name, "output", v))
            .transpose()?;
        let error = saved
            .error
            .as_ref()
            .map(|v| to_text(&name, "error", v))
            .transpose()?;
        let snapshot = saved
            .snapshot
            .as_ref()
            .map(|v| to_text(&name, "snapshot", v))
            .transpose()?;
        let history = encode_history(&name, &saved.history)?;
        let status = saved.status.as_str();
        let updated = rfc3339_millis(saved.updated_at);
        let tokens = saved.task_tokens.clone();
        self.db
            .transaction("save workflow execution", move |tx| {
                let op = "save workflow execution";
                let changed = tx
                    .prepare_cached(
                        "UPDATE workflow_executions SET status = ?2, output = ?3, error = ?4, snapshot = ?5,
                            history = ?6, version = ?7, updated_at = ?8
                         WHERE name = ?1 AND version = ?9",
                    )
                    .op(op)?
                    .execute(params![name, status, output, error, snapshot, history, version, updated, expected])
                    .op(op)?;
                if changed == 0 {
                    let exists: Option<i64> = tx
                        .prepare_cached("SELECT 1 FROM workflow_executions WHERE name = ?1")
                        .op(op)?
                        .query_row([&name], |r| r.get(0))
                        .optional()
                        .op(op)?;
                    return Err(match exists {
                        None => StoreError::NotFound { entity: "workflow execution", id: name },
                        Some(_) => StoreError::Conflict {
                            entity: "workflow execution",
                            id: name,
                            reason: ConflictReason::VersionMismatch { expected: expected_version },
                        },
                    });
                }
                replace_tokens(tx, &name, &tokens)
            })
            .await?;
        Ok(saved)
    }
}

#[async_trait]
impl WorkflowStarter for LocalWorkflows {
    async fn start_workflow(
        &self,
        execution_name: &str,
        input: &serde_json::Value,
    ) -> Result<StartOutcome, StoreError> {
        check_name(execution_name)?;
        let name = execution_name.to_string();
        let arn = execution_arn(&name);
        let input = to_text(&name, "input", input)?;
        let now = rfc3339_millis(Utc::now());
        let execution_arn = arn.clone();
        let inserted = self
            .db
            .transaction("start workflow", move |tx| {
                let new = NewExecution {
                    name: &name,
                    arn: &arn,
                    input: &input,
                    status: ExecutionStatus::Pending,
                    version: 1,
                    now: &now,
                };
                insert_new(tx, "start workflow", &new)
            })
            .await?;
        Ok(if inserted {
            StartOutcome::Started { execution_arn }
        } else {
            StartOutcome::AlreadyExists { execution_arn }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflows() -> (tempfile::TempDir, LocalWorkflows) {
        let dir = tempfile::tempdir().unwrap();
        let wf = LocalWorkflows::open(dir.path()).unwrap();
        (dir, wf)
    }

    #[tokio::test]
    async fn start_claimed_stores_a_running_execution_once() {
        let (_dir, wf) = workflows();
        let input = serde_json::json!({"invoice_number": "INV-1"});
        let StartClaim::Claimed(claimed) = wf.start_claimed("exec-1", &input).await.unwrap() else {
            panic!("a new name is claimed");
        };
        assert_eq!(claimed.status, ExecutionStatus::Running);
        assert_eq!(claimed.execution_arn, execution_arn("exec-1"));
        // What it returns is what is stored, so a save from it passes the version check.
        let stored = wf.get_execution("exec-1").await.unwrap().unwrap();
        assert_eq!(stored, claimed);
        // A second start of the name runs nothing: the stored execution comes back.
        match wf.start_claimed("exec-1", &input).await.unwrap() {
            StartClaim::Existing(e) => assert_eq!(e, stored),
            other => panic!("second start claimed again: {other:?}"),
        }
        let mut done = claimed.clone();
        done.status = ExecutionStatus::Succeeded;
        let saved = wf.save(done).await.unwrap();
        assert_eq!(saved.version, claimed.version + 1);
        assert_eq!(wf.get_execution("exec-1").await.unwrap().unwrap(), saved);
        assert!(matches!(
            wf.start_claimed("bad name", &input).await,
            Err(StoreError::Invalid(_))
        ));
    }

    /// Histories are written compressed; plain JSON rows (older stores) still read, and a
    /// damaged history is a typed `Corrupt`, never a panic or a huge allocation.
    #[tokio::test]
    async fn histories_are_stored_compressed_and_older_rows_still_read() {
        let (dir, wf) = workflows();
        let input = serde_json::json!({"invoice_number": "INV-1"});
        let StartClaim::Claimed(mut done) = wf.start_claimed("exec-h", &input).await.unwrap()
        else {
            panic!("a new name is claimed");
        };
        let event = serde_json::json!({"id": 1, "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": input.to_string()}});
        done.history = vec![event; 40];
        done.status = ExecutionStatus::Succeeded;
        let saved = wf.save(done).await.unwrap();
        assert_eq!(wf.get_execution("exec-h").await.unwrap().unwrap(), saved);

        let conn =
            rusqlite::Connection::open(dir.path().join(crate::local::DATABASE_FILE)).unwrap();
        let (kind, stored): (String, i64) = conn
            .query_row(
                "SELECT typeof(history), length(history) FROM workflow_executions WHERE name = 'exec-h'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let plain = serde_json::to_vec(&saved.history).unwrap().len() as i64;
        assert_eq!(kind, "blob");
        assert!(
            stored * 5 < plain,
            "{stored} bytes stored for {plain} of JSON"
        );

        let as_text = serde_json::to_string(&saved.history).unwrap();
        conn.execute(
            "UPDATE workflow_executions SET history = ?1 WHERE name = 'exec-h'",
            [&as_text],
        )
        .unwrap();
        assert_eq!(wf.get_execution("exec-h").await.unwrap().unwrap(), saved);

        for damaged in [
            vec![0xff, 0xff, 0xff, 0x7f, 1, 2, 3],
            vec![9, 0, 0, 0, 0xf0],
            vec![1],
        ] {
            conn.execute(
                "UPDATE workflow_executions SET history = ?1 WHERE name = 'exec-h'",
                [&damaged],
            )
            .unwrap();
            assert!(
                matches!(
                    wf.get_execution("exec-h").await,
                    Err(StoreError::Corrupt { ref message, .. }) if message.starts_with("history")
                ),
                "{damaged:?}"
            );
        }
    }

    #[tokio::test]
    async fn start_claimed_claims_a_pending_execution_exactly_once() {
        let (_dir, wf) = workflows();
        let input = serde_json::json!({"a": 1});
        wf.start_workflow("queued", &input).await.unwrap();
        let (a, b) = tokio::join!(
            wf.start_claimed("queued", &input),
            wf.start_claimed("queued", &input)
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let claimed: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                StartClaim::Claimed(e) => Some(e),
                StartClaim::Existing(_) => None,
            })
            .collect();
        assert_eq!(claimed.len(), 1, "{outcomes:?}");
        assert_eq!(claimed[0].status, ExecutionStatus::Running);
        assert_eq!(claimed[0].input, input);
        assert!(wf.claim_execution("queued").await.unwrap().is_none());
    }
}
