//! Credentials kept in AWS Secrets Manager: the shared database owner's login (a
//! `{"username", "password"}` secret that RDS keeps and rotates) and the application login's
//! password. They are read when needed, never logged, and never repeated in an error.

use aws_sdk_secretsmanager::Client;
use serde_json::Value;

use crate::failure::detail;

/// Reads secrets through `client`.
#[derive(Clone, Debug)]
pub struct Secrets {
    client: Client,
}

impl Secrets {
    /// Secrets read through `client`.
    pub fn new(client: Client) -> Secrets {
        Secrets { client }
    }

    /// Secrets read with the SDK configuration `config`.
    pub fn from_config(config: &aws_config::SdkConfig) -> Secrets {
        Secrets::new(Client::new(config))
    }

    /// The current string value of the secret `arn`.
    ///
    /// Fails, naming the secret but not its value, when it cannot be read or holds binary data.
    pub async fn string(&self, arn: &str) -> Result<String, String> {
        let answer = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|error| format!("Secrets Manager GetSecretValue {arn}: {}", detail(&error)))?;
        answer.secret_string().map(str::to_owned).ok_or_else(|| {
            format!("Secrets Manager GetSecretValue {arn}: the secret holds no string")
        })
    }

    /// The user name and password of the `{"username": ..., "password": ...}` secret `arn`
    /// (the layout RDS uses for the passwords it manages).
    ///
    /// Fails like [`Secrets::string`], or when the secret is not such an object.
    pub async fn login(&self, arn: &str) -> Result<(String, String), String> {
        let text = self.string(arn).await?;
        parse_login(&text).ok_or_else(|| {
            format!(
                "secret {arn} is not a JSON object with the string fields \"username\" and \
                 \"password\""
            )
        })
    }
}

/// The login of a `{"username", "password"}` document; `None` when it is anything else.
fn parse_login(text: &str) -> Option<(String, String)> {
    let document: Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| document.get(name)?.as_str().map(str::to_owned);
    Some((field("username")?, field("password")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rds_managed_secret_yields_its_login() {
        let text = r#"{"username": "tally_owner", "password": "p@ss\"word", "engine": "postgres"}"#;
        assert_eq!(
            parse_login(text),
            Some(("tally_owner".to_owned(), "p@ss\"word".to_owned()))
        );
    }

    #[test]
    fn anything_else_yields_nothing() {
        for text in [
            "just-a-password",
            r#"{"username": "tally_owner"}"#,
            r#"{"username": "tally_owner", "password": 42}"#,
            r#"["tally_owner", "secret"]"#,
            "",
        ] {
            assert_eq!(parse_login(text), None, "{text}");
        }
    }
}
