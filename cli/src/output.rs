//! Small helpers for printing tables and parsing times on the command line.

use tally_schemas::Timestamp;

/// Parses `--from`/`--to`/`--now`: RFC 3339, ISO 8601 without offset (UTC), or a date (midnight UTC).
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if text.len() == 10 {
        return Timestamp::parse(&format!("{text}T00:00:00Z"))
            .map_err(|problem| format!("{text:?}: {problem}"));
    }
    Timestamp::parse(text).map_err(|problem| format!("{text:?}: {problem}"))
}

/// Prints rows as a table with aligned columns; numeric columns (`right`) align right.
pub fn print_table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(index, cell)| {
                if right.get(index).copied().unwrap_or(false) {
                    format!("{cell:>width$}", width = widths[index])
                } else {
                    format!("{cell:<width$}", width = widths[index])
                }
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    line(
        widths
            .iter()
            .map(|width| "-".repeat(*width))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A count with thousands separators, for people.
pub fn count(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}
