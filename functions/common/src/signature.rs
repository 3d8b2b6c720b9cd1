//! The Workday callback signature, shared by the sender (export-monitor) and the receiver
//! (the API's `POST /workday/callback`).
//!
//! Headers:
//! - `X-P2P-Timestamp: <unix seconds>`
//! - `X-P2P-Signature: sha256=<lower-case hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`
//!
//! The body is signed byte for byte as sent. The receiver recomputes the HMAC over the raw
//! body it received, compares in constant time, and refuses timestamps further than its
//! tolerance from its clock (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-P2P-Signature";
pub const TIMESTAMP_HEADER: &str = "X-P2P-Timestamp";
const PREFIX: &str = "sha256=";
/// Suggested receiver tolerance for the timestamp.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so the fallback is never taken.
    let mut mac = HmacSha256::new_from_slice(secret)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-P2P-Signature` header value.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "{PREFIX}{}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-P2P-Timestamp `{0}` is not a unix time in seconds")]
    BadTimestamp(String),
    #[error("X-P2P-Timestamp is {skew} s away from now (tolerance {tolerance} s)")]
    Expired { skew: i64, tolerance: i64 },
    #[error("X-P2P-Signature is not `sha256=<hex>`")]
    Malformed,
    #[error("X-P2P-Signature does not match the body")]
    Mismatch,
}

/// Checks a received callback's headers against its raw body.
pub fn verify(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_seconds: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp(timestamp_header.to_string()))?;
    let skew = now_unix.saturating_sub(timestamp).saturating_abs();
    if skew > tolerance_seconds {
        return Err(SignatureError::Expired {
            skew,
            tolerance: tolerance_seconds,
        });
    }
    let hex_sig = signature_header
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(SignatureError::Malformed)?;
    let given = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_and_round_trip() {
        // HMAC-SHA256(key="secret", "1700000000.{}")
        let sig = sign(b"secret", 1_700_000_000, b"{}");
        assert!(sig.starts_with("sha256="));
        assert_eq!(sig.len(), 7 + 64);
        assert_eq!(
            verify(b"secret", "1700000000", &sig, b"{}", 1_700_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify(b"other", "1700000000", &sig, b"{}", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", "1700000000", &sig, b"{ }", 1_700_000_000, 300),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify(b"secret", "1700000000", &sig, b"{}", 1_700_001_000, 300),
            Err(SignatureError::Expired { .. })
        ));
        assert_eq!(
            verify(b"secret", "1700000000", "md5=00", b"{}", 1_700_000_000, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn matches_an_independent_hmac() {
        // The signed message is exactly "<timestamp>.<body>".
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"12.what do ya want for nothing?");
        let expected = format!("sha256={}", hex::encode(m.finalize().into_bytes()));
        assert_eq!(sign(b"Jefe", 12, b"what do ya want for nothing?"), expected);
    }
}
