//! Plans and their charges in a plan file: every meter is checked against the catalog, every
//! price is exact and non-negative, and tiers cover every quantity from zero exactly once.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use tally_schemas::Aggregation;

use super::{CHARGE_KEYS, Fields, Key, MODEL_KEYS, PLAN_KEYS, Reader, Value, join};
use crate::currency::Currency;
use crate::error::{PlanProblem, Result};
use crate::limits::{MAX_CHARGES_PER_PLAN, MAX_PLAN_NAME_CHARS};
use crate::plan::{Charge, ChargeModel, PricePlan};

impl Reader<'_> {
    /// One `[plans.NAME]` table.
    pub(super) fn plan(&self, name: &Key<'_>, value: &Value<'_>) -> Result<PricePlan> {
        let plan_name = name.get_ref().to_string();
        let printable = !plan_name.chars().any(char::is_control);
        if plan_name.is_empty() || plan_name.chars().count() > MAX_PLAN_NAME_CHARS || !printable {
            let problem = PlanProblem::BadPlanName {
                limit: MAX_PLAN_NAME_CHARS,
            };
            return Err(self.invalid(name.span(), &format!("plan {plan_name:?}"), problem));
        }
        let path = format!("plan {plan_name:?}");
        let table = self.table(value, &path)?;
        let fields = self.fields(table, value.span(), &path, PLAN_KEYS)?;
        let currency_value = self.required(&fields, "currency")?;
        let code = self.string(currency_value, &fields.field("currency"))?;
        let currency = Currency::from_code(code).ok_or_else(|| {
            let problem = PlanProblem::UnknownCurrency {
                code: code.to_owned(),
            };
            self.invalid(currency_value.span(), &fields.field("currency"), problem)
        })?;
        let minimum_commitment = fields
            .get("minimum_commitment")
            .map(|value| self.price(value, &fields.field("minimum_commitment")))
            .transpose()?;
        let charges = match fields.get("charges") {
            Some(value) => self.charges(value, &path)?,
            None => Vec::new(),
        };
        Ok(PricePlan {
            name: plan_name,
            currency,
            charges,
            minimum_commitment,
        })
    }

    /// The `[[plans.NAME.charges]]` array, in file order.
    fn charges(&self, value: &Value<'_>, plan_path: &str) -> Result<Vec<Charge>> {
        let field = join(plan_path, "charges");
        let array = self.array(value, &field)?;
        if array.len() > MAX_CHARGES_PER_PLAN {
            return Err(self.too_many(value, &field, "charges", MAX_CHARGES_PER_PLAN));
        }
        let mut charged_meters = BTreeSet::new();
        let mut charges = Vec::with_capacity(array.len());
        for (index, item) in array.iter().enumerate() {
            let charge = self.charge(item, plan_path, index + 1)?;
            // Two usage charges on one meter would each subtract the included quantity, which
            // is never what the plan's author meant.
            if let (true, Some(meter)) = (charge.model.is_usage(), &charge.meter)
                && !charged_meters.insert(meter.clone())
            {
                let field = format!("{plan_path}, charge {meter:?}");
                let problem = PlanProblem::DuplicateCharge {
                    meter: meter.clone(),
                };
                return Err(self.invalid(item.span(), &field, problem));
            }
            charges.push(charge);
        }
        Ok(charges)
    }

    /// One charge: its meter, description, unit and model.
    fn charge(&self, item: &Value<'_>, plan_path: &str, number: usize) -> Result<Charge> {
        let numbered_path = format!("{plan_path}, charge {number}");
        let table = self.table(item, &numbered_path)?;
        // Errors name the charge by its meter (or description) as people do, by its number
        // only when it has neither.
        let label = ["meter", "description"].iter().find_map(|wanted| {
            let (_, value) = table.iter().find(|(key, _)| key.get_ref() == wanted)?;
            value.get_ref().as_str()
        });
        let path = label.map_or(numbered_path, |label| {
            format!("{plan_path}, charge {label:?}")
        });
        let allowed: Vec<&str> = CHARGE_KEYS.iter().chain(MODEL_KEYS).copied().collect();
        let fields = self.fields(table, item.span(), &path, &allowed)?;
        let meter = match fields.get("meter") {
            Some(value) => Some(self.meter(value, &fields.field("meter"))?),
            None => None,
        };
        let description = match fields.get("description") {
            Some(value) => Some(self.string(value, &fields.field("description"))?.to_owned()),
            None => None,
        };
        let model = self.charge_model(&fields)?;
        let model_name = model.name();
        if model.is_usage() && meter.is_none() {
            let problem = PlanProblem::MeterRequired { model: model_name };
            return Err(self.invalid(fields.span.clone(), &fields.field("meter"), problem));
        }
        let included_quantity = match fields.get("included_quantity") {
            Some(value) => self.quantity(value, &fields.field("included_quantity"))?,
            None => Decimal::ZERO,
        };
        let description = match (description, &meter) {
            (Some(text), _) => text,
            (None, Some(meter)) => self.meter_description(meter),
            (None, None) => {
                let key = "description".to_owned();
                let problem = PlanProblem::MissingField { key };
                return Err(self.invalid(fields.span.clone(), &fields.path, problem));
            }
        };
        let unit = match fields.get("unit") {
            Some(value) => self.string(value, &fields.field("unit"))?.to_owned(),
            None => self.billing_unit(meter.as_deref()),
        };
        Ok(Charge {
            meter,
            description,
            unit,
            model,
            included_quantity,
        })
    }

    /// The model named by `model`, refusing the fields other models take.
    fn charge_model(&self, fields: &Fields<'_, '_>) -> Result<ChargeModel> {
        let model_value = self.required(fields, "model")?;
        let model = self.string(model_value, &fields.field("model"))?;
        let (model_name, takes): (&'static str, &'static [&'static str]) = match model {
            "flat" => ("flat", &["amount"]),
            "per_unit" => ("per_unit", &["unit_price", "included_quantity"]),
            "graduated" => ("graduated", &["tiers", "included_quantity"]),
            "volume" => ("volume", &["tiers", "included_quantity"]),
            "package" => (
                "package",
                &["package_size", "package_price", "included_quantity"],
            ),
            _ => {
                let problem = PlanProblem::UnknownModel {
                    model: model.to_owned(),
                };
                return Err(self.invalid(model_value.span(), &fields.field("model"), problem));
            }
        };
        for (key, _) in &fields.entries {
            let key_name: &str = key.get_ref();
            if MODEL_KEYS.contains(&key_name) && !takes.contains(&key_name) {
                let problem = PlanProblem::FieldNotForModel {
                    key: key_name.to_owned(),
                    model: model_name,
                    expected: takes,
                };
                return Err(self.invalid(key.span(), &fields.field(key_name), problem));
            }
        }
        let price = |key: &str| self.price(self.required(fields, key)?, &fields.field(key));
        Ok(match model {
            "flat" => ChargeModel::Flat {
                amount: price("amount")?,
            },
            "per_unit" => ChargeModel::PerUnit {
                unit_price: price("unit_price")?,
            },
            "graduated" => ChargeModel::Graduated {
                tiers: self.tiers(self.required(fields, "tiers")?, &fields.path)?,
            },
            "volume" => ChargeModel::Volume {
                tiers: self.tiers(self.required(fields, "tiers")?, &fields.path)?,
            },
            _ => ChargeModel::Package {
                package_size: self.package_size(fields)?,
                package_price: price("package_price")?,
            },
        })
    }

    fn package_size(&self, fields: &Fields<'_, '_>) -> Result<Decimal> {
        let value = self.required(fields, "package_size")?;
        let size = self.quantity(value, &fields.field("package_size"))?;
        if size.is_zero() {
            let field = fields.field("package_size");
            return Err(self.invalid(value.span(), &field, PlanProblem::NotPositive));
        }
        Ok(size)
    }

    /// A meter of the catalog.
    fn meter(&self, value: &Value<'_>, field: &str) -> Result<String> {
        let name = self.string(value, field)?;
        if self.catalog.get(name).is_some() {
            return Ok(name.to_owned());
        }
        let known: Vec<&str> = self
            .catalog
            .meters()
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        let problem = PlanProblem::UnknownMeter {
            meter: name.to_owned(),
            known: known.join(", "),
        };
        Err(self.invalid(value.span(), field, problem))
    }

    /// The catalog's description of a meter, or its name when the catalog has none.
    fn meter_description(&self, meter: &str) -> String {
        match self.catalog.get(meter) {
            Some(found) if !found.description.is_empty() => found.description.clone(),
            _ => meter.to_owned(),
        }
    }

    /// The unit a meter's period quantity is billed in: a gauge's level integrated over the
    /// month is billed per unit-month (GB-months), everything else in the meter's own unit.
    /// A fee without a meter is charged per month, the billing period.
    fn billing_unit(&self, meter: Option<&str>) -> String {
        match meter.and_then(|name| self.catalog.get(name)) {
            Some(found) if found.aggregation == Aggregation::Gauge => {
                format!("{}-months", found.unit)
            }
            Some(found) => found.unit.clone(),
            None => "month".to_owned(),
        }
    }
}
