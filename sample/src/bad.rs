//! Lines a careless producer sends: one kind for each reason the contract refuses an event.
//!
//! Each bad line breaks exactly one rule and is valid otherwise, so the reason the pipeline
//! gives is the one named here whatever order it checks the fields in.

use tally_schemas::RejectReason;
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_HOUR, Timestamp};

use crate::json::{JsonObject, TimeForm, format_time, micros_of, quote, string_object};
use crate::rng::Rng;

/// The kinds of bad lines, cycled through so that every reason appears in every plan.
const KINDS: [Kind; 14] = [
    Kind::Truncated,
    Kind::UnknownMetric,
    Kind::PathInTenantId,
    Kind::SpaceInTenantId,
    Kind::NegativeValue,
    Kind::NonNumericValue,
    Kind::MissingTimestamp,
    Kind::UnparseableTimestamp,
    Kind::ActiveUserWithoutUserId,
    Kind::TooOld,
    Kind::InFuture,
    Kind::TooManyDimensions,
    Kind::EmptyEventId,
    Kind::OldCloudEventVersion,
];

/// Metrics producers misspell or invent.
const UNKNOWN_METRICS: [&str; 3] = ["api_call", "gpu_seconds", "bandwidth_gb"];
/// Values that are not numbers.
const NON_NUMERIC_VALUES: [&str; 3] = ["lots", "1.5 hours", "NaN"];

/// How far before the run's `now` a too-old event is dated (the limit is 35 days).
const TOO_OLD_DAYS: i64 = 40;
/// How far after the run's `now` an event from the future is dated (the limit is 5 minutes).
const IN_FUTURE_HOURS: i64 = 1;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Truncated,
    UnknownMetric,
    PathInTenantId,
    SpaceInTenantId,
    NegativeValue,
    NonNumericValue,
    MissingTimestamp,
    UnparseableTimestamp,
    ActiveUserWithoutUserId,
    TooOld,
    InFuture,
    TooManyDimensions,
    EmptyEventId,
    OldCloudEventVersion,
}

/// Where and when a bad line is sent.
pub(crate) struct BadContext<'a> {
    /// The (valid) tenant id the producer meant to send.
    pub(crate) tenant_id: &'a str,
    /// A unique id for the line, for the kinds that carry one.
    pub(crate) event_id: String,
    /// When the usage happened, in microseconds since the Unix epoch.
    pub(crate) at_micros: i64,
    /// The processing time of the run the line arrives in.
    pub(crate) now: Timestamp,
}

/// The bad line number `ordinal` of the month, and the reason it is refused for.
pub(crate) fn bad_line(
    ordinal: u64,
    context: &BadContext<'_>,
    rng: &mut Rng,
) -> (String, RejectReason) {
    let kind = KINDS[(ordinal % KINDS.len() as u64) as usize];
    let mut draft = Draft::valid(context);
    let reason = match kind {
        Kind::Truncated => return truncated(&draft, rng),
        Kind::OldCloudEventVersion => return old_cloud_event(context),
        Kind::MissingTimestamp | Kind::UnparseableTimestamp | Kind::TooOld | Kind::InFuture => {
            misdate(kind, &mut draft, context, rng)
        }
        _ => break_field(kind, &mut draft, context, rng),
    };
    (draft.render(), reason)
}

/// Breaks the rule of a field other than the timestamp.
fn break_field(
    kind: Kind,
    draft: &mut Draft,
    context: &BadContext<'_>,
    rng: &mut Rng,
) -> RejectReason {
    match kind {
        Kind::UnknownMetric => {
            draft.metric = quote(rng.pick::<&str>(&UNKNOWN_METRICS));
            RejectReason::UnknownMetric
        }
        Kind::PathInTenantId => {
            draft.tenant_id = quote("../etc");
            RejectReason::BadTenantId
        }
        Kind::SpaceInTenantId => {
            draft.tenant_id = quote(&format!("{} corp", context.tenant_id));
            RejectReason::BadTenantId
        }
        Kind::NegativeValue => {
            draft.metric = quote("cpu_hours");
            draft.value = Some("-0.5".to_owned());
            RejectReason::InvalidValue
        }
        Kind::NonNumericValue => {
            draft.metric = quote("cpu_hours");
            draft.value = Some(quote(rng.pick::<&str>(&NON_NUMERIC_VALUES)));
            RejectReason::InvalidValue
        }
        Kind::ActiveUserWithoutUserId => {
            draft.metric = quote("active_users");
            draft.dimensions = vec![("region".to_owned(), "eu-west-1".to_owned())];
            RejectReason::MissingUserId
        }
        Kind::TooManyDimensions => {
            draft.dimensions = (1..=17)
                .map(|number| (format!("tag_{number:02}"), format!("value-{number}")))
                .collect();
            RejectReason::TooManyDimensions
        }
        Kind::EmptyEventId => {
            draft.event_id = quote("");
            RejectReason::BadEventId
        }
        _ => unreachable!("{kind:?} does not break a field"),
    }
}

/// Leaves out the timestamp, garbles it, or dates the event outside the acceptance window of
/// the run it arrives in.
fn misdate(kind: Kind, draft: &mut Draft, context: &BadContext<'_>, rng: &mut Rng) -> RejectReason {
    // Up to an hour of jitter, always away from the window, so these instants vary.
    let jitter_millis = rng.below(MILLIS_PER_HOUR as u64) as i64;
    let (timestamp, reason) = match kind {
        Kind::MissingTimestamp => (None, RejectReason::MissingField),
        Kind::UnparseableTimestamp => (
            Some(unparseable_timestamp(context, rng)),
            RejectReason::InvalidTimestamp,
        ),
        Kind::TooOld => {
            let at = context
                .now
                .plus_millis(-TOO_OLD_DAYS * MILLIS_PER_DAY - jitter_millis);
            let text = format_time(micros_of(at), TimeForm::ZuluMillis);
            (Some(quote(&text)), RejectReason::TooOld)
        }
        Kind::InFuture => {
            let at = context
                .now
                .plus_millis(IN_FUTURE_HOURS * MILLIS_PER_HOUR + jitter_millis);
            let text = format_time(micros_of(at), TimeForm::NaiveIso);
            (Some(quote(&text)), RejectReason::InFuture)
        }
        _ => unreachable!("{kind:?} does not misdate an event"),
    };
    draft.timestamp = timestamp;
    reason
}

/// A v1 event whose fields are JSON text, so any one of them can be broken.
struct Draft {
    tenant_id: String,
    metric: String,
    value: Option<String>,
    timestamp: Option<String>,
    event_id: String,
    dimensions: Vec<(String, String)>,
}

impl Draft {
    /// A valid `api_calls` event.
    fn valid(context: &BadContext<'_>) -> Draft {
        Draft {
            tenant_id: quote(context.tenant_id),
            metric: quote("api_calls"),
            value: Some("1".to_owned()),
            timestamp: Some(quote(&format_time(context.at_micros, TimeForm::NaiveIso))),
            event_id: quote(&context.event_id),
            dimensions: vec![("endpoint".to_owned(), "/v1/orders".to_owned())],
        }
    }

    fn render(&self) -> String {
        let mut object = JsonObject::new();
        object
            .raw("tenant_id", &self.tenant_id)
            .raw("metric", &self.metric);
        if let Some(value) = &self.value {
            object.raw("value", value);
        }
        if let Some(timestamp) = &self.timestamp {
            object.raw("timestamp", timestamp);
        }
        object
            .raw("event_id", &self.event_id)
            .raw("dimensions", &string_object(&self.dimensions))
            .finish()
    }
}

/// A valid line cut short, as when a producer dies mid-write: a proper prefix of an object
/// never closes it, so it is never valid JSON.
fn truncated(draft: &Draft, rng: &mut Rng) -> (String, RejectReason) {
    let mut line = draft.render();
    // Every line here is ASCII, so any byte offset is a character boundary.
    let cut = rng.between(line.len() as u64 / 3, line.len() as u64 - 2) as usize;
    line.truncate(cut);
    (line, RejectReason::InvalidJson)
}

fn unparseable_timestamp(context: &BadContext<'_>, rng: &mut Rng) -> String {
    let civil = Timestamp::from_millis(context.at_micros.div_euclid(1_000)).civil();
    let text = match rng.below(4) {
        0 => format!(
            "{:02}/{:02}/{} 14:02:03",
            civil.month, civil.day, civil.year
        ),
        1 => format!(
            "{:04}-{:02}-{:02}T25:00:00Z",
            civil.year, civil.month, civil.day
        ),
        2 => "yesterday".to_owned(),
        // Epoch seconds as a number: producers sometimes send time.time().
        _ => return (context.at_micros / 1_000_000).to_string(),
    };
    quote(&text)
}

/// A CloudEvent of the 0.3 spec, which Tally does not read.
fn old_cloud_event(context: &BadContext<'_>) -> (String, RejectReason) {
    let line = JsonObject::new()
        .string("specversion", "0.3")
        .string("id", &context.event_id)
        .string("source", "/svc/api")
        .string("type", "api_calls")
        .string("subject", context.tenant_id)
        .string(
            "time",
            &format_time(context.at_micros, TimeForm::ZuluMillis),
        )
        .raw("data", "{\"value\":1}")
        .finish();
    (line, RejectReason::BadCloudEvent)
}
