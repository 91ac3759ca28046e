//! What a visitor is shown of a message (never notes, activities or agents' details), and the
//! port through which the server reaches a visitor's open widgets.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Visitor;
use crate::{
    Timestamp,
    channel::ChannelKind,
    ids::{MessageId, WorkspaceId},
    message::{DeliveryStatus, Message, MessageKind},
};

/// Who wrote a message, as the widget shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Agent,
}

/// A message as the widget sees it: nothing about agents, notes or other customers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WidgetMessage {
    pub id: MessageId,
    /// The widget's own id for a message it sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub author: Author,
    pub text: String,
    /// The kind of channel it went through (`webchat`, `email`, …).
    pub channel: Option<ChannelKind>,
    /// Outbound messages only: `queued`, `sent`, `delivered`, `read`, `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryStatus>,
    pub created_at: Timestamp,
}

impl WidgetMessage {
    /// `None` for notes and activities, which a visitor never sees.
    pub fn of(
        message: &Message,
        channel: Option<ChannelKind>,
        visitor: Option<&Visitor>,
    ) -> Option<WidgetMessage> {
        let author = match message.kind {
            MessageKind::Inbound => Author::Visitor,
            MessageKind::Outbound => Author::Agent,
            MessageKind::Note | MessageKind::Activity => return None,
        };
        let client_id = match (visitor, &message.provider_message_id) {
            (Some(visitor), Some(provider_id))
                if Some(visitor.channel.id) == message.channel_id =>
            {
                visitor.client_id_of(provider_id).map(str::to_string)
            }
            _ => None,
        };
        Some(WidgetMessage {
            id: message.id,
            client_id,
            author,
            text: message.text.clone(),
            channel,
            status: message.delivery_status,
            created_at: message.created_at,
        })
    }
}

/// What the server pushes to a visitor's open widgets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WidgetPush {
    Message { message: WidgetMessage },
    Typing { typing: bool },
}

/// The widget connections of this node, by visitor id (in-process today; the same port can
/// be carried by the bus between nodes). A push is offered, never queued for later: what a
/// widget misses it reads in the history of its next welcome.
#[async_trait]
pub trait Presence: Send + Sync {
    /// Offers `push` to every open widget of these visitors in the workspace; returns how
    /// many connections took it.
    async fn push(
        &self,
        workspace_id: WorkspaceId,
        visitor_ids: &[String],
        push: &WidgetPush,
    ) -> usize;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        channel::Channel,
        ids::{ChannelId, ConversationId, CustomerId},
        webchat::{Hello, admit},
    };

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
    fn notes_and_activities_never_reach_the_widget() {
        let visitor = admit(&channel(), Hello::default()).unwrap();
        let mut message = Message {
            id: MessageId::new(),
            workspace_id: visitor.channel.workspace_id,
            conversation_id: ConversationId::new(),
            customer_id: CustomerId::new(),
            kind: MessageKind::Note,
            channel_id: None,
            identity: None,
            identity_kind: None,
            author_id: None,
            provider_message_id: None,
            text: "internal".into(),
            delivery_status: None,
            delivery_error: None,
            sent_at: chrono::Utc::now(),
            created_at: chrono::Utc::now(),
        };
        assert_eq!(WidgetMessage::of(&message, None, Some(&visitor)), None);
        message.kind = MessageKind::Activity;
        assert_eq!(WidgetMessage::of(&message, None, Some(&visitor)), None);
        message.kind = MessageKind::Inbound;
        message.channel_id = Some(visitor.channel.id);
        message.provider_message_id = Some(visitor.provider_message_id("c-9"));
        let shown =
            WidgetMessage::of(&message, Some(ChannelKind::Webchat), Some(&visitor)).unwrap();
        assert_eq!(shown.author, Author::Visitor);
        assert_eq!(shown.client_id.as_deref(), Some("c-9"));
    }
}
