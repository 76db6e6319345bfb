//! Rating: a plan and a period's quantities in, invoice lines out. Every line keeps its exact
//! unrounded amount beside its amount rounded to the currency's minor unit with
//! [`INVOICE_ROUNDING`], and the total is exactly the sum of the rounded lines, so an invoice
//! always adds up.
//!
//! Usage is priced as measured and never prorated: it only accrues while the plan is active.
//! Fixed amounts (flat fees, tier flat fees, the minimum commitment) are prorated by the
//! seconds the plan was active in the period.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::currency::Currency;
use crate::plan::{Charge, ChargeModel, PricePlan, Tier};
use crate::proration::Proration;

/// How every invoice amount is rounded to the currency's minor unit: half a cent goes up
/// (away from zero), as people round by hand and as most tax authorities expect, rather than
/// to even, which would surprise anyone checking an invoice with a calculator.
pub const INVOICE_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// The description of the line that makes usage up to the minimum commitment.
pub const MINIMUM_TOP_UP_DESCRIPTION: &str = "Minimum commitment top-up";

/// What kind of charge a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A usage charge: priced from a meter's quantity.
    Usage,
    /// A flat fee, prorated.
    Fixed,
    /// The difference between usage and the (prorated) minimum commitment.
    MinimumTopUp,
}

/// One line of a rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RatedLine {
    /// What kind of charge this is.
    pub kind: LineKind,
    /// The meter charged, if any.
    pub meter: Option<String>,
    /// The text of the line.
    pub description: String,
    /// The period quantity of the meter (1 for fixed lines and the top-up).
    pub quantity: Decimal,
    /// The quantity after the included quantity is subtracted (1 for fixed lines and the top-up).
    pub billable_quantity: Decimal,
    /// The unit of the quantities.
    pub unit: String,
    /// The exact amount before rounding.
    pub unrounded: Decimal,
    /// `unrounded` rounded to the currency's minor units with [`INVOICE_ROUNDING`].
    pub amount: Decimal,
}

/// A rated plan: its lines and their total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rating {
    /// The plan rated.
    pub plan: String,
    /// The currency of every amount.
    pub currency: Currency,
    /// The share of the period the plan was active.
    pub proration: Proration,
    /// One line per charge, in plan order, then the minimum commitment top-up if any.
    pub lines: Vec<RatedLine>,
    /// Exactly the sum of the lines' rounded amounts.
    pub total: Decimal,
}

/// Rates `plan` for a period in which the meters measured `quantities` (a meter that is absent
/// measured zero; meters the plan does not charge are ignored) and the plan was active for
/// `proration` of the period.
///
/// Each charge gives one line, even at zero, so invoices of one plan always have the same
/// shape. If the rounded usage lines sum to less than the prorated minimum commitment, a
/// top-up line adds the difference; flat fees do not count toward the minimum.
///
/// For a tenant that started, ended or changed plan inside the period, rate each
/// [`crate::PlanPeriod`] separately, with the usage measured during it and its proration.
///
/// # Panics
/// If a quantity is negative: period quantities are sums, counts and integrals of
/// non-negative values, so a negative one is a bug upstream, not something to bill.
pub fn rate(
    plan: &PricePlan,
    quantities: &BTreeMap<String, Decimal>,
    proration: Proration,
) -> Rating {
    let minor_units = plan.currency.minor_units;
    let mut lines: Vec<RatedLine> = plan
        .charges
        .iter()
        .map(|charge| rate_charge(charge, quantities, proration, minor_units))
        .collect();
    if let Some(minimum) = plan.minimum_commitment {
        lines.extend(minimum_top_up(minimum, &lines, proration, minor_units));
    }
    let total = round_to_minor_units(lines.iter().map(|line| line.amount).sum(), minor_units);
    // Check the total on a second path, in whole minor units, so a rounding slip anywhere
    // above cannot produce an invoice that does not add up.
    let total_in_minor_units: i128 = lines
        .iter()
        .map(|line| {
            assert_eq!(
                line.amount.scale(),
                minor_units,
                "line amounts are in minor units"
            );
            line.amount.mantissa()
        })
        .sum();
    assert_eq!(
        total.mantissa(),
        total_in_minor_units,
        "the total is the sum of the lines"
    );
    Rating {
        plan: plan.name.clone(),
        currency: plan.currency,
        proration,
        lines,
        total,
    }
}

/// Rounds `amount` to `minor_units` fraction digits with [`INVOICE_ROUNDING`], and writes it
/// with exactly that many digits (`30.00`, not `30`), so amounts print alike.
pub fn round_to_minor_units(amount: Decimal, minor_units: u32) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(minor_units, INVOICE_ROUNDING);
    rounded.rescale(minor_units);
    rounded
}

fn rate_charge(
    charge: &Charge,
    quantities: &BTreeMap<String, Decimal>,
    proration: Proration,
    minor_units: u32,
) -> RatedLine {
    let quantity = match &charge.meter {
        Some(meter) => quantities.get(meter).copied().unwrap_or(Decimal::ZERO),
        None => Decimal::ZERO,
    };
    assert!(
        !quantity.is_sign_negative() || quantity.is_zero(),
        "quantity of {} is negative: {quantity}",
        charge.label()
    );
    let billable = (quantity - charge.included_quantity).max(Decimal::ZERO);
    let unrounded = amount(&charge.model, billable, proration);
    let (kind, quantity, billable) = if charge.model.is_usage() {
        (LineKind::Usage, quantity, billable)
    } else {
        (LineKind::Fixed, Decimal::ONE, Decimal::ONE)
    };
    RatedLine {
        kind,
        meter: charge.meter.clone(),
        description: charge.description.clone(),
        quantity,
        billable_quantity: billable,
        unit: charge.unit.clone(),
        unrounded,
        amount: round_to_minor_units(unrounded, minor_units),
    }
}

/// The unrounded amount of a model for `billable` units; flat amounts and tier fees are
/// prorated, unit prices are not.
fn amount(model: &ChargeModel, billable: Decimal, proration: Proration) -> Decimal {
    match model {
        ChargeModel::Flat { amount } => proration.apply(*amount),
        ChargeModel::PerUnit { unit_price } => billable * unit_price,
        ChargeModel::Graduated { tiers } => graduated(tiers, billable, proration),
        ChargeModel::Volume { tiers } => volume(tiers, billable, proration),
        ChargeModel::Package {
            package_size,
            package_price,
        } => packages(billable, *package_size) * package_price,
    }
}

/// Each tier prices the units between the previous tier's bound and its own; its fee applies
/// when at least one unit falls in it.
fn graduated(tiers: &[Tier], billable: Decimal, proration: Proration) -> Decimal {
    let mut amount = Decimal::ZERO;
    let mut tier_start = Decimal::ZERO;
    for tier in tiers {
        if billable <= tier_start {
            break;
        }
        let tier_end = tier.up_to.map_or(billable, |up_to| up_to.min(billable));
        amount += (tier_end - tier_start) * tier.unit_price + proration.apply(tier.flat_fee);
        match tier.up_to {
            Some(up_to) => tier_start = up_to,
            None => break,
        }
    }
    amount
}

/// All units at the price of the first tier whose bound holds the whole quantity, plus that
/// tier's fee. No units means no tier applies, so no fee either.
fn volume(tiers: &[Tier], billable: Decimal, proration: Proration) -> Decimal {
    if billable.is_zero() {
        return Decimal::ZERO;
    }
    let tier = tiers
        .iter()
        .find(|tier| tier.up_to.is_none_or(|up_to| billable <= up_to))
        .expect("the last tier of a validated plan is unbounded");
    billable * tier.unit_price + proration.apply(tier.flat_fee)
}

/// Whole packages needed for `billable` units: the quotient, plus one for any remainder.
/// Computed with the exact remainder rather than by dividing, because a 28-digit quotient can
/// round to a whole number that the true quotient is not.
fn packages(billable: Decimal, package_size: Decimal) -> Decimal {
    assert!(package_size > Decimal::ZERO, "package sizes are positive");
    let remainder = billable % package_size;
    let whole = (billable - remainder) / package_size;
    if remainder.is_zero() {
        whole
    } else {
        whole + Decimal::ONE
    }
}

/// The line that raises usage to the prorated minimum, if usage falls short.
fn minimum_top_up(
    minimum: Decimal,
    lines: &[RatedLine],
    proration: Proration,
    minor_units: u32,
) -> Option<RatedLine> {
    let usage: Decimal = lines
        .iter()
        .filter(|line| line.kind == LineKind::Usage)
        .map(|line| line.amount)
        .sum();
    let minimum_unrounded = proration.apply(minimum);
    let minimum_rounded = round_to_minor_units(minimum_unrounded, minor_units);
    (usage < minimum_rounded).then(|| RatedLine {
        kind: LineKind::MinimumTopUp,
        meter: None,
        description: MINIMUM_TOP_UP_DESCRIPTION.to_owned(),
        quantity: Decimal::ONE,
        billable_quantity: Decimal::ONE,
        unit: "month".to_owned(),
        unrounded: minimum_unrounded - usage,
        amount: round_to_minor_units(minimum_rounded - usage, minor_units),
    })
}

#[cfg(test)]
mod tests;
