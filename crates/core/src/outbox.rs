//! Outbox rows: the side effects of a state change, written in the same transaction and
//! relayed after commit (realtime push, webhooks). A crash between commit and relay loses
//! nothing: the relay picks the rows up when it runs again.

use serde::{Deserialize, Serialize};

use crate::{
    Timestamp,
    conversation::Conversation,
    customer::Customer,
    ids::{OutboxId, WorkspaceId},
    merge::Merge,
    message::Message,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub id: OutboxId,
    pub workspace_id: WorkspaceId,
    /// `message.created`, `message.updated`, `conversation.created`, `conversation.updated`,
    /// `customer.updated`, `customer.merged`, `customer.unmerged`.
    pub topic: String,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
}

impl OutboxEvent {
    fn new(
        workspace_id: WorkspaceId,
        topic: &str,
        payload: serde_json::Value,
        now: Timestamp,
    ) -> Self {
        OutboxEvent {
            id: OutboxId::new(),
            workspace_id,
            topic: topic.to_string(),
            payload,
            created_at: now,
        }
    }

    pub fn message_created(message: &Message, now: Timestamp) -> Self {
        Self::new(
            message.workspace_id,
            "message.created",
            to_json(message),
            now,
        )
    }

    pub fn message_updated(message: &Message, now: Timestamp) -> Self {
        Self::new(
            message.workspace_id,
            "message.updated",
            to_json(message),
            now,
        )
    }

    pub fn conversation_created(conversation: &Conversation, now: Timestamp) -> Self {
        Self::new(
            conversation.workspace_id,
            "conversation.created",
            to_json(conversation),
            now,
        )
    }

    pub fn conversation_updated(conversation: &Conversation, now: Timestamp) -> Self {
        Self::new(
            conversation.workspace_id,
            "conversation.updated",
            to_json(conversation),
            now,
        )
    }

    /// A customer's profile or consent changed; the payload is the customer row (the agent
    /// app reloads the profile for consents).
    pub fn customer_updated(customer: &Customer, now: Timestamp) -> Self {
        Self::new(
            customer.workspace_id,
            "customer.updated",
            to_json(customer),
            now,
        )
    }
}

impl OutboxEvent {
    /// Only ids: the payload may reach webhooks, and a merge says nothing personal.
    pub fn customer_merged(merge: &Merge, now: Timestamp) -> Self {
        Self::new(
            merge.workspace_id,
            "customer.merged",
            serde_json::json!({
                "merge_id": merge.id,
                "survivor_id": merge.survivor_id,
                "absorbed_id": merge.absorbed_id,
            }),
            now,
        )
    }

    pub fn customer_unmerged(merge: &Merge, messages_moved: usize, now: Timestamp) -> Self {
        Self::new(
            merge.workspace_id,
            "customer.unmerged",
            serde_json::json!({
                "merge_id": merge.id,
                "survivor_id": merge.survivor_id,
                "absorbed_id": merge.absorbed_id,
                "messages_moved": messages_moved,
            }),
            now,
        )
    }
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
