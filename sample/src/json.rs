//! Writing one JSON object line: fields in the order a producer writes them, strings escaped by
//! serde_json, numbers as exact decimal text (never through a float).

use tally_schemas::Timestamp;
use tally_schemas::time::MILLIS_PER_MINUTE;

/// Microseconds in one millisecond.
pub(crate) const MICROS_PER_MILLI: i64 = 1_000;
/// Microseconds in one second.
pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;
/// Nanounits (10^-9) in one unit of a quantity.
pub(crate) const NANOS_PER_UNIT: u64 = 1_000_000_000;

/// A JSON object being written, one member at a time.
pub(crate) struct JsonObject {
    text: String,
    members: usize,
}

impl JsonObject {
    /// An empty object.
    pub(crate) fn new() -> JsonObject {
        JsonObject {
            text: String::from("{"),
            members: 0,
        }
    }

    /// Adds `key` with a string value.
    pub(crate) fn string(&mut self, key: &str, value: &str) -> &mut JsonObject {
        let quoted = quote(value);
        self.raw(key, &quoted)
    }

    /// Adds `key` with a value that is already JSON text (a number, an object, or a
    /// deliberately broken value of a bad line).
    pub(crate) fn raw(&mut self, key: &str, json: &str) -> &mut JsonObject {
        if self.members > 0 {
            self.text.push(',');
        }
        self.text.push_str(&quote(key));
        self.text.push(':');
        self.text.push_str(json);
        self.members += 1;
        self
    }

    /// The finished object as one line.
    pub(crate) fn finish(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        text.push('}');
        text
    }
}

/// `text` as a JSON string literal.
pub(crate) fn quote(text: &str) -> String {
    // Nearly every string here is plain ASCII that JSON takes as it is; serde_json's generic
    // escaper is instantiated in this crate, unoptimised in tests, so it is kept for the rest.
    let plain = text
        .bytes()
        .all(|byte| (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\');
    if plain {
        return format!("\"{text}\"");
    }
    serde_json::to_string(text).expect("a str always serializes to JSON")
}

/// An object of string members, in the given order.
pub(crate) fn string_object<K: AsRef<str>, V: AsRef<str>>(members: &[(K, V)]) -> String {
    let mut object = JsonObject::new();
    for (key, value) in members {
        object.string(key.as_ref(), value.as_ref());
    }
    object.finish()
}

/// A quantity in nanounits as decimal text without trailing zeros: `1.5`, `0.000123456`, `812`.
pub(crate) fn decimal_text(nanos: u64) -> String {
    let whole = nanos / NANOS_PER_UNIT;
    let fraction = nanos % NANOS_PER_UNIT;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// How a producer writes an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeForm {
    /// What Python's `datetime.isoformat()` prints for a naive UTC datetime: six fraction
    /// digits, or none at all when the microseconds are zero.
    NaiveIso,
    /// RFC 3339 in UTC with milliseconds and `Z`.
    ZuluMillis,
    /// RFC 3339 in local time at this offset from UTC, in minutes, with milliseconds.
    Offset(i32),
}

/// The instant `at_micros` (microseconds since the Unix epoch) written in `form`.
pub(crate) fn format_time(at_micros: i64, form: TimeForm) -> String {
    let offset_minutes = match form {
        TimeForm::Offset(minutes) => i64::from(minutes),
        TimeForm::NaiveIso | TimeForm::ZuluMillis => 0,
    };
    let local_micros = at_micros + offset_minutes * MILLIS_PER_MINUTE * MICROS_PER_MILLI;
    let civil = Timestamp::from_millis(local_micros.div_euclid(MICROS_PER_MILLI)).civil();
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    );
    let micros = local_micros.rem_euclid(MICROS_PER_SECOND);
    match form {
        TimeForm::NaiveIso if micros == 0 => {}
        TimeForm::NaiveIso => text.push_str(&format!(".{micros:06}")),
        TimeForm::ZuluMillis => text.push_str(&format!(".{:03}Z", micros / MICROS_PER_MILLI)),
        TimeForm::Offset(minutes) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let magnitude = minutes.unsigned_abs();
            text.push_str(&format!(
                ".{:03}{sign}{:02}:{:02}",
                micros / MICROS_PER_MILLI,
                magnitude / 60,
                magnitude % 60
            ));
        }
    }
    text
}

/// The instant in microseconds since the Unix epoch.
pub(crate) fn micros_of(instant: Timestamp) -> i64 {
    instant.as_millis() * MICROS_PER_MILLI
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(text: &str) -> i64 {
        micros_of(Timestamp::parse(text).unwrap())
    }

    #[test]
    fn naive_form_prints_like_python_isoformat() {
        let at = micros("2026-10-03T14:02:03Z");
        assert_eq!(
            format_time(at + 123_456, TimeForm::NaiveIso),
            "2026-10-03T14:02:03.123456"
        );
        assert_eq!(
            format_time(at + 7, TimeForm::NaiveIso),
            "2026-10-03T14:02:03.000007"
        );
        assert_eq!(format_time(at, TimeForm::NaiveIso), "2026-10-03T14:02:03");
    }

    #[test]
    fn offset_forms_name_the_same_instant_in_local_time() {
        let at = micros("2026-12-31T23:45:00.5Z") + 250;
        assert_eq!(
            format_time(at, TimeForm::ZuluMillis),
            "2026-12-31T23:45:00.500Z"
        );
        let east = format_time(at, TimeForm::Offset(120));
        let west = format_time(at, TimeForm::Offset(-330));
        assert_eq!(east, "2027-01-01T01:45:00.500+02:00");
        assert_eq!(west, "2026-12-31T18:15:00.500-05:30");
        for text in [east, west] {
            assert_eq!(micros(&text), at - 250);
        }
    }

    #[test]
    fn decimals_are_exact_and_trimmed() {
        assert_eq!(decimal_text(1_500_000_000), "1.5");
        assert_eq!(decimal_text(123_456), "0.000123456");
        assert_eq!(decimal_text(812_250_000_000), "812.25");
        assert_eq!(decimal_text(3 * NANOS_PER_UNIT), "3");
    }

    #[test]
    fn objects_escape_their_strings() {
        let line = JsonObject::new()
            .string("name", "a \"quoted\"\nvalue")
            .raw("value", "1.5")
            .finish();
        assert_eq!(line, r#"{"name":"a \"quoted\"\nvalue","value":1.5}"#);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["name"], "a \"quoted\"\nvalue");
    }
}
