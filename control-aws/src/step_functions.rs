//! Starting the onboarding and offboarding state machines: one StartExecution per request, with
//! input `{"tenant_id": ...}` and an execution name derived from the tenant id and the tenant's
//! version, so that a repeat of the same request (same tenant, same version) finds the execution
//! the first one started instead of starting a second; `ExecutionAlreadyExists` counts as started.
//!
//! An execution name is at most 80 characters, unique per state machine. The name is
//! `{stem}-v{version}`, and the stem depends on the tenant id alone: `onboard-{id}` (or
//! `offboard-{id}`) when that leaves room for any version and the id has no capital letter;
//! otherwise the id lower-cased and cut, then `.` and 16 hex digits of the SHA-256 of the id as
//! given, so distinct tenants never share a stem whether or not the service compares names
//! without case (a tenant id cannot hold `.`, so the two forms never meet).

use aws_config::SdkConfig;
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;
use tally_runtime::env::{TALLY_OFFBOARDING_STATE_MACHINE_ARN, TALLY_ONBOARDING_STATE_MACHINE_ARN};
use tally_schemas::TenantId;
use tally_tenancy::{Error, Result};

use crate::failure::{code, store_error};
use crate::names::sha256_hex;

/// The longest execution name Step Functions accepts.
pub const MAX_EXECUTION_NAME_CHARS: usize = 80;
/// Characters kept free after the stem for `-v` and the longest version (20 digits of a `u64`).
const VERSION_SUFFIX_CHARS: usize = 2 + 20;
/// Hex digits of the id's SHA-256 in a hashed stem (64 bits).
const HASH_HEX_DIGITS: usize = 16;
/// Most executions one ListExecutions page returns (the service's own limit).
const LIST_PAGE_EXECUTIONS: i32 = 1000;
/// Pages of running executions read when looking for a tenant's: a control plane runs a few
/// workflows at a time, so this bound is never reached in practice; past it, none is found.
const MAX_LIST_PAGES: usize = 10;

/// Which state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workflow {
    /// The onboarding state machine.
    Onboarding,
    /// The offboarding state machine.
    Offboarding,
}

impl Workflow {
    /// `onboarding` or `offboarding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Workflow::Onboarding => "onboarding",
            Workflow::Offboarding => "offboarding",
        }
    }

    /// What execution names of this workflow start with.
    fn name_prefix(self) -> &'static str {
        match self {
            Workflow::Onboarding => "onboard",
            Workflow::Offboarding => "offboard",
        }
    }
}

/// What a start found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Started {
    /// The execution of this name, running: started now, or by the same request before (Step
    /// Functions answers a repeated start of a running execution, same name and input, with
    /// that execution).
    Running {
        /// The execution's ARN.
        execution_arn: String,
    },
    /// An execution of this name exists already and has ended (or had another input): the
    /// same request started it before.
    Existed,
}

/// Starts executions of the onboarding and offboarding state machines.
#[derive(Clone, Debug)]
pub struct StepFunctionsStarter {
    client: Client,
    onboarding_arn: String,
    offboarding_arn: String,
}

impl StepFunctionsStarter {
    /// Starts the state machines with these ARNs through `client`.
    pub fn new(
        client: Client,
        onboarding_arn: impl Into<String>,
        offboarding_arn: impl Into<String>,
    ) -> StepFunctionsStarter {
        StepFunctionsStarter {
            client,
            onboarding_arn: onboarding_arn.into(),
            offboarding_arn: offboarding_arn.into(),
        }
    }

    /// The starter of the state machines named by `TALLY_ONBOARDING_STATE_MACHINE_ARN` and
    /// `TALLY_OFFBOARDING_STATE_MACHINE_ARN`, through a client for `config`.
    ///
    /// Fails naming the variable that is not set (or empty).
    pub fn from_env(config: &SdkConfig) -> Result<StepFunctionsStarter> {
        let required = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| Error::invalid(name, "set it to the state machine's ARN"))
        };
        Ok(StepFunctionsStarter::new(
            Client::new(config),
            required(TALLY_ONBOARDING_STATE_MACHINE_ARN)?,
            required(TALLY_OFFBOARDING_STATE_MACHINE_ARN)?,
        ))
    }

    /// The ARN of `workflow`'s state machine.
    pub fn state_machine_arn(&self, workflow: Workflow) -> &str {
        match workflow {
            Workflow::Onboarding => &self.onboarding_arn,
            Workflow::Offboarding => &self.offboarding_arn,
        }
    }

    /// Starts `workflow` for the tenant at `version`, named by [`execution_name`]; an execution
    /// of that name that exists already counts as started, so no second one starts.
    ///
    /// Fails when Step Functions refuses or cannot be reached (the message says when a retry
    /// may help).
    pub async fn start(
        &self,
        workflow: Workflow,
        tenant_id: &TenantId,
        version: u64,
    ) -> Result<Started> {
        let arn = self.state_machine_arn(workflow);
        let name = execution_name(workflow, tenant_id, version);
        let input = json!({ "tenant_id": tenant_id.as_str() }).to_string();
        let started = self
            .client
            .start_execution()
            .state_machine_arn(arn)
            .name(&name)
            .input(input)
            .send()
            .await;
        match started {
            Ok(output) => Ok(Started::Running {
                execution_arn: output.execution_arn().to_owned(),
            }),
            Err(error) if code(&error) == Some("ExecutionAlreadyExists") => Ok(Started::Existed),
            Err(error) => Err(store_error(
                "Step Functions StartExecution",
                &format!("{arn} {name}"),
                &error,
            )),
        }
    }

    /// The ARN of a running execution of `workflow` for the tenant (any version), if there is
    /// one among the first [`MAX_LIST_PAGES`] pages of running executions.
    ///
    /// Fails when Step Functions refuses or cannot be reached.
    pub async fn running(
        &self,
        workflow: Workflow,
        tenant_id: &TenantId,
    ) -> Result<Option<String>> {
        let arn = self.state_machine_arn(workflow);
        let stem = execution_stem(workflow, tenant_id);
        let mut pages = self
            .client
            .list_executions()
            .state_machine_arn(arn)
            .status_filter(ExecutionStatus::Running)
            .max_results(LIST_PAGE_EXECUTIONS)
            .into_paginator()
            .send();
        for _ in 0..MAX_LIST_PAGES {
            let Some(page) = pages.next().await else {
                break;
            };
            let page =
                page.map_err(|error| store_error("Step Functions ListExecutions", arn, &error))?;
            let found = page
                .executions()
                .iter()
                .find(|execution| is_execution_of(execution.name(), &stem));
            if let Some(execution) = found {
                return Ok(Some(execution.execution_arn().to_owned()));
            }
        }
        Ok(None)
    }
}

/// The execution name of `workflow` for the tenant at `version` (see the module docs).
pub fn execution_name(workflow: Workflow, tenant_id: &TenantId, version: u64) -> String {
    format!("{}-v{version}", execution_stem(workflow, tenant_id))
}

/// The part of the execution name that depends on the tenant alone.
fn execution_stem(workflow: Workflow, tenant_id: &TenantId) -> String {
    let id = tenant_id.as_str();
    let prefix = workflow.name_prefix();
    let budget = MAX_EXECUTION_NAME_CHARS - VERSION_SUFFIX_CHARS;
    let plain_fits = prefix.len() + 1 + id.len() <= budget;
    if plain_fits && !id.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return format!("{prefix}-{id}");
    }
    let kept = budget - prefix.len() - 1 - 1 - HASH_HEX_DIGITS;
    // Tenant ids are ASCII, so cutting at a byte index never splits a character.
    let cut = id[..id.len().min(kept)].to_ascii_lowercase();
    let hash = sha256_hex(id.as_bytes());
    format!("{prefix}-{cut}.{}", &hash[..HASH_HEX_DIGITS])
}

/// Whether `name` is `{stem}-v{digits}`: another tenant's id may extend this one's
/// (`acme` and `acme-v1`), so a prefix alone is not enough.
fn is_execution_of(name: &str, stem: &str) -> bool {
    name.strip_prefix(stem)
        .and_then(|rest| rest.strip_prefix("-v"))
        .is_some_and(|version| {
            !version.is_empty() && version.bytes().all(|byte| byte.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> TenantId {
        TenantId::parse(text).expect("a valid tenant id")
    }

    #[test]
    fn short_lower_case_ids_name_executions_plainly() {
        assert_eq!(
            execution_name(Workflow::Onboarding, &id("acme"), 3),
            "onboard-acme-v3"
        );
        assert_eq!(
            execution_name(Workflow::Offboarding, &id("acme_eu-1"), 12),
            "offboard-acme_eu-1-v12"
        );
    }

    #[test]
    fn every_name_fits_whatever_the_id_and_version() {
        let longest = format!("Z{}", "z".repeat(63));
        for workflow in [Workflow::Onboarding, Workflow::Offboarding] {
            let name = execution_name(workflow, &id(&longest), u64::MAX);
            assert!(name.len() <= MAX_EXECUTION_NAME_CHARS, "{name}");
            let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
            assert!(name.chars().all(allowed), "{name}");
        }
    }

    #[test]
    fn ids_differing_in_case_or_past_the_cut_get_different_names() {
        let names =
            ["acme", "Acme", "ACME"].map(|text| execution_name(Workflow::Onboarding, &id(text), 1));
        for (index, name) in names.iter().enumerate() {
            for other in &names[index + 1..] {
                assert!(!name.eq_ignore_ascii_case(other), "{name} vs {other}");
            }
        }
        let first = format!("{}x", "t".repeat(63));
        let second = format!("{}y", "t".repeat(63));
        assert_ne!(
            execution_name(Workflow::Onboarding, &id(&first), 1),
            execution_name(Workflow::Onboarding, &id(&second), 1)
        );
    }

    #[test]
    fn a_running_execution_is_matched_by_its_stem_and_a_version_only() {
        let stem = execution_stem(Workflow::Offboarding, &id("acme"));
        assert!(is_execution_of("offboard-acme-v7", &stem));
        assert!(
            !is_execution_of("offboard-acme-v1-v7", &stem),
            "tenant acme-v1"
        );
        assert!(!is_execution_of("offboard-acme-v", &stem));
        assert!(!is_execution_of("offboard-acmex-v7", &stem));
    }
}
