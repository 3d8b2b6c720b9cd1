//! The two shapes an upload arrives in: an S3 event notification (`Records[]`) and an
//! EventBridge `Object Created` event. Keys are URL-encoded in both (`+` is a space).

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use p2p_function_support::FunctionError;

/// One created object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCreated {
    pub bucket: String,
    /// Decoded.
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Decodes an S3 event key: `+` is a space, `%XX` a byte (UTF-8).
pub fn decode_key(raw: &str) -> Result<String, FunctionError> {
    let plus_as_space = raw.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|e| {
            FunctionError::invalid_event(format!(
                "object key `{raw}` is not UTF-8 once decoded: {e}"
            ))
        })
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
}

fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_u64)
}

fn object(
    bucket: Option<&str>,
    key: Option<&str>,
    where_: &str,
) -> Result<(String, String), FunctionError> {
    let bucket = bucket
        .filter(|b| !b.is_empty())
        .ok_or_else(|| FunctionError::invalid_event(format!("{where_}: missing bucket name")))?;
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| FunctionError::invalid_event(format!("{where_}: missing object key")))?;
    Ok((bucket.to_string(), decode_key(key)?))
}

/// The created objects of an event. Records of other kinds (removals, ...) are skipped; an
/// event of neither shape is `InvalidEvent`.
pub fn parse_event(event: &Value) -> Result<Vec<ObjectCreated>, FunctionError> {
    if let Some(records) = event.get("Records") {
        let records = records
            .as_array()
            .ok_or_else(|| FunctionError::invalid_event("Records must be an array"))?;
        let mut out = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let source = str_at(r, &["eventSource"]).unwrap_or_default();
            if source != "aws:s3" {
                return Err(FunctionError::invalid_event(format!(
                    "Records[{i}]: eventSource `{source}` is not aws:s3"
                )));
            }
            let name = str_at(r, &["eventName"]).unwrap_or_default();
            if !name.starts_with("ObjectCreated:") {
                tracing::info!(event_name = name, "not an ObjectCreated record: skipped");
                continue;
            }
            let (bucket, key) = object(
                str_at(r, &["s3", "bucket", "name"]),
                str_at(r, &["s3", "object", "key"]),
                &format!("Records[{i}]"),
            )?;
            out.push(ObjectCreated {
                bucket,
                key,
                version_id: str_at(r, &["s3", "object", "versionId"])
                    .filter(|v| !v.is_empty())
                    .map(str::to_string),
                size: u64_at(r, &["s3", "object", "size"]),
            });
        }
        return Ok(out);
    }
    if let Some(detail_type) = event.get("detail-type").and_then(Value::as_str) {
        let source = str_at(event, &["source"]).unwrap_or_default();
        if source != "aws.s3" || detail_type != "Object Created" {
            return Err(FunctionError::invalid_event(format!(
                "EventBridge event `{detail_type}` from `{source}` is not an S3 Object Created event"
            )));
        }
        let detail = event
            .get("detail")
            .ok_or_else(|| FunctionError::invalid_event("Object Created event without detail"))?;
        let (bucket, key) = object(
            str_at(detail, &["bucket", "name"]),
            str_at(detail, &["object", "key"]),
            "detail",
        )?;
        return Ok(vec![ObjectCreated {
            bucket,
            key,
            version_id: str_at(detail, &["object", "version-id"])
                .filter(|v| !v.is_empty())
                .map(str::to_string),
            size: u64_at(detail, &["object", "size"]),
        }]);
    }
    Err(FunctionError::invalid_event(
        "expected an S3 event notification (Records[]) or an EventBridge Object Created event",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("My+Invoice%281%29.pdf").unwrap(),
            "My Invoice(1).pdf"
        );
        assert_eq!(decode_key("Happy%20Face.jpg").unwrap(), "Happy Face.jpg");
        assert_eq!(decode_key("a%2Bb.pdf").unwrap(), "a+b.pdf");
        assert_eq!(decode_key("caf%C3%A9.pdf").unwrap(), "café.pdf");
        assert!(decode_key("bad%FF.pdf").is_err());
    }

    #[test]
    fn other_shapes_are_invalid_events() {
        let e = parse_event(&serde_json::json!({"hello": 1})).unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        let e =
            parse_event(&serde_json::json!({"Records": [{"eventSource": "aws:sqs"}]})).unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        let e = parse_event(&serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})).unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
    }

    #[test]
    fn removals_are_skipped() {
        let ev = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "k.pdf"}}}]});
        assert!(parse_event(&ev).unwrap().is_empty());
    }
}
