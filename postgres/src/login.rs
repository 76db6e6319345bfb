//! Signing a database URL that carries no credentials in with a login kept elsewhere: in AWS the
//! owner's user name and password live in a Secrets Manager secret (kept and rotated by RDS),
//! while the URL itself (host, port, database, `sslmode`) is plain configuration.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{Error, Result};

/// The URL schemes tokio-postgres accepts.
const SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// `url` (`postgres://host:port/db?...`, without credentials) with `user` and `password` in it,
/// percent-encoded so that every character of either survives the URL parser.
///
/// Fails when `url` is not a `postgres://` or `postgresql://` URL, already names a user (two
/// sources of one credential would disagree sooner or later), or `user` is empty.
pub fn with_login(url: &str, user: &str, password: &str) -> Result<String> {
    let refuse = |reason| Error::Login { reason };
    let (scheme, rest) = SCHEMES
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme).map(|rest| (*scheme, rest)))
        .ok_or_else(|| refuse("the URL must start with postgres:// or postgresql://"))?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if rest[..authority_end].contains('@') {
        return Err(refuse(
            "the URL names a user already; give the host, port and database only",
        ));
    }
    if user.is_empty() {
        return Err(refuse("the login's user name is empty"));
    }
    Ok(format!(
        "{scheme}{}:{}@{rest}",
        percent_encode(user),
        percent_encode(password)
    ))
}

/// Every byte but RFC 3986's unreserved characters is written as `%XX`.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::parse_url;

    #[test]
    fn any_password_reaches_the_driver_unchanged() {
        for password in [
            "plain",
            "p@ss:w/rd?#%[]",
            "ünïcödé €",
            " spaces and \"quotes\" ",
        ] {
            // WHEN a credential-less URL is signed in
            let url = with_login(
                "postgres://db.example:5432/tally?sslmode=disable",
                "tally_owner",
                password,
            )
            .unwrap();
            // THEN the driver sees exactly that user, password, host and database
            let endpoint = parse_url(&url, "test", "admin").unwrap();
            assert_eq!(endpoint.config.get_user(), Some("tally_owner"));
            assert_eq!(
                endpoint.config.get_password(),
                Some(password.as_bytes()),
                "{url}"
            );
            assert_eq!(endpoint.config.get_dbname(), Some("tally"));
            assert_eq!(endpoint.config.get_ports(), &[5432]);
        }
    }

    #[test]
    fn the_other_scheme_and_a_url_without_path_are_signed_in_too() {
        assert_eq!(
            with_login("postgresql://db.example", "u", "p").unwrap(),
            "postgresql://u:p@db.example"
        );
        assert_eq!(
            with_login("postgres://db.example?sslmode=require", "u", "p").unwrap(),
            "postgres://u:p@db.example?sslmode=require"
        );
    }

    #[test]
    fn a_url_with_a_user_another_scheme_or_an_empty_user_is_refused() {
        for (url, user, expected) in [
            ("postgres://owner@db.example/tally", "u", "names a user"),
            ("postgres://owner:pw@db.example/tally", "u", "names a user"),
            ("host=db.example dbname=tally", "u", "must start with"),
            ("mysql://db.example/tally", "u", "must start with"),
            ("postgres://db.example/tally", "", "user name is empty"),
        ] {
            let error = with_login(url, user, "hunter2-pw").unwrap_err().to_string();
            assert!(error.contains(expected), "{url}: {error}");
            assert!(
                !error.contains("hunter2-pw"),
                "the password leaked: {error}"
            );
        }
    }

    #[test]
    fn an_at_sign_after_the_host_is_not_taken_for_a_user() {
        // A query value may hold '@'; only the authority is looked at.
        let url = with_login("postgres://db.example/tally?application_name=a@b", "u", "p").unwrap();
        assert_eq!(url, "postgres://u:p@db.example/tally?application_name=a@b");
    }
}
