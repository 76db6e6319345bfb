//! The tenant-management Lambda: builds the control plane's adapters, the workflow starter and
//! the token verifier once, then hands each API Gateway request to the handler.
//!
//! The control plane here stores and reads tenants (the DynamoDB tenants table, the S3 audit
//! log, the wall clock); it never provisions anything itself. Onboarding and offboarding run as
//! Step Functions executions, whose steps the onboarding function runs: this function only
//! starts them ([`StepFunctionsOnboarding`]), and its [`StepsElsewhere`] refuses
//! any step it were asked to run.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use tally_control_aws::tenants::DEFAULT_TENANTS_TABLE;
use tally_control_aws::{
    ControlSettings, DynamoTenants, S3AuditLog, StepFunctionsStarter, sdk_config,
};
use tally_runtime::control::SystemClock;
use tally_runtime::env::{TALLY_BUCKET_NAME, TALLY_TENANTS_TABLE};
use tally_schemas::MeterCatalog;
use tally_schemas::layout::DEFAULT_BUCKET;
use tally_tenancy::{ControlPlane, Provisioned, RetryPolicy, Step, StepError, Steps, Tenant};
use tenant_management::env::Settings;
use tenant_management::step_functions::StepFunctionsOnboarding;
use tenant_management::{Api, handle_lambda};

type LambdaApi = Api<
    DynamoTenants,
    S3AuditLog,
    StepsElsewhere,
    SystemClock,
    StepFunctionsOnboarding<DynamoTenants>,
    tally_auth::Verifier,
>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    let api = build_api(&settings).await?;
    let api = &api;
    // Boxed: the router's future over the SDK's is too deep for the compiler's layout queries.
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| Box::pin(handle_lambda(api, event)),
    ))
    .await
}

/// Builds everything once per Lambda instance: the catalog, the verifier of the user pool's
/// tokens (its key set fetched now), the control plane over the tenants table
/// (`TALLY_TENANTS_TABLE`) and the audit log (in `TALLY_BUCKET_NAME`), and the starter of the
/// state machines (`TALLY_ONBOARDING_STATE_MACHINE_ARN`, `TALLY_OFFBOARDING_STATE_MACHINE_ARN`).
///
/// Fails when a setting is missing (naming it), the meters file is refused, or the key set
/// cannot be fetched.
async fn build_api(settings: &Settings) -> Result<LambdaApi, lambda_runtime::Error> {
    let catalog = load_catalog(settings.meters_file.as_deref())?;
    let verifier = build_verifier(settings).await?;
    let config = sdk_config().await;
    // Only the names this function uses: it neither mails nor provisions storage.
    let control = ControlSettings {
        tenants_table: setting(TALLY_TENANTS_TABLE)
            .unwrap_or_else(|| DEFAULT_TENANTS_TABLE.to_owned()),
        bucket: setting(TALLY_BUCKET_NAME).unwrap_or_else(|| DEFAULT_BUCKET.to_owned()),
        user_pool_id: None,
        email_from: None,
        tenant_role_principal: None,
        tenant_permissions_boundary: None,
    };
    let tenants = control.tenants(&config);
    let onboarding = StepFunctionsOnboarding {
        starter: StepFunctionsStarter::from_env(&config)?,
        tenants: tenants.clone(),
    };
    let control = ControlPlane {
        store: tenants,
        audit: control.audit(&config),
        steps: StepsElsewhere,
        clock: SystemClock,
        catalog,
        retry: RetryPolicy::ONBOARDING,
    };
    Ok(Api {
        control: std::sync::Arc::new(control),
        onboarding,
        auth: verifier,
    })
}

/// A variable's value; an empty one counts as unset.
fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
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

/// The steps of a control plane that never runs them: they run in the onboarding function,
/// one Step Functions state at a time. Asked anyway, each refuses for good, so nothing could
/// ever seem provisioned that was not.
struct StepsElsewhere;

/// Why [`StepsElsewhere`] refuses.
const STEPS_ELSEWHERE: &str = "steps run in the onboarding function";

impl Steps for StepsElsewhere {
    async fn apply(&self, _step: Step, _tenant: &Tenant) -> Result<Provisioned, StepError> {
        Err(StepError::permanent(STEPS_ELSEWHERE))
    }

    async fn undo(&self, _step: Step, _tenant: &Tenant) -> Result<(), StepError> {
        Err(StepError::permanent(STEPS_ELSEWHERE))
    }

    async fn conclude(&self, _tenant: &Tenant) -> Result<Provisioned, StepError> {
        Err(StepError::permanent(STEPS_ELSEWHERE))
    }
}

#[cfg(test)]
mod tests {
    use tally_schemas::Timestamp;
    use tally_tenancy::NewTenant;

    use super::*;

    #[tokio::test]
    async fn given_this_function_asked_to_run_a_step_then_it_refuses_for_good() {
        let request: NewTenant = serde_json::from_value(serde_json::json!({
            "tenant_id": "acme", "name": "Acme", "tier": "standard", "admin_email": "a@b.io"
        }))
        .unwrap();
        let tenant = request
            .into_tenant(&MeterCatalog::defaults(), Timestamp::from_millis(0))
            .unwrap();
        let refusals = [
            StepsElsewhere
                .apply(Step::CreateDatabase, &tenant)
                .await
                .err(),
            StepsElsewhere
                .undo(Step::CreateDatabase, &tenant)
                .await
                .err(),
            StepsElsewhere.conclude(&tenant).await.err(),
        ];
        for refusal in refusals {
            let refusal = refusal.expect("refused");
            assert!(!refusal.is_transient());
            assert_eq!(refusal.to_string(), STEPS_ELSEWHERE);
        }
    }
}
