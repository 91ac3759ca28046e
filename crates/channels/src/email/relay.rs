//! Outbound email through an SMTP relay with lettre: plain, STARTTLS or implicit TLS (rustls with
//! `ring`), optional authentication, pooled connections. The relay's answer becomes a
//! [`Delivery`]: 4xx and network trouble are worth retrying, 5xx is final (RFC 5321 §4.2.1).
//! No database access; the password is never logged nor put in a reason.

use std::fmt;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{self, AsyncSmtpTransport};
use lettre::{AsyncTransport, Tokio1Executor};

use super::smtp::SmtpError;
use crate::api_channel::Delivery;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Clear text: a relay on the same host or network only.
    None,
    /// Upgraded with STARTTLS, which must succeed before anything else is sent (port 587).
    StartTls,
    /// TLS from the first byte (port 465, RFC 8314).
    Tls,
}

#[derive(Clone)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Skips the certificate and host name checks: for tests against a self-signed local server
    /// only.
    pub accept_invalid_certs: bool,
    /// For connecting and for each reply.
    pub timeout: Duration,
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A pooled connection to one relay; cheap to share behind an `Arc`.
pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    security: Security,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Must be called inside a Tokio runtime: the pool starts a task that closes idle
    /// connections.
    pub fn new(config: &RelayConfig) -> Result<Relay, SmtpError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SmtpError::Relay(
                "a relay must be created inside a Tokio runtime".to_string(),
            ));
        }
        let tls_parameters = || {
            TlsParameters::builder(config.host.clone())
                .dangerous_accept_invalid_certs(config.accept_invalid_certs)
                .dangerous_accept_invalid_hostnames(config.accept_invalid_certs)
                .build_rustls()
                .map_err(|error| SmtpError::Relay(error.to_string()))
        };
        let tls = match config.security {
            Security::None => Tls::None,
            Security::StartTls => Tls::Required(tls_parameters()?),
            Security::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(username) = &config.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Relay {
            transport: builder.build(),
            host: config.host.clone(),
            port: config.port,
            security: config.security,
        })
    }

    /// Sends `raw` (a complete RFC 5322 message) to `recipients`, with `envelope_from` as the
    /// reverse-path; `""` sends with the null sender `<>`.
    pub async fn send(&self, envelope_from: &str, recipients: &[String], raw: &[u8]) -> Delivery {
        let envelope = match envelope(envelope_from, recipients) {
            Ok(envelope) => envelope,
            Err(reason) => return Delivery::Permanent { reason },
        };
        match self.transport.send_raw(&envelope, raw).await {
            Ok(_) => Delivery::Delivered,
            Err(error) => classify(&error),
        }
    }
}

fn envelope(envelope_from: &str, recipients: &[String]) -> Result<Envelope, String> {
    let from = if envelope_from.is_empty() {
        None
    } else {
        let address = envelope_from
            .parse::<Address>()
            .map_err(|_| format!("the envelope sender {envelope_from:?} is not an address"))?;
        Some(address)
    };
    let to = recipients
        .iter()
        .map(|recipient| {
            recipient
                .parse::<Address>()
                .map_err(|_| format!("the recipient {recipient:?} is not an address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(from, to).map_err(|_| "the message has no recipient".to_string())
}

/// What the relay's failure means for the message.
fn classify(error: &smtp::Error) -> Delivery {
    if let Some(code) = error.status() {
        // lettre keeps the reply's text as the error's source.
        let text = std::error::Error::source(error)
            .map(|source| source.to_string())
            .unwrap_or_default();
        let reply = format!("{code} {text}").trim().to_string();
        return if error.is_permanent() {
            Delivery::Permanent {
                reason: format!("the relay refused the message: {reply}"),
            }
        } else {
            Delivery::Retry {
                reason: format!("the relay deferred the message: {reply}"),
                retry_after: None,
            }
        };
    }
    if error.is_client() {
        // Raised before sending: the message or the configuration cannot work as it is
        // (say, 8-bit content to a relay without 8BITMIME).
        return Delivery::Permanent {
            reason: format!("the relay cannot take the message: {error}"),
        };
    }
    let reason = if error.is_timeout() {
        "the relay did not answer in time".to_string()
    } else if error.is_tls() {
        format!("TLS with the relay failed: {error}")
    } else {
        format!("could not talk to the relay: {error}")
    };
    Delivery::Retry {
        reason,
        retry_after: None,
    }
}
