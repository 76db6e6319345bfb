//! The default `standard` and `premium` plans. `PLANS.md` shows the same plans as a plan file,
//! and a test keeps the two identical.

use rust_decimal::Decimal;

use super::{Charge, ChargeModel, PricePlan, Tier};
use crate::currency::Currency;

/// The default plans, in name order.
pub(super) fn default_plans() -> Vec<PricePlan> {
    vec![premium(), standard()]
}

/// Pooled tenants: pay as you go above a $49 monthly minimum.
fn standard() -> PricePlan {
    PricePlan {
        name: "standard".to_owned(),
        currency: Currency::USD,
        charges: vec![
            // $0.20 per 1,000 calls is $0.0002 a call; the first 100,000 are free.
            usage(
                "api_calls",
                "API calls",
                "calls",
                ChargeModel::Graduated {
                    tiers: vec![
                        tier(Some("100000"), "0"),
                        tier(Some("1000000"), "0.0002"),
                        tier(None, "0.00015"),
                    ],
                },
            ),
            per_unit("storage_gb", "Storage", "GB-months", "0.023"),
            per_unit("cpu_hours", "Compute", "vCPU-hours", "0.045"),
            per_unit("memory_gb_hours", "Memory", "GB-hours", "0.005"),
            usage(
                "active_users",
                "Active users",
                "users",
                ChargeModel::Volume {
                    tiers: vec![
                        tier(Some("100"), "4.00"),
                        tier(Some("1000"), "3.00"),
                        tier(None, "2.00"),
                    ],
                },
            ),
        ],
        minimum_commitment: Some(dec("49")),
    }
}

/// Siloed tenants: a platform fee, better rates, and a $999 monthly minimum on usage.
fn premium() -> PricePlan {
    let mut storage = per_unit("storage_gb", "Storage", "GB-months", "0.020");
    storage.included_quantity = dec("10");
    PricePlan {
        name: "premium".to_owned(),
        currency: Currency::USD,
        charges: vec![
            Charge {
                meter: None,
                description: "Premium platform fee".to_owned(),
                unit: "month".to_owned(),
                model: ChargeModel::Flat { amount: dec("499") },
                included_quantity: Decimal::ZERO,
            },
            usage(
                "api_calls",
                "API calls",
                "calls",
                ChargeModel::Graduated {
                    tiers: vec![
                        tier(Some("1000000"), "0"),
                        tier(Some("10000000"), "0.00015"),
                        tier(None, "0.0001"),
                    ],
                },
            ),
            storage,
            per_unit("cpu_hours", "Compute", "vCPU-hours", "0.040"),
            per_unit("memory_gb_hours", "Memory", "GB-hours", "0.004"),
            usage(
                "active_users",
                "Active users",
                "users",
                ChargeModel::Volume {
                    tiers: vec![
                        tier(Some("1000"), "2.50"),
                        tier(Some("10000"), "2.00"),
                        tier(None, "1.50"),
                    ],
                },
            ),
        ],
        minimum_commitment: Some(dec("999")),
    }
}

fn usage(meter: &str, description: &str, unit: &str, model: ChargeModel) -> Charge {
    Charge {
        meter: Some(meter.to_owned()),
        description: description.to_owned(),
        unit: unit.to_owned(),
        model,
        included_quantity: Decimal::ZERO,
    }
}

fn per_unit(meter: &str, description: &str, unit: &str, unit_price: &str) -> Charge {
    let unit_price = dec(unit_price);
    usage(
        meter,
        description,
        unit,
        ChargeModel::PerUnit { unit_price },
    )
}

fn tier(up_to: Option<&str>, unit_price: &str) -> Tier {
    Tier {
        up_to: up_to.map(dec),
        unit_price: dec(unit_price),
        flat_fee: Decimal::ZERO,
    }
}

/// Parses a literal of this file; prices are written as text so they stay exact.
fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("default plan prices are valid decimals")
}
