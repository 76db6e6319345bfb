//! The DeployApp step in AWS: the tenant's Kubernetes manifests
//! ([`tally_tenancy::manifests::manifests`]) written to the tenant data bucket under
//! `_platform/manifests/{tenant_id}/`, outside every tenant prefix. Applying them to a cluster is
//! the job of a GitOps agent (Flux, Argo CD) watching that prefix, which also prunes what undo
//! removes: this adapter has no cluster credentials and never talks to Kubernetes.
//!
//! Namespace names are DNS labels, so tenant ids differing only in case or `_` map to the same
//! namespace. The first tenant to deploy claims it (`_platform/namespaces/{namespace}.json`,
//! naming the tenant); another tenant's DeployApp is then refused for good rather than sharing
//! the namespace. The claim is read before it is written: two such tenants onboarding in the
//! same second could both pass, which the agent would show as one namespace with two owners.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use tally_schemas::TenantId;
use tally_tenancy::manifests::{manifests, namespace_name};
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Provision, Provisioned, StepError, Tenant};

use crate::failure::step_error;

/// Where every tenant's manifests live: `_platform/manifests/{tenant_id}/{file}`.
pub const MANIFESTS_PREFIX: &str = "_platform/manifests/";
/// Where namespace claims live: `_platform/namespaces/{namespace}.json`.
pub const NAMESPACE_CLAIMS_PREFIX: &str = "_platform/namespaces/";
/// The resource name of the tenant's namespace.
pub const NAMESPACE_RESOURCE: &str = "app.namespace";
/// The resource name of the tenant's manifests, as an `s3://` URL of their prefix.
pub const MANIFESTS_RESOURCE: &str = "app.manifests";

/// The prefix of one tenant's manifests: `_platform/manifests/{tenant_id}/`.
pub fn manifests_prefix(tenant_id: &TenantId) -> String {
    format!("{MANIFESTS_PREFIX}{tenant_id}/")
}

/// The key of a namespace's claim: `_platform/namespaces/{namespace}.json`.
pub fn namespace_claim_key(namespace: &str) -> String {
    format!("{NAMESPACE_CLAIMS_PREFIX}{namespace}.json")
}

/// The DeployApp step: manifests in the tenant data bucket, for a GitOps agent to apply.
#[derive(Clone, Debug)]
pub struct S3Manifests {
    client: Client,
    bucket: String,
}

impl S3Manifests {
    /// Manifests in `bucket`, through `client` (see [`crate::s3_client`]).
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Manifests {
        S3Manifests {
            client,
            bucket: bucket.into(),
        }
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    async fn put_json(&self, key: &str, value: &serde_json::Value) -> StepResult<()> {
        let body = serde_json::to_vec_pretty(value).expect("a JSON value serializes");
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|error| step_error("S3 PutObject", &self.location(key), &error))?;
        Ok(())
    }

    /// The tenant named by a namespace's claim, if it is claimed.
    async fn claimant(&self, namespace: &str) -> StepResult<Option<String>> {
        let key = namespace_claim_key(namespace);
        let read = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await;
        let output = match read {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(step_error("S3 GetObject", &self.location(&key), &error)),
        };
        let body = output.body.collect().await.map_err(|error| {
            StepError::transient(format!("S3 GetObject {}: {error}", self.location(&key)))
        })?;
        let claim: serde_json::Value =
            serde_json::from_slice(&body.into_bytes()).map_err(|error| {
                StepError::permanent(format!("{} is not a claim: {error}", self.location(&key)))
            })?;
        Ok(claim["tenant_id"].as_str().map(str::to_owned))
    }

    /// Claims the tenant's namespace, or finds its own claim.
    ///
    /// Fails for good when another tenant holds it.
    async fn claim(&self, tenant: &Tenant, namespace: &str) -> StepResult<()> {
        match self.claimant(namespace).await? {
            Some(owner) if owner == tenant.tenant_id.as_str() => Ok(()),
            Some(owner) => Err(StepError::permanent(format!(
                "namespace {namespace} of tenant {} belongs to tenant {owner} (ids differing \
                 only in case or '_' share a namespace)",
                tenant.tenant_id
            ))),
            None => {
                let claim = json!({ "tenant_id": tenant.tenant_id.as_str() });
                self.put_json(&namespace_claim_key(namespace), &claim).await
            }
        }
    }

    /// Every key under `prefix`.
    async fn keys(&self, prefix: &str) -> StepResult<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|error| step_error("S3 ListObjectsV2", &self.location(prefix), &error))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> StepResult<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| step_error("S3 DeleteObject", &self.location(key), &error))?;
        Ok(())
    }
}

impl Provision for S3Manifests {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let namespace = namespace_name(tenant);
        self.claim(tenant, &namespace).await?;
        let prefix = manifests_prefix(&tenant.tenant_id);
        for (file, object) in manifests(tenant) {
            self.put_json(&format!("{prefix}{file}"), &object).await?;
        }
        Ok(Provisioned::one(NAMESPACE_RESOURCE, namespace)
            .with(MANIFESTS_RESOURCE, self.location(&prefix)))
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        // Every object under the prefix, not only today's file names, so manifests written by an
        // earlier version of this code are removed too.
        for key in self.keys(&manifests_prefix(&tenant.tenant_id)).await? {
            self.delete(&key).await?;
        }
        let namespace = namespace_name(tenant);
        if self.claimant(&namespace).await?.as_deref() == Some(tenant.tenant_id.as_str()) {
            self.delete(&namespace_claim_key(&namespace)).await?;
        }
        Ok(())
    }
}
