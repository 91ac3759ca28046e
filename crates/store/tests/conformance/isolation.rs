//! Workspace isolation: ids of another workspace are invisible in every get and list.

use seam_core::{conversation::ConversationFilter, identity::Identity, workspace::Continuity};

use crate::fixtures::{Harness, now, receive, tenant};

crate::on_both_backends!(nothing_of_another_workspace_is_visible_in_any_read);

async fn nothing_of_another_workspace_is_visible_in_any_read(harness: &mut Harness) {
    let store = harness.store();
    let a = tenant(store, "Alpha", Continuity::Customer).await;
    let b = tenant(store, "Beta", Continuity::Customer).await;
    let received = receive(store, &b.channel, "b-1", "layla@example.com", now()).await;
    let (ws_a, ws_b) = (a.workspace.id, b.workspace.id);
    let everything = ConversationFilter::default();

    assert_eq!(store.get_user(ws_a, b.owner.id).await.unwrap(), None);
    assert_eq!(store.list_users(ws_a).await.unwrap(), vec![a.owner.clone()]);
    assert_eq!(store.get_channel(ws_a, b.channel.id).await.unwrap(), None);
    assert_eq!(
        store.list_channels(ws_a).await.unwrap(),
        vec![a.channel.clone()]
    );
    assert_eq!(
        store
            .get_conversation(ws_a, received.conversation_id)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .list_conversations(ws_a, &everything, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let by_customer = ConversationFilter {
        customer_id: Some(received.customer_id),
        ..Default::default()
    };
    assert!(
        store
            .list_conversations(ws_a, &by_customer, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store.get_message(ws_a, received.message_id).await.unwrap(),
        None
    );
    assert!(
        store
            .list_messages(ws_a, received.conversation_id, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .get_customer_profile(ws_a, received.customer_id)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .search_customers(ws_a, None, None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        store
            .search_customers(ws_a, Some("layla"), None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.get_user(ws_a, b.owner.id).await.unwrap(), None);
    assert_eq!(tx.get_channel(ws_a, b.channel.id).await.unwrap(), None);
    assert_eq!(
        tx.get_conversation(ws_a, received.conversation_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.get_message(ws_a, received.message_id).await.unwrap(),
        None
    );
    assert_eq!(
        tx.get_customer(ws_a, received.customer_id).await.unwrap(),
        None
    );
    assert_eq!(
        tx.latest_conversation(ws_a, received.customer_id, None)
            .await
            .unwrap(),
        None
    );
    let email = Identity::parse_email("email", "layla@example.com").unwrap();
    assert!(
        tx.find_identities(ws_a, std::slice::from_ref(&email))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.find_identities(ws_b, &[email]).await.unwrap().len(), 1);
    tx.rollback().await.unwrap();
    // The same address in workspace A is a different customer.
    let in_a = receive(store, &a.channel, "a-1", "layla@example.com", now()).await;
    assert_ne!(in_a.customer_id, received.customer_id);
}
