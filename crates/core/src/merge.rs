//! Merging two customers into one, and undoing it. A merge moves the absorbed customer's
//! identities, conversations (with their messages) and events to the survivor in one
//! transaction, fills the survivor's empty fields from the absorbed one, and keeps a snapshot of
//! the state before; the undo puts every record back where it was, and sends messages that
//! arrived since through the absorbed customer's identities back with those identities.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    channel::ChannelKind,
    conversation::{Conversation, ConversationStatus, Priority},
    customer::{Customer, CustomerIdentity},
    identity::Identity,
    ids::{ConversationId, CustomerId, EventId, MergeId, MessageId, UserId, WorkspaceId},
    message::MessageKind,
    outbox::OutboxEvent,
    ports::{Store, Tx},
    resolution::{ResolutionAction, ResolutionEntry},
    user::{Actor, Permission},
    workspace::Workspace,
};

/// Who decided a merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeBy {
    /// Resolution, because the claims shared this identity.
    Rule { identity: Identity },
    /// An agent.
    User(UserId),
}

/// The state before a merge: what the undo restores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeSnapshot {
    pub survivor: Customer,
    pub absorbed: Customer,
    pub absorbed_identities: Vec<CustomerIdentity>,
    pub conversation_ids: Vec<ConversationId>,
    pub event_ids: Vec<EventId>,
    /// When both customers had an open conversation, the absorbed one's was joined into the
    /// survivor's so that the customer has one thread.
    #[serde(default)]
    pub joined: Option<JoinedConversation>,
    /// Channel kinds whose consent record moved from the absorbed customer (the survivor had
    /// none for them).
    #[serde(default)]
    pub consent_kinds: Vec<ChannelKind>,
    #[serde(default)]
    pub order_ids: Vec<String>,
    #[serde(default)]
    pub return_ids: Vec<String>,
}

/// A conversation whose messages were moved into another by a merge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JoinedConversation {
    /// The joined conversation as it was before.
    pub conversation: Conversation,
    pub into_id: ConversationId,
    pub message_ids: Vec<MessageId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    pub id: MergeId,
    pub workspace_id: WorkspaceId,
    pub survivor_id: CustomerId,
    pub absorbed_id: CustomerId,
    /// The agent who merged; `None` when resolution did.
    pub actor_user_id: Option<UserId>,
    /// For automatic merges: `shared_identity:<kind>`.
    pub rule: Option<String>,
    pub snapshot: MergeSnapshot,
    pub created_at: Timestamp,
    pub undone_at: Option<Timestamp>,
    pub undone_by_user_id: Option<UserId>,
}

/// Merges `absorbed` into `survivor` on an agent's request. The survivor's values win; the
/// absorbed customer's fill its gaps.
pub async fn merge_customers(
    store: &dyn Store,
    actor: &Actor,
    survivor_id: CustomerId,
    absorbed_id: CustomerId,
    now: Timestamp,
) -> Result<Merge> {
    actor.require(Permission::MergeCustomers)?;
    if survivor_id == absorbed_id {
        return Err(Error::invalid("customer_id", "is the customer itself"));
    }
    let workspace = store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = store.begin().await?;
    let mut ordered = [survivor_id, absorbed_id];
    ordered.sort();
    for id in ordered {
        tx.lock_customer(workspace.id, id).await?;
    }
    let held = tx
        .identities_of_customers(workspace.id, &[survivor_id, absorbed_id])
        .await?;
    check_rules(&workspace, &held)?;
    let merge = merge_in_tx(
        tx.as_mut(),
        &workspace,
        survivor_id,
        absorbed_id,
        MergeBy::User(actor.user_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(merge)
}

/// Refuses a manual merge that would give one customer two external ids or overflow a kind.
fn check_rules(workspace: &Workspace, held: &[CustomerIdentity]) -> Result<()> {
    let mut counts = std::collections::BTreeMap::new();
    for identity in held {
        *counts.entry(identity.identity.kind).or_insert(0u32) += 1;
    }
    for (kind, count) in counts {
        if count > workspace.identity_rules.limit(kind) {
            let reason = if kind == crate::identity::IdentityKind::ExternalId {
                "both customers have an external id: one customer has at most one".to_string()
            } else {
                format!(
                    "together they would hold {count} {} identities, over the workspace's limit of {}",
                    kind.as_str(),
                    workspace.identity_rules.limit(kind)
                )
            };
            return Err(Error::Refused { reason });
        }
    }
    Ok(())
}

/// The merge itself, inside the caller's transaction; both customers must be locked.
pub async fn merge_in_tx(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    survivor_id: CustomerId,
    absorbed_id: CustomerId,
    by: MergeBy,
    now: Timestamp,
) -> Result<Merge> {
    let mut survivor = live_customer(tx, workspace, survivor_id).await?;
    let mut absorbed = live_customer(tx, workspace, absorbed_id).await?;
    let absorbed_identities = tx
        .identities_of_customers(workspace.id, &[absorbed_id])
        .await?;
    let snapshot = MergeSnapshot {
        survivor: survivor.clone(),
        absorbed: absorbed.clone(),
        absorbed_identities,
        conversation_ids: tx
            .conversation_ids_of_customer(workspace.id, absorbed_id)
            .await?,
        event_ids: tx.event_ids_of_customer(workspace.id, absorbed_id).await?,
        joined: None,
        consent_kinds: Vec::new(),
        order_ids: Vec::new(),
        return_ids: Vec::new(),
    };
    let survivor_kinds = tx
        .consent_kinds_of_customer(workspace.id, survivor_id)
        .await?;
    let survivor_open = tx
        .open_conversations_of_customer(workspace.id, survivor_id)
        .await?;
    let absorbed_open = tx
        .open_conversations_of_customer(workspace.id, absorbed_id)
        .await?;
    let mut snapshot = snapshot;
    (snapshot.order_ids, snapshot.return_ids) = tx
        .order_and_return_ids_of_customer(workspace.id, absorbed_id)
        .await?;
    snapshot.consent_kinds = tx
        .consent_kinds_of_customer(workspace.id, absorbed_id)
        .await?
        .into_iter()
        .filter(|kind| !survivor_kinds.contains(kind))
        .collect();
    tx.reassign_customer(workspace.id, absorbed_id, survivor_id)
        .await?;
    tx.move_consents(
        workspace.id,
        &snapshot.consent_kinds,
        absorbed_id,
        survivor_id,
    )
    .await?;
    if let (Some(into), Some(joined)) = (survivor_open.first(), absorbed_open.first()) {
        snapshot.joined = Some(join_conversation(tx, into, joined, now).await?);
    }

    fill_gaps(&mut survivor, &absorbed);
    survivor.updated_at = now;
    tx.update_customer(&survivor).await?;
    absorbed.merged_into_id = Some(survivor_id);
    absorbed.updated_at = now;
    tx.update_customer(&absorbed).await?;

    let (actor_user_id, rule, linked_by) = match by {
        MergeBy::Rule { identity } => (
            None,
            Some(format!("shared_identity:{}", identity.kind.as_str())),
            Some(identity),
        ),
        MergeBy::User(user) => (Some(user), None, None),
    };
    let merge = Merge {
        id: MergeId::new(),
        workspace_id: workspace.id,
        survivor_id,
        absorbed_id,
        actor_user_id,
        rule,
        snapshot,
        created_at: now,
        undone_at: None,
        undone_by_user_id: None,
    };
    tx.insert_merge(&merge).await?;
    let mut entry = ResolutionEntry::new(
        workspace.id,
        survivor_id,
        ResolutionAction::Merged,
        if linked_by.is_some() {
            "shared_identity"
        } else {
            "manual"
        },
        now,
    );
    entry.other_customer_id = Some(absorbed_id);
    entry.identity = linked_by;
    entry.merge_id = Some(merge.id);
    tx.insert_resolution_entries(&[entry]).await?;
    tx.insert_outbox(&OutboxEvent::customer_merged(&merge, now))
        .await?;
    Ok(merge)
}

/// The most tags a customer holds (as the profile allows).
const MAX_TAGS: usize = 50;

/// The survivor's values win; the absorbed customer's fill the survivor's gaps.
fn fill_gaps(survivor: &mut Customer, absorbed: &Customer) {
    if survivor.name.is_none() {
        survivor.name.clone_from(&absorbed.name);
    }
    if survivor.locale.is_none() {
        survivor.locale.clone_from(&absorbed.locale);
    }
    if survivor.time_zone.is_none() {
        survivor.time_zone.clone_from(&absorbed.time_zone);
    }
    for (key, value) in &absorbed.attributes {
        survivor
            .attributes
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    for tag in &absorbed.tags {
        if !survivor.tags.contains(tag) && survivor.tags.len() < MAX_TAGS {
            survivor.tags.push(tag.clone());
        }
    }
}

/// Takes back what [`fill_gaps`] gave, where nobody changed it since.
fn unfill_gaps(survivor: &mut Customer, before: &Customer, absorbed: &Customer) {
    if before.name.is_none() && survivor.name == absorbed.name {
        survivor.name = None;
    }
    if before.locale.is_none() && survivor.locale == absorbed.locale {
        survivor.locale = None;
    }
    if before.time_zone.is_none() && survivor.time_zone == absorbed.time_zone {
        survivor.time_zone = None;
    }
    for (key, value) in &absorbed.attributes {
        if !before.attributes.contains_key(key) && survivor.attributes.get(key) == Some(value) {
            survivor.attributes.remove(key);
        }
    }
    survivor
        .tags
        .retain(|tag| before.tags.contains(tag) || !absorbed.tags.contains(tag));
}

/// Moves the messages of `joined` into `into` and resolves `joined`, which stays behind empty
/// (the undo refills it).
async fn join_conversation(
    tx: &mut dyn Tx,
    into: &Conversation,
    joined: &Conversation,
    now: Timestamp,
) -> Result<JoinedConversation> {
    let message_ids = tx
        .message_ids_of_conversation(joined.workspace_id, joined.id)
        .await?;
    tx.move_messages(joined.workspace_id, &message_ids, into.customer_id, into.id)
        .await?;
    let mut target = into.clone();
    if joined.last_activity_at > target.last_activity_at {
        target.last_activity_at = joined.last_activity_at;
        target.last_channel_id = joined.last_channel_id.or(target.last_channel_id);
    }
    target.waiting_since = match (target.waiting_since, joined.waiting_since) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    target.updated_at = now;
    tx.update_conversation(&target).await?;
    let mut emptied = joined.clone();
    emptied.customer_id = into.customer_id;
    emptied.status = ConversationStatus::Resolved;
    emptied.resolved_at = Some(now);
    emptied.waiting_since = None;
    emptied.snoozed_until = None;
    emptied.updated_at = now;
    tx.update_conversation(&emptied).await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&target, now))
        .await?;
    tx.insert_outbox(&OutboxEvent::conversation_updated(&emptied, now))
        .await?;
    Ok(JoinedConversation {
        conversation: joined.clone(),
        into_id: into.id,
        message_ids,
    })
}

async fn live_customer(tx: &mut dyn Tx, workspace: &Workspace, id: CustomerId) -> Result<Customer> {
    let customer = tx
        .get_customer(workspace.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if customer.merged_into_id.is_some() {
        return Err(Error::Refused {
            reason: "the customer was merged into another; use that one".to_string(),
        });
    }
    Ok(customer)
}

/// Undoes a merge: the absorbed customer gets back its identities, conversations, events and
/// fields as they were, plus every message that came since through one of its identities.
pub async fn undo_merge(
    store: &dyn Store,
    actor: &Actor,
    merge_id: MergeId,
    now: Timestamp,
) -> Result<Merge> {
    actor.require(Permission::MergeCustomers)?;
    let workspace = store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = store.begin().await?;
    let mut merge = tx
        .get_merge(workspace.id, merge_id)
        .await?
        .ok_or(Error::NotFound)?;
    if merge.undone_at.is_some() {
        return Err(Error::conflict("merge already undone"));
    }
    let mut ordered = [merge.survivor_id, merge.absorbed_id];
    ordered.sort();
    for id in ordered {
        tx.lock_customer(workspace.id, id).await?;
    }
    let mut survivor = tx
        .get_customer(workspace.id, merge.survivor_id)
        .await?
        .ok_or(Error::NotFound)?;
    if survivor.merged_into_id.is_some() {
        return Err(Error::Refused {
            reason: "the surviving customer was merged again since; undo that merge first"
                .to_string(),
        });
    }
    let snapshot = &merge.snapshot;

    // Identities that the survivor still holds go back.
    let current = tx
        .identities_of_customers(workspace.id, &[merge.survivor_id])
        .await?;
    let returning: Vec<Identity> = snapshot
        .absorbed_identities
        .iter()
        .filter(|before| current.iter().any(|now| now.identity == before.identity))
        .map(|before| before.identity.clone())
        .collect();
    tx.move_identities(workspace.id, &returning, merge.absorbed_id)
        .await?;
    tx.move_conversations(workspace.id, &snapshot.conversation_ids, merge.absorbed_id)
        .await?;
    if let Some(joined) = &snapshot.joined {
        tx.move_messages(
            workspace.id,
            &joined.message_ids,
            merge.absorbed_id,
            joined.conversation.id,
        )
        .await?;
        let mut restored = joined.conversation.clone();
        restored.updated_at = now;
        tx.update_conversation(&restored).await?;
        tx.insert_outbox(&OutboxEvent::conversation_updated(&restored, now))
            .await?;
    }
    tx.move_events(workspace.id, &snapshot.event_ids, merge.absorbed_id)
        .await?;
    tx.move_orders_and_returns(
        workspace.id,
        &snapshot.order_ids,
        &snapshot.return_ids,
        merge.absorbed_id,
    )
    .await?;
    let moved = return_new_messages(tx.as_mut(), &workspace, &merge, &returning, now).await?;

    let mut absorbed = snapshot.absorbed.clone();
    absorbed.merged_into_id = None;
    absorbed.updated_at = now;
    tx.update_customer(&absorbed).await?;
    tx.move_consents(
        workspace.id,
        &snapshot.consent_kinds,
        merge.survivor_id,
        merge.absorbed_id,
    )
    .await?;
    unfill_gaps(&mut survivor, &snapshot.survivor, &snapshot.absorbed);
    survivor.updated_at = now;
    tx.update_customer(&survivor).await?;

    merge.undone_at = Some(now);
    merge.undone_by_user_id = Some(actor.user_id);
    tx.update_merge_undone(&merge).await?;
    let mut entry = ResolutionEntry::new(
        workspace.id,
        merge.survivor_id,
        ResolutionAction::Unmerged,
        "undo",
        now,
    );
    entry.other_customer_id = Some(merge.absorbed_id);
    entry.merge_id = Some(merge.id);
    tx.insert_resolution_entries(&[entry]).await?;
    tx.insert_outbox(&OutboxEvent::customer_unmerged(&merge, moved, now))
        .await?;
    tx.commit().await?;
    Ok(merge)
}

/// Messages that reached the survivor after the merge through one of the returning identities
/// go back to the absorbed customer: a conversation started after the merge goes whole when all
/// its customer messages came that way; single messages join the absorbed customer's latest
/// conversation, or a new one. Returns how many messages moved.
async fn return_new_messages(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    merge: &Merge,
    returning: &[Identity],
    now: Timestamp,
) -> Result<usize> {
    if returning.is_empty() {
        return Ok(0);
    }
    let since = tx
        .messages_of_customer_since(workspace.id, merge.survivor_id, merge.created_at)
        .await?;
    let came_back = |message: &crate::message::Message| {
        message.kind == MessageKind::Inbound
            && returning.iter().any(|identity| {
                message.identity.as_deref() == Some(identity.value.as_str())
                    && message
                        .identity_kind
                        .is_none_or(|kind| kind == identity.kind)
            })
    };
    let mut whole = Vec::new();
    let mut single = Vec::new();
    let mut by_conversation: std::collections::BTreeMap<
        ConversationId,
        Vec<&crate::message::Message>,
    > = std::collections::BTreeMap::new();
    for message in &since {
        by_conversation
            .entry(message.conversation_id)
            .or_default()
            .push(message);
    }
    for (conversation_id, messages) in by_conversation {
        let Some(conversation) = tx.get_conversation(workspace.id, conversation_id).await? else {
            continue;
        };
        let inbound: Vec<_> = messages
            .iter()
            .filter(|message| message.kind == MessageKind::Inbound)
            .collect();
        if conversation.created_at >= merge.created_at
            && !inbound.is_empty()
            && inbound.iter().all(|message| came_back(message))
        {
            whole.push(conversation_id);
        } else {
            single.extend(
                messages
                    .iter()
                    .filter(|m| came_back(m))
                    .map(|m| (*m).clone()),
            );
        }
    }
    tx.move_conversations(workspace.id, &whole, merge.absorbed_id)
        .await?;
    let mut moved: usize = since
        .iter()
        .filter(|message| whole.contains(&message.conversation_id))
        .count();
    if single.is_empty() {
        return Ok(moved);
    }
    let latest_activity = single
        .iter()
        .map(|message| message.created_at)
        .max()
        .unwrap_or(now);
    let destination = match tx
        .latest_conversation(workspace.id, merge.absorbed_id, None)
        .await?
    {
        Some(mut conversation) => {
            conversation.last_activity_at = conversation.last_activity_at.max(latest_activity);
            conversation.updated_at = now;
            tx.update_conversation(&conversation).await?;
            conversation
        }
        None => {
            let conversation = Conversation {
                id: ConversationId::new(),
                workspace_id: workspace.id,
                customer_id: merge.absorbed_id,
                status: ConversationStatus::Open,
                priority: Priority::None,
                assignee_id: None,
                team_id: None,
                labels: Vec::new(),
                last_channel_id: single.last().and_then(|message| message.channel_id),
                previous_conversation_id: None,
                last_activity_at: latest_activity,
                waiting_since: single.first().map(|message| message.created_at),
                snoozed_until: None,
                resolved_at: None,
                created_at: now,
                updated_at: now,
            };
            tx.insert_conversation(&conversation).await?;
            conversation
        }
    };
    let ids: Vec<_> = single.iter().map(|message| message.id).collect();
    tx.move_messages(workspace.id, &ids, merge.absorbed_id, destination.id)
        .await?;
    moved += ids.len();
    Ok(moved)
}

/// A merge of this workspace, with its snapshot.
pub async fn get_merge(store: &dyn Store, actor: &Actor, id: MergeId) -> Result<Merge> {
    actor.require(Permission::ReadCustomers)?;
    store
        .get_merge(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)
}
