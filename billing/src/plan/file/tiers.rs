//! Tiers in a plan file. Each tier ends at its `up_to` and starts where the previous one ends,
//! so tiers are contiguous by construction; an optional `from` lets the author say where a tier
//! starts, and is checked, so that a mistyped bound shows up as a gap or an overlap.

use rust_decimal::Decimal;

use super::{Reader, TIER_KEYS, Value, join};
use crate::error::{PlanProblem, Result};
use crate::limits::MAX_TIERS;
use crate::plan::Tier;

impl Reader<'_> {
    /// The `tiers` of a graduated or volume charge.
    pub(super) fn tiers(&self, value: &Value<'_>, charge_path: &str) -> Result<Vec<Tier>> {
        let field = join(charge_path, "tiers");
        let array = self.array(value, &field)?;
        if array.is_empty() {
            return Err(self.invalid(value.span(), &field, PlanProblem::NoTiers));
        }
        if array.len() > MAX_TIERS {
            return Err(self.too_many(value, &field, "tiers", MAX_TIERS));
        }
        let mut tiers: Vec<Tier> = Vec::with_capacity(array.len());
        for (index, item) in array.iter().enumerate() {
            let number = index + 1;
            // Every tier before this one is bounded (checked below), so this one starts at the
            // previous bound, or at zero.
            let starts_at = tiers
                .last()
                .and_then(|tier| tier.up_to)
                .unwrap_or(Decimal::ZERO);
            let is_last = number == array.len();
            tiers.push(self.tier(item, charge_path, number, starts_at, is_last)?);
        }
        Ok(tiers)
    }

    fn tier(
        &self,
        item: &Value<'_>,
        charge_path: &str,
        number: usize,
        starts_at: Decimal,
        is_last: bool,
    ) -> Result<Tier> {
        let path = format!("{charge_path}, tier {number}");
        let table = self.table(item, &path)?;
        let fields = self.fields(table, item.span(), &path, TIER_KEYS)?;
        if let Some(from_value) = fields.get("from") {
            let from = self.quantity(from_value, &fields.field("from"))?;
            self.check_contiguous(from_value, charge_path, number, from, starts_at)?;
        }
        let up_to = match fields.get("up_to") {
            Some(value) => Some((value, self.quantity(value, &fields.field("up_to"))?)),
            None => None,
        };
        match up_to {
            None if !is_last => {
                let problem = PlanProblem::UnboundedTierNotLast { tier: number };
                return Err(self.invalid(item.span(), &join(charge_path, "tiers"), problem));
            }
            Some((value, ends_at)) if is_last => {
                let problem = PlanProblem::LastTierBounded {
                    tier: number,
                    ends_at,
                };
                return Err(self.invalid(value.span(), &join(charge_path, "tiers"), problem));
            }
            Some((value, ends_at)) if ends_at <= starts_at => {
                let problem = PlanProblem::TierNotIncreasing {
                    tier: number,
                    ends_at,
                    starts_at,
                };
                return Err(self.invalid(value.span(), &fields.field("up_to"), problem));
            }
            _ => {}
        }
        let unit_price = self.price(
            self.required(&fields, "unit_price")?,
            &fields.field("unit_price"),
        )?;
        let flat_fee = match fields.get("flat_fee") {
            Some(value) => self.price(value, &fields.field("flat_fee"))?,
            None => Decimal::ZERO,
        };
        Ok(Tier {
            up_to: up_to.map(|(_, ends_at)| ends_at),
            unit_price,
            flat_fee,
        })
    }

    /// Refuses a `from` that is not where the previous tier ends (zero for the first tier).
    fn check_contiguous(
        &self,
        from_value: &Value<'_>,
        charge_path: &str,
        number: usize,
        from: Decimal,
        starts_at: Decimal,
    ) -> Result<()> {
        let previous = if number == 1 {
            "the first tier must start at 0".to_owned()
        } else {
            format!("tier {} ends at {starts_at}", number - 1)
        };
        let problem = if from > starts_at {
            PlanProblem::TierGap {
                tier: number,
                starts_at: from,
                previous,
            }
        } else if from < starts_at {
            PlanProblem::TierOverlap {
                tier: number,
                starts_at: from,
                previous,
            }
        } else {
            return Ok(());
        };
        Err(self.invalid(from_value.span(), &join(charge_path, "tiers"), problem))
    }
}
