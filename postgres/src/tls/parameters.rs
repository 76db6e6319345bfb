//! Takes the TLS parameters (`sslmode`, `sslrootcert`) out of a connection string before
//! tokio-postgres parses the rest: it knows neither `verify-ca`/`verify-full` nor `sslrootcert`.
//!
//! Both forms tokio-postgres accepts are read the way it reads them: URLs
//! (`postgres://user:password@host:port/dbname?key=value&...`, keys and values percent-decoded)
//! and `key=value` strings (values quoted with `'` or not, `\` escaping the next character). A
//! string these rules cannot read is passed on unchanged, so that tokio-postgres reports it.

use std::borrow::Cow;
use std::iter::Peekable;
use std::str::CharIndices;

/// The keywords taken out of the connection string.
const TLS_KEYWORDS: [&str; 2] = ["sslmode", "sslrootcert"];

/// The prefixes that make a connection string a URL, as tokio-postgres recognises them.
const URL_PREFIXES: [&str; 2] = ["postgres://", "postgresql://"];

/// A connection string split into its TLS parameters and the rest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TlsParameters {
    /// The connection string without `sslmode` and `sslrootcert`, for tokio-postgres to parse.
    pub(crate) remainder: String,
    /// The value of the last `sslmode`, as libpq lets the last occurrence win.
    pub(crate) ssl_mode: Option<String>,
    /// The value of the last `sslrootcert`: the path of a PEM file of CA certificates.
    pub(crate) root_cert: Option<String>,
}

impl TlsParameters {
    fn unchanged(text: &str) -> TlsParameters {
        TlsParameters {
            remainder: text.to_owned(),
            ssl_mode: None,
            root_cert: None,
        }
    }

    fn keep(&mut self, key: &str, value: String) -> bool {
        match key {
            "sslmode" => self.ssl_mode = Some(value),
            "sslrootcert" => self.root_cert = Some(value),
            _ => return false,
        }
        true
    }
}

/// Splits `text`, a URL or a `key=value` string, into its TLS parameters and the rest.
pub(crate) fn take_tls_parameters(text: &str) -> TlsParameters {
    let taken = match URL_PREFIXES
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))
    {
        Some(after_prefix) => take_from_url(text, text.len() - after_prefix.len()),
        None => take_from_key_values(text),
    };
    taken.unwrap_or_else(|| TlsParameters::unchanged(text))
}

/// The query of a URL starts at the first `?` after the first `@` (tokio-postgres takes
/// everything up to the first `@` as credentials, so a password may hold a `?`).
fn take_from_url(url: &str, after_prefix: usize) -> Option<TlsParameters> {
    let after_credentials = url[after_prefix..]
        .find('@')
        .map_or(after_prefix, |at| after_prefix + at + 1);
    let Some(question_mark) = url[after_credentials..].find('?') else {
        return Some(TlsParameters::unchanged(url));
    };
    let query_start = after_credentials + question_mark + 1;
    let mut taken = TlsParameters::unchanged(&url[..query_start]);
    let mut kept = Vec::new();
    let mut rest = &url[query_start..];
    while !rest.is_empty() {
        // As tokio-postgres reads it: the key runs to the next `=` (an `&` before it is part of
        // the key), the value to the next `&` after it.
        let equals = rest.find('=')?;
        let value_end = rest[equals..]
            .find('&')
            .map_or(rest.len(), |at| equals + at);
        let (key, value) = (&rest[..equals], &rest[equals + 1..value_end]);
        let is_tls_parameter = match (decode(key), decode(value)) {
            (Some(key), Some(value)) => taken.keep(&key, value.into_owned()),
            // tokio-postgres will reject what does not decode.
            _ => false,
        };
        if !is_tls_parameter {
            kept.push(&rest[..value_end]);
        }
        rest = rest.get(value_end + 1..).unwrap_or("");
    }
    if kept.is_empty() {
        // No parameter left: drop the `?` too.
        taken.remainder.pop();
    } else {
        taken.remainder.push_str(&kept.join("&"));
    }
    Some(taken)
}

fn decode(text: &str) -> Option<Cow<'_, str>> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
}

/// Reads `key = value` parameters separated by whitespace, as tokio-postgres does, and blanks
/// out the TLS ones. `None` when the string is malformed (tokio-postgres will say how).
fn take_from_key_values(text: &str) -> Option<TlsParameters> {
    let mut reader = KeyValueReader {
        text,
        characters: text.char_indices().peekable(),
    };
    let mut taken = TlsParameters::unchanged("");
    let mut copied_up_to = 0;
    while let Some(parameter) = reader.parameter()? {
        if TLS_KEYWORDS.contains(&parameter.key) {
            taken
                .remainder
                .push_str(&text[copied_up_to..parameter.start]);
            // A space keeps the parameters on either side apart.
            taken.remainder.push(' ');
            copied_up_to = parameter.end;
            taken.keep(parameter.key, parameter.value);
        }
    }
    taken.remainder.push_str(&text[copied_up_to..]);
    Some(taken)
}

/// One `key=value` parameter and where it lies in the text.
struct Parameter<'a> {
    start: usize,
    key: &'a str,
    value: String,
    end: usize,
}

/// A reader of `key=value` strings that follows tokio-postgres's rules, and also reports where
/// each parameter starts and ends.
struct KeyValueReader<'a> {
    text: &'a str,
    characters: Peekable<CharIndices<'a>>,
}

impl<'a> KeyValueReader<'a> {
    fn position(&mut self) -> usize {
        self.characters
            .peek()
            .map_or(self.text.len(), |&(index, _)| index)
    }

    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> &'a str {
        let start = self.position();
        while self
            .characters
            .next_if(|&(_, character)| accept(character))
            .is_some()
        {}
        &self.text[start..self.position()]
    }

    /// The next parameter; `Some(None)` where tokio-postgres stops reading (at the end of the
    /// text, or at a `=` with no keyword before it), `None` when the text is malformed.
    fn parameter(&mut self) -> Option<Option<Parameter<'a>>> {
        self.take_while(char::is_whitespace);
        let start = self.position();
        let key = self.take_while(|character| !character.is_whitespace() && character != '=');
        if key.is_empty() {
            return Some(None);
        }
        self.take_while(char::is_whitespace);
        self.characters
            .next_if(|&(_, character)| character == '=')?;
        self.take_while(char::is_whitespace);
        let value = self.value()?;
        let end = self.position();
        Some(Some(Parameter {
            start,
            key,
            value,
            end,
        }))
    }

    /// A value quoted with `'`, or running to the next whitespace; `\` escapes the next
    /// character in both. `None` for an unterminated quote or an empty unquoted value.
    fn value(&mut self) -> Option<String> {
        let quoted = self
            .characters
            .next_if(|&(_, character)| character == '\'')
            .is_some();
        let mut value = String::new();
        loop {
            match self.characters.peek() {
                None if quoted => return None,
                None => break,
                Some(&(_, '\'')) if quoted => {
                    self.characters.next();
                    break;
                }
                Some(&(_, character)) if !quoted && character.is_whitespace() => break,
                Some(_) => {}
            }
            let (_, character) = self.characters.next()?;
            if character == '\\' {
                if let Some((_, escaped)) = self.characters.next() {
                    value.push(escaped);
                }
            } else {
                value.push(character);
            }
        }
        (quoted || !value.is_empty()).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::Config;

    fn expected(remainder: &str, ssl_mode: Option<&str>, root_cert: Option<&str>) -> TlsParameters {
        TlsParameters {
            remainder: remainder.to_owned(),
            ssl_mode: ssl_mode.map(str::to_owned),
            root_cert: root_cert.map(str::to_owned),
        }
    }

    #[test]
    fn given_a_url_without_a_query_then_nothing_is_taken() {
        let url = "postgres://postgres@127.0.0.1:5432/postgres";
        assert_eq!(take_tls_parameters(url), expected(url, None, None));
    }

    #[test]
    fn given_a_url_with_only_tls_parameters_then_the_query_is_dropped() {
        let url =
            "postgres://owner:secret@db.example:5432/tally?sslmode=verify-full&sslrootcert=/ca.pem";
        assert_eq!(
            take_tls_parameters(url),
            expected(
                "postgres://owner:secret@db.example:5432/tally",
                Some("verify-full"),
                Some("/ca.pem")
            )
        );
    }

    #[test]
    fn given_a_url_with_other_parameters_then_they_are_kept_in_order() {
        let url = "postgresql://h/db?application_name=a&sslmode=require&connect_timeout=3";
        let taken = take_tls_parameters(url);
        assert_eq!(
            taken,
            expected(
                "postgresql://h/db?application_name=a&connect_timeout=3",
                Some("require"),
                None
            )
        );
        let config: Config = taken.remainder.parse().unwrap();
        assert_eq!(config.get_application_name(), Some("a"));
    }

    #[test]
    fn given_percent_encoding_then_keys_and_values_are_decoded_as_tokio_postgres_does() {
        let url = "postgres://h/db?ssl%6Dode=verify%2Dca&sslrootcert=%2Ftmp%2Fmy%20ca.pem";
        assert_eq!(
            take_tls_parameters(url),
            expected("postgres://h/db", Some("verify-ca"), Some("/tmp/my ca.pem"))
        );
    }

    #[test]
    fn given_a_password_holding_a_question_mark_then_the_query_is_found_after_it() {
        let taken = take_tls_parameters("postgres://owner:pa?ss=word@h:5432/db?sslmode=require");
        assert_eq!(taken.ssl_mode.as_deref(), Some("require"));
        let config: Config = taken.remainder.parse().unwrap();
        assert_eq!(config.get_password(), Some(&b"pa?ss=word"[..]));
        assert_eq!(config.get_dbname(), Some("db"));
    }

    #[test]
    fn given_sslmode_twice_then_the_last_one_wins() {
        for text in [
            "postgres://h/db?sslmode=require&sslmode=disable",
            "host=h sslmode=require sslmode=disable",
        ] {
            let taken = take_tls_parameters(text);
            assert_eq!(taken.ssl_mode.as_deref(), Some("disable"), "{text}");
        }
    }

    #[test]
    fn given_a_malformed_url_query_then_the_url_is_passed_on_unchanged() {
        let url = "postgres://h/db?sslmode";
        assert_eq!(take_tls_parameters(url), expected(url, None, None));
        assert!(url.parse::<Config>().is_err());
    }

    #[test]
    fn given_key_values_then_the_tls_ones_are_blanked_and_the_rest_parses() {
        let text = r"host=h  sslmode = 'verify-ca' sslrootcert='/a b/c\'d.pem'dbname=x user=u";
        let taken = take_tls_parameters(text);
        assert_eq!(taken.ssl_mode.as_deref(), Some("verify-ca"));
        assert_eq!(taken.root_cert.as_deref(), Some("/a b/c'd.pem"));
        assert!(!taken.remainder.contains("ssl"), "{}", taken.remainder);
        let config: Config = taken.remainder.parse().unwrap();
        assert_eq!(config.get_dbname(), Some("x"));
        assert_eq!(config.get_user(), Some("u"));
    }

    #[test]
    fn given_an_escaped_unquoted_value_then_it_is_read_whole() {
        let taken = take_tls_parameters(r"sslrootcert=/my\ ca.pem host=h");
        assert_eq!(taken.root_cert.as_deref(), Some("/my ca.pem"));
        assert_eq!(taken.remainder.trim(), "host=h");
    }

    #[test]
    fn given_sslmode_only_inside_another_value_then_nothing_is_taken() {
        let text = "host=h application_name='sslmode=require'";
        assert_eq!(take_tls_parameters(text), expected(text, None, None));
    }

    #[test]
    fn given_malformed_key_values_then_the_text_is_passed_on_unchanged() {
        for text in ["host=h sslmode", "sslmode='require", "sslmode= "] {
            assert_eq!(
                take_tls_parameters(text),
                expected(text, None, None),
                "{text}"
            );
            assert!(text.parse::<Config>().is_err(), "{text}");
        }
    }
}
