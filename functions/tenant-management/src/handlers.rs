//! One method per route over the control plane: resolve the route (the path's tenant id checked
//! first), authenticate, then read the request, call the control plane or the workflow port,
//! and write the answer. Handlers hold no business rules: the lifecycle, the field checks and
//! idempotency are the control plane's.

use serde_json::json;
use tally_schemas::TenantId;
use tally_tenancy::lifecycle::allows;
use tally_tenancy::workflow::MAX_PAGE;
use tally_tenancy::{AuditLog, Clock, NewTenant, Status, Steps, Tenant, TenantPatch, TenantStore};

use crate::auth::{Authenticate, audit_actor, refusal};
use crate::body::{SuspendRequest, read_json};
use crate::headers::{entity_tag, fingerprint, idempotency_key, if_match, single_header};
use crate::http::{HttpRequest, HttpResponse, quoted};
use crate::onboarding::Onboarding;
use crate::problem::{MAX_ECHO_CHARS, Problem, log_error};
use crate::routes::{Operation, resolve};
use crate::{Api, OPENAPI_JSON};

/// The page size of `GET /admin/tenants` without `limit`.
pub const DEFAULT_PAGE: usize = 20;

type Answer = Result<HttpResponse, Problem>;

impl<T, L, P, C, O, A> Api<T, L, P, C, O, A>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
    O: Onboarding,
    A: Authenticate,
{
    /// Resolves, authenticates and runs one request.
    pub(crate) async fn dispatch(&self, request: &HttpRequest) -> Answer {
        let (route, tenant_id) = resolve(&request.method, &request.path)?;
        let actor = self.authenticate(request)?;
        let tenant_id = || {
            tenant_id
                .clone()
                .expect("{id} routes resolve with a tenant id")
        };
        match route.operation {
            Operation::OpenApi => Ok(HttpResponse::new(
                200,
                "application/json",
                OPENAPI_JSON.into(),
            )),
            Operation::CreateTenant => self.create(request, &actor).await,
            Operation::ListTenants => self.list(request).await,
            Operation::GetTenant => {
                let tenant = self.control.get(&tenant_id()).await?;
                Ok(tenant_response(200, &tenant))
            }
            Operation::UpdateTenant => self.update(request, &tenant_id(), &actor).await,
            Operation::OffboardTenant => self.offboard(&tenant_id(), &actor).await,
            Operation::SuspendTenant => {
                let suspend: SuspendRequest = read_json(request)?;
                let reason = suspend.checked_reason()?;
                let tenant = self.control.suspend(&tenant_id(), reason, &actor).await?;
                Ok(tenant_response(200, &tenant))
            }
            Operation::ActivateTenant => {
                let tenant = self.control.activate(&tenant_id(), &actor).await?;
                Ok(tenant_response(200, &tenant))
            }
            Operation::OnboardTenant => self.onboard(&tenant_id(), &actor).await,
            Operation::AuditLog => {
                let tenant_id = tenant_id();
                let entries = self.control.audit_log(&tenant_id).await?;
                Ok(HttpResponse::json(
                    200,
                    &json!({ "tenant_id": tenant_id, "entries": entries }),
                ))
            }
        }
    }

    fn authenticate(&self, request: &HttpRequest) -> Result<String, Problem> {
        let authorization = single_header(request, "authorization").map_err(|_| {
            refusal(crate::AuthFailure {
                status: 401,
                detail: "the Authorization header was sent more than once".to_owned(),
            })
        })?;
        let now = self.control.clock.now();
        match self.auth.authenticate(authorization, now) {
            Ok(actor) => Ok(audit_actor(&actor)),
            Err(failure) => Err(refusal(failure)),
        }
    }

    /// `POST /admin/tenants`: creates (201) or replays (200), then starts onboarding when the
    /// tenant has not started it yet, and answers with the tenant as it is after the start.
    async fn create(&self, request: &HttpRequest, actor: &str) -> Answer {
        let key = idempotency_key(request)?;
        let new_tenant: NewTenant = read_json(request)?;
        let body_fingerprint = fingerprint(&request.body);
        let idempotency = key.map(|key| (key, body_fingerprint.as_str()));
        let (tenant, created) = self
            .control
            .create(new_tenant, actor, idempotency)
            .await
            .map_err(replay_in_flight)?;
        let tenant_id = tenant.tenant_id;
        // A replay of a request whose onboarding never started (the start failed) starts it.
        if created || tenant.status == Status::Pending {
            self.start_onboarding(&tenant_id, actor).await?;
        }
        let tenant = self.control.get(&tenant_id).await?;
        let status = if created { 201 } else { 200 };
        Ok(tenant_response(status, &tenant).with_header("location", location(&tenant_id)))
    }

    /// `GET /admin/tenants?limit=&after=`.
    async fn list(&self, request: &HttpRequest) -> Answer {
        let (limit, after) = page_query(&request.query)?;
        let page = self.control.list(after.as_ref(), limit).await?;
        let next_url = page
            .next
            .as_ref()
            .map(|next| format!("/admin/tenants?limit={limit}&after={next}"));
        let body = json!({ "tenants": page.tenants, "next": page.next, "next_url": next_url });
        let response = HttpResponse::json(200, &body);
        Ok(match next_url {
            Some(url) => response.with_header("link", format!("<{url}>; rel=\"next\"")),
            None => response,
        })
    }

    /// `PATCH /admin/tenants/{id}`: 412 when `If-Match` names another version.
    async fn update(&self, request: &HttpRequest, tenant_id: &TenantId, actor: &str) -> Answer {
        let precondition = if_match(request)?;
        let patch: TenantPatch = read_json(request)?;
        // The precondition is checked on a read, and the write is then conditioned on the
        // version read: a change in between fails the write with 412 instead of being lost.
        let expected = match precondition {
            None => None,
            Some(precondition) => {
                let current = self.control.get(tenant_id).await?;
                if !precondition.admits(current.version) {
                    return Err(Problem::version_mismatch(tenant_id, current.version));
                }
                Some(current.version)
            }
        };
        let tenant = self
            .control
            .update_if(tenant_id, patch, expected, actor)
            .await?;
        Ok(tenant_response(200, &tenant))
    }

    /// `DELETE /admin/tenants/{id}`: starts offboarding (202); an offboarded tenant is answered
    /// as it is (200), since repeating a delete must not fail.
    async fn offboard(&self, tenant_id: &TenantId, actor: &str) -> Answer {
        let tenant = self.control.get(tenant_id).await?;
        match tenant.status {
            Status::Offboarded => return Ok(tenant_response(200, &tenant)),
            Status::Offboarding => {}
            status if allows(status, Status::Offboarding) => {}
            status => {
                return Err(Problem::new(
                    409,
                    "conflict",
                    format!(
                        "tenant {tenant_id} is {status}; offboard it once onboarding has ended"
                    ),
                ));
            }
        }
        if let Err(error) = self.onboarding.offboard(tenant_id, actor).await {
            return Err(workflow_unavailable(tenant_id, "offboarding", &error));
        }
        let tenant = self.control.get(tenant_id).await?;
        Ok(tenant_response(202, &tenant))
    }

    /// `POST /admin/tenants/{id}/onboard`: starts onboarding a `pending` or `failed` tenant.
    async fn onboard(&self, tenant_id: &TenantId, actor: &str) -> Answer {
        let tenant = self.control.get(tenant_id).await?;
        if !matches!(tenant.status, Status::Pending | Status::Failed) {
            return Err(Problem::new(
                409,
                "conflict",
                format!(
                    "tenant {tenant_id} is {}; only a pending or failed tenant is onboarded",
                    tenant.status
                ),
            ));
        }
        self.start_onboarding(tenant_id, actor).await?;
        let tenant = self.control.get(tenant_id).await?;
        Ok(tenant_response(202, &tenant))
    }

    async fn start_onboarding(&self, tenant_id: &TenantId, actor: &str) -> Result<(), Problem> {
        self.onboarding
            .start(tenant_id, actor)
            .await
            .map_err(|error| workflow_unavailable(tenant_id, "onboarding", &error))
    }
}

/// A tenant with its `ETag`.
fn tenant_response(status: u16, tenant: &Tenant) -> HttpResponse {
    HttpResponse::json(status, tenant).with_header("etag", entity_tag(tenant.version))
}

fn location(tenant_id: &TenantId) -> String {
    format!("/admin/tenants/{tenant_id}")
}

/// A replayed `Idempotency-Key` whose tenant is not stored: the first request is still running
/// (or failed after claiming the key), which is a conflict to retry, not a missing tenant.
fn replay_in_flight(error: tally_tenancy::Error) -> Problem {
    match error {
        tally_tenancy::Error::NotFound { .. } => Problem::new(
            409,
            "idempotency_in_flight",
            "the first request with this Idempotency-Key has not created its tenant (yet); \
             retry shortly",
        ),
        error => Problem::from(error),
    }
}

/// A 503 for a workflow that could not be started: the tenant is stored, so the caller is told
/// how to start it again; the engine's own message is logged only.
fn workflow_unavailable(tenant_id: &TenantId, workflow: &str, error: &crate::Error) -> Problem {
    log_error("starting a workflow failed", workflow, &error.to_string());
    let retry = match workflow {
        "onboarding" => format!(
            "repeat the request with the same Idempotency-Key, or POST {}/onboard",
            location(tenant_id)
        ),
        _ => format!("repeat DELETE {}", location(tenant_id)),
    };
    Problem::new(
        503,
        "workflow_unavailable",
        format!("tenant {tenant_id} is stored, but its {workflow} could not be started; {retry}"),
    )
    .with_header("location", location(tenant_id))
}

/// `limit` (1–[`MAX_PAGE`], default [`DEFAULT_PAGE`]) and `after` (a tenant id) of a list
/// query.
///
/// Fails with 400 naming the parameter when one is malformed, repeated or unknown.
fn page_query(query: &[(String, String)]) -> Result<(usize, Option<TenantId>), Problem> {
    let mut limit = None;
    let mut after = None;
    for (name, value) in query {
        let repeated = || Problem::invalid(name, format!("the {name} parameter is given twice"));
        match name.as_str() {
            "limit" if limit.is_some() => return Err(repeated()),
            "after" if after.is_some() => return Err(repeated()),
            "limit" => {
                let parsed = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n));
                let message = format!("must be a whole number from 1 to {MAX_PAGE}");
                limit = Some(parsed.ok_or_else(|| Problem::invalid("limit", message))?);
            }
            "after" => {
                let id = TenantId::parse(value).map_err(|rule| {
                    let shown = quoted(value, MAX_ECHO_CHARS);
                    Problem::invalid("after", format!("{shown} is not a tenant id: {rule}"))
                })?;
                after = Some(id);
            }
            _ => {
                return Err(Problem::invalid(
                    name,
                    "unknown parameter; use limit and after",
                ));
            }
        }
    }
    Ok((limit.unwrap_or(DEFAULT_PAGE), after))
}
