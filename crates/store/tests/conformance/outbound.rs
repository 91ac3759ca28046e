//! The outbox and the outbound path: relay order, replies stored with their job in one
//! transaction, the wake-up signal, and delivery reports that never move backwards.

use std::time::Duration;

use seam_core::{
    ids::OutboxId,
    jobs::{JobStatus, kind},
    message::{DeliveryStatus, MessageKind},
    outbound::{ChannelChoice, Reply, record_delivery, send_reply},
    outbox::OutboxEvent,
    workspace::Continuity,
};

use crate::fixtures::{Harness, now, receive, seconds, tenant};

crate::on_both_backends!(
    the_outbox_is_fetched_oldest_first_and_deleted_by_id,
    a_commit_that_writes_outbox_rows_wakes_the_relay_and_a_rollback_does_not,
    a_reply_is_stored_queued_together_with_its_delivery_job,
    delivery_reports_never_move_a_message_backwards,
);

async fn the_outbox_is_fetched_oldest_first_and_deleted_by_id(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let event = |topic: &str, offset: i64| OutboxEvent {
        id: OutboxId::new(),
        workspace_id: acme.workspace.id,
        topic: topic.to_string(),
        payload: serde_json::json!({ "topic": topic }),
        created_at: at + seconds(offset),
    };
    let (third, first, second) = (event("c", 2), event("a", 0), event("b", 1));
    let mut tx = store.begin().await.unwrap();
    for row in [&third, &first, &second] {
        tx.insert_outbox(row).await.unwrap();
    }
    tx.commit().await.unwrap();

    let fetched = store.fetch_outbox(10).await.unwrap();
    assert_eq!(fetched, vec![first.clone(), second.clone(), third.clone()]);
    assert_eq!(
        store.fetch_outbox(2).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    store.delete_outbox(&[first.id, third.id]).await.unwrap();
    assert_eq!(store.fetch_outbox(10).await.unwrap(), vec![second]);
}

async fn a_commit_that_writes_outbox_rows_wakes_the_relay_and_a_rollback_does_not(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let notify = harness.database.outbox_notify.clone();
    let wait = || tokio::time::timeout(Duration::from_millis(200), notify.notified());

    let mut tx = store.begin().await.unwrap();
    tx.insert_outbox(&OutboxEvent {
        id: OutboxId::new(),
        workspace_id: acme.workspace.id,
        topic: "message.created".into(),
        payload: serde_json::json!({}),
        created_at: now(),
    })
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(wait().await.is_err(), "a rollback must not wake the relay");
    assert!(store.fetch_outbox(10).await.unwrap().is_empty());

    receive(store, &acme.channel, "m-1", "layla@example.com", now()).await;
    assert!(
        wait().await.is_ok(),
        "a commit with outbox rows wakes the relay"
    );
    assert_eq!(store.fetch_outbox(10).await.unwrap().len(), 2);
}

async fn a_reply_is_stored_queued_together_with_its_delivery_job(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let received = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    let reply = Reply {
        text: "We are on it.".into(),
        channel: ChannelChoice::Auto,
        private: false,
        template: None,
        buttons: Vec::new(),
        attachments: Vec::new(),
    };

    let message = send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        reply,
        at + seconds(5),
    )
    .await
    .unwrap();

    let stored = store
        .get_message(acme.workspace.id, message.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.kind, MessageKind::Outbound);
    assert_eq!(stored.delivery_status, Some(DeliveryStatus::Queued));
    assert_eq!(stored.channel_id, Some(acme.channel.id));
    let jobs = store
        .claim_jobs(at + seconds(6), at + seconds(36), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, kind::DELIVER_MESSAGE);
    assert_eq!(
        jobs[0].payload,
        serde_json::json!({ "message_id": message.id })
    );
    assert_eq!(jobs[0].status, JobStatus::Running);
    let conversation = store
        .get_conversation(acme.workspace.id, received.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.waiting_since, None);
    assert_eq!(conversation.last_activity_at, at + seconds(5));
}

async fn delivery_reports_never_move_a_message_backwards(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let received = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    let reply = Reply {
        text: "Hello".into(),
        channel: ChannelChoice::Auto,
        private: false,
        template: None,
        buttons: Vec::new(),
        attachments: Vec::new(),
    };
    let message = send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        reply,
        at,
    )
    .await
    .unwrap();
    let report = |status| record_delivery(store, acme.workspace.id, message.id, status, None, at);

    report(DeliveryStatus::Read).await.unwrap();
    let late = report(DeliveryStatus::Delivered).await.unwrap();
    let failed = report(DeliveryStatus::Failed).await.unwrap();

    assert_eq!(late.delivery_status, Some(DeliveryStatus::Read));
    assert_eq!(failed.delivery_status, Some(DeliveryStatus::Read));
    let stored = store
        .get_message(acme.workspace.id, message.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.delivery_status, Some(DeliveryStatus::Read));
}
