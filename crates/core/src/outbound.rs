//! The one outbound path: an agent's reply or note becomes a stored message and, for replies, a
//! delivery job in the same transaction. Workers report back through [`record_delivery`].

use crate::{
    Error, Result, Timestamp,
    channel::{Channel, ChannelKind},
    conversation::{Page, page_size},
    cursor::Cursor,
    ids::{ChannelId, ConversationId, MessageId, WorkspaceId},
    jobs::{NewJob, kind},
    message::{DeliveryStatus, MAX_TEXT_BYTES, Message, MessageKind},
    outbox::OutboxEvent,
    ports::{Store, Tx},
    user::{Actor, Permission},
};

/// Which channel a reply goes out on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelChoice {
    /// The channel the customer last wrote on.
    Auto,
    Explicit(ChannelId),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub text: String,
    pub channel: ChannelChoice,
    /// An internal note: stored, shown to agents, never delivered.
    pub private: bool,
}

/// Whether a channel can carry a reply right now; the reason when it cannot. This is the one
/// place that decides, so that later channel rules (messaging windows, consent) grow here.
pub fn can_deliver(channel: &Channel) -> Result<()> {
    match channel.kind {
        ChannelKind::Api if channel.webhook_url().is_some() => Ok(()),
        ChannelKind::Api => Err(Error::Refused {
            reason: format!(
                "channel {} has no webhook_url to deliver replies to; set one in its config",
                channel.name
            ),
        }),
        ChannelKind::Email
            if channel
                .config
                .get("relay")
                .is_some_and(|relay| !relay.is_null()) =>
        {
            Ok(())
        }
        ChannelKind::Email => Err(Error::Refused {
            reason: format!(
                "channel {} has no relay to send mail through; set one in its config",
                channel.name
            ),
        }),
        // Pushed to the visitor's widget, or by email when the visitor is away (`webchat`).
        ChannelKind::Webchat => Ok(()),
        other => Err(Error::Refused {
            reason: format!(
                "channels of kind {} cannot deliver in this version",
                other.as_str()
            ),
        }),
    }
}

pub async fn send_reply(
    store: &dyn Store,
    actor: &Actor,
    conversation_id: ConversationId,
    reply: Reply,
    now: Timestamp,
) -> Result<Message> {
    actor.require(Permission::ReplyToConversations)?;
    if reply.text.trim().is_empty() {
        return Err(Error::invalid("text", "is empty"));
    }
    if reply.text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid("text", "is longer than 64 KiB"));
    }
    let mut tx = store.begin().await?;
    let mut conversation = tx
        .get_conversation(actor.workspace_id, conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut message = Message {
        id: MessageId::new(),
        workspace_id: actor.workspace_id,
        conversation_id,
        customer_id: conversation.customer_id,
        kind: MessageKind::Note,
        channel_id: None,
        identity: None,
        identity_kind: None,
        author_id: Some(actor.user_id),
        provider_message_id: None,
        text: reply.text,
        delivery_status: None,
        delivery_error: None,
        sent_at: now,
        created_at: now,
    };
    if !reply.private {
        let channel = choose_channel(
            tx.as_mut(),
            actor.workspace_id,
            reply.channel,
            conversation.last_channel_id,
        )
        .await?;
        can_deliver(&channel)?;
        if channel.kind == ChannelKind::Email {
            let address = tx
                .deliverable_email_of_customer(actor.workspace_id, conversation.customer_id)
                .await?
                .ok_or_else(|| Error::Refused {
                    reason: "the customer has no email address that accepts mail".into(),
                })?;
            message.identity = Some(address);
            message.identity_kind = Some(crate::identity::IdentityKind::Email);
        }
        message.kind = MessageKind::Outbound;
        message.channel_id = Some(channel.id);
        message.delivery_status = Some(DeliveryStatus::Queued);
        // An agent answered: the customer is no longer waiting.
        conversation.waiting_since = None;
        conversation.last_activity_at = now.max(conversation.last_activity_at);
    }
    conversation.updated_at = now;
    tx.insert_message(&message).await?;
    tx.update_conversation(&conversation).await?;
    if message.kind == MessageKind::Outbound {
        let job = NewJob::new(
            actor.workspace_id,
            kind::DELIVER_MESSAGE,
            serde_json::json!({ "message_id": message.id }),
            now,
        )
        .dedupe(format!("message:{}", message.id));
        tx.insert_job(&job).await?;
    }
    tx.insert_outbox(&OutboxEvent::message_created(&message, now))
        .await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&conversation, now))
        .await?;
    tx.commit().await?;
    Ok(message)
}

async fn choose_channel(
    tx: &mut dyn Tx,
    workspace_id: WorkspaceId,
    choice: ChannelChoice,
    last_channel_id: Option<ChannelId>,
) -> Result<Channel> {
    match choice {
        ChannelChoice::Explicit(id) => tx
            .get_channel(workspace_id, id)
            .await?
            .ok_or_else(|| Error::invalid("channel", "is not a channel of this workspace")),
        ChannelChoice::Auto => {
            let id = last_channel_id.ok_or_else(|| Error::Refused {
                reason: "the customer has not written on any channel yet; choose one".into(),
            })?;
            tx.get_channel(workspace_id, id)
                .await?
                .ok_or(Error::NotFound)
        }
    }
}

pub async fn list_messages(
    store: &dyn Store,
    actor: &Actor,
    conversation_id: ConversationId,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<Message>> {
    actor.require(Permission::ReadConversations)?;
    let limit = page_size(limit)?;
    store
        .get_conversation(actor.workspace_id, conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    store
        .list_messages(actor.workspace_id, conversation_id, cursor, limit)
        .await
}

/// Applies a delivery report under the forward-only rule. Returns the message as stored
/// afterwards; a report that would move the status backwards changes nothing.
pub async fn record_delivery(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    message_id: MessageId,
    status: DeliveryStatus,
    error: Option<String>,
    now: Timestamp,
) -> Result<Message> {
    let mut tx = store.begin().await?;
    let mut message = tx
        .get_message(workspace_id, message_id)
        .await?
        .ok_or(Error::NotFound)?;
    let current = message.delivery_status.unwrap_or(DeliveryStatus::Queued);
    if !current.may_become(status) {
        tx.rollback().await?;
        return Ok(message);
    }
    message.delivery_status = Some(status);
    message.delivery_error = if status == DeliveryStatus::Failed {
        error
    } else {
        None
    };
    tx.update_message_delivery(&message).await?;
    tx.insert_outbox(&OutboxEvent::message_updated(&message, now))
        .await?;
    tx.commit().await?;
    Ok(message)
}
