//! The onboarding Lambda: builds the control plane over the AWS adapters once (the tenants table,
//! the audit log, and one adapter per step: PostgreSQL, S3 and IAM, Cognito, manifests in S3,
//! SES, and the invoice job for the final invoice), then runs each invocation's one action.
//! A setting that is missing fails the cold start, naming the variable. The database
//! credentials come from Secrets Manager when their ARNs are set (as infra sets them).

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use onboarding::billing::DraftFinalInvoice;
use onboarding::handle;
use serde_json::Value;
use tally_aws::invoices::DEFAULT_INVOICES_TABLE;
use tally_aws::{AwsSettings, DynamoInvoices, DynamoTables, S3Bucket};
use tally_billing::PlanBook;
use tally_control_aws::{ControlSettings, S3Manifests, Secrets, s3_client, sdk_config};
use tally_postgres::{
    AppRoles, DEFAULT_APP_GROUP_ROLE, DEFAULT_APP_LOGIN_ROLE, Login, LoginSource, PostgresDatabase,
    RoleName,
};
use tally_runtime::control::SystemClock;
use tally_runtime::{clock, env};
use tally_schemas::MeterCatalog;
use tally_tenancy::{ControlPlane, Provisioners, RetryPolicy};

type FinalInvoice = DraftFinalInvoice<S3Bucket, DynamoTables, DynamoInvoices>;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = sdk_config().await;
    let settings = ControlSettings::from_env();
    let aws = AwsSettings::from_env()?;
    let catalog = env::load_catalog(aws.meters_file.as_deref())?;
    let steps = Provisioners {
        database: database(&config).await?,
        storage: settings.storage(&config),
        auth: settings.auth(&config),
        app: S3Manifests::new(s3_client(&config), &settings.bucket),
        mailer: settings.mailer(&config)?,
        billing: final_invoice(&config, aws, catalog.clone())?,
    };
    let control = ControlPlane {
        store: settings.tenants(&config),
        audit: settings.audit(&config),
        steps,
        clock: SystemClock,
        catalog,
        retry: RetryPolicy::ONBOARDING,
    };
    let control = &control;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handle(control, event)
    }))
    .await
}

/// A setting that is set and not empty.
fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A setting that must be set (and not empty).
fn required(name: &str) -> Result<String, lambda_runtime::Error> {
    optional(name).ok_or_else(|| format!("{name} is not set").into())
}

/// CreateDatabase over the shared PostgreSQL at `TALLY_DATABASE_URL`.
///
/// The owner signs in with the login of the secret `TALLY_DATABASE_SECRET_ARN` when it is set
/// (read for every new session, and again when the server refuses a rotated password), else
/// with what the URL holds. The application's password is the secret
/// `TALLY_APP_DATABASE_PASSWORD_SECRET_ARN`, read once here, else `TALLY_APP_DATABASE_PASSWORD`.
async fn database(
    config: &aws_config::SdkConfig,
) -> Result<PostgresDatabase, lambda_runtime::Error> {
    let secrets = Secrets::from_config(config);
    let app_password = match optional(env::TALLY_APP_DATABASE_PASSWORD_SECRET_ARN) {
        Some(arn) => secrets.string(&arn).await?,
        None => required(env::TALLY_APP_DATABASE_PASSWORD)?,
    };
    let roles = AppRoles::new(
        RoleName::parse(DEFAULT_APP_GROUP_ROLE)?,
        RoleName::parse(DEFAULT_APP_LOGIN_ROLE)?,
        &app_password,
    )?;
    let database = PostgresDatabase::new(required(env::TALLY_DATABASE_URL)?, roles);
    Ok(match optional(env::TALLY_DATABASE_SECRET_ARN) {
        Some(arn) => database.signing_in_with(owner_login(secrets, arn)),
        None => database,
    })
}

/// The owner's login, read from the secret `arn` each time it is asked for.
fn owner_login(secrets: Secrets, arn: String) -> LoginSource {
    Arc::new(move || {
        let (secrets, arn) = (secrets.clone(), arn.clone());
        Box::pin(async move {
            let (user, password) = secrets.login(&arn).await?;
            Ok(Login { user, password })
        })
    })
}

/// The final invoice over the usage pipeline's bucket and tables and the invoices table, with
/// the operator's plans (`TALLY_PLANS_FILE`) or the default ones.
fn final_invoice(
    config: &aws_config::SdkConfig,
    aws: AwsSettings,
    catalog: MeterCatalog,
) -> Result<FinalInvoice, lambda_runtime::Error> {
    let book = match std::env::var(env::TALLY_PLANS_FILE)
        .ok()
        .filter(|path| !path.is_empty())
    {
        Some(path) => PlanBook::from_toml(&std::fs::read_to_string(&path)?, &path, &catalog)?,
        None => PlanBook::defaults(),
    };
    let invoices_table = std::env::var(env::TALLY_INVOICES_TABLE)
        .ok()
        .filter(|table| !table.is_empty())
        .unwrap_or_else(|| DEFAULT_INVOICES_TABLE.to_owned());
    let config = config.clone();
    let runtime = tokio::runtime::Handle::current();
    let open = move || {
        let invoices = DynamoInvoices::new(
            DynamoTables::client(&config),
            &invoices_table,
            runtime.clone(),
        );
        Ok((aws.consumer(&config, runtime.clone())?, invoices))
    };
    Ok(DraftFinalInvoice::new(
        Box::new(open),
        catalog,
        book,
        clock::now,
    ))
}
