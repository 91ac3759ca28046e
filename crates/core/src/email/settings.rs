//! The email channel's settings and their checks.

use super::*;

/// How Seam talks to the relay that sends its mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelaySettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (SMTPS) or `none`.
    #[serde(default = "default_security")]
    pub security: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_security() -> String {
    "starttls".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimSettings {
    pub domain: String,
    pub selector: String,
    /// PEM, RSA or Ed25519.
    pub private_key: String,
}

/// A mailbox Seam pulls mail from over IMAP, for businesses that keep their mail provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapSettings {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    /// TLS from the first byte (port 993); plain IMAP only when false.
    #[serde(default = "default_true")]
    pub tls: bool,
    pub username: String,
    pub password: Option<String>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Move stored mail to this folder; otherwise it is only marked seen.
    #[serde(default)]
    pub move_to: Option<String>,
}

fn default_imap_port() -> u16 {
    993
}

fn default_true() -> bool {
    true
}

fn default_mailbox() -> String {
    "INBOX".into()
}

/// An email channel's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    /// The address customers write to; replies go out from it, with the conversation's reply
    /// token as a plus-address in Reply-To.
    pub address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    /// Markdown appended to every reply.
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub relay: Option<RelaySettings>,
    #[serde(default)]
    pub dkim: Option<DkimSettings>,
    #[serde(default)]
    pub imap: Option<ImapSettings>,
}

impl EmailSettings {
    pub fn of(channel: &crate::channel::Channel) -> Result<EmailSettings> {
        serde_json::from_value(channel.config.clone())
            .map_err(|error| Error::internal(format!("stored email channel settings: {error}")))
    }

    /// The domain of the channel's address: where Message-IDs of its mail are minted.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or("localhost")
    }
}

pub(crate) fn validate_config(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    const KEYS: &[&str] = &["address", "from_name", "signature", "relay", "dkim", "imap"];
    if let Some(key) = object.keys().find(|key| !KEYS.contains(&key.as_str())) {
        return Err(Error::invalid(
            format!("config.{key}"),
            "is not a setting of email",
        ));
    }
    let value = serde_json::Value::Object(object);
    let mut settings: EmailSettings = serde_json::from_value(value).map_err(|error| {
        Error::invalid("config", format!("is not valid email settings: {error}"))
    })?;
    let address = crate::identity::Identity::parse_email("config.address", &settings.address)?;
    settings.address = address.value;
    if settings.address.contains('+') {
        return Err(Error::invalid(
            "config.address",
            "must not contain '+': replies are told apart by a plus-address",
        ));
    }
    if settings
        .from_name
        .as_ref()
        .is_some_and(|name| name.chars().count() > 100 || name.contains(['\r', '\n']))
    {
        return Err(Error::invalid(
            "config.from_name",
            "must be one line of at most 100 characters",
        ));
    }
    if settings
        .signature
        .as_ref()
        .is_some_and(|signature| signature.len() > 4000)
    {
        return Err(Error::invalid(
            "config.signature",
            "is longer than 4000 bytes",
        ));
    }
    if let Some(relay) = &settings.relay {
        if relay.host.trim().is_empty() || relay.host.contains(['/', ' ', '\r', '\n']) {
            return Err(Error::invalid("config.relay.host", "is not a host name"));
        }
        if relay.port == 0 {
            return Err(Error::invalid("config.relay.port", "must be a port number"));
        }
        if !["starttls", "tls", "none"].contains(&relay.security.as_str()) {
            return Err(Error::invalid(
                "config.relay.security",
                "must be starttls, tls or none",
            ));
        }
        if relay.password.is_some() != relay.username.is_some() {
            return Err(Error::invalid(
                "config.relay",
                "needs both username and password, or neither",
            ));
        }
    }
    if let Some(imap) = &settings.imap
        && (imap.host.trim().is_empty()
            || imap.host.contains(['/', ' ', '\r', '\n'])
            || imap.port == 0
            || imap.username.trim().is_empty()
            || imap.password.is_none()
            || imap.mailbox.trim().is_empty())
    {
        return Err(Error::invalid(
            "config.imap",
            "needs a host, a port, a username, a password and a mailbox",
        ));
    }
    if let Some(dkim) = &settings.dkim
        && (dkim.domain.trim().is_empty()
            || dkim.selector.trim().is_empty()
            || !dkim.private_key.contains("PRIVATE KEY"))
    {
        return Err(Error::invalid(
            "config.dkim",
            "needs a domain, a selector and a PEM private key",
        ));
    }
    serde_json::to_value(&settings).map_err(Error::internal)
}
