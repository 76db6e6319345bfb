//! Invoices: deterministic documents built from rated usage. The same inputs give the same
//! invoice, byte for byte; a final invoice never changes; usage that arrives for a period already
//! final is billed on a later invoice as an adjustment naming the original period.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tally_schemas::Timestamp;

use crate::plan::PlanPeriod;
use crate::rating::{self, RatedLine, rate};

/// Where an invoice is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Recomputed on every run until it is finalized.
    Draft,
    /// Issued: immutable.
    Final,
    /// Cancelled after being final; a new revision may replace it.
    Void,
}

/// What a line bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A charge of the plan: usage, a flat fee or a minimum commitment top-up.
    Charge,
    /// The restatement of an earlier, final period.
    Adjustment,
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Charge or adjustment.
    pub kind: LineKind,
    /// The billing period the line is for (`YYYY-MM`): this invoice's, or the restated one.
    pub period: String,
    /// The meter billed, when the line bills one.
    pub meter: Option<String>,
    /// What a customer reads.
    pub description: String,
    /// The quantity billed (for adjustments: the change of quantity), in `unit`.
    pub quantity: Decimal,
    /// The unit of `quantity`.
    pub unit: String,
    /// The exact amount before rounding.
    pub unrounded: Decimal,
    /// The amount, rounded to the currency's minor units.
    pub amount: Decimal,
}

impl InvoiceLine {
    fn charge(period: &str, line: RatedLine) -> InvoiceLine {
        InvoiceLine {
            kind: LineKind::Charge,
            period: period.to_owned(),
            meter: line.meter,
            description: line.description,
            quantity: line.quantity,
            unit: line.unit,
            unrounded: line.unrounded,
            amount: line.amount,
        }
    }
}

/// An invoice for one tenant and one billing period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Stable id: tenant, period and revision.
    pub id: String,
    /// Sequential per tenant, assigned when the invoice is first drafted.
    pub number: String,
    /// The tenant billed.
    pub tenant_id: String,
    /// The billing period, `YYYY-MM`.
    pub period: String,
    /// Start of the period (inclusive).
    #[serde(with = "tally_schemas::time::rfc3339")]
    pub period_start: Timestamp,
    /// End of the period (exclusive).
    #[serde(with = "tally_schemas::time::rfc3339")]
    pub period_end: Timestamp,
    /// 1 for the first invoice of the period, then one more for each replacement of a void one.
    pub revision: u32,
    /// Draft, final or void.
    pub status: InvoiceStatus,
    /// When it was finalized (the job's processing time), once final.
    #[serde(with = "tally_schemas::time::rfc3339::option")]
    pub finalized_at: Option<Timestamp>,
    /// When it was voided, once void.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "tally_schemas::time::rfc3339::option"
    )]
    pub voided_at: Option<Timestamp>,
    /// ISO 4217 code.
    pub currency: String,
    /// The plan that rated the usage.
    pub plan: String,
    /// The lines, charges first, then adjustments by period.
    pub lines: Vec<InvoiceLine>,
    /// Exactly the sum of the lines' amounts.
    pub total: Decimal,
    /// The period's usage quantities the charges rated, by meter (billing units).
    pub quantities: BTreeMap<String, Decimal>,
    /// The events counted in the period, by meter: the usage behind the quantities.
    pub events: BTreeMap<String, u64>,
    /// For each earlier period this invoice restates, the quantities its adjustment brings
    /// that period's billing up to.
    pub restated: BTreeMap<String, BTreeMap<String, Decimal>>,
}

impl Invoice {
    /// The invoice as canonical JSON: fields in declaration order, maps sorted, decimals as
    /// strings, a final newline. Equal invoices give equal bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("invoices serialize");
        bytes.push(b'\n');
        bytes
    }
}

/// The invoice id of a tenant, period and revision.
pub fn invoice_id(tenant_id: &str, period: &str, revision: u32) -> String {
    format!("inv-{tenant_id}-{}-r{revision}", period.replace('-', ""))
}

/// A period already final whose usage has changed since it was billed.
#[derive(Clone, Debug)]
pub struct Restatement<'a> {
    /// The period, `YYYY-MM`.
    pub period: String,
    /// The plans of that period, as it was rated.
    pub plans: Vec<PlanPeriod<'a>>,
    /// The quantities billed for it so far.
    pub billed: BTreeMap<String, Decimal>,
    /// Its quantities now.
    pub current: BTreeMap<String, Decimal>,
}

/// Everything an invoice is computed from.
#[derive(Clone, Debug)]
pub struct InvoiceRequest<'a> {
    /// The tenant billed.
    pub tenant_id: String,
    /// The period, `YYYY-MM`, and its bounds.
    pub period: String,
    /// Start of the period.
    pub period_start: Timestamp,
    /// End of the period (exclusive).
    pub period_end: Timestamp,
    /// The number already given to this invoice, or empty for a new one (the store assigns it).
    pub number: String,
    /// The revision (1, or more after a void).
    pub revision: u32,
    /// The plans in force during the period, sorted, not empty.
    pub plans: Vec<PlanPeriod<'a>>,
    /// The period's usage quantities by meter, in billing units.
    pub quantities: BTreeMap<String, Decimal>,
    /// The events counted in the period, by meter.
    pub events: BTreeMap<String, u64>,
    /// Earlier final periods to restate.
    pub restatements: Vec<Restatement<'a>>,
}

/// Rates a period: usage under the plan in force at the period's end, each plan's flat fees
/// prorated by the second over its part of the period, and the minimum commitment of the last
/// plan prorated over its part. Earlier plans contribute only their fixed fees, because the
/// period's usage is rated once.
pub fn rate_period(
    plans: &[PlanPeriod<'_>],
    quantities: &BTreeMap<String, Decimal>,
) -> Vec<RatedLine> {
    let (last, earlier) = plans
        .split_last()
        .expect("a period is rated under at least one plan");
    let mut lines = Vec::new();
    for part in earlier {
        let fixed = rate(part.plan, &BTreeMap::new(), part.proration);
        lines.extend(
            fixed
                .lines
                .into_iter()
                .filter(|line| line.kind == rating::LineKind::Fixed),
        );
    }
    lines.extend(rate(last.plan, quantities, last.proration).lines);
    lines
}

/// Builds a draft invoice: the period's charges, then one adjustment line per restated period.
///
/// Panics if the plans are empty or differ in currency (a plan book must bill a tenant in one
/// currency).
pub fn draft_invoice(request: InvoiceRequest<'_>) -> Invoice {
    let currency = request.plans[0].plan.currency;
    assert!(
        request
            .plans
            .iter()
            .all(|part| part.plan.currency == currency),
        "a tenant is billed in one currency"
    );
    let mut lines: Vec<InvoiceLine> = rate_period(&request.plans, &request.quantities)
        .into_iter()
        .map(|line| InvoiceLine::charge(&request.period, line))
        .collect();
    let mut restated = BTreeMap::new();
    for restatement in &request.restatements {
        lines.push(adjustment(restatement));
        restated.insert(restatement.period.clone(), restatement.current.clone());
    }
    let total: Decimal = lines.iter().map(|line| line.amount).sum();
    let total = rating::round_to_minor_units(total, currency.minor_units);
    let last = request.plans.last().expect("plans are not empty");
    Invoice {
        id: invoice_id(&request.tenant_id, &request.period, request.revision),
        number: request.number,
        tenant_id: request.tenant_id,
        period: request.period,
        period_start: request.period_start,
        period_end: request.period_end,
        revision: request.revision,
        status: InvoiceStatus::Draft,
        finalized_at: None,
        voided_at: None,
        currency: currency.code.to_owned(),
        plan: last.plan.name.clone(),
        lines,
        total,
        quantities: request.quantities,
        events: request.events,
        restated,
    }
}

/// The adjustment for a restated period: the difference between rating its current quantities
/// and rating what was billed, under the same plans; exact in minor units.
fn adjustment(restatement: &Restatement<'_>) -> InvoiceLine {
    let total = |quantities: &BTreeMap<String, Decimal>| -> Decimal {
        rate_period(&restatement.plans, quantities)
            .iter()
            .map(|line| line.amount)
            .sum()
    };
    let amount = total(&restatement.current) - total(&restatement.billed);
    let mut changes = Vec::new();
    let meters: std::collections::BTreeSet<&String> = restatement
        .current
        .keys()
        .chain(restatement.billed.keys())
        .collect();
    for meter in meters {
        let now = restatement.current.get(meter).copied().unwrap_or_default();
        let before = restatement.billed.get(meter).copied().unwrap_or_default();
        if now != before {
            let change = (now - before).normalize();
            let sign = if change.is_sign_negative() { "" } else { "+" };
            changes.push(format!("{meter} {sign}{change}"));
        }
    }
    InvoiceLine {
        kind: LineKind::Adjustment,
        period: restatement.period.clone(),
        meter: None,
        description: format!(
            "Usage restated for {} (late or corrected usage): {}",
            restatement.period,
            changes.join(", ")
        ),
        quantity: Decimal::ONE,
        unit: "adjustment".to_owned(),
        unrounded: amount,
        amount,
    }
}

/// A draft made final at `now`.
pub fn finalize(mut invoice: Invoice, now: Timestamp) -> Invoice {
    assert_eq!(
        invoice.status,
        InvoiceStatus::Draft,
        "only drafts are finalized"
    );
    invoice.status = InvoiceStatus::Final;
    invoice.finalized_at = Some(now);
    invoice
}

/// Voids a final invoice at `now`: it stays on record, marked void, and the period's next
/// invoice is a new revision with a new number.
///
/// Panics if the invoice is not final (a draft is simply recomputed, never voided).
pub fn void(mut invoice: Invoice, now: Timestamp) -> Invoice {
    assert_eq!(
        invoice.status,
        InvoiceStatus::Final,
        "only final invoices are voided"
    );
    invoice.status = InvoiceStatus::Void;
    invoice.voided_at = Some(now);
    invoice
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanBook;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn request<'a>(
        book: &'a PlanBook,
        calls: i64,
        restatements: Vec<Restatement<'a>>,
    ) -> InvoiceRequest<'a> {
        let (start, end) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        InvoiceRequest {
            tenant_id: "acme".into(),
            period: "2026-11".into(),
            period_start: start,
            period_end: end,
            number: "acme-000002".into(),
            revision: 1,
            plans: vec![PlanPeriod {
                plan: book.plan("standard").unwrap(),
                from: start,
                until: end,
                proration: crate::Proration::FULL,
            }],
            quantities: BTreeMap::from([("api_calls".to_owned(), Decimal::from(calls))]),
            events: BTreeMap::from([("api_calls".to_owned(), 3)]),
            restatements,
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_bytes() {
        let book = PlanBook::defaults();
        let first = draft_invoice(request(&book, 600_000, Vec::new())).to_json();
        let second = draft_invoice(request(&book, 600_000, Vec::new())).to_json();
        assert_eq!(first, second);
        let different = draft_invoice(request(&book, 600_001, Vec::new())).to_json();
        assert_ne!(first, different);
    }

    #[test]
    fn a_restatement_bills_the_difference_of_the_two_ratings() {
        let book = PlanBook::defaults();
        let october = at("2026-10-01T00:00:00Z");
        let plans = vec![PlanPeriod {
            plan: book.plan("standard").unwrap(),
            from: october,
            until: at("2026-11-01T00:00:00Z"),
            proration: crate::Proration::FULL,
        }];
        let quantities =
            |calls: i64| BTreeMap::from([("api_calls".to_owned(), Decimal::from(calls))]);
        // Billed 500,000 calls: 400,000 beyond the free 100,000 × 0.0002 = 80.00. Now 550,000:
        // 90.00. The adjustment is 10.00, and the invoice total includes it.
        let restatement = Restatement {
            period: "2026-10".into(),
            plans,
            billed: quantities(500_000),
            current: quantities(550_000),
        };
        let invoice = draft_invoice(request(&book, 600_000, vec![restatement]));
        let adjustment = invoice.lines.last().unwrap();
        assert_eq!(adjustment.kind, LineKind::Adjustment);
        assert_eq!(adjustment.amount, Decimal::new(1000, 2));
        assert!(
            adjustment.description.contains("api_calls +50000"),
            "{}",
            adjustment.description
        );
        assert_eq!(
            invoice.total,
            invoice
                .lines
                .iter()
                .map(|line| line.amount)
                .sum::<Decimal>()
        );
        assert_eq!(invoice.restated["2026-10"], quantities(550_000));
    }

    #[test]
    fn finalizing_stamps_the_time_and_the_json_says_so() {
        let book = PlanBook::defaults();
        let invoice = finalize(
            draft_invoice(request(&book, 1, Vec::new())),
            at("2026-12-02T00:00:00Z"),
        );
        let json = String::from_utf8(invoice.to_json()).unwrap();
        assert!(json.contains("\"status\": \"final\""), "{json}");
        assert!(
            json.contains("\"finalized_at\": \"2026-12-02T00:00:00Z\""),
            "{json}"
        );
        assert!(
            json.contains("\"period_start\": \"2026-11-01T00:00:00Z\""),
            "{json}"
        );
    }
}
