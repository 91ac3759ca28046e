//! Messenger and Instagram webhook payloads -> [`Event`]s: every `entry` and every
//! `messaging` item — messages (text, CDN attachments, quick replies, replies), postbacks,
//! reactions, delivery and read receipts. No database access.
//!
//! - **Echoes** (`message.is_echo`) of the channel's own app (`app_id`) are Seam's own sends
//!   and are dropped; echoes from other apps or Meta's inbox become outbound messages whose
//!   `sender` is the customer they were sent to (the conversation's party).
//! - **Standby** items (`entry[].standby`, threads another app owns under the handover
//!   protocol) are left out, as are unsent messages (`is_deleted`) and entries for another
//!   page or account.
//! - **Read receipts** with a `watermark` (Messenger) say every message sent before it was
//!   read: they become a [`StatusReport`] with `provider_message_id = "watermark:<ms>"`, which
//!   the applier reads as "every earlier outbound message to `recipient` is read". Instagram's
//!   `read.mid` names the message. A delivery receipt gives one `Delivered` per `mids` entry
//!   (the same watermark form when it has none).

use chrono::{DateTime, Utc};
use seam_core::message::DeliveryStatus;
use serde::Deserialize;

use super::messenger::Platform;
use crate::messaging::{
    Content, Direction, Event, HookError, Incoming, MediaRef, MediaSource, Party, Settings,
    StatusReport,
};

#[derive(Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: Option<String>,
    #[serde(default)]
    messaging: Vec<Messaging>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Option<Id>,
    recipient: Option<Id>,
    timestamp: Option<i64>,
    message: Option<Message>,
    postback: Option<Postback>,
    reaction: Option<Reaction>,
    delivery: Option<Receipt>,
    read: Option<Receipt>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[derive(Deserialize)]
struct Message {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    reply_to: Option<ReplyTo>,
    quick_reply: Option<QuickReply>,
    #[serde(default)]
    is_echo: bool,
    /// A number in Meta's payloads; compared as text.
    app_id: Option<serde_json::Value>,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    is_unsupported: bool,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    url: Option<String>,
}

#[derive(Deserialize)]
struct ReplyTo {
    mid: Option<String>,
}

#[derive(Deserialize)]
struct QuickReply {
    payload: String,
}

#[derive(Deserialize)]
struct Postback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Reaction {
    mid: String,
    action: Option<String>,
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct Receipt {
    #[serde(default)]
    mids: Vec<String>,
    mid: Option<String>,
    watermark: Option<i64>,
}

/// Attachment kinds that are files on Meta's CDN, downloaded on receipt.
const FILE_KINDS: &[&str] = &[
    "image",
    "video",
    "audio",
    "file",
    "ig_reel",
    "reel",
    "story_mention",
];

pub fn parse(
    platform: Platform,
    settings: &Settings,
    body: &[u8],
) -> Result<Vec<Event>, HookError> {
    let delivery: Delivery = serde_json::from_slice(body).map_err(|error| {
        HookError::Malformed(format!("not a {} webhook body: {error}", platform.name()))
    })?;
    if delivery.object != platform.object() {
        return Err(HookError::Malformed(format!(
            "object {:?} is not {}",
            delivery.object,
            platform.object()
        )));
    }
    let own_ids: Vec<&str> = platform
        .account_keys()
        .iter()
        .filter_map(|key| settings.config_str(key))
        .collect();
    let own_app = settings.config_str("app_id");
    let mut events = Vec::new();
    for entry in delivery.entry {
        if let Some(id) = &entry.id
            && !own_ids.is_empty()
            && !own_ids.contains(&id.as_str())
        {
            continue;
        }
        for item in &entry.messaging {
            events.extend(item_events(platform, own_app, item));
        }
    }
    Ok(events)
}

fn item_events(platform: Platform, own_app: Option<&str>, item: &Messaging) -> Vec<Event> {
    let sender = item.sender.as_ref().map(|id| id.id.as_str());
    let at = item.timestamp.and_then(DateTime::from_timestamp_millis);
    if let Some(message) = &item.message {
        return message_event(platform, own_app, item, message, at)
            .into_iter()
            .collect();
    }
    let Some(sender) = sender else {
        return Vec::new();
    };
    let timestamp = item.timestamp.unwrap_or_default();
    if let Some(postback) = &item.postback {
        let payload = postback.payload.clone().unwrap_or_default();
        let title = postback.title.clone();
        let id = postback
            .mid
            .clone()
            .unwrap_or_else(|| format!("postback:{sender}:{timestamp}"));
        let text = title.clone().unwrap_or_else(|| payload.clone());
        let content = Content::Postback { payload, title };
        return vec![Event::Message(incoming(
            platform, id, sender, text, content, at,
        ))];
    }
    if let Some(reaction) = &item.reaction {
        let emoji = if reaction.action.as_deref() == Some("unreact") {
            String::new()
        } else {
            reaction.emoji.clone().unwrap_or_default()
        };
        // A reaction has no id of its own: who reacted to which message, and when.
        let id = format!("reaction:{}:{sender}:{timestamp}", reaction.mid);
        let content = Content::Reaction {
            to: reaction.mid.clone(),
            emoji: emoji.clone(),
        };
        return vec![Event::Message(incoming(
            platform, id, sender, emoji, content, at,
        ))];
    }
    if let Some(delivery) = &item.delivery {
        return receipt(delivery, DeliveryStatus::Delivered, sender, at);
    }
    if let Some(read) = &item.read {
        return receipt(read, DeliveryStatus::Read, sender, at);
    }
    Vec::new()
}

fn message_event(
    platform: Platform,
    own_app: Option<&str>,
    item: &Messaging,
    message: &Message,
    at: Option<DateTime<Utc>>,
) -> Option<Event> {
    if message.is_deleted {
        return None;
    }
    let (direction, customer) = if message.is_echo {
        let app = message.app_id.as_ref().map(|app| match app {
            serde_json::Value::String(app) => app.clone(),
            other => other.to_string(),
        });
        if own_app.is_some() && app.as_deref() == own_app {
            return None;
        }
        (Direction::Outbound, item.recipient.as_ref()?)
    } else {
        (Direction::Inbound, item.sender.as_ref()?)
    };
    let text = message.text.clone().unwrap_or_default();
    let mut media = Vec::new();
    let mut others = Vec::new();
    for attachment in &message.attachments {
        let url = attachment
            .payload
            .as_ref()
            .and_then(|payload| payload.url.clone());
        match url {
            Some(url) if FILE_KINDS.contains(&attachment.kind.as_str()) => media.push(MediaRef {
                source: MediaSource::Url { url },
                content_type: None,
                file_name: None,
            }),
            _ => others.push(attachment.kind.as_str()),
        }
    }
    let content = if let Some(quick_reply) = &message.quick_reply {
        Content::Choice {
            id: Some(quick_reply.payload.clone()),
            title: text.clone(),
        }
    } else if !media.is_empty() {
        Content::Media
    } else if message.is_unsupported || (text.is_empty() && !others.is_empty()) {
        let what = others.first().copied().unwrap_or("unsupported").to_string();
        Content::Unsupported { what }
    } else {
        Content::Text
    };
    let mut incoming = incoming(
        platform,
        message.mid.clone(),
        &customer.id,
        text,
        content,
        at,
    );
    incoming.direction = direction;
    incoming.media = media;
    incoming.reply_to = message
        .reply_to
        .as_ref()
        .and_then(|reply| reply.mid.clone());
    Some(Event::Message(incoming))
}

fn incoming(
    platform: Platform,
    id: String,
    customer: &str,
    text: String,
    content: Content,
    at: Option<DateTime<Utc>>,
) -> Incoming {
    Incoming {
        provider_message_id: id,
        direction: Direction::Inbound,
        sender: Party {
            identities: vec![(platform.identity(), customer.to_string())],
            name: None,
            locale: None,
        },
        text,
        content,
        media: Vec::new(),
        reply_to: None,
        sent_at: at,
        reply_token: None,
        redelivery: false,
    }
}

fn receipt(
    receipt: &Receipt,
    status: DeliveryStatus,
    customer: &str,
    at: Option<DateTime<Utc>>,
) -> Vec<Event> {
    let report = |provider_message_id: String| {
        let recipient = provider_message_id
            .starts_with("watermark:")
            .then(|| customer.to_string());
        Event::Status(StatusReport {
            provider_message_id,
            status,
            error: None,
            at,
            opted_out: false,
            recipient,
        })
    };
    let mut events: Vec<Event> = receipt
        .mids
        .iter()
        .cloned()
        .chain(receipt.mid.clone())
        .map(report)
        .collect();
    if events.is_empty()
        && let Some(watermark) = receipt.watermark
    {
        events.push(report(format!("watermark:{watermark}")));
    }
    events
}
