//! Notifications, domain events and workflow starts.

use std::collections::BTreeMap;

use p2p_adapters::{Notification, StartOutcome};
use p2p_core::events::{DomainEvent, DomainEventType};

use super::fixtures::{at, unique};
use super::Backend;

pub async fn notifications_are_accepted(b: &Backend) {
    let inv = unique("inv");
    let n = Notification {
        subject: format!("Invoice {inv} approved"),
        message: format!("Invoice {inv} was approved for 148.75 EUR"),
        attributes: BTreeMap::from([
            ("event_type".to_string(), "InvoiceApproved".to_string()),
            ("invoice_id".to_string(), inv.clone()),
        ]),
    };
    let id = b.notifier.notify(&n).await.unwrap();
    assert!(!id.is_empty(), "a message id");
    let id2 = b.notifier.notify(&n).await.unwrap();
    assert_ne!(id, id2, "every publish is its own message");

    if let Some(p) = &b.published {
        let all = p.notifications().await.unwrap();
        let mine: Vec<_> = all.iter().filter(|m| m.subject == n.subject).collect();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0], &n);
    }
}

pub async fn events_are_accepted(b: &Backend) {
    let inv = unique("inv");
    let ven = unique("ven");
    let events = vec![
        DomainEvent::new(
            unique("evt"),
            DomainEventType::InvoiceSubmitted,
            &ven,
            Some(&inv),
            at(0),
            serde_json::json!({ "total_amount": "148.75", "currency": "EUR" }),
        ),
        DomainEvent::new(
            unique("evt"),
            DomainEventType::InvoiceApproved,
            &ven,
            Some(&inv),
            at(60),
            serde_json::json!({ "approved_by": "approver@corp.example" }),
        ),
    ];
    b.events.publish(&events).await.unwrap();
    b.events
        .publish(&[])
        .await
        .expect("nothing to publish is fine");

    if let Some(p) = &b.published {
        let all = p.events().await.unwrap();
        let mine: Vec<_> = all.into_iter().filter(|e| e.vendor_id == ven).collect();
        assert_eq!(mine, events, "both events, in order");
    }
}

pub async fn workflow_started_once_per_name(b: &Backend) {
    let name = unique("exec");
    let input = serde_json::json!({ "invoice_id": unique("inv"), "total_amount": "148.75" });
    let first = b.workflows.start_workflow(&name, &input).await.unwrap();
    let arn = match &first {
        StartOutcome::Started { execution_arn } => execution_arn.clone(),
        other => panic!("first start: {other:?}"),
    };
    assert!(arn.ends_with(&format!(":{name}")), "{arn}");
    let second = b.workflows.start_workflow(&name, &input).await.unwrap();
    assert_eq!(
        second,
        StartOutcome::AlreadyExists {
            execution_arn: arn.clone()
        }
    );
    let other = b
        .workflows
        .start_workflow(&unique("exec"), &input)
        .await
        .unwrap();
    assert!(matches!(other, StartOutcome::Started { .. }), "{other:?}");
}
