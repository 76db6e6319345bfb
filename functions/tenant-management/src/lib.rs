//! The tenant-management API: `/admin/tenants` over the control plane, the same router behind API
//! Gateway (the Lambda, [`lambda`]) and the local server (`tally serve`), through the small
//! transport-free types of [`http`]. Every route needs a bearer token; every refusal is
//! `application/problem+json`; every response is `Cache-Control: no-store`.
//!
//! | route | does | success |
//! |---|---|---|
//! | `POST /admin/tenants` | creates a tenant ([`tally_tenancy::NewTenant`]), starts onboarding; `Idempotency-Key` replays | 201, 200 on replay |
//! | `GET /admin/tenants?limit=&after=` | one page of tenants in id order | 200 |
//! | `GET /admin/tenants/{id}` | one tenant, `ETag: "<version>"` | 200 |
//! | `PATCH /admin/tenants/{id}` | applies a [`tally_tenancy::TenantPatch`]; `If-Match` optional | 200 (412 on a stale version) |
//! | `DELETE /admin/tenants/{id}` | starts offboarding | 202 (200 when already offboarded) |
//! | `POST /admin/tenants/{id}/suspend` | `{"reason"}`: suspends an active tenant | 200 |
//! | `POST /admin/tenants/{id}/activate` | activates a suspended tenant | 200 |
//! | `POST /admin/tenants/{id}/onboard` | starts onboarding again (a `pending` or `failed` tenant) | 202 |
//! | `GET /admin/tenants/{id}/audit` | the tenant's audit log, oldest first | 200 |
//! | `GET /admin/openapi.json` | this API's OpenAPI 3.1 document | 200 |
//!
//! [`routes::ROUTES`] lists every status each route can answer; `openapi.json` documents them,
//! and a test keeps the two in step.

pub mod auth;
pub mod body;
pub mod env;
pub mod error;
mod handlers;
pub mod headers;
pub mod http;
pub mod lambda;
pub mod onboarding;
pub mod problem;
pub mod routes;
#[cfg(feature = "aws")]
pub mod step_functions;

use std::sync::Arc;

use tally_tenancy::{AuditLog, Clock, ControlPlane, Steps, TenantStore};

pub use auth::{AuthFailure, Authenticate};
pub use body::MAX_BODY_BYTES;
pub use error::{Error, Result};
pub use handlers::DEFAULT_PAGE;
pub use http::{HttpRequest, HttpResponse};
pub use lambda::{from_apigw, handle_lambda, to_apigw};
pub use onboarding::Onboarding;
pub use problem::Problem;
pub use routes::{Operation, ROUTES, Route};

/// The OpenAPI 3.1 document of this API, served at `GET /admin/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Everything the API needs: the control plane, the workflow starter and the token checker.
pub struct Api<T, L, P, C, O, A> {
    /// The control plane; shared, because an in-process [`Onboarding`] adapter runs its
    /// workflows on the same one.
    pub control: Arc<ControlPlane<T, L, P, C>>,
    /// Starts onboarding and offboarding.
    pub onboarding: O,
    /// Checks bearer tokens; its clock is the control plane's.
    pub auth: A,
}

/// Answers one request. Never fails: every outcome, refusals included, is a response, and every
/// response carries `Cache-Control: no-store`.
pub async fn handle<T, L, P, C, O, A>(
    api: &Api<T, L, P, C, O, A>,
    request: HttpRequest,
) -> HttpResponse
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
    O: Onboarding,
    A: Authenticate,
{
    let response = match api.dispatch(&request).await {
        Ok(response) => response,
        Err(problem) => problem.to_response(),
    };
    with_common_headers(response)
}

/// The headers every response carries: nothing is cached (tenant records and audit logs are
/// not for shared caches), and bodies are never sniffed as another type.
pub(crate) fn with_common_headers(response: HttpResponse) -> HttpResponse {
    response
        .with_header("cache-control", "no-store")
        .with_header("x-content-type-options", "nosniff")
}
