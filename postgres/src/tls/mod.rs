//! TLS as the connection URL's `sslmode` asks for it. Every encrypted connection verifies the
//! server's certificate: **no mode encrypts without verifying**, not even `require`.
//!
//! | `sslmode`                            | TLS      | roots trusted               | host checked |
//! |--------------------------------------|----------|-----------------------------|--------------|
//! | absent, `disable`, `allow`, `prefer` | no       |                             |              |
//! | `require`, `verify-ca`               | required | the CA bundle               | no           |
//! | `verify-full`                        | required | the CA bundle, the system's | yes          |
//!
//! The CA bundle is the PEM file named by `sslrootcert` in the URL or, without it, by the
//! environment variable [`DATABASE_CA_FILE_VAR`] (for RDS: its `global-bundle.pem`). The
//! system's roots are those rustls-native-certs finds (`SSL_CERT_FILE` and `SSL_CERT_DIR`
//! override them).
//!
//! Why, mode by mode:
//! - **`allow` and `prefer` do not encrypt.** libpq's `prefer` tries TLS without checking the
//!   certificate and falls back to plaintext when the server declines: an active attacker can
//!   answer for the server or decline for it, so it guarantees nothing. Such connections stay
//!   plaintext, as every connection was before this crate had TLS, for loopback servers; ask for
//!   `require` or stronger anywhere else. A server that forces TLS (RDS with `rds.force_ssl=1`)
//!   refuses them with "no pg_hba.conf entry ... no encryption".
//! - **`require` is `verify-ca`, stricter than libpq's `require`.** libpq's `require` encrypts
//!   without checking who answers (unless a root certificate file exists, when it too becomes
//!   `verify-ca`). rustls could do that with a verifier that accepts any certificate, but against
//!   an attacker on the path such encryption is worth nothing, and the CA that signs RDS's
//!   certificates is published. So `require`, the mode of the URLs our infrastructure writes,
//!   fails before connecting when no CA bundle is given: set [`DATABASE_CA_FILE_VAR`].
//! - **`require` and `verify-ca` trust the CA bundle only, never the system's roots.** Without
//!   the host name check, any certificate any public CA issued to anyone for any name would
//!   pass; libpq 16 refuses `sslrootcert=system` below `verify-full` for the same reason.
//! - **`verify-full`** also checks the URL's `host` against the certificate's subject alternative
//!   names (DNS names, or IP addresses when the host is one). Only then are the system's roots
//!   trusted too, so a server with a publicly trusted certificate needs no bundle.
//!
//! Not supported: client certificates (`sslcert`, `sslkey`) and revocation lists (`sslcrl`),
//! whose keywords tokio-postgres refuses; SCRAM channel binding (a URL with
//! `channel_binding=require` fails). TLS needs a TCP `host`. The connector offers the ALPN
//! protocol `postgresql`, so `sslnegotiation=direct` (PostgreSQL 17) works.

mod connector;
mod parameters;
mod roots;
mod verifier;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

pub(crate) use connector::RustlsConnector;
pub(crate) use parameters::take_tls_parameters;

use roots::{add_bundle, read_ca_bundle, system_roots};
use verifier::ChainVerifier;

/// The environment variable naming a PEM file of CA certificates that TLS connections trust (for
/// RDS: its `global-bundle.pem`), unless the URL names one with `sslrootcert`. `require` and
/// `verify-ca` need one; `verify-full` trusts it besides the system's roots. An empty value
/// counts as unset.
pub const DATABASE_CA_FILE_VAR: &str = "TALLY_DATABASE_CA_FILE";

/// The ALPN protocol of PostgreSQL (required by `sslnegotiation=direct`).
const POSTGRES_ALPN_PROTOCOL: &[u8] = b"postgresql";

/// What a connection's `sslmode` asks for, once mapped as the module documentation explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    /// Plaintext: absent, `disable`, `allow`, `prefer`.
    Disable,
    /// TLS, chain checked against the CA bundle: `require`, `verify-ca`.
    VerifyCa,
    /// TLS, chain and host name checked: `verify-full`.
    VerifyFull,
}

impl SslMode {
    /// The mode for an `sslmode` value; `None` when it is none of libpq's six.
    pub(crate) fn parse(value: Option<&str>) -> Option<SslMode> {
        match value {
            None | Some("disable" | "allow" | "prefer") => Some(SslMode::Disable),
            Some("require" | "verify-ca") => Some(SslMode::VerifyCa),
            Some("verify-full") => Some(SslMode::VerifyFull),
            Some(_) => None,
        }
    }
}

/// The CA bundle to use: the URL's `sslrootcert`, else the value of [`DATABASE_CA_FILE_VAR`].
pub(crate) fn ca_file(
    root_cert: Option<&str>,
    from_environment: Option<OsString>,
) -> Option<PathBuf> {
    match root_cert {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => from_environment
            .filter(|path| !path.is_empty())
            .map(PathBuf::from),
    }
}

/// The connector for `mode`, `None` for plaintext.
///
/// Fails, with a reason a person can act on, when `require`/`verify-ca` has no CA bundle, the
/// bundle cannot be used (see [`roots::read_ca_bundle`]), or `verify-full` has no trust root at
/// all.
pub(crate) fn connector(
    mode: SslMode,
    ca_file: Option<&Path>,
) -> Result<Option<RustlsConnector>, String> {
    let bundle = ca_file
        .filter(|_| mode != SslMode::Disable)
        .map(|path| read_ca_bundle(path).map(|certificates| (path, certificates)))
        .transpose()?;
    let config = client_config(mode, system_roots(), bundle)?;
    Ok(config.map(RustlsConnector::new))
}

/// The rustls configuration for `mode`, trusting `bundle` and, for `verify-full`, `system`.
fn client_config(
    mode: SslMode,
    system: &RootCertStore,
    bundle: Option<(&Path, Vec<rustls::pki_types::CertificateDer<'static>>)>,
) -> Result<Option<ClientConfig>, String> {
    let mut roots = match mode {
        SslMode::Disable => return Ok(None),
        SslMode::VerifyCa => RootCertStore::empty(),
        SslMode::VerifyFull => system.clone(),
    };
    match bundle {
        Some((path, certificates)) => add_bundle(&mut roots, certificates, path)?,
        None if mode == SslMode::VerifyCa => {
            return Err(format!(
                "sslmode=require and sslmode=verify-ca check the server's certificate against a \
                 CA bundle, and none is given: set {DATABASE_CA_FILE_VAR} (for RDS, to its \
                 global-bundle.pem) or sslrootcert in the URL; the system's trust roots are used \
                 only with sslmode=verify-full"
            ));
        }
        None if roots.is_empty() => {
            return Err(format!(
                "sslmode=verify-full found no system trust roots and no CA bundle: set \
                 {DATABASE_CA_FILE_VAR} or sslrootcert in the URL"
            ));
        }
        None => {}
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the aws-lc-rs provider supports TLS 1.2 and 1.3");
    let builder = if mode == SslMode::VerifyFull {
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainVerifier::new(roots, algorithms)))
    };
    let mut config = builder.with_no_client_auth();
    config.alpn_protocols = vec![POSTGRES_ALPN_PROTOCOL.to_vec()];
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed CA certificate whose private key was thrown away (see the text in the file).
    fn unrelated_ca() -> (PathBuf, Vec<rustls::pki_types::CertificateDer<'static>>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/unrelated-ca.crt");
        let certificates = read_ca_bundle(&path).expect("the fixture reads");
        (path, certificates)
    }

    #[test]
    fn sslmode_values_map_to_three_modes_and_anything_else_is_refused() {
        let cases = [
            (None, Some(SslMode::Disable)),
            (Some("disable"), Some(SslMode::Disable)),
            (Some("allow"), Some(SslMode::Disable)),
            (Some("prefer"), Some(SslMode::Disable)),
            (Some("require"), Some(SslMode::VerifyCa)),
            (Some("verify-ca"), Some(SslMode::VerifyCa)),
            (Some("verify-full"), Some(SslMode::VerifyFull)),
            (Some("VERIFY-FULL"), None),
            (Some("verify_full"), None),
            (Some(""), None),
        ];
        for (value, expected) in cases {
            assert_eq!(SslMode::parse(value), expected, "{value:?}");
        }
    }

    #[test]
    fn given_sslrootcert_then_it_wins_over_the_environment() {
        let from_environment = || Some(OsString::from("/env/ca.pem"));
        assert_eq!(
            ca_file(Some("/url/ca.pem"), from_environment()),
            Some(PathBuf::from("/url/ca.pem"))
        );
        assert_eq!(
            ca_file(None, from_environment()),
            Some(PathBuf::from("/env/ca.pem"))
        );
        assert_eq!(
            ca_file(Some(""), from_environment()),
            Some(PathBuf::from("/env/ca.pem"))
        );
        assert_eq!(ca_file(None, Some(OsString::new())), None);
        assert_eq!(ca_file(None, None), None);
    }

    #[test]
    fn given_plaintext_then_no_tls_is_configured_even_with_a_bundle() {
        let (path, certificates) = unrelated_ca();
        let config = client_config(
            SslMode::Disable,
            &RootCertStore::empty(),
            Some((&path, certificates)),
        );
        assert!(config.unwrap().is_none());
    }

    #[test]
    fn given_require_without_a_bundle_then_it_fails_before_connecting_even_with_system_roots() {
        let (_, certificates) = unrelated_ca();
        let mut system = RootCertStore::empty();
        system.add_parsable_certificates(certificates);
        let reason = client_config(SslMode::VerifyCa, &system, None).unwrap_err();
        assert!(reason.contains(DATABASE_CA_FILE_VAR), "{reason}");
        assert!(reason.contains("only with sslmode=verify-full"), "{reason}");
    }

    #[test]
    fn given_verify_full_then_system_roots_alone_suffice_but_no_roots_at_all_fail() {
        let (path, certificates) = unrelated_ca();
        let mut system = RootCertStore::empty();
        system.add_parsable_certificates(certificates.clone());
        assert!(
            client_config(SslMode::VerifyFull, &system, None)
                .unwrap()
                .is_some()
        );
        let reason = client_config(SslMode::VerifyFull, &RootCertStore::empty(), None).unwrap_err();
        assert!(reason.contains("no system trust roots"), "{reason}");
        let config = client_config(
            SslMode::VerifyFull,
            &RootCertStore::empty(),
            Some((&path, certificates)),
        );
        assert!(config.unwrap().is_some());
    }

    #[test]
    fn given_tls_then_the_postgresql_alpn_protocol_is_offered() {
        let (path, certificates) = unrelated_ca();
        let config = client_config(
            SslMode::VerifyCa,
            &RootCertStore::empty(),
            Some((&path, certificates)),
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.alpn_protocols, vec![b"postgresql".to_vec()]);
    }

    #[test]
    fn given_a_missing_bundle_then_the_connector_fails_and_names_the_file() {
        let reason = connector(
            SslMode::VerifyFull,
            Some(Path::new("/nonexistent/tally-ca.pem")),
        )
        .err()
        .expect("the file does not exist");
        assert!(reason.contains("/nonexistent/tally-ca.pem"), "{reason}");
    }
}
