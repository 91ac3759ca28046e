//! The one outbound path: an agent's reply or note becomes a stored message and, for replies, a
//! delivery job in the same transaction. Workers report back through [`record_delivery`].

use serde::Serialize;

use crate::{
    Error, Result, Timestamp,
    channel::{Channel, ChannelKind},
    consent::ConsentStatus,
    conversation::{Conversation, Page, page_size},
    cursor::Cursor,
    email::Attachment,
    identity::Identity,
    ids::{ChannelId, ConversationId, CustomerId, MessageId, UploadId, WorkspaceId},
    jobs::{NewJob, kind},
    message::{DeliveryStatus, MAX_TEXT_BYTES, Message, MessageKind},
    messaging::{self, Alternative, Content, Reach, Refusal},
    outbox::OutboxEvent,
    ports::{Store, Tx},
    uploads,
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
    /// An approved WhatsApp template by name, sent instead of `text` (which may be empty);
    /// its language follows the customer's locale and its parameters their profile.
    pub template: Option<String>,
    /// Reply buttons or quick replies, where the channel has them.
    pub buttons: Vec<messaging::Choice>,
    /// Uploaded files to send with the text (which may then be empty), in order. On a note
    /// they are only stored.
    pub attachments: Vec<UploadId>,
}

impl Reply {
    /// A plain text reply on the customer's last channel.
    pub fn text(text: impl Into<String>) -> Self {
        Reply {
            text: text.into(),
            channel: ChannelChoice::Auto,
            private: false,
            template: None,
            buttons: Vec::new(),
            attachments: Vec::new(),
        }
    }
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
        // Their credentials are checked when the channel is saved; windows and consent are
        // decided per customer by `messaging::may_write`.
        kind if messaging::is_messaging(kind) => Ok(()),
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
    if reply.text.trim().is_empty() && reply.template.is_none() && reply.attachments.is_empty() {
        return Err(Error::invalid("text", "is empty"));
    }
    if reply.private && (reply.template.is_some() || !reply.buttons.is_empty()) {
        return Err(Error::invalid(
            "private",
            "a note carries neither a template nor buttons",
        ));
    }
    messaging::check_choices(&reply.buttons)?;
    uploads::check_reply(
        &reply.attachments,
        &reply.text,
        reply.template.is_some(),
        !reply.buttons.is_empty(),
    )?;
    if reply.text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid("text", "is longer than 64 KiB"));
    }
    // Everything is decided from reads that hold no writer (nor more than one connection at a
    // time); the transaction below only writes.
    let mut conversation = store
        .get_conversation(actor.workspace_id, conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    // What the delivery job needs beyond the message (messaging channels).
    let mut delivery = serde_json::Map::new();
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
        text: reply.text.clone(),
        delivery_status: None,
        delivery_error: None,
        sent_at: now,
        created_at: now,
    };
    let files = {
        let mut read = store.begin_read().await?;
        let files =
            uploads::uploads_of(read.as_mut(), actor.workspace_id, &reply.attachments).await;
        read.rollback().await?;
        files?
    };
    let attachments: Vec<Attachment> = files
        .iter()
        .map(|file| file.attach_to(message.id, now))
        .collect();
    if !reply.private {
        let channel = choose_channel(
            store,
            actor.workspace_id,
            reply.channel,
            conversation.last_channel_id,
        )
        .await?;
        can_deliver(&channel)?;
        uploads::check_files(&channel, &reply.text, &files)?;
        if reply.template.is_some() && channel.kind != ChannelKind::Whatsapp {
            return Err(Error::invalid(
                "template",
                "templates are sent on WhatsApp channels only",
            ));
        }
        if messaging::is_messaging(channel.kind) {
            let plan = plan_messaging(store, &conversation, &channel, &reply, now).await?;
            message.text = plan.text.clone();
            message.identity = Some(plan.identity.value.clone());
            message.identity_kind = Some(plan.identity.kind);
            delivery = plan.job_payload(&reply.buttons, &attachments);
        } else if !reply.buttons.is_empty() {
            return Err(Error::invalid(
                "buttons",
                format!("{} channels have no buttons", channel.kind.as_str()),
            ));
        }
        if channel.kind == ChannelKind::Email {
            let address = store
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
    let mut tx = store.begin().await?;
    let current = tx
        .get_conversation(actor.workspace_id, conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    if current.customer_id != conversation.customer_id {
        // Merged into another customer while the reply was being decided: decide again.
        return Err(Error::Conflict {
            what: crate::ports::TRANSACTION_CONFLICT.into(),
        });
    }
    // Only what this reply changes is taken from the snapshot.
    let (waiting_since, last_activity_at) =
        (conversation.waiting_since, conversation.last_activity_at);
    conversation = Conversation {
        waiting_since: if message.kind == MessageKind::Outbound {
            waiting_since
        } else {
            current.waiting_since
        },
        last_activity_at: last_activity_at.max(current.last_activity_at),
        ..current
    };
    conversation.updated_at = now;
    tx.insert_message(&message).await?;
    if !attachments.is_empty() {
        tx.insert_attachments(&attachments).await?;
    }
    tx.update_conversation(&conversation).await?;
    if message.kind == MessageKind::Outbound {
        delivery.insert("message_id".into(), serde_json::json!(message.id));
        let job = NewJob::new(
            actor.workspace_id,
            kind::DELIVER_MESSAGE,
            serde_json::Value::Object(delivery),
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

/// How a reply goes out on a messaging channel, decided when it is queued.
struct MessagingPlan {
    text: String,
    identity: Identity,
    /// The provider's address of the customer.
    to: String,
    permit: messaging::Permit,
    /// `{name, language, parameters, content_sid}` of the template, when one is sent.
    template: Option<serde_json::Value>,
}

impl MessagingPlan {
    fn job_payload(
        &self,
        buttons: &[messaging::Choice],
        attachments: &[Attachment],
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut payload = serde_json::Map::new();
        payload.insert("to".into(), serde_json::json!(self.to));
        if let Some(tag) = &self.permit.tag {
            payload.insert("tag".into(), serde_json::json!(tag));
        }
        if let Some(template) = &self.template {
            payload.insert("template".into(), template.clone());
        }
        if !buttons.is_empty() {
            payload.insert("buttons".into(), serde_json::json!(buttons));
        }
        if !attachments.is_empty() {
            payload.insert("media".into(), uploads::job_media(attachments));
        }
        payload
    }
}

/// The facts `messaging::may_write` needs about a customer on a channel.
async fn reach_of(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel: &Channel,
) -> Result<(Reach, Option<Identity>)> {
    let last = store
        .last_inbound(workspace_id, customer_id, channel.id)
        .await?;
    let consent = store
        .get_consent(workspace_id, customer_id, channel.kind)
        .await?
        .map_or(ConsentStatus::Unknown, |consent| consent.status);
    Ok((
        Reach {
            last_inbound_at: last.as_ref().map(|last| last.at),
            consent,
        },
        last.and_then(|last| last.identity),
    ))
}

async fn plan_messaging(
    store: &dyn Store,
    conversation: &Conversation,
    channel: &Channel,
    reply: &Reply,
    now: Timestamp,
) -> Result<MessagingPlan> {
    let workspace_id = conversation.workspace_id;
    let customer_id = conversation.customer_id;
    let (reach, last_used) = reach_of(store, workspace_id, customer_id, channel).await?;
    let content = reply
        .template
        .as_deref()
        .map_or(Content::FreeForm, Content::Template);
    let permit = match messaging::may_write(channel, &reach, content, now) {
        Ok(permit) => permit,
        Err(refusal) => {
            let alternatives = alternatives(store, workspace_id, customer_id, channel, now).await?;
            return Err(Error::Undeliverable {
                reason: refusal.reason().to_string(),
                alternatives,
            });
        }
    };
    let identities = identities_of(store, workspace_id, customer_id).await?;
    let (identity, to) = messaging::recipient(channel, last_used.as_ref(), &identities)
        .ok_or_else(|| Error::Refused {
            reason: format!(
                "the customer has no address that {} channel {} can reach",
                channel.kind.as_str(),
                channel.name
            ),
        })?;
    let (text, template) = match reply.template.as_deref() {
        Some(name) => {
            let profile = store
                .get_customer_profile(workspace_id, customer_id)
                .await?
                .ok_or(Error::NotFound)?;
            let templates = messaging::templates(channel);
            let locale = profile
                .customer
                .locale
                .as_ref()
                .map(|locale| locale.as_str().to_string());
            let template = messaging::pick_template(&templates, name, locale.as_deref(), &[])
                .ok_or_else(|| Error::invalid("template", "is not a template of this channel"))?;
            let (parameters, text) = messaging::fill_template(template, &profile)?;
            (
                text,
                Some(serde_json::json!({
                    "name": template.name,
                    "language": template.language,
                    "parameters": parameters,
                    "content_sid": template.content_sid,
                })),
            )
        }
        None => {
            messaging::check_text(channel.kind, &reply.text)?;
            (reply.text.clone(), None)
        }
    };
    Ok(MessagingPlan {
        text,
        identity,
        to,
        permit,
        template,
    })
}

/// The channels of the workspace that can carry a message to this customer now, for a refusal
/// on `refused` to name: free-form where allowed, WhatsApp templates where only they are.
async fn alternatives(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    refused: &Channel,
    now: Timestamp,
) -> Result<Vec<Alternative>> {
    let identities = identities_of(store, workspace_id, customer_id).await?;
    let mut found = Vec::new();
    for channel in store.list_channels(workspace_id).await? {
        if can_deliver(&channel).is_err()
            || !reachable(store, workspace_id, customer_id, &channel, &identities).await?
        {
            continue;
        }
        let refusal = refusal_on(store, workspace_id, customer_id, &channel, now).await?;
        if matches!(refusal, Some(Refusal::OptedOut { .. })) {
            continue;
        }
        let free_form = refusal.is_none() && channel.id != refused.id;
        let templates = template_names(&channel);
        if free_form || !templates.is_empty() {
            found.push(Alternative {
                channel_id: channel.id,
                channel_name: channel.name.clone(),
                kind: channel.kind,
                free_form,
                templates,
            });
        }
    }
    Ok(found)
}

/// The customer's identities, wherever they came from.
async fn identities_of(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Result<Vec<Identity>> {
    Ok(store
        .identities_of_customers(workspace_id, &[customer_id])
        .await?
        .into_iter()
        .map(|held| held.identity)
        .collect())
}

/// The names of the channel's approved templates, each once.
fn template_names(channel: &Channel) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for template in messaging::templates(channel) {
        if !names.contains(&template.name) {
            names.push(template.name);
        }
    }
    names
}

/// Why free-form text cannot go to the customer on `channel` now, or `None` when it can: the
/// channel's delivery settings, the customer's consent, and the provider's window.
async fn refusal_on(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel: &Channel,
    now: Timestamp,
) -> Result<Option<Refusal>> {
    if let Err(error) = can_deliver(channel) {
        return Ok(Some(Refusal::NotAvailable {
            reason: error.to_string(),
        }));
    }
    if messaging::is_messaging(channel.kind) {
        let (reach, _) = reach_of(store, workspace_id, customer_id, channel).await?;
        return Ok(messaging::may_write(channel, &reach, Content::FreeForm, now).err());
    }
    Ok(store
        .get_consent(workspace_id, customer_id, channel.kind)
        .await?
        .filter(|consent| consent.status == ConsentStatus::OptedOut)
        .map(|_| Refusal::OptedOut {
            reason: format!(
                "the customer opted out of {} messages",
                channel.kind.as_str()
            ),
        }))
}

/// Whether the customer has an address `channel` can deliver to.
async fn reachable(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel: &Channel,
    identities: &[Identity],
) -> Result<bool> {
    Ok(match channel.kind {
        ChannelKind::Email => store
            .deliverable_email_of_customer(workspace_id, customer_id)
            .await?
            .is_some(),
        ChannelKind::Webchat => identities
            .iter()
            .any(|identity| identity.kind == crate::identity::IdentityKind::Visitor),
        kind if messaging::is_messaging(kind) => {
            messaging::recipient(channel, None, identities).is_some()
        }
        _ => false,
    })
}

/// A channel a reply in a conversation could go on, and whether it can now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplyChannel {
    pub channel_id: ChannelId,
    pub kind: ChannelKind,
    pub name: String,
    /// Free-form text can go now.
    pub available: bool,
    /// Why not, when it cannot: `opted_out`, `window_closed`, `not_available`.
    pub reason: Option<Refusal>,
    /// Approved templates that can go even when free-form text cannot (WhatsApp).
    pub templates: Vec<String>,
}

/// Where a reply in a conversation can go.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplyChannels {
    /// Every channel of the workspace that can reach the customer, usable ones first.
    pub channels: Vec<ReplyChannel>,
    /// The channel the customer last wrote on when it is usable, else the first usable one.
    pub default_channel_id: Option<ChannelId>,
}

/// The channels a reply in conversation `id` could go on, each with the reason it cannot
/// when it cannot: the same rules `send_reply` applies (delivery settings, consent, the
/// providers' windows).
pub async fn reply_channels(
    store: &dyn Store,
    actor: &Actor,
    id: ConversationId,
    now: Timestamp,
) -> Result<ReplyChannels> {
    actor.require(Permission::ReadConversations)?;
    let conversation = store
        .get_conversation(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let workspace_id = conversation.workspace_id;
    let customer_id = conversation.customer_id;
    let identities = identities_of(store, workspace_id, customer_id).await?;
    let mut channels = Vec::new();
    for channel in store.list_channels(workspace_id).await? {
        let used = conversation.last_channel_id == Some(channel.id);
        if !used && !reachable(store, workspace_id, customer_id, &channel, &identities).await? {
            continue;
        }
        let refusal = refusal_on(store, workspace_id, customer_id, &channel, now).await?;
        channels.push(ReplyChannel {
            channel_id: channel.id,
            kind: channel.kind,
            name: channel.name.clone(),
            available: refusal.is_none(),
            templates: if matches!(refusal, Some(Refusal::OptedOut { .. })) {
                Vec::new()
            } else {
                template_names(&channel)
            },
            reason: refusal,
        });
    }
    channels.sort_by_key(|channel| !channel.available);
    let default_channel_id = channels
        .iter()
        .find(|channel| {
            channel.available && conversation.last_channel_id == Some(channel.channel_id)
        })
        .or_else(|| channels.iter().find(|channel| channel.available))
        .map(|channel| channel.channel_id);
    Ok(ReplyChannels {
        channels,
        default_channel_id,
    })
}

async fn choose_channel(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    choice: ChannelChoice,
    last_channel_id: Option<ChannelId>,
) -> Result<Channel> {
    match choice {
        ChannelChoice::Explicit(id) => store
            .get_channel(workspace_id, id)
            .await?
            .ok_or_else(|| Error::invalid("channel", "is not a channel of this workspace")),
        ChannelChoice::Auto => {
            let id = last_channel_id.ok_or_else(|| Error::Refused {
                reason: "the customer has not written on any channel yet; choose one".into(),
            })?;
            store
                .get_channel(workspace_id, id)
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

/// Records that the provider accepted a message: its id there (for status reports) and the
/// status `sent`, unless a later status already arrived.
pub async fn record_sent(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    message_id: MessageId,
    provider_message_id: &str,
    now: Timestamp,
) -> Result<Message> {
    let mut tx = store.begin().await?;
    let message = record_sent_in(
        tx.as_mut(),
        workspace_id,
        message_id,
        provider_message_id,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(message)
}

/// [`record_sent`] inside a transaction of the caller's (many sends settled in one commit).
pub async fn record_sent_in(
    tx: &mut dyn Tx,
    workspace_id: WorkspaceId,
    message_id: MessageId,
    provider_message_id: &str,
    now: Timestamp,
) -> Result<Message> {
    let mut message = tx
        .get_message(workspace_id, message_id)
        .await?
        .ok_or(Error::NotFound)?;
    let current = message.delivery_status.unwrap_or(DeliveryStatus::Queued);
    if current.may_become(DeliveryStatus::Sent) {
        message.delivery_status = Some(DeliveryStatus::Sent);
        message.delivery_error = None;
    }
    message.provider_message_id = Some(provider_message_id.to_string());
    tx.update_message_delivery(&message).await?;
    tx.insert_outbox(&OutboxEvent::message_updated(&message, now))
        .await?;
    Ok(message)
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

/// An automatic answer to a message a customer has just sent on a messaging channel (the
/// channel's help text after an SMS HELP): stored in the conversation as an outbound message
/// without an author and delivered like a reply, to the address the customer wrote from.
/// Windows and consent are not consulted: it answers the customer's own message.
pub async fn answer_automatically(
    store: &dyn Store,
    channel: &Channel,
    answering: MessageId,
    text: &str,
    now: Timestamp,
) -> Result<Message> {
    let mut tx = store.begin().await?;
    let inbound = tx
        .get_message(channel.workspace_id, answering)
        .await?
        .ok_or(Error::NotFound)?;
    let identity = match (inbound.identity_kind, inbound.identity.clone()) {
        (Some(kind), Some(value)) => Identity { kind, value },
        _ => return Err(Error::NotFound),
    };
    let (identity, to) =
        messaging::recipient(channel, Some(&identity), &[]).ok_or_else(|| Error::Refused {
            reason: format!(
                "channel {} cannot reach the address the customer wrote from",
                channel.name
            ),
        })?;
    let mut conversation = tx
        .get_conversation(channel.workspace_id, inbound.conversation_id)
        .await?
        .ok_or(Error::NotFound)?;
    let message = Message {
        id: MessageId::new(),
        workspace_id: channel.workspace_id,
        conversation_id: conversation.id,
        customer_id: conversation.customer_id,
        kind: MessageKind::Outbound,
        channel_id: Some(channel.id),
        identity: Some(identity.value),
        identity_kind: Some(identity.kind),
        author_id: None,
        provider_message_id: None,
        text: text.to_string(),
        delivery_status: Some(DeliveryStatus::Queued),
        delivery_error: None,
        sent_at: now,
        created_at: now,
    };
    conversation.last_activity_at = now.max(conversation.last_activity_at);
    conversation.updated_at = now;
    tx.insert_message(&message).await?;
    tx.update_conversation(&conversation).await?;
    tx.insert_job(
        &NewJob::new(
            channel.workspace_id,
            kind::DELIVER_MESSAGE,
            serde_json::json!({ "message_id": message.id, "to": to }),
            now,
        )
        .dedupe(format!("message:{}", message.id)),
    )
    .await?;
    tx.insert_outbox(&OutboxEvent::message_created(&message, now))
        .await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&conversation, now))
        .await?;
    tx.commit().await?;
    Ok(message)
}
