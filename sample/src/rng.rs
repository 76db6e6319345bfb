//! A small seeded pseudo-random generator: SplitMix64, integers only.
//!
//! Integer arithmetic only, so a seed gives the same numbers on every platform and compiler;
//! floating-point library functions (`exp`, `powf`) may differ in their last bit between
//! platforms and are avoided on purpose.

/// The SplitMix64 increment: the odd integer nearest 2^64 divided by the golden ratio.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective 64-bit mixer.
fn mix(value: u64) -> u64 {
    let value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// A deterministic stream of pseudo-random numbers.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// The stream for `seed` and a path of labels (say day, tenant, meter).
    ///
    /// Each part of the plan draws from its own stream, so changing how one meter is generated
    /// leaves the lines of every other meter as they were.
    pub fn for_stream(seed: u64, labels: &[u64]) -> Rng {
        let mut state = mix(seed ^ GOLDEN_GAMMA);
        for label in labels {
            state = mix(state ^ mix(label.wrapping_add(GOLDEN_GAMMA)));
        }
        Rng { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix(self.state)
    }

    /// A number in `0..bound`, by multiply-and-shift (its bias, below 2^-40 for our bounds,
    /// does not matter for sample data).
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "the bound of a random draw must be positive");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        low + self.below(high - low + 1)
    }

    /// True with a probability of `chance` in a thousand.
    pub fn per_mille(&mut self, chance: u64) -> bool {
        self.below(1_000) < chance
    }

    /// One item of a non-empty slice, uniformly.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index into `weights`, drawn in proportion to its weight.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut target = self.below(total);
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        unreachable!("the target is below the total of the weights")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_seed_when_drawn_twice_then_the_streams_are_equal() {
        let first: Vec<u64> = (0..8)
            .scan(Rng::for_stream(7, &[1, 2]), |rng, _| Some(rng.next_u64()))
            .collect();
        let second: Vec<u64> = (0..8)
            .scan(Rng::for_stream(7, &[1, 2]), |rng, _| Some(rng.next_u64()))
            .collect();
        assert_eq!(first, second);
    }

    #[test]
    fn given_different_labels_then_the_streams_differ() {
        let mut one = Rng::for_stream(7, &[1, 2]);
        let mut other = Rng::for_stream(7, &[2, 1]);
        let mut seeded = Rng::for_stream(8, &[1, 2]);
        let first = one.next_u64();
        assert_ne!(first, other.next_u64());
        assert_ne!(first, seeded.next_u64());
    }

    #[test]
    fn draws_stay_in_range_and_cover_it() {
        let mut rng = Rng::for_stream(1, &[]);
        let mut seen = [0u32; 6];
        for _ in 0..6_000 {
            let value = rng.between(5, 10);
            assert!((5..=10).contains(&value));
            seen[(value - 5) as usize] += 1;
        }
        assert!(
            seen.iter().all(|count| (800..1_200).contains(count)),
            "{seen:?}"
        );
    }

    #[test]
    fn weighted_draws_follow_the_weights() {
        let mut rng = Rng::for_stream(3, &[]);
        let mut seen = [0u32; 3];
        for _ in 0..10_000 {
            seen[rng.weighted(&[1, 0, 9])] += 1;
        }
        assert_eq!(seen[1], 0);
        assert!((700..1_300).contains(&seen[0]), "{seen:?}");
    }
}
