//! What the sample tenants use in one day, before it is encoded: API traffic with a daily
//! cycle, storage gauge samples, compute jobs and user activity.

use tally_schemas::time::MILLIS_PER_DAY;

use crate::json::{MICROS_PER_MILLI, MICROS_PER_SECOND, NANOS_PER_UNIT};
use crate::rng::Rng;
use crate::tenant::Tenant;

/// Microseconds in one hour.
const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
/// Microseconds in one day.
const MICROS_PER_DAY: i64 = MILLIS_PER_DAY * MICROS_PER_MILLI;

/// API calls of the largest tenant on a weekday at scale 1.
const API_CALLS_PER_WEEKDAY: u64 = 2_600;
/// Jobs (each reporting CPU and memory) of the largest tenant on a weekday at scale 1.
const JOBS_PER_WEEKDAY: u64 = 40;
/// User activity events of the largest tenant on a weekday at scale 1.
const USER_EVENTS_PER_WEEKDAY: u64 = 150;
/// Weekend traffic relative to a weekday, in thousandths.
const WEEKEND_PERMILLE: u64 = 600;
/// The label of the streams of a day's usage (with day, tenant and meter).
const STREAM_USAGE: u64 = 1;
/// The label of the stream of a tenant's initial storage level.
const STREAM_STORAGE_START: u64 = 2;
/// Hours between two storage gauge samples.
const STORAGE_SAMPLE_HOURS: i64 = 6;

/// Relative activity per local hour of the day, 0 to 23: quiet nights, a morning ramp and a
/// long working-day plateau.
const HOURLY_ACTIVITY: [u64; 24] = [
    18, 12, 10, 9, 9, 12, 22, 40, 65, 85, 95, 92, 80, 88, 95, 92, 82, 66, 50, 42, 38, 33, 28, 22,
];

/// API endpoints with their method and relative traffic.
const ENDPOINTS: [(&str, &str, u64); 6] = [
    ("/v1/orders", "GET", 30),
    ("/v1/orders", "POST", 8),
    ("/v1/search", "GET", 25),
    ("/v1/customers/{id}", "GET", 20),
    ("/v1/invoices", "GET", 10),
    ("/v1/webhooks", "POST", 7),
];

/// The meters of the default catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Meter {
    /// `api_calls`.
    ApiCalls,
    /// `storage_gb`.
    StorageGb,
    /// `cpu_hours`.
    CpuHours,
    /// `memory_gb_hours`.
    MemoryGbHours,
    /// `active_users`.
    ActiveUsers,
}

impl Meter {
    /// Every meter, in catalog order.
    pub(crate) const ALL: [Meter; 5] = [
        Meter::ApiCalls,
        Meter::StorageGb,
        Meter::CpuHours,
        Meter::MemoryGbHours,
        Meter::ActiveUsers,
    ];

    /// The metric name of the catalog.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Meter::ApiCalls => "api_calls",
            Meter::StorageGb => "storage_gb",
            Meter::CpuHours => "cpu_hours",
            Meter::MemoryGbHours => "memory_gb_hours",
            Meter::ActiveUsers => "active_users",
        }
    }

    /// The short tag in event ids (`acme-api-...`).
    pub(crate) fn id_tag(self) -> &'static str {
        match self {
            Meter::ApiCalls => "api",
            Meter::StorageGb => "storage",
            Meter::CpuHours => "cpu",
            Meter::MemoryGbHours => "mem",
            Meter::ActiveUsers => "users",
        }
    }

    /// The CloudEvents `source` of the service that reports this meter.
    pub(crate) fn source(self) -> &'static str {
        match self {
            Meter::ApiCalls => "/svc/api",
            Meter::StorageGb => "/svc/storage",
            Meter::CpuHours | Meter::MemoryGbHours => "/svc/jobs",
            Meter::ActiveUsers => "/svc/auth",
        }
    }

    /// The position in [`Meter::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// How much was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quantity {
    /// One: the default of `api_calls` and `active_users`, so producers may leave it out.
    One,
    /// A whole count above one.
    Count(u64),
    /// An amount in nanounits (10^-9), written as a decimal.
    Nanos(u64),
}

/// One usage event before encoding.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// The index of the tenant in the roster.
    pub(crate) tenant: usize,
    /// What was used.
    pub(crate) meter: Meter,
    /// When, in microseconds since the Unix epoch (producers write microseconds).
    pub(crate) at_micros: i64,
    /// How much.
    pub(crate) quantity: Quantity,
    /// String attributes, in the order the producer writes them.
    pub(crate) dimensions: Vec<(&'static str, String)>,
}

/// The usage of every tenant, day after day; carries the state that spans days.
pub(crate) struct Usage<'a> {
    seed: u64,
    scale: u64,
    tenants: &'a [Tenant],
    /// Each tenant's stored data, in hundredths of a GB.
    storage_centi_gb: Vec<u64>,
    /// Each tenant's jobs so far, to name them.
    jobs_started: Vec<u64>,
}

impl<'a> Usage<'a> {
    /// The usage of `tenants` at `scale`, drawn from `seed`.
    pub(crate) fn new(seed: u64, scale: u32, tenants: &'a [Tenant]) -> Usage<'a> {
        let storage_centi_gb = tenants
            .iter()
            .enumerate()
            .map(|(index, tenant)| {
                let mut rng = Rng::for_stream(seed, &[STREAM_STORAGE_START, index as u64]);
                // The largest tenant starts between 600 and 1000 GB, the others in proportion.
                rng.between(60_000, 100_000) * tenant.weight_permille / 1_000
            })
            .collect();
        Usage {
            seed,
            scale: u64::from(scale),
            tenants,
            storage_centi_gb,
            jobs_started: vec![0; tenants.len()],
        }
    }

    /// Every event of day `day` (0-based) of the month, starting at `day_start_micros`, in
    /// time order.
    pub(crate) fn day(&mut self, day: u32, day_start_micros: i64) -> Vec<Event> {
        let weekend = is_weekend(day_start_micros);
        let mut events = Vec::new();
        for tenant in 0..self.tenants.len() {
            let seed = self.seed;
            let stream = |meter: Meter| {
                let labels = [STREAM_USAGE, u64::from(day), tenant as u64, meter as u64];
                Rng::for_stream(seed, &labels)
            };
            let day = DayContext {
                tenant,
                start_micros: day_start_micros,
                weekend,
            };
            self.api_calls(&day, &mut stream(Meter::ApiCalls), &mut events);
            self.storage(&day, &mut stream(Meter::StorageGb), &mut events);
            self.jobs(&day, &mut stream(Meter::CpuHours), &mut events);
            self.active_users(&day, &mut stream(Meter::ActiveUsers), &mut events);
        }
        // A stable sort keeps equal instants in generation order, so the output is fixed.
        events.sort_by_key(|event| event.at_micros);
        events
    }

    /// How many events of a kind a tenant sends in a day: its size, the scale, fewer on
    /// weekends, and ±10% from day to day.
    fn daily_count(&self, weekday_count: u64, day: &DayContext, rng: &mut Rng) -> u64 {
        let weekday = if day.weekend { WEEKEND_PERMILLE } else { 1_000 };
        let noise = rng.between(900, 1_100);
        let weight = self.tenants[day.tenant].weight_permille;
        weekday_count * self.scale * weight * weekday * noise / 1_000_000_000
    }

    fn api_calls(&self, day: &DayContext, rng: &mut Rng, events: &mut Vec<Event>) {
        let tenant = &self.tenants[day.tenant];
        let weights: Vec<u64> = ENDPOINTS.iter().map(|endpoint| endpoint.2).collect();
        for _ in 0..self.daily_count(API_CALLS_PER_WEEKDAY, day, rng) {
            // Most calls are metered one by one; a few clients report batches.
            let quantity = if rng.per_mille(80) {
                Quantity::Count(rng.between(5, 50))
            } else {
                Quantity::One
            };
            let (path, method, _) = ENDPOINTS[rng.weighted(&weights)];
            let dimensions = if rng.per_mille(100) {
                Vec::new()
            } else {
                vec![
                    ("endpoint", path.to_owned()),
                    ("method", method.to_owned()),
                    ("region", tenant.region.to_owned()),
                ]
            };
            events.push(Event {
                tenant: day.tenant,
                meter: Meter::ApiCalls,
                at_micros: day.time_of_activity(tenant, rng),
                quantity,
                dimensions,
            });
        }
    }

    fn storage(&mut self, day: &DayContext, rng: &mut Rng, events: &mut Vec<Event>) {
        let tenant = &self.tenants[day.tenant];
        let level = &mut self.storage_centi_gb[day.tenant];
        for sample in 0..24 / STORAGE_SAMPLE_HOURS {
            // Data grows a little between samples; now and then a cleanup frees some.
            if rng.per_mille(15) {
                *level -= *level * rng.between(5, 50) / 1_000;
            } else {
                *level += *level * rng.between(0, 12) / 10_000 + rng.between(0, 99);
            }
            // The sampler fires on the hour and reports whole seconds.
            let jitter_micros = rng.between(0, 89) as i64 * MICROS_PER_SECOND;
            events.push(Event {
                tenant: day.tenant,
                meter: Meter::StorageGb,
                at_micros: day.start_micros
                    + sample * STORAGE_SAMPLE_HOURS * MICROS_PER_HOUR
                    + jitter_micros,
                quantity: Quantity::Nanos(*level * (NANOS_PER_UNIT / 100)),
                dimensions: vec![
                    ("bucket", format!("{}-data", tenant.id)),
                    ("storage_class", "standard".to_owned()),
                ],
            });
        }
    }

    fn jobs(&mut self, day: &DayContext, rng: &mut Rng, events: &mut Vec<Event>) {
        let tenant = &self.tenants[day.tenant];
        for _ in 0..self.daily_count(JOBS_PER_WEEKDAY, day, rng) {
            self.jobs_started[day.tenant] += 1;
            let job_id = format!("job-{:06}", self.jobs_started[day.tenant]);
            let (cpu_nanos, memory_nanos, runner) = job_footprint(rng);
            let at_micros = day.time_of_activity(tenant, rng);
            // A finished job reports its CPU and its memory at the same instant.
            for (meter, nanos) in [
                (Meter::CpuHours, cpu_nanos),
                (Meter::MemoryGbHours, memory_nanos),
            ] {
                events.push(Event {
                    tenant: day.tenant,
                    meter,
                    at_micros,
                    quantity: Quantity::Nanos(nanos),
                    dimensions: vec![
                        ("job_id", job_id.clone()),
                        ("runner", runner.to_owned()),
                        ("region", tenant.region.to_owned()),
                    ],
                });
            }
        }
    }

    fn active_users(&self, day: &DayContext, rng: &mut Rng, events: &mut Vec<Event>) {
        let tenant = &self.tenants[day.tenant];
        for _ in 0..self.daily_count(USER_EVENTS_PER_WEEKDAY, day, rng) {
            let user = tenant.draw_user(rng);
            let client = *rng.pick(&["web", "web", "ios", "android"]);
            events.push(Event {
                tenant: day.tenant,
                meter: Meter::ActiveUsers,
                at_micros: day.time_of_activity(tenant, rng),
                quantity: Quantity::One,
                dimensions: vec![
                    ("user_id", format!("u-{:05}", user + 1)),
                    ("region", tenant.region.to_owned()),
                    ("client", client.to_owned()),
                ],
            });
        }
    }
}

/// The day a tenant's events are drawn for.
struct DayContext {
    tenant: usize,
    start_micros: i64,
    weekend: bool,
}

impl DayContext {
    /// An instant of this UTC day, busier in the tenant's local working hours; a few producers
    /// truncate to whole seconds.
    fn time_of_activity(&self, tenant: &Tenant, rng: &mut Rng) -> i64 {
        let local_hour = rng.weighted(&HOURLY_ACTIVITY) as i64;
        let local_micros = local_hour * MICROS_PER_HOUR + rng.below(MICROS_PER_HOUR as u64) as i64;
        let offset_micros = i64::from(tenant.offset_minutes) * 60 * MICROS_PER_SECOND;
        let mut in_day = (local_micros - offset_micros).rem_euclid(MICROS_PER_DAY);
        if rng.per_mille(30) {
            in_day -= in_day % MICROS_PER_SECOND;
        }
        self.start_micros + in_day
    }
}

/// Whether the UTC day starting at `day_start_micros` is a Saturday or a Sunday.
fn is_weekend(day_start_micros: i64) -> bool {
    // 1970-01-01 was a Thursday: shifting by 3 makes Monday 0.
    let weekday = (day_start_micros.div_euclid(MICROS_PER_DAY) + 3).rem_euclid(7);
    weekday >= 5
}

/// The CPU and memory a job used, in nanounits of vCPU-hours and GB-hours, and what ran it.
fn job_footprint(rng: &mut Rng) -> (u64, u64, &'static str) {
    if rng.per_mille(200) {
        // A function invocation: a sliver of a vCPU-hour, to the nanounit.
        return (
            rng.between(1_000, 999_999),
            rng.between(10_000, 9_999_999),
            "function",
        );
    }
    let (vcpu_quarters, memory_halves, runner) = *rng.pick(&[
        (1, 1, "t4g.nano"),
        (2, 2, "t4g.micro"),
        (4, 4, "m7g.medium"),
        (8, 16, "m7g.large"),
        (16, 32, "m7g.xlarge"),
    ]);
    let duration_quarter_hours = rng.between(1, 32);
    // vCPU-hours = vcpu_quarters/4 × quarters/4; GB-hours = memory_halves/2 × quarters/4.
    let cpu_nanos = vcpu_quarters * duration_quarter_hours * (NANOS_PER_UNIT / 16);
    let memory_nanos = memory_halves * duration_quarter_hours * (NANOS_PER_UNIT / 8);
    (cpu_nanos, memory_nanos, runner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::roster;

    #[test]
    fn the_daily_cycle_peaks_in_local_working_hours() {
        let tenants = roster(5);
        let mut usage = Usage::new(4, 1, &tenants);
        // 2026-10-05 is a Monday.
        let start = crate::json::micros_of(
            tally_schemas::Timestamp::parse("2026-10-05T00:00:00Z").unwrap(),
        );
        let events = usage.day(4, start);
        let mut per_local_hour = [0u32; 24];
        for event in events
            .iter()
            .filter(|event| event.tenant == 0 && event.meter == Meter::ApiCalls)
        {
            let local = event.at_micros - start
                + i64::from(tenants[0].offset_minutes) * 60 * MICROS_PER_SECOND;
            per_local_hour[(local.rem_euclid(MICROS_PER_DAY) / MICROS_PER_HOUR) as usize] += 1;
        }
        assert!(
            per_local_hour[14] > 5 * per_local_hour[3],
            "{per_local_hour:?}"
        );
        assert!(
            events
                .windows(2)
                .all(|pair| pair[0].at_micros <= pair[1].at_micros)
        );
    }

    #[test]
    fn weekends_are_quieter() {
        let saturday = crate::json::micros_of(
            tally_schemas::Timestamp::parse("2026-10-03T00:00:00Z").unwrap(),
        );
        assert!(is_weekend(saturday));
        assert!(is_weekend(saturday + MICROS_PER_DAY));
        assert!(!is_weekend(saturday + 2 * MICROS_PER_DAY));
    }
}
