//! Messaging channels on this node: the key that seals their credentials, and the jobs that
//! apply what their webhooks delivered (messages with their files, delivery statuses, blocks,
//! SMS consent keywords) and tell providers where to deliver.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use seam_api::hooks::Messaging;
use seam_channels::messaging::{
    self as adapters, Adapter, Content, Direction, Event, Fetcher, Incoming, MediaRef, Party,
    Settings, StatusReport,
};
use seam_core::{
    Error, Result,
    channel::{Channel, ChannelKind, set_up_job},
    consent::{self, ConsentStatus},
    email::InboundAttachment,
    ids::ChannelId,
    inbound::{self, InboundMessage, RawIdentity},
    jobs::Job,
    messaging::{Keyword, sms_keyword},
    outbound::{answer_automatically, record_delivery},
    ports::{FileStore, Store},
};

mod vault;

pub use vault::{MEDIA_KEY_LABEL, SealedBox, load_key};

/// LINE's reply tokens: a reply sent within a minute of the customer's message may use the
/// token of that message (free of the monthly push quota). Kept in memory on the node that
/// applied the message; a reply on another node, or after the token aged, is pushed.
#[derive(Default)]
pub struct ReplyTokens {
    tokens: std::sync::Mutex<HashMap<(ChannelId, String), (String, Instant)>>,
}

/// LINE accepts a reply token for about a minute; Seam uses it for 50 seconds.
const REPLY_TOKEN_LIFE: Duration = Duration::from_secs(50);
const REPLY_TOKENS_KEPT: usize = 10_000;

impl ReplyTokens {
    pub fn remember(&self, channel_id: ChannelId, address: &str, token: &str) {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if tokens.len() >= REPLY_TOKENS_KEPT {
            tokens.retain(|_, (_, at)| at.elapsed() < REPLY_TOKEN_LIFE);
        }
        if tokens.len() < REPLY_TOKENS_KEPT {
            tokens.insert(
                (channel_id, address.to_string()),
                (token.to_string(), Instant::now()),
            );
        }
    }

    /// The fresh token for a reply to `address`, used once.
    pub fn take(&self, channel_id: ChannelId, address: &str) -> Option<String> {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        tokens
            .remove(&(channel_id, address.to_string()))
            .filter(|(_, at)| at.elapsed() < REPLY_TOKEN_LIFE)
            .map(|(token, _)| token)
    }
}

/// Channels whose provider Seam tells where to deliver (Telegram's `setWebhook`) are set up
/// again when Seam's public URL is not the one they were last set up for: the job's dedupe key
/// names the URL, so a start with an unchanged URL queues nothing.
pub async fn set_up_for_url(store: &dyn Store, public_url: &str) -> Result<usize> {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_url.as_bytes());
    let url = hex::encode(&digest.as_ref()[..8]);
    let now = Utc::now();
    let channels = store.list_channels_of_kind(ChannelKind::Telegram).await?;
    if channels.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    for channel in &channels {
        tx.insert_job(&set_up_job(channel, &format!("url:{url}"), now))
            .await?;
    }
    tx.commit().await?;
    Ok(channels.len())
}

/// How applying a delivery ended, for the job runner.
pub enum Applied {
    Done,
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Permanent {
        reason: String,
    },
}

/// Applies webhook deliveries and sets channels up. Every step is idempotent: messages are
/// deduplicated on their provider id, statuses move forward only, consent is a state.
#[derive(Clone)]
pub struct Applier {
    pub store: Arc<dyn Store>,
    pub files: Arc<dyn FileStore>,
    pub http: reqwest::Client,
    pub fetcher: Fetcher,
    pub messaging: Messaging,
    pub reply_tokens: Arc<ReplyTokens>,
    /// Records accepted sends, many to a commit.
    pub settler: crate::workers::outbound::Settler,
}

/// A status for a message Seam has not recorded as sent yet (the provider's report can
/// overtake the answer to the send) is tried again this many times, this far apart.
const STATUS_WAITS: i32 = 4;
const STATUS_WAIT: Duration = Duration::from_secs(5);
/// A file that fails to download for a reason that may pass is tried again this many times
/// before the message is stored without it.
const MEDIA_ATTEMPTS: i32 = 4;

impl Applier {
    async fn channel_of(&self, job: &Job) -> Result<(Channel, &'static dyn Adapter, Settings)> {
        let channel_id = job
            .payload
            .get("channel_id")
            .and_then(|id| id.as_str())
            .and_then(|id| id.parse().ok())
            .map(ChannelId)
            .ok_or(Error::NotFound)?;
        let channel = self
            .store
            .get_channel(job.workspace_id, channel_id)
            .await?
            .ok_or(Error::NotFound)?;
        let adapter = adapters::adapter(channel.kind, &channel.config).ok_or(Error::NotFound)?;
        let settings = self.messaging.settings(&channel)?;
        Ok((channel, adapter, settings))
    }

    /// Tells the provider where to deliver (Telegram's `setWebhook`).
    pub async fn set_up(&self, job: &Job) -> Result<Applied> {
        let (_, adapter, settings) = self.channel_of(job).await?;
        Ok(match adapter.set_up(&self.http, &settings).await {
            Ok(()) => Applied::Done,
            Err(reason) => Applied::Retry {
                reason,
                retry_after: None,
            },
        })
    }

    /// Applies the events of one delivery.
    pub async fn apply(&self, job: &Job) -> Result<Applied> {
        let (channel, adapter, settings) = self.channel_of(job).await?;
        let events: Vec<Event> = match job
            .payload
            .get("events")
            .cloned()
            .map(serde_json::from_value)
        {
            Some(Ok(events)) => events,
            _ => {
                return Ok(Applied::Permanent {
                    reason: "the delivery's events cannot be read".into(),
                });
            }
        };
        let now = Utc::now();
        let mut retry: Option<Applied> = None;
        for event in events {
            match event {
                Event::Message(incoming) => {
                    if let Some(again) = self
                        .message(&channel, adapter, &settings, incoming, job)
                        .await?
                    {
                        retry = Some(again);
                    }
                }
                Event::Status(report) => {
                    if !self.status(&channel, &report).await? && job.attempts < STATUS_WAITS {
                        retry = Some(Applied::Retry {
                            reason: format!(
                                "a status for {} arrived before its send was recorded",
                                report.provider_message_id
                            ),
                            retry_after: Some(STATUS_WAIT),
                        });
                    }
                }
                Event::Blocked { sender, .. } => {
                    self.consent_of_party(&channel, &sender, ConsentStatus::OptedOut, now)
                        .await?;
                }
                Event::Unblocked { sender, .. } => {
                    self.consent_of_party(&channel, &sender, ConsentStatus::OptedIn, now)
                        .await?;
                }
            }
        }
        Ok(retry.unwrap_or(Applied::Done))
    }

    /// Stores one inbound message with its files. `Some` asks for the job to run again.
    async fn message(
        &self,
        channel: &Channel,
        adapter: &dyn Adapter,
        settings: &Settings,
        incoming: Incoming,
        job: &Job,
    ) -> Result<Option<Applied>> {
        if incoming.direction != Direction::Inbound {
            // The business wrote from another app (an echo): not a customer's message.
            tracing::debug!(channel = %channel.id, "an echo of the business's own message was left out");
            return Ok(None);
        }
        let mut attachments = Vec::new();
        let mut missing = Vec::new();
        for media in &incoming.media {
            match adapter.fetch_media(&self.fetcher, settings, media).await {
                Ok(fetched) => attachments.push(InboundAttachment {
                    file_name: file_name(media, fetched.content_type.as_deref()),
                    content_type: fetched
                        .content_type
                        .or_else(|| media.content_type.clone())
                        .map(|content_type| {
                            content_type
                                .split(';')
                                .next()
                                .unwrap_or_default()
                                .trim()
                                .to_string()
                        })
                        .filter(|content_type| !content_type.is_empty())
                        .unwrap_or_else(|| "application/octet-stream".into()),
                    content_id: None,
                    inline: false,
                    bytes: fetched.bytes,
                }),
                Err(error) if error.is_transient() && job.attempts < MEDIA_ATTEMPTS => {
                    return Ok(Some(Applied::Retry {
                        reason: format!("downloading a file failed: {error}"),
                        retry_after: None,
                    }));
                }
                Err(error) => {
                    tracing::warn!(channel = %channel.id, %error, "a file of an inbound message could not be downloaded");
                    missing.push(error.to_string());
                }
            }
        }
        let mut text = describe(&incoming);
        for reason in &missing {
            text.push_str(&format!("\n[a file could not be downloaded: {reason}]"));
        }
        let sender = raw_identities(&incoming.sender);
        let message = InboundMessage {
            channel_id: channel.id,
            provider_message_id: incoming.provider_message_id.clone(),
            sender,
            sender_name: incoming.sender.name.clone(),
            text: text.clone(),
            sent_at: incoming.sent_at,
            email: None,
            attachments,
        };
        let now = Utc::now();
        let received = match inbound::receive_with_files(
            self.store.as_ref(),
            Some(self.files.as_ref()),
            channel,
            message,
            now,
        )
        .await
        {
            Ok(received) => received,
            Err(Error::Invalid { field, reason }) => {
                // Nothing in a later attempt would change this answer.
                tracing::warn!(channel = %channel.id, %field, %reason, "an inbound message was refused");
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if let Some(token) = incoming.reply_token.as_deref()
            && !received.duplicate
            && let Some((_, address)) = incoming
                .sender
                .identities
                .iter()
                .find(|(kind, _)| *kind == seam_core::identity::IdentityKind::Line)
        {
            self.reply_tokens.remember(channel.id, address, token);
        }
        if channel.kind == ChannelKind::Sms
            && let Some(keyword) = sms_keyword(&channel.config, &incoming.text)
        {
            let status = match keyword {
                Keyword::OptOut => Some(ConsentStatus::OptedOut),
                Keyword::OptIn => Some(ConsentStatus::OptedIn),
                Keyword::Help => None,
            };
            if let Some(status) = status {
                consent::record_from_channel(
                    self.store.as_ref(),
                    channel.workspace_id,
                    received.customer_id,
                    channel.kind,
                    status,
                    &format!("sms keyword {}", incoming.text.trim().to_uppercase()),
                    now,
                )
                .await?;
            } else if !received.duplicate {
                answer_automatically(
                    self.store.as_ref(),
                    channel,
                    received.message_id,
                    &help_text(channel),
                    now,
                )
                .await?;
            }
        }
        Ok(None)
    }

    /// Applies a delivery status. `false` when no message of this channel has that id yet.
    async fn status(&self, channel: &Channel, report: &StatusReport) -> Result<bool> {
        if report.recipient.is_some() {
            // A read watermark covers every earlier message to the customer; the per-message
            // reports that come with it carry the statuses Seam shows.
            return Ok(true);
        }
        let mut tx = self.store.begin_read().await?;
        let message = tx
            .find_message_by_provider_id(channel.id, &report.provider_message_id)
            .await?;
        tx.rollback().await?;
        let Some(message) = message else {
            return Ok(false);
        };
        let now = Utc::now();
        record_delivery(
            self.store.as_ref(),
            channel.workspace_id,
            message.id,
            report.status,
            report.error.clone(),
            now,
        )
        .await?;
        if report.opted_out {
            consent::record_from_channel(
                self.store.as_ref(),
                channel.workspace_id,
                message.customer_id,
                channel.kind,
                ConsentStatus::OptedOut,
                "provider: the recipient opted out",
                now,
            )
            .await?;
        }
        Ok(true)
    }

    /// Records that the person blocked (or came back to) the channel, if Seam knows them.
    async fn consent_of_party(
        &self,
        channel: &Channel,
        party: &Party,
        status: ConsentStatus,
        now: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let workspace = self
            .store
            .get_workspace(channel.workspace_id)
            .await?
            .ok_or(Error::NotFound)?;
        let identities: Vec<_> = inbound::normalise_sender(&workspace, &raw_identities(party))?
            .into_iter()
            .map(|(identity, _)| identity)
            .collect();
        let mut tx = self.store.begin_read().await?;
        let held = tx.find_identities(workspace.id, &identities).await?;
        tx.rollback().await?;
        if let Some(held) = held.first() {
            let source = match status {
                ConsentStatus::OptedOut => "provider: blocked the channel",
                _ => "provider: followed the channel again",
            };
            consent::record_from_channel(
                self.store.as_ref(),
                workspace.id,
                held.customer_id,
                channel.kind,
                status,
                source,
                now,
            )
            .await?;
        }
        Ok(())
    }
}

/// The sender's identities as the provider proved them.
fn raw_identities(party: &Party) -> Vec<RawIdentity> {
    party
        .identities
        .iter()
        .map(|(kind, value)| RawIdentity {
            kind: *kind,
            value: value.clone(),
            field: format!("sender.{}", kind.as_str()),
            verified: true,
        })
        .collect()
}

/// The SMS HELP answer: the channel's `help_text`, else a line naming the keywords.
fn help_text(channel: &Channel) -> String {
    channel
        .config
        .get("help_text")
        .and_then(|text| text.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}: reply STOP to stop messages, START to receive them again.",
                channel.name
            )
        })
}

/// The text an agent reads for a message: what the customer wrote or, for messages without
/// text, what they sent.
fn describe(incoming: &Incoming) -> String {
    let text = incoming.text.trim();
    let described = match &incoming.content {
        Content::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let place = [name.as_deref(), address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let map = format!("https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}");
            Some(if place.is_empty() {
                format!("Shared a location: {latitude}, {longitude} {map}")
            } else {
                format!("Shared a location: {place} ({latitude}, {longitude}) {map}")
            })
        }
        Content::Contacts { contacts } => Some(format!(
            "Shared contacts: {}",
            contacts
                .iter()
                .map(|contact| {
                    let addresses: Vec<&str> = contact
                        .phones
                        .iter()
                        .chain(contact.emails.iter())
                        .map(String::as_str)
                        .collect();
                    if addresses.is_empty() {
                        contact.name.clone()
                    } else {
                        format!("{} ({})", contact.name, addresses.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Content::Reaction { emoji, .. } if emoji.is_empty() => {
            Some("Removed a reaction".to_string())
        }
        Content::Reaction { emoji, .. } => Some(format!("Reacted {emoji}")),
        Content::Choice { title, .. } if text.is_empty() => Some(title.clone()),
        Content::Postback { payload, title } if text.is_empty() => {
            Some(title.clone().unwrap_or_else(|| payload.clone()))
        }
        Content::Unsupported { what } if text.is_empty() => {
            Some(format!("Sent something Seam cannot show ({what})"))
        }
        _ => None,
    };
    let body = match described {
        Some(described) if text.is_empty() => described,
        Some(described) if !matches!(incoming.content, Content::Choice { .. }) => {
            format!("{text}\n{described}")
        }
        _ if !text.is_empty() => text.to_string(),
        _ if !incoming.media.is_empty() => {
            let count = incoming.media.len();
            if count == 1 {
                "Sent a file".to_string()
            } else {
                format!("Sent {count} files")
            }
        }
        _ => "Sent an empty message".to_string(),
    };
    match incoming.content {
        Content::Edit { .. } => format!("(edited) {body}"),
        _ => body,
    }
}

/// A name for a downloaded file: the provider's, else one from its type.
fn file_name(media: &MediaRef, content_type: Option<&str>) -> String {
    if let Some(name) = media.file_name.as_deref().filter(|name| !name.is_empty()) {
        return name.to_string();
    }
    let content_type = content_type
        .or(media.content_type.as_deref())
        .unwrap_or_default();
    let extension = match content_type.split(';').next().unwrap_or_default().trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/aac" => "aac",
        "audio/mp4" => "m4a",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("file.{extension}")
}
