//! Undoing a merge: the absorbed customer gets back, from the merge's snapshot, its identities,
//! conversations, events, orders, returns, consent and fields, and messages that arrived since
//! through its identities go back with them.

use crate::{
    Error, Result, Timestamp,
    conversation::{Conversation, ConversationStatus, Priority},
    customer::Customer,
    identity::Identity,
    ids::{ConversationId, MergeId},
    message::MessageKind,
    outbox::OutboxEvent,
    ports::{Store, Tx},
    resolution::{ResolutionAction, ResolutionEntry},
    user::{Actor, Permission},
    workspace::Workspace,
};

use super::Merge;

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
