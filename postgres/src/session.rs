//! The application's side: a connection that works for exactly one tenant, named by a bind
//! parameter in the session setting the isolation policy reads.

use tally_schemas::TenantId;
use tokio_postgres::Client;

use crate::connect::{open, parse_url};
use crate::error::{Error, Result, failed};
use crate::schema::TENANT_SETTING;

/// A connection of the application's login role with `app.tenant_id` set to one tenant, so the
/// tenant tables show and accept only that tenant's rows.
///
/// The setting is session-wide: the connection must not be handed to a pooler that shares server
/// sessions between clients (PgBouncer in transaction mode). It guards against the application's
/// mistakes, not against SQL the application lets a tenant write: any session may change the
/// setting.
pub struct AppSession {
    client: Client,
    tenant: TenantId,
}

impl AppSession {
    /// Connects with `app_url` (the login role of [`crate::AppRoles`], the shared or a dedicated
    /// database) and sets `app.tenant_id` to `tenant`.
    ///
    /// Fails when the URL does not parse, its TLS settings cannot be used, the server's
    /// certificate is not trusted, the server cannot be reached, or the role connected as is a
    /// superuser or BYPASSRLS ([`Error::UnsafeSetup`]), for which the policy would not hold.
    pub async fn connect(app_url: &str, tenant: &TenantId) -> Result<AppSession> {
        let operation = format!("AppSession::connect({tenant})");
        let endpoint = parse_url(app_url, "AppSession::connect", "app")?;
        let client = open(&endpoint, &operation).await?;
        let row = client
            .query_one(
                "SELECT pg_catalog.set_config($1, $2, false), r.rolsuper OR r.rolbypassrls \
                 FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
                &[&TENANT_SETTING, &tenant.as_str()],
            )
            .await
            .map_err(failed(&operation, "set the tenant"))?;
        let bypasses_row_security: bool = row.get(1);
        if bypasses_row_security {
            return Err(Error::UnsafeSetup {
                operation,
                reason: "the application connects as a superuser or BYPASSRLS role, for which \
                         row-level security does not apply; connect as the login role of \
                         AppRoles"
                    .to_owned(),
            });
        }
        Ok(AppSession {
            client,
            tenant: tenant.clone(),
        })
    }

    /// The tenant this session works for.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The connection, to run the application's queries on.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
