//! The ProvisionStorage step over S3 and IAM: the tenant's prefix (a marker object, so it exists
//! before any data), a managed policy scoped to that prefix by the caller's tenant tag, and a
//! role tagged with the tenant that holds the policy. Every part is found rather than created
//! again on a repeat, and found by name on undo even when a crash kept its id from being recorded.

use aws_sdk_iam::types::Tag;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use tally_schemas::TenantId;
use tally_schemas::layout::{tenant_marker_key, tenant_prefix};
use tally_tenancy::policy::storage_policy;
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Provision, Provisioned, StepError, Tenant};

use crate::failure::{code, step_error};
use crate::names::{IAM_PATH, iam_name};
use crate::policy::{TENANT_TAG, TIER_TAG, partition_and_account, trust_policy};

/// The resource name of the tenant's prefix, as an `s3://` URL.
pub const PREFIX_RESOURCE: &str = "storage.prefix";
/// The resource name of the tenant's policy ARN.
pub const POLICY_RESOURCE: &str = "storage.policy_arn";
/// The resource name of the tenant's role ARN.
pub const ROLE_RESOURCE: &str = "storage.role_arn";

/// The ProvisionStorage step: the tenant's prefix in the tenant data bucket, its IAM policy and
/// its IAM role, named by [`iam_name`] under [`IAM_PATH`].
///
/// Undo removes the role, the policy and the marker but keeps the tenant's data: its usage
/// events and invoices are billing records, which outlive the tenant.
#[derive(Clone, Debug)]
pub struct S3Storage {
    s3: aws_sdk_s3::Client,
    iam: aws_sdk_iam::Client,
    bucket: String,
    trust_principal: Option<String>,
    boundary: Option<String>,
}

impl S3Storage {
    /// Storage in `bucket`, through `s3` (see [`crate::s3_client`]) and `iam`. The tenant roles
    /// trust the account's root until [`S3Storage::trusting`] names another principal.
    pub fn new(
        s3: aws_sdk_s3::Client,
        iam: aws_sdk_iam::Client,
        bucket: impl Into<String>,
    ) -> S3Storage {
        S3Storage {
            s3,
            iam,
            bucket: bucket.into(),
            trust_principal: None,
            boundary: None,
        }
    }

    /// The same, with tenant roles trusting `principal` (an IAM ARN or an account id).
    pub fn trusting(self, principal: impl Into<String>) -> S3Storage {
        S3Storage {
            trust_principal: Some(principal.into()),
            ..self
        }
    }

    /// The same, with every tenant role capped by the managed policy `boundary_arn` as its
    /// permissions boundary: whatever policy a role is given later, it can do no more than the
    /// boundary allows (infra's `tally-tenant-boundary`, which the onboarding function may only
    /// create roles under).
    pub fn bounded_by(self, boundary_arn: impl Into<String>) -> S3Storage {
        S3Storage {
            boundary: Some(boundary_arn.into()),
            ..self
        }
    }

    async fn put_marker(&self, tenant: &Tenant) -> StepResult<()> {
        let key = tenant_marker_key(&tenant.tenant_id);
        let body = json!({ "tenant_id": tenant.tenant_id.as_str(), "tier": tenant.tier.as_str() });
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body.to_string().into_bytes()))
            .send()
            .await
            .map_err(|error| {
                step_error(
                    "S3 PutObject",
                    &format!("s3://{}/{key}", self.bucket),
                    &error,
                )
            })?;
        Ok(())
    }

    async fn delete_marker(&self, tenant_id: &TenantId) -> StepResult<()> {
        let key = tenant_marker_key(tenant_id);
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|error| {
                step_error(
                    "S3 DeleteObject",
                    &format!("s3://{}/{key}", self.bucket),
                    &error,
                )
            })?;
        Ok(())
    }

    /// Creates the policy, or finds it when it exists; its ARN.
    async fn ensure_policy(&self, tenant: &Tenant, name: &str) -> StepResult<String> {
        let document = storage_policy(&self.bucket, tenant);
        let created = self
            .iam
            .create_policy()
            .policy_name(name)
            .path(IAM_PATH)
            .description(format!(
                "Tally tenant {}: its prefix of the tenant data bucket",
                tenant.tenant_id
            ))
            .policy_document(document.to_string())
            .set_tags(Some(tags(tenant)))
            .send()
            .await;
        match created {
            Ok(output) => output
                .policy()
                .and_then(|policy| policy.arn())
                .map(str::to_owned)
                .ok_or_else(|| {
                    StepError::permanent(format!("IAM CreatePolicy {name}: no ARN in the answer"))
                }),
            Err(error) if code(&error) == Some("EntityAlreadyExists") => {
                self.find_policy(name).await?.ok_or_else(|| {
                    StepError::permanent(format!(
                        "IAM CreatePolicy {name}: it exists, but not under {IAM_PATH}"
                    ))
                })
            }
            Err(error) => Err(step_error("IAM CreatePolicy", name, &error)),
        }
    }

    /// The ARN of the tenant policy called `name`, if it exists.
    async fn find_policy(&self, name: &str) -> StepResult<Option<String>> {
        let mut pages = self
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .path_prefix(IAM_PATH)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| step_error("IAM ListPolicies", IAM_PATH, &error))?;
            let found = page
                .policies()
                .iter()
                .find(|policy| policy.policy_name() == Some(name))
                .and_then(|policy| policy.arn());
            if let Some(arn) = found {
                return Ok(Some(arn.to_owned()));
            }
        }
        Ok(None)
    }

    /// Creates the role trusting `principal`, or finds it when it exists; its ARN.
    async fn ensure_role(
        &self,
        tenant: &Tenant,
        name: &str,
        principal: &str,
    ) -> StepResult<String> {
        let created = self
            .iam
            .create_role()
            .role_name(name)
            .path(IAM_PATH)
            .description(format!("Tally tenant {}", tenant.tenant_id))
            .assume_role_policy_document(trust_policy(principal).to_string())
            .set_permissions_boundary(self.boundary.clone())
            .set_tags(Some(tags(tenant)))
            .send()
            .await;
        match created {
            Ok(output) => output
                .role()
                .map(|role| role.arn().to_owned())
                .ok_or_else(|| {
                    StepError::permanent(format!("IAM CreateRole {name}: no role in the answer"))
                }),
            Err(error) if code(&error) == Some("EntityAlreadyExists") => {
                let found = self.iam.get_role().role_name(name).send().await;
                let found = found.map_err(|error| step_error("IAM GetRole", name, &error))?;
                let role = found.role().ok_or_else(|| {
                    StepError::permanent(format!("IAM GetRole {name}: no role in the answer"))
                })?;
                let current = role
                    .permissions_boundary()
                    .and_then(|boundary| boundary.permissions_boundary_arn());
                // A role made before the boundary was configured gets it now.
                if let Some(boundary) = &self.boundary
                    && current != Some(boundary.as_str())
                {
                    self.put_boundary(name, boundary).await?;
                }
                Ok(role.arn().to_owned())
            }
            Err(error) => Err(step_error("IAM CreateRole", name, &error)),
        }
    }

    async fn put_boundary(&self, role: &str, boundary: &str) -> StepResult<()> {
        self.iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(boundary)
            .send()
            .await
            .map_err(|error| {
                step_error(
                    "IAM PutRolePermissionsBoundary",
                    &format!("{role} {boundary}"),
                    &error,
                )
            })?;
        Ok(())
    }

    async fn attach(&self, role: &str, policy_arn: &str) -> StepResult<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|error| {
                step_error(
                    "IAM AttachRolePolicy",
                    &format!("{role} {policy_arn}"),
                    &error,
                )
            })?;
        Ok(())
    }

    /// Detaches every managed policy from the role and deletes it; nothing to do when it is
    /// gone.
    async fn delete_role(&self, name: &str) -> StepResult<()> {
        let mut attached = Vec::new();
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => attached.extend(
                    page.attached_policies()
                        .iter()
                        .filter_map(|policy| policy.policy_arn())
                        .map(str::to_owned),
                ),
                Err(error) if code(&error) == Some("NoSuchEntity") => return Ok(()),
                Err(error) => return Err(step_error("IAM ListAttachedRolePolicies", name, &error)),
            }
        }
        for policy_arn in attached {
            let detached = self
                .iam
                .detach_role_policy()
                .role_name(name)
                .policy_arn(&policy_arn)
                .send()
                .await;
            match detached {
                Ok(_) => {}
                Err(error) if code(&error) == Some("NoSuchEntity") => {}
                Err(error) => {
                    return Err(step_error(
                        "IAM DetachRolePolicy",
                        &format!("{name} {policy_arn}"),
                        &error,
                    ));
                }
            }
        }
        match self.iam.delete_role().role_name(name).send().await {
            Ok(_) => Ok(()),
            Err(error) if code(&error) == Some("NoSuchEntity") => Ok(()),
            Err(error) => Err(step_error("IAM DeleteRole", name, &error)),
        }
    }

    /// Deletes the policy's non-default versions, then the policy; nothing to do when it is gone.
    async fn delete_policy(&self, arn: &str) -> StepResult<()> {
        let mut old_versions = Vec::new();
        let mut pages = self
            .iam
            .list_policy_versions()
            .policy_arn(arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => old_versions.extend(
                    page.versions()
                        .iter()
                        .filter(|version| !version.is_default_version())
                        .filter_map(|version| version.version_id())
                        .map(str::to_owned),
                ),
                Err(error) if code(&error) == Some("NoSuchEntity") => return Ok(()),
                Err(error) => return Err(step_error("IAM ListPolicyVersions", arn, &error)),
            }
        }
        for version in old_versions {
            let deleted = self
                .iam
                .delete_policy_version()
                .policy_arn(arn)
                .version_id(&version)
                .send()
                .await;
            match deleted {
                Ok(_) => {}
                Err(error) if code(&error) == Some("NoSuchEntity") => {}
                Err(error) => {
                    return Err(step_error(
                        "IAM DeletePolicyVersion",
                        &format!("{arn} {version}"),
                        &error,
                    ));
                }
            }
        }
        match self.iam.delete_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(error) if code(&error) == Some("NoSuchEntity") => Ok(()),
            Err(error) => Err(step_error("IAM DeletePolicy", arn, &error)),
        }
    }

    /// The tenant's policy ARN: the recorded one (checked to be the tenant's), else found by
    /// name.
    async fn policy_of(&self, tenant: &Tenant, name: &str) -> StepResult<Option<String>> {
        let Some(recorded) = tenant.resources.get(POLICY_RESOURCE) else {
            return self.find_policy(name).await;
        };
        // Deleting a policy is not undone by anything: never delete one the name rule did not
        // give this tenant, whatever the record says.
        if !recorded.ends_with(&format!(":policy{IAM_PATH}{name}")) {
            return Err(StepError::permanent(format!(
                "{POLICY_RESOURCE} {recorded} is not the policy {IAM_PATH}{name} of tenant {}",
                tenant.tenant_id
            )));
        }
        Ok(Some(recorded.clone()))
    }
}

impl Provision for S3Storage {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let name = iam_name(&tenant.tenant_id);
        self.put_marker(tenant).await?;
        let policy_arn = self.ensure_policy(tenant, &name).await?;
        let principal = match &self.trust_principal {
            Some(principal) => principal.clone(),
            None => {
                let (partition, account) = partition_and_account(&policy_arn).ok_or_else(|| {
                    StepError::permanent(format!(
                        "IAM CreatePolicy {name}: {policy_arn} is not an IAM ARN"
                    ))
                })?;
                format!("arn:{partition}:iam::{account}:root")
            }
        };
        let role_arn = self.ensure_role(tenant, &name, &principal).await?;
        self.attach(&name, &policy_arn).await?;
        let prefix = format!("s3://{}/{}", self.bucket, tenant_prefix(&tenant.tenant_id));
        Ok(Provisioned::one(PREFIX_RESOURCE, prefix)
            .with(POLICY_RESOURCE, policy_arn)
            .with(ROLE_RESOURCE, role_arn))
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        let name = iam_name(&tenant.tenant_id);
        let policy_arn = self.policy_of(tenant, &name).await?;
        self.delete_role(&name).await?;
        if let Some(policy_arn) = policy_arn {
            self.delete_policy(&policy_arn).await?;
        }
        self.delete_marker(&tenant.tenant_id).await
    }
}

/// The tags of a tenant's IAM resources: its id (the principal tag ABAC keys on) and its tier.
fn tags(tenant: &Tenant) -> Vec<Tag> {
    [
        (TENANT_TAG, tenant.tenant_id.as_str()),
        (TIER_TAG, tenant.tier.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| {
        Tag::builder()
            .key(key)
            .value(value)
            .build()
            .expect("tags have a key and a value")
    })
    .collect()
}
