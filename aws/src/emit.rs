//! `tally emit`'s work: NDJSON lines checked against the contract, then sent. Lines the contract
//! refuses are reported with their reason and not sent (the consumer would only quarantine
//! them); valid ones go with the tenant id as partition key.

use std::io::BufRead;
use std::time::Duration;

use tally_runtime::{Error, Result};
use tally_schemas::limits::MAX_EVENT_BYTES;
use tally_schemas::{MeterCatalog, RejectReason, Rejection, parse_event};

use crate::producer::{Record, RecordSink, SendReport, send_all};

/// What an emit did.
#[derive(Clone, Debug, Default)]
pub struct EmitReport {
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Lines refused before sending: line number and why.
    pub refused: Vec<(u64, Rejection)>,
    /// What the stream accepted, and what it finally did not.
    pub sent: SendReport,
}

/// Reads NDJSON from `reader`, checks every line, and sends the valid ones through `sink`.
///
/// Fails only when the input cannot be read.
pub fn emit(
    reader: impl BufRead,
    source: &str,
    catalog: &MeterCatalog,
    sink: &impl RecordSink,
) -> Result<EmitReport> {
    let mut report = EmitReport::default();
    let mut records = Vec::new();
    for line in reader.split(b'\n') {
        let mut line = line.map_err(Error::io("reading", source))?;
        report.lines += 1;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > MAX_EVENT_BYTES {
            let rejection = Rejection::new(
                RejectReason::TooLarge,
                format!("line is longer than {MAX_EVENT_BYTES} bytes"),
            );
            report.refused.push((report.lines, rejection));
            continue;
        }
        match parse_event(&line, catalog) {
            Ok(event) => records.push(Record {
                partition_key: event.tenant_id.to_string(),
                data: line,
                line: report.lines,
            }),
            Err(rejection) => report.refused.push((report.lines, rejection)),
        }
    }
    report.sent = send_all(sink, &records, &mut |wait: Duration| {
        std::thread::sleep(wait)
    });
    Ok(report)
}
