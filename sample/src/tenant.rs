//! The sample tenants: their ids, relative sizes, home regions, the offsets their producers
//! write local times in, and their pools of users.

use crate::rng::Rng;

/// The first tenants' ids; later tenants are `tenant-6`, `tenant-7`, ...
const NAMED_TENANTS: [&str; 5] = ["acme", "globex", "initech", "umbrella", "hooli"];

/// Where tenants run and the UTC offset (minutes) of their producers' local clocks. Whole and
/// half-hour offsets on both sides of UTC, so every offset form reaches the parser.
const HOMES: [(&str, i32); 5] = [
    ("us-east-1", -300),
    ("eu-central-1", 120),
    ("us-east-2", -330),
    ("ap-south-1", 330),
    ("us-west-2", -480),
];

/// The size of the largest tenant, in thousandths; the smallest is a tenth of it.
pub(crate) const LARGEST_WEIGHT_PERMILLE: u64 = 1_000;

/// Users of the smallest and the largest tenant's pool.
const USER_POOL_RANGE: (u64, u64) = (200, 2_000);

/// One sample tenant.
#[derive(Clone, Debug)]
pub(crate) struct Tenant {
    /// The tenant id.
    pub(crate) id: String,
    /// The tenant's size relative to the largest, in thousandths (1000 down to 100).
    pub(crate) weight_permille: u64,
    /// The tenant's home region, written as a dimension.
    pub(crate) region: &'static str,
    /// The UTC offset of its producers' clocks, in minutes; also shifts its daily cycle.
    pub(crate) offset_minutes: i32,
    /// Cumulative Zipf weights of its users: user `k` (from 0) weighs `1/(k+1)`.
    user_cumulative_weights: Vec<u64>,
}

impl Tenant {
    /// The number of users in the tenant's pool.
    #[cfg(test)]
    pub(crate) fn user_count(&self) -> usize {
        self.user_cumulative_weights.len()
    }

    /// A user index, drawn with a Zipf-like skew: a few users are active all the time, most
    /// rarely, as in a real product.
    pub(crate) fn draw_user(&self, rng: &mut Rng) -> usize {
        let total = *self
            .user_cumulative_weights
            .last()
            .expect("a user pool is never empty");
        let target = rng.below(total);
        self.user_cumulative_weights
            .partition_point(|cumulative| *cumulative <= target)
    }
}

/// The tenants of a plan, largest first.
pub(crate) fn roster(count: usize) -> Vec<Tenant> {
    (0..count).map(|index| tenant(index, count)).collect()
}

fn tenant(index: usize, count: usize) -> Tenant {
    let id = match NAMED_TENANTS.get(index) {
        Some(name) => (*name).to_owned(),
        None => format!("tenant-{}", index + 1),
    };
    let weight_permille = weight_permille(index, count);
    let (region, offset_minutes) = HOMES[index % HOMES.len()];
    let (smallest, largest) = USER_POOL_RANGE;
    let users = smallest + (largest - smallest) * (weight_permille - 100) / 900;
    Tenant {
        id,
        weight_permille,
        region,
        offset_minutes,
        user_cumulative_weights: zipf_cumulative_weights(users as usize),
    }
}

/// Sizes fall as `1 / (1 + 9x)` for `x` from 0 (largest) to 1 (smallest): a few big tenants
/// and a long tail, exactly 10x between the ends, in integer arithmetic.
fn weight_permille(index: usize, count: usize) -> u64 {
    if count <= 1 {
        return LARGEST_WEIGHT_PERMILLE;
    }
    let span = (count - 1) as u64;
    LARGEST_WEIGHT_PERMILLE * span / (span + 9 * index as u64)
}

fn zipf_cumulative_weights(users: usize) -> Vec<u64> {
    // Integer weights 10^9 / rank keep the draw free of floating point.
    let mut total = 0;
    (1..=users as u64)
        .map(|rank| {
            total += 1_000_000_000 / rank;
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_then_numbered_tenants_ten_times_apart() {
        let tenants = roster(7);
        let ids: Vec<&str> = tenants.iter().map(|tenant| tenant.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "acme", "globex", "initech", "umbrella", "hooli", "tenant-6", "tenant-7"
            ]
        );
        assert_eq!(tenants[0].weight_permille, 1_000);
        assert_eq!(tenants[6].weight_permille, 100);
        assert!(
            tenants
                .windows(2)
                .all(|pair| pair[0].weight_permille > pair[1].weight_permille)
        );
        assert_eq!(roster(1)[0].weight_permille, 1_000);
    }

    #[test]
    fn users_are_skewed_towards_the_first_ones() {
        let tenant = &roster(5)[0];
        let mut rng = Rng::for_stream(9, &[]);
        let mut counts = vec![0u32; tenant.user_count()];
        for _ in 0..20_000 {
            counts[tenant.draw_user(&mut rng)] += 1;
        }
        assert!(
            counts[0] > 10 * counts[100],
            "{} vs {}",
            counts[0],
            counts[100]
        );
        assert!(counts[0] > 1_000);
    }
}
