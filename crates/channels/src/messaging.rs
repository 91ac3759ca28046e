//! What every messaging provider adapter (WhatsApp Cloud, Messenger, Instagram, Telegram, LINE,
//! Twilio SMS and WhatsApp) offers the rest of Seam. An adapter checks a webhook delivery,
//! turns its body into [`Event`]s and sends [`Outgoing`] messages; it never touches the
//! database. Each adapter module exposes the same four functions:
//!
//! - `verify(&Settings, &Hook) -> Result<Check, HookError>`: the handshake or the signature,
//!   over the raw body, in constant time, before anything is parsed;
//! - `parse(&Settings, &Hook) -> Result<Vec<Event>, HookError>`;
//! - `send(&Sender, &Settings, &Outgoing) -> Sent`;
//! - `fetch_media(&Fetcher, &Settings, &MediaRef) -> Result<Fetched, FetchError>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use seam_core::{identity::IdentityKind, message::DeliveryStatus};
use serde::{Deserialize, Serialize};

pub use crate::fetch::{Auth, FetchError, Fetched, Fetcher};

/// A channel's settings as an adapter needs them: the public configuration (validated when
/// the channel was created) and the credentials, decrypted for this call only.
#[derive(Clone)]
pub struct Settings {
    /// The channel's public `config` object.
    pub config: serde_json::Value,
    /// The channel's credentials (tokens, app secrets), in the clear. Never log this.
    pub credentials: serde_json::Value,
    /// The URL the provider calls for this channel, exactly as configured in the provider
    /// (`{public_url}/hooks/{channel_id}`): Twilio signs it.
    pub hook_url: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("credentials", &"********")
            .field("hook_url", &self.hook_url)
            .finish()
    }
}

impl Settings {
    /// A string from the public configuration.
    pub fn config_str(&self, key: &str) -> Option<&str> {
        self.config
            .get(key)
            .and_then(|value| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// A string from the credentials.
    pub fn credential(&self, key: &str) -> Option<&str> {
        self.credentials
            .get(key)
            .and_then(|value| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The provider's base URL: the configured `base_url`, else the provider's own.
    pub fn base_url<'a>(&'a self, default: &'a str) -> &'a str {
        self.config_str("base_url")
            .unwrap_or(default)
            .trim_end_matches('/')
    }
}

/// One webhook delivery as it arrived: nothing parsed yet.
#[derive(Clone, Copy, Debug)]
pub struct Hook<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The raw query string, without `?` (empty when none).
    pub query: &'a str,
    pub headers: &'a reqwest::header::HeaderMap,
    pub body: &'a [u8],
}

impl Hook<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// What a verified delivery asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A subscription handshake (Meta's `hub.challenge`): answer 200 with this text, store
    /// nothing.
    Challenge(String),
    /// A signed delivery: store it, then parse it.
    Accepted,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// Missing or wrong signature, token or handshake: 401 (403 for a failed handshake).
    #[error("{0}")]
    Unauthorized(String),
    /// A body that is not what the provider sends: 400 with the reason.
    #[error("{0}")]
    Malformed(String),
}

/// What a delivery carried. A delivery may carry several (Meta batches entries and changes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Message(Incoming),
    Status(StatusReport),
    /// The person blocked or unfollowed the business (LINE `unfollow`, Telegram
    /// `my_chat_member` kicked): nothing can be delivered to them until they come back.
    Blocked {
        sender: Party,
        at: Option<DateTime<Utc>>,
    },
    /// The person came back (LINE `follow`, Telegram member again).
    Unblocked {
        sender: Party,
        at: Option<DateTime<Utc>>,
    },
}

/// Who wrote: the identities the provider proves, most specific first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Party {
    /// E.g. `(Phone, "+16502530000")` and `(Whatsapp, "16502530000")` for WhatsApp;
    /// `(Telegram, "1111111")`; `(Messenger, "<PSID>")`. Phone numbers are E.164 with `+`.
    pub identities: Vec<(IdentityKind, String)>,
    pub name: Option<String>,
    /// A language tag when the provider tells (Telegram `language_code`).
    pub locale: Option<String>,
}

/// Which way a message went. Echoes of messages the business sent from another app or the
/// provider's own inbox are imported as outbound; echoes of Seam's own sends are dropped by
/// the adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incoming {
    /// The provider's id: the deduplication key on (channel, id). An edit gets its own id
    /// (e.g. `<chat>:<message>:edit:<edit_date>`) so it is stored, not dropped.
    pub provider_message_id: String,
    pub direction: Direction,
    pub sender: Party,
    /// The text (body, caption, or a rendering of a location, contact, reaction, button …);
    /// may be empty for media without a caption.
    pub text: String,
    pub content: Content,
    pub media: Vec<MediaRef>,
    /// The provider id of the message this one quotes or replies to.
    pub reply_to: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    /// LINE's reply token (valid for a short time, one use).
    pub reply_token: Option<String>,
    /// The provider marks this delivery as a redelivery (LINE `isRedelivery`).
    pub redelivery: bool,
}

/// What kind of message it was, beyond its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    Text,
    Media,
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    Contacts {
        contacts: Vec<SharedContact>,
    },
    /// A button or list reply, a quick reply, a template button.
    Choice {
        id: Option<String>,
        title: String,
    },
    /// A postback (Messenger button, LINE postback, Telegram callback query).
    Postback {
        payload: String,
        title: Option<String>,
    },
    Reaction {
        to: String,
        /// Empty when the reaction was removed.
        emoji: String,
    },
    /// A new version of an earlier message.
    Edit {
        of: String,
    },
    /// Something the provider marks unsupported, or a kind Seam does not read.
    Unsupported {
        what: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharedContact {
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

/// A file the provider holds, to be downloaded at once (its URL or id expires).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaRef {
    pub source: MediaSource,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum MediaSource {
    /// Fetched through the provider's API with the channel's credentials (WhatsApp media id,
    /// Telegram file id, LINE message id, Twilio media URL on api.twilio.com).
    Provider { id: String },
    /// A URL anyone may fetch (Messenger CDN links, LINE `external`): fetched without
    /// credentials, through the SSRF guard.
    Url { url: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub provider_message_id: String,
    pub status: DeliveryStatus,
    /// `"<code>: <title>"` for failures.
    pub error: Option<String>,
    pub at: Option<DateTime<Utc>>,
    /// The provider says the recipient opted out (Twilio 21610): block further sends.
    pub opted_out: bool,
    /// For a watermark report (`provider_message_id` = `watermark:<ms>`, Messenger): the
    /// customer's provider address; every earlier outbound message to them has this status.
    #[serde(default)]
    pub recipient: Option<String>,
}

/// A message for the provider to deliver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Seam's message id: the idempotency key (LINE `X-Line-Retry-Key` is derived from it).
    pub message_id: uuid::Uuid,
    /// The provider's address of the recipient: `wa_id` digits, PSID, IGSID, chat id, LINE
    /// user id, or an E.164 number for SMS.
    pub to: String,
    pub text: Option<String>,
    pub media: Vec<OutgoingMedia>,
    /// Buttons or quick replies, where the provider has them (at most 3 on WhatsApp).
    pub buttons: Vec<Button>,
    pub template: Option<TemplateMessage>,
    /// Messenger / Instagram tag outside the 24-hour window (`HUMAN_AGENT`).
    pub tag: Option<String>,
    /// LINE: answer with the reply token instead of a push.
    pub reply_token: Option<String>,
    /// The provider id of the message this one answers (WhatsApp `context`, Telegram
    /// `reply_parameters`).
    pub reply_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMedia {
    /// A URL the provider can fetch.
    pub url: String,
    pub content_type: String,
    pub file_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub id: String,
    pub title: String,
}

/// An approved WhatsApp template, with its parameters already filled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateMessage {
    pub name: String,
    /// E.g. `en_US`, `ar`.
    pub language: String,
    /// Body parameters, in order.
    pub parameters: Vec<String>,
    /// Twilio's Content SID for the template (WhatsApp through Twilio).
    #[serde(default)]
    pub content_sid: Option<String>,
}

/// How a send ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Sent {
    /// The provider took it; its id for the message (for status webhooks).
    Accepted { provider_message_id: String },
    /// Try again later (429, 5xx, network): after `retry_after` when the provider said.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Will never succeed as it is (invalid recipient, window closed, blocked, bad token).
    Permanent {
        reason: String,
        /// The recipient opted out or blocked the business (Twilio 21610, Telegram 403).
        opted_out: bool,
    },
}

/// The HTTP client senders use (no redirects, bounded timeouts; see [`crate::http`]).
pub type Sender = reqwest::Client;

/// Reads `Retry-After` (seconds) from a response's headers.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Maps an HTTP failure to the retry rule every adapter shares: 429 and 5xx are retried
/// (honouring `Retry-After`), other 4xx are permanent.
pub fn by_status(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    reason: String,
) -> Sent {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Sent::Retry {
            reason,
            retry_after,
        }
    } else {
        Sent::Permanent {
            reason,
            opted_out: false,
        }
    }
}

/// A network error while sending: retried.
pub fn network_error(error: &reqwest::Error) -> Sent {
    Sent::Retry {
        reason: format!("the provider could not be reached: {}", without_url(error)),
        retry_after: None,
    }
}

/// A reqwest error's text without the URL (Telegram's URLs carry the bot token).
pub fn without_url(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the request timed out".into()
    } else if error.is_connect() {
        "the connection failed".into()
    } else if error.is_body() || error.is_decode() {
        "the response could not be read".into()
    } else {
        "the request failed".into()
    }
}

/// What Seam answers a verified, stored delivery with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acknowledgement {
    pub content_type: &'static str,
    pub body: &'static str,
}

impl Acknowledgement {
    pub const EMPTY: Acknowledgement = Acknowledgement {
        content_type: "text/plain; charset=utf-8",
        body: "",
    };
}

/// One provider's adapter. Implementations are stateless: everything a call needs is in its
/// [`Settings`].
#[async_trait::async_trait]
pub trait Adapter: Send + Sync {
    /// `whatsapp_cloud`, `messenger`, `instagram`, `telegram`, `line` or `twilio`.
    fn name(&self) -> &'static str;

    /// The handshake (GET) or the signature over the raw body (POST), in constant time,
    /// before anything is parsed.
    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError>;

    /// The events of a verified delivery. Reads only the body, the query and `Content-Type`.
    /// Echoes of Seam's own sends and standby events of threads Seam does not own are left out.
    fn parse(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError>;

    /// The answer to a stored delivery (Twilio expects TwiML).
    fn acknowledgement(&self) -> Acknowledgement {
        Acknowledgement::EMPTY
    }

    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent;

    /// Downloads a file the provider holds; credentials only to the provider's hosts.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError>;

    /// Run when the channel is created or its settings change (Telegram's `setWebhook`).
    async fn set_up(&self, _http: &Sender, _settings: &Settings) -> Result<(), String> {
        Ok(())
    }
}

/// The adapter for a channel, by its kind and, for WhatsApp, its `provider` setting
/// (`cloud`, the default, or `twilio`).
pub fn adapter(
    kind: seam_core::channel::ChannelKind,
    config: &serde_json::Value,
) -> Option<&'static dyn Adapter> {
    use seam_core::channel::ChannelKind;
    let provider = config.get("provider").and_then(|value| value.as_str());
    match kind {
        // adapters: meta (WhatsApp Cloud, Messenger, Instagram)
        ChannelKind::Whatsapp if matches!(provider, None | Some("cloud")) => {
            Some(&crate::meta::WHATSAPP_CLOUD)
        }
        ChannelKind::Messenger => Some(&crate::meta::MESSENGER),
        ChannelKind::Instagram => Some(&crate::meta::INSTAGRAM),
        // adapters: telegram, line, twilio (SMS and WhatsApp through Twilio)
        ChannelKind::Telegram => Some(&crate::telegram::TELEGRAM),
        ChannelKind::Line => Some(&crate::line::LINE),
        ChannelKind::Sms => Some(&crate::twilio::SMS),
        ChannelKind::Whatsapp if provider == Some("twilio") => Some(&crate::twilio::WHATSAPP),
        ChannelKind::Whatsapp
        | ChannelKind::Api
        | ChannelKind::Email
        | ChannelKind::Webchat
        | ChannelKind::Voice => None,
    }
}
