//! The conversation list: every filter, alone and combined, keeps exactly the matching
//! conversations, newest activity first.

use seam_core::{
    conversation::{
        AssigneeFilter, ConversationFilter, ConversationStatus, ConversationUpdate,
        update_conversation,
    },
    ids::{ConversationId, TeamId, WorkspaceId},
    ports::Store,
    workspace::Continuity,
};

use crate::fixtures::{Harness, api_channel, now, receive, seconds, tenant};

crate::on_both_backends!(each_conversation_filter_keeps_exactly_the_matching_conversations);

async fn ids(
    store: &dyn Store,
    workspace: WorkspaceId,
    filter: ConversationFilter,
) -> Vec<ConversationId> {
    let page = store
        .list_conversations(workspace, &filter, None, 100)
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|conversation| conversation.id)
        .collect()
}

async fn each_conversation_filter_keeps_exactly_the_matching_conversations(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let sms = api_channel(acme.workspace.id, "SMS bridge");
    store.insert_channel(&sms).await.unwrap();
    let team = TeamId::new();
    let mut tx = store.begin().await.unwrap();
    tx.insert_team(acme.workspace.id, team, "Billing")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let at = now();
    let layla = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    let omar = receive(store, &sms, "m-2", "omar@example.com", at + seconds(1)).await;
    let sara = receive(
        store,
        &acme.channel,
        "m-3",
        "sara@example.com",
        at + seconds(2),
    )
    .await;
    let actor = acme.owner.actor();
    let vip = ConversationUpdate {
        labels: Some(vec!["vip".into(), "refund".into()]),
        assignee_id: Some(Some(acme.owner.id)),
        team_id: Some(Some(team)),
        ..Default::default()
    };
    update_conversation(store, &actor, layla.conversation_id, vip, at + seconds(3))
        .await
        .unwrap();
    let resolve = ConversationUpdate {
        status: Some(ConversationStatus::Resolved),
        ..Default::default()
    };
    update_conversation(
        store,
        &actor,
        omar.conversation_id,
        resolve,
        at + seconds(3),
    )
    .await
    .unwrap();
    let relabel = ConversationUpdate {
        labels: Some(vec!["refund".into()]),
        ..Default::default()
    };
    update_conversation(
        store,
        &actor,
        sara.conversation_id,
        relabel,
        at + seconds(4),
    )
    .await
    .unwrap();
    let unlabel = ConversationUpdate {
        labels: Some(vec![]),
        ..Default::default()
    };
    update_conversation(
        store,
        &actor,
        sara.conversation_id,
        unlabel,
        at + seconds(5),
    )
    .await
    .unwrap();
    let workspace = acme.workspace.id;
    let (layla, omar, sara) = (
        layla.conversation_id,
        omar.conversation_id,
        sara.conversation_id,
    );

    assert_eq!(
        ids(store, workspace, ConversationFilter::default()).await,
        vec![sara, omar, layla]
    );
    let status = |status| ConversationFilter {
        status: Some(status),
        ..Default::default()
    };
    assert_eq!(
        ids(store, workspace, status(ConversationStatus::Resolved)).await,
        vec![omar]
    );
    assert_eq!(
        ids(store, workspace, status(ConversationStatus::Open)).await,
        vec![sara, layla]
    );
    let assignee = |filter| ConversationFilter {
        assignee: Some(filter),
        ..Default::default()
    };
    assert_eq!(
        ids(
            store,
            workspace,
            assignee(AssigneeFilter::User(acme.owner.id))
        )
        .await,
        vec![layla]
    );
    assert_eq!(
        ids(store, workspace, assignee(AssigneeFilter::Unassigned)).await,
        vec![sara, omar]
    );
    let by_team = ConversationFilter {
        team_id: Some(team),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, by_team).await, vec![layla]);
    let by_sms = ConversationFilter {
        channel_id: Some(sms.id),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, by_sms).await, vec![omar]);
    let by_api = ConversationFilter {
        channel_id: Some(acme.channel.id),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, by_api).await, vec![sara, layla]);
    let label = |label: &str| ConversationFilter {
        label: Some(label.into()),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, label("vip")).await, vec![layla]);
    assert_eq!(ids(store, workspace, label("refund")).await, vec![layla]);
    let customer = store
        .get_conversation(workspace, omar)
        .await
        .unwrap()
        .unwrap()
        .customer_id;
    let by_customer = ConversationFilter {
        customer_id: Some(customer),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, by_customer).await, vec![omar]);
    let combined = ConversationFilter {
        status: Some(ConversationStatus::Open),
        channel_id: Some(acme.channel.id),
        label: Some("vip".into()),
        ..Default::default()
    };
    assert_eq!(ids(store, workspace, combined).await, vec![layla]);
    let stored = store
        .get_conversation(workspace, layla)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.labels, vec!["refund".to_string(), "vip".to_string()]);
}
