//! Read-only views of a database's row-level security, from the catalogs (`pg_class`,
//! `pg_policies`), for the bootstrap's own checks and for tests and operators.

use tokio_postgres::GenericClient;

use crate::error::{Result, failed};
use crate::schema::{REGISTRY_TABLE, TENANT_TABLES};

/// How one of our tables in schema `public` is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSecurity {
    /// The table name.
    pub table: String,
    /// The role that owns the table.
    pub owner: String,
    /// `pg_class.relrowsecurity`: policies apply to roles other than the owner.
    pub row_security_enabled: bool,
    /// `pg_class.relforcerowsecurity`: policies apply to the owner too.
    pub row_security_forced: bool,
}

/// One row of `pg_policies` for a table in schema `public`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The table the policy is on.
    pub table: String,
    /// The policy name.
    pub name: String,
    /// `PERMISSIVE` or `RESTRICTIVE`.
    pub permissive: String,
    /// The roles it applies to (`public` for everyone).
    pub roles: Vec<String>,
    /// The command it applies to: `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// The `USING` expression as the server prints it.
    pub using_expression: Option<String>,
    /// The `WITH CHECK` expression as the server prints it.
    pub check_expression: Option<String>,
}

/// The row-level security of our tables in one database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaReport {
    /// The registry and tenant tables that exist, by name.
    pub tables: Vec<TableSecurity>,
    /// Every policy on a table of schema `public`, by table and name.
    pub policies: Vec<Policy>,
}

impl SchemaReport {
    /// The table named `table`, if it exists.
    pub fn table(&self, table: &str) -> Option<&TableSecurity> {
        self.tables.iter().find(|entry| entry.table == table)
    }

    /// The policies on `table`.
    pub fn policies_on<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Policy> + 'a {
        self.policies
            .iter()
            .filter(move |policy| policy.table == table)
    }
}

/// Reads the report through `client` (a connection or an open transaction).
pub(crate) async fn read_report(
    client: &impl GenericClient,
    operation: &str,
) -> Result<SchemaReport> {
    let mut names: Vec<&str> = TENANT_TABLES.to_vec();
    names.push(REGISTRY_TABLE);
    let table_rows = client
        .query(
            "SELECT c.relname::text, pg_catalog.pg_get_userbyid(c.relowner)::text, \
                    c.relrowsecurity, c.relforcerowsecurity \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY($1) \
             ORDER BY c.relname",
            &[&names],
        )
        .await
        .map_err(failed(operation, "read pg_class"))?;
    let policy_rows = client
        .query(
            "SELECT tablename::text, policyname::text, permissive, roles::text[], cmd, qual, \
                    with_check \
             FROM pg_catalog.pg_policies WHERE schemaname = 'public' \
             ORDER BY tablename, policyname",
            &[],
        )
        .await
        .map_err(failed(operation, "read pg_policies"))?;
    Ok(SchemaReport {
        tables: table_rows
            .iter()
            .map(|row| TableSecurity {
                table: row.get(0),
                owner: row.get(1),
                row_security_enabled: row.get(2),
                row_security_forced: row.get(3),
            })
            .collect(),
        policies: policy_rows
            .iter()
            .map(|row| Policy {
                table: row.get(0),
                name: row.get(1),
                permissive: row.get(2),
                roles: row.get(3),
                command: row.get(4),
                using_expression: row.get(5),
                check_expression: row.get(6),
            })
            .collect(),
    })
}
