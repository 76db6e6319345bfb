//! The requests that create and change tenants, checked field by field before anything is
//! stored: `POST /admin/tenants` ([`NewTenant`]) and `PATCH /admin/tenants/{id}`
//! ([`TenantPatch`]). Every rejection names the field and the rule it breaks.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use tally_schemas::limits::MAX_TENANT_ID_CHARS;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};

use crate::error::{Error, Result};
use crate::model::{Status, Tenant, TenantConfig, Tier};

/// The longest tenant name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The most feature flags a tenant may have.
pub const MAX_FEATURES: usize = 32;
/// The longest feature flag or plan id.
pub const MAX_LABEL_CHARS: usize = 64;
/// The region a tenant runs in unless the request names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The body of `POST /admin/tenants`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// The id; derived from `name` when absent.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The display name.
    pub name: String,
    /// `standard` (pooled) or `premium` (siloed).
    pub tier: Tier,
    /// Where the welcome email goes.
    pub admin_email: String,
    /// The billing plan id; the tier's name when absent.
    #[serde(default)]
    pub plan: Option<String>,
    /// Region and features; [`DEFAULT_REGION`] and none when absent.
    #[serde(default)]
    pub config: Option<TenantConfig>,
    /// Usage allowed per billing period, by meter.
    #[serde(default)]
    pub quotas: BTreeMap<String, Decimal>,
}

impl NewTenant {
    /// Checks every field and builds the tenant record, `pending`, at version 1.
    ///
    /// Fails naming the first field that breaks a rule: an id that is not a tenant id, a name
    /// with no letters or digits to derive one from, a bad email, region, feature, plan, or a
    /// quota for a meter the catalog does not have.
    pub fn into_tenant(self, catalog: &MeterCatalog, now: Timestamp) -> Result<Tenant> {
        let name = check_name(&self.name)?;
        let tenant_id = match &self.tenant_id {
            Some(text) => TenantId::parse(text)
                .map_err(|error| Error::invalid("tenant_id", error.to_string()))?,
            None => derive_tenant_id(&name)?,
        };
        let config = self.config.unwrap_or_else(|| TenantConfig {
            region: DEFAULT_REGION.to_owned(),
            features: Vec::new(),
        });
        let plan = self.plan.unwrap_or_else(|| self.tier.as_str().to_owned());
        let tenant = Tenant {
            tenant_id,
            name,
            tier: self.tier,
            isolation: self.tier.isolation(),
            status: Status::Pending,
            status_reason: None,
            admin_email: check_email(&self.admin_email)?,
            plan: check_label("plan", &plan)?,
            config: check_config(config)?,
            quotas: check_quotas(self.quotas, catalog)?,
            resources: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        Ok(tenant)
    }
}

/// The body of `PATCH /admin/tenants/{id}`: the fields to change, each optional. The id and the
/// tier cannot change (a tier change moves data between isolation models, which is a migration,
/// not an edit).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// A new display name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new admin email.
    #[serde(default)]
    pub admin_email: Option<String>,
    /// A new plan id.
    #[serde(default)]
    pub plan: Option<String>,
    /// New region and features (whole).
    #[serde(default)]
    pub config: Option<TenantConfig>,
    /// New quotas (whole: meters left out have no quota).
    #[serde(default)]
    pub quotas: Option<BTreeMap<String, Decimal>>,
    /// Refused with a clear error rather than ignored.
    #[serde(default)]
    pub tier: Option<Tier>,
}

impl TenantPatch {
    /// Applies the patch to `tenant`, giving the next version.
    ///
    /// Fails naming the field that breaks a rule, or when the patch asks to change the tier.
    pub fn apply(self, tenant: &Tenant, catalog: &MeterCatalog, now: Timestamp) -> Result<Tenant> {
        if let Some(tier) = self.tier
            && tier != tenant.tier
        {
            return Err(Error::invalid(
                "tier",
                "the tier cannot change in place; create a tenant of the new tier and migrate",
            ));
        }
        let mut next = tenant.clone();
        if let Some(name) = self.name {
            next.name = check_name(&name)?;
        }
        if let Some(email) = self.admin_email {
            next.admin_email = check_email(&email)?;
        }
        if let Some(plan) = self.plan {
            next.plan = check_label("plan", &plan)?;
        }
        if let Some(config) = self.config {
            next.config = check_config(config)?;
        }
        if let Some(quotas) = self.quotas {
            next.quotas = check_quotas(quotas, catalog)?;
        }
        next.updated_at = now;
        next.version += 1;
        Ok(next)
    }
}

/// Derives a tenant id from a name: ASCII letters and digits lowercased, every other run of
/// characters one `-`, trimmed, at most [`MAX_TENANT_ID_CHARS`].
///
/// Fails when the name has no ASCII letter or digit to build an id from.
pub fn derive_tenant_id(name: &str) -> Result<TenantId> {
    let mut id = String::new();
    for character in name.chars() {
        if id.len() == MAX_TENANT_ID_CHARS {
            break;
        }
        if character.is_ascii_alphanumeric() {
            id.push(character.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-');
    TenantId::parse(id).map_err(|_| {
        Error::invalid(
            "tenant_id",
            "the name has no ASCII letter or digit to derive an id from; give tenant_id",
        )
    })
}

fn check_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "name",
            format!("longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A deliberately plain address check: one `@`, a non-empty local part, a dotted domain of
/// letters, digits, `-` and `.`, nothing that could break a header or a path.
fn check_email(email: &str) -> Result<String> {
    let problem = if email.len() > MAX_EMAIL_CHARS {
        Some(format!("longer than {MAX_EMAIL_CHARS} characters"))
    } else {
        match email.split_once('@') {
            None => Some("must contain '@'".to_owned()),
            Some((local, domain)) => email_problem(local, domain),
        }
    };
    match problem {
        Some(problem) => Err(Error::invalid("admin_email", problem)),
        None => Ok(email.to_owned()),
    }
}

fn email_problem(local: &str, domain: &str) -> Option<String> {
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    let domain_ok = domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    match (local_ok, domain_ok) {
        (true, true) => None,
        (false, _) => {
            Some("the part before '@' may hold only ASCII letters, digits and ._%+-".into())
        }
        (_, false) => Some("the domain must be dotted ASCII letters, digits and '-'".into()),
    }
}

fn check_label(field: &str, label: &str) -> Result<String> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL_CHARS
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(label.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!("must be 1–{MAX_LABEL_CHARS} ASCII letters, digits, '_' or '-'"),
        ))
    }
}

fn check_config(config: TenantConfig) -> Result<TenantConfig> {
    let region_ok = config.region.len() <= 32
        && config.region.split('-').count() >= 3
        && config.region.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !region_ok {
        return Err(Error::invalid(
            "config.region",
            "must be an AWS region name such as us-east-1",
        ));
    }
    if config.features.len() > MAX_FEATURES {
        return Err(Error::invalid(
            "config.features",
            format!("at most {MAX_FEATURES} features"),
        ));
    }
    let mut features = Vec::with_capacity(config.features.len());
    for feature in &config.features {
        features.push(check_label("config.features", feature)?);
    }
    features.sort();
    features.dedup();
    Ok(TenantConfig {
        region: config.region,
        features,
    })
}

fn check_quotas(
    quotas: BTreeMap<String, Decimal>,
    catalog: &MeterCatalog,
) -> Result<BTreeMap<String, Decimal>> {
    for (meter, limit) in &quotas {
        if catalog.get(meter).is_none() {
            let field = if meter.len() <= MAX_LABEL_CHARS && meter.is_ascii() {
                format!("quotas.{meter}")
            } else {
                "quotas".to_owned()
            };
            return Err(Error::invalid(field, "no such meter in the catalog"));
        }
        if limit.is_sign_negative() {
            return Err(Error::invalid(
                format!("quotas.{meter}"),
                "must not be negative",
            ));
        }
    }
    Ok(quotas)
}

#[cfg(test)]
mod tests;
