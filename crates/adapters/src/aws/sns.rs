//! SNS as the [`Notifier`]: one `Publish` per notification, attributes as String message
//! attributes (subscription filter policies match on them).

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use super::errors::{error_code, map_sdk_error, Target};
use crate::error::StoreError;
use crate::ports::{Notification, Notifier};
use crate::schema::NOTIFICATION_TOPIC;

/// SNS subjects: at most 100 characters.
pub const MAX_SUBJECT_CHARS: usize = 100;

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: String) -> Self {
        SnsNotifier { client, topic_arn }
    }

    fn target(&self) -> Target {
        Target::new(
            format!("SNS topic `{}`", self.topic_arn),
            NOTIFICATION_TOPIC.env_var,
        )
    }
}

/// A subject SNS accepts: printable ASCII on one line, at most 100 characters (cut with an
/// ellipsis); `None` when nothing printable is left (SNS then uses no subject).
pub fn sns_subject(subject: &str) -> Option<String> {
    let cleaned: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() {
        return None;
    }
    if cleaned.chars().count() <= MAX_SUBJECT_CHARS {
        return Some(cleaned);
    }
    let cut: String = cleaned.chars().take(MAX_SUBJECT_CHARS - 3).collect();
    Some(format!("{}...", cut.trim_end()))
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn notify(&self, notification: &Notification) -> Result<String, StoreError> {
        let mut publish = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(&notification.message)
            .set_subject(sns_subject(&notification.subject));
        for (name, value) in &notification.attributes {
            // SNS refuses empty attribute values; an empty one carries nothing to filter on.
            if value.is_empty() {
                continue;
            }
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| StoreError::Invalid(format!("message attribute `{name}`: {e}")))?;
            publish = publish.message_attributes(name, attribute);
        }
        let out = publish.send().await.map_err(|e| match error_code(&e) {
            Some("NotFound" | "NotFoundException") => {
                self.target().misconfigured("Publish: topic not found")
            }
            _ => map_sdk_error("Publish", &self.target(), e),
        })?;
        out.message_id.ok_or_else(|| StoreError::Backend {
            operation: "Publish".into(),
            message: "SNS returned no message id".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_one_printable_line_of_at_most_100_chars() {
        assert_eq!(
            sns_subject("Invoice\nINV-1 approved").as_deref(),
            Some("Invoice INV-1 approved")
        );
        assert_eq!(
            sns_subject("Rechnung für Müller").as_deref(),
            Some("Rechnung f r M ller")
        );
        assert_eq!(sns_subject(" \t\n"), None);
        let long = "x".repeat(250);
        let s = sns_subject(&long).unwrap();
        assert_eq!(s.chars().count(), 100);
        assert!(s.ends_with("..."));
        assert_eq!(sns_subject(&"y".repeat(100)).unwrap().len(), 100);
    }
}
