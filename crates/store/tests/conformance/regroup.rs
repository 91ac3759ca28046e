//! Joining two conversations of one customer and splitting a message off, through core's use
//! cases on a real store.

use seam_core::{
    Error,
    conversation::ConversationStatus,
    regroup::{join_conversations, split_message},
    user::Actor,
    workspace::Continuity,
};

use crate::fixtures::{Harness, api_channel, now, receive, seconds, tenant};

crate::on_both_backends!(two_threads_of_one_customer_join_into_one_and_a_message_splits_off_again,);

async fn two_threads_of_one_customer_join_into_one_and_a_message_splits_off_again(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Channel).await;
    let actor = Actor {
        user_id: acme.owner.id,
        workspace_id: acme.workspace.id,
        role: acme.owner.role,
    };
    let other_channel = api_channel(acme.workspace.id, "Second");
    store.insert_channel(&other_channel).await.unwrap();
    let first = receive(store, &acme.channel, "m-1", "noor@example.com", now()).await;
    let second = receive(
        store,
        &other_channel,
        "m-2",
        "noor@example.com",
        now() + seconds(1),
    )
    .await;
    assert_ne!(first.conversation_id, second.conversation_id);

    let joined = join_conversations(
        store,
        &actor,
        first.conversation_id,
        second.conversation_id,
        now() + seconds(2),
    )
    .await
    .unwrap();
    let again = join_conversations(
        store,
        &actor,
        first.conversation_id,
        second.conversation_id,
        now() + seconds(3),
    )
    .await;

    assert_eq!(joined.id, first.conversation_id);
    let thread = store
        .list_messages(acme.workspace.id, first.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(thread.items.len(), 2);
    let emptied = store
        .get_conversation(acme.workspace.id, second.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(emptied.status, ConversationStatus::Resolved);
    assert!(matches!(again, Err(Error::Refused { .. })), "got {again:?}");

    let split = split_message(store, &actor, second.message_id, now() + seconds(4))
        .await
        .unwrap();
    let lone = split_message(store, &actor, second.message_id, now() + seconds(5)).await;

    assert_eq!(split.previous_conversation_id, Some(first.conversation_id));
    assert_eq!(split.status, ConversationStatus::Open);
    let moved = store
        .get_message(acme.workspace.id, second.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.conversation_id, split.id);
    let left = store
        .list_messages(acme.workspace.id, first.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
    assert!(matches!(lone, Err(Error::Refused { .. })), "got {lone:?}");
}
