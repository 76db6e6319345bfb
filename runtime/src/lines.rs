//! Reading NDJSON input line by line in bounded memory: a line longer than one event may be
//! (1 MiB) is kept truncated and the rest of it skipped, so one huge line cannot exhaust memory.

use std::io::BufRead;

use tally_schemas::limits::MAX_EVENT_BYTES;

use crate::{Error, Result};

/// One line, without its line ending.
pub struct Line {
    /// The line's bytes (at most [`MAX_EVENT_BYTES`]).
    pub bytes: Vec<u8>,
    /// The line was longer than [`MAX_EVENT_BYTES`]; `bytes` holds its start.
    pub too_long: bool,
}

/// Reads lines of bounded length: a line longer than the limit is kept truncated and the rest
/// of it skipped, so one huge line cannot exhaust memory.
pub struct LineReader<'r> {
    reader: &'r mut dyn BufRead,
    source: String,
    /// The number of the line last read, from 1.
    pub line_number: u64,
    /// Bytes consumed so far.
    pub bytes_read: u64,
}

impl<'r> LineReader<'r> {
    /// Lines of `reader`; `source` names it in errors.
    pub fn new(reader: &'r mut dyn BufRead, source: &str) -> LineReader<'r> {
        LineReader {
            reader,
            source: source.to_owned(),
            line_number: 0,
            bytes_read: 0,
        }
    }

    /// The next line, or `None` at the end of the input.
    ///
    /// Fails when the input cannot be read.
    pub fn next_line(&mut self) -> Result<Option<Line>> {
        let mut line = Line {
            bytes: Vec::new(),
            too_long: false,
        };
        let mut saw_anything = false;
        loop {
            let available = self
                .reader
                .fill_buf()
                .map_err(Error::io("reading", &self.source))?;
            if available.is_empty() {
                break;
            }
            saw_anything = true;
            let (part, found_end) = match available.iter().position(|byte| *byte == b'\n') {
                Some(end) => (&available[..end], true),
                None => (available, false),
            };
            // Room for the limit, a carriage return of a CRLF ending, and one byte more to tell
            // a line over the limit.
            let room = (MAX_EVENT_BYTES + 2).saturating_sub(line.bytes.len());
            line.bytes.extend_from_slice(&part[..part.len().min(room)]);
            let consumed = part.len() + usize::from(found_end);
            self.reader.consume(consumed);
            self.bytes_read += consumed as u64;
            if found_end {
                break;
            }
        }
        if !saw_anything {
            return Ok(None);
        }
        self.line_number += 1;
        // Strip a CRLF ending before measuring, so an event at the limit is accepted whatever
        // the line endings; a line that filled the room was cut, so its last byte is not one.
        if line.bytes.len() <= MAX_EVENT_BYTES + 1 && line.bytes.last() == Some(&b'\r') {
            line.bytes.pop();
        }
        if line.bytes.len() > MAX_EVENT_BYTES {
            line.bytes.truncate(MAX_EVENT_BYTES);
            line.too_long = true;
        }
        Ok(Some(line))
    }
}
