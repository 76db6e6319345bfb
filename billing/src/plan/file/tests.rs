//! Plan files: the documented example reads back as the built-in defaults, and every class of
//! bad input is refused with the file, line and field named.

use rust_decimal::Decimal;
use tally_schemas::{MeterCatalog, Timestamp};

use crate::error::{BillingError, PlanProblem};
use crate::plan::{ChargeModel, PlanBook};

fn read(text: &str) -> Result<PlanBook, BillingError> {
    PlanBook::from_toml(text, "plans.toml", &MeterCatalog::defaults())
}

/// The refusal of `text`, checked to start with `plans.toml:{line}: {field}: `.
fn refusal(text: &str, line: usize, field: &str) -> (PlanProblem, String) {
    let error = read(text).expect_err("the file should be refused");
    let message = error.to_string();
    let prefix = format!("plans.toml:{line}: {field}: ");
    assert!(
        message.starts_with(&prefix),
        "{message:?} does not start with {prefix:?}"
    );
    match error {
        BillingError::InvalidPlan { problem, .. } => (problem, message),
        other => panic!("expected an invalid plan, got {other:?}"),
    }
}

fn example_from_the_docs() -> String {
    let docs = include_str!("../../../PLANS.md");
    let start = docs.find("```toml\n").expect("PLANS.md has a toml example") + "```toml\n".len();
    let length = docs[start..].find("```").expect("the example is closed");
    docs[start..start + length].to_owned()
}

const PLAN_HEAD: &str = "[plans.p]\ncurrency = \"USD\"\n\n[[plans.p.charges]]\n";

#[test]
fn the_documented_example_reads_back_as_the_default_plans() {
    // GIVEN the full example of PLANS.md, which restates both default plans
    let book = read(&example_from_the_docs()).unwrap();
    // THEN they are exactly the built-in ones, and the override and assignments are there
    let defaults = PlanBook::defaults();
    assert_eq!(book.plans["standard"], defaults.plans["standard"]);
    assert_eq!(book.plans["premium"], defaults.plans["premium"]);
    let acme = &book.plans["tenant:acme"];
    assert_eq!(acme.currency.code, "EUR");
    assert_eq!(
        acme.charges[2].description, "Stored data, sampled",
        "from the catalog"
    );
    assert_eq!(
        acme.charges[2].unit, "GB-months",
        "a gauge is billed per unit-month"
    );
    assert!(matches!(acme.charges[1].model, ChargeModel::Package { .. }));
    assert_eq!(book.tenant_plans.len(), 3);
    let globex = &book.tenant_plans[2];
    assert_eq!(
        globex.from,
        Timestamp::parse("2026-10-01T00:00:00Z").unwrap()
    );
    assert_eq!(globex.until, None);
}

#[test]
fn an_empty_file_gives_the_defaults_and_a_file_plan_replaces_a_default() {
    assert_eq!(read("").unwrap(), PlanBook::defaults());
    let text = "[plans.standard]\ncurrency = \"EUR\"\n";
    let book = read(text).unwrap();
    assert_eq!(book.plans["standard"].currency.code, "EUR");
    assert!(book.plans["standard"].charges.is_empty());
    assert_eq!(book.plans["premium"], PlanBook::defaults().plans["premium"]);
}

#[test]
fn dates_and_strings_are_both_accepted_as_instants() {
    let text = "[[tenants]]\ntenant_id = \"t1\"\nplan = \"standard\"\nfrom = 2026-11-15\n\
                until = \"2026-12-01T00:00:00\"\n";
    let book = read(text).unwrap();
    let assignment = &book.tenant_plans[0];
    assert_eq!(assignment.from.to_string(), "2026-11-15T00:00:00Z");
    assert_eq!(
        assignment.until.unwrap().to_string(),
        "2026-12-01T00:00:00Z"
    );
}

#[test]
fn an_unknown_meter_is_refused_with_the_catalog_listed() {
    let text =
        format!("{PLAN_HEAD}meter = \"api_call\"\nmodel = \"per_unit\"\nunit_price = \"1\"\n");
    let (problem, message) = refusal(&text, 5, "plan \"p\", charge \"api_call\", meter");
    assert!(matches!(problem, PlanProblem::UnknownMeter { .. }));
    assert!(message.contains("unknown meter \"api_call\""), "{message}");
    assert!(message.contains("api_calls, storage_gb"), "{message}");
}

#[test]
fn negative_prices_fees_sizes_and_minimums_are_refused() {
    let per_unit =
        format!("{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_price = \"-0.01\"\n");
    let (problem, _) = refusal(&per_unit, 7, "plan \"p\", charge \"cpu_hours\", unit_price");
    assert_eq!(
        problem,
        PlanProblem::Negative {
            value: Decimal::new(-1, 2)
        }
    );

    let minimum = "[plans.p]\ncurrency = \"USD\"\nminimum_commitment = -5\n";
    let (problem, _) = refusal(minimum, 3, "plan \"p\", minimum_commitment");
    assert!(matches!(problem, PlanProblem::Negative { .. }));

    let fee = format!(
        "{PLAN_HEAD}meter = \"api_calls\"\nmodel = \"graduated\"\ntiers = [\n\
         {{ up_to = 10, unit_price = \"0\" }},\n{{ unit_price = \"1\", flat_fee = \"-2\" }},\n]\n"
    );
    let (problem, _) = refusal(
        &fee,
        9,
        "plan \"p\", charge \"api_calls\", tier 2, flat_fee",
    );
    assert!(matches!(problem, PlanProblem::Negative { .. }));

    let package = format!(
        "{PLAN_HEAD}meter = \"api_calls\"\nmodel = \"package\"\npackage_size = 0\npackage_price = \"1\"\n"
    );
    let (problem, _) = refusal(
        &package,
        7,
        "plan \"p\", charge \"api_calls\", package_size",
    );
    assert_eq!(problem, PlanProblem::NotPositive);
}

#[test]
fn gapped_and_overlapping_tiers_are_refused_naming_both_tiers() {
    let tiers = |second_from: &str| {
        format!(
            "{PLAN_HEAD}meter = \"api_calls\"\nmodel = \"graduated\"\ntiers = [\n\
             {{ up_to = 900, unit_price = \"0.001\" }},\n\
             {{ from = {second_from}, up_to = 5000, unit_price = \"0.0005\" }},\n\
             {{ from = 5000, unit_price = \"0.0001\" }},\n]\n"
        )
    };
    let field = "plan \"p\", charge \"api_calls\", tiers";
    let (problem, message) = refusal(&tiers("1000"), 9, field);
    assert!(matches!(problem, PlanProblem::TierGap { tier: 2, .. }));
    assert!(
        message.ends_with("tier 2 starts at 1000 but tier 1 ends at 900 (gap)"),
        "{message}"
    );
    let (problem, message) = refusal(&tiers("800"), 9, field);
    assert!(matches!(problem, PlanProblem::TierOverlap { tier: 2, .. }));
    assert!(
        message.ends_with("tier 2 starts at 800 but tier 1 ends at 900 (overlap)"),
        "{message}"
    );
    assert!(read(&tiers("900")).is_ok());
}

/// Whether a refusal is the one a case expects.
type IsExpected = fn(&PlanProblem) -> bool;

#[test]
fn tiers_must_increase_start_at_zero_and_end_unbounded() {
    let charge = |tiers: &str| {
        format!("{PLAN_HEAD}meter = \"active_users\"\nmodel = \"volume\"\ntiers = [\n{tiers}]\n")
    };
    let field = "plan \"p\", charge \"active_users\"";
    let cases: [(&str, usize, String, IsExpected); 5] = [
        (
            "{ up_to = 100, unit_price = \"1\" },\n{ up_to = 100, unit_price = \"1\" },\n{ unit_price = \"1\" },\n",
            9,
            format!("{field}, tier 2, up_to"),
            |p| matches!(p, PlanProblem::TierNotIncreasing { tier: 2, .. }),
        ),
        (
            "{ unit_price = \"1\" },\n{ unit_price = \"1\" },\n",
            8,
            format!("{field}, tiers"),
            |p| matches!(p, PlanProblem::UnboundedTierNotLast { tier: 1 }),
        ),
        (
            "{ up_to = 100, unit_price = \"1\" },\n{ up_to = 200, unit_price = \"1\" },\n",
            9,
            format!("{field}, tiers"),
            |p| matches!(p, PlanProblem::LastTierBounded { tier: 2, .. }),
        ),
        (
            "{ from = 1, up_to = 100, unit_price = \"1\" },\n{ unit_price = \"1\" },\n",
            8,
            format!("{field}, tiers"),
            |p| matches!(p, PlanProblem::TierGap { tier: 1, .. }),
        ),
        ("", 7, format!("{field}, tiers"), |p| {
            matches!(p, PlanProblem::NoTiers)
        }),
    ];
    for (tiers, line, field, expected) in cases {
        let (problem, message) = refusal(&charge(tiers), line, &field);
        assert!(expected(&problem), "{message}");
    }
}

#[test]
fn an_unknown_currency_is_refused() {
    let text = "\n[plans.eu]\ncurrency = \"EURO\"\n";
    let (problem, _) = refusal(text, 3, "plan \"eu\", currency");
    assert_eq!(
        problem,
        PlanProblem::UnknownCurrency {
            code: "EURO".to_owned()
        }
    );
    let (problem, _) = refusal(
        "[plans.eu]\ncurrency = \"eur\"\n",
        2,
        "plan \"eu\", currency",
    );
    assert!(matches!(problem, PlanProblem::UnknownCurrency { .. }));
}

#[test]
fn floats_and_malformed_numbers_are_refused() {
    let charge = |price: &str| {
        format!("{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_price = {price}\n")
    };
    let field = "plan \"p\", charge \"cpu_hours\", unit_price";
    let (problem, message) = refusal(&charge("0.045"), 7, field);
    assert_eq!(
        problem,
        PlanProblem::FloatNumber {
            text: "0.045".to_owned()
        }
    );
    assert!(message.contains("quote the number"), "{message}");
    assert!(matches!(
        refusal(&charge("4.5e-2"), 7, field).0,
        PlanProblem::FloatNumber { .. }
    ));
    for malformed in [
        "\"0.0.45\"",
        "\"4.5e-2\"",
        "\"\"",
        "\"1_000\"",
        "\" 1\"",
        "0x10",
    ] {
        let (problem, message) = refusal(&charge(malformed), 7, field);
        assert!(
            matches!(problem, PlanProblem::MalformedNumber { .. }),
            "{message}"
        );
    }
    let (problem, _) = refusal(&charge("true"), 7, field);
    assert!(matches!(
        problem,
        PlanProblem::WrongType {
            found: "boolean",
            ..
        }
    ));
    let (problem, _) = refusal(&charge("\"2000000000\""), 7, field);
    assert!(matches!(problem, PlanProblem::TooLarge { .. }));
    let (problem, _) = refusal(&charge("\"0.0000000000001\""), 7, field);
    assert!(matches!(problem, PlanProblem::TooPrecise { .. }));
}

#[test]
fn unknown_fields_and_fields_of_another_model_are_refused() {
    let typo =
        format!("{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_prize = \"1\"\n");
    let (problem, _) = refusal(&typo, 7, "plan \"p\", charge \"cpu_hours\", unit_prize");
    assert!(matches!(problem, PlanProblem::UnknownField { .. }));
    let other = format!(
        "{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_price = \"1\"\namount = \"3\"\n"
    );
    let (problem, message) = refusal(&other, 8, "plan \"p\", charge \"cpu_hours\", amount");
    assert!(
        matches!(problem, PlanProblem::FieldNotForModel { .. }),
        "{message}"
    );
    let missing = format!("{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\n");
    let (problem, _) = refusal(&missing, 4, "plan \"p\", charge \"cpu_hours\"");
    assert_eq!(
        problem,
        PlanProblem::MissingField {
            key: "unit_price".to_owned()
        }
    );
    let model = format!("{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"tiered\"\n");
    let (problem, _) = refusal(&model, 6, "plan \"p\", charge \"cpu_hours\", model");
    assert!(matches!(problem, PlanProblem::UnknownModel { .. }));
    let (problem, _) = refusal("[plan.p]\n", 1, "plan");
    assert!(matches!(problem, PlanProblem::UnknownField { .. }));
}

#[test]
fn usage_charges_need_one_meter_and_fees_need_a_description() {
    let no_meter = format!("{PLAN_HEAD}model = \"per_unit\"\nunit_price = \"1\"\n");
    let (problem, _) = refusal(&no_meter, 4, "plan \"p\", charge 1, meter");
    assert!(matches!(problem, PlanProblem::MeterRequired { .. }));
    let no_description = format!("{PLAN_HEAD}model = \"flat\"\namount = \"1\"\n");
    let (problem, _) = refusal(&no_description, 4, "plan \"p\", charge 1");
    assert!(matches!(problem, PlanProblem::MissingField { .. }));
    let twice = format!(
        "{PLAN_HEAD}meter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_price = \"1\"\n\n\
         [[plans.p.charges]]\nmeter = \"cpu_hours\"\nmodel = \"per_unit\"\nunit_price = \"2\"\n"
    );
    let (problem, _) = refusal(&twice, 9, "plan \"p\", charge \"cpu_hours\"");
    assert!(matches!(problem, PlanProblem::DuplicateCharge { .. }));
}

#[test]
fn assignments_of_unknown_plans_bad_tenants_and_empty_spans_are_refused() {
    let assignment = |tenant: &str, plan: &str, until: &str| {
        format!(
            "[[tenants]]\ntenant_id = \"{tenant}\"\nplan = \"{plan}\"\n\
             from = 2026-11-01T00:00:00Z\nuntil = {until}\n"
        )
    };
    let (problem, message) = refusal(
        &assignment("acme", "enterprise", "2026-12-01"),
        3,
        "tenant \"acme\", plan",
    );
    assert!(matches!(problem, PlanProblem::UnknownPlan { .. }));
    assert!(
        message.contains("defined plans: premium, standard"),
        "{message}"
    );
    let (problem, _) = refusal(
        &assignment("../etc", "standard", "2026-12-01"),
        2,
        "tenant assignment 1, tenant_id",
    );
    assert!(matches!(problem, PlanProblem::BadTenantId { .. }));
    let (problem, _) = refusal(
        &assignment("acme", "standard", "2026-10-01"),
        5,
        "tenant \"acme\", until",
    );
    assert!(matches!(problem, PlanProblem::EmptyAssignment { .. }));
    let (problem, _) = refusal(
        &assignment("acme", "standard", "\"soon\""),
        5,
        "tenant \"acme\", until",
    );
    assert!(matches!(problem, PlanProblem::BadTimestamp { .. }));
}

#[test]
fn overlapping_assignments_of_one_tenant_are_refused_at_the_later_one() {
    let text = "[[tenants]]\ntenant_id = \"acme\"\nplan = \"standard\"\nfrom = 2026-01-01\n\n\
                [[tenants]]\ntenant_id = \"other\"\nplan = \"premium\"\nfrom = 2026-01-01\n\n\
                [[tenants]]\ntenant_id = \"acme\"\nplan = \"premium\"\nfrom = 2026-11-15\n";
    let (problem, message) = refusal(text, 14, "tenant \"acme\", from");
    assert!(matches!(
        problem,
        PlanProblem::OverlappingAssignment { other_line: 4, .. }
    ));
    assert!(
        message.contains(
            "already on plan \"standard\" from 2026-01-01T00:00:00Z until open end (line 4)"
        ),
        "{message}"
    );
    // Back to back (until == the next from) is not an overlap.
    let fixed = text.replace(
        "from = 2026-01-01\n\n[[tenants]]\ntenant_id = \"other\"",
        "from = 2026-01-01\nuntil = 2026-11-15\n\n[[tenants]]\ntenant_id = \"other\"",
    );
    assert!(read(&fixed).is_ok());
}

#[test]
fn a_file_that_is_not_toml_is_refused_with_line_and_column() {
    let error = read("[plans.p]\ncurrency = USD\n").unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            BillingError::PlanSyntax {
                line: 2,
                column: 12,
                ..
            }
        ),
        "{message}"
    );
    assert!(message.starts_with("plans.toml:2:12: "), "{message}");
}
