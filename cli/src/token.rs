//! `tally token`: an admin token signed by the data directory's local key, for the admin API
//! that `tally serve` and the tenant-management function check.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use tally_auth::{ADMIN_GROUP, LocalIssuer};

use crate::GlobalOptions;

/// The folder of the local signing key inside the data directory.
pub const AUTH_DIR: &str = "auth";

#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally token\n  curl -H \"Authorization: Bearer $(tally token)\" http://127.0.0.1:8787/admin/tenants"
)]
/// Print a locally signed admin bearer token (RS256, the local key in the data directory).
pub struct TokenArgs {
    /// The token's subject (recorded as the actor in audit logs).
    #[arg(long, default_value = "local-admin")]
    subject: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u32,
}

/// Prints a token.
pub fn run(global: &GlobalOptions, args: &TokenArgs) -> Result<ExitCode> {
    let issuer = LocalIssuer::load_or_create(&global.data_dir.join(AUTH_DIR))?;
    let now = tally_runtime::clock::now().as_millis() / 1000;
    println!(
        "{}",
        issuer.token(&args.subject, &[ADMIN_GROUP], args.ttl_secs, now)
    );
    Ok(ExitCode::SUCCESS)
}
