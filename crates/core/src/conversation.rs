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
    /// Words the customer's name (folded as in `text::fold`), one of their addresses or a
    /// message's text contains.
    pub query: Option<SearchQuery>,
}

/// A search of the inbox: the text as typed, lower-cased, and folded for names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    pub lower: String,
    pub folded: String,
}

impl SearchQuery {
    /// `None` for blank text; at most 100 characters.
    pub fn parse(text: &str) -> Result<Option<Self>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > 100 {
            return Err(Error::invalid("q", "has more than 100 characters"));
        }
        Ok(Some(SearchQuery {
            lower: text.to_lowercase(),
            folded: crate::text::fold(text),
        }))
    }
}

/// What the inbox shows beside a conversation, read for one user.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationSummary {
    pub conversation_id: ConversationId,
    pub customer_name: Option<String>,
    /// The latest inbound or outbound message (notes and activities are not previewed).
    pub preview: Option<Preview>,
    /// When the customer last wrote in this conversation.
    pub last_inbound_at: Option<Timestamp>,
    /// When the user last opened it.
    pub read_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    /// The message's text on one line, at most [`PREVIEW_CHARS`] characters.
    pub text: String,
    pub kind: crate::message::MessageKind,
    pub channel_id: Option<ChannelId>,
    pub at: Timestamp,
}

/// Longest preview text.
pub const PREVIEW_CHARS: usize = 160;

impl Preview {
    /// The first [`PREVIEW_CHARS`] characters of `text` with its whitespace collapsed.
    pub fn text_of(text: &str) -> String {
        let mut line = String::new();
        for (count, word) in text.split_whitespace().enumerate() {
            if count > 0 {
                line.push(' ');
            }
            line.push_str(word);
            if line.chars().count() > PREVIEW_CHARS {
                break;
            }
        }
        if line.chars().count() > PREVIEW_CHARS {
            let mut cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
            cut.push('…');
            cut
        } else {
            line
        }
    }
}

/// A conversation as one agent's inbox shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxItem {
    pub conversation: Conversation,
    pub customer_name: Option<String>,
    pub preview: Option<Preview>,
    /// The customer wrote after this user last opened the conversation.
    pub unread: bool,
}

impl InboxItem {
    fn new(conversation: Conversation, summary: Option<ConversationSummary>) -> Self {
        match summary {
            None => InboxItem {
                conversation,
                customer_name: None,
                preview: None,
                unread: false,
            },
            Some(summary) => InboxItem {
                conversation,
                customer_name: summary.customer_name,
                preview: summary.preview,
                unread: match (summary.last_inbound_at, summary.read_at) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(inbound), Some(read)) => inbound > read,
                },
            },
        }
    }
}

async fn decorate(
    store: &dyn Store,
    actor: &Actor,
    conversations: Vec<Conversation>,
) -> Result<Vec<InboxItem>> {
    let ids: Vec<ConversationId> = conversations.iter().map(|c| c.id).collect();
    let mut summaries = store
        .conversation_summaries(actor.workspace_id, actor.user_id, &ids)
        .await?;
    Ok(conversations
        .into_iter()
        .map(|conversation| {
            let found = summaries
                .iter()
                .position(|summary| summary.conversation_id == conversation.id)
                .map(|at| summaries.swap_remove(at));
            InboxItem::new(conversation, found)
        })
        .collect())
}

/// One page of the inbox: conversations with their customer's name, a preview and whether
/// the actor has read them.
pub async fn list_inbox(
    store: &dyn Store,
    actor: &Actor,
    filter: &ConversationFilter,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<InboxItem>> {
    let page = list_conversations(store, actor, filter, cursor, limit).await?;
    Ok(Page {
        items: decorate(store, actor, page.items).await?,
        next_cursor: page.next_cursor,
    })
}

/// One conversation as the actor's inbox shows it.
pub async fn get_inbox_item(
    store: &dyn Store,
    actor: &Actor,
    id: ConversationId,
) -> Result<InboxItem> {
    let conversation = get_conversation(store, actor, id).await?;
    inbox_item_of(store, actor, conversation).await
}

/// A conversation the caller already holds (one just changed), as the actor's inbox shows it.
pub async fn inbox_item_of(
    store: &dyn Store,
    actor: &Actor,
    conversation: Conversation,
) -> Result<InboxItem> {
    let mut items = decorate(store, actor, vec![conversation]).await?;
    items.pop().ok_or(Error::NotFound)
}

/// Records that the actor has read the conversation up to now.
pub async fn mark_read(
    store: &dyn Store,
    actor: &Actor,
    id: ConversationId,
    now: Timestamp,
) -> Result<()> {
    actor.require(Permission::ReadConversations)?;
    let mut tx = store.begin().await?;
    tx.get_conversation(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.mark_conversation_read(actor.workspace_id, id, actor.user_id, now)
        .await?;
    tx.commit().await
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
