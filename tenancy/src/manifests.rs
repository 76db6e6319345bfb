//! The Kubernetes objects of a tenant's app (the DeployApp step): a Namespace labelled with the
//! tenant and tier, a NetworkPolicy that isolates it, and a ResourceQuota derived from the
//! tenant's quotas. Built as JSON from validated fields only, in files named `*.yaml`: JSON is
//! YAML, and a GitOps agent (Flux's kustomize-controller, see infra's eks-addons) applies the
//! `*.yaml` and `*.yml` files of a directory and no others.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use crate::model::{Tenant, Tier};

/// Hours in an average month (8,766 hours a year / 12): turns a monthly `cpu_hours` or
/// `memory_gb_hours` quota into the cores or GiB that could run all month.
pub const HOURS_PER_MONTH: u32 = 730;
/// The namespace where the ingress controller runs; the only namespace allowed in.
pub const INGRESS_NAMESPACE: &str = "ingress-nginx";

/// The namespace of a tenant's app: `tenant-{id}` lowercased (namespace names are DNS labels;
/// ids differing only in case or `_` share one, so the DeployApp adapter checks the label).
pub fn namespace_name(tenant: &Tenant) -> String {
    let id = tenant
        .tenant_id
        .as_str()
        .to_ascii_lowercase()
        .replace('_', "-");
    let name = format!("tenant-{id}");
    name.trim_end_matches('-').chars().take(63).collect()
}

/// The manifests, as (file name, object), in the order they are applied.
pub fn manifests(tenant: &Tenant) -> Vec<(String, Value)> {
    let namespace = namespace_name(tenant);
    let labels = json!({
        "app.kubernetes.io/managed-by": "tally",
        "tally.dev/tenant": tenant.tenant_id.as_str(),
        "tally.dev/tier": tenant.tier.as_str(),
    });
    vec![
        (
            "00-namespace.yaml".to_owned(),
            json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": { "name": namespace, "labels": labels },
            }),
        ),
        (
            "10-network-policy.yaml".to_owned(),
            network_policy(&namespace, &labels),
        ),
        (
            "20-resource-quota.yaml".to_owned(),
            resource_quota(tenant, &namespace, &labels),
        ),
    ]
}

/// Deny all traffic in and out but from the same namespace, the ingress controller, DNS, and
/// HTTPS out: pods of one tenant never reach another tenant's.
fn network_policy(namespace: &str, labels: &Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": { "name": "tenant-isolation", "namespace": namespace, "labels": labels },
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [
                    { "podSelector": {} },
                    { "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": INGRESS_NAMESPACE } } },
                ],
            }],
            "egress": [
                { "to": [{ "podSelector": {} }] },
                {
                    "to": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "kube-system" } } }],
                    "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }],
                },
                { "ports": [{ "protocol": "TCP", "port": 443 }] },
            ],
        },
    })
}

/// Limits from the quotas: storage from `storage_gb`, cores from `cpu_hours` and memory from
/// `memory_gb_hours` spread over a month (rounded up), the tier's defaults where a quota is
/// absent.
fn resource_quota(tenant: &Tenant, namespace: &str, labels: &Value) -> Value {
    let (default_cpu, default_memory_gb, pods) = match tenant.tier {
        Tier::Standard => (4, 8, 20),
        Tier::Premium => (16, 64, 100),
    };
    let per_month = |meter: &str, default: u64| {
        tenant.quotas.get(meter).map_or(default, |hours| {
            let hours = (hours / Decimal::from(HOURS_PER_MONTH)).ceil();
            hours.to_u64().unwrap_or(u64::MAX).max(1)
        })
    };
    let cpu = per_month("cpu_hours", default_cpu);
    let memory_gb = per_month("memory_gb_hours", default_memory_gb);
    let mut hard = json!({
        "limits.cpu": cpu.to_string(),
        "limits.memory": format!("{memory_gb}Gi"),
        "requests.cpu": cpu.to_string(),
        "requests.memory": format!("{memory_gb}Gi"),
        "pods": pods.to_string(),
    });
    if let Some(storage) = tenant.quotas.get("storage_gb") {
        let storage = storage.ceil().to_u64().unwrap_or(u64::MAX);
        hard["requests.storage"] = json!(format!("{storage}Gi"));
    }
    json!({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": { "name": "tenant-quota", "namespace": namespace, "labels": labels },
        "spec": { "hard": hard },
    })
}

#[cfg(test)]
mod tests {
    use tally_schemas::{MeterCatalog, Timestamp};

    use super::*;
    use crate::request::NewTenant;

    fn tenant(json: serde_json::Value) -> Tenant {
        let request: NewTenant = serde_json::from_value(json).expect("request");
        request
            .into_tenant(&MeterCatalog::defaults(), Timestamp::from_millis(0))
            .expect("tenant")
    }

    #[test]
    fn given_quotas_then_the_resource_quota_follows_them_and_labels_name_the_tenant() {
        let tenant = tenant(json!({
            "tenant_id": "Acme_EU", "name": "Acme", "tier": "premium", "admin_email": "a@b.io",
            "quotas": { "cpu_hours": "1500", "storage_gb": "99.5" }
        }));
        let objects = manifests(&tenant);
        let namespace = &objects[0].1;
        assert_eq!(namespace["metadata"]["name"], "tenant-acme-eu");
        assert_eq!(
            namespace["metadata"]["labels"]["tally.dev/tenant"],
            "Acme_EU"
        );
        assert_eq!(namespace["metadata"]["labels"]["tally.dev/tier"], "premium");
        let hard = &objects[2].1["spec"]["hard"];
        assert_eq!(hard["limits.cpu"], "3", "1500 h / 730 h rounded up");
        assert_eq!(hard["limits.memory"], "64Gi", "the premium default");
        assert_eq!(hard["requests.storage"], "100Gi");
        let policy = &objects[1].1;
        assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(policy["metadata"]["namespace"], "tenant-acme-eu");
    }
}
