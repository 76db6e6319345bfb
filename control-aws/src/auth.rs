//! The ConfigureAuth step over Cognito: a premium tenant gets a user pool of its own (with an app
//! client and an admin group), a standard tenant an app client and a group in the shared pool.
//! Cognito lets names repeat, so every part is looked up by its name before it is created, and
//! undo removes every part that carries the tenant's name.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, PreventUserExistenceErrorTypes,
};
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Provision, Provisioned, StepError, Tenant, Tier};

use crate::failure::{code, step_error};
use crate::names::{ADMIN_GROUP, app_client_name, tenant_group_name, user_pool_name};
use crate::policy::{TENANT_TAG, TIER_TAG};

/// The resource name of the tenant's user pool id.
pub const USER_POOL_RESOURCE: &str = "auth.user_pool_id";
/// The resource name of the tenant's app client id.
pub const APP_CLIENT_RESOURCE: &str = "auth.app_client_id";
/// The resource name of the tenant's group.
pub const GROUP_RESOURCE: &str = "auth.group";
/// Most items a Cognito list request returns (the service's own limit).
const LIST_PAGE_ITEMS: i32 = 60;
/// The code of Cognito's "no such pool, client or group".
const NOT_FOUND: &str = "ResourceNotFoundException";

/// The ConfigureAuth step in Cognito.
#[derive(Clone, Debug)]
pub struct CognitoAuth {
    client: Client,
    shared_pool_id: Option<String>,
}

impl CognitoAuth {
    /// Auth through `client`, for premium tenants only until [`CognitoAuth::sharing`] names the
    /// standard tenants' pool.
    pub fn new(client: Client) -> CognitoAuth {
        CognitoAuth {
            client,
            shared_pool_id: None,
        }
    }

    /// The same, with standard tenants in the user pool `pool_id`.
    pub fn sharing(self, pool_id: impl Into<String>) -> CognitoAuth {
        CognitoAuth {
            shared_pool_id: Some(pool_id.into()),
            ..self
        }
    }

    fn shared_pool(&self, tenant: &Tenant) -> StepResult<&str> {
        self.shared_pool_id.as_deref().ok_or_else(|| {
            StepError::permanent(format!(
                "standard tenant {} needs the shared user pool, and none is configured ({})",
                tenant.tenant_id,
                crate::settings::TALLY_USER_POOL_ID
            ))
        })
    }

    async fn apply_premium(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let name = user_pool_name(&tenant.tenant_id);
        let pool_id = match self.find_pools(&name).await?.into_iter().min() {
            Some(pool_id) => pool_id,
            None => self.create_pool(tenant, &name).await?,
        };
        let client_id = self
            .ensure_client(&pool_id, &app_client_name(&tenant.tenant_id))
            .await?;
        self.ensure_group(&pool_id, ADMIN_GROUP, "The tenant's administrators")
            .await?;
        Ok(Provisioned::one(USER_POOL_RESOURCE, pool_id)
            .with(APP_CLIENT_RESOURCE, client_id)
            .with(GROUP_RESOURCE, ADMIN_GROUP))
    }

    async fn apply_standard(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        let pool_id = self.shared_pool(tenant)?;
        let group = tenant_group_name(&tenant.tenant_id);
        let description = format!("The users of tenant {}", tenant.tenant_id);
        self.ensure_group(pool_id, &group, &description).await?;
        let client_id = self
            .ensure_client(pool_id, &app_client_name(&tenant.tenant_id))
            .await?;
        Ok(Provisioned::one(USER_POOL_RESOURCE, pool_id)
            .with(APP_CLIENT_RESOURCE, client_id)
            .with(GROUP_RESOURCE, group))
    }

    async fn undo_premium(&self, tenant: &Tenant) -> StepResult<()> {
        let name = user_pool_name(&tenant.tenant_id);
        let mut pools = self.find_pools(&name).await?;
        if let Some(recorded) = tenant.resources.get(USER_POOL_RESOURCE)
            && !pools.contains(recorded)
            && self.pool_named(recorded, &name).await?
        {
            pools.push(recorded.clone());
        }
        for pool_id in pools {
            // Deleting a pool deletes its users: never the shared one, whatever the record says.
            if self.shared_pool_id.as_ref() == Some(&pool_id) {
                return Err(StepError::permanent(format!(
                    "user pool {pool_id} of tenant {} is the shared pool; not deleting it",
                    tenant.tenant_id
                )));
            }
            match self
                .client
                .delete_user_pool()
                .user_pool_id(&pool_id)
                .send()
                .await
            {
                Ok(_) => {}
                Err(error) if code(&error) == Some(NOT_FOUND) => {}
                Err(error) => return Err(step_error("Cognito DeleteUserPool", &pool_id, &error)),
            }
        }
        Ok(())
    }

    async fn undo_standard(&self, tenant: &Tenant) -> StepResult<()> {
        let pool_id = match tenant.resources.get(USER_POOL_RESOURCE) {
            Some(recorded) => recorded.as_str(),
            None => self.shared_pool(tenant)?,
        };
        let mut clients = self
            .find_clients(pool_id, &app_client_name(&tenant.tenant_id))
            .await?;
        if let Some(recorded) = tenant.resources.get(APP_CLIENT_RESOURCE)
            && !clients.contains(recorded)
        {
            clients.push(recorded.clone());
        }
        for client_id in clients {
            let deleted = self
                .client
                .delete_user_pool_client()
                .user_pool_id(pool_id)
                .client_id(&client_id)
                .send();
            match deleted.await {
                Ok(_) => {}
                Err(error) if code(&error) == Some(NOT_FOUND) => {}
                Err(error) => {
                    let resource = format!("{pool_id} {client_id}");
                    return Err(step_error(
                        "Cognito DeleteUserPoolClient",
                        &resource,
                        &error,
                    ));
                }
            }
        }
        let group = tenant_group_name(&tenant.tenant_id);
        match self
            .client
            .delete_group()
            .user_pool_id(pool_id)
            .group_name(&group)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if code(&error) == Some(NOT_FOUND) => Ok(()),
            Err(error) => Err(step_error(
                "Cognito DeleteGroup",
                &format!("{pool_id} {group}"),
                &error,
            )),
        }
    }
}

impl Provision for CognitoAuth {
    async fn apply(&self, tenant: &Tenant) -> StepResult<Provisioned> {
        match tenant.tier {
            Tier::Premium => self.apply_premium(tenant).await,
            Tier::Standard => self.apply_standard(tenant).await,
        }
    }

    async fn undo(&self, tenant: &Tenant) -> StepResult<()> {
        // The tier cannot change in place, so it still says what apply created.
        match tenant.tier {
            Tier::Premium => self.undo_premium(tenant).await,
            Tier::Standard => self.undo_standard(tenant).await,
        }
    }
}

impl CognitoAuth {
    /// The ids of every user pool called `name`.
    async fn find_pools(&self, name: &str) -> StepResult<Vec<String>> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_user_pools()
            .max_results(LIST_PAGE_ITEMS)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| step_error("Cognito ListUserPools", name, &error))?;
            found.extend(
                page.user_pools()
                    .iter()
                    .filter(|pool| pool.name() == Some(name))
                    .filter_map(|pool| pool.id().map(str::to_owned)),
            );
        }
        Ok(found)
    }

    /// Whether the pool `pool_id` exists and is called `name`.
    async fn pool_named(&self, pool_id: &str, name: &str) -> StepResult<bool> {
        match self
            .client
            .describe_user_pool()
            .user_pool_id(pool_id)
            .send()
            .await
        {
            Ok(output) => Ok(output.user_pool().and_then(|pool| pool.name()) == Some(name)),
            Err(error) if code(&error) == Some(NOT_FOUND) => Ok(false),
            Err(error) => Err(step_error("Cognito DescribeUserPool", pool_id, &error)),
        }
    }

    async fn create_pool(&self, tenant: &Tenant, name: &str) -> StepResult<String> {
        // Users are invited by the tenant's admins; nobody signs up on their own.
        let invitation_only = AdminCreateUserConfigType::builder()
            .allow_admin_create_user_only(true)
            .build();
        let created = self
            .client
            .create_user_pool()
            .pool_name(name)
            .admin_create_user_config(invitation_only)
            .user_pool_tags(TENANT_TAG, tenant.tenant_id.as_str())
            .user_pool_tags(TIER_TAG, tenant.tier.as_str())
            .send()
            .await
            .map_err(|error| step_error("Cognito CreateUserPool", name, &error))?;
        created
            .user_pool()
            .and_then(|pool| pool.id())
            .map(str::to_owned)
            .ok_or_else(|| {
                StepError::permanent(format!(
                    "Cognito CreateUserPool {name}: no pool id in the answer"
                ))
            })
    }

    /// The ids of every app client called `name` in the pool.
    async fn find_clients(&self, pool_id: &str, name: &str) -> StepResult<Vec<String>> {
        let mut found = Vec::new();
        let request = self
            .client
            .list_user_pool_clients()
            .user_pool_id(pool_id)
            .max_results(LIST_PAGE_ITEMS);
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(error) if code(&error) == Some(NOT_FOUND) => return Ok(Vec::new()),
                Err(error) => {
                    return Err(step_error(
                        "Cognito ListUserPoolClients",
                        &format!("{pool_id} {name}"),
                        &error,
                    ));
                }
            };
            found.extend(
                page.user_pool_clients()
                    .iter()
                    .filter(|client| client.client_name() == Some(name))
                    .filter_map(|client| client.client_id().map(str::to_owned)),
            );
        }
        Ok(found)
    }

    /// Creates the app client `name` in the pool unless one exists; its id.
    async fn ensure_client(&self, pool_id: &str, name: &str) -> StepResult<String> {
        if let Some(client_id) = self.find_clients(pool_id, name).await?.into_iter().min() {
            return Ok(client_id);
        }
        let created = self
            .client
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(name)
            .generate_secret(false)
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            .send()
            .await
            .map_err(|error| {
                step_error(
                    "Cognito CreateUserPoolClient",
                    &format!("{pool_id} {name}"),
                    &error,
                )
            })?;
        created
            .user_pool_client()
            .and_then(|client| client.client_id())
            .map(str::to_owned)
            .ok_or_else(|| {
                StepError::permanent(format!(
                    "Cognito CreateUserPoolClient {pool_id} {name}: no client id in the answer"
                ))
            })
    }

    /// Creates the group `name` in the pool unless it exists.
    async fn ensure_group(&self, pool_id: &str, name: &str, description: &str) -> StepResult<()> {
        let created = self
            .client
            .create_group()
            .user_pool_id(pool_id)
            .group_name(name)
            .description(description)
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(error) if code(&error) == Some("GroupExistsException") => Ok(()),
            Err(error) => Err(step_error(
                "Cognito CreateGroup",
                &format!("{pool_id} {name}"),
                &error,
            )),
        }
    }
}
