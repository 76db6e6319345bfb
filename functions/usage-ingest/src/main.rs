//! The usage-ingest Lambda: builds the Kinesis client, the catalog and the producer once, then
//! hands each API Gateway request to the handler.

use aws_config::BehaviorVersion;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{LambdaEvent, service_fn};
use tally_producer::Producer;
use tally_producer::aws_sdk_kinesis::Client;
use usage_ingest::{Settings, handle, load_catalog};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let settings = Settings::from_env(|name| std::env::var(name).ok());
    let catalog = load_catalog(settings.meters_file.as_deref())?;
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let producer = Producer::new(Client::new(&config), settings.stream).with_catalog(catalog);
    let producer = &producer;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            let handled = handle(producer, &event.payload).await;
            println!("{}", handled.log_line);
            Ok::<ApiGatewayV2httpResponse, lambda_runtime::Error>(handled.response)
        },
    ))
    .await
}
