//! Currencies: ISO 4217 codes and their minor units, the precision every invoice amount is
//! rounded to. Only codes in this table are accepted, so a typo cannot invent a currency.

use std::fmt;

use serde::{Serialize, Serializer};

/// A currency and the number of digits of its minor unit (2 for cents, 0 for yen, 3 for fils).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    /// The ISO 4217 alphabetic code, upper case.
    pub code: &'static str,
    /// Digits after the decimal point of the smallest amount that can be paid.
    pub minor_units: u32,
}

/// The currencies Tally bills in, with their ISO 4217 minor units, sorted by code.
///
/// The zero- and three-digit currencies are listed because they are where rounding bugs hide.
pub const CURRENCIES: &[Currency] = &[
    currency("AUD", 2),
    currency("BHD", 3),
    currency("BRL", 2),
    currency("CAD", 2),
    currency("CHF", 2),
    currency("CLF", 4),
    currency("CLP", 0),
    currency("CNY", 2),
    currency("CZK", 2),
    currency("DKK", 2),
    currency("EUR", 2),
    currency("GBP", 2),
    currency("HKD", 2),
    currency("HUF", 2),
    currency("IDR", 2),
    currency("ILS", 2),
    currency("INR", 2),
    currency("IQD", 3),
    currency("ISK", 0),
    currency("JOD", 3),
    currency("JPY", 0),
    currency("KRW", 0),
    currency("KWD", 3),
    currency("LYD", 3),
    currency("MXN", 2),
    currency("NOK", 2),
    currency("NZD", 2),
    currency("OMR", 3),
    currency("PLN", 2),
    currency("PYG", 0),
    currency("SEK", 2),
    currency("SGD", 2),
    currency("THB", 2),
    currency("TND", 3),
    currency("TRY", 2),
    currency("TWD", 2),
    currency("UGX", 0),
    currency("USD", 2),
    currency("UYW", 4),
    currency("VND", 0),
    currency("ZAR", 2),
];

const fn currency(code: &'static str, minor_units: u32) -> Currency {
    Currency { code, minor_units }
}

impl Currency {
    /// The US dollar, the currency of the default plans.
    pub const USD: Currency = currency("USD", 2);

    /// The currency with ISO 4217 code `code` (upper case, as the standard writes it), if the
    /// table has it.
    pub fn from_code(code: &str) -> Option<Currency> {
        CURRENCIES
            .binary_search_by(|candidate| candidate.code.cmp(code))
            .ok()
            .map(|position| CURRENCIES[position])
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.code)
    }
}

/// A currency serializes as its code: the minor units follow from it.
impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique_so_lookup_finds_every_code() {
        for pair in CURRENCIES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} before {}",
                pair[0],
                pair[1]
            );
        }
        for currency in CURRENCIES {
            assert_eq!(Currency::from_code(currency.code), Some(*currency));
        }
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        let minor = |code| Currency::from_code(code).unwrap().minor_units;
        for code in [
            "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
        ] {
            assert_eq!(minor(code), 2, "{code}");
        }
        for code in ["INR", "CNY", "BRL", "MXN", "SGD", "HKD", "ZAR"] {
            assert_eq!(minor(code), 2, "{code}");
        }
        for code in ["JPY", "KRW", "CLP", "ISK"] {
            assert_eq!(minor(code), 0, "{code}");
        }
        for code in ["KWD", "BHD", "JOD", "OMR", "TND"] {
            assert_eq!(minor(code), 3, "{code}");
        }
        assert_eq!(Currency::USD, Currency::from_code("USD").unwrap());
    }

    #[test]
    fn unknown_and_lower_case_codes_are_not_found() {
        for code in ["usd", "XXX", "", "US", "USDD"] {
            assert_eq!(Currency::from_code(code), None, "{code}");
        }
    }
}
