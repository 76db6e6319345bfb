//! Exact splits: an amount divided into parts that are whole minor units and add up to the
//! amount exactly, with the leftover minor units given to the largest remainders.
//!
//! Rounding each part on its own can lose or invent a cent (three thirds of $1.00 round to
//! $0.99); largest remainder never does. The arithmetic is done in integers of minor units, so
//! it is exact or, far beyond any real invoice, panics rather than misallocate.

use rust_decimal::Decimal;

use crate::rating::round_to_minor_units;

/// Splits `total` in proportion to `weights` into amounts with `minor_units` fraction digits.
///
/// `total` is first rounded to minor units (with [`crate::rating::INVOICE_ROUNDING`]); every
/// part gets its proportional share rounded down, then the minor units still missing go one
/// each to the parts with the largest remainders, ties to the earlier part. The parts sum to
/// the rounded total exactly, and each is within one minor unit of its exact share. A negative
/// total is split as its magnitude, and every part negated.
///
/// # Panics
/// If `weights` is empty, has a negative weight or sums to zero, or if the total in minor units
/// times a weight (written as an integer at the weights' common scale) exceeds 128 bits
/// (about 1.7 × 10^38), far beyond any invoice.
pub fn split_largest_remainder(
    total: Decimal,
    weights: &[Decimal],
    minor_units: u32,
) -> Vec<Decimal> {
    assert!(!weights.is_empty(), "cannot split into no parts");
    assert!(
        weights
            .iter()
            .all(|weight| !weight.is_sign_negative() || weight.is_zero()),
        "weights must not be negative: {weights:?}"
    );
    let rounded_total = round_to_minor_units(total, minor_units);
    let total_minor = rounded_total.mantissa();
    let weights = integer_weights(weights);
    let weight_sum = weights
        .iter()
        .try_fold(0i128, |sum, weight| sum.checked_add(*weight))
        .expect("weights small enough to add");
    assert!(weight_sum > 0, "weights must not all be zero");
    // share_i = |total| × w_i / W, kept as quotient and remainder so nothing is rounded.
    let magnitude = total_minor.abs();
    let mut parts: Vec<(i128, i128)> = weights
        .iter()
        .map(|weight| {
            let product = magnitude
                .checked_mul(*weight)
                .expect("amount and weight small enough to split exactly");
            (product / weight_sum, product % weight_sum)
        })
        .collect();
    let floored: i128 = parts.iter().map(|(quotient, _)| quotient).sum();
    let leftover = usize::try_from(magnitude - floored).expect("the floors never exceed the total");
    // Fewer leftover minor units than parts: the remainders' sum is W × leftover with every
    // remainder below W.
    assert!(
        leftover < parts.len(),
        "at most one extra minor unit per part"
    );
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|left, right| parts[*right].1.cmp(&parts[*left].1).then(left.cmp(right)));
    for index in order.into_iter().take(leftover) {
        parts[index].0 += 1;
    }
    let sign = if total_minor < 0 { -1 } else { 1 };
    let split: Vec<Decimal> = parts
        .iter()
        .map(|(quotient, _)| Decimal::from_i128_with_scale(sign * quotient, minor_units))
        .collect();
    assert_eq!(
        split.iter().sum::<Decimal>(),
        rounded_total,
        "parts sum to the total"
    );
    split
}

/// Splits the `amount` of a whole period over consecutive parts of it lasting `part_seconds`
/// (which together must make up the period), in proportion to their seconds, exactly.
///
/// To prorate an amount to one part of a period, pass the inactive rest as another part and
/// ignore its share: the shares still add up to the whole amount.
///
/// # Panics
/// As [`split_largest_remainder`]: if there are no parts, a part is negative or all are zero.
pub fn prorate_split(amount: Decimal, part_seconds: &[i64], minor_units: u32) -> Vec<Decimal> {
    let weights: Vec<Decimal> = part_seconds
        .iter()
        .map(|seconds| Decimal::from(*seconds))
        .collect();
    split_largest_remainder(amount, &weights, minor_units)
}

/// The weights as integers of one common scale, so their ratios are exact.
fn integer_weights(weights: &[Decimal]) -> Vec<i128> {
    let scale = weights.iter().map(Decimal::scale).max().unwrap_or(0);
    weights
        .iter()
        .map(|weight| {
            10i128
                .checked_pow(scale - weight.scale())
                .and_then(|factor| weight.mantissa().checked_mul(factor))
                .expect("weights small enough to scale exactly")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn thirds_of_a_dollar_give_the_extra_cent_to_the_first_part() {
        // $1.00 in thirds: each exact share is 33.33… cents; floors 33 + 33 + 33 = 99, and the
        // one missing cent goes to the first of three equal remainders.
        let parts = split_largest_remainder(dec("1.00"), &[Decimal::ONE; 3], 2);
        assert_eq!(parts, [dec("0.34"), dec("0.33"), dec("0.33")]);
    }

    #[test]
    fn the_leftover_goes_to_the_largest_remainder_not_the_largest_part() {
        // $10.00 by weights 1 : 2 : 4 (sum 7): exact shares 142.857…, 285.714…, 571.428… cents.
        // Floors 142 + 285 + 571 = 998; remainders .857, .714, .428 take the 2 cents in that
        // order: 143, 286, 571.
        let parts = split_largest_remainder(dec("10"), &[dec("1"), dec("2"), dec("4")], 2);
        assert_eq!(parts, [dec("1.43"), dec("2.86"), dec("5.71")]);
    }

    #[test]
    fn a_november_fee_split_on_the_10th_at_noon() {
        // November has 2,592,000 s; the 10th at noon cuts it at 9.5 days = 820,800 s.
        // $49 × 820,800 / 2,592,000 = 15.5166… → 15.51 + remainder; 49 × 1,771,200 / 2,592,000
        // = 33.4833… → 33.48. Floors sum to 48.99; the larger remainder (.66 of a cent) gets it.
        let parts = prorate_split(dec("49"), &[820_800, 1_771_200], 2);
        assert_eq!(parts, [dec("15.52"), dec("33.48")]);
    }

    #[test]
    fn negative_totals_and_zero_digit_currencies_split_exactly() {
        let parts = split_largest_remainder(dec("-100"), &[Decimal::ONE; 3], 0);
        assert_eq!(parts, [dec("-34"), dec("-33"), dec("-33")]);
        let parts = split_largest_remainder(dec("0.005"), &[dec("0.5"), dec("0.25")], 3);
        assert_eq!(parts, [dec("0.003"), dec("0.002")]);
        assert_eq!(
            split_largest_remainder(dec("7"), &[dec("0"), dec("3")], 2),
            [dec("0"), dec("7")]
        );
    }

    proptest! {
        #[test]
        fn parts_sum_exactly_and_stay_within_a_minor_unit_of_their_share(
            cents in -10_000_000_000i64..10_000_000_000,
            weights in proptest::collection::vec(0u32..1_000_000, 1..12),
        ) {
            prop_assume!(weights.iter().any(|weight| *weight > 0));
            let total = Decimal::new(cents, 2);
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let parts = split_largest_remainder(total, &weights, 2);
            prop_assert_eq!(parts.iter().sum::<Decimal>(), total);
            let weight_sum: Decimal = weights.iter().sum();
            for (part, weight) in parts.iter().zip(&weights) {
                let share = total * weight / weight_sum;
                prop_assert!((*part - share).abs() < Decimal::new(1, 2), "{} vs {}", part, share);
            }
        }
    }
}
