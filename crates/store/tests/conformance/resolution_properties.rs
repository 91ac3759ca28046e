//! A property test of resolution and merges: random sequences of inbound messages, manual
//! merges and undos keep every identity on exactly one live customer, never lose one, and an
//! undo gives the absorbed customer back exactly the identities it had before the merge.
//! Sequences come from proptest strategies; a failing sequence is shrunk before it is reported.

use std::collections::{BTreeMap, BTreeSet};

use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRunner},
};
use seam_core::{
    Error,
    identity::{Identity, IdentityKind},
    ids::{CustomerId, MergeId},
    inbound::{InboundMessage, RawIdentity, receive},
    merge::{merge_customers, undo_merge},
    ports::Store,
    user::Actor,
    workspace::Continuity,
};

use crate::fixtures::{Harness, Tenant, now, tenant};

crate::on_both_backends!(
    random_resolution_merge_and_undo_sequences_keep_every_identity_on_one_customer
);

/// Sequences tried per backend, and the longest sequence.
const CASES: u32 = 24;
const MAX_STEPS: usize = 16;

#[derive(Clone, Debug)]
enum Step {
    /// A message from these addresses (index into the pool, verified).
    Inbound(Vec<(usize, bool)>),
    /// Merge the customers at these positions of the customers seen so far.
    Merge(usize, usize),
    /// Undo the merge at this position of the merges made so far.
    Undo(usize),
}

const POOL: [(IdentityKind, &str); 12] = [
    (IdentityKind::ExternalId, "user-1"),
    (IdentityKind::ExternalId, "user-2"),
    (IdentityKind::Email, "a@example.com"),
    (IdentityKind::Email, "b@example.com"),
    (IdentityKind::Email, "c@example.com"),
    (IdentityKind::Phone, "+16502530000"),
    (IdentityKind::Phone, "+16502530001"),
    (IdentityKind::Phone, "+16502530002"),
    (IdentityKind::Telegram, "tg-1"),
    (IdentityKind::Visitor, "v-1"),
    (IdentityKind::Visitor, "v-2"),
    (IdentityKind::Visitor, "v-3"),
];

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        4 => prop::collection::vec((0..POOL.len(), any::<bool>()), 1..4).prop_map(Step::Inbound),
        2 => (0..8usize, 0..8usize).prop_map(|(a, b)| Step::Merge(a, b)),
        2 => (0..8usize).prop_map(Step::Undo),
    ];
    prop::collection::vec(step, 1..MAX_STEPS)
}

fn pool_identities() -> Vec<Identity> {
    POOL.iter()
        .map(|(kind, value)| Identity::from_stored(*kind, value.to_string()))
        .collect()
}

/// Who holds each pool identity now.
async fn holders(store: &dyn Store, tenant: &Tenant) -> BTreeMap<Identity, CustomerId> {
    let mut tx = store.begin().await.unwrap();
    let held = tx
        .find_identities(tenant.workspace.id, &pool_identities())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    held.into_iter()
        .map(|held| (held.identity, held.customer_id))
        .collect()
}

fn of(holders: &BTreeMap<Identity, CustomerId>, customer: CustomerId) -> BTreeSet<Identity> {
    holders
        .iter()
        .filter(|(_, holder)| **holder == customer)
        .map(|(identity, _)| identity.clone())
        .collect()
}

/// Runs one sequence in a fresh workspace; the first broken property, described.
async fn check(store: &dyn Store, sequence: &[Step]) -> Result<(), String> {
    let name = format!("Acme {}", uuid::Uuid::now_v7().simple());
    let acme = tenant(store, &name, Continuity::Customer).await;
    let actor = Actor {
        user_id: acme.owner.id,
        workspace_id: acme.workspace.id,
        role: acme.owner.role,
    };
    let mut customers: Vec<CustomerId> = Vec::new();
    // Each merge, with the absorbed customer's identities just before it.
    let mut merges: Vec<(MergeId, CustomerId, CustomerId, BTreeSet<Identity>)> = Vec::new();
    let mut ever_held: BTreeSet<Identity> = BTreeSet::new();
    for (index, step) in sequence.iter().enumerate() {
        let before = holders(store, &acme).await;
        match step {
            Step::Inbound(addresses) => {
                let sender = addresses
                    .iter()
                    .map(|(position, verified)| {
                        let (kind, value) = POOL[*position];
                        RawIdentity {
                            kind,
                            value: value.to_string(),
                            field: format!("from.{}", kind.as_str()),
                            verified: *verified,
                        }
                    })
                    .collect();
                let message = InboundMessage {
                    channel_id: acme.channel.id,
                    provider_message_id: format!("m-{index}"),
                    sender,
                    sender_name: None,
                    text: "hello".to_string(),
                    sent_at: None,
                    email: None,
                    attachments: Vec::new(),
                };
                let received = receive(store, &acme.channel, message, now())
                    .await
                    .map_err(|error| format!("step {index}: inbound failed: {error}"))?;
                if !customers.contains(&received.customer_id) {
                    customers.push(received.customer_id);
                }
            }
            Step::Merge(a, b) => {
                if customers.is_empty() {
                    continue;
                }
                let survivor = customers[a % customers.len()];
                let absorbed = customers[b % customers.len()];
                match merge_customers(store, &actor, survivor, absorbed, now()).await {
                    Ok(merge) => merges.push((merge.id, survivor, absorbed, of(&before, absorbed))),
                    Err(Error::Refused { .. } | Error::Invalid { .. }) => {}
                    Err(error) => return Err(format!("step {index}: merge failed: {error}")),
                }
            }
            Step::Undo(position) => {
                if merges.is_empty() {
                    continue;
                }
                let (merge_id, survivor, absorbed, absorbed_before) =
                    merges[position % merges.len()].clone();
                match undo_merge(store, &actor, merge_id, now()).await {
                    Ok(_) => {
                        let after = holders(store, &acme).await;
                        if of(&after, absorbed) != absorbed_before {
                            return Err(format!(
                                "step {index}: undo gave the absorbed customer {:?}, not {:?}",
                                of(&after, absorbed),
                                absorbed_before
                            ));
                        }
                        let expected: BTreeSet<Identity> = of(&before, survivor)
                            .difference(&absorbed_before)
                            .cloned()
                            .collect();
                        if of(&after, survivor) != expected {
                            return Err(format!(
                                "step {index}: undo left the survivor with {:?}, not {:?}",
                                of(&after, survivor),
                                expected
                            ));
                        }
                    }
                    Err(Error::Refused { .. } | Error::Conflict { .. }) => {}
                    Err(error) => return Err(format!("step {index}: undo failed: {error}")),
                }
            }
        }
        let after = holders(store, &acme).await;
        for (identity, holder) in &after {
            let profile = store
                .get_customer_profile(acme.workspace.id, *holder)
                .await
                .unwrap()
                .ok_or_else(|| format!("step {index}: {identity:?} held by a missing customer"))?;
            if profile.customer.merged_into_id.is_some() {
                return Err(format!(
                    "step {index}: {identity:?} held by a merged-away customer"
                ));
            }
        }
        ever_held.extend(after.keys().cloned());
        let lost: Vec<_> = ever_held
            .iter()
            .filter(|i| !after.contains_key(*i))
            .collect();
        if !lost.is_empty() {
            return Err(format!("step {index}: lost {lost:?}"));
        }
    }
    Ok(())
}

async fn random_resolution_merge_and_undo_sequences_keep_every_identity_on_one_customer(
    harness: &mut Harness,
) {
    let store = harness.store();
    let strategy = steps();
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: CASES,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    for _ in 0..CASES {
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        let Err(first) = check(store, &tree.current()).await else {
            continue;
        };
        // Shrink: keep simplifying while the property still fails.
        let mut smallest = (tree.current(), first);
        while tree.simplify() {
            match check(store, &tree.current()).await {
                Err(error) => smallest = (tree.current(), error),
                Ok(()) => {
                    if !tree.complicate() {
                        break;
                    }
                }
            }
        }
        panic!("{}\nsequence: {:#?}", smallest.1, smallest.0);
    }
}
