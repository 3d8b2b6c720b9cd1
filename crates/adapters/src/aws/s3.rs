//! S3 as the [`ObjectStore`]: SSE AES256 on every put, content type, user metadata and
//! object tags in the same `PutObject`, version ids returned (buckets are versioned).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{ServerSideEncryption, Tag, Tagging};
use aws_sdk_s3::Client;
use aws_smithy_types::DateTime as SmithyDateTime;
use chrono::{DateTime, Utc};

use super::errors::{error_code, http_status, map_sdk_error, Target};
use super::ResourceNames;
use crate::cursor::CursorCodec;
use crate::error::StoreError;
use crate::ports::{
    ObjectInfo, ObjectMeta, ObjectStore, Page, PageRequest, PutReceipt, StoredObject,
};

#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    names: ResourceNames,
    cursors: CursorCodec,
}

impl S3ObjectStore {
    pub fn new(client: Client, names: ResourceNames, cursors: CursorCodec) -> Self {
        S3ObjectStore {
            client,
            names,
            cursors,
        }
    }

    fn target(&self, bucket: &str) -> Target {
        Target::new(
            format!("S3 bucket `{bucket}`"),
            self.names.bucket_env_var(bucket),
        )
    }

    fn not_found(bucket: &str, key: &str) -> StoreError {
        StoreError::NotFound {
            entity: "object",
            id: format!("s3://{bucket}/{key}"),
        }
    }

    /// After a 404 without a body (HEAD): the key or the whole bucket? Only asked on that
    /// path, so a present object costs one call.
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, StoreError> {
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(true),
            Err(e) if http_status(&e) == Some(404) => Ok(false),
            Err(e) => Err(map_sdk_error("HeadBucket", &self.target(bucket), e)),
        }
    }
}

fn to_chrono(t: Option<&SmithyDateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// `k1=v1&k2=v2`, percent-encoded: the `x-amz-tagging` header form.
fn tagging_header(tags: &BTreeMap<String, String>) -> String {
    fn encode(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for b in text.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(char::from(b))
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    tags.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn tag_set(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, StoreError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| StoreError::Invalid(format!("object tag `{k}`: {e}")))
        })
        .collect()
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        meta: &ObjectMeta,
    ) -> Result<PutReceipt, StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .content_type(&meta.content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .set_metadata(if meta.metadata.is_empty() {
                None
            } else {
                Some(meta.metadata.clone().into_iter().collect())
            });
        if !meta.tags.is_empty() {
            put = put.tagging(tagging_header(&meta.tags));
        }
        let out = put.send().await.map_err(|e| {
            if error_code(&e) == Some("NoSuchBucket") {
                self.target(bucket)
                    .misconfigured("PutObject: bucket not found")
            } else {
                map_sdk_error("PutObject", &self.target(bucket), e)
            }
        })?;
        Ok(PutReceipt {
            version_id: out.version_id,
            etag: out.e_tag,
        })
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<StoredObject, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return Err(match error_code(&e) {
                    Some("NoSuchKey") => Self::not_found(bucket, key),
                    Some("NoSuchBucket") => self
                        .target(bucket)
                        .misconfigured("GetObject: bucket not found"),
                    _ => map_sdk_error("GetObject", &self.target(bucket), e),
                })
            }
        };
        let info = ObjectInfo {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size: out
                .content_length
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            content_type: out.content_type.clone(),
            last_modified: to_chrono(out.last_modified.as_ref()),
            version_id: out.version_id.clone(),
            metadata: out
                .metadata
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Transient {
                operation: "GetObject".into(),
                message: format!("reading s3://{bucket}/{key}: {e}"),
            })?
            .into_bytes()
            .to_vec();
        Ok(StoredObject {
            info: ObjectInfo {
                size: if info.size == 0 {
                    body.len() as u64
                } else {
                    info.size
                },
                ..info
            },
            body,
        })
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectInfo {
                bucket: bucket.to_string(),
                key: key.to_string(),
                size: out
                    .content_length
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: out.content_type,
                last_modified: to_chrono(out.last_modified.as_ref()),
                version_id: out.version_id,
                metadata: out.metadata.unwrap_or_default().into_iter().collect(),
            })),
            Err(e) if http_status(&e) == Some(404) => {
                if self.bucket_exists(bucket).await? {
                    Ok(None)
                } else {
                    Err(self
                        .target(bucket)
                        .misconfigured("HeadObject: bucket not found"))
                }
            }
            Err(e) => Err(map_sdk_error("HeadObject", &self.target(bucket), e)),
        }
    }

    async fn get_object_tags(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let out = self
            .client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match error_code(&e) {
                Some("NoSuchKey") => Self::not_found(bucket, key),
                Some("NoSuchBucket") => self
                    .target(bucket)
                    .misconfigured("GetObjectTagging: bucket not found"),
                _ => map_sdk_error("GetObjectTagging", &self.target(bucket), e),
            })?;
        Ok(out.tag_set.into_iter().map(|t| (t.key, t.value)).collect())
    }

    async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set(tags)?))
            .build()
            .map_err(|e| StoreError::Invalid(format!("object tags: {e}")))?;
        self.client
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| match error_code(&e) {
                Some("NoSuchKey") => Self::not_found(bucket, key),
                Some("NoSuchBucket") => self
                    .target(bucket)
                    .misconfigured("PutObjectTagging: bucket not found"),
                _ => map_sdk_error("PutObjectTagging", &self.target(bucket), e),
            })?;
        Ok(())
    }

    /// `ListObjectsV2` from after the cursor's key; S3 says exactly whether more follow.
    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        page: &PageRequest,
    ) -> Result<Page<ObjectInfo>, StoreError> {
        let scope = format!("s3/{bucket}/{prefix}");
        let start_after: Option<String> = match &page.cursor {
            Some(token) => Some(self.cursors.decode(&scope, token)?),
            None => None,
        };
        let out = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(i32::try_from(page.size()).unwrap_or(i32::MAX))
            .set_start_after(start_after)
            .send()
            .await
            .map_err(|e| match error_code(&e) {
                Some("NoSuchBucket") => self
                    .target(bucket)
                    .misconfigured("ListObjectsV2: bucket not found"),
                _ => map_sdk_error("ListObjectsV2", &self.target(bucket), e),
            })?;
        let items: Vec<ObjectInfo> = out
            .contents
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| {
                let key = o.key?;
                Some(ObjectInfo {
                    bucket: bucket.to_string(),
                    key,
                    size: o.size.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    content_type: None,
                    last_modified: to_chrono(o.last_modified.as_ref()),
                    version_id: None,
                    metadata: BTreeMap::new(),
                })
            })
            .collect();
        let next_cursor = match (out.is_truncated.unwrap_or(false), items.last()) {
            (true, Some(last)) => Some(self.cursors.encode(&scope, &last.key)?),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagging_header_percent_encodes() {
        let tags: BTreeMap<String, String> = [
            ("amount".to_string(), "1250.00".to_string()),
            (
                "upload_timestamp".to_string(),
                "2025-01-01T10:00:00Z".to_string(),
            ),
            ("content_type".to_string(), "application/xml".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            tagging_header(&tags),
            "amount=1250.00&content_type=application%2Fxml&upload_timestamp=2025-01-01T10%3A00%3A00Z"
        );
    }
}
