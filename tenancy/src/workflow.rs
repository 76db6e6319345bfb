//! The control plane's operations: create, change, suspend, onboard and offboard tenants, each
//! change stored with optimistic concurrency and appended to the tenant's audit log.
//!
//! Onboarding runs [`Step::ONBOARDING`] in order; a step failing with a transient error is
//! retried by [`RetryPolicy::ONBOARDING`]; a step that fails for good is compensated: every step
//! that ran, the failing one included (it may have half-applied), is undone in reverse, and the
//! tenant is left `failed` with the reason. The same single-step operations serve the Step
//! Functions state machine (one Lambda invocation per step, retried by the state machine) and the
//! in-process workflow (retried here), so the two cannot drift apart.

use std::future::Future;

use tally_schemas::{MeterCatalog, TenantId, Timestamp};

use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::lifecycle::transition;
use crate::model::{Status, Tenant};
use crate::ports::{AuditLog, IdempotencyClaim, Provisioned, StepError, TenantStore};
use crate::request::{NewTenant, TenantPatch};
use crate::steps::{RetryPolicy, Step};

/// Attempts at a read-modify-write before a concurrent writer is reported as a conflict.
const MAX_WRITE_ATTEMPTS: usize = 5;
/// The largest page of `list`.
pub const MAX_PAGE: usize = 100;

/// What runs each step's provisioning (see [`crate::steps`]); implemented by
/// [`crate::provisioners::Provisioners`] over the step ports.
pub trait Steps: Send + Sync {
    /// Runs `step` once for `tenant`.
    fn apply(
        &self,
        step: Step,
        tenant: &Tenant,
    ) -> impl Future<Output = std::result::Result<Provisioned, StepError>> + Send;

    /// Undoes `step` for `tenant`; succeeds when there is nothing to undo.
    fn undo(
        &self,
        step: Step,
        tenant: &Tenant,
    ) -> impl Future<Output = std::result::Result<(), StepError>> + Send;

    /// The last acts of offboarding: the final invoice and the goodbye email; returns what was
    /// issued (the invoice number) for the audit log.
    fn conclude(
        &self,
        tenant: &Tenant,
    ) -> impl Future<Output = std::result::Result<Provisioned, StepError>> + Send;
}

/// Time for the workflow: the current instant, and waiting between retries.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
    /// Waits `secs` seconds.
    fn sleep(&self, secs: u32) -> impl Future<Output = ()> + Send;
}

/// One page of tenants.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Page {
    /// The tenants, in id order.
    pub tenants: Vec<Tenant>,
    /// The cursor of the next page: the last id of this one, when more may follow.
    pub next: Option<TenantId>,
}

/// The control plane over its ports.
pub struct ControlPlane<T, L, P, C> {
    /// The tenants table.
    pub store: T,
    /// The audit log.
    pub audit: L,
    /// The step provisioners.
    pub steps: P,
    /// Time.
    pub clock: C,
    /// The meters quotas may name.
    pub catalog: MeterCatalog,
    /// How steps are retried in process.
    pub retry: RetryPolicy,
}

impl<T: TenantStore, L: AuditLog, P: Steps, C: Clock> ControlPlane<T, L, P, C> {
    /// Creates a tenant from a request, `pending`. With an idempotency key, a repeat of the same
    /// request returns the tenant it created (`false`: not created now).
    ///
    /// Fails when a field breaks a rule, the id is taken, or the key was used for another body.
    pub async fn create(
        &self,
        request: NewTenant,
        actor: &str,
        idempotency: Option<(&str, &str)>,
    ) -> Result<(Tenant, bool)> {
        let tenant = request.into_tenant(&self.catalog, self.clock.now())?;
        if let Some((key, fingerprint)) = idempotency {
            let claim = self
                .store
                .claim_idempotency_key(key, fingerprint, &tenant.tenant_id)
                .await?;
            if let IdempotencyClaim::Replay {
                fingerprint: first,
                tenant_id,
            } = claim
            {
                if first != fingerprint {
                    return Err(Error::conflict(
                        "this Idempotency-Key was used for a different request body",
                    ));
                }
                return Ok((self.get(&tenant_id).await?, false));
            }
        }
        self.store.create(&tenant).await?;
        self.record(actor, "create", None, Some(&tenant)).await?;
        Ok((tenant, true))
    }

    /// The tenant with this id.
    ///
    /// Fails with not-found when there is none.
    pub async fn get(&self, tenant_id: &TenantId) -> Result<Tenant> {
        self.store
            .get(tenant_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                tenant_id: tenant_id.to_string(),
            })
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) tenants after `after`, in id order.
    pub async fn list(&self, after: Option<&TenantId>, limit: usize) -> Result<Page> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tenants = self.store.list(after, limit + 1).await?;
        let more = tenants.len() > limit;
        tenants.truncate(limit);
        let next = if more {
            tenants.last().map(|tenant| tenant.tenant_id.clone())
        } else {
            None
        };
        Ok(Page { tenants, next })
    }

    /// Applies a patch.
    ///
    /// Fails when the tenant is offboarded or offboarding, or a field breaks a rule.
    pub async fn update(
        &self,
        tenant_id: &TenantId,
        patch: TenantPatch,
        actor: &str,
    ) -> Result<Tenant> {
        self.update_if(tenant_id, patch, None, actor).await
    }

    /// Applies a patch only when the tenant is still at version `expected` (when given): the
    /// check is made on the record the write replaces, so no other change can slip in between.
    ///
    /// Fails with a version mismatch when it moved on, and as [`ControlPlane::update`] does.
    pub async fn update_if(
        &self,
        tenant_id: &TenantId,
        patch: TenantPatch,
        expected: Option<u64>,
        actor: &str,
    ) -> Result<Tenant> {
        let now = self.clock.now();
        self.modify(tenant_id, actor, "update", |tenant| {
            if let Some(expected) = expected.filter(|expected| *expected != tenant.version) {
                return Err(Error::VersionMismatch {
                    tenant_id: tenant_id.to_string(),
                    expected,
                    current: tenant.version,
                });
            }
            if matches!(tenant.status, Status::Offboarding | Status::Offboarded) {
                return Err(Error::conflict(format!(
                    "tenant {} is {}; it can no longer change",
                    tenant.tenant_id, tenant.status
                )));
            }
            patch.clone().apply(tenant, &self.catalog, now)
        })
        .await
    }

    /// Suspends an active tenant: its usage is quarantined from now on.
    ///
    /// Fails when the tenant is not active.
    pub async fn suspend(&self, tenant_id: &TenantId, reason: &str, actor: &str) -> Result<Tenant> {
        self.move_to(
            tenant_id,
            Status::Suspended,
            Some(reason.to_owned()),
            actor,
            "suspend",
        )
        .await
    }

    /// Activates a suspended tenant again.
    ///
    /// Fails when the tenant is not suspended.
    pub async fn activate(&self, tenant_id: &TenantId, actor: &str) -> Result<Tenant> {
        let tenant = self.get(tenant_id).await?;
        if tenant.status != Status::Suspended {
            return Err(Error::conflict(format!(
                "tenant {tenant_id} is {}; only a suspended tenant can be activated",
                tenant.status
            )));
        }
        self.move_to(tenant_id, Status::Active, None, actor, "activate")
            .await
    }

    /// Moves a tenant to `to`, recording `action`.
    ///
    /// Fails when the lifecycle does not allow the move.
    pub async fn move_to(
        &self,
        tenant_id: &TenantId,
        to: Status,
        reason: Option<String>,
        actor: &str,
        action: &str,
    ) -> Result<Tenant> {
        let now = self.clock.now();
        self.modify(tenant_id, actor, action, |tenant| {
            transition(tenant, to, reason.clone(), now)
        })
        .await
    }

    /// The tenant's audit log, oldest first.
    pub async fn audit_log(&self, tenant_id: &TenantId) -> Result<Vec<AuditEntry>> {
        self.get(tenant_id).await?;
        self.audit.entries(tenant_id).await
    }

    /// Runs one step once for a `provisioning` tenant and stores what it created on the tenant.
    /// The onboarding Lambda's `apply` action.
    pub async fn apply_step(
        &self,
        tenant_id: &TenantId,
        step: Step,
        actor: &str,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        let tenant = self.get(tenant_id).await?;
        if !matches!(tenant.status, Status::Provisioning) {
            return Err(Error::conflict(format!(
                "tenant {tenant_id} is {}; steps run only while provisioning",
                tenant.status
            )));
        }
        let outcome = if step == Step::Validate {
            self.validate(&tenant).map(|()| Provisioned::default())
        } else {
            self.steps.apply(step, &tenant).await
        };
        let provisioned = match outcome {
            Ok(provisioned) => provisioned,
            Err(error) => return Ok(Err(error)),
        };
        let now = self.clock.now();
        let action = format!("step.{}", step.as_str());
        let stored = self
            .modify(tenant_id, actor, &action, |tenant| {
                let mut next = tenant.clone();
                next.resources.extend(provisioned.resources.clone());
                next.updated_at = now;
                next.version += 1;
                Ok(next)
            })
            .await?;
        Ok(Ok(stored))
    }

    /// Issues the final invoice and the goodbye email of an `offboarding` tenant once, and
    /// records what they were on the tenant. The onboarding Lambda's `conclude` action; a repeat
    /// after they were recorded changes nothing.
    ///
    /// Fails with a conflict when the tenant is not offboarding.
    pub async fn conclude_step(
        &self,
        tenant_id: &TenantId,
        actor: &str,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        let tenant = self.get(tenant_id).await?;
        if tenant.status != Status::Offboarding {
            return Err(Error::conflict(format!(
                "tenant {tenant_id} is {}; the final invoice is issued only while offboarding",
                tenant.status
            )));
        }
        let concluded = match self.steps.conclude(&tenant).await {
            Ok(concluded) => concluded,
            Err(error) => return Ok(Err(error)),
        };
        let recorded = concluded
            .resources
            .iter()
            .all(|(name, id)| tenant.resources.get(name) == Some(id));
        if recorded {
            return Ok(Ok(tenant));
        }
        let now = self.clock.now();
        let stored = self
            .modify(tenant_id, actor, "offboarding.conclude", |tenant| {
                if tenant.status != Status::Offboarding {
                    return Err(Error::conflict(format!(
                        "tenant {tenant_id} became {} while its final invoice was issued",
                        tenant.status
                    )));
                }
                let mut next = tenant.clone();
                next.resources.extend(concluded.resources.clone());
                next.updated_at = now;
                next.version += 1;
                Ok(next)
            })
            .await?;
        Ok(Ok(stored))
    }

    /// Undoes one step and forgets what it created. The onboarding Lambda's `undo` action.
    pub async fn undo_step(
        &self,
        tenant_id: &TenantId,
        step: Step,
        actor: &str,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        let tenant = self.get(tenant_id).await?;
        if let Err(error) = self.steps.undo(step, &tenant).await {
            return Ok(Err(error));
        }
        let now = self.clock.now();
        let action = format!("undo.{}", step.as_str());
        let forgotten = resources_of(step);
        let stored = self
            .modify(tenant_id, actor, &action, |tenant| {
                let mut next = tenant.clone();
                next.resources
                    .retain(|name, _| !forgotten.iter().any(|prefix| name.starts_with(prefix)));
                next.updated_at = now;
                next.version += 1;
                Ok(next)
            })
            .await?;
        Ok(Ok(stored))
    }

    /// Onboards a `pending` (or `failed`) tenant in process: every step with retries, and
    /// compensation when one fails for good. Returns the tenant, `active` or `failed` with the
    /// reason.
    ///
    /// Fails only when the tenant store or the audit log fails.
    pub async fn onboard(&self, tenant_id: &TenantId, actor: &str) -> Result<Tenant> {
        self.move_to(
            tenant_id,
            Status::Provisioning,
            None,
            actor,
            "onboarding.start",
        )
        .await?;
        let mut done: Vec<Step> = Vec::new();
        for step in Step::ONBOARDING {
            done.push(step);
            if let Err(error) = self.apply_with_retries(tenant_id, step, actor).await? {
                let reason = format!("{step} failed: {error}");
                return self.compensate(tenant_id, &done, reason, actor).await;
            }
        }
        self.move_to(tenant_id, Status::Active, None, actor, "onboarding.finish")
            .await
    }

    /// Offboards a tenant: undoes every step in reverse, issues the final invoice, sends the
    /// goodbye email, and leaves the record `offboarded`. A step that cannot be undone leaves the
    /// tenant `failed` with the reason; offboarding again continues from there.
    ///
    /// Fails when the tenant cannot be offboarded from its status, or the store fails.
    pub async fn offboard(&self, tenant_id: &TenantId, actor: &str) -> Result<Tenant> {
        let tenant = self.get(tenant_id).await?;
        if tenant.status != Status::Offboarding {
            self.move_to(
                tenant_id,
                Status::Offboarding,
                None,
                actor,
                "offboarding.start",
            )
            .await?;
        }
        for step in Step::compensation(&Step::ONBOARDING) {
            if let Err(error) = self.undo_with_retries(tenant_id, step, actor).await? {
                let reason = format!("offboarding: undoing {step} failed: {error}");
                return self
                    .move_to(
                        tenant_id,
                        Status::Failed,
                        Some(reason),
                        actor,
                        "offboarding.fail",
                    )
                    .await;
            }
        }
        let tenant = self.get(tenant_id).await?;
        let concluded = match self.steps.conclude(&tenant).await {
            Ok(concluded) => concluded,
            Err(error) => {
                let reason = format!("offboarding: the final invoice or notice failed: {error}");
                return self
                    .move_to(
                        tenant_id,
                        Status::Failed,
                        Some(reason),
                        actor,
                        "offboarding.fail",
                    )
                    .await;
            }
        };
        let now = self.clock.now();
        self.modify(tenant_id, actor, "offboarding.finish", |tenant| {
            let mut next = transition(tenant, Status::Offboarded, None, now)?;
            next.resources.extend(concluded.resources.clone());
            Ok(next)
        })
        .await
    }

    async fn compensate(
        &self,
        tenant_id: &TenantId,
        done: &[Step],
        reason: String,
        actor: &str,
    ) -> Result<Tenant> {
        let mut reason = reason;
        for step in Step::compensation(done) {
            if let Err(error) = self.undo_with_retries(tenant_id, step, actor).await? {
                // The tenant keeps the resource's id, so a later offboarding can remove it.
                reason.push_str(&format!("; undoing {step} also failed: {error}"));
            }
        }
        self.move_to(
            tenant_id,
            Status::Failed,
            Some(reason),
            actor,
            "onboarding.fail",
        )
        .await
    }

    async fn apply_with_retries(
        &self,
        tenant_id: &TenantId,
        step: Step,
        actor: &str,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        self.with_retries(tenant_id, step, actor, Direction::Apply)
            .await
    }

    async fn undo_with_retries(
        &self,
        tenant_id: &TenantId,
        step: Step,
        actor: &str,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        self.with_retries(tenant_id, step, actor, Direction::Undo)
            .await
    }

    /// Applies or undoes `step` until it succeeds, fails for good, or has run
    /// `retry.max_attempts` times, sleeping the policy's backoff between attempts.
    async fn with_retries(
        &self,
        tenant_id: &TenantId,
        step: Step,
        actor: &str,
        direction: Direction,
    ) -> Result<std::result::Result<Tenant, StepError>> {
        let mut attempts = 1;
        loop {
            let outcome = match direction {
                Direction::Apply => self.apply_step(tenant_id, step, actor).await?,
                Direction::Undo => self.undo_step(tenant_id, step, actor).await?,
            };
            match outcome {
                Err(error) if error.is_transient() && attempts < self.retry.max_attempts => {
                    attempts += 1;
                    self.clock.sleep(self.retry.delay_secs(attempts)).await;
                }
                outcome => return Ok(outcome),
            }
        }
    }

    /// The Validate step: what the request checks could not know when the tenant was created
    /// (the catalog may have changed since).
    fn validate(&self, tenant: &Tenant) -> std::result::Result<(), StepError> {
        for meter in tenant.quotas.keys() {
            if self.catalog.get(meter).is_none() {
                return Err(StepError::permanent(format!(
                    "quota for {meter:?}, which is not a meter of the catalog"
                )));
            }
        }
        Ok(())
    }

    /// Loads, changes and stores a tenant, retrying when another writer got there first, and
    /// appends the change to the audit log.
    async fn modify(
        &self,
        tenant_id: &TenantId,
        actor: &str,
        action: &str,
        change: impl Fn(&Tenant) -> Result<Tenant>,
    ) -> Result<Tenant> {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let before = self.get(tenant_id).await?;
            let after = change(&before)?;
            match self.store.replace(&after).await {
                Ok(()) => {
                    self.record(actor, action, Some(&before), Some(&after))
                        .await?;
                    return Ok(after);
                }
                Err(Error::Conflict { .. }) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(Error::conflict(format!(
            "tenant {tenant_id} kept changing under {action}; try again"
        )))
    }

    async fn record(
        &self,
        actor: &str,
        action: &str,
        before: Option<&Tenant>,
        after: Option<&Tenant>,
    ) -> Result<()> {
        let tenant_id = after.or(before).map(|tenant| tenant.tenant_id.clone());
        let entry = AuditEntry {
            tenant_id: tenant_id.expect("an audit entry has a tenant"),
            at: self.clock.now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            before: before.cloned(),
            after: after.cloned(),
        };
        self.audit.append(&entry).await
    }
}

/// Whether a step is being applied or undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Apply,
    Undo,
}

/// The resource names a step records (prefixes of the keys in `Tenant::resources`).
pub fn resources_of(step: Step) -> &'static [&'static str] {
    match step {
        Step::Validate => &[],
        Step::CreateDatabase => &["database"],
        Step::ProvisionStorage => &["storage"],
        Step::ConfigureAuth => &["auth"],
        Step::DeployApp => &["app"],
        Step::Notify => &["welcome_email"],
    }
}

#[cfg(test)]
mod tests;
