//! The one inbound path: every channel adapter produces an [`InboundMessage`], and
//! [`receive`] takes it from there in one transaction — deduplicate, resolve the customer,
//! find the conversation it continues, append the message, write the outbox rows.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    auth::secrets_equal,
    channel::{Channel, ChannelKind},
    conversation::{Conversation, ConversationStatus, Priority},
    email::{self, EmailDetails, InboundAttachment},
    identity::{Identity, IdentityKind},
    ids::{ChannelId, ConversationId, CustomerId, MessageId},
    message::{MAX_TEXT_BYTES, Message, MessageKind},
    outbox::OutboxEvent,
    ports::{FileStore, IDENTITY_TAKEN, Store, TRANSACTION_CONFLICT, Tx},
    resolution::{self, Claim, IgnoredIdentity, Source},
    workspace::{Continuity, Workspace},
};

/// One sender address as the provider gave it, before normalisation (which needs the
/// workspace's default region).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawIdentity {
    pub kind: IdentityKind,
    pub value: String,
    /// Where it came from in the request, for error messages (e.g. `from.email`).
    pub field: String,
    /// Proven by the channel rather than claimed by the sender.
    pub verified: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub channel_id: ChannelId,
    /// The provider's id for this message: the idempotency key.
    pub provider_message_id: String,
    pub sender: Vec<RawIdentity>,
    pub sender_name: Option<String>,
    pub text: String,
    pub sent_at: Option<Timestamp>,
    /// Set by the email channel: threading headers, display HTML, authentication results.
    #[serde(default)]
    pub email: Option<EmailDetails>,
    #[serde(default)]
    pub attachments: Vec<InboundAttachment>,
}

/// Where an inbound message landed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub customer_id: CustomerId,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// True when this delivery repeated one already stored; nothing new was written.
    pub duplicate: bool,
    /// Sender addresses left out of resolution (placeholders, blocked values).
    pub ignored: Vec<IgnoredIdentity>,
}

/// The API channel's credential check: the bearer must equal the channel's secret.
/// An unknown channel and a wrong secret look the same to the caller.
pub async fn authenticate_api_channel(
    store: &dyn Store,
    channel_id: ChannelId,
    bearer: Option<&str>,
) -> Result<Channel> {
    authenticate_channel(store, channel_id, ChannelKind::Api, bearer).await
}

/// The channel's credential check for any kind with an authenticated inbound endpoint (the
/// API channel's messages, the email channel's raw mail): the bearer must equal its secret.
pub async fn authenticate_channel(
    store: &dyn Store,
    channel_id: ChannelId,
    kind: ChannelKind,
    bearer: Option<&str>,
) -> Result<Channel> {
    let bearer = bearer.ok_or(Error::Unauthorized)?;
    let channel = store
        .find_channel(channel_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    if channel.kind != kind || !secrets_equal(&channel.secret, bearer) {
        return Err(Error::Unauthorized);
    }
    Ok(channel)
}

fn validate(message: &InboundMessage) -> Result<()> {
    let id = message.provider_message_id.trim();
    if id.is_empty() || id.len() > 255 {
        return Err(Error::invalid(
            "message_id",
            "must have 1 to 255 characters",
        ));
    }
    if message.text.trim().is_empty() {
        return Err(Error::invalid("text", "is empty"));
    }
    if message.text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid("text", "is longer than 64 KiB"));
    }
    if message.sender.is_empty() {
        return Err(Error::invalid(
            "from",
            "needs at least one of email, phone or external_id",
        ));
    }
    if message
        .sender_name
        .as_ref()
        .is_some_and(|name| name.chars().count() > 200)
    {
        return Err(Error::invalid("from.name", "is longer than 200 characters"));
    }
    Ok(())
}

/// Normalises the sender's identities with the workspace's rules, leaving out blocked values
/// (see [`resolution::normalise`], which also reports them).
pub fn normalise_sender(
    workspace: &Workspace,
    sender: &[RawIdentity],
) -> Result<Vec<(Identity, bool)>> {
    Ok(resolution::normalise::normalise(workspace, sender)?
        .claims
        .into_iter()
        .map(|claim| (claim.identity, claim.verified))
        .collect())
}

/// How often a message is tried again after losing a race for a new identity.
const IDENTITY_RACE_ATTEMPTS: usize = 3;

/// Receives one inbound message. Idempotent on (channel, provider message id). A message
/// with attachments needs [`receive_with_files`].
pub async fn receive(
    store: &dyn Store,
    channel: &Channel,
    message: InboundMessage,
    now: Timestamp,
) -> Result<Received> {
    receive_with_files(store, None, channel, message, now).await
}

/// [`receive`], putting the message's files in `files` first.
pub async fn receive_with_files(
    store: &dyn Store,
    files: Option<&dyn FileStore>,
    channel: &Channel,
    message: InboundMessage,
    now: Timestamp,
) -> Result<Received> {
    if !message.attachments.is_empty() && files.is_none() {
        return Err(Error::invalid(
            "attachments",
            "this channel does not take files",
        ));
    }
    let mut attempt = 1;
    loop {
        match receive_once(store, files, channel, &message, now).await {
            // Two first messages of a new sender at once: the loser's transaction is gone, and
            // trying again finds the customer the winner created.
            Err(Error::Conflict { what })
                if (what == IDENTITY_TAKEN || what == TRANSACTION_CONFLICT)
                    && attempt < IDENTITY_RACE_ATTEMPTS =>
            {
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

async fn receive_once(
    store: &dyn Store,
    files: Option<&dyn FileStore>,
    channel: &Channel,
    message: &InboundMessage,
    now: Timestamp,
) -> Result<Received> {
    validate(message)?;
    let workspace = store
        .get_workspace(channel.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    let normalised = resolution::normalise::normalise(&workspace, &message.sender)?;
    resolution::normalise::require_some(&normalised, "from")?;
    let provider_id = message.provider_message_id.trim().to_string();
    // Files are written (and synced) before the transaction, so the writer is not held while
    // they are: a file without a row is harmless, a row without its file is not.
    let message_id = MessageId::new();
    let attachments = match files {
        Some(files) if !message.attachments.is_empty() => {
            email::store_files(files, workspace.id, message_id, &message.attachments, now).await?
        }
        _ => Vec::new(),
    };

    let mut tx = store.begin().await?;
    if let Some(existing) = tx
        .find_message_by_provider_id(channel.id, &provider_id)
        .await?
    {
        tx.rollback().await?;
        return Ok(duplicate_of(&existing));
    }
    let customer_id = resolution::resolve(
        tx.as_mut(),
        &workspace,
        &normalised.claims,
        message.sender_name.as_deref(),
        Source::Channel(channel.id),
        now,
    )
    .await?
    .customer_id;
    // One use case at a time per customer: two messages at once never open two conversations.
    tx.lock_customer(workspace.id, customer_id).await?;
    let came_through = &normalised.claims[0].identity;
    let automated = message
        .email
        .as_ref()
        .is_some_and(|email| email.automated.is_some());
    let thread = match &message.email {
        Some(details) => email::thread_of(tx.as_mut(), &workspace, customer_id, details).await?,
        None => None,
    };
    let (mut conversation, is_new) = match thread {
        Some(mut conversation) => {
            if !automated {
                email::reopen(&mut conversation);
            }
            (conversation, false)
        }
        None if automated => {
            quiet_conversation(tx.as_mut(), &workspace, customer_id, channel.id, now).await?
        }
        None => {
            continue_conversation(tx.as_mut(), &workspace, customer_id, channel.id, now).await?
        }
    };

    let stored = Message {
        id: message_id,
        workspace_id: workspace.id,
        conversation_id: conversation.id,
        customer_id,
        kind: MessageKind::Inbound,
        channel_id: Some(channel.id),
        identity: Some(came_through.value.clone()),
        identity_kind: Some(came_through.kind),
        author_id: None,
        provider_message_id: Some(provider_id.clone()),
        text: message.text.clone(),
        delivery_status: None,
        delivery_error: None,
        sent_at: message.sent_at.unwrap_or(now),
        created_at: now,
    };
    // Machine-sent mail is kept, but it neither bumps the conversation nor makes it wait.
    if !automated {
        conversation.last_activity_at = now.max(conversation.last_activity_at);
        conversation.waiting_since = conversation.waiting_since.or(Some(now));
        conversation.last_channel_id = Some(channel.id);
    }
    conversation.updated_at = now;
    if is_new {
        tx.insert_conversation(&conversation).await?;
    } else {
        tx.update_conversation(&conversation).await?;
    }
    match tx.insert_message(&stored).await {
        Ok(()) => {}
        Err(Error::Conflict { .. }) => {
            // A concurrent delivery of the same message won the unique constraint.
            tx.rollback().await?;
            let mut tx = store.begin().await?;
            let existing = tx
                .find_message_by_provider_id(channel.id, &provider_id)
                .await?;
            tx.rollback().await?;
            return existing
                .map(|existing| duplicate_of(&existing))
                .ok_or(Error::internal(
                    "duplicate message conflict without a stored message",
                ));
        }
        Err(error) => return Err(error),
    }
    if let Some(details) = &message.email {
        record_email(tx.as_mut(), &stored, details, &conversation, now).await?;
    }
    if !attachments.is_empty() {
        tx.insert_attachments(&attachments).await?;
    }
    let conversation_event = if is_new {
        OutboxEvent::conversation_created(&conversation, now)
    } else {
        OutboxEvent::conversation_updated(&conversation, now)
    };
    tx.insert_outbox(&conversation_event).await?;
    tx.insert_outbox(&OutboxEvent::message_created(&stored, now))
        .await?;
    crate::stats::record_message(tx.as_mut(), &stored).await?;
    tx.commit().await?;
    Ok(Received {
        customer_id,
        conversation_id: conversation.id,
        message_id: stored.id,
        duplicate: false,
        ignored: normalised.ignored,
    })
}

/// Stores the email part of a received message and starts the conversation's email thread
/// (its subject and reply token) when this is its first mail.
async fn record_email(
    tx: &mut dyn Tx,
    stored: &Message,
    details: &EmailDetails,
    conversation: &Conversation,
    now: Timestamp,
) -> Result<()> {
    let email_message_id = details
        .message_id
        .clone()
        .unwrap_or_else(|| stored.provider_message_id.clone().unwrap_or_default());
    let subject = details.subject.clone();
    let mut details = details.clone();
    // Most mail has no quoted history: its full text is the message's text, kept once.
    if details.full_text == stored.text {
        details.full_text.clear();
    }
    tx.insert_message_email(&email::MessageEmail {
        message_id: stored.id,
        workspace_id: stored.workspace_id,
        email_message_id,
        details,
        created_at: now,
    })
    .await?;
    let mut thread = tx
        .conversation_email(stored.workspace_id, conversation.id)
        .await?;
    if thread.reply_token.is_none() || thread.subject.is_none() {
        thread.reply_token = thread
            .reply_token
            .or_else(|| Some(email::new_reply_token()));
        thread.subject = thread.subject.or(subject);
        tx.set_conversation_email(stored.workspace_id, conversation.id, &thread)
            .await?;
    }
    Ok(())
}

/// Where machine-sent mail that threads nowhere goes: the customer's latest conversation,
/// untouched, or a new conversation that starts resolved, so that it waits in no queue.
async fn quiet_conversation(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    customer_id: CustomerId,
    channel_id: ChannelId,
    now: Timestamp,
) -> Result<(Conversation, bool)> {
    let scope = match workspace.continuity {
        Continuity::Customer => None,
        Continuity::Channel => Some(channel_id),
    };
    if let Some(latest) = tx
        .latest_conversation(workspace.id, customer_id, scope)
        .await?
    {
        return Ok((latest, false));
    }
    let (mut conversation, is_new) =
        continue_conversation(tx, workspace, customer_id, channel_id, now).await?;
    conversation.status = ConversationStatus::Resolved;
    conversation.resolved_at = Some(now);
    Ok((conversation, is_new))
}

fn duplicate_of(existing: &Message) -> Received {
    Received {
        customer_id: existing.customer_id,
        conversation_id: existing.conversation_id,
        message_id: existing.id,
        duplicate: true,
        ignored: Vec::new(),
    }
}

/// Resolves normalised identities to one customer (see [`resolution::resolve`], the single
/// place where resolution happens). The identities are recorded as coming from `identify`.
pub async fn resolve_customer(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    identities: &[(Identity, bool)],
    name: Option<&str>,
    now: Timestamp,
) -> Result<CustomerId> {
    resolve_customer_from(tx, workspace, identities, name, Source::Identify, now).await
}

/// [`resolve_customer`], recording `source` on the identities it attaches.
pub async fn resolve_customer_from(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    identities: &[(Identity, bool)],
    name: Option<&str>,
    source: Source,
    now: Timestamp,
) -> Result<CustomerId> {
    let claims: Vec<Claim> = identities
        .iter()
        .map(|(identity, verified)| Claim {
            identity: identity.clone(),
            verified: *verified,
        })
        .collect();
    Ok(
        resolution::resolve(tx, workspace, &claims, name, source, now)
            .await?
            .customer_id,
    )
}

/// Applies the continuity policy: join the latest unresolved conversation, reopen one resolved
/// within the reopen window, or start a new one linked to the previous. Returns the
/// conversation and whether it is new (not yet stored).
async fn continue_conversation(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    customer_id: CustomerId,
    channel_id: ChannelId,
    now: Timestamp,
) -> Result<(Conversation, bool)> {
    let scope = match workspace.continuity {
        Continuity::Customer => None,
        Continuity::Channel => Some(channel_id),
    };
    let latest = tx
        .latest_conversation(workspace.id, customer_id, scope)
        .await?;
    let window = chrono::Duration::seconds(workspace.reopen_window_secs);
    match latest {
        Some(mut conversation) if conversation.status != ConversationStatus::Resolved => {
            conversation.status = ConversationStatus::Open;
            conversation.snoozed_until = None;
            Ok((conversation, false))
        }
        Some(mut conversation)
            if conversation
                .resolved_at
                .is_some_and(|resolved| resolved + window > now) =>
        {
            conversation.status = ConversationStatus::Open;
            conversation.resolved_at = None;
            Ok((conversation, false))
        }
        previous => Ok((
            Conversation {
                id: ConversationId::new(),
                workspace_id: workspace.id,
                customer_id,
                status: ConversationStatus::Open,
                priority: Priority::None,
                assignee_id: None,
                team_id: None,
                labels: Vec::new(),
                last_channel_id: Some(channel_id),
                previous_conversation_id: previous.map(|conversation| conversation.id),
                last_activity_at: now,
                waiting_since: None,
                snoozed_until: None,
                resolved_at: None,
                created_at: now,
                updated_at: now,
            },
            true,
        )),
    }
}
