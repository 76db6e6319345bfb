//! The service-facing producer: usage events checked against the contract, then put on the
//! stream keyed by tenant. Every event comes back in the report as sent, refused (with the
//! contract's reason) or failed (with the stream's last error), by its index in the input.

use tally_schemas::{MeterCatalog, Rejection, parse_event};

use crate::batch::{AsyncRecordSink, Record, send_all_async};
use crate::kinesis::KinesisSink;

/// Checks usage events and sends the valid ones to a stream.
#[derive(Clone, Debug)]
pub struct Producer<S = KinesisSink> {
    sink: S,
    catalog: MeterCatalog,
}

impl Producer<KinesisSink> {
    /// A producer for the Kinesis stream named `stream` (usually `usage-metering`), reached with
    /// `client`, checking events against the default meters.
    pub fn new(client: aws_sdk_kinesis::Client, stream: impl Into<String>) -> Producer {
        Producer::with_sink(KinesisSink::new(client, stream))
    }
}

impl<S: AsyncRecordSink> Producer<S> {
    /// A producer that puts records through `sink` (tests pass a fake), checking events against
    /// the default meters.
    pub fn with_sink(sink: S) -> Producer<S> {
        Producer {
            sink,
            catalog: MeterCatalog::defaults(),
        }
    }

    /// The same producer, checking events against `catalog`: needed when events name an
    /// operator's meters, which the default catalog refuses as `unknown_metric`.
    pub fn with_catalog(self, catalog: MeterCatalog) -> Producer<S> {
        Producer { catalog, ..self }
    }

    /// The catalog events are checked against.
    pub fn catalog(&self) -> &MeterCatalog {
        &self.catalog
    }

    /// The sink records go to.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Checks each encoded event (one JSON object, v1 or CloudEvents) and sends the valid ones,
    /// unchanged, with their tenant id as partition key, retrying what the stream refuses.
    /// The report has one outcome per event, in the order given.
    ///
    /// Waits between retries with Tokio's timer: await it on a Tokio runtime with time enabled.
    pub async fn send<E: AsRef<[u8]>>(&self, events: &[E]) -> SendReport {
        let mut outcomes = Vec::with_capacity(events.len());
        let mut records = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let bytes = event.as_ref();
            match parse_event(bytes, &self.catalog) {
                Ok(event) => {
                    records.push(Record {
                        partition_key: event.tenant_id.to_string(),
                        data: bytes.to_vec(),
                        position: index as u64,
                    });
                    outcomes.push(EventOutcome::Sent);
                }
                Err(rejection) => outcomes.push(EventOutcome::Refused(rejection)),
            }
        }
        let put = send_all_async(&self.sink, &records).await;
        for (position, last_error) in put.failed {
            outcomes[position as usize] = EventOutcome::Failed { last_error };
        }
        SendReport {
            outcomes,
            calls: put.calls,
        }
    }

    /// Sends events given as JSON values, e.g. built with `serde_json::json!`; otherwise like
    /// [`Producer::send`].
    pub async fn send_json(&self, events: &[serde_json::Value]) -> SendReport {
        let encoded: Vec<String> = events.iter().map(|event| event.to_string()).collect();
        self.send(&encoded).await
    }
}

/// What became of one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventOutcome {
    /// The stream accepted it.
    Sent,
    /// The event contract refused it; it was not sent. Sending it again unchanged is refused
    /// again.
    Refused(Rejection),
    /// The stream did not accept it after every attempt. Sending it again is safe when it has
    /// an `event_id`: re-sends count once.
    Failed {
        /// The stream's last error: the error code and message, or why the call failed.
        last_error: String,
    },
}

/// What a send did: one outcome per event, by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "events that were refused or not sent are only reported here"]
pub struct SendReport {
    /// One outcome per event, in the order the events were given.
    pub outcomes: Vec<EventOutcome>,
    /// PutRecords calls made, retries included.
    pub calls: u64,
}

impl SendReport {
    /// How many events the stream accepted.
    pub fn sent(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| matches!(outcome, EventOutcome::Sent))
            .count()
    }

    /// True when every event was sent.
    pub fn all_sent(&self) -> bool {
        self.outcomes
            .iter()
            .all(|outcome| matches!(outcome, EventOutcome::Sent))
    }

    /// The events the contract refused: index and why.
    pub fn refused(&self) -> impl Iterator<Item = (usize, &Rejection)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| match outcome {
                EventOutcome::Refused(rejection) => Some((index, rejection)),
                _ => None,
            })
    }

    /// The events the stream did not accept after every attempt: index and the last error.
    pub fn failed(&self) -> impl Iterator<Item = (usize, &str)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| match outcome {
                EventOutcome::Failed { last_error } => Some((index, last_error.as_str())),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;
    use tally_schemas::RejectReason;

    use super::*;
    use crate::batch::{CallOutcome, MAX_ATTEMPTS};

    /// A stream that keeps what it accepts and always refuses one tenant's records.
    #[derive(Default)]
    struct FakeStream {
        refused_tenant: Option<&'static str>,
        accepted: Mutex<Vec<Record>>,
        calls: Mutex<u64>,
    }

    impl AsyncRecordSink for FakeStream {
        async fn put_records(&self, records: &[&Record]) -> CallOutcome {
            *self.calls.lock().unwrap() += 1;
            let mut accepted = self.accepted.lock().unwrap();
            Ok(records
                .iter()
                .map(|record| {
                    if Some(record.partition_key.as_str()) == self.refused_tenant {
                        return Err("ProvisionedThroughputExceededException: slow down".into());
                    }
                    accepted.push((*record).clone());
                    Ok(())
                })
                .collect())
        }
    }

    fn event(tenant: &str, metric: &str) -> serde_json::Value {
        json!({"tenant_id": tenant, "metric": metric, "value": 2,
               "timestamp": "2026-11-26T14:02:03Z", "event_id": format!("{tenant}-{metric}")})
    }

    #[tokio::test(start_paused = true)]
    async fn valid_events_are_sent_keyed_by_tenant_and_the_rest_reported_by_index() {
        // GIVEN a stream that refuses tenant_slow's records, and a mixed batch
        let producer = Producer::with_sink(FakeStream {
            refused_tenant: Some("tenant_slow"),
            ..FakeStream::default()
        });
        let events = [
            event("tenant_a", "api_calls"),
            event("tenant_a", "no_such_meter"),
            json!("not an object"),
            event("tenant_slow", "cpu_hours"),
            event("tenant_b", "storage_gb"),
        ];
        // WHEN sent
        let report = producer.send_json(&events).await;
        // THEN each event has its outcome at its index
        assert_eq!(report.outcomes.len(), events.len());
        assert_eq!(report.outcomes[0], EventOutcome::Sent);
        let refused: Vec<(usize, RejectReason)> = report
            .refused()
            .map(|(index, rejection)| (index, rejection.reason))
            .collect();
        assert_eq!(
            refused,
            [
                (1, RejectReason::UnknownMetric),
                (2, RejectReason::InvalidJson)
            ]
        );
        let failed: Vec<(usize, &str)> = report.failed().collect();
        assert_eq!(
            failed,
            [(3, "ProvisionedThroughputExceededException: slow down")]
        );
        assert_eq!(report.outcomes[4], EventOutcome::Sent);
        assert_eq!((report.sent(), report.all_sent()), (2, false));
        // AND only the valid events reached the stream, unchanged, keyed by their tenant
        let accepted = producer.sink().accepted.lock().unwrap();
        let keys: Vec<&str> = accepted.iter().map(|r| r.partition_key.as_str()).collect();
        assert_eq!(keys, ["tenant_a", "tenant_b"]);
        assert_eq!(accepted[0].data, events[0].to_string().into_bytes());
        // AND the refused record was retried until the attempts ran out
        assert_eq!(report.calls, u64::from(MAX_ATTEMPTS));
    }

    #[tokio::test]
    async fn an_operator_meter_needs_the_operators_catalog() {
        let meters = "[[meters]]\nname = \"gpu_seconds\"\naggregation = \"sum\"\nunit = \"s\"\n";
        let catalog = MeterCatalog::with_operator_meters(meters, "test").unwrap();
        let events = [event("tenant_a", "gpu_seconds").to_string()];
        let defaults = Producer::with_sink(FakeStream::default());
        let report = defaults.send(&events).await;
        assert_eq!(report.refused().count(), 1);
        let operators = Producer::with_sink(FakeStream::default()).with_catalog(catalog);
        let report = operators.send(&events).await;
        assert!(report.all_sent());
        assert_eq!(report.calls, 1);
    }

    #[tokio::test]
    async fn an_empty_send_makes_no_call() {
        let producer = Producer::with_sink(FakeStream::default());
        let report = producer.send::<&[u8]>(&[]).await;
        assert_eq!(report, SendReport::default());
        assert!(report.all_sent());
    }
}
