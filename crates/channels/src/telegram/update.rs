//! Telegram updates, read. Only private chats become conversations: in a group the bot
//! would read strangers' talk among themselves, and answers would go to the whole group, so
//! group, supergroup and channel updates are left out.

use chrono::{DateTime, Utc};
use seam_core::identity::IdentityKind;
use serde_json::Value;

use crate::messaging::{
    Content, Direction, Event, HookError, Incoming, MediaRef, MediaSource, Party, SharedContact,
};

pub fn parse(body: &[u8]) -> Result<Vec<Event>, HookError> {
    let update: Value = serde_json::from_slice(body)
        .map_err(|error| HookError::Malformed(format!("the update is not JSON: {error}")))?;
    if update.get("update_id").and_then(Value::as_i64).is_none() {
        return Err(HookError::Malformed("the update has no update_id".into()));
    }
    let event = if let Some(message) = update.get("message") {
        incoming(message, false)
    } else if let Some(message) = update.get("edited_message") {
        incoming(message, true)
    } else if let Some(query) = update.get("callback_query") {
        callback(query)
    } else if let Some(member) = update.get("my_chat_member") {
        membership(member)
    } else {
        // channel_post, inline_query and the rest: not conversations with a customer.
        None
    };
    Ok(event.into_iter().collect())
}

fn private_chat(message: &Value) -> Option<i64> {
    let chat = message.get("chat")?;
    if chat.get("type").and_then(Value::as_str) != Some("private") {
        return None;
    }
    chat.get("id").and_then(Value::as_i64)
}

fn party(user: &Value) -> Option<Party> {
    let id = user.get("id").and_then(Value::as_i64)?;
    let name = [user.get("first_name"), user.get("last_name")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    Some(Party {
        identities: vec![(IdentityKind::Telegram, id.to_string())],
        name: (!name.is_empty()).then_some(name),
        locale: text(user, "language_code"),
    })
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

fn time(value: &Value, key: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(value.get(key)?.as_i64()?, 0)
}

/// A message or its edited version. Ids are `<chat>:<message_id>` (message ids count per
/// chat); an edit is `<chat>:<message_id>:edit:<edit_date>`, so every version is kept.
fn incoming(message: &Value, edited: bool) -> Option<Event> {
    let chat = private_chat(message)?;
    let from = message.get("from")?;
    if from.get("is_bot").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let sender = party(from)?;
    let message_id = message.get("message_id").and_then(Value::as_i64)?;
    let id = format!("{chat}:{message_id}");
    let media = media(message);
    let body = text(message, "text")
        .or_else(|| text(message, "caption"))
        .unwrap_or_default();
    let mut content = if let Some(venue) = message.get("venue") {
        location(
            venue.get("location")?,
            text(venue, "title"),
            text(venue, "address"),
        )?
    } else if let Some(point) = message.get("location") {
        location(point, None, None)?
    } else if let Some(contact) = message.get("contact") {
        let name = [text(contact, "first_name"), text(contact, "last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Content::Contacts {
            contacts: vec![SharedContact {
                name,
                phones: text(contact, "phone_number").into_iter().collect(),
                emails: Vec::new(),
            }],
        }
    } else if !media.is_empty() {
        Content::Media
    } else if body.is_empty() {
        Content::Unsupported {
            what: "a kind of Telegram message Seam does not read".into(),
        }
    } else {
        Content::Text
    };
    let (provider_message_id, sent_at) = if edited {
        let edit_date = message.get("edit_date").and_then(Value::as_i64)?;
        content = Content::Edit { of: id.clone() };
        (format!("{id}:edit:{edit_date}"), time(message, "edit_date"))
    } else {
        (id, time(message, "date"))
    };
    let reply_to = message
        .pointer("/reply_to_message/message_id")
        .and_then(Value::as_i64)
        .map(|replied| format!("{chat}:{replied}"));
    Some(Event::Message(Incoming {
        provider_message_id,
        direction: Direction::Inbound,
        sender,
        text: body,
        content,
        media,
        reply_to,
        sent_at,
        reply_token: None,
        redelivery: false,
    }))
}

fn location(point: &Value, name: Option<String>, address: Option<String>) -> Option<Content> {
    Some(Content::Location {
        latitude: point.get("latitude")?.as_f64()?,
        longitude: point.get("longitude")?.as_f64()?,
        name,
        address,
    })
}

/// The files a message carries: the largest `photo` size, or the one document, voice, audio,
/// video, video note, animation or sticker (an animation also comes as a document).
fn media(message: &Value) -> Vec<MediaRef> {
    if let Some(largest) = message
        .get("photo")
        .and_then(Value::as_array)
        .and_then(|sizes| sizes.last())
    {
        return file(largest, Some("image/jpeg")).into_iter().collect();
    }
    let sticker_type = |sticker: &Value| {
        if sticker.get("is_animated").and_then(Value::as_bool) == Some(true) {
            "application/x-tgsticker"
        } else if sticker.get("is_video").and_then(Value::as_bool) == Some(true) {
            "video/webm"
        } else {
            "image/webp"
        }
    };
    for (field, default_type) in [
        ("animation", Some("video/mp4")),
        ("video", Some("video/mp4")),
        ("video_note", Some("video/mp4")),
        ("voice", Some("audio/ogg")),
        ("audio", Some("audio/mpeg")),
        ("document", None),
    ] {
        if let Some(found) = message.get(field) {
            return file(found, default_type).into_iter().collect();
        }
    }
    if let Some(sticker) = message.get("sticker") {
        return file(sticker, Some(sticker_type(sticker)))
            .into_iter()
            .collect();
    }
    Vec::new()
}

fn file(file: &Value, default_type: Option<&str>) -> Option<MediaRef> {
    Some(MediaRef {
        source: MediaSource::Provider {
            id: text(file, "file_id")?,
        },
        content_type: text(file, "mime_type").or(default_type.map(str::to_string)),
        file_name: text(file, "file_name"),
    })
}

/// A press on an inline keyboard button: the button's `callback_data` with its label, found
/// in the keyboard of the message it was attached to. Telegram shows a spinner until the bot
/// calls `answerCallbackQuery`; it stops by itself after a while.
fn callback(query: &Value) -> Option<Event> {
    let from = query.get("from")?;
    let sender = party(from)?;
    let message = query.get("message");
    if let Some(message) = message {
        private_chat(message)?;
    }
    let payload = text(query, "data")?;
    let title = message
        .and_then(|message| message.pointer("/reply_markup/inline_keyboard"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .find(|button| {
            button.get("callback_data").and_then(Value::as_str) == Some(payload.as_str())
        })
        .and_then(|button| text(button, "text"));
    let reply_to = message.and_then(|message| {
        let chat = private_chat(message)?;
        let id = message.get("message_id")?.as_i64()?;
        Some(format!("{chat}:{id}"))
    });
    Some(Event::Message(Incoming {
        provider_message_id: format!("callback:{}", text(query, "id")?),
        direction: Direction::Inbound,
        sender,
        text: title.clone().unwrap_or_else(|| payload.clone()),
        content: Content::Postback { payload, title },
        media: Vec::new(),
        reply_to,
        sent_at: None,
        reply_token: None,
        redelivery: false,
    }))
}

/// The bot's own membership in a private chat: `kicked` means the user blocked the bot,
/// `member` that they started it again.
fn membership(update: &Value) -> Option<Event> {
    private_chat(update)?;
    let sender = party(update.get("from")?)?;
    let at = time(update, "date");
    match update
        .pointer("/new_chat_member/status")
        .and_then(Value::as_str)?
    {
        "kicked" => Some(Event::Blocked { sender, at }),
        "member" => Some(Event::Unblocked { sender, at }),
        _ => None,
    }
}
