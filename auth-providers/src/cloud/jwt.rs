//! The little JWT handling the cloud flows need: reading an `exp` claim (no signature check:
//! the token is ours to present, not to trust) and assembling an RS256 assertion.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// The `exp` claim of a JWT as a time; `None` when `token` is not a JWT or has no numeric `exp`.
pub(super) fn expiry(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .or_else(|_| URL_SAFE.decode(payload))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    let seconds = exp.as_u64().or_else(|| {
        // Some issuers write `exp` as a float.
        exp.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| Duration::from_secs_f64(f).as_secs())
    })?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// `base64url(json)`, unpadded: one JWT segment.
pub(super) fn segment(json: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

/// `base64url(bytes)`, unpadded: the signature segment.
pub(super) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{expiry, segment};

    #[test]
    fn reads_exp_without_checking_signatures() {
        let payload = segment(&serde_json::json!({"exp": 1_900_000_000, "sub": "x"}));
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        assert_eq!(expiry(&format!("e30.{payload}.sig")), Some(at));
        let float = segment(&serde_json::json!({"exp": 1_900_000_000.5}));
        assert_eq!(expiry(&format!("e30.{float}.")), Some(at));
        for bad in ["", "opaque-token", "a.b", "e30.!!!.x", "e30.e30.x", "e30.e30"] {
            assert_eq!(expiry(bad), None, "{bad}");
        }
        let negative = segment(&serde_json::json!({"exp": -5}));
        assert_eq!(expiry(&format!("e30.{negative}.x")), None);
    }
}
