//! LINE webhook events, read. Only one-to-one chats (`source.type` `user`) become
//! conversations; group and room events are left out, as are events in `standby` mode
//! (another module owns the chat) and `unsend`, `join`, `leave` and the like.

use chrono::{DateTime, Utc};
use seam_core::identity::IdentityKind;
use serde_json::Value;

use crate::messaging::{
    Content, Direction, Event, HookError, Incoming, MediaRef, MediaSource, Party,
};

pub fn parse(body: &[u8]) -> Result<Vec<Event>, HookError> {
    let delivery: Value = serde_json::from_slice(body)
        .map_err(|error| HookError::Malformed(format!("the webhook body is not JSON: {error}")))?;
    let Some(events) = delivery.get("events").and_then(Value::as_array) else {
        return Err(HookError::Malformed(
            "the webhook body has no events".into(),
        ));
    };
    Ok(events.iter().filter_map(event).collect())
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

fn event(event: &Value) -> Option<Event> {
    if event.get("mode").and_then(Value::as_str) == Some("standby") {
        return None;
    }
    let source = event.get("source")?;
    if source.get("type").and_then(Value::as_str) != Some("user") {
        return None;
    }
    let sender = Party {
        identities: vec![(IdentityKind::Line, text(source, "userId")?)],
        name: None,
        locale: None,
    };
    let at = event
        .get("timestamp")
        .and_then(Value::as_i64)
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    let incoming = |provider_message_id: String, text: String, content, media, reply_to| {
        Event::Message(Incoming {
            provider_message_id,
            direction: Direction::Inbound,
            sender: sender.clone(),
            text,
            content,
            media,
            reply_to,
            sent_at: at,
            reply_token: self::text(event, "replyToken"),
            redelivery: event
                .pointer("/deliveryContext/isRedelivery")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    };
    match event.get("type").and_then(Value::as_str)? {
        "message" => {
            let message = event.get("message")?;
            // The message id, not `webhookEventId`: a redelivery keeps it, so it dedupes.
            let id = text(message, "id")?;
            let (body, content, media) = message_content(message, &id)?;
            Some(incoming(
                id,
                body,
                content,
                media,
                text(message, "quotedMessageId"),
            ))
        }
        "postback" => {
            let payload = event.pointer("/postback/data")?.as_str()?.to_string();
            Some(incoming(
                format!("postback:{}", text(event, "webhookEventId")?),
                payload.clone(),
                Content::Postback {
                    payload,
                    title: None,
                },
                Vec::new(),
                None,
            ))
        }
        // `unfollow`: the user blocked the account; `follow`: added or unblocked it.
        "follow" => Some(Event::Unblocked { sender, at }),
        "unfollow" => Some(Event::Blocked { sender, at }),
        _ => None,
    }
}

type Read = (String, Content, Vec<MediaRef>);

fn message_content(message: &Value, id: &str) -> Option<Read> {
    let kind = message.get("type").and_then(Value::as_str)?;
    Some(match kind {
        "text" => (text(message, "text")?, Content::Text, Vec::new()),
        "image" | "video" | "audio" | "file" => {
            let source = match message
                .pointer("/contentProvider/type")
                .and_then(Value::as_str)
            {
                Some("external") => MediaSource::Url {
                    url: message
                        .pointer("/contentProvider/originalContentUrl")?
                        .as_str()?
                        .to_string(),
                },
                _ => MediaSource::Provider { id: id.to_string() },
            };
            let content_type = match kind {
                "image" => Some("image/jpeg"),
                "video" => Some("video/mp4"),
                "audio" => Some("audio/mp4"),
                _ => None,
            };
            let media = MediaRef {
                source,
                content_type: content_type.map(str::to_string),
                file_name: text(message, "fileName"),
            };
            (String::new(), Content::Media, vec![media])
        }
        "location" => (
            text(message, "address").unwrap_or_default(),
            Content::Location {
                latitude: message.get("latitude")?.as_f64()?,
                longitude: message.get("longitude")?.as_f64()?,
                name: text(message, "title"),
                address: text(message, "address"),
            },
            Vec::new(),
        ),
        "sticker" => (
            String::new(),
            Content::Unsupported {
                what: format!(
                    "LINE sticker {}/{}",
                    text(message, "packageId").unwrap_or_default(),
                    text(message, "stickerId").unwrap_or_default()
                ),
            },
            Vec::new(),
        ),
        other => (
            String::new(),
            Content::Unsupported {
                what: format!("LINE {other} message"),
            },
            Vec::new(),
        ),
    })
}
