//! The usage-consumer Lambda: builds the clients, the consumer and the tenant registry once,
//! then hands each Kinesis event to the handler on a thread that may block (the adapters block
//! on their requests).

use std::sync::{Arc, Mutex};

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;
use lambda_runtime::{LambdaEvent, service_fn};
use tally_aws::{AwsSettings, sdk_config};
use tally_runtime::clock;
use usage_consumer::handle;
use usage_consumer::registry::{DynamoRegistry, Registry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = AwsSettings::from_env()?;
    let config = sdk_config().await;
    let runtime = tokio::runtime::Handle::current();
    let registry = Registry::new(DynamoRegistry::from_env(&config, runtime.clone()));
    let opening = settings.clone();
    let consumer =
        tokio::task::spawn_blocking(move || opening.consumer(&config, runtime)).await??;
    let state = Arc::new(Mutex::new((consumer, registry)));
    let stream = Arc::new(settings.stream);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| {
        let state = state.clone();
        let stream = stream.clone();
        async move {
            tokio::task::spawn_blocking(
                move || -> Result<KinesisEventResponse, lambda_runtime::Error> {
                    // One batch at a time per sandbox; a poisoned lock means a batch panicked, and
                    // the consumer's cache may be mid-change, so the sandbox must not go on.
                    let mut state = state.lock().expect("no batch panicked in this sandbox");
                    let (consumer, registry) = &mut *state;
                    let handled =
                        handle(consumer, registry, &stream, &event.payload, clock::now())?;
                    for line in &handled.log_lines {
                        println!("{line}");
                    }
                    Ok(handled.response)
                },
            )
            .await?
        }
    }))
    .await
}
