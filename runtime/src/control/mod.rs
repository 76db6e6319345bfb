//! The control plane on the embedded default: the tenants table in an embedded database, the
//! audit log in the local bucket, and local stand-ins for what onboarding provisions in AWS
//! (a policy file for storage, a local user pool record for auth, manifest files for the app, an
//! outbox folder for email). Every adapter is safe to repeat, as the ports require.

mod audit;
mod local;
mod tenants;

pub use audit::BucketAudit;
pub use local::{LocalAuth, LocalStorage, ManifestDir, Outbox, SystemClock};
pub use tenants::EmbeddedTenants;

use std::path::Path;

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, then a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// A local failure as a step error: local files fail for good (a full disk needs a person).
fn step_error(action: &str, path: &Path, error: std::io::Error) -> tally_tenancy::StepError {
    tally_tenancy::StepError::permanent(format!("{action} {}: {error}", path.display()))
}
