//! Encoding usage events as the lines producers send: mostly v1 with an `event_id`, some v1
//! without one, some CloudEvents 1.0; timestamps in every accepted form; values as omitted
//! defaults, JSON numbers or decimal strings.

use crate::json::{JsonObject, TimeForm, decimal_text, format_time, quote};
use crate::rng::Rng;
use crate::tenant::Tenant;
use crate::usage::{Event, Meter, Quantity};

/// Events sent as CloudEvents 1.0 structured JSON, per thousand.
const CLOUD_EVENTS_PER_MILLE: u64 = 30;
/// Events sent as v1 without an `event_id`, per thousand.
const WITHOUT_ID_PER_MILLE: u64 = 30;

/// One encoded event.
pub(crate) struct Encoded {
    /// The NDJSON line, without a newline.
    pub(crate) line: String,
    /// Whether the line carries an id, so that a repeat of it is recognisably a duplicate.
    pub(crate) has_identity: bool,
}

/// Encodes events and numbers their ids.
pub(crate) struct Encoder {
    /// `YYYYMM` of the plan's month.
    month_tag: String,
    /// The last sequence number per tenant and meter.
    sequences: Vec<[u64; Meter::ALL.len()]>,
}

impl Encoder {
    /// An encoder for `tenant_count` tenants in the month tagged `month_tag` (`YYYYMM`).
    pub(crate) fn new(month_tag: String, tenant_count: usize) -> Encoder {
        Encoder {
            month_tag,
            sequences: vec![[0; Meter::ALL.len()]; tenant_count],
        }
    }

    /// `event` as one line in a format drawn from `rng`.
    pub(crate) fn encode(&mut self, event: &Event, tenant: &Tenant, rng: &mut Rng) -> Encoded {
        let sequence = &mut self.sequences[event.tenant][event.meter.index()];
        *sequence += 1;
        let event_id = format!(
            "{}-{}-{}-{:06}",
            tenant.id,
            event.meter.id_tag(),
            self.month_tag,
            sequence
        );
        let roll = rng.below(1_000);
        if roll < CLOUD_EVENTS_PER_MILLE {
            let line = cloud_event(event, tenant, &event_id, rng);
            return Encoded {
                line,
                has_identity: true,
            };
        }
        let without_id = roll < CLOUD_EVENTS_PER_MILLE + WITHOUT_ID_PER_MILLE;
        let event_id = (!without_id).then_some(event_id.as_str());
        Encoded {
            line: v1_event(event, tenant, event_id, rng),
            has_identity: !without_id,
        }
    }
}

fn v1_event(event: &Event, tenant: &Tenant, event_id: Option<&str>, rng: &mut Rng) -> String {
    // Python services write naive isoformat, Go and JavaScript ones RFC 3339 in UTC, a few
    // services local time with an offset.
    let form = match rng.below(1_000) {
        0..550 => TimeForm::NaiveIso,
        550..900 => TimeForm::ZuluMillis,
        _ => TimeForm::Offset(tenant.offset_minutes),
    };
    let mut object = JsonObject::new();
    object
        .string("tenant_id", &tenant.id)
        .string("metric", event.meter.name());
    if let Some(value) = value_json(event.quantity, rng) {
        object.raw("value", &value);
    }
    object.string("timestamp", &format_time(event.at_micros, form));
    if let Some(event_id) = event_id {
        object.string("event_id", event_id);
    }
    if !event.dimensions.is_empty() {
        object.raw("dimensions", &crate::json::string_object(&event.dimensions));
    }
    object.finish()
}

fn cloud_event(event: &Event, tenant: &Tenant, id: &str, rng: &mut Rng) -> String {
    // CloudEvents require RFC 3339, so these producers never write naive times.
    let form = if rng.per_mille(700) {
        TimeForm::ZuluMillis
    } else {
        TimeForm::Offset(tenant.offset_minutes)
    };
    let mut data = JsonObject::new();
    if let Some(value) = value_json(event.quantity, rng) {
        data.raw("value", &value);
    }
    for (key, value) in &event.dimensions {
        data.string(key, value);
    }
    JsonObject::new()
        .string("specversion", "1.0")
        .string("id", id)
        .string("source", event.meter.source())
        .string("type", event.meter.name())
        .string("subject", &tenant.id)
        .string("time", &format_time(event.at_micros, form))
        .string("datacontenttype", "application/json")
        .raw("data", &data.finish())
        .finish()
}

/// The JSON text of a value, or `None` when the producer relies on the default of one.
fn value_json(quantity: Quantity, rng: &mut Rng) -> Option<String> {
    match quantity {
        Quantity::One if rng.per_mille(500) => None,
        Quantity::One => Some("1".to_owned()),
        Quantity::Count(count) => Some(count.to_string()),
        // Producers that care about exactness quote their decimals.
        Quantity::Nanos(nanos) if rng.per_mille(300) => Some(quote(&decimal_text(nanos))),
        Quantity::Nanos(nanos) => Some(decimal_text(nanos)),
    }
}
