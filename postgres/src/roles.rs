//! Roles: the application's group and login roles and the tenants' owner roles are created
//! idempotently, never as superuser or BYPASSRLS, and are checked to be so after every change.

use std::fmt;

use tokio_postgres::{GenericClient, Transaction};

use crate::error::{Error, Result, failed};
use crate::naming::{
    MAX_IDENTIFIER_BYTES, TENANT_IDENTIFIER_PREFIX, quote_identifier, quote_literal,
};

/// The default name of the application's group role: it holds the privileges on tenant tables.
pub const DEFAULT_APP_GROUP_ROLE: &str = "tally_app";

/// The default name of the role the application logs in as; a member of the group role.
pub const DEFAULT_APP_LOGIN_ROLE: &str = "tally_app_login";

/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A role name chosen by an operator: 1–63 bytes of `[a-z0-9_]`, starting with a letter or `_`,
/// not starting with `pg_` (reserved by PostgreSQL) or `tenant_` (the names of tenant roles).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleName(String);

impl RoleName {
    /// Checks `name` against the rule above.
    ///
    /// Fails with [`Error::InvalidRoleName`] saying which part of the rule `name` breaks.
    pub fn parse(name: &str) -> Result<RoleName> {
        let invalid = |reason| {
            Err(Error::InvalidRoleName {
                name: name.to_owned(),
                reason,
            })
        };
        let Some(first) = name.bytes().next() else {
            return invalid("it is empty");
        };
        if name.len() > MAX_IDENTIFIER_BYTES {
            return invalid("it is longer than 63 bytes");
        }
        if !(first.is_ascii_lowercase() || first == b'_') {
            return invalid("it must start with a lower-case letter or '_'");
        }
        if !name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
        {
            return invalid("it may only contain lower-case letters, digits and '_'");
        }
        if name.starts_with("pg_") {
            return invalid("names starting with 'pg_' are reserved by PostgreSQL");
        }
        if name.starts_with(TENANT_IDENTIFIER_PREFIX) {
            return invalid("names starting with 'tenant_' are reserved for tenant roles");
        }
        Ok(RoleName(name.to_owned()))
    }

    /// The name as text, unquoted.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The roles the application uses: a NOLOGIN group role that is granted DML on the tenant
/// tables, and a login role, member of the group, that the application connects as.
///
/// Neither owns any table: the tables belong to the admin role that runs the bootstrap.
#[derive(Clone)]
pub struct AppRoles {
    group: RoleName,
    login: RoleName,
    password: String,
}

impl AppRoles {
    /// The application roles with the given login password.
    ///
    /// Fails when the two names are equal, or the password is empty, longer than
    /// [`MAX_PASSWORD_BYTES`] or holds a NUL.
    pub fn new(group: RoleName, login: RoleName, password: &str) -> Result<AppRoles> {
        if group == login {
            return Err(Error::InvalidRoleName {
                name: login.0,
                reason: "the login role must differ from the group role",
            });
        }
        let reason = if password.is_empty() {
            Some("it is empty")
        } else if password.len() > MAX_PASSWORD_BYTES {
            Some("it is longer than 1024 bytes")
        } else if password.contains('\0') {
            Some("it contains a NUL character")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::InvalidPassword {
                role: login.0,
                reason,
            });
        }
        Ok(AppRoles {
            group,
            login,
            password: password.to_owned(),
        })
    }

    /// The group role that holds the privileges on tenant tables.
    pub fn group(&self) -> &RoleName {
        &self.group
    }

    /// The role the application logs in as.
    pub fn login(&self) -> &RoleName {
        &self.login
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for AppRoles {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AppRoles")
            .field("group", &self.group)
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What kind of role [`ensure_role`] makes.
pub(crate) enum RoleKind<'a> {
    /// A role nobody logs in as: the application's group role, a tenant's owner role.
    NoLogin,
    /// A role the application logs in as, with this password.
    Login { password: &'a str },
}

/// Creates the role `name` unless it exists, then makes it LOGIN or NOLOGIN as asked (setting the
/// password) and checks that it is neither superuser nor BYPASSRLS.
///
/// Runs in the caller's `transaction`, which must hold the admin lock (see
/// [`crate::connect::begin_locked`]): role
/// catalog rows cannot be updated concurrently ("tuple concurrently updated"), and under the lock
/// looking before creating is race-free. A role that already exists as superuser or BYPASSRLS is
/// refused rather than altered: only a superuser may change those, and an operator should know
/// why they were set.
pub(crate) async fn ensure_role(
    transaction: &Transaction<'_>,
    operation: &str,
    name: &str,
    kind: RoleKind<'_>,
) -> Result<()> {
    let login = match kind {
        RoleKind::NoLogin => "NOLOGIN".to_owned(),
        // A SCRAM verifier, not the password: the password never appears in SQL or server logs.
        RoleKind::Login { password } => format!(
            "LOGIN PASSWORD {}",
            quote_literal(&postgres_protocol::password::scram_sha_256(
                password.as_bytes()
            ))
        ),
    };
    let quoted = quote_identifier(name);
    let present: bool = transaction
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1)",
            &[&name],
        )
        .await
        .map_err(failed(operation, "look up role"))?
        .get(0);
    let (step, statement) = if present {
        ("alter role", format!("ALTER ROLE {quoted} {login}"))
    } else {
        (
            "create role",
            format!(
                "CREATE ROLE {quoted} {login} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE \
                 NOREPLICATION INHERIT"
            ),
        )
    };
    transaction
        .batch_execute(&statement)
        .await
        .map_err(failed(operation, step))?;
    check_role_unprivileged(transaction, operation, name).await
}

/// Fails with [`Error::UnsafeSetup`] if the role is a superuser or may bypass row-level security.
pub(crate) async fn check_role_unprivileged(
    client: &impl GenericClient,
    operation: &str,
    name: &str,
) -> Result<()> {
    let row = client
        .query_one(
            "SELECT rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = $1",
            &[&name],
        )
        .await
        .map_err(failed(operation, "read role attributes"))?;
    let (superuser, bypass_row_security): (bool, bool) = (row.get(0), row.get(1));
    if superuser || bypass_row_security {
        return Err(Error::UnsafeSetup {
            operation: operation.to_owned(),
            reason: format!(
                "role {name} exists with SUPERUSER or BYPASSRLS, which ignore row-level \
                 security; a superuser must run ALTER ROLE {} NOSUPERUSER NOBYPASSRLS",
                quote_identifier(name)
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_operator_role_names_when_parsed_then_only_plain_lower_case_names_pass() {
        for name in ["tally_app", "_x", "a", &"a".repeat(63), "app2"] {
            assert_eq!(RoleName::parse(name).unwrap().as_str(), name);
        }
        for name in [
            "",
            "Tally",
            "1app",
            "app-role",
            "a\"b",
            "app; drop role postgres",
            "pg_app",
            "tenant_x",
            &"a".repeat(64),
            "é",
        ] {
            assert!(RoleName::parse(name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn given_bad_passwords_or_equal_roles_when_building_app_roles_then_it_fails() {
        let group = RoleName::parse(DEFAULT_APP_GROUP_ROLE).unwrap();
        let login = RoleName::parse(DEFAULT_APP_LOGIN_ROLE).unwrap();
        for password in ["", "a\0b", &"p".repeat(MAX_PASSWORD_BYTES + 1)] {
            assert!(matches!(
                AppRoles::new(group.clone(), login.clone(), password),
                Err(Error::InvalidPassword { .. })
            ));
        }
        assert!(AppRoles::new(group.clone(), group.clone(), "pw").is_err());
        let roles = AppRoles::new(group, login, "it's a \\ secret").unwrap();
        assert!(!format!("{roles:?}").contains("secret"));
    }
}
