//! `tally tenants`: create, inspect, change, suspend and offboard tenants on the embedded
//! default. `create` runs the whole onboarding workflow in process, the same steps and retries
//! the Step Functions state machine runs in AWS.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rust_decimal::Decimal;
use tally_schemas::TenantId;
use tally_tenancy::{NewTenant, Status, Tenant, TenantConfig, TenantPatch, Tier};

use crate::GlobalOptions;
use crate::control::{self, block_on};
use crate::output::print_table;

/// Who the local commands act as, in the audit log.
const CLI_ACTOR: &str = "tally-cli";

#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally tenants create --name \"Acme Corp\" --tier premium --email ops@acme.example\n  tally tenants create --json tenant.json\n  tally tenants list\n  tally tenants show acme-corp\n  tally tenants update acme-corp --quota api_calls=1000000\n  tally tenants suspend acme-corp --reason \"unpaid invoice\"\n  tally tenants audit acme-corp"
)]
/// Manage tenants: only registered, unsuspended tenants' usage is counted.
pub struct TenantsArgs {
    #[command(subcommand)]
    command: TenantsCommand,
}

#[derive(Subcommand)]
enum TenantsCommand {
    /// Create a tenant and onboard it (every step, with retries and compensation).
    Create(CreateArgs),
    /// List tenants in id order.
    List {
        /// The most tenants to show.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Start after this tenant id.
        #[arg(long, value_parser = parse_tenant_id)]
        after: Option<TenantId>,
    },
    /// Show one tenant as JSON: status, quotas and what onboarding provisioned.
    Show {
        #[arg(value_parser = parse_tenant_id)]
        tenant: TenantId,
    },
    /// Change a tenant's name, email, plan or quotas.
    Update(UpdateArgs),
    /// Suspend a tenant: its events are quarantined as tenant_suspended.
    Suspend {
        #[arg(value_parser = parse_tenant_id)]
        tenant: TenantId,
        /// Why (kept on the tenant and in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Activate a suspended tenant.
    Activate {
        #[arg(value_parser = parse_tenant_id)]
        tenant: TenantId,
    },
    /// Offboard a tenant: undo every onboarding step, draft its final invoice, say goodbye.
    Delete {
        #[arg(value_parser = parse_tenant_id)]
        tenant: TenantId,
    },
    /// Show a tenant's audit log: who changed what, when.
    Audit {
        #[arg(value_parser = parse_tenant_id)]
        tenant: TenantId,
    },
}

#[derive(Args)]
struct CreateArgs {
    /// The request body of POST /admin/tenants, from a file (`-` for standard input); the other
    /// options are then not allowed.
    #[arg(long, conflicts_with_all = ["name", "id", "tier", "email", "plan", "region", "feature", "quota"])]
    json: Option<PathBuf>,
    /// The display name.
    #[arg(long, required_unless_present = "json")]
    name: Option<String>,
    /// The tenant id (derived from the name when absent).
    #[arg(long)]
    id: Option<String>,
    /// standard (pooled) or premium (siloed).
    #[arg(long, value_parser = ["standard", "premium"], default_value = "standard")]
    tier: String,
    /// The admin's email address (the welcome email goes there).
    #[arg(long, required_unless_present = "json")]
    email: Option<String>,
    /// The billing plan id (the tier's name by default).
    #[arg(long)]
    plan: Option<String>,
    /// The AWS region of the tenant's resources.
    #[arg(long)]
    region: Option<String>,
    /// A feature flag (repeatable).
    #[arg(long)]
    feature: Vec<String>,
    /// A quota per billing period, METER=AMOUNT (repeatable).
    #[arg(long, value_parser = parse_quota)]
    quota: Vec<(String, Decimal)>,
}

#[derive(Args)]
struct UpdateArgs {
    #[arg(value_parser = parse_tenant_id)]
    tenant: TenantId,
    /// A new display name.
    #[arg(long)]
    name: Option<String>,
    /// A new admin email.
    #[arg(long)]
    email: Option<String>,
    /// A new plan id.
    #[arg(long)]
    plan: Option<String>,
    /// Quotas, METER=AMOUNT (repeatable; replaces all quotas).
    #[arg(long, value_parser = parse_quota)]
    quota: Vec<(String, Decimal)>,
}

fn parse_tenant_id(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).map_err(|problem| problem.to_string())
}

fn parse_quota(text: &str) -> Result<(String, Decimal), String> {
    let (meter, amount) = text.split_once('=').ok_or("expected METER=AMOUNT")?;
    let amount = amount
        .parse::<Decimal>()
        .map_err(|_| format!("{amount:?} is not a decimal amount"))?;
    Ok((meter.to_owned(), amount))
}

/// Runs a `tally tenants` command.
pub fn run(global: &GlobalOptions, args: &TenantsArgs) -> Result<ExitCode> {
    let plane = control::open(global)?;
    let tenant = match &args.command {
        TenantsCommand::Create(create) => {
            let request = new_tenant(create)?;
            block_on(async {
                let (tenant, _) = plane.create(request, CLI_ACTOR, None).await?;
                plane.onboard(&tenant.tenant_id, CLI_ACTOR).await
            })?
        }
        TenantsCommand::List { limit, after } => {
            let page = block_on(plane.list(after.as_ref(), *limit))?;
            print_list(&page.tenants);
            if let Some(next) = page.next {
                println!("More: tally tenants list --after {next}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        TenantsCommand::Show { tenant } => {
            let tenant = block_on(plane.get(tenant))?;
            let mut shown = serde_json::to_value(&tenant)?;
            let events = control::quota_events(global, Some(&tenant.tenant_id))?;
            shown["quota_events"] = serde_json::to_value(events)?;
            println!("{}", serde_json::to_string_pretty(&shown)?);
            return Ok(ExitCode::SUCCESS);
        }
        TenantsCommand::Update(update) => {
            let patch = TenantPatch {
                name: update.name.clone(),
                admin_email: update.email.clone(),
                plan: update.plan.clone(),
                quotas: (!update.quota.is_empty())
                    .then(|| update.quota.iter().cloned().collect::<BTreeMap<_, _>>()),
                ..TenantPatch::default()
            };
            block_on(plane.update(&update.tenant, patch, CLI_ACTOR))?
        }
        TenantsCommand::Suspend { tenant, reason } => {
            block_on(plane.suspend(tenant, reason, CLI_ACTOR))?
        }
        TenantsCommand::Activate { tenant } => block_on(plane.activate(tenant, CLI_ACTOR))?,
        TenantsCommand::Delete { tenant } => block_on(plane.offboard(tenant, CLI_ACTOR))?,
        TenantsCommand::Audit { tenant } => {
            let entries = block_on(plane.audit_log(tenant))?;
            println!("{}", serde_json::to_string_pretty(&entries)?);
            return Ok(ExitCode::SUCCESS);
        }
    };
    println!("{}", serde_json::to_string_pretty(&tenant)?);
    if tenant.status == Status::Failed {
        eprintln!(
            "tally: tenant {} failed: {}",
            tenant.tenant_id,
            tenant
                .status_reason
                .as_deref()
                .unwrap_or("no reason recorded")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn new_tenant(args: &CreateArgs) -> Result<NewTenant> {
    if let Some(path) = &args.json {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading standard input")?
        } else {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        };
        return serde_json::from_str(&text)
            .with_context(|| format!("{} is not a tenant request", path.display()));
    }
    let (Some(name), Some(email)) = (&args.name, &args.email) else {
        bail!("--name and --email are required without --json");
    };
    let tier = if args.tier == "premium" {
        Tier::Premium
    } else {
        Tier::Standard
    };
    let config = args.region.as_ref().map(|region| TenantConfig {
        region: region.clone(),
        features: args.feature.clone(),
    });
    Ok(NewTenant {
        tenant_id: args.id.clone(),
        name: name.clone(),
        tier,
        admin_email: email.clone(),
        plan: args.plan.clone(),
        config: config.or_else(|| {
            (!args.feature.is_empty()).then(|| TenantConfig {
                region: tally_tenancy::request::DEFAULT_REGION.to_owned(),
                features: args.feature.clone(),
            })
        }),
        quotas: args.quota.iter().cloned().collect(),
    })
}

fn print_list(tenants: &[Tenant]) {
    let rows: Vec<Vec<String>> = tenants
        .iter()
        .map(|tenant| {
            vec![
                tenant.tenant_id.to_string(),
                tenant.name.clone(),
                tenant.tier.to_string(),
                tenant.status.to_string(),
                tenant.plan.clone(),
            ]
        })
        .collect();
    print_table(
        &["tenant", "name", "tier", "status", "plan"],
        &rows,
        &[false; 5],
    );
}
