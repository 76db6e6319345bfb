//! Tally's pure billing core: price plans as data, rating of a period's quantities into invoice
//! lines, proration by the second, and exact splitting of amounts.
//!
//! Money is `rust_decimal::Decimal` throughout and never a float. Every rounding site names its
//! strategy ([`rating::INVOICE_ROUNDING`]), every line keeps its unrounded amount, and every
//! total is exactly the sum of its rounded parts. Nothing here reads a file, the network, the
//! environment or the clock: plan text, quantities and instants are passed in.

#![warn(missing_docs)]

pub mod allocation;
pub mod currency;
pub mod error;
pub mod html;
pub mod invoice;
pub mod limits;
pub mod plan;
pub mod proration;
pub mod quantity;
pub mod rating;

pub use allocation::{prorate_split, split_largest_remainder};
pub use currency::Currency;
pub use error::{BillingError, PlanProblem, Result};
pub use plan::{Charge, ChargeModel, PlanBook, PlanPeriod, PricePlan, TenantPlan, Tier};
pub use proration::Proration;
pub use quantity::{gb_months, hours_in_month};
pub use rating::{INVOICE_ROUNDING, LineKind, RatedLine, Rating, rate, round_to_minor_units};
