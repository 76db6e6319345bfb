//! `tally emit`'s work: NDJSON lines checked against the contract, then sent. Lines the contract
//! refuses are reported with their reason and not sent (the consumer would only quarantine
//! them); valid ones go with the tenant id as partition key.

use std::io::BufRead;
use std::time::Duration;

use tally_runtime::Result;
use tally_runtime::lines::LineReader;
use tally_schemas::limits::MAX_EVENT_BYTES;
use tally_schemas::{MeterCatalog, RejectReason, Rejection, parse_event};

use tally_producer::batch::{PutReport, Record, RecordSink, send_all};

/// What an emit did.
#[derive(Clone, Debug, Default)]
pub struct EmitReport {
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Lines refused before sending: line number and why.
    pub refused: Vec<(u64, Rejection)>,
    /// What the stream accepted, and what it finally did not.
    pub sent: PutReport,
}

/// Reads NDJSON from `reader`, checks every line, and sends the valid ones through `sink`.
///
/// Fails only when the input cannot be read.
pub fn emit(
    mut reader: impl BufRead,
    source: &str,
    catalog: &MeterCatalog,
    sink: &impl RecordSink,
) -> Result<EmitReport> {
    let mut report = EmitReport::default();
    let mut records = Vec::new();
    let mut lines = LineReader::new(&mut reader, source);
    while let Some(line) = lines.next_line()? {
        report.lines = lines.line_number;
        if line.too_long {
            let rejection = Rejection::new(
                RejectReason::TooLarge,
                format!("line is longer than {MAX_EVENT_BYTES} bytes"),
            );
            report.refused.push((report.lines, rejection));
            continue;
        }
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_event(&line.bytes, catalog) {
            Ok(event) => records.push(Record {
                partition_key: event.tenant_id.to_string(),
                data: line.bytes,
                position: report.lines,
            }),
            Err(rejection) => report.refused.push((report.lines, rejection)),
        }
    }
    report.sent = send_all(sink, &records, &mut |wait: Duration| {
        std::thread::sleep(wait)
    });
    Ok(report)
}
