//! The local signing key of the embedded default (no AWS): one RSA-2048 key kept in a directory,
//! created once and reused, whose public half is written as a JWKS so that local tokens are
//! verified by the same code as Cognito's.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use serde_json::json;

use crate::jose::{Header, RS256, base64url_encode};
use crate::{AuthError, KeySet, Result};

/// The `iss` of locally issued tokens.
pub const LOCAL_ISSUER: &str = "tally-local";
/// The `aud` of locally issued tokens.
pub const LOCAL_AUDIENCE: &str = "tally-admin";
/// The private key file in the key directory: PKCS#8 DER, mode 0600 on unix.
pub const SIGNING_KEY_FILE: &str = "signing-key.der";
/// The public key file in the key directory: a JWKS document.
pub const JWKS_FILE: &str = "jwks.json";

/// The smallest key accepted from the key file, in bytes of modulus (2048 bits).
const MIN_MODULUS_BYTES: usize = 256;
/// The unix mode of the private key file: readable by its owner only.
const PRIVATE_FILE_MODE: u32 = 0o600;
/// The unix mode of the JWKS file, which holds only the public key.
const PUBLIC_FILE_MODE: u32 = 0o644;

/// Issues RS256 tokens with the local signing key.
pub struct LocalIssuer {
    key_pair: KeyPair,
    kid: String,
    jwks_json: String,
    key_set: KeySet,
}

impl std::fmt::Debug for LocalIssuer {
    /// Shows the key id only: the private key stays out of logs.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LocalIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl LocalIssuer {
    /// Loads the signing key from `dir`, or creates it there if there is none, and (re)writes
    /// `dir/jwks.json` when it does not match the key.
    ///
    /// Fails if the directory or a file cannot be read or written, or if the key file does not
    /// hold an RSA private key of 2048 bits or more in PKCS#8 DER (it is never overwritten).
    pub fn load_or_create(dir: &Path) -> Result<LocalIssuer> {
        fs::create_dir_all(dir).map_err(|source| key_file_error("create", dir, source))?;
        let key_path = dir.join(SIGNING_KEY_FILE);
        let issuer = match fs::read(&key_path) {
            Ok(pkcs8) => LocalIssuer::from_pkcs8(&pkcs8, &key_path)?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                LocalIssuer::create(&key_path)?
            }
            Err(source) => return Err(key_file_error("read", &key_path, source)),
        };
        let jwks_path = dir.join(JWKS_FILE);
        if fs::read(&jwks_path).ok().as_deref() != Some(issuer.jwks_json.as_bytes()) {
            write_replacing(&jwks_path, issuer.jwks_json.as_bytes())?;
        }
        Ok(issuer)
    }

    /// An issuer with a fresh key kept only in memory, for tests.
    ///
    /// Fails only if the crypto library cannot generate a key.
    pub fn generate() -> Result<LocalIssuer> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| AuthError::Crypto {
            operation: "generate an RSA-2048 key",
        })?;
        LocalIssuer::from_key_pair(key_pair)
    }

    /// The key id of the signing key: its RFC 7638 JWK thumbprint, stable across restarts.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWKS document, the same as `dir/jwks.json`.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// The key set to verify this issuer's tokens with, parsed from [`LocalIssuer::jwks_json`].
    pub fn key_set(&self) -> KeySet {
        self.key_set.clone()
    }

    /// A token for `subject` in `groups`, issued at `now_unix_secs` by [`LOCAL_ISSUER`] for
    /// [`LOCAL_AUDIENCE`], expiring `ttl_secs` later.
    pub fn token(
        &self,
        subject: &str,
        groups: &[&str],
        ttl_secs: u32,
        now_unix_secs: i64,
    ) -> String {
        let claims = json!({
            "iss": LOCAL_ISSUER,
            "aud": LOCAL_AUDIENCE,
            "sub": subject,
            "cognito:groups": groups,
            "iat": now_unix_secs,
            "exp": now_unix_secs.saturating_add(i64::from(ttl_secs)),
        });
        self.sign_claims(&claims)
    }

    /// Signs any claims with this key and the usual header; tests use it to build tokens with
    /// claims [`LocalIssuer::token`] would never write.
    pub(crate) fn sign_claims(&self, claims: &serde_json::Value) -> String {
        let header = Header {
            alg: RS256.to_string(),
            kid: Some(self.kid.clone()),
            typ: Some("JWT".to_string()),
            crit: None,
        };
        let header_json = serde_json::to_vec(&header).expect("a header serializes");
        let payload_json = serde_json::to_vec(claims).expect("a JSON value serializes");
        let signing_input = format!(
            "{}.{}",
            base64url_encode(&header_json),
            base64url_encode(&payload_json)
        );
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("signing with a valid RSA key and a modulus-sized buffer succeeds");
        format!("{signing_input}.{}", base64url_encode(&signature))
    }

    fn from_pkcs8(pkcs8: &[u8], key_path: &Path) -> Result<LocalIssuer> {
        let invalid = || AuthError::InvalidSigningKey {
            path: key_path.to_path_buf(),
        };
        let key_pair = KeyPair::from_pkcs8(pkcs8).map_err(|_| invalid())?;
        if key_pair.public_modulus_len() < MIN_MODULUS_BYTES {
            return Err(invalid());
        }
        LocalIssuer::from_key_pair(key_pair)
    }

    /// Generates a key and publishes it at `key_path` without replacing one that another process
    /// published meanwhile; in that case that key is loaded instead, so both agree.
    fn create(key_path: &Path) -> Result<LocalIssuer> {
        let issuer = LocalIssuer::generate()?;
        let pkcs8 = issuer.key_pair.as_der().map_err(|_| AuthError::Crypto {
            operation: "encode the key as PKCS#8",
        })?;
        let temporary_path = write_temporary(key_path, pkcs8.as_ref(), PRIVATE_FILE_MODE)?;
        // A hard link is rename without replacing: it fails if the key file appeared meanwhile.
        let published = fs::hard_link(&temporary_path, key_path);
        let _ = fs::remove_file(&temporary_path);
        match published {
            Ok(()) => {
                sync_parent_directory(key_path)?;
                Ok(issuer)
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let pkcs8 = fs::read(key_path)
                    .map_err(|source| key_file_error("read", key_path, source))?;
                LocalIssuer::from_pkcs8(&pkcs8, key_path)
            }
            Err(source) => Err(key_file_error("publish", key_path, source)),
        }
    }

    fn from_key_pair(key_pair: KeyPair) -> Result<LocalIssuer> {
        let components = PublicKeyComponents::<Vec<u8>>::from(key_pair.public_key());
        let modulus = base64url_encode(&components.n);
        let exponent = base64url_encode(&components.e);
        // RFC 7638: the SHA-256 of the required members, in lexicographic order, no whitespace.
        let thumbprint_input = json!({ "e": exponent, "kty": "RSA", "n": modulus }).to_string();
        let kid = base64url_encode(digest(&SHA256, thumbprint_input.as_bytes()).as_ref());
        let jwks = json!({ "keys": [{
            "kty": "RSA", "use": "sig", "alg": RS256, "kid": kid, "n": modulus, "e": exponent,
        }] });
        let jwks_json =
            serde_json::to_string_pretty(&jwks).expect("a JSON value serializes") + "\n";
        let key_set = KeySet::from_jwks_json(jwks_json.as_bytes())?;
        Ok(LocalIssuer {
            key_pair,
            kid,
            jwks_json,
            key_set,
        })
    }
}

/// Writes `contents` to a new temporary file beside `path` (with `unix_mode` on unix), flushed
/// to disk.
fn write_temporary(path: &Path, contents: &[u8], unix_mode: u32) -> Result<PathBuf> {
    let mut random = [0u8; 8];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| AuthError::Crypto {
            operation: "draw a temporary file name",
        })?;
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("key");
    let temporary_path = path.with_file_name(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        base64url_encode(&random)
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, unix_mode);
    #[cfg(not(unix))]
    let _ = unix_mode;
    let written = options.open(&temporary_path).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary_path);
        return Err(key_file_error("write", &temporary_path, source));
    }
    Ok(temporary_path)
}

/// Replaces `path` with public `contents` atomically: a temporary file, then a rename over it.
fn write_replacing(path: &Path, contents: &[u8]) -> Result<()> {
    let temporary_path = write_temporary(path, contents, PUBLIC_FILE_MODE)?;
    if let Err(source) = fs::rename(&temporary_path, path) {
        let _ = fs::remove_file(&temporary_path);
        return Err(key_file_error("replace", path, source));
    }
    sync_parent_directory(path)
}

/// Makes a new directory entry durable; a no-op where directories cannot be opened (Windows).
fn sync_parent_directory(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        fs::File::open(parent)
            .and_then(|directory| directory.sync_all())
            .map_err(|source| key_file_error("sync", parent, source))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn key_file_error(action: &'static str, path: &Path, source: io::Error) -> AuthError {
    AuthError::KeyFile {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
pub(crate) mod tests;
