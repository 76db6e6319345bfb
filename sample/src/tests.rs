//! Tests of whole plans: determinism, the contract of every line, coverage of every format and
//! refusal reason, and calendar edges.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_MINUTE};
use tally_schemas::{MeterCatalog, RejectReason, Timestamp, UsageEvent, parse_event};

use super::*;

/// The acceptance window of the default configuration (DESIGN.md, "Time, windows, lateness").
const MAX_EVENT_AGE_MILLIS: i64 = 35 * MILLIS_PER_DAY;
const MAX_AHEAD_MILLIS: i64 = 5 * MILLIS_PER_MINUTE;

fn instant(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// The default plan for October 2026, generated once for all tests.
fn october() -> &'static SamplePlan {
    static PLAN: OnceLock<SamplePlan> = OnceLock::new();
    PLAN.get_or_init(|| generate_month(instant("2026-10-01T00:00:00Z"), &SampleOptions::default()))
}

/// A good line of a run, parsed.
struct Good<'a> {
    run: usize,
    index: usize,
    line: &'a str,
    event: UsageEvent,
}

/// Every line of `plan` that is not an intended bad one, parsed; panics on any that fails.
fn good_lines(plan: &SamplePlan) -> Vec<Good<'_>> {
    let catalog = MeterCatalog::defaults();
    let mut good = Vec::new();
    for (run_index, run) in plan.runs.iter().enumerate() {
        let bad: HashSet<usize> = run.bad_lines.iter().map(|bad| bad.index).collect();
        for (index, line) in run.lines.iter().enumerate() {
            if bad.contains(&index) {
                continue;
            }
            let event = parse_event(line.as_bytes(), &catalog)
                .unwrap_or_else(|rejection| panic!("{}:{index} {line}: {rejection:?}", run.name));
            good.push(Good {
                run: run_index,
                index,
                line,
                event,
            });
        }
    }
    good
}

fn october_good() -> &'static [Good<'static>] {
    static GOOD: OnceLock<Vec<Good<'static>>> = OnceLock::new();
    GOOD.get_or_init(|| good_lines(october()))
}

#[test]
fn given_the_same_month_and_seed_then_the_plans_are_identical() {
    let again = generate_month(instant("2026-10-01T00:00:00Z"), &SampleOptions::default());
    assert!(again == *october(), "two generations differ");
    assert_eq!(stats(&again), stats(october()));
}

#[test]
fn given_another_seed_then_the_lines_differ() {
    let options = SampleOptions {
        seed: 2,
        ..SampleOptions::default()
    };
    let other = generate_month(instant("2026-10-01T00:00:00Z"), &options);
    assert_eq!(other.runs.len(), october().runs.len());
    for (mine, theirs) in october().runs.iter().zip(&other.runs) {
        assert_ne!(mine.lines, theirs.lines, "{}", mine.name);
    }
}

#[test]
fn every_good_line_is_accepted_within_the_window_of_its_run() {
    let plan = october();
    for good in october_good() {
        let now = plan.runs[good.run].now.as_millis();
        let at = good.event.event_time.as_millis();
        assert!(at <= now + MAX_AHEAD_MILLIS, "{}", good.line);
        assert!(now - at <= MAX_EVENT_AGE_MILLIS, "{}", good.line);
    }
    assert!(!october_good().is_empty());
}

#[test]
fn every_intended_bad_line_is_refused_for_its_reason() {
    let catalog = MeterCatalog::defaults();
    let mut reasons = BTreeSet::new();
    for run in &october().runs {
        for bad in &run.bad_lines {
            let line = &run.lines[bad.index];
            let parsed = parse_event(line.as_bytes(), &catalog);
            let now = run.now.as_millis();
            match (bad.reason, parsed) {
                // The age checks need the processing time, so the parser accepts these lines.
                (RejectReason::TooOld, Ok(event)) => {
                    assert!(
                        now - event.event_time.as_millis() > MAX_EVENT_AGE_MILLIS,
                        "{line}"
                    );
                }
                (RejectReason::InFuture, Ok(event)) => {
                    assert!(
                        event.event_time.as_millis() - now > MAX_AHEAD_MILLIS,
                        "{line}"
                    );
                }
                (reason, Err(rejection)) => assert_eq!(rejection.reason, reason, "{line}"),
                (reason, Ok(_)) => panic!("{line} was accepted, expected {reason}"),
            }
            reasons.insert(bad.reason);
        }
    }
    let expected = BTreeSet::from([
        RejectReason::InvalidJson,
        RejectReason::UnknownMetric,
        RejectReason::BadTenantId,
        RejectReason::InvalidValue,
        RejectReason::MissingField,
        RejectReason::InvalidTimestamp,
        RejectReason::MissingUserId,
        RejectReason::TooOld,
        RejectReason::InFuture,
        RejectReason::TooManyDimensions,
        RejectReason::BadEventId,
        RejectReason::BadCloudEvent,
    ]);
    assert_eq!(reasons, expected);
}

/// The timestamp text of a good line, with whether it came from a CloudEvent.
fn timestamp_text(line: &str) -> (String, bool) {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    match (&value["timestamp"], &value["time"]) {
        (serde_json::Value::String(text), _) => (text.clone(), false),
        (_, serde_json::Value::String(text)) => (text.clone(), true),
        _ => panic!("no timestamp in {line}"),
    }
}

fn timestamp_form(text: &str) -> &'static str {
    let bytes = text.as_bytes();
    match text.len() {
        19 => "naive, whole seconds",
        26 if bytes[19] == b'.' => "naive, microseconds",
        24 if text.ends_with('Z') => "UTC, milliseconds",
        29 if text.ends_with("+02:00") => "+02:00",
        29 if text.ends_with("-05:30") => "-05:30",
        29 => "other offset",
        _ => panic!("unexpected timestamp form {text}"),
    }
}

#[test]
fn every_timestamp_form_and_event_format_appears() {
    let mut forms: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut cloud_events, mut without_id) = (0, 0);
    for good in october_good() {
        let (text, cloud_event) = timestamp_text(good.line);
        *forms.entry(timestamp_form(&text)).or_default() += 1;
        cloud_events += usize::from(cloud_event);
        without_id += usize::from(good.event.event_id().is_none());
        if cloud_event {
            assert!(
                good.line.starts_with(r#"{"specversion":"1.0","id":"#),
                "{}",
                good.line
            );
        }
    }
    let total = october_good().len();
    for form in [
        "naive, whole seconds",
        "naive, microseconds",
        "UTC, milliseconds",
        "+02:00",
        "-05:30",
    ] {
        assert!(
            forms.get(form).is_some_and(|count| *count > 100),
            "{form}: {forms:?}"
        );
    }
    assert!(
        (total * 2 / 100..total * 4 / 100).contains(&cloud_events),
        "{cloud_events}"
    );
    assert!(
        (total * 2 / 100..total * 4 / 100).contains(&without_id),
        "{without_id}"
    );
}

#[test]
fn every_tenant_reports_every_meter() {
    let plan = october();
    assert_eq!(
        plan.tenants,
        ["acme", "globex", "initech", "umbrella", "hooli"]
    );
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for good in october_good() {
        seen.entry(good.event.tenant_id.as_str())
            .or_default()
            .insert(good.event.metric.as_str());
    }
    assert_eq!(seen.len(), plan.tenants.len());
    for (tenant, meters) in seen {
        assert_eq!(meters.len(), 5, "{tenant}: {meters:?}");
    }
}

#[test]
fn tenant_sizes_differ_about_tenfold() {
    let mut api_lines: BTreeMap<&str, usize> = BTreeMap::new();
    for good in october_good() {
        if good.event.metric == "api_calls" {
            *api_lines.entry(good.event.tenant_id.as_str()).or_default() += 1;
        }
    }
    let largest = api_lines["acme"];
    let smallest = api_lines["hooli"];
    assert!((7..=14).contains(&(largest / smallest)), "{api_lines:?}");
    // About 3000 calls a day for the largest tenant, fewer on weekends.
    assert!((2_200 * 31..3_200 * 31).contains(&largest), "{largest}");
}

#[test]
fn active_users_are_skewed_towards_a_few() {
    let mut per_user: BTreeMap<&str, usize> = BTreeMap::new();
    for good in october_good() {
        if good.event.metric == "active_users" && good.event.tenant_id.as_str() == "acme" {
            let user = good.event.dimensions["user_id"].as_str();
            *per_user.entry(user).or_default() += 1;
            assert!(good.event.dimensions.contains_key("region"));
        }
    }
    let mut counts: Vec<usize> = per_user.into_values().collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    assert!(*counts.last().unwrap() > 20 * median, "{counts:?}");
}

#[test]
fn stats_match_what_the_lines_show() {
    let plan = october();
    let stats = stats(plan);
    let lines: usize = plan.runs.iter().map(|run| run.lines.len()).sum();
    let bad: usize = plan.runs.iter().map(|run| run.bad_lines.len()).sum();
    let adjacent = plan
        .runs
        .iter()
        .flat_map(|run| run.lines.windows(2))
        .filter(|pair| pair[0] == pair[1])
        .count();
    assert_eq!((stats.lines, stats.bad_lines), (lines, bad));
    assert_eq!(stats.adjacent_duplicates, adjacent);
    let (resent, late) = recount_resent_and_late(plan, october_good());
    assert_eq!(stats.resent_duplicates, resent);
    assert_eq!(stats.late, late);
    // The documented rates, with room for chance.
    let rate = |count: usize| count * 10_000 / lines;
    assert!((40..=60).contains(&rate(bad)), "bad {bad} of {lines}");
    assert!((70..=130).contains(&rate(adjacent)), "adjacent {adjacent}");
    assert!((30..=70).contains(&rate(resent)), "resent {resent}");
    assert!((150..=250).contains(&rate(late)), "late {late}");
}

/// Re-sends: ids seen in an earlier run. Late: first copies dated before their run's day.
/// Within a run, an id appears once, or twice in a row.
fn recount_resent_and_late(plan: &SamplePlan, good_lines: &[Good<'_>]) -> (usize, usize) {
    let mut seen_before: HashSet<&str> = HashSet::new();
    let mut seen_this_run: HashSet<&str> = HashSet::new();
    let (mut resent, mut late, mut current_run) = (0, 0, 0);
    for good in good_lines {
        if good.run != current_run {
            seen_before.extend(seen_this_run.drain());
            current_run = good.run;
        }
        let run = &plan.runs[good.run];
        if good.index > 0 && run.lines[good.index - 1] == good.line {
            continue;
        }
        let day_start = run
            .now
            .plus_millis(-MILLIS_PER_DAY - 30 * MILLIS_PER_MINUTE);
        let days_before = (day_start.as_millis() - good.event.event_time.floor_day().as_millis())
            / MILLIS_PER_DAY;
        match good.event.event_id() {
            Some(id) if seen_before.contains(id) => {
                resent += 1;
                assert!(days_before <= 8, "{}", good.line);
            }
            _ if days_before > 0 => {
                late += 1;
                assert!(days_before <= 5, "{}", good.line);
            }
            _ => {}
        }
        if let Some(id) = good.event.event_id() {
            assert!(
                seen_this_run.insert(id),
                "{} repeats {id} in its run",
                run.name
            );
        }
    }
    (resent, late)
}

#[test]
fn a_month_at_scale_one_with_five_tenants_is_100_to_150_thousand_lines() {
    let lines = stats(october()).lines;
    assert!((100_000..=150_000).contains(&lines), "{lines}");
    assert!(
        october()
            .runs
            .iter()
            .all(|run| run.lines.iter().all(|line| !line.contains('\n')))
    );
}

#[test]
fn december_rolls_into_january() {
    let options = SampleOptions {
        seed: 5,
        tenants: 2,
        scale: 1,
    };
    let plan = generate_month(instant("2026-12-01T00:00:00Z"), &options);
    assert_eq!(plan.runs.len(), 31);
    assert_eq!(plan.runs[0].name, "day-01");
    assert_eq!(plan.runs[0].now, instant("2026-12-02T00:30:00Z"));
    assert_eq!(plan.runs[30].name, "day-31");
    assert_eq!(plan.runs[30].now, instant("2027-01-01T00:30:00Z"));
    let good = good_lines(&plan);
    for line in &good {
        let at = line.event.event_time;
        assert!(
            at >= plan.month_start && at < instant("2027-01-01T00:00:00Z"),
            "{}",
            line.line
        );
        assert!(
            line.event
                .event_id()
                .is_none_or(|id| id.contains("-202612-"))
        );
    }
    assert!(
        good.iter()
            .any(|line| line.event.event_time.date_string() == "2026-12-31")
    );
}

#[test]
fn february_has_one_run_per_day_in_common_and_leap_years() {
    let options = SampleOptions {
        seed: 9,
        tenants: 1,
        scale: 1,
    };
    for (month_start, days, last_now) in [
        ("2027-02-01T00:00:00Z", 28, "2027-03-01T00:30:00Z"),
        ("2028-02-01T00:00:00Z", 29, "2028-03-01T00:30:00Z"),
    ] {
        let plan = generate_month(instant(month_start), &options);
        assert_eq!(plan.runs.len(), days);
        assert_eq!(plan.runs.last().unwrap().now, instant(last_now));
        let good = good_lines(&plan);
        assert!(
            good.iter()
                .all(|line| line.event.event_time < instant(last_now))
        );
        assert!(plan.runs.iter().all(|run| !run.bad_lines.is_empty()));
    }
}

#[test]
fn more_tenants_get_numbered_ids_and_scale_multiplies_traffic() {
    let month_start = instant("2026-10-01T00:00:00Z");
    let options = |tenants, scale| SampleOptions {
        seed: 3,
        tenants,
        scale,
    };
    let seven = generate_month(month_start, &options(7, 1));
    assert_eq!(seven.tenants[5..], ["tenant-6", "tenant-7"]);
    let single = stats(&generate_month(month_start, &options(1, 1))).lines;
    let doubled = stats(&generate_month(month_start, &options(1, 2))).lines;
    assert!(
        (single * 18 / 10..single * 21 / 10).contains(&doubled),
        "{single} {doubled}"
    );
}

#[test]
#[should_panic(expected = "first instant of a UTC month")]
fn refuses_a_month_start_inside_the_month() {
    generate_month(instant("2026-10-02T00:00:00Z"), &SampleOptions::default());
}
