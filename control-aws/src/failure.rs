//! How an SDK error becomes a control-plane error: transient (throttling, 5xx, timeouts, dropped
//! connections) or permanent for the step ports, a store failure for the tenants table and the
//! audit log; every message names the request and the resource it was made on.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use tally_producer::kinesis::describe;
use tally_tenancy::StepError;

/// Error codes that mean "slow down" or "try again" whatever the HTTP status says (some
/// services answer throttling with 400).
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalErrorException",
    "InternalServerError",
];

/// The SDK error of an operation whose service error is `E`.
pub type Sdk<E> = SdkError<E, HttpResponse>;

/// The service's error code (`EntityAlreadyExists`, `ConditionalCheckFailedException`, ...), when
/// the service answered with one.
pub fn code<E: ProvideErrorMetadata>(error: &Sdk<E>) -> Option<&str> {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
}

/// Whether trying the request again may succeed: the service throttled or failed on its side
/// (a 5xx, a 429, or a throttling or internal-error code), the request timed out, the connection
/// failed, or the response was cut short. A request the SDK could not build, a failure caused
/// by the caller's own configuration, and every other refusal are permanent.
pub fn is_transient<E: ProvideErrorMetadata>(error: &Sdk<E>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            status >= 500
                || status == 429
                || context
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    }
}

/// What went wrong, for a person: the service's code and message when it answered, else the
/// whole chain of causes.
pub fn detail<E>(error: &Sdk<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(context) => {
            let service = context.err();
            format!(
                "{}: {} (HTTP {})",
                service.code().unwrap_or("unknown error"),
                service.message().unwrap_or("no message"),
                context.raw().status().as_u16()
            )
        }
        _ => describe(error),
    }
}

/// A step error for `request` (e.g. `IAM CreatePolicy`) on `resource`, transient or permanent
/// as [`is_transient`] decides.
pub fn step_error<E>(request: &str, resource: &str, error: &Sdk<E>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!("{request} {resource}: {}", detail(error));
    if is_transient(error) {
        StepError::transient(message)
    } else {
        StepError::permanent(message)
    }
}

/// A store error for `request` (e.g. `DynamoDB PutItem`) on `resource`; a transient failure
/// says so, because the store error has no separate kind for it.
pub fn store_error<E>(request: &str, resource: &str, error: &Sdk<E>) -> tally_tenancy::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut detail = detail(error);
    if is_transient(error) {
        detail.push_str(" (transient: try again)");
    }
    tally_tenancy::Error::store(format!("{request} {resource}"), detail)
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_sdk_s3::primitives::SdkBody;

    use super::*;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().expect("a valid status"), SdkBody::empty())
    }

    fn unhandled(code: &str, status: u16) -> Sdk<PutItemError> {
        let metadata = ErrorMetadata::builder()
            .code(code)
            .message("said the service")
            .build();
        SdkError::service_error(PutItemError::generic(metadata), response(status))
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        // GIVEN throttling answered with 400, a 503 and a 429
        // THEN each may be retried
        assert!(is_transient(&unhandled("ThrottlingException", 400)));
        assert!(is_transient(&unhandled("SomethingNew", 503)));
        assert!(is_transient(&unhandled("SomethingNew", 429)));
        assert!(is_transient(&Sdk::<PutItemError>::timeout_error("slow")));
    }

    #[test]
    fn refusals_are_permanent_and_named() {
        // GIVEN a condition failure
        // (the SDK sets the code from the response, as here)
        let metadata = ErrorMetadata::builder()
            .code("ConditionalCheckFailedException")
            .build();
        let failed = ConditionalCheckFailedException::builder()
            .message("no")
            .meta(metadata)
            .build();
        let error = SdkError::service_error(
            PutItemError::ConditionalCheckFailedException(failed),
            response(400),
        );
        // THEN it is permanent, its code is readable and the message names the request
        assert!(!is_transient(&error));
        assert_eq!(code(&error), Some("ConditionalCheckFailedException"));
        let step = step_error("DynamoDB PutItem", "tenants", &error);
        assert!(!step.is_transient());
        assert!(step.to_string().starts_with("DynamoDB PutItem tenants: "));
        assert!(step.to_string().contains("ConditionalCheckFailedException"));
        assert!(!is_transient(&Sdk::<PutItemError>::construction_failure(
            "bad input"
        )));
    }

    #[test]
    fn store_errors_say_when_a_retry_may_help() {
        let error = store_error(
            "DynamoDB Query",
            "tenants",
            &unhandled("InternalFailure", 500),
        );
        let text = error.to_string();
        assert!(text.starts_with("DynamoDB Query tenants: InternalFailure"));
        assert!(text.ends_with("(transient: try again)"));
    }
}
