//! The mailer over SES (API v2): one plain-text SendEmail per email, from the configured sender,
//! answering with SES's message id.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use tally_tenancy::ports::StepResult;
use tally_tenancy::{Email, Mailer, StepError};

use crate::failure::step_error;

/// The character set of every subject and body.
const CHARSET: &str = "UTF-8";

/// Email through SES.
#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// Sends through `client` from `from`, an address (or domain) SES has verified.
    pub fn new(client: Client, from: impl Into<String>) -> SesMailer {
        SesMailer {
            client,
            from: from.into(),
        }
    }

    /// The sender.
    pub fn from_address(&self) -> &str {
        &self.from
    }
}

impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> StepResult<String> {
        let text = |data: &str| {
            Content::builder()
                .data(data)
                .charset(CHARSET)
                .build()
                .expect("content has its data")
        };
        let message = Message::builder()
            .subject(text(&email.subject))
            .body(Body::builder().text(text(&email.body)).build())
            .build();
        let resource = format!("from {} to {}", self.from, email.to);
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|error| step_error("SES SendEmail", &resource, &error))?;
        sent.message_id().map(str::to_owned).ok_or_else(|| {
            StepError::permanent(format!(
                "SES SendEmail {resource}: no message id in the answer"
            ))
        })
    }
}
