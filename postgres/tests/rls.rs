//! Row-level security and idempotency against a real PostgreSQL: every test gets a fresh database
//! and fresh application roles of its own, so the tests run in parallel, and drops them at the end
//! (even when it fails). The tests that need the server are `#[ignore]`d; run them with
//! `TALLY_TEST_DATABASE_URL=<superuser URL> cargo test -p tally-postgres -- --include-ignored`
//! (`scripts/postgres.sh start DIR` prints such a URL).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tally_postgres::{
    AppRoles, AppSession, Error, Login, LoginSource, POLICY_NAME, PostgresDatabase, RoleName,
    SharedDatabase, TENANT_TABLES, TEST_DATABASE_URL_VAR, tenant_identifier,
};
use tally_schemas::{TenantId, Timestamp};
use tally_tenancy::{Provision, Status, Tenant, TenantConfig, Tier};
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

/// Distinguishes the fixtures of one test process; the process id distinguishes processes.
static NEXT_FIXTURE: AtomicU32 = AtomicU32::new(0);

/// The login role's password: quotes and a backslash, to exercise the literal in CREATE ROLE.
const APP_PASSWORD: &str = "it's a \\ 'secret'";

fn server_url() -> String {
    std::env::var(TEST_DATABASE_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{TEST_DATABASE_URL_VAR} is not set: these tests need a PostgreSQL superuser URL; \
             run `scripts/postgres.sh start DIR` and set {TEST_DATABASE_URL_VAR} to the URL it \
             prints"
        )
    })
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

/// A `key=value` connection string, which (unlike a URL) needs no percent-encoding.
fn connection_string(server: &Config, user: &str, password: Option<&[u8]>, dbname: &str) -> String {
    let quote = |value: &str| format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"));
    let host = match server.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.to_string_lossy().into_owned(),
        None => "127.0.0.1".to_owned(),
    };
    let port = server.get_ports().first().copied().unwrap_or(5432);
    let mut text = format!(
        "host={} port={port} user={} dbname={}",
        quote(&host),
        quote(user),
        quote(dbname)
    );
    if let Some(password) = password {
        text.push_str(&format!(
            " password={}",
            quote(&String::from_utf8_lossy(password))
        ));
    }
    text
}

/// A fresh database and fresh application roles for one test, dropped on drop together with the
/// dedicated databases of the tenants handed to [`Fixture::track`].
struct Fixture {
    server: Config,
    database: String,
    roles: AppRoles,
    tracked: std::sync::Mutex<Vec<TenantId>>,
    /// Roles a test made besides the application's, dropped with the database.
    extra_roles: std::sync::Mutex<Vec<String>>,
}

impl Fixture {
    async fn new(label: &str) -> Fixture {
        let server: Config = server_url().parse().expect("the test URL parses");
        let number = NEXT_FIXTURE.fetch_add(1, Ordering::Relaxed);
        let database = format!("tally_test_{label}_{}_{number}", std::process::id());
        let roles = AppRoles::new(
            RoleName::parse(&format!("{database}_app")).unwrap(),
            RoleName::parse(&format!("{database}_login")).unwrap(),
            APP_PASSWORD,
        )
        .unwrap();
        let fixture = Fixture {
            server,
            database,
            roles,
            tracked: std::sync::Mutex::new(Vec::new()),
            extra_roles: std::sync::Mutex::new(Vec::new()),
        };
        let admin = fixture.server_admin().await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{}\"", fixture.database))
            .await
            .expect("create the test database");
        fixture
    }

    fn admin_user(&self) -> &str {
        self.server.get_user().unwrap_or("postgres")
    }

    /// The admin connection string for `dbname`.
    fn admin_url_for(&self, dbname: &str) -> String {
        connection_string(
            &self.server,
            self.admin_user(),
            self.server.get_password(),
            dbname,
        )
    }

    fn admin_url(&self) -> String {
        self.admin_url_for(&self.database)
    }

    /// The application's connection string for `dbname` (trust authentication on loopback).
    fn app_url_for(&self, dbname: &str) -> String {
        connection_string(&self.server, self.roles.login().as_str(), None, dbname)
    }

    fn app_url(&self) -> String {
        self.app_url_for(&self.database)
    }

    async fn shared(&self) -> SharedDatabase {
        SharedDatabase::connect(&self.admin_url(), self.roles.clone())
            .await
            .expect("connect as admin")
    }

    async fn raw(url: &str) -> Client {
        let (client, connection) = url
            .parse::<Config>()
            .unwrap()
            .connect(NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client
    }

    /// A raw admin connection to the test database (superuser: row-level security is bypassed).
    async fn admin(&self) -> Client {
        Self::raw(&self.admin_url()).await
    }

    /// A raw connection to the database the server URL names.
    async fn server_admin(&self) -> Client {
        let dbname = self.server.get_dbname().unwrap_or("postgres").to_owned();
        Self::raw(&self.admin_url_for(&dbname)).await
    }

    /// A raw connection as the application's login role that sets no tenant.
    async fn app_without_tenant(&self) -> Client {
        Self::raw(&self.app_url()).await
    }

    fn track(&self, tenant: &TenantId) {
        self.tracked.lock().unwrap().push(tenant.clone());
    }

    /// Bootstraps and seeds two projects and one API key for each tenant, as admin.
    async fn seeded(&self, tenants: &[&TenantId]) -> SharedDatabase {
        let mut shared = self.shared().await;
        shared.bootstrap().await.expect("bootstrap");
        let admin = self.admin().await;
        for tenant in tenants {
            shared.register_tenant(tenant).await.expect("register");
            for (id, name) in [(1_i64, "first"), (2, "second")] {
                admin
                    .execute(
                        "INSERT INTO projects (tenant_id, id, name) VALUES ($1, $2, $3)",
                        &[&tenant.as_str(), &id, &name],
                    )
                    .await
                    .expect("seed a project");
            }
            admin
                .execute(
                    "INSERT INTO api_keys (tenant_id, key_id, key_hash) VALUES ($1, 'k1', '\\x00')",
                    &[&tenant.as_str()],
                )
                .await
                .expect("seed an API key");
        }
        shared
    }

    async fn cleanup(
        server: Config,
        database: String,
        roles: AppRoles,
        tracked: Vec<TenantId>,
        extra_roles: Vec<String>,
    ) {
        let dbname = server.get_dbname().unwrap_or("postgres").to_owned();
        let user = server.get_user().unwrap_or("postgres").to_owned();
        let url = connection_string(&server, &user, server.get_password(), &dbname);
        let admin = Self::raw(&url).await;
        let mut statements = vec![format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        )];
        for tenant in &tracked {
            let name = tenant_identifier(tenant);
            statements.push(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            statements.push(format!("DROP ROLE IF EXISTS \"{name}\""));
        }
        statements.push(format!("DROP ROLE IF EXISTS \"{}\"", roles.login()));
        statements.push(format!("DROP ROLE IF EXISTS \"{}\"", roles.group()));
        for role in &extra_roles {
            statements.push(format!("DROP ROLE IF EXISTS \"{role}\""));
        }
        for statement in statements {
            if let Err(error) = admin.batch_execute(&statement).await {
                eprintln!("cleanup: {statement}: {error:?}");
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime cannot be blocked on from inside: clean up
        // on a thread with a runtime of its own.
        let server = self.server.clone();
        let database = self.database.clone();
        let roles = self.roles.clone();
        let tracked = std::mem::take(&mut *self.tracked.lock().unwrap());
        let extra_roles = std::mem::take(&mut *self.extra_roles.lock().unwrap());
        let cleaner = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(Fixture::cleanup(
                    server,
                    database,
                    roles,
                    tracked,
                    extra_roles,
                ));
        });
        cleaner.join().expect("cleanup thread");
    }
}

/// The SQLSTATE of a failed statement.
fn state_of<T: std::fmt::Debug>(result: Result<T, tokio_postgres::Error>) -> SqlState {
    let error = result.expect_err("the statement should fail");
    error
        .code()
        .cloned()
        .unwrap_or_else(|| panic!("no SQLSTATE in {error:?}"))
}

async fn count(client: &Client, query: &str, parameter: &str) -> i64 {
    client.query_one(query, &[&parameter]).await.unwrap().get(0)
}

async fn tenant_ids_visible(client: &Client, table: &str) -> BTreeSet<String> {
    client
        .query(&format!("SELECT tenant_id FROM {table}"), &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_a_session_for_tenant_a_then_rows_of_tenant_b_cannot_be_read_or_written() {
    let fixture = Fixture::new("isolation").await;
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let _shared = fixture.seeded(&[&a, &b]).await;
    let session = AppSession::connect(&fixture.app_url(), &a).await.unwrap();
    assert_eq!(session.tenant(), &a);
    let app = session.client();

    // Reads: only A's rows, even when B's are asked for by name.
    for table in TENANT_TABLES {
        assert_eq!(
            tenant_ids_visible(app, table).await,
            BTreeSet::from(["tenant-a".into()])
        );
    }
    let b_projects = "SELECT count(*) FROM projects WHERE tenant_id = $1";
    assert_eq!(count(app, b_projects, "tenant-b").await, 0);

    // Updates and deletes of B's rows touch nothing.
    let updated = app
        .execute(
            "UPDATE projects SET name = 'stolen' WHERE tenant_id = $1",
            &[&"tenant-b"],
        )
        .await
        .unwrap();
    let deleted = app
        .execute("DELETE FROM api_keys WHERE tenant_id = $1", &[&"tenant-b"])
        .await
        .unwrap();
    assert_eq!((updated, deleted), (0, 0));

    // Inserting a row of B, or moving A's row to B, violates the policy's WITH CHECK.
    let insert = "INSERT INTO projects (tenant_id, id, name) VALUES ($1, 99, 'x')";
    let insert_b = app.execute(insert, &[&"tenant-b"]).await;
    let message = format!("{:?}", insert_b.as_ref().unwrap_err().as_db_error());
    assert_eq!(state_of(insert_b), SqlState::INSUFFICIENT_PRIVILEGE);
    assert!(message.contains("row-level security"), "{message}");
    let move_to_b = app
        .execute(
            "UPDATE projects SET tenant_id = 'tenant-b' WHERE id = 1",
            &[],
        )
        .await;
    assert_eq!(state_of(move_to_b), SqlState::INSUFFICIENT_PRIVILEGE);

    // A's own rows work normally.
    assert_eq!(app.execute(insert, &[&"tenant-a"]).await.unwrap(), 1);
    assert_eq!(
        app.execute("DELETE FROM projects WHERE id = 99", &[])
            .await
            .unwrap(),
        1
    );

    // B's rows are untouched, seen by the admin.
    let admin = fixture.admin().await;
    let untouched = "SELECT count(*) FROM projects WHERE tenant_id = $1 AND name <> 'stolen'";
    assert_eq!(count(&admin, untouched, "tenant-b").await, 2);
    let b_keys = "SELECT count(*) FROM api_keys WHERE tenant_id = $1";
    assert_eq!(count(&admin, b_keys, "tenant-b").await, 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_no_tenant_or_an_empty_one_then_no_row_is_visible_and_inserts_fail() {
    let fixture = Fixture::new("unset").await;
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let _shared = fixture.seeded(&[&a, &b]).await;
    let app = fixture.app_without_tenant().await;
    let insert = "INSERT INTO projects (tenant_id, id, name) VALUES ($1, 50, 'x')";
    let settings = [
        ("never set", None),
        (
            "set to ''",
            Some("SELECT set_config('app.tenant_id', '', false)"),
        ),
        (
            "reset after being set",
            Some("SET app.tenant_id = 'tenant-a'; RESET app.tenant_id"),
        ),
    ];
    for (label, setup) in settings {
        if let Some(setup) = setup {
            app.batch_execute(setup).await.unwrap();
        }
        for table in TENANT_TABLES {
            let visible = tenant_ids_visible(&app, table).await;
            assert!(visible.is_empty(), "{label}: {table} shows {visible:?}");
        }
        for id in ["tenant-a", ""] {
            let inserted = app.execute(insert, &[&id]).await;
            assert_eq!(
                state_of(inserted),
                SqlState::INSUFFICIENT_PRIVILEGE,
                "{label}: {id:?}"
            );
        }
        let updated = app
            .execute("UPDATE projects SET name = 'x'", &[])
            .await
            .unwrap();
        let deleted = app.execute("DELETE FROM api_keys", &[]).await.unwrap();
        assert_eq!((updated, deleted), (0, 0), "{label}");
    }
    let admin = fixture.admin().await;
    assert_eq!(
        count(
            &admin,
            "SELECT count(*) FROM projects WHERE name <> $1",
            "x"
        )
        .await,
        4
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_the_app_role_then_it_cannot_switch_row_security_off() {
    let fixture = Fixture::new("escape").await;
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let mut shared = fixture.seeded(&[&a, &b]).await;
    let session = AppSession::connect(&fixture.app_url(), &a).await.unwrap();
    let app = session.client();

    // Any role may SET row_security = off; for a role subject to a policy, PostgreSQL then
    // refuses every query the policy would filter, rather than returning unfiltered rows.
    app.batch_execute("SET row_security = off").await.unwrap();
    let read = app.query("SELECT * FROM projects", &[]).await;
    let message = read
        .as_ref()
        .unwrap_err()
        .as_db_error()
        .unwrap()
        .message()
        .to_owned();
    assert_eq!(state_of(read), SqlState::INSUFFICIENT_PRIVILEGE);
    assert!(
        message.contains("would be affected by row-level security"),
        "{message}"
    );
    app.batch_execute("RESET row_security").await.unwrap();

    // Only the owner may change a table's row security or its policies; TRUNCATE (which ignores
    // row security) is not granted; and the app cannot become another role.
    let owner_only = [
        "ALTER TABLE projects DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON projects",
        "CREATE POLICY open_door ON api_keys USING (true)",
        "ALTER POLICY tenant_isolation ON projects USING (true)",
        "TRUNCATE projects",
        "SET ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
    ];
    for statement in owner_only {
        let state = state_of(app.batch_execute(statement).await);
        assert_eq!(state, SqlState::INSUFFICIENT_PRIVILEGE, "{statement}");
    }
    assert_eq!(
        tenant_ids_visible(app, "projects").await,
        BTreeSet::from(["tenant-a".into()])
    );
    let report = shared.schema_report().await.unwrap();
    for table in TENANT_TABLES {
        let security = report.table(table).unwrap();
        assert!(
            security.row_security_enabled && security.row_security_forced,
            "{table}"
        );
    }

    // A session for a role that would bypass the policy is refused.
    let admin_session = AppSession::connect(&fixture.admin_url(), &a).await;
    assert!(matches!(admin_session, Err(Error::UnsafeSetup { .. })));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn bootstrap_is_idempotent_and_sets_up_forced_row_security() {
    let fixture = Fixture::new("bootstrap").await;
    let mut shared = fixture.shared().await;
    shared.bootstrap().await.expect("first bootstrap");
    shared.bootstrap().await.expect("second bootstrap");
    // Concurrent bootstraps serialise on the schema lock and the role creation race.
    let (mut first, mut second) = (fixture.shared().await, fixture.shared().await);
    let (left, right) = tokio::join!(first.bootstrap(), second.bootstrap());
    left.and(right).expect("concurrent bootstraps");
    shared.check_app_roles().await.unwrap();

    let report = shared.schema_report().await.unwrap();
    let app_roles = [
        fixture.roles.group().as_str(),
        fixture.roles.login().as_str(),
    ];
    for table in TENANT_TABLES {
        let security = report
            .table(table)
            .unwrap_or_else(|| panic!("{table} missing"));
        assert!(
            security.row_security_enabled && security.row_security_forced,
            "{table}"
        );
        assert_eq!(security.owner, fixture.admin_user());
        assert!(!app_roles.contains(&security.owner.as_str()));
        let policies: Vec<_> = report.policies_on(table).collect();
        assert_eq!(policies.len(), 1, "{table}: {policies:?}");
        let policy = policies[0];
        assert_eq!(
            (policy.name.as_str(), policy.command.as_str()),
            (POLICY_NAME, "ALL")
        );
        for expression in [&policy.using_expression, &policy.check_expression] {
            let expression = expression.as_deref().unwrap();
            assert!(
                expression.to_lowercase().contains(
                    "tenant_id = nullif(current_setting('app.tenant_id'::text, true), ''::text)"
                ),
                "{expression}"
            );
        }
    }
    assert!(!report.table("tenants").unwrap().row_security_enabled);

    // The login role is a member of the group, holds no plaintext password, and has exactly
    // the four DML privileges on tenant tables and none on the registry.
    let admin = fixture.admin().await;
    let row = admin
        .query_one(
            "SELECT pg_has_role($1::name, $2::name, 'MEMBER'), \
                    (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid \
                     WHERE rolname = $1::name), \
                    has_table_privilege($1::name, 'projects', 'SELECT, INSERT, UPDATE, DELETE'), \
                    has_table_privilege($1::name, 'projects', 'TRUNCATE'), \
                    has_table_privilege($1::name, 'tenants', 'SELECT')",
            &[
                &fixture.roles.login().as_str(),
                &fixture.roles.group().as_str(),
            ],
        )
        .await
        .unwrap();
    let facts: (bool, bool, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    assert_eq!(facts, (true, true, true, false, false));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn registering_and_removing_tenants_is_idempotent() {
    let fixture = Fixture::new("registry").await;
    let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
    let mut shared = fixture.seeded(&[&a, &b]).await;
    shared.register_tenant(&a).await.expect("register again");
    assert!(shared.tenant_exists(&a).await.unwrap());

    shared.remove_tenant(&a).await.expect("remove");
    shared.remove_tenant(&a).await.expect("remove again");
    shared
        .remove_tenant(&tenant("never-registered"))
        .await
        .expect("remove an absent tenant");
    assert!(!shared.tenant_exists(&a).await.unwrap());
    assert!(shared.tenant_exists(&b).await.unwrap());

    let admin = fixture.admin().await;
    for table in TENANT_TABLES {
        let query = format!("SELECT count(*) FROM {table} WHERE tenant_id = $1");
        assert_eq!(count(&admin, &query, "tenant-a").await, 0, "{table}");
        assert!(count(&admin, &query, "tenant-b").await > 0, "{table}");
    }
    let tier = "SELECT count(*) FROM tenants WHERE tenant_id = $1 AND tier = 'standard'";
    assert_eq!(count(&admin, tier, "tenant-b").await, 1);

    // Rows of an unregistered tenant cannot be written, even by a session set to it.
    let ghost = AppSession::connect(&fixture.app_url(), &a).await.unwrap();
    let insert = ghost
        .client()
        .execute(
            "INSERT INTO projects (tenant_id, id, name) VALUES ('tenant-a', 7, 'x')",
            &[],
        )
        .await;
    assert_eq!(state_of(insert), SqlState::FOREIGN_KEY_VIOLATION);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn dedicated_databases_are_created_and_dropped_idempotently() {
    let fixture = Fixture::new("dedicated").await;
    let premium = tenant(&format!(
        "Premium-{}",
        fixture.database.trim_start_matches("tally_test_")
    ));
    fixture.track(&premium);
    let mut shared = fixture.shared().await;
    shared.bootstrap().await.unwrap();

    let name = shared
        .create_dedicated_database(&premium)
        .await
        .expect("create");
    assert_eq!(name, tenant_identifier(&premium));
    let again = shared
        .create_dedicated_database(&premium)
        .await
        .expect("create again");
    assert_eq!(again, name);
    assert!(shared.dedicated_database_exists(&premium).await.unwrap());

    let report = shared.dedicated_schema_report(&premium).await.unwrap();
    for table in TENANT_TABLES {
        let security = report.table(table).unwrap();
        assert!(
            security.row_security_enabled && security.row_security_forced,
            "{table}"
        );
        let names: Vec<_> = report
            .policies_on(table)
            .map(|policy| &policy.name)
            .collect();
        assert_eq!(names, [POLICY_NAME]);
    }

    assert_owned_closed_and_usable(&fixture, &premium, &name).await;

    shared
        .drop_dedicated_database(&premium)
        .await
        .expect("drop");
    shared
        .drop_dedicated_database(&premium)
        .await
        .expect("drop again");
    assert!(!shared.dedicated_database_exists(&premium).await.unwrap());
    let role_left = "SELECT count(*) FROM pg_roles WHERE rolname = $1";
    assert_eq!(
        count(&fixture.server_admin().await, role_left, &name).await,
        0
    );
}

/// The dedicated database `name` of `premium` is owned by the tenant's role, closed to PUBLIC,
/// and usable by the application for that tenant only.
async fn assert_owned_closed_and_usable(fixture: &Fixture, premium: &TenantId, name: &str) {
    let server = fixture.server_admin().await;
    let row = server
        .query_one(
            "SELECT pg_get_userbyid(datdba)::text, \
                    NOT EXISTS (SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0) \
             FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, bool>(1)),
        (name.to_owned(), true)
    );
    let session = AppSession::connect(&fixture.app_url_for(name), premium)
        .await
        .unwrap();
    let insert = "INSERT INTO projects (tenant_id, id, name) VALUES ($1, 1, 'p')";
    session
        .client()
        .execute(insert, &[&premium.as_str()])
        .await
        .unwrap();
    let other = session.client().execute(insert, &[&"someone-else"]).await;
    assert_eq!(state_of(other), SqlState::INSUFFICIENT_PRIVILEGE);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_a_half_made_dedicated_database_when_created_again_then_it_is_completed() {
    let fixture = Fixture::new("halfmade").await;
    let premium = tenant(&format!(
        "Half-{}",
        fixture.database.trim_start_matches("tally_test_")
    ));
    fixture.track(&premium);
    let mut shared = fixture.shared().await;
    shared.bootstrap().await.unwrap();
    // As if an earlier attempt stopped right after CREATE DATABASE.
    let name = tenant_identifier(&premium);
    let server = fixture.server_admin().await;
    server
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    assert!(
        shared
            .dedicated_schema_report(&premium)
            .await
            .unwrap()
            .tables
            .is_empty()
    );

    assert_eq!(
        shared.create_dedicated_database(&premium).await.unwrap(),
        name
    );
    let report = shared.dedicated_schema_report(&premium).await.unwrap();
    assert_eq!(report.tables.len(), TENANT_TABLES.len() + 1);
    assert_eq!(report.policies.len(), TENANT_TABLES.len());
    assert_owned_closed_and_usable(&fixture, &premium, &name).await;
    shared.drop_dedicated_database(&premium).await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn hostile_but_valid_ids_work_and_never_share_a_database() {
    let fixture = Fixture::new("hostile").await;
    let longest = format!("Z{}", "y-".repeat(31)) + "x";
    let ids = [
        "Robert-drop_table",
        "A",
        "a",
        "Acme",
        "acme",
        "a-b",
        "a_b",
        &longest,
    ];
    let tenants: Vec<TenantId> = ids.iter().map(|id| tenant(id)).collect();
    assert_eq!(longest.len(), 64);
    let mut shared = fixture.shared().await;
    shared.bootstrap().await.unwrap();

    let mut names = BTreeSet::new();
    for tenant in &tenants {
        fixture.track(tenant);
        shared.register_tenant(tenant).await.unwrap();
        let name = shared.create_dedicated_database(tenant).await.unwrap();
        assert!(name.len() <= 63, "{name}");
        assert!(names.insert(name), "{tenant} shares a database");
    }
    for tenant in &tenants {
        assert!(shared.tenant_exists(tenant).await.unwrap(), "{tenant}");
        assert!(
            shared.dedicated_database_exists(tenant).await.unwrap(),
            "{tenant}"
        );
        let session = AppSession::connect(&fixture.app_url(), tenant)
            .await
            .unwrap();
        let visible = tenant_ids_visible(session.client(), "projects").await;
        assert!(visible.is_empty(), "{tenant}: {visible:?}");
    }
    // The registry still has all of them, verbatim, and nothing was dropped by an id.
    let admin = fixture.admin().await;
    let registered = admin
        .query("SELECT tenant_id FROM tenants", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<BTreeSet<_>>();
    assert_eq!(registered, ids.iter().map(|id| id.to_string()).collect());
    for tenant in &tenants {
        shared.drop_dedicated_database(tenant).await.unwrap();
        shared.remove_tenant(tenant).await.unwrap();
        assert!(
            !shared.dedicated_database_exists(tenant).await.unwrap(),
            "{tenant}"
        );
    }
}

#[test]
fn text_that_is_not_a_tenant_id_never_becomes_one() {
    let long = "a".repeat(10 * 1024);
    let hostile = [
        "../x",
        "a'; drop table tenants;--",
        "Robert'); DROP TABLE tenants;--",
        "\"tenant_acme\"",
        "a\"b",
        "tenant\\x",
        "x y",
        "",
        "-leading-dash",
        "_leading_underscore",
        "a\0b",
        "a\nb",
        "ünïcödé",
        "tenant_ａ",
        "\u{202e}evil",
        &long,
        &"a".repeat(65),
    ];
    for text in hostile {
        assert!(
            TenantId::parse(text).is_err(),
            "{text:?} became a tenant id"
        );
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn serialization_failures_are_transient_and_privilege_errors_are_not() {
    let fixture = Fixture::new("transient").await;
    let a = tenant("tenant-a");
    let _shared = fixture.seeded(&[&a]).await;
    let (first, second) = (fixture.admin().await, fixture.admin().await);
    first
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM projects")
        .await
        .unwrap();
    second
        .execute("UPDATE projects SET name = 'moved' WHERE id = 1", &[])
        .await
        .unwrap();
    let source = first
        .execute("UPDATE projects SET name = 'raced' WHERE id = 1", &[])
        .await
        .unwrap_err();
    let serialization = Error::Statement {
        operation: "test".into(),
        step: "update",
        source,
    };
    assert_eq!(
        serialization.sql_state(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE)
    );
    assert!(serialization.is_transient(), "{serialization}");

    let app = fixture.app_without_tenant().await;
    let source = app.batch_execute("TRUNCATE projects").await.unwrap_err();
    let denied = Error::Statement {
        operation: "test".into(),
        step: "truncate",
        source,
    };
    assert!(!denied.is_transient(), "{denied}");
    assert!(denied.to_string().contains("permission denied"), "{denied}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_an_unsafe_setup_then_bootstrap_refuses_it_and_changes_nothing() {
    let fixture = Fixture::new("unsafe").await;
    let mut shared = fixture.shared().await;
    shared.bootstrap().await.unwrap();
    let admin = fixture.admin().await;

    // A second permissive policy would widen what the first allows.
    admin
        .batch_execute("CREATE POLICY open_door ON projects USING (true)")
        .await
        .unwrap();
    let refused = shared.bootstrap().await.unwrap_err();
    assert!(matches!(&refused, Error::UnsafeSetup { reason, .. } if reason.contains("open_door")));
    assert!(!refused.is_transient());
    admin
        .batch_execute("DROP POLICY open_door ON projects")
        .await
        .unwrap();

    // An application role that bypasses row-level security is refused, not silently altered.
    let login = fixture.roles.login().as_str();
    admin
        .batch_execute(&format!("ALTER ROLE \"{login}\" BYPASSRLS"))
        .await
        .unwrap();
    let refused = shared.bootstrap().await.unwrap_err();
    assert!(matches!(&refused, Error::UnsafeSetup { reason, .. } if reason.contains("BYPASSRLS")));
    assert!(matches!(
        shared.check_app_roles().await,
        Err(Error::UnsafeSetup { .. })
    ));
    admin
        .batch_execute(&format!("ALTER ROLE \"{login}\" NOBYPASSRLS"))
        .await
        .unwrap();
    shared
        .bootstrap()
        .await
        .expect("bootstrap once the setup is safe again");
}

/// A standard tenant as onboarding hands it to CreateDatabase.
fn standard_tenant(id: &str) -> Tenant {
    let at = Timestamp::parse("2026-11-26T14:00:00Z").unwrap();
    Tenant {
        tenant_id: tenant(id),
        name: format!("Tenant {id}"),
        tier: Tier::Standard,
        isolation: Tier::Standard.isolation(),
        status: Status::Provisioning,
        status_reason: None,
        admin_email: "admin@example.com".into(),
        plan: "standard".into(),
        config: TenantConfig {
            region: "us-east-1".into(),
            features: vec![],
        },
        quotas: BTreeMap::new(),
        resources: BTreeMap::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// The group whose members sign in with a password even on loopback (scripts/postgres.sh's
/// pg_hba.conf); everyone else is trusted there.
const PASSWORD_CHECKED_GROUP: &str = "tally_password_checked";

/// A superuser login that must give its password, as the RDS owner does; dropped with the fixture.
async fn password_owner(fixture: &Fixture, password: &str) -> String {
    let owner = format!("{}_owner", fixture.database);
    fixture.extra_roles.lock().unwrap().push(owner.clone());
    let admin = fixture.server_admin().await;
    admin
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {PASSWORD_CHECKED_GROUP} NOLOGIN; \
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .await
        .expect("the password-checked group");
    admin
        .batch_execute(&format!(
            "CREATE ROLE \"{owner}\" LOGIN SUPERUSER PASSWORD '{password}' \
             IN ROLE {PASSWORD_CHECKED_GROUP}"
        ))
        .await
        .expect("the owner");
    owner
}

/// The test database's URL over TCP without credentials, as infra gives it.
fn credential_less_url(fixture: &Fixture) -> String {
    let port = fixture.server.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://127.0.0.1:{port}/{}", fixture.database)
}

/// A login source over a secret the test can rotate; counts its reads.
fn rotating_secret(
    user: &str,
    password: &str,
) -> (LoginSource, Arc<std::sync::Mutex<String>>, Arc<AtomicU32>) {
    let secret = Arc::new(std::sync::Mutex::new(password.to_owned()));
    let reads = Arc::new(AtomicU32::new(0));
    let (user, held, counted) = (user.to_owned(), secret.clone(), reads.clone());
    let source: LoginSource = Arc::new(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        let login = Login {
            user: user.clone(),
            password: held.lock().unwrap().clone(),
        };
        Box::pin(async move { Ok(login) })
    });
    (source, secret, reads)
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_the_owner_password_rotated_then_the_step_reads_the_login_again_and_goes_on() {
    let fixture = Fixture::new("rotation").await;
    let owner = password_owner(&fixture, "first-password").await;
    let (source, secret, reads) = rotating_secret(&owner, "first-password");
    let step = PostgresDatabase::new(credential_less_url(&fixture), fixture.roles.clone())
        .signing_in_with(source);
    let (a, b) = (standard_tenant("tenant-a"), standard_tenant("tenant-b"));
    step.apply(&a)
        .await
        .expect("register a with the first password");
    assert_eq!(reads.load(Ordering::SeqCst), 1);

    // WHEN the secret is rotated and the step's session is cut
    let admin = fixture.server_admin().await;
    admin
        .batch_execute(&format!(
            "ALTER ROLE \"{owner}\" PASSWORD 'second-password'"
        ))
        .await
        .unwrap();
    *secret.lock().unwrap() = "second-password".into();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&owner],
        )
        .await
        .unwrap();

    // THEN the next step (or, when it met the cut connection, its retry, as Step Functions
    // retries a transient error) is refused the old password, reads the secret again, and
    // succeeds
    if let Err(error) = step.apply(&b).await {
        assert!(error.is_transient(), "{error}");
        step.apply(&b).await.expect("register b after the rotation");
    }
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    let mut shared = fixture.shared().await;
    assert!(shared.tenant_exists(&a.tenant_id).await.unwrap());
    assert!(shared.tenant_exists(&b.tenant_id).await.unwrap());
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_a_wrong_password_in_the_secret_then_the_step_fails_for_good_after_one_more_read() {
    let fixture = Fixture::new("wrongpw").await;
    let owner = password_owner(&fixture, "the-real-one").await;
    let (source, _secret, reads) = rotating_secret(&owner, "not-the-real-one");
    let step = PostgresDatabase::new(credential_less_url(&fixture), fixture.roles.clone())
        .signing_in_with(source);

    let error = step.apply(&standard_tenant("tenant-a")).await.unwrap_err();

    assert!(!error.is_transient(), "{error}");
    assert!(
        error.to_string().contains("password authentication failed"),
        "{error}"
    );
    assert!(
        !error.to_string().contains("not-the-real-one"),
        "the password leaked: {error}"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2);
}
