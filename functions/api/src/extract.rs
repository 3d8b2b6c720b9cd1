//! Request extractors whose rejections are problem documents: JSON bodies (content type,
//! size limit, unknown fields, typed paths of bad fields), query strings and path segments.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::AppState;

/// `application/json` or any `+json` type, parameters allowed.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The raw body of a JSON request, at most `limit` bytes.
pub async fn json_bytes(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be application/json".into(),
        ));
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            // The only error a limited in-memory read reports besides I/O is the limit.
            if std::error::Error::source(&e).is_some_and(|s| s.to_string().contains("length limit"))
                || e.to_string().contains("length limit")
            {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::field("$", "unreadable_body", format!("cannot read the body: {e}"))
            }
        })
}

/// Deserializes a JSON object naming the path of the first bad field. Every body of this
/// API is an object: serde would otherwise read a struct from an array too.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(ApiError::field("$", "required", "the body is empty")),
        Some(_) => {
            return Err(ApiError::field(
                "$",
                "invalid_type",
                "the body must be a JSON object",
            ))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            "invalid_json"
        } else if inner.to_string().starts_with("unknown field") {
            "unknown_field"
        } else if inner.to_string().starts_with("missing field") {
            "required"
        } else {
            "invalid_value"
        };
        let field = if path == "." || code == "invalid_json" {
            "$".to_string()
        } else {
            path
        };
        ApiError::field(&field, code, inner.to_string())
    })?;
    de.end()
        .map_err(|e| ApiError::field("$", "invalid_json", e.to_string()))?;
    Ok(value)
}

/// A JSON body, typed.
pub struct JsonBody<T>(pub T);

#[axum::async_trait]
impl<T: DeserializeOwned + Send> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state.config.max_body_bytes).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A query string, typed (unknown parameters refused).
pub struct ApiQuery<T>(pub T);

#[axum::async_trait]
impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                let field = if path == "." {
                    "query".to_string()
                } else {
                    path
                };
                let code = if inner.starts_with("unknown field") {
                    "unknown_parameter"
                } else {
                    "invalid_value"
                };
                ApiError::field(&field, code, inner)
            })
    }
}

/// Path parameters, typed.
pub struct ApiPath<T>(pub T);

#[axum::async_trait]
impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::field("path", "invalid_path", e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        lines: Vec<Line>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }

    fn field_of(e: ApiError) -> (String, String) {
        let p = e.to_problem();
        (p.errors[0].field.clone(), p.errors[0].code.clone())
    }

    #[test]
    fn bad_fields_are_named() {
        let e = parse_json::<Body>(br#"{"name":"a","lines":[{"quantity":"x"}]}"#).unwrap_err();
        assert_eq!(
            field_of(e),
            ("lines[0].quantity".into(), "invalid_value".into())
        );
        let e = parse_json::<Body>(br#"{"name":"a","lines":[],"extra":1}"#).unwrap_err();
        assert_eq!(field_of(e).1, "unknown_field");
        let e = parse_json::<Body>(br#"{"name":"a""#).unwrap_err();
        assert_eq!(field_of(e), ("$".into(), "invalid_json".into()));
        let e = parse_json::<Body>(br#"{"lines":[]}"#).unwrap_err();
        assert_eq!(field_of(e).1, "required");
        assert!(parse_json::<Body>(br#"{"name":"a","lines":[]} x"#).is_err());
    }
}
