//! The invoice-generator Lambda: builds the clients, the consumer (for its rollups and gauge
//! integration) and the plan book once, then runs each scheduled invocation on a thread that
//! may block.

use std::sync::{Arc, Mutex};

use invoice_generator::{Request, Summary, check_quotas, run};
use lambda_runtime::{LambdaEvent, service_fn};
use tally_aws::invoices::DEFAULT_INVOICES_TABLE;
use tally_aws::{AwsSettings, DynamoInvoices, sdk_config};
use tally_billing::PlanBook;
use tally_runtime::invoicing::DEFAULT_GRACE_HOURS;
use tally_runtime::{clock, env};

fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = AwsSettings::from_env()?;
    let catalog = env::load_catalog(settings.meters_file.as_deref())?;
    let book = match setting(env::TALLY_PLANS_FILE) {
        Some(path) => PlanBook::from_toml(&std::fs::read_to_string(&path)?, &path, &catalog)?,
        None => PlanBook::defaults(),
    };
    let grace_hours: i64 = match setting(env::TALLY_INVOICE_GRACE_HOURS) {
        Some(hours) => hours.parse()?,
        None => DEFAULT_GRACE_HOURS,
    };
    let invoices_table =
        setting(env::TALLY_INVOICES_TABLE).unwrap_or_else(|| DEFAULT_INVOICES_TABLE.to_owned());
    let config = sdk_config().await;
    let runtime = tokio::runtime::Handle::current();
    let invoices = DynamoInvoices::new(
        tally_aws::DynamoTables::client(&config),
        invoices_table,
        runtime.clone(),
    );
    let config_for_tenants = config.clone();
    let opening = settings.clone();
    let consumer =
        tokio::task::spawn_blocking(move || opening.consumer(&config, runtime)).await??;
    // The registry, for the quota check of each run.
    let tenants_table = setting(env::TALLY_TENANTS_TABLE)
        .unwrap_or_else(|| tally_control_aws::tenants::DEFAULT_TENANTS_TABLE.to_owned());
    let tenants = tally_control_aws::DynamoTenants::new(
        tally_aws::DynamoTables::client(&config_for_tenants),
        tenants_table,
    );
    let state = Arc::new(Mutex::new((consumer, invoices)));
    let catalog = Arc::new(catalog);
    let book = Arc::new(book);
    let tenants = &tenants;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| {
        let state = state.clone();
        let catalog = catalog.clone();
        let book = book.clone();
        async move {
            let registered = tenants.all().await?;
            tokio::task::spawn_blocking(move || -> Result<Summary, lambda_runtime::Error> {
                let mut state = state.lock().expect("no run panicked in this sandbox");
                let (consumer, invoices) = &mut *state;
                let summary = run(
                    consumer,
                    invoices,
                    &catalog,
                    &book,
                    &event.payload,
                    clock::now(),
                    grace_hours,
                )?;
                check_quotas(consumer, &registered, clock::now())?;
                println!("{}", serde_json::to_string(&summary)?);
                Ok(summary)
            })
            .await?
        }
    }))
    .await
}
