//! Tokens of a Cognito user pool verify with the pool's JWKS, fetched over HTTP, against moto
//! server on loopback (started by scripts/test): ID and access tokens of an admin are admitted,
//! a user outside the admin group is refused with 403.

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use tally_auth::{ADMIN_GROUP, AuthConfig, AuthError, KeySet, Verifier};

const REGION: &str = "us-east-1";
const PASSWORD: &str = "Tally-Test-Passw0rd!";

/// The emulator's address, checked to be moto on loopback so nothing reaches real AWS.
fn endpoint() -> String {
    let endpoint = std::env::var("TALLY_TEST_AWS_ENDPOINT").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "these tests run against moto server on loopback: run scripts/test"
    );
    endpoint
}

async fn client(endpoint: &str) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .load()
        .await;
    Client::new(&config)
}

/// A user pool with an app client that allows admin password sign-in, and the admin group.
async fn user_pool(client: &Client) -> (String, String) {
    let pool = client
        .create_user_pool()
        .pool_name("tally-auth-test")
        .send()
        .await
        .unwrap();
    let pool_id = pool
        .user_pool()
        .and_then(|pool| pool.id())
        .unwrap()
        .to_string();
    let app_client = client
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("tally-admin-api")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = app_client
        .user_pool_client()
        .and_then(|app| app.client_id())
        .unwrap();
    client
        .create_group()
        .user_pool_id(&pool_id)
        .group_name(ADMIN_GROUP)
        .send()
        .await
        .unwrap();
    (pool_id, client_id.to_string())
}

/// Creates a confirmed user, in `group` if given, and signs them in: (ID token, access token).
async fn signed_in_user(
    client: &Client,
    pool_id: &str,
    client_id: &str,
    username: &str,
    group: Option<&str>,
) -> (String, String) {
    client
        .admin_create_user()
        .user_pool_id(pool_id)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    client
        .admin_set_user_password()
        .user_pool_id(pool_id)
        .username(username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    if let Some(group) = group {
        let add = client
            .admin_add_user_to_group()
            .user_pool_id(pool_id)
            .username(username);
        add.group_name(group).send().await.unwrap();
    }
    let signed_in = client
        .admin_initiate_auth()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    let tokens = signed_in
        .authentication_result()
        .expect("tokens, not a challenge");
    (
        tokens.id_token().unwrap().to_string(),
        tokens.access_token().unwrap().to_string(),
    )
}

/// The time of the check: the emulator issued the tokens moments ago with a one-hour lifetime.
fn now_unix_secs() -> i64 {
    #[allow(
        clippy::disallowed_methods,
        reason = "an integration test against tokens moto just issued"
    )]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn cognito_tokens_verify_with_the_pool_jwks_and_only_admins_are_admitted() {
    let endpoint = endpoint();
    let client = client(&endpoint).await;
    let (pool_id, client_id) = user_pool(&client).await;
    let (admin_id_token, admin_access_token) =
        signed_in_user(&client, &pool_id, &client_id, "alice", Some(ADMIN_GROUP)).await;
    let (reader_id_token, reader_access_token) =
        signed_in_user(&client, &pool_id, &client_id, "bob", None).await;

    // GIVEN the pool's JWKS fetched from the emulator, and the issuer moto writes in its tokens
    // (the same as Cognito's: https://cognito-idp.{region}.amazonaws.com/{pool_id})
    let jwks_url = KeySet::cognito_jwks_url(Some(&endpoint), REGION, &pool_id);
    let key_set = KeySet::fetch(&jwks_url).await.unwrap();
    let verifier =
        Verifier::new(key_set, AuthConfig::cognito(REGION, &pool_id, &client_id)).unwrap();
    let now = now_unix_secs();

    // WHEN the admin's ID token (aud) and access token (client_id) are verified THEN both pass
    let from_id_token = verifier
        .verify(Some(&format!("Bearer {admin_id_token}")), now)
        .unwrap();
    assert_eq!(from_id_token.username.as_deref(), Some("alice"));
    assert_eq!(from_id_token.groups, [ADMIN_GROUP]);
    let from_access_token = verifier
        .verify(Some(&format!("Bearer {admin_access_token}")), now)
        .unwrap();
    assert_eq!(from_access_token.subject, from_id_token.subject);
    assert_eq!(from_access_token.username.as_deref(), Some("alice"));

    // WHEN a user outside the admin group presents either token THEN 403
    for token in [reader_id_token, reader_access_token] {
        let error = verifier
            .verify(Some(&format!("Bearer {token}")), now)
            .unwrap_err();
        assert!(matches!(error, AuthError::NotAnAdmin { .. }), "{error}");
        assert_eq!(error.status(), 403);
    }

    // WHEN the verifier expects another app client THEN the admin's token is refused with 401
    let other_client = AuthConfig::cognito(REGION, &pool_id, "another-app-client");
    let key_set = KeySet::fetch(&jwks_url).await.unwrap();
    let error = Verifier::new(key_set, other_client)
        .unwrap()
        .verify(Some(&format!("Bearer {admin_id_token}")), now)
        .unwrap_err();
    assert!(matches!(error, AuthError::WrongAudience { .. }), "{error}");
}
