//! The route table, the one list of what the API answers: method, path template, whether a
//! token is needed and every status the route can return. The router dispatches on it and a
//! test holds `openapi.json` to it. A path's `{id}` segment is checked as a tenant id before the
//! route is chosen, so a hostile id never reaches a handler, a key or a log.

use tally_schemas::TenantId;

use crate::http::{percent_decode, quoted};
use crate::problem::{MAX_ECHO_CHARS, Problem};

/// What a route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET /admin/openapi.json`.
    OpenApi,
    /// `POST /admin/tenants`.
    CreateTenant,
    /// `GET /admin/tenants`.
    ListTenants,
    /// `GET /admin/tenants/{id}`.
    GetTenant,
    /// `PATCH /admin/tenants/{id}`.
    UpdateTenant,
    /// `DELETE /admin/tenants/{id}`.
    OffboardTenant,
    /// `POST /admin/tenants/{id}/suspend`.
    SuspendTenant,
    /// `POST /admin/tenants/{id}/activate`.
    ActivateTenant,
    /// `POST /admin/tenants/{id}/onboard`.
    OnboardTenant,
    /// `GET /admin/tenants/{id}/audit`.
    AuditLog,
}

impl Operation {
    /// The OpenAPI `operationId`.
    pub fn id(self) -> &'static str {
        match self {
            Operation::OpenApi => "getOpenApi",
            Operation::CreateTenant => "createTenant",
            Operation::ListTenants => "listTenants",
            Operation::GetTenant => "getTenant",
            Operation::UpdateTenant => "updateTenant",
            Operation::OffboardTenant => "offboardTenant",
            Operation::SuspendTenant => "suspendTenant",
            Operation::ActivateTenant => "activateTenant",
            Operation::OnboardTenant => "onboardTenant",
            Operation::AuditLog => "getAuditLog",
        }
    }
}

/// One route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The method.
    pub method: &'static str,
    /// The path template; `{id}` is one segment holding a tenant id.
    pub path: &'static str,
    /// What it does.
    pub operation: Operation,
    /// Whether it reads a JSON body (and so can answer 413 and 415).
    pub takes_body: bool,
    /// Every status it can answer with, in order.
    pub statuses: &'static [u16],
}

/// Every route of the API. Every route needs a bearer token (see `crate::auth`).
pub const ROUTES: &[Route] = &[
    route(
        "GET",
        "/admin/openapi.json",
        Operation::OpenApi,
        false,
        &[200, 401, 403, 500],
    ),
    route(
        "POST",
        TENANTS,
        Operation::CreateTenant,
        true,
        &[200, 201, 400, 401, 403, 409, 413, 415, 500, 503],
    ),
    route(
        "GET",
        TENANTS,
        Operation::ListTenants,
        false,
        &[200, 400, 401, 403, 500],
    ),
    route(
        "GET",
        TENANT,
        Operation::GetTenant,
        false,
        &[200, 400, 401, 403, 404, 500],
    ),
    route(
        "PATCH",
        TENANT,
        Operation::UpdateTenant,
        true,
        &[200, 400, 401, 403, 404, 409, 412, 413, 415, 500],
    ),
    route(
        "DELETE",
        TENANT,
        Operation::OffboardTenant,
        false,
        &[200, 202, 400, 401, 403, 404, 409, 500, 503],
    ),
    route(
        "POST",
        "/admin/tenants/{id}/suspend",
        Operation::SuspendTenant,
        true,
        &[200, 400, 401, 403, 404, 409, 413, 415, 500],
    ),
    route(
        "POST",
        "/admin/tenants/{id}/activate",
        Operation::ActivateTenant,
        false,
        &[200, 400, 401, 403, 404, 409, 500],
    ),
    route(
        "POST",
        "/admin/tenants/{id}/onboard",
        Operation::OnboardTenant,
        false,
        &[202, 400, 401, 403, 404, 409, 500, 503],
    ),
    route(
        "GET",
        "/admin/tenants/{id}/audit",
        Operation::AuditLog,
        false,
        &[200, 400, 401, 403, 404, 500],
    ),
];

/// Statuses any request can get without matching a route: no such path, or not this method.
pub const UNROUTED_STATUSES: &[u16] = &[400, 404, 405];

const TENANTS: &str = "/admin/tenants";
const TENANT: &str = "/admin/tenants/{id}";
/// The template segment that holds a tenant id.
const ID_SEGMENT: &str = "{id}";
/// The position of the tenant id in `/admin/tenants/{id}/...`.
const ID_POSITION: usize = 2;

const fn route(
    method: &'static str,
    path: &'static str,
    operation: Operation,
    takes_body: bool,
    statuses: &'static [u16],
) -> Route {
    Route {
        method,
        path,
        operation,
        takes_body,
        statuses,
    }
}

/// The route for `method` and `path`, with the tenant id of its `{id}` segment.
///
/// Fails with 400 when the segment where a tenant id belongs is not one (whatever else the
/// path says), 404 when no template matches the path, and 405 with `Allow` when templates match
/// but not for this method.
pub fn resolve(method: &str, path: &str) -> Result<(&'static Route, Option<TenantId>), Problem> {
    let segments: Vec<String> = match path.strip_prefix('/') {
        Some(rest) => rest.split('/').map(percent_decode).collect(),
        None => return Err(not_found()),
    };
    let tenant_id = match segments.as_slice() {
        [admin, tenants, id, ..] if admin == "admin" && tenants == "tenants" => {
            Some(parse_tenant_id(id)?)
        }
        _ => None,
    };
    let matching: Vec<&'static Route> = ROUTES
        .iter()
        .filter(|route| template_matches(route.path, &segments))
        .collect();
    if matching.is_empty() {
        return Err(not_found());
    }
    match matching.iter().find(|route| route.method == method) {
        Some(route) => Ok((route, tenant_id)),
        None => {
            let allow: Vec<&str> = matching.iter().map(|route| route.method).collect();
            Err(Problem::new(
                405,
                "method_not_allowed",
                format!("this path answers {}", allow.join(", ")),
            )
            .with_header("allow", allow.join(", ")))
        }
    }
}

/// Checks a path segment as a tenant id; the refusal names the rule and quotes at most
/// [`MAX_ECHO_CHARS`] of the segment.
pub fn parse_tenant_id(segment: &str) -> Result<TenantId, Problem> {
    TenantId::parse(segment).map_err(|rule| {
        Problem::invalid(
            "tenant_id",
            format!(
                "the path segment {} is not a tenant id: {rule}",
                quoted(segment, MAX_ECHO_CHARS)
            ),
        )
    })
}

fn template_matches(template: &str, segments: &[String]) -> bool {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .enumerate()
            .all(|(index, (part, segment))| {
                (*part == ID_SEGMENT && index == ID_POSITION) || part == segment
            })
}

fn not_found() -> Problem {
    Problem::new(
        404,
        "no_such_route",
        "no route has this path; see GET /admin/openapi.json",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_each_template_when_resolving_its_own_path_then_it_is_found() {
        for route in ROUTES {
            let path = route.path.replace(ID_SEGMENT, "acme");
            let (found, id) = resolve(route.method, &path).expect(route.path);
            assert_eq!(found, route);
            assert_eq!(id.is_some(), route.path.contains(ID_SEGMENT));
        }
    }

    #[test]
    fn given_an_encoded_slash_in_the_id_when_resolving_then_it_stays_in_the_segment() {
        let problem = resolve("GET", "/admin/tenants/..%2Fx").unwrap_err();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.field.as_deref(), Some("tenant_id"));
    }

    #[test]
    fn given_a_known_path_and_another_method_when_resolving_then_405_lists_the_methods() {
        let problem = resolve("PUT", "/admin/tenants/acme").unwrap_err();
        assert_eq!(problem.status, 405);
        assert_eq!(
            problem.headers,
            vec![("allow", "GET, PATCH, DELETE".to_owned())]
        );
    }

    #[test]
    fn given_unknown_paths_when_resolving_then_404() {
        for path in [
            "/",
            "admin",
            "/admin",
            "/admin/tenants/acme/explode",
            "//admin/tenants",
        ] {
            assert_eq!(resolve("GET", path).unwrap_err().status, 404, "{path}");
        }
    }

    #[test]
    fn every_route_table_entry_is_unique_and_lists_auth_statuses() {
        for (index, route) in ROUTES.iter().enumerate() {
            assert!(route.statuses.contains(&401) && route.statuses.contains(&403));
            assert_eq!(
                route.takes_body,
                route.statuses.contains(&415),
                "{}",
                route.path
            );
            let twin = ROUTES[index + 1..]
                .iter()
                .any(|other| other.method == route.method && other.path == route.path);
            assert!(!twin, "{} {} twice", route.method, route.path);
        }
    }
}
