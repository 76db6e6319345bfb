//! Trust roots: the certificates of a CA bundle file, and the system's roots, loaded once per
//! process (the first TLS connection pays for reading them).

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The largest CA bundle read. RDS's global bundle, which holds the CAs of every region, is
/// under 200 KiB.
pub(crate) const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The certificates of the PEM file at `path`, in file order.
///
/// Fails, with a reason naming the file, when it cannot be read, is larger than
/// [`MAX_CA_FILE_BYTES`], is not PEM, or holds no certificate.
pub(crate) fn read_ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let name = path.display();
    let mut pem = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|error| format!("cannot read the CA bundle {name}: {error}"))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!(
            "the CA bundle {name} is larger than {MAX_CA_FILE_BYTES} bytes"
        ));
    }
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("the CA bundle {name} is not valid PEM: {error}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA bundle {name} holds no certificate (no BEGIN CERTIFICATE block)"
        ));
    }
    Ok(certificates)
}

/// Adds every certificate of a bundle to `roots`.
///
/// Fails when one of them cannot be a trust anchor (not an X.509 certificate rustls can read):
/// a bundle is used whole or not at all.
pub(crate) fn add_bundle(
    roots: &mut RootCertStore,
    bundle: Vec<CertificateDer<'static>>,
    path: &Path,
) -> Result<(), String> {
    for (index, certificate) in bundle.into_iter().enumerate() {
        roots.add(certificate).map_err(|error| {
            format!(
                "certificate {} of the CA bundle {} cannot be a trust root: {error}",
                index + 1,
                path.display()
            )
        })?;
    }
    Ok(())
}

/// The system's trust roots as rustls-native-certs finds them (on Linux: `SSL_CERT_FILE`,
/// `SSL_CERT_DIR`, or the distribution's bundle). Certificates it cannot read or parse are
/// skipped: the system's store is a convenience for `verify-full`, and an empty one is reported
/// where it matters, when no CA bundle is given either.
pub(crate) fn system_roots() -> &'static RootCertStore {
    static SYSTEM_ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    SYSTEM_ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        roots
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway directory of this test process.
    fn scratch(name: &str) -> std::path::PathBuf {
        let directory =
            std::env::temp_dir().join(format!("tally-postgres-roots-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        directory.join(name)
    }

    #[test]
    fn given_a_missing_file_then_the_reason_names_it() {
        let path = scratch("missing.pem");
        let reason = read_ca_bundle(&path).unwrap_err();
        assert!(reason.contains("cannot read the CA bundle"), "{reason}");
        assert!(reason.contains("missing.pem"), "{reason}");
    }

    #[test]
    fn given_a_file_without_certificates_then_it_is_refused() {
        let path = scratch("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let reason = read_ca_bundle(&path).unwrap_err();
        assert!(reason.contains("holds no certificate"), "{reason}");
    }

    #[test]
    fn given_a_file_over_the_limit_then_it_is_refused_unread() {
        let path = scratch("large.pem");
        let file = File::create(&path).unwrap();
        file.set_len(MAX_CA_FILE_BYTES + 1).unwrap();
        let reason = read_ca_bundle(&path).unwrap_err();
        assert!(reason.contains("larger than"), "{reason}");
    }

    #[test]
    fn given_a_block_that_is_no_certificate_then_the_bundle_is_refused_whole() {
        let path = scratch("garbage.pem");
        let mut roots = RootCertStore::empty();
        let bundle = vec![CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01])];
        let reason = add_bundle(&mut roots, bundle, &path).unwrap_err();
        assert!(
            reason.contains("certificate 1 of the CA bundle"),
            "{reason}"
        );
    }
}
