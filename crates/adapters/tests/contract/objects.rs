//! Object store: put with content type, metadata and tags; get, head, tags, list.

use std::collections::BTreeMap;

use p2p_adapters::{ObjectMeta, PageRequest, StoreError};

use super::fixtures::{collect_pages, unique};
use super::Backend;

fn meta(content_type: &str, invoice_id: &str) -> ObjectMeta {
    ObjectMeta {
        content_type: content_type.to_string(),
        // Lower-case keys: S3 folds user metadata keys to lower case.
        metadata: BTreeMap::from([
            ("invoice-id".to_string(), invoice_id.to_string()),
            ("source".to_string(), "contract".to_string()),
        ]),
        tags: BTreeMap::from([
            ("invoice_id".to_string(), invoice_id.to_string()),
            ("status".to_string(), "approved".to_string()),
            ("amount".to_string(), "148.75".to_string()),
        ]),
    }
}

pub async fn object_put_get_head(b: &Backend) {
    let o = &b.objects;
    let inv = unique("inv");
    let key = format!("contract/{}/payments/{inv}/payment.xml", unique("run"));
    let body = b"<?xml version=\"1.0\"?><Document>148.75</Document>".to_vec();
    let m = meta("application/xml", &inv);
    o.put_object(&b.bucket, &key, body.clone(), &m)
        .await
        .unwrap();

    let got = o.get_object(&b.bucket, &key).await.unwrap();
    assert_eq!(got.body, body);
    assert_eq!(got.info.bucket, b.bucket);
    assert_eq!(got.info.key, key);
    assert_eq!(got.info.size, body.len() as u64);
    assert_eq!(got.info.content_type.as_deref(), Some("application/xml"));
    assert_eq!(got.info.metadata, m.metadata);

    let head = o.head_object(&b.bucket, &key).await.unwrap().expect("head");
    assert_eq!(head.size, body.len() as u64);
    assert_eq!(head.content_type.as_deref(), Some("application/xml"));
    assert_eq!(head.metadata, m.metadata);
    assert!(head.last_modified.is_some());
    assert_eq!(o.get_object_tags(&b.bucket, &key).await.unwrap(), m.tags);
}

pub async fn absent_object_is_not_found(b: &Backend) {
    let o = &b.objects;
    let key = format!("contract/{}/missing.json", unique("run"));
    assert_eq!(o.head_object(&b.bucket, &key).await.unwrap(), None);
    let e = o.get_object(&b.bucket, &key).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = o.get_object_tags(&b.bucket, &key).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    let e = o
        .put_object_tags(&b.bucket, &key, &BTreeMap::new())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
}

pub async fn object_tags_replace(b: &Backend) {
    let o = &b.objects;
    let inv = unique("inv");
    let key = format!("contract/{}/payment.json", unique("run"));
    o.put_object(
        &b.bucket,
        &key,
        b"{}".to_vec(),
        &meta("application/json", &inv),
    )
    .await
    .unwrap();
    let new_tags = BTreeMap::from([
        ("status".to_string(), "sent".to_string()),
        ("payment_id".to_string(), "pay-1".to_string()),
    ]);
    o.put_object_tags(&b.bucket, &key, &new_tags).await.unwrap();
    assert_eq!(
        o.get_object_tags(&b.bucket, &key).await.unwrap(),
        new_tags,
        "replaced, not merged"
    );
    // Retagging leaves the body alone.
    assert_eq!(
        o.get_object(&b.bucket, &key).await.unwrap().body,
        b"{}".to_vec()
    );
}

pub async fn objects_listed_by_prefix_in_pages(b: &Backend) {
    let o = &b.objects;
    let run = unique("run");
    let prefix = format!("contract/{run}/docs/");
    let names = ["e.pdf", "a.pdf", "c/inner.json", "b.png", "d.txt"];
    for n in names {
        o.put_object(
            &b.bucket,
            &format!("{prefix}{n}"),
            n.as_bytes().to_vec(),
            &ObjectMeta {
                content_type: "application/octet-stream".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    // A sibling whose key shares the prefix's text but not the folder.
    o.put_object(
        &b.bucket,
        &format!("contract/{run}/docs-other/x.pdf"),
        b"x".to_vec(),
        &ObjectMeta::default(),
    )
    .await
    .unwrap();
    for limit in [1, 2, 100] {
        let got = collect_pages(limit, |p| {
            let prefix = prefix.clone();
            async move { o.list_objects(&b.bucket, &prefix, &p).await }
        })
        .await;
        let keys: Vec<String> = got.iter().map(|i| i.key.clone()).collect();
        let mut expected: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
        expected.sort();
        assert_eq!(keys, expected, "page size {limit}");
        let c = got
            .iter()
            .find(|i| i.key.ends_with("c/inner.json"))
            .unwrap();
        assert_eq!(c.size, "c/inner.json".len() as u64);
    }
    let none = o
        .list_objects(
            &b.bucket,
            &format!("contract/{}/", unique("run")),
            &PageRequest::first(10),
        )
        .await
        .unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.next_cursor, None);
}

pub async fn object_overwrite_returns_latest(b: &Backend) {
    let o = &b.objects;
    let key = format!("contract/{}/extraction.json", unique("run"));
    let first = o
        .put_object(
            &b.bucket,
            &key,
            b"first".to_vec(),
            &meta("text/plain", "inv-1"),
        )
        .await
        .unwrap();
    let second = o
        .put_object(
            &b.bucket,
            &key,
            b"second version".to_vec(),
            &meta("application/json", "inv-2"),
        )
        .await
        .unwrap();
    if let (Some(a), Some(b)) = (&first.version_id, &second.version_id) {
        assert_ne!(a, b, "each put is a new version");
    }
    let got = o.get_object(&b.bucket, &key).await.unwrap();
    assert_eq!(got.body, b"second version".to_vec());
    assert_eq!(got.info.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        got.info.metadata.get("invoice-id").map(String::as_str),
        Some("inv-2")
    );
    assert_eq!(
        o.get_object_tags(&b.bucket, &key)
            .await
            .unwrap()
            .get("invoice_id")
            .map(String::as_str),
        Some("inv-2")
    );
}
