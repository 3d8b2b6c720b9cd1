//! [`LocalOutbox`]: notifications and domain events appended to the `outbox` table, where
//! the CLI (or a test) reads them back in order.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use p2p_core::events::DomainEvent;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::db::{Db, SqlResultExt};
use crate::error::StoreError;
use crate::ports::{EventPublisher, Notification, Notifier, MAX_PAGE_SIZE};

/// What an outbox row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxKind {
    /// A [`Notification`] (the SNS topic's stand-in).
    Notification,
    /// A [`DomainEvent`] (the event bus's stand-in).
    Event,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Notification => "notification",
            OutboxKind::Event => "event",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "notification" => Some(OutboxKind::Notification),
            "event" => Some(OutboxKind::Event),
            _ => None,
        }
    }
}

/// One published message, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Position in the outbox, increasing in publication order.
    pub seq: i64,
    pub kind: OutboxKind,
    /// The id `notify` returned (events: a fresh id per publication).
    pub message_id: String,
    /// The [`Notification`] or [`DomainEvent`] as JSON.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl OutboxMessage {
    fn corrupt(&self, message: String) -> StoreError {
        StoreError::Corrupt {
            entity: "outbox message",
            id: self.seq.to_string(),
            message,
        }
    }

    /// The payload as a notification (`Invalid` for an event row).
    pub fn notification(&self) -> Result<Notification, StoreError> {
        if self.kind != OutboxKind::Notification {
            return Err(StoreError::Invalid(format!(
                "outbox message {} is not a notification",
                self.seq
            )));
        }
        serde_json::from_value(self.payload.clone()).map_err(|e| self.corrupt(e.to_string()))
    }

    /// The payload as a domain event (`Invalid` for a notification row).
    pub fn event(&self) -> Result<DomainEvent, StoreError> {
        if self.kind != OutboxKind::Event {
            return Err(StoreError::Invalid(format!(
                "outbox message {} is not an event",
                self.seq
            )));
        }
        serde_json::from_value(self.payload.clone()).map_err(|e| self.corrupt(e.to_string()))
    }
}

/// The local notifier and event publisher.
#[derive(Debug, Clone)]
pub struct LocalOutbox {
    db: Arc<Db>,
}

impl LocalOutbox {
    /// Opens the outbox of a data directory (its own database handle).
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self::with_db(Db::open(data_dir.as_ref())?))
    }

    pub(crate) fn with_db(db: Arc<Db>) -> Self {
        LocalOutbox { db }
    }

    /// Messages after `after_seq` (0: from the start), oldest first, at most `limit`
    /// (clamped to 1..=100); `kind` None reads both kinds. Read the next batch with the
    /// last message's `seq`.
    pub async fn read_outbox(
        &self,
        kind: Option<OutboxKind>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::from(limit.clamp(1, MAX_PAGE_SIZE));
        let kind = kind.map(OutboxKind::as_str);
        self.db
            .read("read outbox", move |conn| {
                let op = "read outbox";
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT seq, kind, message_id, payload, created_at FROM outbox
                         WHERE seq > ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY seq LIMIT ?3",
                    )
                    .op(op)?;
                let mut rows = stmt.query(params![after_seq, kind, limit]).op(op)?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().op(op)? {
                    let seq: i64 = r.get(0).op(op)?;
                    let corrupt = |message: String| StoreError::Corrupt {
                        entity: "outbox message",
                        id: seq.to_string(),
                        message,
                    };
                    let kind: String = r.get(1).op(op)?;
                    let payload: String = r.get(3).op(op)?;
                    let created: String = r.get(4).op(op)?;
                    out.push(OutboxMessage {
                        seq,
                        kind: OutboxKind::parse(&kind)
                            .ok_or_else(|| corrupt(format!("unknown kind `{kind}`")))?,
                        message_id: r.get(2).op(op)?,
                        payload: serde_json::from_str(&payload)
                            .map_err(|e| corrupt(e.to_string()))?,
                        created_at: DateTime::parse_from_rfc3339(&created)
                            .map_err(|e| corrupt(format!("created_at: {e}")))?
                            .with_timezone(&Utc),
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn append(
        &self,
        kind: OutboxKind,
        payloads: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        // Time-ordered, like the store's ids: the unique index on them grows at its end.
        let ids: Vec<String> = payloads
            .iter()
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let out = ids.clone();
        let now = p2p_core::clock::rfc3339_millis(Utc::now());
        self.db
            .transaction("append to outbox", move |tx| {
                let op = "append to outbox";
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO outbox (kind, message_id, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .op(op)?;
                for (id, payload) in ids.iter().zip(&payloads) {
                    stmt.execute(params![kind.as_str(), id, payload, now]).op(op)?;
                }
                Ok(())
            })
            .await?;
        Ok(out)
    }
}

#[async_trait]
impl Notifier for LocalOutbox {
    async fn notify(&self, notification: &Notification) -> Result<String, StoreError> {
        let payload = serde_json::to_string(notification)
            .map_err(|e| StoreError::Invalid(format!("notification: {e}")))?;
        let ids = self.append(OutboxKind::Notification, vec![payload]).await?;
        ids.into_iter().next().ok_or_else(|| StoreError::Backend {
            operation: "notify".into(),
            message: "no message id".into(),
        })
    }
}

#[async_trait]
impl EventPublisher for LocalOutbox {
    /// All events of one call are appended in one transaction, in order.
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let payloads = events
            .iter()
            .map(|e| {
                serde_json::to_string(e)
                    .map_err(|err| StoreError::Invalid(format!("event {}: {err}", e.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.append(OutboxKind::Event, payloads).await.map(|_| ())
    }
}
