//! The environment variables the Lambda reads, in one place, and the settings they give.

pub use tally_runtime::env::{TALLY_APP_CLIENT_ID, TALLY_METERS_FILE, TALLY_USER_POOL_ID};
/// The AWS region (set by Lambda).
pub const AWS_REGION: &str = "AWS_REGION";
/// An AWS endpoint override (an emulator), used for the user pool's key set too.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

/// What the Lambda reads from the environment for its own part (the ports' adapters read
/// theirs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The operator's meters file, if any.
    pub meters_file: Option<String>,
    /// The region.
    pub region: String,
    /// The user pool.
    pub user_pool_id: String,
    /// The app client.
    pub app_client_id: String,
    /// The endpoint override, if any.
    pub endpoint_url: Option<String>,
}

impl Settings {
    /// The settings from `variable` (the process environment in `main`); an empty variable
    /// counts as unset.
    ///
    /// Fails naming the variable when the region, user pool or app client is not set.
    pub fn from_env(variable: impl Fn(&str) -> Option<String>) -> crate::Result<Settings> {
        let set = |name: &str| variable(name).filter(|value| !value.trim().is_empty());
        let required = |name: &str| {
            set(name).ok_or_else(|| crate::Error::Config {
                detail: format!("{name} is not set"),
            })
        };
        Ok(Settings {
            meters_file: set(TALLY_METERS_FILE),
            region: required(AWS_REGION)?,
            user_pool_id: required(TALLY_USER_POOL_ID)?,
            app_client_id: required(TALLY_APP_CLIENT_ID)?,
            endpoint_url: set(AWS_ENDPOINT_URL),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_an_environment_when_reading_then_required_variables_are_named() {
        let full = |name: &str| match name {
            AWS_REGION => Some("eu-west-1".to_owned()),
            TALLY_USER_POOL_ID => Some("eu-west-1_abc".to_owned()),
            TALLY_APP_CLIENT_ID => Some("client".to_owned()),
            _ => Some(String::new()),
        };
        let settings = Settings::from_env(full).unwrap();
        assert_eq!((settings.meters_file, settings.endpoint_url), (None, None));
        let error = Settings::from_env(|name| full(name).filter(|_| name != AWS_REGION));
        assert!(error.unwrap_err().to_string().contains(AWS_REGION));
    }
}
