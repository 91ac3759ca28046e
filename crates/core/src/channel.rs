//! Channels: configured connections to the outside world. Creating one checks the fields its
//! kind needs; the API channel gets a secret (shown once) that authenticates its inbound calls
//! and signs what Seam delivers to its `webhook_url`.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    auth::random_secret,
    ids::{ChannelId, WorkspaceId},
    ports::{Store, Vault},
    user::{Actor, Permission},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Api,
    Email,
    Webchat,
    Whatsapp,
    Messenger,
    Instagram,
    Telegram,
    Line,
    Sms,
    Voice,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Api => "api",
            ChannelKind::Email => "email",
            ChannelKind::Webchat => "webchat",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Telegram => "telegram",
            ChannelKind::Line => "line",
            ChannelKind::Sms => "sms",
            ChannelKind::Voice => "voice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "api" => ChannelKind::Api,
            "email" => ChannelKind::Email,
            "webchat" => ChannelKind::Webchat,
            "whatsapp" => ChannelKind::Whatsapp,
            "messenger" => ChannelKind::Messenger,
            "instagram" => ChannelKind::Instagram,
            "telegram" => ChannelKind::Telegram,
            "line" => ChannelKind::Line,
            "sms" => ChannelKind::Sms,
            "voice" => ChannelKind::Voice,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub kind: ChannelKind,
    pub name: String,
    /// Kind-specific settings, validated on creation (see [`validate_config`]).
    pub config: serde_json::Value,
    /// The channel secret; never serialised to clients after creation.
    #[serde(skip_serializing)]
    pub secret: String,
    /// Messaging channels: the provider credentials (tokens, app secrets) as a JSON object,
    /// sealed by the [`Vault`]; empty when the channel has none. Never serialised.
    #[serde(skip_serializing, default)]
    pub credentials: String,
    pub created_at: Timestamp,
}

impl Channel {
    /// The configuration as clients may see it: secrets inside it (relay passwords, signing
    /// keys) are replaced by `"********"`.
    pub fn public_config(&self) -> serde_json::Value {
        let mut config = self.config.clone();
        for (section, key) in SECRET_SETTINGS {
            if let Some(value) = config
                .get_mut(*section)
                .and_then(|section| section.get_mut(*key))
                && !value.is_null()
            {
                *value = serde_json::Value::String("********".into());
            }
        }
        config
    }

    /// Where an API channel delivers outbound messages and events, if configured.
    pub fn webhook_url(&self) -> Option<&str> {
        self.config
            .get("webhook_url")
            .and_then(|url| url.as_str())
            .filter(|url| !url.is_empty())
    }
}

/// Settings inside a channel's config that are secrets: `(section, key)`.
const SECRET_SETTINGS: &[(&str, &str)] = &[
    ("relay", "password"),
    ("dkim", "private_key"),
    ("imap", "password"),
];

/// Checks the configuration a channel kind needs. Kinds whose adapters are not built yet are
/// refused, so that no channel exists that cannot carry a message.
pub fn validate_config(kind: ChannelKind, config: &serde_json::Value) -> Result<serde_json::Value> {
    let object = match config {
        serde_json::Value::Null => serde_json::Map::new(),
        serde_json::Value::Object(object) => object.clone(),
        _ => return Err(Error::invalid("config", "must be an object")),
    };
    match kind {
        ChannelKind::Api => {
            for key in object.keys() {
                if key != "webhook_url" {
                    return Err(Error::invalid(
                        format!("config.{key}"),
                        "is not a setting of api",
                    ));
                }
            }
            if let Some(url) = object.get("webhook_url") {
                let url = url
                    .as_str()
                    .ok_or_else(|| Error::invalid("config.webhook_url", "must be a string"))?;
                if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048
                {
                    return Err(Error::invalid(
                        "config.webhook_url",
                        "must be an http or https URL of at most 2048 characters",
                    ));
                }
            }
            Ok(serde_json::Value::Object(object))
        }
        ChannelKind::Email => crate::email::validate_config(object),
        ChannelKind::Webchat => crate::webchat::validate_config(object),
        kind if crate::messaging::is_messaging(kind) => {
            crate::messaging::validate_config(kind, object)
        }
        other => Err(Error::invalid(
            "kind",
            format!(
                "channels of kind {} are not available in this version",
                other.as_str()
            ),
        )),
    }
}

/// What creating a channel returns: the channel and, once, its secret.
#[derive(Debug)]
pub struct CreatedChannel {
    pub channel: Channel,
    pub secret: String,
}

/// A channel to create. `credentials` are the provider's secrets (messaging kinds only),
/// sealed by `vault` before they are stored.
pub struct NewChannel<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub config: &'a serde_json::Value,
    pub credentials: &'a serde_json::Value,
}

pub async fn create_channel(
    store: &dyn Store,
    actor: &Actor,
    kind: &str,
    name: &str,
    config: &serde_json::Value,
    now: Timestamp,
) -> Result<CreatedChannel> {
    create_channel_with(
        store,
        None,
        actor,
        NewChannel {
            kind,
            name,
            config,
            credentials: &serde_json::Value::Null,
        },
        now,
    )
    .await
}

/// [`create_channel`] for any kind, messaging channels with their credentials included.
pub async fn create_channel_with(
    store: &dyn Store,
    vault: Option<&dyn Vault>,
    actor: &Actor,
    new: NewChannel<'_>,
    now: Timestamp,
) -> Result<CreatedChannel> {
    let NewChannel {
        kind,
        name,
        config,
        credentials,
    } = new;
    actor.require(Permission::ManageChannels)?;
    let kind =
        ChannelKind::parse(kind).ok_or_else(|| Error::invalid("kind", "is not a channel kind"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must have 1 to 100 characters"));
    }
    let config = validate_config(kind, config)?;
    let credentials = if crate::messaging::is_messaging(kind) {
        let credentials = crate::messaging::validate_credentials(kind, &config, credentials)?;
        let vault = vault.ok_or_else(|| Error::internal("no vault to seal credentials with"))?;
        seal_credentials(vault, &credentials)?
    } else {
        if !credentials.is_null() {
            return Err(Error::invalid(
                "credentials",
                format!("channels of kind {} take no credentials", kind.as_str()),
            ));
        }
        String::new()
    };
    let secret = random_secret();
    let channel = Channel {
        id: ChannelId::new(),
        workspace_id: actor.workspace_id,
        kind,
        name: name.to_string(),
        config,
        secret: secret.clone(),
        credentials,
        created_at: now,
    };
    if crate::messaging::is_messaging(kind) {
        // The provider learns where to deliver (Telegram's setWebhook) from a job, retried
        // until the provider answers, written with the channel.
        let mut tx = store.begin().await?;
        tx.insert_channel(&channel).await?;
        tx.insert_job(&set_up_job(&channel, "created", now)).await?;
        tx.commit().await?;
    } else {
        store.insert_channel(&channel).await?;
    }
    Ok(CreatedChannel { channel, secret })
}

/// A channel's credentials, opened: a JSON object (empty when it has none).
pub fn open_credentials(vault: &dyn Vault, channel: &Channel) -> Result<serde_json::Value> {
    if channel.credentials.is_empty() {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    let plain = vault.open(&channel.credentials)?;
    serde_json::from_slice(&plain).map_err(Error::internal)
}

/// The names of the credentials a channel holds (never their values), for display.
pub fn credential_names(vault: &dyn Vault, channel: &Channel) -> Vec<String> {
    match open_credentials(vault, channel) {
        Ok(serde_json::Value::Object(credentials)) => credentials.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// What `PATCH /api/v1/channels/{id}` may change: the name of any channel; the settings and
/// credentials of messaging channels, key by key (a key set to `null` is removed, keys not
/// named are kept).
#[derive(Clone, Debug, Default)]
pub struct ChannelChanges {
    pub name: Option<String>,
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    pub credentials: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes a channel: checked as on creation, credentials sealed again, and a messaging
/// channel set up again with its provider (Telegram's `setWebhook` with a new token).
pub async fn update_channel(
    store: &dyn Store,
    vault: &dyn Vault,
    actor: &Actor,
    id: ChannelId,
    changes: ChannelChanges,
    now: Timestamp,
) -> Result<Channel> {
    actor.require(Permission::ManageChannels)?;
    let mut tx = store.begin().await?;
    let mut channel = tx
        .get_channel(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(name) = changes.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must have 1 to 100 characters"));
        }
        channel.name = name.to_string();
    }
    let messaging = crate::messaging::is_messaging(channel.kind);
    if !messaging && (changes.config.is_some() || changes.credentials.is_some()) {
        return Err(Error::invalid(
            "config",
            format!(
                "the settings of {} channels cannot be changed in this version; create a new \
                 channel",
                channel.kind.as_str()
            ),
        ));
    }
    if let Some(config) = changes.config {
        let mut merged = channel.config.as_object().cloned().unwrap_or_default();
        merge(&mut merged, config);
        channel.config = validate_config(channel.kind, &serde_json::Value::Object(merged))?;
    }
    if messaging {
        let mut credentials = match open_credentials(vault, &channel)? {
            serde_json::Value::Object(credentials) => credentials,
            _ => serde_json::Map::new(),
        };
        if let Some(changed) = changes.credentials {
            merge(&mut credentials, changed);
        }
        let credentials = crate::messaging::validate_credentials(
            channel.kind,
            &channel.config,
            &serde_json::Value::Object(credentials),
        )?;
        channel.credentials = seal_credentials(vault, &credentials)?;
        let changed = format!("changed:{}", now.timestamp_nanos_opt().unwrap_or_default());
        tx.insert_job(&set_up_job(&channel, &changed, now)).await?;
    }
    tx.update_channel(&channel).await?;
    tx.commit().await?;
    Ok(channel)
}

fn seal_credentials(
    vault: &dyn Vault,
    credentials: &serde_json::Map<String, serde_json::Value>,
) -> Result<String> {
    let plain = serde_json::to_vec(credentials).map_err(Error::internal)?;
    vault.seal(&plain)
}

/// The job that tells the provider where to deliver for `channel` (Telegram's `setWebhook`).
/// One per `occasion`: a second job for the same channel and occasion is not created.
pub fn set_up_job(channel: &Channel, occasion: &str, now: Timestamp) -> crate::jobs::NewJob {
    crate::jobs::NewJob::new(
        channel.workspace_id,
        crate::jobs::kind::SET_UP_CHANNEL,
        serde_json::json!({ "channel_id": channel.id }),
        now,
    )
    .dedupe(format!("set_up:{}:{occasion}", channel.id))
}

/// Sets each key of `changes` in `into`; a `null` removes it.
fn merge(
    into: &mut serde_json::Map<String, serde_json::Value>,
    changes: serde_json::Map<String, serde_json::Value>,
) {
    for (key, value) in changes {
        if value.is_null() {
            into.remove(&key);
        } else {
            into.insert(key, value);
        }
    }
}

pub async fn list_channels(store: &dyn Store, actor: &Actor) -> Result<Vec<Channel>> {
    actor.require(Permission::ReadChannels)?;
    store.list_channels(actor.workspace_id).await
}
