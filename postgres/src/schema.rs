//! The schema, identical in the shared database and in every dedicated one: applying it is
//! idempotent, and it is checked inside the transaction that applies it, so a database either
//! has tenant tables with forced row-level security and only our policy, or nothing changes.

use tally_schemas::tenant::TENANT_ID_PATTERN;
use tokio_postgres::Transaction;

use crate::error::{Error, Result, failed};
use crate::inspect::{SchemaReport, read_report};
use crate::naming::{quote_identifier, quote_literal};
use crate::roles::RoleName;

/// The session setting that names the tenant a connection works for.
pub const TENANT_SETTING: &str = "app.tenant_id";

/// The registry of the tenants a database holds (no row-level security, no application access).
pub const REGISTRY_TABLE: &str = "tenants";

/// The tables holding tenant rows, each with a `tenant_id` column and the isolation policy.
pub const TENANT_TABLES: [&str; 2] = ["projects", "api_keys"];

/// The name of the policy on every tenant table.
pub const POLICY_NAME: &str = "tenant_isolation";

/// The tables. A tenant's rows reference its registry entry, so rows of an unregistered tenant
/// cannot be written, and removing the entry removes the rows (`ON DELETE CASCADE`).
fn tables_ddl() -> String {
    let pattern = quote_literal(TENANT_ID_PATTERN);
    format!(
        "CREATE TABLE IF NOT EXISTS public.tenants (
            tenant_id text PRIMARY KEY CHECK (tenant_id ~ {pattern}),
            tier text NOT NULL CHECK (tier IN ('standard', 'premium')),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS public.projects (
            tenant_id text NOT NULL REFERENCES public.tenants (tenant_id) ON DELETE CASCADE,
            id bigint NOT NULL,
            name text NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE IF NOT EXISTS public.api_keys (
            tenant_id text NOT NULL REFERENCES public.tenants (tenant_id) ON DELETE CASCADE,
            key_id text NOT NULL,
            key_hash bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, key_id)
        );
        REVOKE ALL ON public.tenants FROM PUBLIC;"
    )
}

/// The predicate of the policy. An unset setting reads as NULL, and one set to `''` (as `RESET`
/// leaves it) is turned into NULL, so either way `tenant_id = NULL` matches no row.
fn tenant_predicate() -> String {
    format!(
        "tenant_id = nullif(current_setting({}, true), '')",
        quote_literal(TENANT_SETTING)
    )
}

/// Row-level security, forced so that it holds for the owner too, the policy (replaced, so its
/// definition converges), and the group's privileges: exactly SELECT, INSERT, UPDATE, DELETE.
/// TRUNCATE, which ignores row-level security, is never granted.
fn tenant_table_ddl(table: &str, group: &RoleName) -> String {
    let predicate = tenant_predicate();
    let group = quote_identifier(group.as_str());
    let policy = quote_identifier(POLICY_NAME);
    format!(
        "ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE public.{table} FORCE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS {policy} ON public.{table};
        CREATE POLICY {policy} ON public.{table} AS PERMISSIVE FOR ALL TO PUBLIC
            USING ({predicate}) WITH CHECK ({predicate});
        REVOKE ALL ON public.{table} FROM PUBLIC;
        REVOKE ALL ON public.{table} FROM {group};
        GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO {group};"
    )
}

/// Creates or converges the schema in the caller's `transaction` (which holds the admin lock),
/// then checks it with [`check_report`]; the caller commits.
///
/// The group role must exist. Fails with [`Error::UnsafeSetup`] when the checks find a hole,
/// e.g. a tenant table owned by the application or a second policy; the caller's transaction
/// then rolls back, changing nothing.
pub(crate) async fn apply_schema(
    transaction: &Transaction<'_>,
    operation: &str,
    group: &RoleName,
) -> Result<()> {
    let mut ddl = tables_ddl();
    for table in TENANT_TABLES {
        ddl.push_str(&tenant_table_ddl(table, group));
    }
    ddl.push_str(&format!(
        "GRANT USAGE ON SCHEMA public TO {};",
        quote_identifier(group.as_str())
    ));
    transaction
        .batch_execute(&ddl)
        .await
        .map_err(failed(operation, "apply the schema"))?;
    let report = read_report(transaction, operation).await?;
    // The group and its members other than superusers (for whom pg_has_role is always true).
    let application_roles = transaction
        .query(
            "SELECT r.rolname::text FROM pg_catalog.pg_roles r WHERE r.rolname = $1 \
             OR pg_catalog.pg_has_role(r.oid, $1::text::regrole, 'MEMBER') AND NOT r.rolsuper",
            &[&group.as_str()],
        )
        .await
        .map_err(failed(operation, "read the group's members"))?
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>();
    check_report(&report, &application_roles).map_err(|reason| Error::UnsafeSetup {
        operation: operation.to_owned(),
        reason,
    })
}

/// Checks what the catalogs say after the schema was applied: every tenant table exists with
/// row-level security enabled and forced, carries [`POLICY_NAME`] and no other policy (another
/// permissive policy would widen access), and is owned by none of `application_roles`.
///
/// Returns the first problem found, as a sentence.
pub(crate) fn check_report(
    report: &SchemaReport,
    application_roles: &[String],
) -> std::result::Result<(), String> {
    for table in TENANT_TABLES {
        let Some(security) = report.table(table) else {
            return Err(format!("table {table} is missing"));
        };
        if !(security.row_security_enabled && security.row_security_forced) {
            return Err(format!(
                "row-level security on {table} is not enabled and forced"
            ));
        }
        if application_roles.contains(&security.owner) {
            return Err(format!(
                "table {table} is owned by application role {}; run the bootstrap as another \
                 role and ALTER TABLE public.{table} OWNER TO it",
                security.owner
            ));
        }
        let names: Vec<&str> = report
            .policies_on(table)
            .map(|policy| policy.name.as_str())
            .collect();
        if names != [POLICY_NAME] {
            return Err(format!(
                "table {table} must have exactly the policy {POLICY_NAME}, it has {names:?}; \
                 drop the others"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{Policy, TableSecurity};

    fn secure_report() -> SchemaReport {
        SchemaReport {
            tables: TENANT_TABLES
                .iter()
                .map(|table| TableSecurity {
                    table: (*table).to_owned(),
                    owner: "postgres".into(),
                    row_security_enabled: true,
                    row_security_forced: true,
                })
                .collect(),
            policies: TENANT_TABLES
                .iter()
                .map(|table| Policy {
                    table: (*table).to_owned(),
                    name: POLICY_NAME.into(),
                    permissive: "PERMISSIVE".into(),
                    roles: vec!["public".into()],
                    command: "ALL".into(),
                    using_expression: None,
                    check_expression: None,
                })
                .collect(),
        }
    }

    #[test]
    fn given_the_intended_schema_when_checked_then_it_passes() {
        assert_eq!(
            check_report(&secure_report(), &["tally_app".into()]),
            Ok(())
        );
    }

    #[test]
    fn given_a_hole_when_checked_then_it_is_named() {
        let roles = ["tally_app".to_owned()];
        let mut report = secure_report();
        report.tables[0].row_security_forced = false;
        assert!(
            check_report(&report, &roles)
                .unwrap_err()
                .contains("forced")
        );

        let mut report = secure_report();
        report.tables[1].owner = "tally_app".into();
        assert!(
            check_report(&report, &roles)
                .unwrap_err()
                .contains("owned by")
        );

        let mut report = secure_report();
        let mut open_door = report.policies[0].clone();
        open_door.name = "allow_all".into();
        report.policies.push(open_door);
        assert!(
            check_report(&report, &roles)
                .unwrap_err()
                .contains("allow_all")
        );

        let mut report = secure_report();
        report.tables.pop();
        assert!(
            check_report(&report, &roles)
                .unwrap_err()
                .contains("missing")
        );
    }

    #[test]
    fn the_policy_treats_an_empty_setting_as_unset() {
        assert_eq!(
            tenant_predicate(),
            "tenant_id = nullif(current_setting(E'app.tenant_id', true), '')"
        );
        let ddl = tenant_table_ddl("projects", &RoleName::parse("tally_app").unwrap());
        assert!(ddl.contains("FORCE ROW LEVEL SECURITY"));
        assert!(!ddl.contains("TRUNCATE"));
    }
}
