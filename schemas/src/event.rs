//! Parsing and validating one usage event (v1, or CloudEvents 1.0 structured JSON).
//!
//! Every refusal names one [`RejectReason`]; fields are checked in a fixed order (tenant, metric,
//! value, time, id, dimensions) so the same bad event always gets the same reason.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::catalog::{Meter, MeterCatalog};
use crate::limits::{
    MAX_DIMENSION_KEY_CHARS, MAX_DIMENSION_VALUE_CHARS, MAX_DIMENSIONS, MAX_EVENT_BYTES,
    MAX_EVENT_ID_CHARS, MAX_VALUE, MAX_VALUE_FRACTION_DIGITS,
};
use crate::reject::{RejectReason, Rejection};
use crate::tenant::TenantId;
use crate::time::Timestamp;

/// Longest accepted CloudEvents `source`, in characters (printable ASCII only).
pub const MAX_CLOUDEVENT_SOURCE_CHARS: usize = 256;
/// The fields of a v1 event that Tally reads; any other field is ignored.
pub const V1_FIELDS: [&str; 6] = [
    "tenant_id",
    "metric",
    "value",
    "timestamp",
    "event_id",
    "dimensions",
];
/// The v1 fields every event must carry.
pub const V1_REQUIRED: [&str; 3] = ["tenant_id", "metric", "timestamp"];
/// The CloudEvents attributes Tally reads (structured mode).
pub const CLOUDEVENT_FIELDS: [&str; 7] = [
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "data",
];

/// A valid usage event, before the time-dependent checks (age, future) of the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageEvent {
    /// The tenant the usage belongs to.
    pub tenant_id: TenantId,
    /// A meter of the catalog.
    pub metric: String,
    /// The quantity, exact, in [0, 10^12] with at most 9 fraction digits, normalized.
    pub value: Decimal,
    /// When the usage happened, UTC, truncated to milliseconds.
    pub event_time: Timestamp,
    /// What deduplicates this event.
    pub identity: Identity,
    /// Free-form string attributes, sorted by key.
    pub dimensions: BTreeMap<String, String>,
}

/// What makes two deliveries the same event.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// The producer's `event_id`: re-sends with the same id count once.
    EventId(String),
    /// A CloudEvent, unique on `source` + `id` as the CloudEvents spec defines.
    CloudEvent {
        /// The CloudEvents `source`.
        source: String,
        /// The CloudEvents `id`.
        id: String,
    },
    /// No id: only redeliveries of the same stream position (file line, Kinesis sequence
    /// number) are recognised as duplicates.
    Position,
}

impl UsageEvent {
    /// The id written to the events table: the producer's `event_id` or the CloudEvents `id`.
    pub fn event_id(&self) -> Option<&str> {
        match &self.identity {
            Identity::EventId(id) | Identity::CloudEvent { id, .. } => Some(id),
            Identity::Position => None,
        }
    }
}

/// The fields Tally reads; every other field is ignored. Each is kept raw so that a field of
/// the wrong JSON type gets the reason of its field, not a generic `invalid_json`.
#[derive(Deserialize)]
struct WireEvent<'a> {
    #[serde(borrow)]
    tenant_id: Option<&'a RawValue>,
    #[serde(borrow)]
    metric: Option<&'a RawValue>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    event_id: Option<&'a RawValue>,
    #[serde(borrow)]
    dimensions: Option<&'a RawValue>,
    #[serde(borrow)]
    specversion: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    source: Option<&'a RawValue>,
    #[serde(borrow, rename = "type")]
    kind: Option<&'a RawValue>,
    #[serde(borrow)]
    subject: Option<&'a RawValue>,
    #[serde(borrow)]
    time: Option<&'a RawValue>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

/// The fields of either format, mapped onto the v1 names.
struct Fields<'a> {
    tenant_id: Option<&'a RawValue>,
    metric: Option<&'a RawValue>,
    timestamp: Option<&'a RawValue>,
    value: Option<&'a RawValue>,
    dimensions: Vec<(String, &'a RawValue)>,
    identity: RawIdentity<'a>,
    cloud_event: bool,
}

/// The raw fields that identify an event, checked after the time.
enum RawIdentity<'a> {
    V1 {
        event_id: Option<&'a RawValue>,
    },
    CloudEvent {
        id: Option<&'a RawValue>,
        source: Option<&'a RawValue>,
    },
}

impl RawIdentity<'_> {
    fn parse(self) -> Result<Identity, Rejection> {
        match self {
            RawIdentity::V1 { event_id: None } => Ok(Identity::Position),
            RawIdentity::V1 {
                event_id: Some(raw),
            } => parse_id(raw, "event_id", MAX_EVENT_ID_CHARS).map(Identity::EventId),
            RawIdentity::CloudEvent { id, source } => {
                let id = id.ok_or_else(|| missing("id", "a CloudEvent needs an id"))?;
                let source =
                    source.ok_or_else(|| missing("source", "a CloudEvent needs a source"))?;
                Ok(Identity::CloudEvent {
                    source: parse_id(source, "source", MAX_CLOUDEVENT_SOURCE_CHARS)?,
                    id: parse_id(id, "id", MAX_EVENT_ID_CHARS)?,
                })
            }
        }
    }
}

/// Parses one encoded event and checks it against the contract and the catalog.
///
/// Fails with the first rule the event breaks, in the order tenant, metric, value, time, id,
/// dimensions.
pub fn parse_event(bytes: &[u8], catalog: &MeterCatalog) -> Result<UsageEvent, Rejection> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(Rejection::new(
            RejectReason::TooLarge,
            format!(
                "event is {} bytes; the limit is {MAX_EVENT_BYTES}",
                bytes.len()
            ),
        ));
    }
    let wire: WireEvent<'_> = serde_json::from_slice(bytes)
        .map_err(|error| Rejection::new(RejectReason::InvalidJson, json_problem(&error)))?;
    let fields = if wire.specversion.is_some() {
        cloud_event_fields(&wire)?
    } else {
        v1_fields(&wire)?
    };
    let tenant_id = parse_tenant_id(fields.tenant_id, fields.cloud_event)?;
    let meter = parse_metric(fields.metric, catalog, fields.cloud_event)?;
    let value = parse_value(fields.value, meter)?;
    let event_time = parse_time(fields.timestamp, fields.cloud_event)?;
    let identity = fields.identity.parse()?;
    let dimensions = parse_dimensions(fields.dimensions, fields.cloud_event)?;
    check_counted_dimension(meter, &dimensions)?;
    Ok(UsageEvent {
        tenant_id,
        metric: meter.name.clone(),
        value,
        event_time,
        identity,
        dimensions,
    })
}

fn v1_fields<'a>(wire: &WireEvent<'a>) -> Result<Fields<'a>, Rejection> {
    let dimensions = match wire.dimensions {
        None => Vec::new(),
        Some(raw) => object_entries(raw).ok_or_else(|| {
            Rejection::new(
                RejectReason::BadDimension,
                "dimensions must be a JSON object",
            )
        })?,
    };
    Ok(Fields {
        tenant_id: wire.tenant_id,
        metric: wire.metric,
        timestamp: wire.timestamp,
        value: wire.value,
        dimensions,
        identity: RawIdentity::V1 {
            event_id: wire.event_id,
        },
        cloud_event: false,
    })
}

fn cloud_event_fields<'a>(wire: &WireEvent<'a>) -> Result<Fields<'a>, Rejection> {
    let version = wire.specversion.and_then(json_string);
    if version.as_deref() != Some("1.0") {
        return Err(Rejection::new(
            RejectReason::BadCloudEvent,
            "specversion must be \"1.0\" (CloudEvents 1.0 structured JSON)",
        ));
    }
    let mut entries = match wire.data {
        None => Vec::new(),
        Some(raw) => object_entries(raw).ok_or_else(|| {
            Rejection::new(RejectReason::BadCloudEvent, "data must be a JSON object")
        })?,
    };
    let value = entries
        .iter()
        .position(|(key, _)| key == "value")
        .map(|position| entries.remove(position).1);
    // Only string members of `data` become dimensions; numbers, objects and the like are
    // ignored like any unknown field.
    entries.retain(|(_, raw)| raw.get().starts_with('"'));
    Ok(Fields {
        tenant_id: wire.subject,
        metric: wire.kind,
        timestamp: wire.time,
        value,
        dimensions: entries,
        identity: RawIdentity::CloudEvent {
            id: wire.id,
            source: wire.source,
        },
        cloud_event: true,
    })
}

fn missing(field: &str, why: &str) -> Rejection {
    Rejection::new(
        RejectReason::MissingField,
        format!("{field} is required: {why}"),
    )
}

fn parse_tenant_id(raw: Option<&RawValue>, cloud_event: bool) -> Result<TenantId, Rejection> {
    let field = if cloud_event { "subject" } else { "tenant_id" };
    let raw = raw.ok_or_else(|| missing(field, "it names the tenant the usage belongs to"))?;
    let text = json_string(raw).ok_or_else(|| {
        Rejection::new(
            RejectReason::BadTenantId,
            format!("{field} must be a string"),
        )
    })?;
    TenantId::parse(&text)
        .map_err(|problem| Rejection::new(RejectReason::BadTenantId, format!("{field}: {problem}")))
}

fn parse_metric<'c>(
    raw: Option<&RawValue>,
    catalog: &'c MeterCatalog,
    cloud_event: bool,
) -> Result<&'c Meter, Rejection> {
    let field = if cloud_event { "type" } else { "metric" };
    let raw = raw.ok_or_else(|| missing(field, "it names the meter"))?;
    let text = json_string(raw).ok_or_else(|| {
        Rejection::new(
            RejectReason::UnknownMetric,
            format!("{field} must be a string"),
        )
    })?;
    catalog.get(&text).ok_or_else(|| {
        let known: Vec<&str> = catalog
            .meters()
            .iter()
            .map(|meter| meter.name.as_str())
            .collect();
        Rejection::new(
            RejectReason::UnknownMetric,
            format!(
                "{field} {:?} is not a meter; known meters: {}",
                shorten(&text),
                known.join(", ")
            ),
        )
    })
}

fn parse_value(raw: Option<&RawValue>, meter: &Meter) -> Result<Decimal, Rejection> {
    let Some(raw) = raw else {
        return meter.default_value.ok_or_else(|| {
            missing(
                "value",
                &format!("metric {} has no default value", meter.name),
            )
        });
    };
    let text: Cow<'_, str> = match raw.get().as_bytes().first() {
        Some(b'"') => json_string(raw).unwrap_or_default(),
        Some(b'-' | b'0'..=b'9') => Cow::Borrowed(raw.get()),
        _ => {
            return Err(Rejection::new(
                RejectReason::InvalidValue,
                "value must be a number or a decimal string",
            ));
        }
    };
    parse_decimal(&text).map_err(|problem| Rejection::new(RejectReason::InvalidValue, problem))
}

/// Reads a decimal written as a JSON number (`12`, `0.5`, `1e3`) exactly, without passing
/// through a float, and checks the contract's range and precision.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let shown = shorten(text);
    if !is_number_syntax(text) {
        return Err(format!("value {shown:?} is not a finite decimal number"));
    }
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    let value = parsed
        .map_err(|_| format!("value {shown:?} cannot be represented exactly"))?
        .normalize();
    if value.is_zero() {
        return Ok(Decimal::ZERO);
    }
    if value.is_sign_negative() {
        return Err(format!("value {shown} is negative"));
    }
    if value > Decimal::from(MAX_VALUE) {
        return Err(format!("value {shown} is larger than 10^12"));
    }
    if value.scale() > MAX_VALUE_FRACTION_DIGITS {
        return Err(format!("value {shown} has more than 9 fraction digits"));
    }
    Ok(value)
}

/// `-?digits[.digits][(e|E)[+-]digits]`, the JSON number grammar without its leading-zero rule.
fn is_number_syntax(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut position = usize::from(bytes.first() == Some(&b'-'));
    let digits = |position: &mut usize| {
        let start = *position;
        while bytes.get(*position).is_some_and(u8::is_ascii_digit) {
            *position += 1;
        }
        *position > start
    };
    if !digits(&mut position) {
        return false;
    }
    if bytes.get(position) == Some(&b'.') {
        position += 1;
        if !digits(&mut position) {
            return false;
        }
    }
    if matches!(bytes.get(position), Some(b'e' | b'E')) {
        position += 1;
        if matches!(bytes.get(position), Some(b'+' | b'-')) {
            position += 1;
        }
        if !digits(&mut position) {
            return false;
        }
    }
    position == bytes.len()
}

fn parse_time(raw: Option<&RawValue>, cloud_event: bool) -> Result<Timestamp, Rejection> {
    let field = if cloud_event { "time" } else { "timestamp" };
    let raw = raw.ok_or_else(|| missing(field, "it says when the usage happened"))?;
    let text = json_string(raw).ok_or_else(|| {
        Rejection::new(
            RejectReason::InvalidTimestamp,
            format!("{field} must be a string such as \"2026-11-26T14:02:03Z\""),
        )
    })?;
    Timestamp::parse(&text).map_err(|problem| {
        Rejection::new(
            RejectReason::InvalidTimestamp,
            format!("{field} {:?}: {problem}", shorten(&text)),
        )
    })
}

/// Reads an id: a string, or an integer taken as written, of printable ASCII.
fn parse_id(raw: &RawValue, field: &str, max_chars: usize) -> Result<String, Rejection> {
    let text = match raw.get().as_bytes().first() {
        Some(b'"') => json_string(raw).unwrap_or_default(),
        Some(b'0'..=b'9') if raw.get().bytes().all(|byte| byte.is_ascii_digit()) => {
            Cow::Borrowed(raw.get())
        }
        _ => return Err(bad_id(field, "must be a string")),
    };
    if text.is_empty() {
        return Err(bad_id(field, "is empty"));
    }
    if text.len() > max_chars {
        return Err(bad_id(
            field,
            &format!("is longer than {max_chars} characters"),
        ));
    }
    if !text.bytes().all(|byte| (0x20..=0x7e).contains(&byte)) {
        return Err(bad_id(field, "must be printable ASCII"));
    }
    Ok(text.into_owned())
}

fn bad_id(field: &str, problem: &str) -> Rejection {
    Rejection::new(RejectReason::BadEventId, format!("{field} {problem}"))
}

fn parse_dimensions(
    entries: Vec<(String, &RawValue)>,
    cloud_event: bool,
) -> Result<BTreeMap<String, String>, Rejection> {
    let bad = |problem: String| Rejection::new(RejectReason::BadDimension, problem);
    if entries.len() > MAX_DIMENSIONS {
        let place = if cloud_event { "data" } else { "dimensions" };
        return Err(Rejection::new(
            RejectReason::TooManyDimensions,
            format!(
                "{place} has {} entries; the limit is {MAX_DIMENSIONS}",
                entries.len()
            ),
        ));
    }
    let mut dimensions = BTreeMap::new();
    for (key, raw) in entries {
        if key.is_empty() || key.chars().count() > MAX_DIMENSION_KEY_CHARS {
            return Err(bad(format!(
                "dimension key {:?} must be 1-{MAX_DIMENSION_KEY_CHARS} characters",
                shorten(&key)
            )));
        }
        let value =
            json_string(raw).ok_or_else(|| bad(format!("dimension {key:?} must be a string")))?;
        if value.chars().count() > MAX_DIMENSION_VALUE_CHARS {
            return Err(bad(format!(
                "dimension {key:?} is longer than {MAX_DIMENSION_VALUE_CHARS} characters"
            )));
        }
        if dimensions.insert(key.clone(), value.into_owned()).is_some() {
            return Err(bad(format!("dimension {key:?} is given twice")));
        }
    }
    Ok(dimensions)
}

fn check_counted_dimension(
    meter: &Meter,
    dimensions: &BTreeMap<String, String>,
) -> Result<(), Rejection> {
    let Some(dimension) = &meter.dimension else {
        return Ok(());
    };
    if dimensions
        .get(dimension)
        .is_some_and(|value| !value.is_empty())
    {
        return Ok(());
    }
    let reason = if dimension == "user_id" {
        RejectReason::MissingUserId
    } else {
        RejectReason::MissingDimension
    };
    Err(Rejection::new(
        reason,
        format!(
            "metric {} counts distinct {dimension}: dimensions.{dimension} is required",
            meter.name
        ),
    ))
}

/// The text of a JSON string, borrowed when it has no escapes; `None` for any other JSON type.
fn json_string(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    if !text.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(text) {
        Ok(borrowed) => Some(Cow::Borrowed(borrowed)),
        Err(_) => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
    }
}

/// The members of a JSON object in order, or `None` when `raw` is not an object.
fn object_entries(raw: &RawValue) -> Option<Vec<(String, &RawValue)>> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                entries.push(entry);
            }
            Ok(entries)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    serde::Deserializer::deserialize_map(&mut deserializer, Entries).ok()
}

/// A serde_json error as a sentence without Rust type names.
fn json_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text.replace("struct WireEvent", "a JSON object");
    format!("not a valid event object: {text}")
}

/// At most 80 characters of `text`, for error messages.
fn shorten(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(80) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
    }
}

#[cfg(test)]
mod tests;
