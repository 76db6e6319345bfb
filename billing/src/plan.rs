//! Price plans as data: what each meter costs, the minimum a tenant commits to, and which plan
//! each tenant is on over time. Plans are read from a TOML file (see `PLANS.md`) and validated
//! once, so rating can trust them.

mod defaults;
mod file;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use tally_schemas::{MeterCatalog, Timestamp};

use crate::currency::Currency;
use crate::error::Result;
use crate::proration::Proration;

/// A price plan: the charges of a billing period, in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricePlan {
    /// The plan's name, e.g. `standard`, `premium` or `tenant:acme`.
    pub name: String,
    /// The currency of every price in the plan.
    pub currency: Currency,
    /// The charges, in the order their lines appear on an invoice.
    pub charges: Vec<Charge>,
    /// The least a tenant pays for usage in a full period; a top-up line makes up the rest.
    pub minimum_commitment: Option<Decimal>,
}

/// One charge of a plan: a price model applied to a meter's quantity, or a fixed fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The meter whose period quantity is priced; `None` only for a flat fee such as a
    /// platform fee.
    pub meter: Option<String>,
    /// The text of the invoice line.
    pub description: String,
    /// The unit of the billable quantity as shown on the invoice, e.g. `GB-months`.
    pub unit: String,
    /// How the quantity is priced.
    pub model: ChargeModel,
    /// Units subtracted from the quantity before pricing (never taking it below zero).
    pub included_quantity: Decimal,
}

impl Charge {
    /// What error messages call the charge: its meter, or its description for a fee.
    pub fn label(&self) -> &str {
        self.meter.as_deref().unwrap_or(&self.description)
    }
}

/// How a charge turns a billable quantity into an amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeModel {
    /// A fixed amount per period regardless of quantity; prorated.
    Flat {
        /// The amount for a full period.
        amount: Decimal,
    },
    /// Every billable unit at one price.
    PerUnit {
        /// The price of one unit.
        unit_price: Decimal,
    },
    /// Each tier prices the units that fall in it, plus its flat fee if any unit does.
    Graduated {
        /// Contiguous tiers from zero, the last unbounded.
        tiers: Vec<Tier>,
    },
    /// All units at the price of the tier the whole quantity falls in, plus that tier's fee.
    Volume {
        /// Contiguous tiers from zero, the last unbounded.
        tiers: Vec<Tier>,
    },
    /// Whole packages of `package_size` units, the last one rounded up.
    Package {
        /// Units in one package, greater than zero.
        package_size: Decimal,
        /// The price of one package.
        package_price: Decimal,
    },
}

impl ChargeModel {
    /// The model's name in plan files.
    pub fn name(&self) -> &'static str {
        match self {
            ChargeModel::Flat { .. } => "flat",
            ChargeModel::PerUnit { .. } => "per_unit",
            ChargeModel::Graduated { .. } => "graduated",
            ChargeModel::Volume { .. } => "volume",
            ChargeModel::Package { .. } => "package",
        }
    }

    /// Whether the model prices a quantity (everything but `Flat`).
    pub fn is_usage(&self) -> bool {
        !matches!(self, ChargeModel::Flat { .. })
    }
}

/// One tier of a graduated or volume charge: the units above the previous tier's `up_to` and
/// up to and including this one's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tier {
    /// The tier's inclusive upper bound on the billable quantity; `None` (no end) for the last
    /// tier only.
    pub up_to: Option<Decimal>,
    /// The price of one unit in the tier.
    pub unit_price: Decimal,
    /// A fixed fee charged when the tier applies; prorated.
    pub flat_fee: Decimal,
}

/// A tenant's plan from `from` until `until` (exclusive; `None` = open end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantPlan {
    /// The tenant, a valid tenant id.
    pub tenant_id: String,
    /// The name of a plan of the book.
    pub plan: String,
    /// When the plan starts applying.
    pub from: Timestamp,
    /// When it stops applying; `None` while it still does.
    pub until: Option<Timestamp>,
}

/// The plans, and which tenant is on which plan when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanBook {
    /// Plans by name.
    pub plans: BTreeMap<String, PricePlan>,
    /// Plan assignments; one tenant's never overlap.
    pub tenant_plans: Vec<TenantPlan>,
}

/// A plan a tenant was on during part of a billing period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanPeriod<'a> {
    /// The plan.
    pub plan: &'a PricePlan,
    /// Start of the part of the period on this plan.
    pub from: Timestamp,
    /// End (exclusive) of the part of the period on this plan.
    pub until: Timestamp,
    /// That part as a share of the period, for rating.
    pub proration: Proration,
}

impl PlanBook {
    /// The default `standard` and `premium` plans (see `PLANS.md`), with no tenant assignments.
    pub fn defaults() -> PlanBook {
        PlanBook {
            plans: defaults::default_plans()
                .into_iter()
                .map(|plan| (plan.name.clone(), plan))
                .collect(),
            tenant_plans: Vec::new(),
        }
    }

    /// The default plans, replaced or joined by the plans of a plan file, and the file's tenant
    /// assignments. `origin` names the file in errors; meters are checked against `catalog`.
    ///
    /// Fails, naming the file, line and field, when the text is not TOML, has an unknown field,
    /// a malformed or float number, a negative or out-of-limit value, an unknown currency or
    /// meter, tiers that overlap, leave a gap or do not end unbounded, an assignment of an
    /// unknown plan, or overlapping assignments of one tenant.
    pub fn from_toml(text: &str, origin: &str, catalog: &MeterCatalog) -> Result<PlanBook> {
        file::read_plan_book(text, origin, catalog)
    }

    /// The plan called `name`.
    pub fn plan(&self, name: &str) -> Option<&PricePlan> {
        self.plans.get(name)
    }

    /// The plans `tenant_id` was on during `[period_start, period_end)`, each clipped to the
    /// period and sorted by start. Parts of the period on no plan are simply absent; a tenant
    /// without assignments gets an empty list, and the caller applies its tier's default plan.
    ///
    /// # Panics
    /// If the period is shorter than one second, or an assignment names a plan the book lacks
    /// (`from_toml` refuses both kinds of book).
    pub fn plans_for(
        &self,
        tenant_id: &str,
        period_start: Timestamp,
        period_end: Timestamp,
    ) -> Vec<PlanPeriod<'_>> {
        let mut periods: Vec<PlanPeriod<'_>> = self
            .tenant_plans
            .iter()
            .filter(|assignment| assignment.tenant_id == tenant_id)
            .filter_map(|assignment| {
                let from = assignment.from.max(period_start);
                let until = assignment.until.unwrap_or(period_end).min(period_end);
                (from < until).then(|| PlanPeriod {
                    plan: self
                        .plan(&assignment.plan)
                        .expect("every assignment names a plan of the book"),
                    from,
                    until,
                    proration: Proration::for_span(from, until, period_start, period_end)
                        .expect("a billing period is at least one second long"),
                })
            })
            .collect();
        periods.sort_by_key(|period| (period.from, period.until));
        periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn plans_for_clips_to_the_period_and_sorts_by_start() {
        // GIVEN acme on standard until the 10th and premium from then on, and beta on premium
        let mut book = PlanBook::defaults();
        let assign = |tenant: &str, plan: &str, from, until: Option<&str>| TenantPlan {
            tenant_id: tenant.to_owned(),
            plan: plan.to_owned(),
            from: at(from),
            until: until.map(at),
        };
        book.tenant_plans = vec![
            assign("acme", "premium", "2026-11-10T00:00:00Z", None),
            assign(
                "acme",
                "standard",
                "2026-01-01T00:00:00Z",
                Some("2026-11-10T00:00:00Z"),
            ),
            assign("beta", "premium", "2026-01-01T00:00:00Z", None),
        ];
        // WHEN November is billed for acme
        let start = at("2026-11-01T00:00:00Z");
        let end = at("2026-12-01T00:00:00Z");
        let periods = book.plans_for("acme", start, end);
        // THEN 9 days on standard then 21 on premium, and the seconds cover the period exactly
        let names: Vec<&str> = periods.iter().map(|p| p.plan.name.as_str()).collect();
        assert_eq!(names, ["standard", "premium"]);
        assert_eq!(
            (periods[0].from, periods[0].until),
            (start, at("2026-11-10T00:00:00Z"))
        );
        assert_eq!(periods[1].until, end);
        assert_eq!(periods[0].proration.active_seconds(), 9 * 86_400);
        assert_eq!(periods[1].proration.active_seconds(), 21 * 86_400);
        // AND a month before any assignment, or an unknown tenant, gets nothing
        assert!(
            book.plans_for(
                "acme",
                at("2025-11-01T00:00:00Z"),
                at("2025-12-01T00:00:00Z")
            )
            .is_empty()
        );
        assert!(book.plans_for("gamma", start, end).is_empty());
    }
}
