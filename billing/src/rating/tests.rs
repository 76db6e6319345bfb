//! Rating against hand-worked examples (the arithmetic is in the comments), then the
//! properties every rating keeps whatever the plan, quantities and proration.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::allocation::prorate_split;
use crate::plan::PlanBook;

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
    pairs
        .iter()
        .map(|(meter, quantity)| ((*meter).to_owned(), dec(quantity)))
        .collect()
}

fn standard() -> PricePlan {
    PlanBook::defaults().plans["standard"].clone()
}

fn premium() -> PricePlan {
    PlanBook::defaults().plans["premium"].clone()
}

/// A plan of the one charge, in `currency`, without a minimum.
fn plan_of(currency: &str, model: ChargeModel, included: &str) -> PricePlan {
    PricePlan {
        name: "test".to_owned(),
        currency: Currency::from_code(currency).unwrap(),
        charges: vec![Charge {
            meter: Some("m".to_owned()),
            description: "test charge".to_owned(),
            unit: "units".to_owned(),
            model,
            included_quantity: dec(included),
        }],
        minimum_commitment: None,
    }
}

/// The rounded and unrounded amount of the one line of a one-charge plan.
fn rate_one(plan: &PricePlan, quantity: &str, proration: Proration) -> (Decimal, Decimal) {
    let rating = rate(plan, &quantities(&[("m", quantity)]), proration);
    assert_eq!(rating.lines.len(), 1);
    (rating.lines[0].amount, rating.lines[0].unrounded)
}

fn line<'a>(rating: &'a Rating, meter: &str) -> &'a RatedLine {
    rating
        .lines
        .iter()
        .find(|line| line.meter.as_deref() == Some(meter))
        .unwrap()
}

fn tier(up_to: Option<&str>, unit_price: &str, flat_fee: &str) -> Tier {
    Tier {
        up_to: up_to.map(dec),
        unit_price: dec(unit_price),
        flat_fee: dec(flat_fee),
    }
}

fn half_of_november() -> Proration {
    // November: 30 days = 2,592,000 s; 15 days = 1,296,000 s.
    Proration::new(1_296_000, 2_592_000).unwrap()
}

#[test]
fn graduated_api_calls_of_the_standard_plan() {
    let plan = standard();
    let calls = |count: &str| {
        let rating = rate(&plan, &quantities(&[("api_calls", count)]), Proration::FULL);
        line(&rating, "api_calls").amount
    };
    // 250,000 calls: 100,000 free + 150,000 × 0.0002 = 30.00
    assert_eq!(calls("250000"), dec("30.00"));
    // 1,500,000 calls: 100,000 free + 900,000 × 0.0002 (= 180) + 500,000 × 0.00015 (= 75) = 255.00
    assert_eq!(calls("1500000"), dec("255.00"));
    // Bounds are inclusive: exactly 100,000 calls are all in the free tier = 0.00
    assert_eq!(calls("100000"), dec("0.00"));
    // 100,001 calls: 1 × 0.0002 = 0.0002, rounds to 0.00
    assert_eq!(calls("100001"), dec("0.00"));
    assert_eq!(calls("0"), dec("0.00"));
}

#[test]
fn graduated_tier_fees_apply_to_every_tier_reached_and_are_prorated() {
    // Tiers: up to 10 at 1.00 + fee 5; up to 20 at 0.50 + fee 3; beyond at 0.25 + fee 1.
    let tiers = vec![
        tier(Some("10"), "1", "5"),
        tier(Some("20"), "0.5", "3"),
        tier(None, "0.25", "1"),
    ];
    let plan = plan_of("USD", ChargeModel::Graduated { tiers }, "0");
    // 10 units: 10 × 1.00 + 5 = 15.00 (tier 2 is not reached, so no fee 3)
    assert_eq!(rate_one(&plan, "10", Proration::FULL).0, dec("15.00"));
    // 15 units: 10 × 1.00 + 5 + 5 × 0.50 + 3 = 20.50
    assert_eq!(rate_one(&plan, "15", Proration::FULL).0, dec("20.50"));
    // 25 units: 10 + 5 + 5 + 3 + 5 × 0.25 + 1 = 25.25
    assert_eq!(rate_one(&plan, "25", Proration::FULL).0, dec("25.25"));
    // 15 units in half a period: usage is not prorated, fees are: 10 + 2.50 + (5 + 3) / 2 = 16.50
    assert_eq!(rate_one(&plan, "15", half_of_november()).0, dec("16.50"));
    // No units: no tier applies, so no fee either = 0.00
    assert_eq!(rate_one(&plan, "0", Proration::FULL).0, dec("0.00"));
}

#[test]
fn volume_prices_every_unit_at_the_tier_the_total_falls_in() {
    let plan = standard();
    let users = |count: &str| {
        let rating = rate(
            &plan,
            &quantities(&[("active_users", count)]),
            Proration::FULL,
        );
        line(&rating, "active_users").amount
    };
    // 100 users are in tier 1 (inclusive bound): 100 × 4.00 = 400.00
    assert_eq!(users("100"), dec("400.00"));
    // 101 users put all of them in tier 2: 101 × 3.00 = 303.00
    assert_eq!(users("101"), dec("303.00"));
    // 2,500 users: 2,500 × 2.00 = 5,000.00
    assert_eq!(users("2500"), dec("5000.00"));
    assert_eq!(users("0"), dec("0.00"));

    // With fees: up to 10 at 2.00 + fee 20; beyond at 1.00 + fee 30.
    let tiers = vec![tier(Some("10"), "2", "20"), tier(None, "1", "30")];
    let plan = plan_of("USD", ChargeModel::Volume { tiers }, "0");
    // 5 units: 5 × 2.00 + 20 = 30.00; 11 units: 11 × 1.00 + 30 = 41.00; none: 0.00
    assert_eq!(rate_one(&plan, "5", Proration::FULL).0, dec("30.00"));
    assert_eq!(rate_one(&plan, "11", Proration::FULL).0, dec("41.00"));
    assert_eq!(rate_one(&plan, "0", Proration::FULL).0, dec("0.00"));
}

#[test]
fn package_rounds_the_last_package_up() {
    // Packs of 50,000 calls at 8.50.
    let model = ChargeModel::Package {
        package_size: dec("50000"),
        package_price: dec("8.50"),
    };
    let plan = plan_of("EUR", model.clone(), "0");
    // 0 calls: 0 packs = 0.00; 1 call: ceil(1/50,000) = 1 pack = 8.50
    assert_eq!(rate_one(&plan, "0", Proration::FULL).0, dec("0.00"));
    assert_eq!(rate_one(&plan, "1", Proration::FULL).0, dec("8.50"));
    // 50,000 calls: exactly 1 pack = 8.50; 50,001: 2 packs = 17.00; 120,000: ceil(2.4) = 3 = 25.50
    assert_eq!(rate_one(&plan, "50000", Proration::FULL).0, dec("8.50"));
    assert_eq!(rate_one(&plan, "50001", Proration::FULL).0, dec("17.00"));
    assert_eq!(rate_one(&plan, "120000", Proration::FULL).0, dec("25.50"));
    // 10,000 included: 60,000 calls leave 50,000 billable = 1 pack = 8.50
    let plan = plan_of("EUR", model, "10000");
    assert_eq!(rate_one(&plan, "60000", Proration::FULL).0, dec("8.50"));
    // Fractional packages: 1.2 GB in 0.5 GB packs at 1.00: ceil(2.4) = 3 packs = 3.00
    let plan = plan_of(
        "USD",
        ChargeModel::Package {
            package_size: dec("0.5"),
            package_price: dec("1"),
        },
        "0",
    );
    assert_eq!(rate_one(&plan, "1.2", Proration::FULL).0, dec("3.00"));
}

#[test]
fn flat_is_the_amount_whatever_the_quantity_prorated_by_the_second() {
    let plan = plan_of("USD", ChargeModel::Flat { amount: dec("499") }, "0");
    // Full period: 499.00 whatever was used.
    assert_eq!(rate_one(&plan, "0", Proration::FULL).0, dec("499.00"));
    assert_eq!(rate_one(&plan, "1000000", Proration::FULL).0, dec("499.00"));
    // Half of November: 499 × 1,296,000 / 2,592,000 = 249.50
    assert_eq!(rate_one(&plan, "0", half_of_november()).0, dec("249.50"));
    // 10 of 30 days: 499 / 3 = 166.333…; the line keeps every digit and rounds to 166.33
    let third = Proration::new(864_000, 2_592_000).unwrap();
    let (amount, unrounded) = rate_one(&plan, "0", third);
    assert_eq!(amount, dec("166.33"));
    assert_eq!(unrounded, dec("166.33333333333333333333333333"));
}

#[test]
fn per_unit_after_the_included_quantity_rounded_half_away_from_zero() {
    let plan = premium();
    let storage = |gb_months: &str| {
        let rating = rate(
            &plan,
            &quantities(&[("storage_gb", gb_months)]),
            Proration::FULL,
        );
        line(&rating, "storage_gb").clone()
    };
    // 8 GB-months with 10 included: 0 billable (never negative) = 0.00
    let small = storage("8");
    assert_eq!(
        (small.billable_quantity, small.amount),
        (dec("0"), dec("0.00"))
    );
    // 15.5 GB-months: 5.5 billable × 0.020 = 0.11
    assert_eq!(storage("15.5").amount, dec("0.11"));
    // Standard storage 123.456 GB-months × 0.023 = 2.839488 → 2.84, unrounded kept
    let rating = rate(
        &standard(),
        &quantities(&[("storage_gb", "123.456")]),
        Proration::FULL,
    );
    let line = line(&rating, "storage_gb");
    assert_eq!(
        (line.unrounded, line.amount),
        (dec("2.839488"), dec("2.84"))
    );
    // Midpoints go up: 5 GB-hours × 0.005 = 0.025 → 0.03 (half-to-even would give 0.02)
    let rating = rate(
        &standard(),
        &quantities(&[("memory_gb_hours", "5")]),
        Proration::FULL,
    );
    assert_eq!(
        super::tests::line(&rating, "memory_gb_hours").amount,
        dec("0.03")
    );
}

#[test]
fn amounts_round_to_the_currency_minor_units() {
    let plan = |currency| {
        plan_of(
            currency,
            ChargeModel::PerUnit {
                unit_price: dec("0.5"),
            },
            "0",
        )
    };
    // JPY has no minor unit: 3 × 0.5 = 1.5 → 2
    assert_eq!(
        rate_one(&plan("JPY"), "3", Proration::FULL).0.to_string(),
        "2"
    );
    // KWD has three: 0.0015 × 1 → 0.002; USD prints two digits even for whole amounts
    let kwd = plan_of(
        "KWD",
        ChargeModel::PerUnit {
            unit_price: dec("0.0015"),
        },
        "0",
    );
    assert_eq!(rate_one(&kwd, "1", Proration::FULL).0.to_string(), "0.002");
    assert_eq!(
        rate_one(&plan("USD"), "4", Proration::FULL).0.to_string(),
        "2.00"
    );
}

#[test]
fn a_full_standard_month_adds_up_line_by_line() {
    // api_calls 1,500,000 = 255.00 (see above); storage 123.456 × 0.023 = 2.839488 → 2.84;
    // cpu 1,000 × 0.045 = 45.00; memory 2,000 × 0.005 = 10.00; users 150 × 3.00 = 450.00.
    // Usage 762.84 is above the 49 minimum, so no top-up: total 762.84.
    let usage = quantities(&[
        ("api_calls", "1500000"),
        ("storage_gb", "123.456"),
        ("cpu_hours", "1000"),
        ("memory_gb_hours", "2000"),
        ("active_users", "150"),
        ("gpu_seconds", "5"),
    ]);
    let rating = rate(&standard(), &usage, Proration::FULL);
    let amounts: Vec<String> = rating
        .lines
        .iter()
        .map(|line| line.amount.to_string())
        .collect();
    assert_eq!(amounts, ["255.00", "2.84", "45.00", "10.00", "450.00"]);
    assert_eq!(rating.total.to_string(), "762.84");
    assert_eq!(rating.currency, Currency::USD);
}

#[test]
fn usage_below_the_minimum_is_topped_up_to_it() {
    // Standard, 250,000 calls only: usage 30.00 < 49.00, top-up 19.00, total 49.00.
    let usage = quantities(&[("api_calls", "250000")]);
    let rating = rate(&standard(), &usage, Proration::FULL);
    let top_up = rating.lines.last().unwrap();
    assert_eq!(top_up.kind, LineKind::MinimumTopUp);
    assert_eq!(top_up.description, MINIMUM_TOP_UP_DESCRIPTION);
    assert_eq!((top_up.amount, rating.total), (dec("19.00"), dec("49.00")));
    // Half of November: minimum 49 / 2 = 24.50 < 30.00 usage, so no top-up; total 30.00.
    let rating = rate(&standard(), &usage, half_of_november());
    assert!(
        rating
            .lines
            .iter()
            .all(|line| line.kind != LineKind::MinimumTopUp)
    );
    assert_eq!(rating.total, dec("30.00"));
    // Premium with no usage: 499.00 platform fee + 999.00 top-up (the fee does not count
    // toward the minimum) = 1,498.00.
    let rating = rate(&premium(), &BTreeMap::new(), Proration::FULL);
    assert_eq!(rating.lines[0].kind, LineKind::Fixed);
    assert_eq!(rating.lines.last().unwrap().amount, dec("999.00"));
    assert_eq!(rating.total, dec("1498.00"));
    // A third of a month of standard with no usage: 49 / 3 = 16.333… → 16.33.
    let third = Proration::new(864_000, 2_592_000).unwrap();
    let rating = rate(&standard(), &BTreeMap::new(), third);
    assert_eq!(rating.total, dec("16.33"));
}

#[test]
#[should_panic(expected = "negative")]
fn a_negative_quantity_is_a_bug_upstream() {
    rate(
        &standard(),
        &quantities(&[("cpu_hours", "-1")]),
        Proration::FULL,
    );
}

// ---- Properties -------------------------------------------------------------------------

const METERS: [&str; 4] = ["m0", "m1", "m2", "m3"];

fn price() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        1 => Just(Decimal::ZERO),
        4 => (0i64..100_000_000, 0u32..=6).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
    ]
}

fn amount_of_units() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        1 => Just(Decimal::ZERO),
        4 => (0i64..10_000_000_000, 0u32..=9).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
    ]
}

fn tiers() -> impl Strategy<Value = Vec<Tier>> {
    let bounded = proptest::collection::vec((1i64..1_000_000, price(), price()), 0..4);
    (bounded, price(), price()).prop_map(|(bounded, last_price, last_fee)| {
        let mut up_to = 0;
        let mut tiers: Vec<Tier> = bounded
            .into_iter()
            .map(|(width, unit_price, flat_fee)| {
                up_to += width;
                Tier {
                    up_to: Some(Decimal::from(up_to)),
                    unit_price,
                    flat_fee,
                }
            })
            .collect();
        tiers.push(Tier {
            up_to: None,
            unit_price: last_price,
            flat_fee: last_fee,
        });
        tiers
    })
}

fn model() -> impl Strategy<Value = ChargeModel> {
    let package_size = (1i64..1_000_000, 0u32..=3).prop_map(|(m, s)| Decimal::new(m, s));
    prop_oneof![
        price().prop_map(|amount| ChargeModel::Flat { amount }),
        price().prop_map(|unit_price| ChargeModel::PerUnit { unit_price }),
        tiers().prop_map(|tiers| ChargeModel::Graduated { tiers }),
        tiers().prop_map(|tiers| ChargeModel::Volume { tiers }),
        (package_size, price()).prop_map(|(package_size, package_price)| ChargeModel::Package {
            package_size,
            package_price
        }),
    ]
}

fn plan() -> impl Strategy<Value = PricePlan> {
    let charges = proptest::collection::vec((model(), amount_of_units(), any::<bool>()), 0..6);
    let currency = prop_oneof![Just("USD"), Just("JPY"), Just("KWD")];
    (charges, proptest::option::of(price()), currency).prop_map(|(charges, minimum, code)| {
        let charges = charges
            .into_iter()
            .enumerate()
            .map(|(index, (model, included_quantity, metered))| Charge {
                // Fees may or may not name a meter; usage charges always do.
                meter: (metered || model.is_usage())
                    .then(|| METERS[index % METERS.len()].to_owned()),
                description: format!("charge {index}"),
                unit: "units".to_owned(),
                included_quantity: if model.is_usage() {
                    included_quantity
                } else {
                    Decimal::ZERO
                },
                model,
            })
            .collect();
        PricePlan {
            name: "generated".to_owned(),
            currency: Currency::from_code(code).unwrap(),
            charges,
            minimum_commitment: minimum,
        }
    })
}

fn usage() -> impl Strategy<Value = BTreeMap<String, Decimal>> {
    proptest::collection::vec(amount_of_units(), METERS.len()).prop_map(|amounts| {
        METERS
            .iter()
            .map(|meter| (*meter).to_owned())
            .zip(amounts)
            .collect()
    })
}

fn proration() -> impl Strategy<Value = Proration> {
    (1i64..=31 * 86_400)
        .prop_flat_map(|period| (0..=period, Just(period)))
        .prop_map(|(active, period)| Proration::new(active, period).unwrap())
}

/// The same plan with every price, fee and minimum set to zero.
fn free(mut plan: PricePlan) -> PricePlan {
    let free_tiers = |tiers: &mut Vec<Tier>| {
        for tier in tiers {
            tier.unit_price = Decimal::ZERO;
            tier.flat_fee = Decimal::ZERO;
        }
    };
    for charge in &mut plan.charges {
        match &mut charge.model {
            ChargeModel::Flat { amount } => *amount = Decimal::ZERO,
            ChargeModel::PerUnit { unit_price } => *unit_price = Decimal::ZERO,
            ChargeModel::Graduated { tiers } | ChargeModel::Volume { tiers } => free_tiers(tiers),
            ChargeModel::Package { package_price, .. } => *package_price = Decimal::ZERO,
        }
    }
    plan.minimum_commitment = plan.minimum_commitment.map(|_| Decimal::ZERO);
    plan
}

/// The line amounts of a rating, with the top-up as a last amount that is zero when absent, so
/// ratings of one plan line up even when only some of them need a top-up.
fn amounts(rating: &Rating) -> Vec<Decimal> {
    let mut amounts: Vec<Decimal> = rating
        .lines
        .iter()
        .filter(|line| line.kind != LineKind::MinimumTopUp)
        .map(|line| line.amount)
        .collect();
    let top_up = rating
        .lines
        .iter()
        .find(|line| line.kind == LineKind::MinimumTopUp);
    amounts.push(top_up.map_or(Decimal::ZERO, |line| line.amount));
    amounts
}

fn minor_unit(plan: &PricePlan) -> Decimal {
    Decimal::new(1, plan.currency.minor_units)
}

proptest! {
    #[test]
    fn lines_sum_exactly_to_the_total(plan in plan(), usage in usage(), proration in proration()) {
        let rating = rate(&plan, &usage, proration);
        let sum: Decimal = rating.lines.iter().map(|line| line.amount).sum();
        prop_assert_eq!(rating.total, sum);
        let half_minor_unit = minor_unit(&plan) / Decimal::TWO;
        for line in &rating.lines {
            prop_assert_eq!(line.amount.scale(), plan.currency.minor_units);
            prop_assert!((line.amount - line.unrounded).abs() <= half_minor_unit);
        }
    }

    #[test]
    fn zero_prices_or_quantities_never_give_negative_amounts(
        plan in plan(), usage in usage(), proration in proration(),
    ) {
        // Zero prices: every line is zero, whatever was used.
        let rating = rate(&free(plan.clone()), &usage, proration);
        prop_assert!(rating.lines.iter().all(|line| line.amount.is_zero() && line.unrounded.is_zero()));
        prop_assert!(rating.total.is_zero());
        // Zero quantities: usage lines are zero and nothing is negative.
        let rating = rate(&plan, &BTreeMap::new(), proration);
        for line in &rating.lines {
            prop_assert!(!line.amount.is_sign_negative() || line.amount.is_zero(), "{:?}", line);
            prop_assert!(line.kind != LineKind::Usage || line.amount.is_zero(), "{:?}", line);
        }
        prop_assert!(rating.total >= Decimal::ZERO);
    }

    #[test]
    fn prorating_a_whole_period_equals_the_full_price(
        plan in plan(), usage in usage(), period in 1i64..=31 * 86_400,
    ) {
        let whole = rate(&plan, &usage, Proration::new(period, period).unwrap());
        let full = rate(&plan, &usage, Proration::FULL);
        prop_assert_eq!(whole.lines, full.lines);
        prop_assert_eq!(whole.total, full.total);
    }

    #[test]
    fn two_halves_of_a_period_sum_to_the_whole_within_a_minor_unit_and_exactly_when_split(
        plan in plan(), proration in proration(),
    ) {
        // Without usage every line is a prorated fixed amount (flat fees and the minimum).
        let period = proration.period_seconds();
        let first_seconds = proration.active_seconds();
        let rest = Proration::new(period - first_seconds, period).unwrap();
        let first = rate(&plan, &BTreeMap::new(), proration);
        let second = rate(&plan, &BTreeMap::new(), rest);
        let whole = rate(&plan, &BTreeMap::new(), Proration::FULL);
        let minor = minor_unit(&plan);
        let (first, second, whole) = (amounts(&first), amounts(&second), amounts(&whole));
        for ((a, b), full) in first.iter().zip(&second).zip(&whole) {
            prop_assert!((a + b - full).abs() <= minor, "{} + {} vs {}", a, b, full);
            // Largest remainder splits the whole line exactly, each part within a minor unit of
            // the part prorated on its own.
            let parts = [first_seconds, period - first_seconds];
            let split = prorate_split(*full, &parts, plan.currency.minor_units);
            prop_assert_eq!(split[0] + split[1], *full);
            prop_assert!((split[0] - a).abs() <= minor);
            prop_assert!((split[1] - b).abs() <= minor);
        }
    }
}
