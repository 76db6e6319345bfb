//! The control plane of the embedded default: the tenants table in `tenants.redb`, the audit
//! log under each tenant's prefix of the local bucket, and onboarding's local stand-ins under
//! `control/` (policies, auth records, app manifests) and `outbox/` in the data directory.

use std::path::Path;

use anyhow::{Context, Result};
use tally_runtime::control::{
    BucketAudit, EmbeddedTenants, LocalAuth, LocalStorage, ManifestDir, Outbox, SystemClock,
};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::invoicing::{DEFAULT_GRACE_HOURS, InvoiceJob, run_invoices};
use tally_runtime::quotas::{self, QuotaAlert, QuotaExceeded};
use tally_runtime::registry::TenantGate;
use tally_schemas::layout::DEFAULT_BUCKET;
use tally_schemas::time::MILLIS_PER_HOUR;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::ports::StepResult;
use tally_tenancy::{
    ControlPlane, FinalInvoice, Provision, Provisioned, Provisioners, RetryPolicy, StepError,
    Tenant,
};

use crate::context::TABLES_FILE;
use crate::{GlobalOptions, context};

/// The tenants table inside the data directory.
pub const TENANTS_FILE: &str = "tenants.redb";

/// The local control plane.
pub type LocalPlane = ControlPlane<
    EmbeddedTenants,
    BucketAudit<LocalBucket>,
    Provisioners<
        NoSharedDatabase,
        LocalStorage<LocalBucket>,
        LocalAuth,
        ManifestDir,
        Outbox,
        LocalBilling,
    >,
    SystemClock,
>;

/// The data directory's control plane.
///
/// Fails when the data directory or the meter catalog cannot be read.
pub fn open(global: &GlobalOptions) -> Result<LocalPlane> {
    let data_dir = &global.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let bucket = LocalBucket::open(data_dir.join(DEFAULT_BUCKET))?;
    let control = data_dir.join("control");
    let steps = Provisioners {
        database: NoSharedDatabase,
        storage: LocalStorage {
            bucket: bucket.clone(),
            bucket_name: DEFAULT_BUCKET.to_owned(),
            dir: control.join("policies"),
        },
        auth: LocalAuth {
            dir: control.join("auth"),
        },
        app: ManifestDir {
            dir: data_dir.join("manifests"),
        },
        mailer: Outbox {
            dir: data_dir.join("outbox"),
        },
        billing: LocalBilling {
            data_dir: data_dir.to_path_buf(),
            catalog: context::catalog(global)?,
        },
    };
    Ok(ControlPlane {
        store: EmbeddedTenants::new(data_dir.join(TENANTS_FILE)),
        audit: BucketAudit::new(bucket),
        steps,
        clock: SystemClock,
        catalog: context::catalog(global)?,
        retry: RetryPolicy::ONBOARDING,
    })
}

/// The registry as metering sees it: every tenant of the data directory.
///
/// Fails when the tenants table cannot be read.
pub fn tenant_gate(data_dir: &Path) -> Result<TenantGate> {
    let tenants = EmbeddedTenants::new(data_dir.join(TENANTS_FILE)).all()?;
    Ok(TenantGate::from_tenants(&tenants))
}

/// Runs a control-plane future on a single-threaded runtime: the local adapters block, so one
/// thread is all they use.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a single-threaded runtime")
        .block_on(future)
}

/// CreateDatabase on the embedded default: the shared PostgreSQL has no embedded stand-in
/// (DESIGN.md, "Real parts"), so the step records that no database was provisioned.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSharedDatabase;

impl Provision for NoSharedDatabase {
    async fn apply(&self, _tenant: &Tenant) -> StepResult<Provisioned> {
        Ok(Provisioned::one("database.kind", "none (embedded default)"))
    }

    async fn undo(&self, _tenant: &Tenant) -> StepResult<()> {
        Ok(())
    }
}

/// The final invoice at offboarding: the current period's invoice of the tenant, drafted now
/// from its usage to date; the monthly job finalizes it with the period.
#[derive(Clone, Debug)]
pub struct LocalBilling {
    data_dir: std::path::PathBuf,
    catalog: MeterCatalog,
}

impl FinalInvoice for LocalBilling {
    async fn issue(&self, tenant: &Tenant) -> StepResult<String> {
        let tables = self.data_dir.join(TABLES_FILE);
        if !tables.exists() {
            return Ok("none (no usage)".to_owned());
        }
        let failed = |error: tally_runtime::Error| {
            StepError::permanent(format!("drafting the final invoice: {error}"))
        };
        let mut store = RedbStore::open(&tables).map_err(failed)?;
        let bucket = LocalBucket::open(self.data_dir.join(DEFAULT_BUCKET)).map_err(failed)?;
        let now: Timestamp = tally_runtime::clock::now();
        let job = InvoiceJob {
            month_start: now.floor_month(),
            tenant: Some(tenant.tenant_id.clone()),
            finalize: false,
            now,
            grace_millis: DEFAULT_GRACE_HOURS * MILLIS_PER_HOUR,
        };
        let book = tally_billing::PlanBook::defaults();
        let outcomes =
            run_invoices(&bucket, &mut store, &self.catalog, &book, &job).map_err(failed)?;
        Ok(outcomes
            .first()
            .map_or("none (no usage)".to_owned(), |outcome| {
                outcome.invoice.number.clone()
            }))
    }
}

/// Prints each new quota event on standard error.
struct StderrAlert;

impl QuotaAlert for StderrAlert {
    fn alert(&self, event: &QuotaExceeded) {
        eprintln!(
            "tally: quota exceeded: tenant {} used {} {} in {} (quota {})",
            event.tenant_id, event.usage, event.metric, event.period, event.quota
        );
    }
}

/// Checks the registered tenants' quotas against the rollups after an ingest, recording and
/// reporting each new breach.
///
/// Fails when the tenants, the rollups or the bucket cannot be read or written.
pub fn check_quotas(
    global: &GlobalOptions,
    pipeline: &context::EmbeddedPipeline,
    now: Timestamp,
) -> Result<Vec<QuotaExceeded>> {
    let tenants = EmbeddedTenants::new(global.data_dir.join(TENANTS_FILE)).all()?;
    Ok(quotas::check_quotas(
        pipeline.bucket(),
        pipeline.store(),
        &tenants,
        now,
        &StderrAlert,
    )?)
}

/// The recorded quota events of one tenant, or of every registered tenant.
///
/// Fails when the tenants or the bucket cannot be read.
pub fn quota_events(
    global: &GlobalOptions,
    tenant: Option<&TenantId>,
) -> Result<Vec<QuotaExceeded>> {
    let bucket = LocalBucket::open(global.data_dir.join(DEFAULT_BUCKET))?;
    let tenants = match tenant {
        Some(tenant) => vec![tenant.clone()],
        None => EmbeddedTenants::new(global.data_dir.join(TENANTS_FILE))
            .all()?
            .into_iter()
            .map(|tenant| tenant.tenant_id)
            .collect(),
    };
    let mut events = Vec::new();
    for tenant in &tenants {
        events.extend(quotas::quota_events(&bucket, tenant)?);
    }
    Ok(events)
}
