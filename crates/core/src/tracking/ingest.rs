//! The tracking use cases: a batch of identify and track calls stored in ONE transaction —
//! deduplicate on `messageId`, resolve each sender through the one resolution function,
//! append the events in one statement, update orders and returns, keep the customer stats
//! current. An invalid call is reported with its index; the valid ones land.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Call, Checked, EVENT_MESSAGE_ID_TAKEN, MAX_BATCH_ITEMS};
use crate::{
    Error, Result, Timestamp, commerce,
    event::Event,
    identity::Identity,
    ids::{CustomerId, EventId},
    inbound::resolve_customer,
    ports::{IDENTITY_TAKEN, Store, TRANSACTION_CONFLICT},
    resolution::{IgnoredIdentity, normalise},
    user::{Actor, Permission},
    workspace::Workspace,
};

/// Where a call landed; the same for a repeated `messageId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    pub customer_id: CustomerId,
    pub event_id: EventId,
    /// True when the `messageId` was seen before and nothing new was stored.
    pub duplicate: bool,
    /// Identities left out of resolution (placeholders, blocked values), with the reason.
    pub ignored: Vec<IgnoredIdentity>,
}

/// The result of one call of a batch, in the order of the batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOutcome {
    Tracked(Tracked),
    Rejected { field: String, reason: String },
}

/// How often a batch is run again after losing a race (a new identity, or a `messageId`
/// stored by a concurrent request); the rerun finds the winner's rows.
const RACE_ATTEMPTS: usize = 3;

/// One identify call.
pub async fn identify(
    store: &dyn Store,
    actor: &Actor,
    call: Call,
    now: Timestamp,
) -> Result<Tracked> {
    single(store, actor, call, now).await
}

/// One track call.
pub async fn track(
    store: &dyn Store,
    actor: &Actor,
    call: Call,
    now: Timestamp,
) -> Result<Tracked> {
    single(store, actor, call, now).await
}

async fn single(store: &dyn Store, actor: &Actor, call: Call, now: Timestamp) -> Result<Tracked> {
    let outcomes = batch(store, actor, vec![Ok(call)], now).await?;
    match outcomes.into_iter().next() {
        Some(ItemOutcome::Tracked(tracked)) => Ok(tracked),
        Some(ItemOutcome::Rejected { field, reason }) => Err(Error::Invalid { field, reason }),
        None => Err(Error::internal("a batch of one answered nothing")),
    }
}

/// A batch of calls; `Err` items are calls the edge could not read, reported as rejected.
pub async fn batch(
    store: &dyn Store,
    actor: &Actor,
    calls: Vec<Result<Call>>,
    now: Timestamp,
) -> Result<Vec<ItemOutcome>> {
    actor.require(Permission::TrackEvents)?;
    if calls.is_empty() {
        return Err(Error::invalid("batch", "is empty"));
    }
    if calls.len() > MAX_BATCH_ITEMS {
        return Err(Error::invalid("batch", "has more than 500 items"));
    }
    let checked: Vec<Result<Checked>> = calls
        .into_iter()
        .map(|call| call.and_then(Call::check))
        .collect();
    if checked.iter().all(Result::is_err) {
        // Nothing to store: answer without touching the database.
        return Ok(checked
            .into_iter()
            .filter_map(Result::err)
            .map(|error| {
                let (field, reason) = rejection(error);
                ItemOutcome::Rejected { field, reason }
            })
            .collect());
    }
    let workspace = store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    let ready: Vec<std::result::Result<Ready, (String, String)>> = checked
        .into_iter()
        .map(|item| {
            item.and_then(|checked| {
                let normalised = normalise::normalise(&workspace, &checked.sender)?;
                let field = checked
                    .sender
                    .first()
                    .map(|raw| raw.field.clone())
                    .unwrap_or_else(|| "userId".to_string());
                normalise::require_some(&normalised, &field)?;
                Ok(Ready {
                    checked,
                    identities: normalised
                        .claims
                        .into_iter()
                        .map(|claim| (claim.identity, claim.verified))
                        .collect(),
                    ignored: normalised.ignored,
                })
            })
            .map_err(rejection)
        })
        .collect();
    let mut attempt = 1;
    loop {
        match store_once(store, &workspace, &ready, now).await {
            Err(Error::Conflict { what })
                if (what == IDENTITY_TAKEN
                    || what == EVENT_MESSAGE_ID_TAKEN
                    || what == TRANSACTION_CONFLICT)
                    && attempt < RACE_ATTEMPTS =>
            {
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

struct Ready {
    checked: Checked,
    identities: Vec<(Identity, bool)>,
    ignored: Vec<IgnoredIdentity>,
}

fn rejection(error: Error) -> (String, String) {
    match error {
        Error::Invalid { field, reason } => (field, reason),
        other => (String::new(), other.to_string()),
    }
}

/// First and last time a customer was seen in this batch.
type Seen = (Timestamp, Timestamp);

async fn store_once(
    store: &dyn Store,
    workspace: &Workspace,
    ready: &[std::result::Result<Ready, (String, String)>],
    now: Timestamp,
) -> Result<Vec<ItemOutcome>> {
    let mut tx = store.begin().await?;
    let mut message_ids: Vec<String> = ready
        .iter()
        .filter_map(|item| item.as_ref().ok()?.checked.message_id.clone())
        .collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    let mut known: HashMap<String, Tracked> = HashMap::new();
    if !message_ids.is_empty() {
        for event in tx
            .find_events_by_message_ids(workspace.id, &message_ids)
            .await?
        {
            if let Some(message_id) = event.message_id {
                let tracked = Tracked {
                    customer_id: event.customer_id,
                    event_id: event.id,
                    duplicate: true,
                    ignored: Vec::new(),
                };
                known.insert(message_id, tracked);
            }
        }
    }
    // The same set of identities resolves to the same customer for the whole transaction.
    let mut resolved: HashMap<Vec<Identity>, CustomerId> = HashMap::new();
    // Ordered by id, so concurrent batches update the same stats rows in the same order and never
    // deadlock.
    let mut seen: std::collections::BTreeMap<CustomerId, Seen> = std::collections::BTreeMap::new();
    let mut events = Vec::new();
    let mut outcomes = Vec::with_capacity(ready.len());
    for item in ready {
        let ready = match item {
            Ok(ready) => ready,
            Err((field, reason)) => {
                outcomes.push(ItemOutcome::Rejected {
                    field: field.clone(),
                    reason: reason.clone(),
                });
                continue;
            }
        };
        let checked = &ready.checked;
        if let Some(tracked) = checked.message_id.as_ref().and_then(|id| known.get(id)) {
            outcomes.push(ItemOutcome::Tracked(tracked.clone()));
            continue;
        }
        let key: Vec<Identity> = ready
            .identities
            .iter()
            .map(|(identity, _)| identity.clone())
            .collect();
        let customer_id = match resolved.get(&key) {
            Some(customer_id) if checked.name.is_none() => *customer_id,
            _ => {
                let customer_id = resolve_customer(
                    tx.as_mut(),
                    workspace,
                    &ready.identities,
                    checked.name.as_deref(),
                    now,
                )
                .await?;
                resolved.insert(key, customer_id);
                customer_id
            }
        };
        let occurred_at = checked.occurred_at.unwrap_or(now);
        if let Some(update) = &checked.commerce {
            commerce::record(
                tx.as_mut(),
                workspace.id,
                customer_id,
                update,
                occurred_at,
                now,
            )
            .await?;
        }
        let event = Event {
            id: EventId::new(),
            workspace_id: workspace.id,
            customer_id,
            name: checked.event.clone(),
            properties: checked.properties.clone(),
            occurred_at,
            created_at: now,
            message_id: checked.message_id.clone(),
        };
        let tracked = Tracked {
            customer_id,
            event_id: event.id,
            duplicate: false,
            ignored: ready.ignored.clone(),
        };
        if let Some(message_id) = &checked.message_id {
            // A second call with the same key later in this batch answers like a retry.
            known.insert(
                message_id.clone(),
                Tracked {
                    duplicate: true,
                    ignored: Vec::new(),
                    ..tracked.clone()
                },
            );
        }
        seen.entry(customer_id)
            .and_modify(|(first, last)| {
                *first = (*first).min(occurred_at);
                *last = (*last).max(occurred_at);
            })
            .or_insert((occurred_at, occurred_at));
        events.push(event);
        outcomes.push(ItemOutcome::Tracked(tracked));
    }
    if events.is_empty() {
        tx.rollback().await?;
        return Ok(outcomes);
    }
    tx.insert_events(&events).await?;
    for (customer_id, (first, last)) in seen {
        tx.record_customer_activity(workspace.id, customer_id, first, last, None)
            .await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}
