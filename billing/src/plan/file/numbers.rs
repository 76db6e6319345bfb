//! Numbers and instants in a plan file: decimals are read from their text so they stay exact,
//! and TOML floats are refused because their binary value is not the price that was written.

use rust_decimal::Decimal;
use tally_schemas::Timestamp;
use toml::de::DeValue;

use super::{Reader, Value};
use crate::error::{PlanProblem, Result};
use crate::limits::{MAX_FRACTION_DIGITS, MAX_PRICE, MAX_QUANTITY};

impl Reader<'_> {
    /// A decimal written as a string (`"0.0002"`) or an integer (`100_000`).
    pub(super) fn decimal(&self, value: &Value<'_>, field: &str) -> Result<Decimal> {
        let malformed = |text: &str, reason| {
            let text = text.to_owned();
            self.invalid(
                value.span(),
                field,
                PlanProblem::MalformedNumber { text, reason },
            )
        };
        match value.get_ref() {
            DeValue::String(text) => parse_decimal(text).map_err(|reason| malformed(text, reason)),
            DeValue::Integer(integer) if integer.radix() != 10 => Err(malformed(
                &integer.to_string(),
                "write numbers in decimal, not hex, octal or binary",
            )),
            DeValue::Integer(integer) => integer
                .as_str()
                .parse::<i64>()
                .map(Decimal::from)
                .map_err(|_| malformed(integer.as_str(), "it is out of range")),
            DeValue::Float(float) => {
                let text = float.as_str().to_owned();
                Err(self.invalid(value.span(), field, PlanProblem::FloatNumber { text }))
            }
            _ => Err(self.wrong_type(value, field, "a decimal string or an integer")),
        }
    }

    /// A price, fee or minimum: a decimal from zero to [`MAX_PRICE`].
    pub(super) fn price(&self, value: &Value<'_>, field: &str) -> Result<Decimal> {
        self.bounded(value, field, MAX_PRICE)
    }

    /// A tier bound, size or included quantity: a decimal from zero to [`MAX_QUANTITY`].
    pub(super) fn quantity(&self, value: &Value<'_>, field: &str) -> Result<Decimal> {
        self.bounded(value, field, MAX_QUANTITY)
    }

    fn bounded(&self, value: &Value<'_>, field: &str, limit: i64) -> Result<Decimal> {
        let number = self.decimal(value, field)?;
        let refuse = |problem| Err(self.invalid(value.span(), field, problem));
        if number.is_zero() {
            // "-0" is zero, not a negative price; store it without its sign.
            return Ok(Decimal::ZERO);
        }
        if number.is_sign_negative() {
            return refuse(PlanProblem::Negative { value: number });
        }
        let limit = Decimal::from(limit);
        if number > limit {
            return refuse(PlanProblem::TooLarge {
                value: number,
                limit,
            });
        }
        if number.normalize().scale() > MAX_FRACTION_DIGITS {
            return refuse(PlanProblem::TooPrecise {
                value: number,
                limit: MAX_FRACTION_DIGITS,
            });
        }
        Ok(number)
    }

    /// An instant: a TOML date-time or date, or a string in RFC 3339 (or ISO 8601 without
    /// offset, read as UTC). A bare date means its midnight UTC.
    pub(super) fn timestamp(&self, value: &Value<'_>, field: &str) -> Result<Timestamp> {
        let text = match value.get_ref() {
            DeValue::String(text) => text.to_string(),
            DeValue::Datetime(datetime) if datetime.time.is_none() => match datetime.date {
                Some(date) => format!("{date}T00:00:00Z"),
                None => datetime.to_string(),
            },
            DeValue::Datetime(datetime) => datetime.to_string(),
            _ => return Err(self.wrong_type(value, field, "a timestamp")),
        };
        Timestamp::parse(&text).map_err(|reason| {
            self.invalid(
                value.span(),
                field,
                PlanProblem::BadTimestamp { text, reason },
            )
        })
    }
}

/// Parses `-?digits(.digits)?` exactly; anything else (exponents, `_`, spaces, `+`) is refused
/// so that what the file says is what is charged.
fn parse_decimal(text: &str) -> Result<Decimal, &'static str> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !fraction.is_none_or(all_digits) {
        return Err("only digits, an optional leading '-' and one '.' between digits are allowed");
    }
    Decimal::from_str_exact(text).map_err(|_| "it has too many digits to be held exactly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals_parse_exactly_and_everything_else_is_refused() {
        assert_eq!(parse_decimal("0.0002"), Ok(Decimal::new(2, 4)));
        assert_eq!(parse_decimal("-12"), Ok(Decimal::from(-12)));
        assert_eq!(parse_decimal("100000"), Ok(Decimal::from(100_000)));
        for text in [
            "", "-", ".5", "5.", "1e3", "1_000", " 1", "+1", "1.2.3", "0x10", "NaN",
        ] {
            assert!(parse_decimal(text).is_err(), "{text:?} was accepted");
        }
        assert!(parse_decimal("1.00000000000000000000000000001").is_err());
    }
}
