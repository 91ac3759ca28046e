//! Website chat: the widget channel's settings, who a visitor is, what a visitor may see and
//! do (always scoped to the customer its own identities resolve to), and the continuity rule
//! that sends a reply by email when the visitor is not on the site. Messages from the widget
//! enter through the one inbound path. No IO: storage through the ports, connections through
//! [`Presence`].

mod config;
mod continuity;
mod view;
mod visitor;

pub use config::{
    DEFAULT_AWAY_AFTER_SECS, LOCALES, WebchatConfig, normalise_origin, validate_config,
};
pub use continuity::{email_route, reroute_to_email};
pub use view::{Author, Presence, WidgetMessage, WidgetPush};
pub use visitor::{
    Hello, Visitor, admit, new_visitor_id, user_hash_valid, visitor_token, visitor_token_valid,
};

use crate::{
    Error, Result, Timestamp,
    channel::{Channel, ChannelKind},
    identity::{Identity, IdentityKind},
    ids::{ChannelId, ConversationId, CustomerId, MessageId, WorkspaceId},
    inbound::{self, InboundMessage, Received},
    message::{DeliveryStatus, Message, MessageKind},
    outbound::record_delivery,
    ports::Store,
    realtime::RealtimeEvent,
    timeline::{TimelineFilter, TimelineItem, TimelineKind},
    user::{Actor, Permission},
};

/// Longest text a visitor may send in one message, in bytes.
pub const MAX_WIDGET_TEXT_BYTES: usize = 4 * 1024;
/// Most messages a welcome carries.
pub const HISTORY_LIMIT: usize = 200;
/// Most message ids one `delivered` or `read` report may name.
pub const MAX_REPORTED_IDS: usize = 100;
const MAX_CLIENT_ID_CHARS: usize = 100;

/// The webchat channel a widget names, if `origin` may embed it. An unknown channel, or one
/// of another kind, is `NotFound`; a foreign origin is `Forbidden`.
pub async fn widget_channel(
    store: &dyn Store,
    channel_id: ChannelId,
    origin: Option<&str>,
) -> Result<Channel> {
    let channel = store
        .find_channel(channel_id)
        .await?
        .filter(|channel| channel.kind == ChannelKind::Webchat)
        .ok_or(Error::NotFound)?;
    if !WebchatConfig::of(&channel).allows_origin(origin) {
        return Err(Error::Forbidden);
    }
    Ok(channel)
}

/// The customer this visitor is, if any message made one yet: the holder of the verified
/// user id first, then the holder of the visitor id.
pub async fn customer_of(store: &dyn Store, visitor: &Visitor) -> Result<Option<CustomerId>> {
    let mut wanted = vec![Identity::from_stored(
        IdentityKind::Visitor,
        visitor.visitor_id.clone(),
    )];
    if let Some(user_id) = &visitor.verified_user_id {
        wanted.push(Identity::parse_opaque(
            IdentityKind::ExternalId,
            "user_id",
            user_id,
        )?);
    }
    let mut tx = store.begin().await?;
    let held = tx
        .find_identities(visitor.channel.workspace_id, &wanted)
        .await?;
    tx.rollback().await?;
    Ok(held
        .iter()
        .min_by_key(|held| held.identity.kind.priority())
        .map(|held| held.customer_id))
}

/// What a widget is told when it connects.
#[derive(Clone, Debug, PartialEq)]
pub struct Welcome {
    pub customer_id: Option<CustomerId>,
    /// Oldest first: the customer's messages on every channel, inbound and outbound only.
    pub messages: Vec<WidgetMessage>,
}

/// The visitor's history (after `after`, when given), and the replies that waited for it
/// handed over: queued webchat replies become `sent` now that a widget holds them.
pub async fn welcome(
    store: &dyn Store,
    visitor: &Visitor,
    after: Option<MessageId>,
    now: Timestamp,
) -> Result<Welcome> {
    let Some(customer_id) = customer_of(store, visitor).await? else {
        return Ok(Welcome {
            customer_id: None,
            messages: Vec::new(),
        });
    };
    let workspace_id = visitor.channel.workspace_id;
    let kinds: Vec<(ChannelId, ChannelKind)> = store
        .list_channels(workspace_id)
        .await?
        .iter()
        .map(|channel| (channel.id, channel.kind))
        .collect();
    let kind_of = |id: Option<ChannelId>| {
        id.and_then(|id| {
            kinds
                .iter()
                .find(|(known, _)| *known == id)
                .map(|(_, kind)| *kind)
        })
    };
    let filter = TimelineFilter {
        kind: Some(TimelineKind::Message),
        channel_id: None,
    };
    let mut found: Vec<Message> = Vec::new();
    let mut cursor = None;
    'pages: loop {
        let page = store
            .customer_timeline(workspace_id, customer_id, &filter, cursor.as_ref(), 100)
            .await?;
        for item in page.items {
            let TimelineItem::Message(message) = item else {
                continue;
            };
            if after.is_some_and(|after| message.id <= after) {
                break 'pages;
            }
            if matches!(message.kind, MessageKind::Inbound | MessageKind::Outbound) {
                found.push(message);
                if found.len() >= HISTORY_LIMIT {
                    break 'pages;
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    found.reverse();
    let mut messages = Vec::with_capacity(found.len());
    for mut message in found {
        let kind = kind_of(message.channel_id);
        if message.kind == MessageKind::Outbound
            && kind == Some(ChannelKind::Webchat)
            && message.delivery_status == Some(DeliveryStatus::Queued)
        {
            message = record_delivery(
                store,
                workspace_id,
                message.id,
                DeliveryStatus::Sent,
                None,
                now,
            )
            .await?;
        }
        messages.extend(WidgetMessage::of(&message, kind, Some(visitor)));
    }
    Ok(Welcome {
        customer_id: Some(customer_id),
        messages,
    })
}

fn check_client_id(client_id: &str) -> Result<()> {
    let fine = !client_id.is_empty()
        && client_id.chars().count() <= MAX_CLIENT_ID_CHARS
        && client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(())
    } else {
        Err(Error::invalid(
            "client_id",
            "must have 1 to 100 letters, digits, - or _",
        ))
    }
}

/// The inbound message a widget frame becomes. Its provider id is the client id scoped to the
/// visitor, so a resent frame is stored once.
pub fn inbound_message(
    visitor: &Visitor,
    client_id: &str,
    text: &str,
    now: Timestamp,
) -> Result<InboundMessage> {
    check_client_id(client_id)?;
    if text.trim().is_empty() {
        return Err(Error::invalid("text", "is empty"));
    }
    if text.len() > MAX_WIDGET_TEXT_BYTES {
        return Err(Error::invalid("text", "is longer than 4 KiB"));
    }
    Ok(InboundMessage {
        channel_id: visitor.channel.id,
        provider_message_id: visitor.provider_message_id(client_id),
        sender: visitor.sender(),
        sender_name: visitor.name.clone(),
        text: text.to_string(),
        sent_at: Some(now),
        email: None,
        attachments: Vec::new(),
    })
}

/// A visitor writes: through the one inbound path, idempotent on the client id.
pub async fn send(
    store: &dyn Store,
    visitor: &Visitor,
    client_id: &str,
    text: &str,
    now: Timestamp,
) -> Result<Received> {
    let message = inbound_message(visitor, client_id, text, now)?;
    inbound::receive(store, &visitor.channel, message, now).await
}

/// The widget reports replies as `delivered` (shown) or `read` (seen). Only the visitor's own
/// customer's outbound messages move, and only forward; the others are ignored. Returns the
/// messages that were reported, as stored afterwards.
pub async fn report(
    store: &dyn Store,
    visitor: &Visitor,
    message_ids: &[MessageId],
    status: DeliveryStatus,
    now: Timestamp,
) -> Result<Vec<Message>> {
    if !matches!(status, DeliveryStatus::Delivered | DeliveryStatus::Read) {
        return Err(Error::invalid("type", "must be delivered or read"));
    }
    if message_ids.len() > MAX_REPORTED_IDS {
        return Err(Error::invalid(
            "message_ids",
            "names more than 100 messages",
        ));
    }
    let Some(customer_id) = customer_of(store, visitor).await? else {
        return Ok(Vec::new());
    };
    let workspace_id = visitor.channel.workspace_id;
    let mut reported = Vec::new();
    for id in message_ids {
        let Some(message) = store.get_message(workspace_id, *id).await? else {
            continue;
        };
        if message.customer_id != customer_id || message.kind != MessageKind::Outbound {
            continue;
        }
        reported.push(record_delivery(store, workspace_id, message.id, status, None, now).await?);
    }
    Ok(reported)
}

/// The visitor ids a customer holds: whose widgets a reply or a typing signal goes to.
pub async fn visitor_ids_of(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Result<Vec<String>> {
    Ok(store
        .get_customer_profile(workspace_id, customer_id)
        .await?
        .map(|profile| {
            profile
                .identities
                .into_iter()
                .filter(|held| held.identity.kind == IdentityKind::Visitor)
                .map(|held| held.identity.value)
                .collect()
        })
        .unwrap_or_default())
}

/// An agent is typing in a conversation: the widgets to tell.
pub async fn agent_typing_targets(
    store: &dyn Store,
    actor: &Actor,
    conversation_id: ConversationId,
) -> Result<Vec<String>> {
    actor.require(Permission::ReplyToConversations)?;
    let conversation = store
        .get_conversation(actor.workspace_id, conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    visitor_ids_of(store, actor.workspace_id, conversation.customer_id).await
}

/// A visitor is typing (or stopped): the event for the agents' realtime stream.
pub fn visitor_typing_event(
    visitor: &Visitor,
    customer_id: Option<CustomerId>,
    conversation_id: Option<ConversationId>,
    typing: bool,
) -> RealtimeEvent {
    RealtimeEvent {
        workspace_id: visitor.channel.workspace_id,
        topic: "conversation.typing".into(),
        data: serde_json::json!({
            "channel_id": visitor.channel.id,
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "typing": typing,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> Channel {
        Channel {
            id: ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            kind: ChannelKind::Webchat,
            name: "Site".into(),
            config: serde_json::json!({"allowed_origins": ["https://shop.example"]}),
            secret: "channel-secret".into(),
            credentials: String::new(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_widget_message_becomes_an_inbound_message_scoped_to_its_visitor() {
        let visitor = admit(&channel(), Hello::default()).unwrap();
        let now = chrono::Utc::now();
        let message = inbound_message(&visitor, "c-1", "Hello", now).unwrap();
        assert_eq!(
            message.provider_message_id,
            format!("{}:c-1", visitor.visitor_id)
        );
        assert_eq!(message.sender[0].kind, IdentityKind::Visitor);
        let long = "x".repeat(MAX_WIDGET_TEXT_BYTES + 1);
        assert!(matches!(
            inbound_message(&visitor, "c-2", &long, now),
            Err(Error::Invalid { ref field, .. }) if field == "text"
        ));
        assert!(matches!(
            inbound_message(&visitor, "c 3", "hi", now),
            Err(Error::Invalid { ref field, .. }) if field == "client_id"
        ));
    }
}
