//! The limits of the plan format, as named constants shared by the plan reader, its tests and
//! `PLANS.md`. They keep every amount far inside what `Decimal` holds exactly (28 digits).

/// Largest plan file accepted, in bytes.
pub const MAX_PLAN_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Most plans one file may define.
pub const MAX_PLANS: usize = 1_000;
/// Most charges one plan may have.
pub const MAX_CHARGES_PER_PLAN: usize = 64;
/// Most tiers one graduated or volume charge may have.
pub const MAX_TIERS: usize = 32;
/// Most tenant plan assignments one file may hold.
pub const MAX_TENANT_ASSIGNMENTS: usize = 100_000;
/// Longest plan name, in characters.
pub const MAX_PLAN_NAME_CHARS: usize = 64;
/// Largest price, fee or minimum commitment, in major units (10^9).
pub const MAX_PRICE: i64 = 1_000_000_000;
/// Largest tier bound, included quantity or package size (10^15).
pub const MAX_QUANTITY: i64 = 1_000_000_000_000_000;
/// Most fraction digits of any number in a plan file.
pub const MAX_FRACTION_DIGITS: u32 = 12;
