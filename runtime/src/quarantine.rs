//! The quarantine: every refused line kept raw, with its reason, detail and origin, as NDJSON
//! objects under `quarantine/` in the bucket (outside every tenant prefix).

use base64::Engine;
use serde::{Deserialize, Serialize};
use tally_schemas::{RejectReason, Rejection, Timestamp};

/// One refused record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// The machine-readable reason.
    pub reason: RejectReason,
    /// What to fix.
    pub detail: String,
    /// The stream the record came from (a file path, `-` for standard input).
    pub source: String,
    /// Its position in the stream (the line number, from 1).
    pub position: String,
    /// When Tally received it.
    pub received_at: Timestamp,
    /// The raw record, when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub raw: Option<String>,
    /// The raw record in base64, when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub raw_base64: Option<String>,
    /// True when the record was longer than the limit and only its start is kept.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub raw_truncated: bool,
}

impl QuarantineRecord {
    /// A record for `raw` refused with `rejection`.
    pub fn new(
        rejection: Rejection,
        source: &str,
        position: String,
        received_at: Timestamp,
        raw: &[u8],
        raw_truncated: bool,
    ) -> QuarantineRecord {
        let (raw, raw_base64) = match std::str::from_utf8(raw) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(raw)),
            ),
        };
        QuarantineRecord {
            reason: rejection.reason,
            detail: rejection.detail,
            source: source.to_owned(),
            position,
            received_at,
            raw,
            raw_base64,
            raw_truncated,
        }
    }
}

/// Encodes records as NDJSON, one object per line.
pub fn encode_records(records: &[QuarantineRecord]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        serde_json::to_writer(&mut bytes, record).expect("quarantine records serialize");
        bytes.push(b'\n');
    }
    bytes
}

/// Decodes NDJSON written by [`encode_records`].
pub fn decode_records(bytes: &[u8]) -> crate::Result<Vec<QuarantineRecord>> {
    bytes
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            serde_json::from_slice(line)
                .map_err(|error| crate::Error::Corrupt(format!("quarantine record: {error}")))
        })
        .collect()
}
