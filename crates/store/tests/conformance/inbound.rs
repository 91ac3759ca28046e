//! The inbound path through `seam_core::inbound::receive`: deduplication, customer resolution
//! and the continuity policy, as the store makes them hold.

use seam_core::{
    Error,
    conversation::{ConversationStatus, ConversationUpdate, update_conversation},
    ids::MessageId,
    inbound::receive as receive_inbound,
    message::{Message, MessageKind},
    workspace::Continuity,
};

use crate::fixtures::{Harness, api_channel, inbound, now, receive, seconds, tenant};

crate::on_both_backends!(
    a_provider_retry_stores_one_message_and_answers_the_same_ids,
    a_duplicate_provider_message_id_inserted_directly_is_a_conflict,
    a_customer_writing_with_email_and_phone_then_phone_only_stays_in_one_conversation,
    a_message_within_the_reopen_window_reopens_the_resolved_conversation,
    a_message_long_after_resolution_starts_a_new_conversation_linked_to_the_old,
    channel_continuity_keeps_one_thread_per_channel,
    first_messages_of_a_new_sender_arriving_at_once_make_one_customer_and_one_conversation,
    messages_arriving_at_once_after_resolution_start_one_new_conversation,
);

async fn a_provider_retry_stores_one_message_and_answers_the_same_ids(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();

    let first = receive(store, &acme.channel, "wamid.1", "layla@example.com", at).await;
    let retry = receive(
        store,
        &acme.channel,
        "wamid.1",
        "layla@example.com",
        at + seconds(5),
    )
    .await;

    assert!(!first.duplicate);
    assert!(retry.duplicate);
    assert_eq!(
        (retry.customer_id, retry.conversation_id, retry.message_id),
        (first.customer_id, first.conversation_id, first.message_id)
    );
    let page = store
        .list_messages(acme.workspace.id, first.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        page.items[0].provider_message_id.as_deref(),
        Some("wamid.1")
    );
    assert_eq!(page.items[0].kind, MessageKind::Inbound);
}

async fn a_duplicate_provider_message_id_inserted_directly_is_a_conflict(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let first = receive(store, &acme.channel, "m-1", "layla@example.com", now()).await;
    let stored = store
        .get_message(acme.workspace.id, first.message_id)
        .await
        .unwrap()
        .unwrap();
    let copy = Message {
        id: MessageId::new(),
        ..stored
    };

    let mut tx = store.begin().await.unwrap();
    let outcome = tx.insert_message(&copy).await;
    drop(tx);

    assert!(
        matches!(outcome, Err(Error::Conflict { .. })),
        "got {outcome:?}"
    );
}

async fn a_customer_writing_with_email_and_phone_then_phone_only_stays_in_one_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let both = inbound(
        &acme.channel,
        "m-1",
        Some("Layla@Example.com"),
        Some("+1 650 253 0000"),
    );
    let phone_only = inbound(&acme.channel, "m-2", None, Some("(650) 253-0000"));

    let first = receive_inbound(store, &acme.channel, both, at)
        .await
        .unwrap();
    let second = receive_inbound(store, &acme.channel, phone_only, at + seconds(60))
        .await
        .unwrap();

    assert_eq!(second.customer_id, first.customer_id);
    assert_eq!(second.conversation_id, first.conversation_id);
    let profile = store
        .get_customer_profile(acme.workspace.id, first.customer_id)
        .await
        .unwrap()
        .unwrap();
    let mut values: Vec<String> = profile
        .identities
        .iter()
        .map(|held| held.identity.value.clone())
        .collect();
    values.sort();
    assert_eq!(
        values,
        vec!["+16502530000".to_string(), "layla@example.com".to_string()]
    );
    assert_eq!(profile.customer.name.as_deref(), Some("Layla Ahmadi"));
    let conversation = store
        .get_conversation(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.last_activity_at, at + seconds(60));
    assert_eq!(conversation.waiting_since, Some(at));
}

async fn a_message_within_the_reopen_window_reopens_the_resolved_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let first = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    resolve(store, &acme, first.conversation_id, at + seconds(10)).await;

    let again = receive(
        store,
        &acme.channel,
        "m-2",
        "layla@example.com",
        at + seconds(3600),
    )
    .await;

    assert_eq!(again.conversation_id, first.conversation_id);
    let conversation = store
        .get_conversation(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.status, ConversationStatus::Open);
    assert_eq!(conversation.resolved_at, None);
}

async fn a_message_long_after_resolution_starts_a_new_conversation_linked_to_the_old(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let first = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    resolve(store, &acme, first.conversation_id, at + seconds(10)).await;

    let later = at + seconds(acme.workspace.reopen_window_secs + 3600);
    let again = receive(store, &acme.channel, "m-2", "layla@example.com", later).await;

    assert_ne!(again.conversation_id, first.conversation_id);
    assert_eq!(again.customer_id, first.customer_id);
    let new = store
        .get_conversation(acme.workspace.id, again.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.previous_conversation_id, Some(first.conversation_id));
    assert_eq!(new.status, ConversationStatus::Open);
    let old = store
        .get_conversation(acme.workspace.id, first.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, ConversationStatus::Resolved);
}

async fn channel_continuity_keeps_one_thread_per_channel(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Channel).await;
    let sms = api_channel(acme.workspace.id, "SMS bridge");
    store.insert_channel(&sms).await.unwrap();
    let at = now();

    let by_api = receive(store, &acme.channel, "a-1", "layla@example.com", at).await;
    let by_sms = receive(store, &sms, "s-1", "layla@example.com", at + seconds(1)).await;
    let by_api_again = receive(
        store,
        &acme.channel,
        "a-2",
        "layla@example.com",
        at + seconds(2),
    )
    .await;

    assert_eq!(by_sms.customer_id, by_api.customer_id);
    assert_ne!(by_sms.conversation_id, by_api.conversation_id);
    assert_eq!(by_api_again.conversation_id, by_api.conversation_id);
}

async fn first_messages_of_a_new_sender_arriving_at_once_make_one_customer_and_one_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let send = |id: &'static str| receive(store, &acme.channel, id, "new@example.com", at);

    let (a, b, c, d) = tokio::join!(send("m-a"), send("m-b"), send("m-c"), send("m-d"));

    let received = [a, b, c, d];
    assert!(
        received
            .iter()
            .all(|r| r.customer_id == received[0].customer_id)
    );
    assert!(
        received
            .iter()
            .all(|r| r.conversation_id == received[0].conversation_id)
    );
    let page = store
        .list_messages(acme.workspace.id, received[0].conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 4);
}

async fn messages_arriving_at_once_after_resolution_start_one_new_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let first = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    resolve(store, &acme, first.conversation_id, at).await;
    let later = at + seconds(acme.workspace.reopen_window_secs + 3600);
    let send = |id: &'static str| receive(store, &acme.channel, id, "layla@example.com", later);

    let (a, b, c, d) = tokio::join!(send("m-a"), send("m-b"), send("m-c"), send("m-d"));

    let received = [a, b, c, d];
    assert!(
        received
            .iter()
            .all(|r| r.conversation_id == received[0].conversation_id)
    );
    assert_ne!(received[0].conversation_id, first.conversation_id);
}

/// Resolves a conversation as the tenant's owner.
async fn resolve(
    store: &dyn seam_core::ports::Store,
    tenant: &crate::fixtures::Tenant,
    conversation_id: seam_core::ids::ConversationId,
    at: seam_core::Timestamp,
) {
    let resolve = ConversationUpdate {
        status: Some(ConversationStatus::Resolved),
        ..Default::default()
    };
    update_conversation(store, &tenant.owner.actor(), conversation_id, resolve, at)
        .await
        .unwrap();
}
