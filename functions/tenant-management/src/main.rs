//! The tenant-management Lambda: builds the control plane's adapters, the workflow starter and
//! the token verifier once, then hands each API Gateway request to the handler.
//!
//! The AWS adapters of the control plane's ports are still being written in `tally-control-aws`
//! (the DynamoDB tenants table and the S3 audit log are there; a Step Functions starter for
//! [`Onboarding`] and a system clock are not), so [`build_api`] refuses to start rather than
//! serve from memory. Wiring them in replaces the `Placeholder*` aliases and the body of
//! [`build_api`]; nothing else in this file changes.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use tally_schemas::{MeterCatalog, TenantId};
use tally_tenancy::Provisioners;
use tally_tenancy::memory::{
    ManualClock, MemoryAudit, MemoryBilling, MemoryMailer, MemoryResources, MemoryTenants,
};
use tenant_management::env::Settings;
use tenant_management::{Api, Error, Onboarding, handle_lambda};

// ---- TO BE REPLACED when tally-control-aws exists: the concrete adapters of the Lambda. ----
type PlaceholderTenants = MemoryTenants;
type PlaceholderAudit = MemoryAudit;
type PlaceholderSteps = Provisioners<
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryMailer,
    MemoryBilling,
>;
type PlaceholderClock = ManualClock;
type PlaceholderOnboarding = NotWired;
// ---- end of what is replaced ----

type LambdaApi = Api<
    PlaceholderTenants,
    PlaceholderAudit,
    PlaceholderSteps,
    PlaceholderClock,
    PlaceholderOnboarding,
    tally_auth::Verifier,
>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    let api = build_api(&settings).await?;
    let api = &api;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| handle_lambda(api, event),
    ))
    .await
}

/// Builds everything once per Lambda instance: the catalog, the verifier of the user pool's
/// tokens (its key set fetched now), and the control plane over the AWS adapters.
///
/// TO BE FILLED IN with `tally-control-aws`: construct `ControlPlane { store, audit, steps,
/// clock, catalog, retry }` from the SDK clients and the Step Functions starter for
/// `onboarding`. Until then it fails, so a deployed function refuses every cold start loudly
/// instead of keeping tenants in memory.
async fn build_api(settings: &Settings) -> Result<LambdaApi, lambda_runtime::Error> {
    let catalog = load_catalog(settings.meters_file.as_deref())?;
    let verifier = build_verifier(settings).await?;
    let _ready = (catalog, verifier);
    Err(Error::Config {
        detail: "the AWS adapters of the control plane (tally-control-aws) are not wired into \
                 tenant-management's main.rs yet"
            .to_owned(),
    }
    .into())
}

/// The verifier of the Cognito user pool's tokens, with its key set fetched once.
async fn build_verifier(
    settings: &Settings,
) -> Result<tally_auth::Verifier, lambda_runtime::Error> {
    let url = tally_auth::KeySet::cognito_jwks_url(
        settings.endpoint_url.as_deref(),
        &settings.region,
        &settings.user_pool_id,
    );
    let key_set = tally_auth::KeySet::fetch(&url).await?;
    let config = tally_auth::AuthConfig::cognito(
        &settings.region,
        &settings.user_pool_id,
        &settings.app_client_id,
    );
    Ok(tally_auth::Verifier::new(key_set, config)?)
}

/// The default meters plus the operator's file, if any.
fn load_catalog(path: Option<&str>) -> Result<MeterCatalog, lambda_runtime::Error> {
    let Some(path) = path else {
        return Ok(MeterCatalog::defaults());
    };
    let text = std::fs::read_to_string(path)?;
    Ok(MeterCatalog::with_operator_meters(&text, path)?)
}

/// The workflow starter until the Step Functions one exists: it starts nothing.
struct NotWired;

impl Onboarding for NotWired {
    async fn start(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        Err(Error::workflow("onboarding", tenant_id, "not wired"))
    }

    async fn offboard(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        Err(Error::workflow("offboarding", tenant_id, "not wired"))
    }
}
