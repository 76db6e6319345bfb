//! Every way billing input can be refused, each naming where the bad input is and what to do.
//!
//! Plan-file errors read `file:line: field: problem`, the way compilers report, so an operator
//! can jump straight to the line. Broken invariants inside the crate are `assert!`s, not errors.

use rust_decimal::Decimal;
use tally_schemas::Timestamp;

/// The result of a fallible billing operation.
pub type Result<T, E = BillingError> = std::result::Result<T, E>;

/// Why billing input was refused.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// A plan file is not valid TOML.
    #[error("{origin}:{line}:{column}: {}", source.message())]
    PlanSyntax {
        /// The file the text came from.
        origin: String,
        /// The 1-based line of the error.
        line: usize,
        /// The 1-based column (in characters) of the error.
        column: usize,
        /// What the TOML parser said (boxed: it is large, and errors are the cold path).
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A plan file is valid TOML but breaks a rule of the plan format (see `PLANS.md`).
    #[error("{origin}:{line}: {field}: {problem}")]
    InvalidPlan {
        /// The file the text came from.
        origin: String,
        /// The 1-based line of the offending value (or of its table's header when it is missing).
        line: usize,
        /// Where in the file's structure, e.g. `plan "premium", charge "api_calls", tiers`.
        field: String,
        /// The rule that is broken.
        problem: PlanProblem,
    },
    /// A proration was asked for with seconds that do not describe part of a period.
    #[error(
        "cannot prorate {active_seconds} active seconds of a {period_seconds}-second period: \
         the period must be longer than zero and the active time within it"
    )]
    InvalidProration {
        /// Seconds the plan was active.
        active_seconds: i64,
        /// Seconds in the billing period.
        period_seconds: i64,
    },
}

/// The rule a plan file breaks; the `problem` of [`BillingError::InvalidPlan`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanProblem {
    /// A key the format does not define (often a typo).
    #[error("unknown field {key:?}; expected one of: {expected}")]
    UnknownField {
        /// The key as written.
        key: String,
        /// The keys allowed here, comma-separated.
        expected: String,
    },
    /// A key that exists in the format but not for this charge model.
    #[error(
        "field {key:?} is not used by model {model:?}; that model takes: {}",
        expected.join(", ")
    )]
    FieldNotForModel {
        /// The key as written.
        key: String,
        /// The charge's model.
        model: &'static str,
        /// The keys the model takes.
        expected: &'static [&'static str],
    },
    /// A required key is absent.
    #[error("missing field {key:?}")]
    MissingField {
        /// The key that is required.
        key: String,
    },
    /// A value of the wrong TOML type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the format wants here.
        expected: &'static str,
        /// The TOML type that was written.
        found: &'static str,
    },
    /// A TOML float, which cannot represent most prices exactly.
    #[error(
        "{text} is a TOML float, which cannot hold prices and quantities exactly; \
         quote the number as a decimal string, e.g. \"0.0002\""
    )]
    FloatNumber {
        /// The float as written.
        text: String,
    },
    /// A number that is not a plain decimal (digits, an optional `-`, an optional fraction).
    #[error("{text:?} is not a decimal number (write e.g. \"12\" or \"0.0002\"): {reason}")]
    MalformedNumber {
        /// The text as written.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A price, fee, size or quantity below zero.
    #[error("{value} is negative; prices, fees, sizes and quantities must be zero or more")]
    Negative {
        /// The value as read.
        value: Decimal,
    },
    /// A package size of zero.
    #[error("must be greater than zero")]
    NotPositive,
    /// A value beyond the limits of the format (see `crate::limits`).
    #[error("{value} is larger than the limit {limit}")]
    TooLarge {
        /// The value as read.
        value: Decimal,
        /// The largest value allowed here.
        limit: Decimal,
    },
    /// More fraction digits than the format keeps.
    #[error("{value} has more than {limit} fraction digits")]
    TooPrecise {
        /// The value as read.
        value: Decimal,
        /// The most fraction digits allowed.
        limit: u32,
    },
    /// A currency code not in the ISO 4217 table of `crate::currency`.
    #[error("unknown currency {code:?} (use an upper-case ISO 4217 code such as \"USD\")")]
    UnknownCurrency {
        /// The code as written.
        code: String,
    },
    /// A meter the meter catalog does not define.
    #[error("unknown meter {meter:?}; the meter catalog has: {known}")]
    UnknownMeter {
        /// The meter as written.
        meter: String,
        /// The catalog's meters, comma-separated.
        known: String,
    },
    /// A charge model name the format does not define.
    #[error("unknown model {model:?}; expected one of: flat, per_unit, graduated, volume, package")]
    UnknownModel {
        /// The model as written.
        model: String,
    },
    /// A usage charge needs a meter to read its quantity from.
    #[error("model {model:?} charges for usage and needs a meter")]
    MeterRequired {
        /// The charge's model.
        model: &'static str,
    },
    /// Two usage charges on one meter would each apply the included quantity.
    #[error("meter {meter:?} already has a usage charge in this plan")]
    DuplicateCharge {
        /// The meter charged twice.
        meter: String,
    },
    /// A graduated or volume charge without tiers.
    #[error("needs at least one tier")]
    NoTiers,
    /// A tier starts above where the previous one ends, leaving quantities unpriced.
    #[error("tier {tier} starts at {starts_at} but {previous} (gap)")]
    TierGap {
        /// The 1-based tier number.
        tier: usize,
        /// Where the tier says it starts.
        starts_at: Decimal,
        /// Where the previous tier ends, said as a phrase.
        previous: String,
    },
    /// A tier starts below where the previous one ends, pricing some quantities twice.
    #[error("tier {tier} starts at {starts_at} but {previous} (overlap)")]
    TierOverlap {
        /// The 1-based tier number.
        tier: usize,
        /// Where the tier says it starts.
        starts_at: Decimal,
        /// Where the previous tier ends, said as a phrase.
        previous: String,
    },
    /// A tier ends at or below where it starts.
    #[error("tier {tier} ends at {ends_at}, which is not above where it starts ({starts_at})")]
    TierNotIncreasing {
        /// The 1-based tier number.
        tier: usize,
        /// The tier's `up_to`.
        ends_at: Decimal,
        /// Where the tier starts.
        starts_at: Decimal,
    },
    /// A tier without `up_to` that is not the last.
    #[error("tier {tier} has no up_to (unbounded) but is not the last tier")]
    UnboundedTierNotLast {
        /// The 1-based tier number.
        tier: usize,
    },
    /// The last tier has an `up_to`, leaving quantities above it unpriced.
    #[error("the last tier (tier {tier}) ends at {ends_at}; leave out its up_to so it has no end")]
    LastTierBounded {
        /// The 1-based tier number.
        tier: usize,
        /// Its `up_to`.
        ends_at: Decimal,
    },
    /// A plan name that is empty, too long or has control characters.
    #[error("plan names must be 1-{limit} printable characters")]
    BadPlanName {
        /// The longest name allowed.
        limit: usize,
    },
    /// More entries than the format allows here.
    #[error("at most {limit} {what} are allowed")]
    TooMany {
        /// What is counted, e.g. "charges".
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A tenant id that breaks the tenant id rule.
    #[error("{reason}")]
    BadTenantId {
        /// The rule it breaks.
        reason: String,
    },
    /// A timestamp that is not RFC 3339 (or ISO 8601 without offset, read as UTC).
    #[error("{text:?} is not a timestamp: {reason}")]
    BadTimestamp {
        /// The value as written.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tenant assignment naming a plan neither the file nor the defaults define.
    #[error("unknown plan {plan:?}; defined plans: {known}")]
    UnknownPlan {
        /// The plan as written.
        plan: String,
        /// The defined plans, comma-separated.
        known: String,
    },
    /// An assignment whose `until` is not after its `from`.
    #[error("until ({until}) must be after from ({from})")]
    EmptyAssignment {
        /// The assignment's start.
        from: Timestamp,
        /// The assignment's end.
        until: Timestamp,
    },
    /// Two assignments of one tenant cover a common instant.
    #[error(
        "the tenant is already on plan {other_plan:?} from {other_from} until {} \
         (line {other_line}); assignments of one tenant must not overlap",
        other_until.map_or_else(|| "open end".to_owned(), |until| until.to_string())
    )]
    OverlappingAssignment {
        /// The plan of the other assignment.
        other_plan: String,
        /// The other assignment's start.
        other_from: Timestamp,
        /// The other assignment's end; `None` when it has none.
        other_until: Option<Timestamp>,
        /// The line of the other assignment's `from`.
        other_line: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_small_enough_to_return_by_value() {
        // Every fallible function returns this by value; clippy's large-error limit is 128.
        assert!(
            size_of::<BillingError>() <= 128,
            "{}",
            size_of::<BillingError>()
        );
    }
}
