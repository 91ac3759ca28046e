//! WhatsApp Cloud API webhook payloads -> [`Event`]s: every `entry` and every `messages`
//! change, its messages (text, media, location, contacts, interactive and template button
//! replies, reactions, unsupported kinds) and its delivery statuses. No database access.
//!
//! A change for another phone number of the same business account (`metadata.phone_number_id`
//! not this channel's) is left out: Meta sends one app's events for every number to one URL.

use chrono::{DateTime, Utc};
use seam_core::{identity::IdentityKind, message::DeliveryStatus};
use serde::Deserialize;

use crate::messaging::{
    Content, Direction, Event, HookError, Incoming, MediaRef, MediaSource, Party, Settings,
    SharedContact, StatusReport,
};

#[derive(Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<String>,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    context: Option<Context>,
    text: Option<Text>,
    image: Option<Media>,
    video: Option<Media>,
    audio: Option<Media>,
    document: Option<Media>,
    sticker: Option<Media>,
    location: Option<Location>,
    contacts: Option<Vec<SharedCard>>,
    interactive: Option<Interactive>,
    button: Option<TemplateButton>,
    reaction: Option<Reaction>,
    #[serde(default)]
    errors: Vec<Error>,
}

#[derive(Deserialize)]
struct Context {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Text {
    body: String,
}

#[derive(Deserialize)]
struct Media {
    id: String,
    mime_type: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct SharedCard {
    name: Option<CardName>,
    #[serde(default)]
    phones: Vec<CardPhone>,
    #[serde(default)]
    emails: Vec<CardEmail>,
}

#[derive(Deserialize)]
struct CardName {
    formatted_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize)]
struct CardPhone {
    phone: Option<String>,
}

#[derive(Deserialize)]
struct CardEmail {
    email: Option<String>,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    id: Option<String>,
    title: String,
}

#[derive(Deserialize)]
struct TemplateButton {
    payload: Option<String>,
    text: String,
}

#[derive(Deserialize)]
struct Reaction {
    message_id: String,
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: Option<String>,
    #[serde(default)]
    errors: Vec<Error>,
}

#[derive(Deserialize)]
struct Error {
    code: Option<i64>,
    title: Option<String>,
    message: Option<String>,
}

impl Error {
    fn describe(&self) -> String {
        let title = self
            .title
            .as_deref()
            .or(self.message.as_deref())
            .unwrap_or("unknown error");
        match self.code {
            Some(code) => format!("{code}: {title}"),
            None => title.to_string(),
        }
    }
}

pub fn parse(settings: &Settings, body: &[u8]) -> Result<Vec<Event>, HookError> {
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|error| HookError::Malformed(format!("not a WhatsApp webhook body: {error}")))?;
    if delivery.object != "whatsapp_business_account" {
        return Err(HookError::Malformed(format!(
            "object {:?} is not whatsapp_business_account",
            delivery.object
        )));
    }
    let own_number = settings.config_str("phone_number_id");
    let mut events = Vec::new();
    for change in delivery.entry.into_iter().flat_map(|entry| entry.changes) {
        if change.field != "messages" {
            continue;
        }
        let value = change.value;
        let number = value
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.phone_number_id.as_deref());
        if let (Some(own), Some(number)) = (own_number, number)
            && own != number
        {
            continue;
        }
        for message in &value.messages {
            events.push(Event::Message(incoming(message, &value.contacts)));
        }
        events.extend(value.statuses.iter().filter_map(status));
    }
    Ok(events)
}

fn incoming(message: &Message, contacts: &[Contact]) -> Incoming {
    let wa_id = message.from.trim_start_matches('+');
    let name = contacts
        .iter()
        .find(|contact| contact.wa_id == wa_id)
        .or(contacts.first())
        .and_then(|contact| contact.profile.as_ref())
        .and_then(|profile| profile.name.clone());
    let (text, content, media) = body(message);
    Incoming {
        provider_message_id: message.id.clone(),
        direction: Direction::Inbound,
        sender: Party {
            identities: vec![
                (IdentityKind::Phone, format!("+{wa_id}")),
                (IdentityKind::Whatsapp, wa_id.to_string()),
            ],
            name,
            locale: None,
        },
        text,
        content,
        media,
        reply_to: message
            .context
            .as_ref()
            .and_then(|context| context.id.clone()),
        sent_at: seconds(message.timestamp.as_deref()),
        reply_token: None,
        redelivery: false,
    }
}

/// The text, the kind and the files of one message.
fn body(message: &Message) -> (String, Content, Vec<MediaRef>) {
    let media = [
        &message.image,
        &message.video,
        &message.audio,
        &message.document,
        &message.sticker,
    ]
    .into_iter()
    .flatten()
    .next();
    match message.kind.as_str() {
        "text" => match &message.text {
            Some(text) => (text.body.clone(), Content::Text, Vec::new()),
            None => unsupported(message),
        },
        "image" | "video" | "audio" | "document" | "sticker" if media.is_some() => {
            let Some(media) = media else {
                return unsupported(message);
            };
            let file = MediaRef {
                source: MediaSource::Provider {
                    id: media.id.clone(),
                },
                content_type: media.mime_type.clone(),
                file_name: media.filename.clone(),
            };
            let caption = media.caption.clone().unwrap_or_default();
            (caption, Content::Media, vec![file])
        }
        "location" => match &message.location {
            Some(location) => (
                render_location(location),
                Content::Location {
                    latitude: location.latitude,
                    longitude: location.longitude,
                    name: location.name.clone(),
                    address: location.address.clone(),
                },
                Vec::new(),
            ),
            None => unsupported(message),
        },
        "contacts" => match &message.contacts {
            Some(cards) => {
                let contacts: Vec<SharedContact> = cards.iter().map(shared_contact).collect();
                let names: Vec<&str> = contacts.iter().map(|card| card.name.as_str()).collect();
                (
                    format!("Contact: {}", names.join(", ")),
                    Content::Contacts { contacts },
                    Vec::new(),
                )
            }
            None => unsupported(message),
        },
        "interactive" => match message.interactive.as_ref().and_then(|interactive| {
            interactive
                .button_reply
                .as_ref()
                .or(interactive.list_reply.as_ref())
        }) {
            Some(reply) => (
                reply.title.clone(),
                Content::Choice {
                    id: reply.id.clone(),
                    title: reply.title.clone(),
                },
                Vec::new(),
            ),
            None => unsupported(message),
        },
        "button" => match &message.button {
            Some(button) => (
                button.text.clone(),
                Content::Choice {
                    id: button.payload.clone(),
                    title: button.text.clone(),
                },
                Vec::new(),
            ),
            None => unsupported(message),
        },
        "reaction" => match &message.reaction {
            Some(reaction) => {
                let emoji = reaction.emoji.clone().unwrap_or_default();
                (
                    emoji.clone(),
                    Content::Reaction {
                        to: reaction.message_id.clone(),
                        emoji,
                    },
                    Vec::new(),
                )
            }
            None => unsupported(message),
        },
        _ => unsupported(message),
    }
}

/// A kind Seam does not read, or one WhatsApp itself marks `unsupported` (its error title
/// says what).
fn unsupported(message: &Message) -> (String, Content, Vec<MediaRef>) {
    let what = message
        .errors
        .first()
        .map(Error::describe)
        .unwrap_or_else(|| message.kind.clone());
    (String::new(), Content::Unsupported { what }, Vec::new())
}

fn render_location(location: &Location) -> String {
    let place: Vec<&str> = [location.name.as_deref(), location.address.as_deref()]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect();
    let coordinates = format!("{}, {}", location.latitude, location.longitude);
    if place.is_empty() {
        format!("Location: {coordinates}")
    } else {
        format!("Location: {} ({coordinates})", place.join(", "))
    }
}

fn shared_contact(card: &SharedCard) -> SharedContact {
    let name = card
        .name
        .as_ref()
        .and_then(|name| {
            name.formatted_name.clone().or_else(|| {
                let parts: Vec<&str> = [name.first_name.as_deref(), name.last_name.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
        })
        .unwrap_or_default();
    SharedContact {
        name,
        phones: card
            .phones
            .iter()
            .filter_map(|phone| phone.phone.clone())
            .collect(),
        emails: card
            .emails
            .iter()
            .filter_map(|email| email.email.clone())
            .collect(),
    }
}

/// `sent`, `delivered`, `read` (and `played`, a voice note listened to, as read) and `failed`
/// with its first error as `"<code>: <title>"`. Other statuses are left out.
fn status(status: &Status) -> Option<Event> {
    let state = match status.status.as_str() {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" | "played" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        _ => return None,
    };
    Some(Event::Status(StatusReport {
        provider_message_id: status.id.clone(),
        status: state,
        error: status.errors.first().map(Error::describe),
        at: seconds(status.timestamp.as_deref()),
        opted_out: false,
        recipient: None,
    }))
}

/// WhatsApp timestamps are Unix seconds, as strings.
fn seconds(timestamp: Option<&str>) -> Option<DateTime<Utc>> {
    timestamp
        .and_then(|timestamp| timestamp.parse::<i64>().ok())
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
}
