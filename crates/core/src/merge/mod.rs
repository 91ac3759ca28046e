//! Merging two customers into one, and undoing it. A merge moves the absorbed customer's
//! identities, conversations (with their messages) and events to the survivor in one
//! transaction, fills the survivor's empty fields from the absorbed one, and keeps a snapshot of
//! the state before, from which [`undo_merge`] (in `undo`) puts every record back.

mod undo;

pub use undo::undo_merge;

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    channel::ChannelKind,
    conversation::Conversation,
    customer::{Customer, CustomerIdentity},
    identity::Identity,
    ids::{ConversationId, CustomerId, EventId, MergeId, MessageId, UserId, WorkspaceId},
    outbox::OutboxEvent,
    ports::{Store, Tx},
    regroup,
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

/// Joins the absorbed customer's open conversation into the survivor's (see
/// [`regroup::join_into`]), remembering what the undo must put back.
async fn join_conversation(
    tx: &mut dyn Tx,
    into: &Conversation,
    joined: &Conversation,
    now: Timestamp,
) -> Result<JoinedConversation> {
    let (_, message_ids) = regroup::join_into(tx, into, joined, now).await?;
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

/// A merge of this workspace, with its snapshot.
pub async fn get_merge(store: &dyn Store, actor: &Actor, id: MergeId) -> Result<Merge> {
    actor.require(Permission::ReadCustomers)?;
    store
        .get_merge(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)
}
