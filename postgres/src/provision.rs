//! The CreateDatabase step of onboarding over this crate: a standard tenant is registered in the
//! shared database (row-level security keeps it apart), a premium tenant gets a dedicated
//! database. Each call connects, makes sure the shared schema is in place, and acts; every call
//! is safe to repeat.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tally_schemas::TenantId;
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Provision, Provisioned, StepError, Tenant, Tier};
use tokio::sync::Mutex;

use crate::{AppRoles, Error, SharedDatabase, with_login};

/// A user name and password for the admin connection.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What reading a [`Login`] yields: the login, or why it could not be read.
pub type LoginFuture = Pin<Box<dyn Future<Output = Result<Login, String>> + Send>>;

/// Where the admin login comes from when it is kept outside the URL (a secret that is rotated):
/// called for every new admin session.
pub type LoginSource = Arc<dyn Fn() -> LoginFuture + Send + Sync>;

/// CreateDatabase against PostgreSQL.
pub struct PostgresDatabase {
    admin_url: String,
    login: Option<LoginSource>,
    roles: AppRoles,
    /// One admin session, opened on first use and reused (a dropped one reconnects).
    session: Mutex<Option<SharedDatabase>>,
}

impl PostgresDatabase {
    /// The step over the shared database at `admin_url`, whose application uses `roles`.
    pub fn new(admin_url: impl Into<String>, roles: AppRoles) -> PostgresDatabase {
        PostgresDatabase {
            admin_url: admin_url.into(),
            login: None,
            roles,
            session: Mutex::new(None),
        }
    }

    /// The same, signing in with the login `source` reads (the URL then holds none, see
    /// [`with_login`]). The login is read for every new session; when the server refuses it (it
    /// was rotated since), the session is dropped and the login read again, once.
    pub fn signing_in_with(self, source: LoginSource) -> PostgresDatabase {
        PostgresDatabase {
            login: Some(source),
            ..self
        }
    }

    /// A new admin session, with the schema bootstrapped.
    async fn open(&self) -> crate::Result<SharedDatabase> {
        let url = match &self.login {
            None => self.admin_url.clone(),
            Some(source) => {
                let login = source()
                    .await
                    .map_err(|reason| Error::LoginUnreadable { reason })?;
                with_login(&self.admin_url, &login.user, &login.password)?
            }
        };
        let mut database = SharedDatabase::connect(&url, self.roles.clone()).await?;
        database.bootstrap().await?;
        Ok(database)
    }

    /// Performs `act` on the admin session, opening one first when there is none; when the
    /// server refuses a login read from the source, reads it again and retries, once.
    async fn with_session(&self, act: Act<'_>) -> StepResult<Option<String>> {
        let mut session = self.session.lock().await;
        let mut read_again = self.login.is_some();
        loop {
            let result = match session.as_mut() {
                Some(database) => act.perform(database).await,
                None => match self.open().await {
                    Ok(database) => act.perform(session.insert(database)).await,
                    Err(error) => Err(error),
                },
            };
            match result {
                Err(error) if read_again && error.is_login_refused() => {
                    read_again = false;
                    *session = None;
                }
                result => return result.map_err(step_error),
            }
        }
    }
}

/// What the step does on the admin session. An enum rather than a closure: it is performed
/// again after a refused login, and its future must be `Send`.
#[derive(Clone, Copy)]
enum Act<'a> {
    Register(&'a TenantId),
    Remove(&'a TenantId),
    CreateDedicated(&'a TenantId),
    DropDedicated(&'a TenantId),
}

impl Act<'_> {
    /// Performs the act; the dedicated database's name when one was created.
    async fn perform(self, database: &mut SharedDatabase) -> crate::Result<Option<String>> {
        match self {
            Act::Register(id) => database.register_tenant(id).await.map(|()| None),
            Act::Remove(id) => database.remove_tenant(id).await.map(|()| None),
            Act::CreateDedicated(id) => database.create_dedicated_database(id).await.map(Some),
            Act::DropDedicated(id) => database.drop_dedicated_database(id).await.map(|()| None),
        }
    }
}

impl Provision for PostgresDatabase {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let id = &tenant.tenant_id;
        match tenant.tier {
            Tier::Standard => {
                self.with_session(Act::Register(id)).await?;
                Ok(Provisioned::one("database.kind", "shared")
                    .with("database.registry", crate::REGISTRY_TABLE))
            }
            Tier::Premium => {
                let name = self.with_session(Act::CreateDedicated(id)).await?;
                let name = name.ok_or_else(|| {
                    StepError::permanent("PostgreSQL: the dedicated database has no name")
                })?;
                Ok(Provisioned::one("database.kind", "dedicated").with("database.name", name))
            }
        }
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        let id = &tenant.tenant_id;
        let act = match tenant.tier {
            Tier::Standard => Act::Remove(id),
            Tier::Premium => Act::DropDedicated(id),
        };
        self.with_session(act).await.map(|_| ())
    }
}

fn step_error(error: Error) -> StepError {
    if error.is_transient() {
        StepError::transient(format!("PostgreSQL: {error}"))
    } else {
        StepError::permanent(format!("PostgreSQL: {error}"))
    }
}
