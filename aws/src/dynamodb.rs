//! The stream consumer's tables over DynamoDB.
//!
//! Two tables, both on demand:
//! - **`usage-rollups`** (`tenant_id` S, `window` S = `{metric}#{granularity}#{window start}`):
//!   one item per tenant, meter, granularity and window, with `amount` and `events` as exact
//!   DynamoDB numbers and the ledger `version` that last changed it. The tenant id leads every
//!   key, so an IAM policy can scope a tenant to its own items.
//! - **`metering-state`** (`pk` S, `sk` S): the ledger heads (`tenant#{id}`, `head`), quality
//!   counts (`quality#{id}`, `{day}#{outcome}`; `quality#` for records without a readable
//!   tenant), settings (`settings`, `dedup_key` | `meter#{name}`) and the shard checkpoints of
//!   `tally consume` (`checkpoint#{stream}`, `{shard}`).
//!
//! A head moves with one conditional PutItem on its version. A rollup or count changes with one
//! UpdateItem conditioned on its stored version being older than the commit's, so applying a
//! commit again changes nothing; `max` and `latest` deltas read the item first and write it
//! back under the same condition.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus,
};
use rust_decimal::Decimal;
use tally_aggregator::{Granularity, Rollup, RollupDelta, RollupKey};
use tally_runtime::ports::{RollupFilter, meters_to_record, quality_matches};
use tally_runtime::quality::QualityKey;
use tally_runtime::stream::{LedgerTables, TenantHead};
use tally_runtime::{Error, Result};
use tally_schemas::{Meter, TenantId, Timestamp};
use tokio::runtime::Handle;
use tokio::task::JoinSet;

use crate::describe;

/// Default name of the rollups table.
pub const DEFAULT_ROLLUPS_TABLE: &str = "usage-rollups";
/// Default name of the consumer's state table.
pub const DEFAULT_STATE_TABLE: &str = "metering-state";
/// Requests in flight at once when a commit writes many items.
const IN_FLIGHT: usize = 32;
/// How long `create_if_missing` waits for a new table to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(60);

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The ledger tables in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoTables {
    client: Client,
    rollups: String,
    state: String,
    runtime: Handle,
}

impl DynamoTables {
    /// The tables `rollups` and `state`, reached with `client`, driven on `runtime`.
    pub fn new(
        client: Client,
        rollups: impl Into<String>,
        state: impl Into<String>,
        runtime: Handle,
    ) -> DynamoTables {
        DynamoTables {
            client,
            rollups: rollups.into(),
            state: state.into(),
            runtime,
        }
    }

    /// A client for `config`.
    pub fn client(config: &aws_config::SdkConfig) -> Client {
        Client::new(config)
    }

    /// The rollups table's name.
    pub fn rollups_table(&self) -> &str {
        &self.rollups
    }

    /// The state table's name.
    pub fn state_table(&self) -> &str {
        &self.state
    }

    /// Creates both tables (on demand) unless they exist and waits until they are active;
    /// for each, true if it was created.
    ///
    /// Fails when the service refuses, or a table is not active within a minute.
    pub fn create_if_missing(&self) -> Result<[(String, bool); 2]> {
        let rollups = create_table(
            &self.client,
            &self.runtime,
            &self.rollups,
            "tenant_id",
            "window",
        )?;
        let state = create_table(&self.client, &self.runtime, &self.state, "pk", "sk")?;
        Ok([(self.rollups.clone(), rollups), (self.state.clone(), state)])
    }

    /// Every item of `table` whose key matches (a Query when `partition` is given, else a
    /// Scan), following pages to the end.
    fn items(
        &self,
        table: &str,
        partition: Option<(&str, String)>,
        sort_prefix: Option<(&str, String)>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = match &partition {
                Some((name, value)) => {
                    let mut condition = "#p = :p".to_owned();
                    let mut request = self
                        .client
                        .query()
                        .table_name(table)
                        .consistent_read(true)
                        .expression_attribute_names("#p", *name)
                        .expression_attribute_values(":p", s(value))
                        .set_exclusive_start_key(start.take());
                    if let Some((sort, prefix)) = &sort_prefix {
                        condition.push_str(" AND begins_with(#s, :s)");
                        request = request
                            .expression_attribute_names("#s", *sort)
                            .expression_attribute_values(":s", s(prefix));
                    }
                    let output = self
                        .runtime
                        .block_on(request.key_condition_expression(condition).send())
                        .map_err(|error| failed("Query", table, &error))?;
                    (output.items, output.last_evaluated_key)
                }
                None => {
                    let request = self
                        .client
                        .scan()
                        .table_name(table)
                        .consistent_read(true)
                        .set_exclusive_start_key(start.take())
                        .send();
                    let output = self
                        .runtime
                        .block_on(request)
                        .map_err(|error| failed("Scan", table, &error))?;
                    (output.items, output.last_evaluated_key)
                }
            };
            items.extend(page.0.unwrap_or_default());
            match page.1 {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    fn get(&self, table: &str, key: Item) -> Result<Option<Item>> {
        let request = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send();
        let output = self
            .runtime
            .block_on(request)
            .map_err(|error| failed("GetItem", table, &error))?;
        Ok(output.item)
    }

    /// Runs `requests` with at most [`IN_FLIGHT`] in flight; fails with the first error.
    fn run_all<F>(&self, requests: Vec<F>) -> Result<()>
    where
        F: Future<Output = Result<()>> + Send + 'static,
    {
        self.runtime.block_on(async {
            let mut requests = requests.into_iter();
            let mut running = JoinSet::new();
            loop {
                while running.len() < IN_FLIGHT {
                    match requests.next() {
                        Some(request) => {
                            running.spawn(request);
                        }
                        None => break,
                    }
                }
                match running.join_next().await {
                    Some(done) => done.map_err(|error| Error::Remote {
                        operation: "DynamoDB request task".into(),
                        detail: error.to_string(),
                    })??,
                    None => return Ok(()),
                }
            }
        })
    }
}

impl tally_runtime::ports::RollupReader for DynamoTables {
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        self.rollups(filter)
    }
}

impl LedgerTables for DynamoTables {
    fn head(&self, tenant: &TenantId) -> Result<Option<TenantHead>> {
        let key = state_key(format!("tenant#{tenant}"), "head");
        let Some(item) = self.get(&self.state, key)? else {
            return Ok(None);
        };
        let body = string(&item, "body", &self.state)?;
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|error| Error::Corrupt(format!("ledger head of {tenant}: {error}")))
    }

    fn tenants(&self) -> Result<Vec<TenantId>> {
        let mut tenants = Vec::new();
        for item in self.items(&self.state, None, None)? {
            let pk = string(&item, "pk", &self.state)?;
            if let Some(tenant) = pk.strip_prefix("tenant#") {
                tenants.push(
                    TenantId::parse(tenant)
                        .map_err(|error| Error::Corrupt(format!("ledger head {pk:?}: {error}")))?,
                );
            }
        }
        tenants.sort();
        Ok(tenants)
    }

    fn swap_head(&self, tenant: &TenantId, expected: u64, head: &TenantHead) -> Result<bool> {
        let body = serde_json::to_string(head).expect("ledger heads serialize");
        let mut item = state_key(format!("tenant#{tenant}"), "head");
        item.insert("version".into(), n(head.version));
        item.insert("body".into(), s(&body));
        let mut request = self
            .client
            .put_item()
            .table_name(&self.state)
            .set_item(Some(item));
        request = if expected == 0 {
            request.condition_expression("attribute_not_exists(pk)")
        } else {
            request
                .condition_expression("#v = :expected")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", n(expected))
        };
        match self.runtime.block_on(request.send()) {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(failed("PutItem head", &self.state, &error)),
        }
    }

    fn apply_rollups(
        &self,
        _tenant: &TenantId,
        version: u64,
        deltas: &[(RollupKey, RollupDelta)],
    ) -> Result<()> {
        let requests = deltas
            .iter()
            .map(|(key, delta)| {
                apply_rollup(
                    self.client.clone(),
                    self.rollups.clone(),
                    key.clone(),
                    delta.clone(),
                    version,
                )
            })
            .collect();
        self.run_all(requests)
    }

    fn apply_quality(
        &self,
        tenant: &TenantId,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()> {
        self.add_quality(Some(tenant), version, counts)
    }

    fn add_unattributed_quality(&self, counts: &[(QualityKey, u64)]) -> Result<()> {
        self.add_quality(None, 0, counts)
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        let partition = filter
            .tenant_id
            .as_ref()
            .map(|tenant| ("tenant_id", tenant.clone()));
        let prefix = match (&filter.metric, filter.granularity) {
            (Some(metric), Some(granularity)) => {
                Some(format!("{metric}#{}#", granularity.as_str()))
            }
            (Some(metric), None) => Some(format!("{metric}#")),
            _ => None,
        };
        let prefix = prefix
            .filter(|_| partition.is_some())
            .map(|prefix| ("window", prefix));
        let mut rollups = Vec::new();
        for item in self.items(&self.rollups, partition, prefix)? {
            let (key, rollup) = decode_rollup(&item, &self.rollups)?;
            if filter.matches(&key) {
                rollups.push((key, rollup));
            }
        }
        rollups.sort_by(|(left, _), (right, _)| left.cmp(right));
        Ok(rollups)
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        let partition = tenant_id.map(|tenant| ("pk", format!("quality#{tenant}")));
        let mut counts = Vec::new();
        for item in self.items(&self.state, partition, None)? {
            let pk = string(&item, "pk", &self.state)?;
            let Some(tenant) = pk.strip_prefix("quality#") else {
                continue;
            };
            let sk = string(&item, "sk", &self.state)?;
            let (day, outcome) = sk
                .split_once('#')
                .ok_or_else(|| Error::Corrupt(format!("quality item {pk}/{sk}")))?;
            let day = Timestamp::parse(&format!("{day}T00:00:00Z"))
                .map_err(|error| Error::Corrupt(format!("quality item {pk}/{sk}: {error}")))?;
            if quality_matches(tenant, day, tenant_id, from, to) {
                let count = number(&item, "count", &self.state)?;
                counts.push(((tenant.to_owned(), day, outcome.to_owned()), count));
            }
        }
        counts.sort();
        Ok(counts)
    }

    fn dedup_key(&self, candidate: [u8; 16]) -> Result<[u8; 16]> {
        let mut item = state_key("settings".into(), "dedup_key");
        item.insert(
            "key".into(),
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(candidate.to_vec())),
        );
        let request = self
            .client
            .put_item()
            .table_name(&self.state)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send();
        match self.runtime.block_on(request) {
            Ok(_) => return Ok(candidate),
            Err(error) if condition_failed(&error) => {}
            Err(error) => return Err(failed("PutItem dedup key", &self.state, &error)),
        }
        let stored = self
            .get(&self.state, state_key("settings".into(), "dedup_key"))?
            .and_then(|item| match item.get("key") {
                Some(AttributeValue::B(blob)) => <[u8; 16]>::try_from(blob.as_ref()).ok(),
                _ => None,
            });
        stored.ok_or_else(|| Error::Corrupt("the stored dedup key is not 16 bytes".into()))
    }

    fn check_meters(&self, meters: &[Meter]) -> Result<()> {
        let mut recorded = HashMap::new();
        for item in self.items(
            &self.state,
            Some(("pk", "settings".into())),
            Some(("sk", "meter#".into())),
        )? {
            let sk = string(&item, "sk", &self.state)?;
            let signature = string(&item, "signature", &self.state)?;
            recorded.insert(sk.trim_start_matches("meter#").to_owned(), signature);
        }
        for (name, signature) in meters_to_record(meters, |name| recorded.get(name).cloned())? {
            let mut item = state_key("settings".into(), &format!("meter#{name}"));
            item.insert("signature".into(), s(&signature));
            let request = self
                .client
                .put_item()
                .table_name(&self.state)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send();
            match self.runtime.block_on(request) {
                Ok(_) => {}
                // Another consumer recorded it meanwhile: check against what it recorded.
                Err(error) if condition_failed(&error) => return self.check_meters(meters),
                Err(error) => return Err(failed("PutItem meter", &self.state, &error)),
            }
        }
        Ok(())
    }
}

impl DynamoTables {
    /// Where `tally consume` is in `shard` of `stream`: the last sequence number handled, and
    /// whether the shard is closed and read to its end.
    ///
    /// Fails when the table cannot be read.
    pub fn checkpoint(&self, stream: &str, shard: &str) -> Result<(Option<String>, bool)> {
        let key = state_key(format!("checkpoint#{stream}"), shard);
        let Some(item) = self.get(&self.state, key)? else {
            return Ok((None, false));
        };
        let sequence = match item.get("sequence") {
            Some(AttributeValue::S(sequence)) => Some(sequence.clone()),
            _ => None,
        };
        let ended = matches!(item.get("ended"), Some(AttributeValue::Bool(true)));
        Ok((sequence, ended))
    }

    /// Records where `tally consume` is in `shard` of `stream`.
    ///
    /// Fails when the table cannot be written.
    pub fn set_checkpoint(
        &self,
        stream: &str,
        shard: &str,
        sequence: Option<&str>,
        ended: bool,
    ) -> Result<()> {
        let mut item = state_key(format!("checkpoint#{stream}"), shard);
        if let Some(sequence) = sequence {
            item.insert("sequence".into(), s(sequence));
        }
        item.insert("ended".into(), AttributeValue::Bool(ended));
        let request = self
            .client
            .put_item()
            .table_name(&self.state)
            .set_item(Some(item))
            .send();
        self.runtime
            .block_on(request)
            .map_err(|error| failed("PutItem checkpoint", &self.state, &error))?;
        Ok(())
    }

    /// Adds quality counts; with a tenant, only to items an older version wrote.
    fn add_quality(
        &self,
        tenant: Option<&TenantId>,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()> {
        let requests = counts
            .iter()
            .map(|((_, day, outcome), count)| {
                let pk = format!("quality#{}", tenant.map_or("", TenantId::as_str));
                let sk = format!("{}#{outcome}", day.date_string());
                let mut request = self
                    .client
                    .update_item()
                    .table_name(&self.state)
                    .set_key(Some(state_key(pk, &sk)))
                    .update_expression("ADD #c :c SET #v = :v")
                    .expression_attribute_names("#c", "count")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(":c", n(*count))
                    .expression_attribute_values(":v", n(version));
                if tenant.is_some() {
                    request = request.condition_expression("attribute_not_exists(#v) OR #v < :v");
                }
                let table = self.state.clone();
                async move {
                    match request.send().await {
                        Ok(_) => Ok(()),
                        Err(error) if condition_failed(&error) => Ok(()),
                        Err(error) => Err(failed("UpdateItem quality", &table, &error)),
                    }
                }
            })
            .collect();
        self.run_all(requests)
    }
}

/// Applies one delta of ledger version `version` unless the item already has it.
async fn apply_rollup(
    client: Client,
    table: String,
    key: RollupKey,
    delta: RollupDelta,
    version: u64,
) -> Result<()> {
    let item_key = rollup_item_key(&key);
    let descriptive = [
        ("metric", s(&key.metric)),
        ("granularity", s(key.granularity.as_str())),
        ("window_start", s(&key.window_start.to_rfc3339())),
    ];
    if delta.max.is_none() && delta.latest.is_none() {
        // Sums, counts, distinct counts and gauge integrals: one blind, conditional update.
        let [(_, metric), (_, granularity), (_, window_start)] = descriptive;
        let request = client
            .update_item()
            .table_name(&table)
            .set_key(Some(item_key))
            .update_expression("ADD #a :a, #e :e SET #v = :v, #m = :m, #g = :g, #w = :w")
            .condition_expression("attribute_not_exists(#v) OR #v < :v")
            .expression_attribute_names("#a", "amount")
            .expression_attribute_names("#e", "events")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#m", "metric")
            .expression_attribute_names("#g", "granularity")
            .expression_attribute_names("#w", "window_start")
            .expression_attribute_values(":a", decimal(delta.add))
            .expression_attribute_values(":e", n(delta.events))
            .expression_attribute_values(":v", n(version))
            .expression_attribute_values(":m", metric)
            .expression_attribute_values(":g", granularity)
            .expression_attribute_values(":w", window_start)
            .send()
            .await;
        return settle(request.map(|_| ()), &table);
    }
    // Maxima and latest values: read, merge, write back if nobody got there first.
    let stored = client
        .get_item()
        .table_name(&table)
        .set_key(Some(item_key.clone()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|error| failed("GetItem rollup", &table, &error))?
        .item;
    let mut rollup = match &stored {
        Some(item) => {
            if number(item, "version", &table)? >= version {
                return Ok(());
            }
            decode_rollup(item, &table)?.1
        }
        None => Rollup::default(),
    };
    rollup.apply(&delta);
    let mut item = item_key;
    item.extend(descriptive.map(|(name, value)| (name.to_owned(), value)));
    item.insert("amount".into(), decimal(rollup.amount));
    item.insert("events".into(), n(rollup.events));
    item.insert("version".into(), n(version));
    if let Some(time) = rollup.latest_event_time {
        item.insert("latest_event_time".into(), s(&time.to_rfc3339()));
    }
    let request = client
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#v) OR #v < :v")
        .expression_attribute_names("#v", "version")
        .expression_attribute_values(":v", n(version))
        .send()
        .await;
    settle(request.map(|_| ()), &table)
}

/// A conditional write's outcome: a failed condition means the item already has this
/// version or a newer one, which is success.
fn settle<E, R>(outcome: std::result::Result<(), SdkError<E, R>>, table: &str) -> Result<()>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match outcome {
        Ok(()) => Ok(()),
        Err(error) if condition_failed(&error) => Ok(()),
        Err(error) => Err(failed("write rollup", table, &error)),
    }
}

fn rollup_item_key(key: &RollupKey) -> Item {
    HashMap::from([
        ("tenant_id".to_owned(), s(key.tenant_id.as_str())),
        (
            "window".to_owned(),
            s(&format!(
                "{}#{}#{}",
                key.metric,
                key.granularity.as_str(),
                key.window_start.to_rfc3339()
            )),
        ),
    ])
}

fn decode_rollup(item: &Item, table: &str) -> Result<(RollupKey, Rollup)> {
    let tenant = string(item, "tenant_id", table)?;
    let window = string(item, "window", table)?;
    let corrupt =
        |problem: &str| Error::Corrupt(format!("{table} item {tenant}/{window}: {problem}"));
    let mut parts = window.splitn(3, '#');
    let (Some(metric), Some(granularity), Some(start)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(corrupt("the window is not metric#granularity#start"));
    };
    let granularity = Granularity::ALL
        .into_iter()
        .find(|candidate| candidate.as_str() == granularity)
        .ok_or_else(|| corrupt("unknown granularity"))?;
    let key = RollupKey {
        tenant_id: TenantId::parse(&tenant).map_err(|error| corrupt(&error.to_string()))?,
        metric: metric.to_owned(),
        granularity,
        window_start: Timestamp::parse(start).map_err(corrupt)?,
    };
    let latest_event_time = match item.get("latest_event_time") {
        Some(AttributeValue::S(text)) => Some(Timestamp::parse(text).map_err(corrupt)?),
        _ => None,
    };
    let rollup = Rollup {
        amount: decimal_of(item, "amount", table)?,
        events: number(item, "events", table)?,
        latest_event_time,
    };
    Ok((key, rollup))
}

fn state_key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(sk))])
}

/// Creates an on-demand table keyed by text attributes `partition` and `sort` unless it exists,
/// and waits until it is active; true if it was created.
pub(crate) fn create_table(
    client: &Client,
    runtime: &Handle,
    table: &str,
    partition: &str,
    sort: &str,
) -> Result<bool> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definitions are complete")
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key schema elements are complete")
    };
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(partition))
        .attribute_definitions(attribute(sort))
        .key_schema(key(partition, KeyType::Hash))
        .key_schema(key(sort, KeyType::Range))
        .send();
    let created = match runtime.block_on(request) {
        Ok(_) => true,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|service| service.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(error) => return Err(failed("CreateTable", table, &error)),
    };
    let started = std::time::Instant::now();
    loop {
        let request = client.describe_table().table_name(table).send();
        let description = runtime
            .block_on(request)
            .map_err(|error| failed("DescribeTable", table, &error))?;
        let status = description.table().and_then(|table| table.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(created);
        }
        if started.elapsed() > ACTIVE_WAIT {
            return Err(Error::Remote {
                operation: format!("DynamoDB DescribeTable {table}"),
                detail: format!("still {status:?} after {ACTIVE_WAIT:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

pub(crate) fn n(number: u64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn decimal(value: Decimal) -> AttributeValue {
    AttributeValue::N(value.normalize().to_string())
}

pub(crate) fn string(item: &Item, name: &str, table: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        _ => Err(Error::Corrupt(format!(
            "{table}: an item has no text {name}"
        ))),
    }
}

pub(crate) fn number(item: &Item, name: &str, table: &str) -> Result<u64> {
    match item.get(name) {
        Some(AttributeValue::N(text)) => text
            .parse()
            .map_err(|_| Error::Corrupt(format!("{table}: {name} {text:?} is not a count"))),
        _ => Err(Error::Corrupt(format!(
            "{table}: an item has no number {name}"
        ))),
    }
}

fn decimal_of(item: &Item, name: &str, table: &str) -> Result<Decimal> {
    match item.get(name) {
        Some(AttributeValue::N(text)) => Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| Error::Corrupt(format!("{table}: {name} {text:?} is not a decimal"))),
        _ => Err(Error::Corrupt(format!(
            "{table}: an item has no number {name}"
        ))),
    }
}

pub(crate) fn condition_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(|service| service.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

pub(crate) fn failed(
    operation: &str,
    table: &str,
    error: &(dyn std::error::Error + 'static),
) -> Error {
    Error::Remote {
        operation: format!("DynamoDB {operation} {table}"),
        detail: describe(error),
    }
}
