//! The storage policy of a tenant (the ProvisionStorage step): access to the tenant's prefix of
//! the tenant data bucket only, by attribute: the principal's `tenant_id` tag must be the tenant
//! and names the prefix, so one policy shape serves every tenant and a principal tagged for one
//! tenant can never reach another's objects.

use serde_json::{Value, json};

use crate::model::Tenant;

/// The principal tag that carries the tenant id.
pub const TENANT_TAG: &str = "tenant_id";

/// The IAM policy document granting `tenant` its prefix of `bucket` (a validated bucket name).
pub fn storage_policy(bucket: &str, tenant: &Tenant) -> Value {
    let tag = format!("${{aws:PrincipalTag/{TENANT_TAG}}}");
    let condition = json!({
        "StringEquals": { format!("aws:PrincipalTag/{TENANT_TAG}"): tenant.tenant_id.as_str() }
    });
    let mut list_condition = condition.clone();
    list_condition["StringLike"] = json!({ "s3:prefix": [format!("tenants/{tag}/*")] });
    let mut key_condition = condition.clone();
    key_condition["StringLike"] = json!({
        "kms:ViaService": "s3.*.amazonaws.com",
        "kms:EncryptionContext:aws:s3:arn": [
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/tenants/{tag}/*"),
        ],
    });
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TenantObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": format!("arn:aws:s3:::{bucket}/tenants/{tag}/*"),
                "Condition": condition,
            },
            {
                "Sid": "TenantListing",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": list_condition,
            },
            {
                // The bucket encrypts with its KMS key (SSE-KMS with a bucket key), so reading
                // and writing an object needs the key too: only through S3, and only for this
                // bucket (the encryption context is the bucket's ARN with a bucket key, the
                // object's without one).
                "Sid": "TenantObjectsEncryption",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": key_condition,
            },
        ],
    })
}
