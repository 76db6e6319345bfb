//! The tenants table over DynamoDB: every write is one conditional PutItem, so two writers of the
//! same tenant never both win, and a repeated claim of an idempotency key finds the first.
//!
//! One on-demand table (`tenants` by default), keyed by `pk` (S) and `sk` (S):
//! - tenants: `pk = "tenant"`, `sk = {tenant_id}`, with `record` (the tenant as JSON), `version`
//!   (N) and `status` (S). All tenants share one partition so that a Query lists them in id
//!   order; a control plane writes a few tenants a second at most, far below a partition's
//!   throughput, and a tenant record is a few kilobytes, so even 100,000 tenants fit.
//! - idempotency keys: `pk = "idempotency"`, `sk = {hex SHA-256 of the key}` (keys are client
//!   text, never stored raw in a key), with `fingerprint`, `tenant_id` and `expires_at` (N, epoch
//!   seconds, the table's TTL attribute), 24 hours after the claim.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use tally_schemas::{TenantId, Timestamp};
use tally_tenancy::{Error, IdempotencyClaim, Result, Tenant, TenantStore};

use crate::failure::{Sdk, code, store_error};
use crate::names::sha256_hex;

/// Default name of the tenants table.
pub const DEFAULT_TENANTS_TABLE: &str = "tenants";
/// The partition of tenant records.
const TENANT_PARTITION: &str = "tenant";
/// The partition of idempotency keys.
const IDEMPOTENCY_PARTITION: &str = "idempotency";
/// The TTL attribute of idempotency keys.
pub const EXPIRES_AT_ATTRIBUTE: &str = "expires_at";
/// How long an idempotency key stays bound.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;
/// The longest idempotency key accepted, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
/// How long [`create_table`] waits for a new table to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(60);
/// Attempts at claiming a key whose binding expires under the claim.
const CLAIM_ATTEMPTS: usize = 3;
/// The most tenants [`DynamoTenants::all`] reads: the table's design bound (see the module docs).
pub const MAX_REGISTRY_TENANTS: usize = 100_000;

type Item = HashMap<String, AttributeValue>;

/// What one attempt at claiming an idempotency key found.
enum Attempt {
    /// The key is now bound to this request.
    Claimed,
    /// A live binding exists.
    Bound(Item),
    /// A binding was there and expired before it could be read.
    Expired,
}

/// The tenants table in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoTenants {
    client: Client,
    table: String,
    now: fn() -> Timestamp,
}

impl DynamoTenants {
    /// The table `table`, reached with `client`; idempotency keys expire by the wall clock.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoTenants {
        DynamoTenants {
            client,
            table: table.into(),
            now: tally_runtime::clock::now,
        }
    }

    /// The same table with another clock for the expiry of idempotency keys.
    pub fn with_clock(self, now: fn() -> Timestamp) -> DynamoTenants {
        DynamoTenants { now, ..self }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every tenant, in id order, read page by page: the registry metering reads. Eventually
    /// consistent reads, because a registry snapshot is used for a minute anyway.
    ///
    /// Fails when the table cannot be read, a record is corrupt, or the table holds more than
    /// [`MAX_REGISTRY_TENANTS`] tenants (a partial registry would quarantine real tenants'
    /// events).
    pub async fn all(&self) -> Result<Vec<Tenant>> {
        let mut tenants = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :tenant")
                .expression_attribute_values(":tenant", s(TENANT_PARTITION))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| self.store_error("Query", TENANT_PARTITION, &error))?;
            for item in page.items() {
                tenants.push(decode_tenant(item, &self.table)?);
            }
            if tenants.len() > MAX_REGISTRY_TENANTS {
                return Err(Error::store(
                    format!("DynamoDB Query {} {TENANT_PARTITION}", self.table),
                    format!("more than {MAX_REGISTRY_TENANTS} tenants"),
                ));
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(tenants),
            }
        }
    }

    fn store_error<E>(&self, request: &str, key: &str, error: &Sdk<E>) -> Error
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        store_error(
            &format!("DynamoDB {request}"),
            &format!("{} {key}", self.table),
            error,
        )
    }

    async fn get_item(&self, partition: &str, sort: &str) -> Result<Option<Item>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(partition))
            .key("sk", s(sort))
            .consistent_read(true)
            .send()
            .await
            .map(|output| output.item)
            .map_err(|error| self.store_error("GetItem", &format!("{partition}/{sort}"), &error))
    }

    /// Puts `tenant` under `condition` (with `values`); false when the condition failed.
    async fn put_tenant(
        &self,
        tenant: &Tenant,
        condition: &str,
        values: Option<Item>,
    ) -> Result<bool> {
        let item = tenant_item(tenant)?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .send();
        match request.await {
            Ok(_) => Ok(true),
            Err(error) if code(&error) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(error) => Err(self.store_error(
                "PutItem",
                &format!("{TENANT_PARTITION}/{}", tenant.tenant_id),
                &error,
            )),
        }
    }

    /// Binds the key unless a live binding exists.
    async fn try_claim(
        &self,
        hash: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> Result<Attempt> {
        let now_secs = (self.now)().as_millis().div_euclid(1000);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(IDEMPOTENCY_PARTITION))
            .item("sk", s(hash))
            .item("fingerprint", s(fingerprint))
            .item("tenant_id", s(tenant_id.as_str()))
            .item(EXPIRES_AT_ATTRIBUTE, n(now_secs + IDEMPOTENCY_TTL_SECS))
            // TTL deletes expired items only eventually; an expired binding is free to take.
            .condition_expression("attribute_not_exists(sk) OR #expires < :now")
            .expression_attribute_names("#expires", EXPIRES_AT_ATTRIBUTE)
            .expression_attribute_values(":now", n(now_secs))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send();
        match request.await {
            Ok(_) => Ok(Attempt::Claimed),
            Err(error) => {
                if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
                    error.as_service_error()
                    && let Some(item) = failed.item()
                {
                    return Ok(Attempt::Bound(item.clone()));
                }
                if code(&error) == Some("ConditionalCheckFailedException") {
                    // The service did not return the item: read it (gone means it expired).
                    let item = self.get_item(IDEMPOTENCY_PARTITION, hash).await?;
                    return Ok(item.map_or(Attempt::Expired, Attempt::Bound));
                }
                let key = format!("{IDEMPOTENCY_PARTITION}/{hash}");
                Err(self.store_error("PutItem", &key, &error))
            }
        }
    }
}

impl TenantStore for DynamoTenants {
    async fn get(&self, tenant_id: &TenantId) -> Result<Option<Tenant>> {
        let item = self.get_item(TENANT_PARTITION, tenant_id.as_str()).await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let tenant = decode_tenant(&item, &self.table)?;
        if &tenant.tenant_id != tenant_id {
            return Err(corrupt(
                &self.table,
                tenant_id.as_str(),
                "the record names another tenant",
            ));
        }
        Ok(Some(tenant))
    }

    async fn create(&self, tenant: &Tenant) -> Result<()> {
        if self
            .put_tenant(tenant, "attribute_not_exists(sk)", None)
            .await?
        {
            return Ok(());
        }
        Err(Error::conflict(format!(
            "tenant {} exists already",
            tenant.tenant_id
        )))
    }

    async fn replace(&self, tenant: &Tenant) -> Result<()> {
        let Some(previous) = tenant.version.checked_sub(1) else {
            return Err(Error::conflict(format!(
                "tenant {} at version 0 cannot replace an earlier version",
                tenant.tenant_id
            )));
        };
        let values = HashMap::from([(":previous".to_owned(), n(previous))]);
        if self
            .put_tenant(tenant, "version = :previous", Some(values))
            .await?
        {
            return Ok(());
        }
        match self.get(&tenant.tenant_id).await? {
            None => Err(Error::NotFound {
                tenant_id: tenant.tenant_id.to_string(),
            }),
            Some(stored) => Err(Error::conflict(format!(
                "tenant {} is at version {}, not {previous}",
                tenant.tenant_id, stored.version
            ))),
        }
    }

    async fn list(&self, after: Option<&TenantId>, limit: usize) -> Result<Vec<Tenant>> {
        let mut tenants = Vec::new();
        let mut start = after.map(|after| tenant_key(after.as_str()));
        while tenants.len() < limit {
            let wanted = i32::try_from(limit - tenants.len()).unwrap_or(i32::MAX);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :tenant")
                .expression_attribute_values(":tenant", s(TENANT_PARTITION))
                .consistent_read(true)
                .limit(wanted)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| self.store_error("Query", TENANT_PARTITION, &error))?;
            for item in page.items() {
                tenants.push(decode_tenant(item, &self.table)?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        // A page cut short by the service's size limit is continued above, never overrun.
        tenants.truncate(limit);
        Ok(tenants)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> Result<IdempotencyClaim> {
        if key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(Error::invalid(
                "Idempotency-Key",
                format!("at most {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
            ));
        }
        let hash = sha256_hex(key.as_bytes());
        for _ in 0..CLAIM_ATTEMPTS {
            let item = match self.try_claim(&hash, fingerprint, tenant_id).await? {
                Attempt::Claimed => return Ok(IdempotencyClaim::Claimed),
                Attempt::Expired => continue,
                Attempt::Bound(item) => item,
            };
            let sort = format!("{IDEMPOTENCY_PARTITION}/{hash}");
            let tenant = text(&item, "tenant_id", &self.table, &sort)?;
            return Ok(IdempotencyClaim::Replay {
                fingerprint: text(&item, "fingerprint", &self.table, &sort)?,
                tenant_id: TenantId::parse(&tenant)
                    .map_err(|error| corrupt(&self.table, &sort, &error.to_string()))?,
            });
        }
        Err(Error::conflict(
            "the Idempotency-Key kept changing; try again",
        ))
    }
}

/// Creates the tenants table `name` (on demand, keyed by `pk` and `sk`, TTL on `expires_at`)
/// unless it exists, and waits until it is active; true if it was created.
///
/// Fails when the service refuses, or the table is not active within a minute.
pub async fn create_table(client: &Client, name: &str) -> Result<bool> {
    let attribute = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definitions are complete")
    };
    let key = |attribute: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(kind)
            .build()
            .expect("key schema elements are complete")
    };
    let request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send();
    let created = match request.await {
        Ok(_) => true,
        Err(error) if code(&error) == Some("ResourceInUseException") => false,
        Err(error) => return Err(store_error("DynamoDB CreateTable", name, &error)),
    };
    wait_until_active(client, name).await?;
    enable_ttl(client, name).await?;
    Ok(created)
}

async fn wait_until_active(client: &Client, name: &str) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let description = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|error| store_error("DynamoDB DescribeTable", name, &error))?;
        let status = description.table().and_then(|table| table.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if started.elapsed() > ACTIVE_WAIT {
            return Err(Error::store(
                format!("DynamoDB DescribeTable {name}"),
                format!("still {status:?} after {ACTIVE_WAIT:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn enable_ttl(client: &Client, name: &str) -> Result<()> {
    let described = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|error| store_error("DynamoDB DescribeTimeToLive", name, &error))?;
    let status = described
        .time_to_live_description()
        .and_then(|description| description.time_to_live_status());
    // Asking again while it is on (or turning on) is an error, not a no-op.
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let specification = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT_ATTRIBUTE)
        .enabled(true)
        .build()
        .expect("the TTL specification is complete");
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|error| store_error("DynamoDB UpdateTimeToLive", name, &error))?;
    Ok(())
}

fn tenant_key(tenant_id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(TENANT_PARTITION)),
        ("sk".to_owned(), s(tenant_id)),
    ])
}

fn tenant_item(tenant: &Tenant) -> Result<Item> {
    let record = serde_json::to_string(tenant)
        .map_err(|error| Error::store(format!("encoding tenant {}", tenant.tenant_id), error))?;
    let mut item = tenant_key(tenant.tenant_id.as_str());
    item.insert("record".to_owned(), s(&record));
    item.insert("version".to_owned(), n(tenant.version));
    item.insert("status".to_owned(), s(tenant.status.as_str()));
    Ok(item)
}

fn decode_tenant(item: &Item, table: &str) -> Result<Tenant> {
    let sort = match item.get("sk") {
        Some(AttributeValue::S(sort)) => sort.as_str(),
        _ => "?",
    };
    let record = text(item, "record", table, sort)?;
    let tenant: Tenant = serde_json::from_str(&record)
        .map_err(|error| corrupt(table, sort, &format!("the record is not a tenant: {error}")))?;
    // The version is stored twice (the condition reads the attribute, readers the record):
    // they must agree, or a write could be judged against a version nobody read.
    match item.get("version") {
        Some(AttributeValue::N(version)) if version == &tenant.version.to_string() => Ok(tenant),
        _ => Err(corrupt(
            table,
            sort,
            "the version attribute disagrees with the record",
        )),
    }
}

fn text(item: &Item, name: &str, table: &str, sort: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        _ => Err(corrupt(table, sort, &format!("no text attribute {name}"))),
    }
}

fn corrupt(table: &str, key: &str, problem: &str) -> Error {
    Error::store(
        format!("DynamoDB {table} {key}"),
        format!("corrupt item: {problem}"),
    )
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}
