//! Transactions: writes become visible only at commit, a rollback or a dropped transaction
//! leaves nothing behind (including writes the store held back to send later), a failing
//! write fails the transaction, and the store keeps working afterwards.

use seam_core::{
    conversation::{Conversation, ConversationStatus, Priority},
    customer::Customer,
    ids::{ConversationId, CustomerId},
    ports::Store,
    workspace::Continuity,
};

use crate::fixtures::{Harness, now, tenant};

crate::on_both_backends!(
    writes_are_visible_inside_the_transaction_and_outside_only_after_commit,
    a_rollback_or_a_dropped_transaction_leaves_nothing_behind,
    a_failing_write_fails_the_transaction_and_the_store_keeps_working,
    a_read_transaction_is_a_snapshot_beside_a_writer_and_cannot_write,
);

fn customer(tenant_workspace: seam_core::ids::WorkspaceId) -> Customer {
    Customer::new(tenant_workspace, Some("Layla".into()), now())
}

async fn stored(store: &dyn Store, customer: &Customer) -> bool {
    store
        .get_customer_profile(customer.workspace_id, customer.id)
        .await
        .unwrap()
        .is_some()
}

async fn writes_are_visible_inside_the_transaction_and_outside_only_after_commit(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let layla = customer(acme.workspace.id);

    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&layla).await.unwrap();
    let inside = tx.get_customer(acme.workspace.id, layla.id).await.unwrap();
    let outside_before_commit = stored(store, &layla).await;
    tx.commit().await.unwrap();

    assert_eq!(inside, Some(layla.clone()));
    assert!(!outside_before_commit);
    assert!(stored(store, &layla).await);
}

async fn a_rollback_or_a_dropped_transaction_leaves_nothing_behind(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let (never_read, read_back, dropped) = (
        customer(acme.workspace.id),
        customer(acme.workspace.id),
        customer(acme.workspace.id),
    );

    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&never_read).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&read_back).await.unwrap();
    assert!(
        tx.get_customer(acme.workspace.id, read_back.id)
            .await
            .unwrap()
            .is_some()
    );
    tx.rollback().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&dropped).await.unwrap();
    assert!(
        tx.get_customer(acme.workspace.id, dropped.id)
            .await
            .unwrap()
            .is_some()
    );
    drop(tx);

    for customer in [&never_read, &read_back, &dropped] {
        assert!(!stored(store, customer).await);
    }
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&never_read).await.unwrap();
    tx.commit().await.unwrap();
    assert!(stored(store, &never_read).await);
}

async fn a_failing_write_fails_the_transaction_and_the_store_keeps_working(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let layla = customer(acme.workspace.id);
    // Its customer does not exist: the foreign key refuses it, at the write or at the commit.
    let orphan = Conversation {
        id: ConversationId::new(),
        workspace_id: acme.workspace.id,
        customer_id: CustomerId::new(),
        status: ConversationStatus::Open,
        priority: Priority::None,
        assignee_id: None,
        team_id: None,
        labels: vec![],
        last_channel_id: None,
        previous_conversation_id: None,
        last_activity_at: now(),
        waiting_since: None,
        snoozed_until: None,
        resolved_at: None,
        created_at: now(),
        updated_at: now(),
    };

    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&layla).await.unwrap();
    let outcome = match tx.insert_conversation(&orphan).await {
        Ok(()) => tx.commit().await,
        Err(error) => Err(error),
    };

    assert!(
        outcome.is_err(),
        "a conversation without its customer was accepted"
    );
    assert!(!stored(store, &layla).await);
    assert_eq!(
        store
            .get_conversation(acme.workspace.id, orphan.id)
            .await
            .unwrap(),
        None
    );
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&layla).await.unwrap();
    tx.commit().await.unwrap();
    assert!(stored(store, &layla).await);
}

async fn a_read_transaction_is_a_snapshot_beside_a_writer_and_cannot_write(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let (before, during) = (customer(acme.workspace.id), customer(acme.workspace.id));
    let mut write = store.begin().await.unwrap();
    write.insert_customer(&before).await.unwrap();
    write.commit().await.unwrap();

    let mut read = store.begin_read().await.unwrap();
    let seen = read
        .get_customer(acme.workspace.id, before.id)
        .await
        .unwrap();
    // The writer is free while the snapshot is open: a write commits meanwhile.
    let mut write = store.begin().await.unwrap();
    write.insert_customer(&during).await.unwrap();
    write.commit().await.unwrap();
    let unseen = read
        .get_customer(acme.workspace.id, during.id)
        .await
        .unwrap();
    // The store may hold a write back until the commit: either refuses it.
    let refused = match read.insert_customer(&customer(acme.workspace.id)).await {
        Ok(()) => read.commit().await,
        Err(error) => Err(error),
    };

    assert_eq!(seen, Some(before));
    assert_eq!(unseen, None, "a snapshot does not see later commits");
    assert!(refused.is_err(), "writing through a read transaction fails");
    assert!(stored(store, &during).await);
}
