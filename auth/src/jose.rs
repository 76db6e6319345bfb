//! The compact JWS encoding shared by signing and verifying: unpadded base64url, the protected
//! header, and bounded quoting of values read from untrusted tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The one JWS algorithm this crate signs and accepts: RSASSA-PKCS1-v1_5 with SHA-256.
pub(crate) const RS256: &str = "RS256";

/// Values read from a token are cut to this many characters before they appear in an error.
const MAX_QUOTED_CHARS: usize = 64;

/// The protected header of a compact JWS.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct Header {
    /// The signature algorithm; only [`RS256`] is accepted.
    pub(crate) alg: String,
    /// The id of the key in the key set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kid: Option<String>,
    /// The media type, `JWT`; informational only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) typ: Option<String>,
    /// Extensions the verifier must understand (RFC 7515 §4.1.11). We understand none, so a
    /// token that lists any is refused rather than accepted with its extension ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) crit: Option<serde_json::Value>,
}

/// Encodes bytes as unpadded base64url, as JWS requires.
pub(crate) fn base64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded, canonical base64url; `None` for anything else (padding, other alphabets,
/// non-zero trailing bits), so that one signature has exactly one encoding.
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Quotes a value read from a token for an error message, escaping control characters and
/// cutting it to [`MAX_QUOTED_CHARS`], so a hostile token cannot flood or forge log lines.
pub(crate) fn quoted(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{:?}...", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_bytes_when_encoded_then_decoding_round_trips_without_padding() {
        let encoded = base64url_encode(b"\xfb\xff tally");
        assert!(!encoded.contains('='));
        assert_eq!(base64url_decode(&encoded).unwrap(), b"\xfb\xff tally");
    }

    #[test]
    fn given_padded_or_standard_alphabet_when_decoded_then_refused() {
        assert_eq!(base64url_decode("YQ=="), None);
        assert_eq!(base64url_decode("+/8"), None);
    }

    #[test]
    fn given_a_long_value_with_control_characters_when_quoted_then_bounded_and_escaped() {
        let quoted_value = quoted(&format!("a\nb{}", "x".repeat(1000)));
        assert!(quoted_value.starts_with("\"a\\nb"));
        assert!(quoted_value.len() < 80, "{quoted_value}");
        assert_eq!(quoted("RS256"), "\"RS256\"");
    }
}
