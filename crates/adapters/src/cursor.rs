//! Opaque, tamper-evident pagination cursors shared by both backends: the position
//! (DynamoDB's LastEvaluatedKey, or the local store's last sort key) as JSON, signed with
//! HMAC-SHA256 so a client cannot forge or edit one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

use crate::error::StoreError;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

/// Environment variable holding the cursor signing key.
pub const CURSOR_KEY_ENV: &str = "P2P_CURSOR_KEY";

impl CursorCodec {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        CursorCodec { key: key.into() }
    }

    /// Key from `P2P_CURSOR_KEY`, or a fixed development key (cursors then only resist
    /// accidental edits, not forgery: set the variable in production).
    pub fn from_env() -> Self {
        match std::env::var(CURSOR_KEY_ENV) {
            Ok(k) if !k.is_empty() => CursorCodec::new(k.into_bytes()),
            _ => CursorCodec::new(b"p2p-development-cursor-key".to_vec()),
        }
    }

    fn mac(&self, payload: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .map_err(|e| StoreError::Invalid(format!("cursor key: {e}")))?;
        mac.update(payload);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// `base64url(json).base64url(hmac)`; `scope` binds a cursor to one list (a cursor of
    /// the invoice list is refused by the payment list).
    pub fn encode<T: Serialize>(&self, scope: &str, position: &T) -> Result<String, StoreError> {
        let json = serde_json::to_vec(&(scope, position))
            .map_err(|e| StoreError::Invalid(format!("cursor: {e}")))?;
        let sig = self.mac(&json)?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(sig)
        ))
    }

    pub fn decode<T: DeserializeOwned>(&self, scope: &str, token: &str) -> Result<T, StoreError> {
        let invalid =
            || StoreError::Invalid("next_token is not a valid cursor for this list".into());
        let (body, sig) = token.split_once('.').ok_or_else(invalid)?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| invalid())?;
        let mut mac = HmacSha256::new_from_slice(&self.key).map_err(|_| invalid())?;
        mac.update(&json);
        mac.verify_slice(&sig).map_err(|_| invalid())?;
        let (got_scope, position): (String, T) =
            serde_json::from_slice(&json).map_err(|_| invalid())?;
        if got_scope != scope {
            return Err(invalid());
        }
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_evidence() {
        let c = CursorCodec::new(b"k".to_vec());
        let t = c.encode("invoices", &("2025-01-01", "inv-1")).unwrap();
        let back: (String, String) = c.decode("invoices", &t).unwrap();
        assert_eq!(back, ("2025-01-01".to_string(), "inv-1".to_string()));
        assert!(c.decode::<(String, String)>("payments", &t).is_err());
        let mut forged = t.clone();
        forged.replace_range(0..1, if t.starts_with('A') { "B" } else { "A" });
        assert!(c.decode::<(String, String)>("invoices", &forged).is_err());
        assert!(CursorCodec::new(b"other".to_vec())
            .decode::<(String, String)>("invoices", &t)
            .is_err());
        assert!(c.decode::<(String, String)>("invoices", "garbage").is_err());
    }
}
