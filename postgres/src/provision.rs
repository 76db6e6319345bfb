//! The CreateDatabase step of onboarding over this crate: a standard tenant is registered in the
//! shared database (row-level security keeps it apart), a premium tenant gets a dedicated
//! database. Each call connects, makes sure the shared schema is in place, and acts; every call
//! is safe to repeat.

use tally_tenancy::ports::StepResult;
use tally_tenancy::{Provision, Provisioned, StepError, Tenant, Tier};
use tokio::sync::Mutex;

use crate::{AppRoles, Error, SharedDatabase};

/// CreateDatabase against PostgreSQL.
pub struct PostgresDatabase {
    admin_url: String,
    roles: AppRoles,
    /// One admin session, opened on first use and reused (a dropped one reconnects).
    session: Mutex<Option<SharedDatabase>>,
}

impl PostgresDatabase {
    /// The step over the shared database at `admin_url`, whose application uses `roles`.
    pub fn new(admin_url: impl Into<String>, roles: AppRoles) -> PostgresDatabase {
        PostgresDatabase {
            admin_url: admin_url.into(),
            roles,
            session: Mutex::new(None),
        }
    }

    async fn with_session<T>(
        &self,
        act: impl AsyncFnOnce(&mut SharedDatabase) -> crate::Result<T>,
    ) -> StepResult<T> {
        let mut session = self.session.lock().await;
        if session.is_none() {
            let mut database = SharedDatabase::connect(&self.admin_url, self.roles.clone())
                .await
                .map_err(step_error)?;
            database.bootstrap().await.map_err(step_error)?;
            *session = Some(database);
        }
        let database = session.as_mut().expect("opened above");
        act(database).await.map_err(step_error)
    }
}

impl Provision for PostgresDatabase {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let id = tenant.tenant_id.clone();
        match tenant.tier {
            Tier::Standard => {
                self.with_session(async |database| database.register_tenant(&id).await)
                    .await?;
                Ok(Provisioned::one("database.kind", "shared")
                    .with("database.registry", crate::REGISTRY_TABLE))
            }
            Tier::Premium => {
                let name = self
                    .with_session(async |database| database.create_dedicated_database(&id).await)
                    .await?;
                Ok(Provisioned::one("database.kind", "dedicated").with("database.name", name))
            }
        }
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        let id = tenant.tenant_id.clone();
        match tenant.tier {
            Tier::Standard => {
                self.with_session(async |database| database.remove_tenant(&id).await)
                    .await
            }
            Tier::Premium => {
                self.with_session(async |database| database.drop_dedicated_database(&id).await)
                    .await
            }
        }
    }
}

fn step_error(error: Error) -> StepError {
    if error.is_transient() {
        StepError::transient(format!("PostgreSQL: {error}"))
    } else {
        StepError::permanent(format!("PostgreSQL: {error}"))
    }
}
