//! Joining two conversations of one customer into one, and splitting a message off into a new
//! conversation: how an agent tidies threads after a merge or a topic change.

use crate::{
    Error, Result, Timestamp,
    conversation::{Conversation, ConversationStatus, Priority},
    ids::{ConversationId, MessageId},
    message::MessageKind,
    outbox::OutboxEvent,
    ports::{Store, Tx},
    user::{Actor, Permission},
};

/// Moves every message of `other` into `into` and resolves `other`, which stays empty. Both
/// must belong to the same customer and neither may be resolved.
pub async fn join_conversations(
    store: &dyn Store,
    actor: &Actor,
    into_id: ConversationId,
    other_id: ConversationId,
    now: Timestamp,
) -> Result<Conversation> {
    actor.require(Permission::UpdateConversations)?;
    if into_id == other_id {
        return Err(Error::invalid(
            "conversation_id",
            "is the conversation itself",
        ));
    }
    let workspace_id = actor.workspace_id;
    let mut tx = store.begin().await?;
    let into = tx
        .get_conversation(workspace_id, into_id)
        .await?
        .ok_or(Error::NotFound)?;
    let other = tx
        .get_conversation(workspace_id, other_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.lock_customer(workspace_id, into.customer_id).await?;
    if into.customer_id != other.customer_id {
        return Err(Error::Refused {
            reason: "the conversations belong to different customers; merge the customers first"
                .to_string(),
        });
    }
    if into.status == ConversationStatus::Resolved || other.status == ConversationStatus::Resolved {
        return Err(Error::Refused {
            reason: "only conversations that are not resolved can be joined".to_string(),
        });
    }
    let (joined, _) = join_into(tx.as_mut(), &into, &other, now).await?;
    tx.commit().await?;
    Ok(joined)
}

/// Moves every message of `other` into `into` (to `into`'s customer), takes over its latest
/// channel and earliest wait, and resolves `other`, which stays behind empty. Returns `into`
/// as saved and the ids of the messages moved. Used by the join above and by merges.
pub(crate) async fn join_into(
    tx: &mut dyn Tx,
    into: &Conversation,
    other: &Conversation,
    now: Timestamp,
) -> Result<(Conversation, Vec<MessageId>)> {
    let ids = tx
        .message_ids_of_conversation(other.workspace_id, other.id)
        .await?;
    tx.move_messages(other.workspace_id, &ids, into.customer_id, into.id)
        .await?;
    let mut joined = into.clone();
    if other.last_activity_at > joined.last_activity_at {
        joined.last_activity_at = other.last_activity_at;
        joined.last_channel_id = other.last_channel_id.or(joined.last_channel_id);
    }
    joined.waiting_since = match (joined.waiting_since, other.waiting_since) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    joined.updated_at = now;
    tx.update_conversation(&joined).await?;
    let mut emptied = other.clone();
    emptied.customer_id = into.customer_id;
    emptied.status = ConversationStatus::Resolved;
    emptied.resolved_at = Some(now);
    emptied.waiting_since = None;
    emptied.snoozed_until = None;
    emptied.updated_at = now;
    tx.update_conversation(&emptied).await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&joined, now))
        .await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&emptied, now))
        .await?;
    Ok((joined, ids))
}

/// Moves one message into a new open conversation of the same customer, linked to the one it
/// left. The message must be the customer's or an agent's, and not the only one there.
pub async fn split_message(
    store: &dyn Store,
    actor: &Actor,
    message_id: MessageId,
    now: Timestamp,
) -> Result<Conversation> {
    actor.require(Permission::UpdateConversations)?;
    let workspace_id = actor.workspace_id;
    let mut tx = store.begin().await?;
    let message = tx
        .get_message(workspace_id, message_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !matches!(message.kind, MessageKind::Inbound | MessageKind::Outbound) {
        return Err(Error::Refused {
            reason: "only a customer's or an agent's message can be split off".to_string(),
        });
    }
    let source = tx
        .get_conversation(workspace_id, message.conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.lock_customer(workspace_id, source.customer_id).await?;
    let siblings = tx
        .message_ids_of_conversation(workspace_id, source.id)
        .await?;
    if siblings.len() < 2 {
        return Err(Error::Refused {
            reason: "the message is the only one of its conversation".to_string(),
        });
    }
    let split = Conversation {
        id: ConversationId::new(),
        workspace_id,
        customer_id: source.customer_id,
        status: ConversationStatus::Open,
        priority: Priority::None,
        assignee_id: source.assignee_id,
        team_id: source.team_id,
        labels: Vec::new(),
        last_channel_id: message.channel_id.or(source.last_channel_id),
        previous_conversation_id: Some(source.id),
        last_activity_at: message.created_at,
        waiting_since: (message.kind == MessageKind::Inbound).then_some(message.created_at),
        snoozed_until: None,
        resolved_at: None,
        created_at: now,
        updated_at: now,
    };
    tx.insert_conversation(&split).await?;
    tx.move_messages(workspace_id, &[message.id], split.customer_id, split.id)
        .await?;
    tx.insert_outbox(&OutboxEvent::conversation_created(&split, now))
        .await?;
    tx.commit().await?;
    Ok(split)
}
