//! EventBridge as the [`EventPublisher`]: `PutEvents` in batches of 10 (the API's limit),
//! source [`EVENT_SOURCE`], detail-type = the event type, detail = `detail_json()`.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use aws_smithy_types::DateTime as SmithyDateTime;
use p2p_core::events::{DomainEvent, EVENT_SOURCE};

use super::errors::{is_throttling_code, map_sdk_error, Target};
use crate::error::StoreError;
use crate::ports::EventPublisher;
use crate::schema::EVENT_BUS;

/// Entries per `PutEvents` call.
pub const MAX_ENTRIES_PER_CALL: usize = 10;

#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus_name: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus_name: String) -> Self {
        EventBridgePublisher { client, bus_name }
    }

    fn target(&self) -> Target {
        Target::new(
            format!("EventBridge bus `{}`", self.bus_name),
            EVENT_BUS.env_var,
        )
    }

    fn entry(&self, event: &DomainEvent) -> Result<PutEventsRequestEntry, StoreError> {
        let detail = serde_json::to_string(&event.detail_json())
            .map_err(|e| StoreError::Invalid(format!("event `{}`: {e}", event.id)))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(EVENT_SOURCE)
            .detail_type(event.event_type.as_str())
            .detail(detail)
            .time(SmithyDateTime::from_secs_and_nanos(
                event.occurred_at.timestamp(),
                event.occurred_at.timestamp_subsec_nanos(),
            ))
            .build())
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    /// At least once: when an entry fails the whole call errs, and a retry may publish the
    /// accepted ones again (consumers deduplicate on `event_id`).
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), StoreError> {
        for batch in events.chunks(MAX_ENTRIES_PER_CALL) {
            let entries = batch
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| map_sdk_error("PutEvents", &self.target(), e))?;
            if out.failed_entry_count > 0 {
                let results = out.entries.unwrap_or_default();
                let failures: Vec<(String, String)> = batch
                    .iter()
                    .zip(results.iter())
                    .filter_map(|(event, r)| {
                        r.error_code().map(|code| {
                            (
                                code.to_string(),
                                format!(
                                    "{} {code}: {}",
                                    event.id,
                                    r.error_message().unwrap_or_default()
                                ),
                            )
                        })
                    })
                    .collect();
                let message = format!(
                    "{} of {} events not accepted: {}",
                    out.failed_entry_count,
                    batch.len(),
                    failures
                        .iter()
                        .map(|(_, m)| m.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                let codes = || failures.iter().map(|(c, _)| c.as_str());
                return Err(if codes().any(|c| c.contains("NotFound")) {
                    self.target().misconfigured(message)
                } else if failures.is_empty() || codes().all(is_throttling_code) {
                    StoreError::Transient {
                        operation: "PutEvents".into(),
                        message,
                    }
                } else {
                    StoreError::Backend {
                        operation: "PutEvents".into(),
                        message,
                    }
                });
            }
        }
        Ok(())
    }
}
