//! The onboarding steps, in order, and how each is retried: the one source of truth for both the
//! in-process workflow ([`crate::workflow`]) and the Step Functions state machine
//! ([`crate::state_machine`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// One onboarding step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Check the tenant's configuration against the catalog and the tier's rules.
    Validate,
    /// Standard: register the tenant in the shared database (row-level security); premium: a
    /// dedicated database.
    CreateDatabase,
    /// The tenant's prefix in the tenant data bucket and a storage policy scoped to it.
    ProvisionStorage,
    /// Standard: an app client and a group in the shared user pool; premium: a user pool.
    ConfigureAuth,
    /// The Kubernetes namespace, network policy and resource quota.
    DeployApp,
    /// The welcome email.
    Notify,
}

impl Step {
    /// The steps of onboarding, in the order they run; offboarding undoes them in reverse.
    pub const ONBOARDING: [Step; 6] = [
        Step::Validate,
        Step::CreateDatabase,
        Step::ProvisionStorage,
        Step::ConfigureAuth,
        Step::DeployApp,
        Step::Notify,
    ];

    /// The state's name in the state machine, e.g. `CreateDatabase`.
    pub fn state_name(self) -> &'static str {
        match self {
            Step::Validate => "Validate",
            Step::CreateDatabase => "CreateDatabase",
            Step::ProvisionStorage => "ProvisionStorage",
            Step::ConfigureAuth => "ConfigureAuth",
            Step::DeployApp => "DeployApp",
            Step::Notify => "Notify",
        }
    }

    /// The step's name in payloads and logs, e.g. `create_database`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Validate => "validate",
            Step::CreateDatabase => "create_database",
            Step::ProvisionStorage => "provision_storage",
            Step::ConfigureAuth => "configure_auth",
            Step::DeployApp => "deploy_app",
            Step::Notify => "notify",
        }
    }

    /// The steps to undo, in order, when the last step of `done` failed: every step of `done`
    /// that has an undo, the failed one included (it may have half-applied), last first.
    /// Offboarding undoes `compensation(&Step::ONBOARDING)`.
    pub fn compensation(done: &[Step]) -> Vec<Step> {
        done.iter()
            .rev()
            .copied()
            .filter(|step| step.has_undo())
            .collect()
    }

    /// Whether the step creates something that compensation and offboarding must remove.
    pub fn has_undo(self) -> bool {
        matches!(
            self,
            Step::CreateDatabase | Step::ProvisionStorage | Step::ConfigureAuth | Step::DeployApp
        )
    }
}

impl fmt::Display for Step {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.state_name())
    }
}

/// How a step that fails with a transient error is tried again: `max_attempts` in all, the
/// first retry after `first_interval_secs`, each later one `backoff_rate` times the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Seconds before the first retry.
    pub first_interval_secs: u32,
    /// The factor between consecutive intervals.
    pub backoff_rate: u32,
    /// The longest interval, in seconds.
    pub max_interval_secs: u32,
}

impl RetryPolicy {
    /// The policy of every onboarding step: 4 attempts, after 2, 4 and 8 seconds.
    pub const ONBOARDING: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        first_interval_secs: 2,
        backoff_rate: 2,
        max_interval_secs: 30,
    };

    /// Seconds to wait before attempt `attempt` (2 is the first retry); 0 for the first.
    pub fn delay_secs(&self, attempt: u32) -> u32 {
        if attempt <= 1 {
            return 0;
        }
        let factor = self.backoff_rate.saturating_pow(attempt - 2);
        self.first_interval_secs
            .saturating_mul(factor)
            .min(self.max_interval_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_are_capped() {
        let policy = RetryPolicy::ONBOARDING;
        let delays: Vec<u32> = (1..=5).map(|attempt| policy.delay_secs(attempt)).collect();
        assert_eq!(delays, vec![0, 2, 4, 8, 16]);
        assert_eq!(policy.delay_secs(40), policy.max_interval_secs);
    }

    #[test]
    fn names_are_distinct() {
        let mut names: Vec<&str> = Step::ONBOARDING.iter().map(|s| s.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Step::ONBOARDING.len());
    }
}
