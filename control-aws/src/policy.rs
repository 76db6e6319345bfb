//! The IAM documents of a tenant's storage beyond the core's storage policy
//! ([`tally_tenancy::policy::storage_policy`]): the trust policy of the tenant's role, and the
//! parts of the ARNs IAM answers with. Built as JSON values, never by formatting text.

use serde_json::{Value, json};

pub use tally_tenancy::policy::TENANT_TAG;

/// The tag that carries a tenant's tier.
pub const TIER_TAG: &str = "tier";

/// The trust policy of a tenant's role: `principal` (an ARN or an account id) may assume it.
pub fn trust_policy(principal: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": { "AWS": principal },
                // Not sts:TagSession: a session tag would replace the role's tenant tag.
                "Action": "sts:AssumeRole",
            },
        ],
    })
}

/// The parts of an IAM ARN (`arn:{partition}:iam::{account}:{resource}`): partition and account.
pub fn partition_and_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!partition.is_empty() && !account.is_empty()).then_some((partition, account))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_partition_and_account() {
        assert_eq!(
            partition_and_account("arn:aws-cn:iam::123456789012:policy/tally/tenants/x"),
            Some(("aws-cn", "123456789012"))
        );
        assert_eq!(partition_and_account("arn:aws:s3:::bucket"), None);
        assert_eq!(partition_and_account("not an arn"), None);
    }

    #[test]
    fn the_trust_policy_names_the_principal() {
        let trust = trust_policy("arn:aws:iam::123456789012:root");
        assert_eq!(
            trust["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
    }
}
