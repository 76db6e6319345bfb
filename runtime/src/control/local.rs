//! Local stand-ins for what onboarding provisions in AWS, each writing what it would create as
//! files a person can read: the storage policy, the auth configuration, the app's manifests and
//! the emails.

use std::path::{Path, PathBuf};

use tally_schemas::Timestamp;
use tally_schemas::layout::{tenant_marker_key, tenant_prefix};
use tally_tenancy::manifests::{manifests, namespace_name};
use tally_tenancy::policy::storage_policy;
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Clock, Email, Mailer, Provision, Provisioned, StepError, Tenant, Tier};

use super::{step_error, write_atomically};
use crate::ports::Bucket;

/// ProvisionStorage locally: the tenant's prefix (a marker object) in the local bucket, and the
/// policy AWS would get, written to `{dir}/{tenant_id}.json`.
#[derive(Clone, Debug)]
pub struct LocalStorage<B> {
    /// The local bucket.
    pub bucket: B,
    /// The bucket's name, for the policy's resources.
    pub bucket_name: String,
    /// Where policies are written.
    pub dir: PathBuf,
}

impl<B: Bucket + Send + Sync> Provision for LocalStorage<B> {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let marker = tenant_marker_key(&tenant.tenant_id);
        self.bucket
            .put(&marker, tenant.tenant_id.as_str().as_bytes())
            .map_err(|error| StepError::permanent(format!("writing {marker}: {error}")))?;
        let path = self.dir.join(format!("{}.json", tenant.tenant_id));
        let policy = serde_json::to_vec_pretty(&storage_policy(&self.bucket_name, tenant))
            .expect("a policy serializes");
        write_atomically(&path, &policy).map_err(|e| step_error("writing", &path, e))?;
        Ok(
            Provisioned::one("storage.prefix", tenant_prefix(&tenant.tenant_id))
                .with("storage.policy", path.display().to_string()),
        )
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        let marker = tenant_marker_key(&tenant.tenant_id);
        self.bucket
            .delete(&marker)
            .map_err(|error| StepError::permanent(format!("deleting {marker}: {error}")))?;
        remove_file(&self.dir.join(format!("{}.json", tenant.tenant_id)))
    }
}

/// ConfigureAuth locally: tokens are signed by the local key, so what a user pool would hold is
/// recorded in `{dir}/{tenant_id}.json`: premium a pool of its own, standard an app client and a
/// group in the shared local pool.
#[derive(Clone, Debug)]
pub struct LocalAuth {
    /// Where the records are written.
    pub dir: PathBuf,
}

impl Provision for LocalAuth {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let id = tenant.tenant_id.as_str();
        let (pool, group) = match tenant.tier {
            Tier::Premium => (format!("local-{id}"), "tally-admins".to_owned()),
            Tier::Standard => ("local".to_owned(), format!("tenant-{id}")),
        };
        let provisioned = Provisioned::one("auth.user_pool_id", pool)
            .with("auth.app_client_id", format!("tally-{id}"))
            .with("auth.group", group);
        let path = self.dir.join(format!("{id}.json"));
        let record = serde_json::to_vec_pretty(&provisioned.resources).expect("serializes");
        write_atomically(&path, &record).map_err(|e| step_error("writing", &path, e))?;
        Ok(provisioned)
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        remove_file(&self.dir.join(format!("{}.json", tenant.tenant_id)))
    }
}

/// DeployApp without a cluster: the manifests written to `{dir}/{tenant_id}/`, ready for
/// `kubectl apply -f` or a GitOps agent.
#[derive(Clone, Debug)]
pub struct ManifestDir {
    /// Where the manifests go.
    pub dir: PathBuf,
}

impl Provision for ManifestDir {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let folder = self.dir.join(tenant.tenant_id.as_str());
        for (name, object) in manifests(tenant) {
            let path = folder.join(name);
            let bytes = serde_json::to_vec_pretty(&object).expect("a manifest serializes");
            write_atomically(&path, &bytes).map_err(|e| step_error("writing", &path, e))?;
        }
        Ok(Provisioned::one("app.namespace", namespace_name(tenant))
            .with("app.manifests", folder.display().to_string()))
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        let folder = self.dir.join(tenant.tenant_id.as_str());
        match std::fs::remove_dir_all(&folder) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(step_error("removing", &folder, error))
            }
            _ => Ok(()),
        }
    }
}

/// Email on the embedded default: each message a file in the outbox folder.
#[derive(Clone, Debug)]
pub struct Outbox {
    /// The outbox folder.
    pub dir: PathBuf,
}

impl Mailer for Outbox {
    async fn send(&self, email: &Email) -> StepResult<String> {
        let now = crate::clock::now();
        let stamp = now.as_millis();
        let mut attempt = 0;
        // Messages sent in the same millisecond get consecutive suffixes.
        let (id, path) = loop {
            let id = format!("{stamp:013}-{attempt}");
            let path = self.dir.join(format!("{id}.eml"));
            if !path.exists() {
                break (id, path);
            }
            attempt += 1;
        };
        let message = format!(
            "Date: {now}\nFrom: Tally <no-reply@tally.local>\nTo: {to}\nSubject: {subject}\n\n{body}",
            to = email.to,
            subject = email.subject,
            body = email.body,
        );
        write_atomically(&path, message.as_bytes()).map_err(|e| step_error("writing", &path, e))?;
        Ok(id)
    }
}

/// The wall clock and real sleeps.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        crate::clock::now()
    }

    async fn sleep(&self, secs: u32) {
        std::thread::sleep(std::time::Duration::from_secs(u64::from(secs)));
    }
}

fn remove_file(path: &Path) -> StepResult<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(step_error("removing", path, error))
        }
        _ => Ok(()),
    }
}
