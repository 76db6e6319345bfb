//! The admin side of the CreateDatabase onboarding step: every operation is idempotent, so the
//! onboarding workflow may repeat any of them after a crash or a transient error.

use tally_schemas::TenantId;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, GenericClient};

use crate::connect::{Endpoint, begin_locked, open, open_admin, parse_url};
use crate::error::{Result, failed};
use crate::inspect::{SchemaReport, read_report};
use crate::naming::{quote_identifier, tenant_identifier};
use crate::roles::{AppRoles, RoleKind, check_role_unprivileged, ensure_role};
use crate::schema::{TENANT_SETTING, TENANT_TABLES, apply_schema};

/// The tier recorded for a tenant registered in the shared database.
const POOLED_TIER: &str = "standard";

/// The tier recorded for the tenant of a dedicated database, in that database's registry.
const SILOED_TIER: &str = "premium";

/// An admin connection to the shared database of standard-tier tenants, which also creates and
/// drops premium tenants' dedicated databases on the same server.
///
/// The admin role owns the tables it creates, so it must not be one of the [`AppRoles`]; it
/// needs CREATEROLE, and CREATEDB for dedicated databases. Creating a database owned by a tenant
/// role needs a superuser, or on PostgreSQL 15 an admin that is a member of that role, which this
/// type does not arrange: in practice, a superuser on the loopback server.
///
/// A lost connection is reopened by the next operation.
pub struct SharedDatabase {
    endpoint: Endpoint,
    client: Client,
    roles: AppRoles,
}

impl SharedDatabase {
    /// Connects to the shared database with `admin_url`, e.g.
    /// `postgres://postgres@127.0.0.1:5432/tally`, or with TLS
    /// `postgres://owner:password@db.example:5432/tally?sslmode=verify-full` (see the crate
    /// documentation); dedicated databases are reached the same way.
    ///
    /// Fails when the URL does not parse, its TLS settings cannot be used, the server's
    /// certificate is not trusted, or the server cannot be reached (transient).
    pub async fn connect(admin_url: &str, roles: AppRoles) -> Result<SharedDatabase> {
        let endpoint = parse_url(admin_url, "SharedDatabase::connect", "admin")?;
        let client = open_admin(&endpoint, "SharedDatabase::connect").await?;
        Ok(SharedDatabase {
            endpoint,
            client,
            roles,
        })
    }

    /// The application roles this database grants access to.
    pub fn roles(&self) -> &AppRoles {
        &self.roles
    }

    /// The connection, reopened if it was lost.
    async fn client(&mut self, operation: &str) -> Result<&mut Client> {
        if self.client.is_closed() {
            self.client = open_admin(&self.endpoint, operation).await?;
        }
        Ok(&mut self.client)
    }

    /// Creates or converges the application roles (setting the login role's password), the
    /// registry and tenant tables, row-level security and the isolation policy.
    ///
    /// One transaction: idempotent, safe to run concurrently, and all or nothing. Fails with
    /// [`crate::Error::UnsafeSetup`] when an application role exists as superuser or BYPASSRLS,
    /// or the tables are set up in a way that defeats the policy; nothing is changed then.
    pub async fn bootstrap(&mut self) -> Result<()> {
        const OPERATION: &str = "bootstrap";
        let roles = self.roles.clone();
        let (group, login) = (roles.group().as_str(), roles.login().as_str());
        let client = self.client(OPERATION).await?;
        let transaction = begin_locked(client, OPERATION).await?;
        ensure_role(&transaction, OPERATION, group, RoleKind::NoLogin).await?;
        let password = roles.password();
        ensure_role(&transaction, OPERATION, login, RoleKind::Login { password }).await?;
        let membership = format!(
            "GRANT {} TO {}",
            quote_identifier(group),
            quote_identifier(login)
        );
        transaction
            .batch_execute(&membership)
            .await
            .map_err(failed(OPERATION, "grant the group role to the login role"))?;
        apply_schema(&transaction, OPERATION, roles.group()).await?;
        transaction
            .commit()
            .await
            .map_err(failed(OPERATION, "commit"))
    }

    /// Records `tenant` as a standard-tier tenant of the shared database; does nothing if it is
    /// recorded already (whatever its tier).
    pub async fn register_tenant(&mut self, tenant: &TenantId) -> Result<()> {
        let operation = format!("register_tenant({tenant})");
        let client = self.client(&operation).await?;
        register(client, &operation, tenant, POOLED_TIER).await
    }

    /// Deletes every row of `tenant` from every tenant table, then its registry entry, in one
    /// transaction. Succeeds when there is nothing to delete.
    pub async fn remove_tenant(&mut self, tenant: &TenantId) -> Result<()> {
        let operation = format!("remove_tenant({tenant})");
        let client = self.client(&operation).await?;
        let transaction = client
            .transaction()
            .await
            .map_err(failed(&operation, "begin"))?;
        // With FORCE ROW LEVEL SECURITY the policy binds an owner that is not a superuser too:
        // name the tenant for this transaction, so the deletes below see its rows.
        transaction
            .execute(
                "SELECT pg_catalog.set_config($1, $2, true)",
                &[&TENANT_SETTING, &tenant.as_str()],
            )
            .await
            .map_err(failed(&operation, "set the tenant"))?;
        for table in TENANT_TABLES {
            let delete = format!("DELETE FROM public.{table} WHERE tenant_id = $1");
            transaction
                .execute(&delete, &[&tenant.as_str()])
                .await
                .map_err(failed(&operation, "delete the tenant's rows"))?;
        }
        transaction
            .execute(
                "DELETE FROM public.tenants WHERE tenant_id = $1",
                &[&tenant.as_str()],
            )
            .await
            .map_err(failed(&operation, "delete the registry entry"))?;
        transaction
            .commit()
            .await
            .map_err(failed(&operation, "commit"))
    }

    /// Whether `tenant` is in the shared database's registry.
    pub async fn tenant_exists(&mut self, tenant: &TenantId) -> Result<bool> {
        let operation = format!("tenant_exists({tenant})");
        let client = self.client(&operation).await?;
        exists(
            client,
            &operation,
            "SELECT EXISTS (SELECT 1 FROM public.tenants WHERE tenant_id = $1)",
            tenant.as_str(),
        )
        .await
    }

    /// The row-level security of the shared database's tables.
    pub async fn schema_report(&mut self) -> Result<SchemaReport> {
        let client = self.client("schema_report").await?;
        read_report(client, "schema_report").await
    }

    /// Fails with [`crate::Error::UnsafeSetup`] when the application's login role is a superuser
    /// or may bypass row-level security (for example after an operator altered it).
    pub async fn check_app_roles(&mut self) -> Result<()> {
        let roles = self.roles.clone();
        let client = self.client("check_app_roles").await?;
        for role in [roles.group(), roles.login()] {
            check_role_unprivileged(client, "check_app_roles", role.as_str()).await?;
        }
        Ok(())
    }
}

/// Inserts `tenant` into the registry of the database `client` is connected to, unless present.
async fn register(
    client: &impl GenericClient,
    operation: &str,
    tenant: &TenantId,
    tier: &str,
) -> Result<()> {
    client
        .execute(
            "INSERT INTO public.tenants (tenant_id, tier) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO NOTHING",
            &[&tenant.as_str(), &tier],
        )
        .await
        .map_err(failed(operation, "insert into tenants"))?;
    Ok(())
}

/// Runs a `SELECT EXISTS (...)` with one text parameter.
async fn exists(client: &Client, operation: &str, query: &str, parameter: &str) -> Result<bool> {
    let row = client
        .query_one(query, &[&parameter])
        .await
        .map_err(failed(operation, "check existence"))?;
    Ok(row.get(0))
}

impl SharedDatabase {
    /// Creates the dedicated database of a premium `tenant`, owned by a NOLOGIN role of the same
    /// name, applies the schema in it, records the tenant in its registry, and returns its name
    /// (see [`crate::tenant_identifier`]).
    ///
    /// Only the owner and the application group may connect. Idempotent: a database left
    /// half-made by an earlier attempt is completed. Run [`SharedDatabase::bootstrap`] first:
    /// the application roles must exist.
    pub async fn create_dedicated_database(&mut self, tenant: &TenantId) -> Result<String> {
        let operation = format!("create_dedicated_database({tenant})");
        let name = tenant_identifier(tenant);
        let group = self.roles.group().clone();
        let client = self.client(&operation).await?;
        let transaction = begin_locked(client, &operation).await?;
        ensure_role(&transaction, &operation, &name, RoleKind::NoLogin).await?;
        transaction
            .commit()
            .await
            .map_err(failed(&operation, "commit the role"))?;
        create_database_unless_exists(client, &operation, &name).await?;
        let quoted = quote_identifier(&name);
        // The owner is set again in case an earlier attempt, or a person, created the database.
        let access = format!(
            "ALTER DATABASE {quoted} OWNER TO {quoted}; \
             REVOKE ALL ON DATABASE {quoted} FROM PUBLIC; \
             GRANT CONNECT ON DATABASE {quoted} TO {}",
            quote_identifier(group.as_str())
        );
        client
            .batch_execute(&access)
            .await
            .map_err(failed(&operation, "set owner and access"))?;
        let dedicated = self.endpoint.with_dbname(&name);
        let mut dedicated_client = open_admin(&dedicated, &operation).await?;
        let transaction = begin_locked(&mut dedicated_client, &operation).await?;
        apply_schema(&transaction, &operation, &group).await?;
        register(&transaction, &operation, tenant, SILOED_TIER).await?;
        transaction
            .commit()
            .await
            .map_err(failed(&operation, "commit the schema"))?;
        Ok(name)
    }

    /// Drops the dedicated database of `tenant`, disconnecting its sessions, then its owner
    /// role. Succeeds when neither exists.
    pub async fn drop_dedicated_database(&mut self, tenant: &TenantId) -> Result<()> {
        let operation = format!("drop_dedicated_database({tenant})");
        let quoted = quote_identifier(&tenant_identifier(tenant));
        let client = self.client(&operation).await?;
        // DROP DATABASE cannot run in a transaction; the role is dropped under the admin lock,
        // so it cannot race a concurrent creation of the same tenant's role.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .await
            .map_err(failed(&operation, "drop database"))?;
        let transaction = begin_locked(client, &operation).await?;
        transaction
            .batch_execute(&format!("DROP ROLE IF EXISTS {quoted}"))
            .await
            .map_err(failed(&operation, "drop role"))?;
        transaction
            .commit()
            .await
            .map_err(failed(&operation, "commit"))
    }

    /// Whether the dedicated database of `tenant` exists.
    pub async fn dedicated_database_exists(&mut self, tenant: &TenantId) -> Result<bool> {
        let operation = format!("dedicated_database_exists({tenant})");
        let name = tenant_identifier(tenant);
        let client = self.client(&operation).await?;
        exists(
            client,
            &operation,
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)",
            &name,
        )
        .await
    }

    /// The row-level security of the dedicated database of `tenant`, read over a connection
    /// of its own.
    pub async fn dedicated_schema_report(&mut self, tenant: &TenantId) -> Result<SchemaReport> {
        let operation = format!("dedicated_schema_report({tenant})");
        let dedicated = self.endpoint.with_dbname(&tenant_identifier(tenant));
        let client = open(&dedicated, &operation).await?;
        read_report(&client, &operation).await
    }
}

/// `CREATE DATABASE` runs outside any transaction and has no `IF NOT EXISTS`: look first, and
/// treat losing a race to a concurrent creation as success.
async fn create_database_unless_exists(client: &Client, operation: &str, name: &str) -> Result<()> {
    let present = exists(
        client,
        operation,
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)",
        name,
    )
    .await?;
    if present {
        return Ok(());
    }
    let quoted = quote_identifier(name);
    let create = format!("CREATE DATABASE {quoted} OWNER {quoted}");
    match client.batch_execute(&create).await {
        Ok(()) => Ok(()),
        Err(error)
            if error.code() == Some(&SqlState::DUPLICATE_DATABASE)
                || error.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(())
        }
        Err(source) => Err(failed(operation, "create database")(source)),
    }
}
