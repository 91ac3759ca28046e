//! Conversations: channel-neutral threads between the business and one customer, and the use
//! cases that list, read and update them.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    cursor::Cursor,
    ids::{ChannelId, ConversationId, CustomerId, TeamId, UserId, WorkspaceId},
    outbox::OutboxEvent,
    ports::Store,
    user::{Actor, Permission},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => ConversationStatus::Open,
            "pending" => ConversationStatus::Pending,
            "snoozed" => ConversationStatus::Snoozed,
            "resolved" => ConversationStatus::Resolved,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    None,
    Low,
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::None => "none",
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "none" => Priority::None,
            "low" => Priority::Low,
            "medium" => Priority::Medium,
            "high" => Priority::High,
            "urgent" => Priority::Urgent,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub customer_id: CustomerId,
    pub status: ConversationStatus,
    pub priority: Priority,
    pub assignee_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    /// Sorted, unique, each 1–50 characters.
    pub labels: Vec<String>,
    /// The channel of the latest inbound message: where a reply goes by default.
    pub last_channel_id: Option<ChannelId>,
    /// The conversation this one continues, when it was started after a resolved one.
    pub previous_conversation_id: Option<ConversationId>,
    pub last_activity_at: Timestamp,
    /// Since when the customer has been waiting for an answer; `None` when not waiting.
    pub waiting_since: Option<Timestamp>,
    pub snoozed_until: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Who a conversation list is filtered to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    User(UserId),
    Unassigned,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub team_id: Option<TeamId>,
    /// Conversations with at least one message through this channel.
    pub channel_id: Option<ChannelId>,
    pub label: Option<String>,
    pub customer_id: Option<CustomerId>,
}

/// One page of a list, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

pub fn page_size(requested: Option<u32>) -> Result<u32> {
    match requested {
        None => Ok(25),
        Some(0) => Err(Error::invalid("limit", "must be at least 1")),
        Some(limit) if limit > MAX_PAGE_SIZE => Err(Error::invalid("limit", "must be at most 100")),
        Some(limit) => Ok(limit),
    }
}

pub async fn list_conversations(
    store: &dyn Store,
    actor: &Actor,
    filter: &ConversationFilter,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<Conversation>> {
    actor.require(Permission::ReadConversations)?;
    let limit = page_size(limit)?;
    store
        .list_conversations(actor.workspace_id, filter, cursor, limit)
        .await
}

pub async fn get_conversation(
    store: &dyn Store,
    actor: &Actor,
    id: ConversationId,
) -> Result<Conversation> {
    actor.require(Permission::ReadConversations)?;
    store
        .get_conversation(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// A partial update; `None` leaves a field as it is. `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversationUpdate {
    pub status: Option<ConversationStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<Option<UserId>>,
    pub team_id: Option<Option<TeamId>>,
    pub labels: Option<Vec<String>>,
    pub snoozed_until: Option<Option<Timestamp>>,
}

pub fn normalise_labels(labels: &[String]) -> Result<Vec<String>> {
    let mut clean: Vec<String> = Vec::with_capacity(labels.len());
    for label in labels {
        let label = label.trim().to_lowercase();
        if label.is_empty() || label.chars().count() > 50 {
            return Err(Error::invalid(
                "labels",
                "each label must have 1 to 50 characters",
            ));
        }
        if label.chars().any(|c| c.is_control() || c == ',') {
            return Err(Error::invalid(
                "labels",
                "a label cannot hold commas or control characters",
            ));
        }
        clean.push(label);
    }
    clean.sort();
    clean.dedup();
    if clean.len() > 20 {
        return Err(Error::invalid("labels", "at most 20 labels"));
    }
    Ok(clean)
}

pub async fn update_conversation(
    store: &dyn Store,
    actor: &Actor,
    id: ConversationId,
    update: ConversationUpdate,
    now: Timestamp,
) -> Result<Conversation> {
    actor.require(Permission::UpdateConversations)?;
    let labels = update.labels.as_deref().map(normalise_labels).transpose()?;
    let mut tx = store.begin().await?;
    let mut conversation = tx
        .get_conversation(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(Some(assignee)) = update.assignee_id {
        tx.get_user(actor.workspace_id, assignee)
            .await?
            .ok_or_else(|| Error::invalid("assignee_id", "is not a user of this workspace"))?;
    }
    if let Some(Some(team)) = update.team_id
        && !tx.team_exists(actor.workspace_id, team).await?
    {
        return Err(Error::invalid("team_id", "is not a team of this workspace"));
    }
    if let Some(status) = update.status {
        apply_status(
            &mut conversation,
            status,
            update.snoozed_until.flatten(),
            now,
        )?;
    } else if update.snoozed_until.is_some() {
        return Err(Error::invalid(
            "snoozed_until",
            "is only set together with status snoozed",
        ));
    }
    if let Some(priority) = update.priority {
        conversation.priority = priority;
    }
    if let Some(assignee) = update.assignee_id {
        conversation.assignee_id = assignee;
    }
    if let Some(team) = update.team_id {
        conversation.team_id = team;
    }
    if let Some(labels) = labels {
        conversation.labels = labels;
    }
    conversation.updated_at = now;
    tx.update_conversation(&conversation).await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&conversation, now))
        .await?;
    tx.commit().await?;
    Ok(conversation)
}

fn apply_status(
    conversation: &mut Conversation,
    status: ConversationStatus,
    snoozed_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<()> {
    match status {
        ConversationStatus::Snoozed => {
            let until = snoozed_until
                .ok_or_else(|| Error::invalid("snoozed_until", "is required to snooze"))?;
            if until <= now {
                return Err(Error::invalid("snoozed_until", "must be in the future"));
            }
            conversation.snoozed_until = Some(until);
        }
        _ if snoozed_until.is_some() => {
            return Err(Error::invalid(
                "snoozed_until",
                "is only set with status snoozed",
            ));
        }
        _ => conversation.snoozed_until = None,
    }
    conversation.resolved_at = match status {
        ConversationStatus::Resolved => Some(now),
        _ => None,
    };
    conversation.status = status;
    Ok(())
}
