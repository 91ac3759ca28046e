//! Export and erasure of a customer through `seam_core::privacy`: the export holds everything,
//! the erasure removes every personal value table by table, keeps the anonymous shell, audits
//! itself, and lets the erased addresses make a new customer.

use seam_core::{
    Error,
    event::Event,
    ids::EventId,
    jobs::{JobStatus, NewJob},
    privacy::{AuditActor, ERASE_ACTION, ERASED_TEXT, erase, export},
    workspace::Continuity,
};

use crate::fixtures::{Harness, now, receive, seconds, tenant};

crate::on_both_backends!(
    an_export_holds_the_profile_identities_conversations_with_messages_and_events,
    a_customer_of_another_workspace_cannot_be_exported_or_erased,
    erasure_removes_personal_data_keeps_an_anonymous_shell_and_is_audited,
    erasure_scrubs_pending_deliveries_about_the_customer,
    a_message_from_an_erased_address_makes_a_new_customer,
);

async fn an_export_holds_the_profile_identities_conversations_with_messages_and_events(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let first = receive(store, &acme.channel, "m1", "layla@example.com", at).await;
    receive(
        store,
        &acme.channel,
        "m2",
        "layla@example.com",
        at + seconds(1),
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_event(&Event {
        message_id: None,
        id: EventId::new(),
        workspace_id: acme.workspace.id,
        customer_id: first.customer_id,
        name: "order_placed".into(),
        properties: serde_json::json!({ "order_id": "A-1001" }),
        occurred_at: at,
        created_at: at,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let document = export(store, acme.workspace.id, first.customer_id)
        .await
        .unwrap();

    assert_eq!(document.customer.name.as_deref(), Some("Layla Ahmadi"));
    assert_eq!(document.identities.len(), 1);
    assert_eq!(document.identities[0].identity.value, "layla@example.com");
    assert_eq!(document.conversations.len(), 1);
    let texts: Vec<&str> = document.conversations[0]
        .messages
        .iter()
        .map(|message| message.text.as_str())
        .collect();
    assert_eq!(texts, vec!["message m1", "message m2"]);
    assert_eq!(document.events.len(), 1);
    assert_eq!(document.events[0].properties["order_id"], "A-1001");
}

async fn a_customer_of_another_workspace_cannot_be_exported_or_erased(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let globex = tenant(store, "Globex", Continuity::Customer).await;
    let layla = receive(store, &acme.channel, "m1", "layla@example.com", now()).await;

    let exported = export(store, globex.workspace.id, layla.customer_id).await;
    let erased = erase(
        store,
        globex.workspace.id,
        layla.customer_id,
        AuditActor::Operator,
        now(),
    )
    .await;

    assert!(matches!(exported, Err(Error::NotFound)));
    assert!(matches!(erased, Err(Error::NotFound)), "{erased:?}");
    assert!(
        store
            .list_audit_entries(globex.workspace.id)
            .await
            .unwrap()
            .is_empty()
    );
    let profile = store
        .get_customer_profile(acme.workspace.id, layla.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.identities.len(), 1);
}

async fn erasure_removes_personal_data_keeps_an_anonymous_shell_and_is_audited(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let layla = receive(store, &acme.channel, "m1", "layla@example.com", now()).await;
    let other = receive(store, &acme.channel, "m2", "omid@example.com", now()).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_event(&Event {
        message_id: None,
        id: EventId::new(),
        workspace_id: acme.workspace.id,
        customer_id: layla.customer_id,
        name: "order_placed".into(),
        properties: serde_json::json!({ "address": "12 Cedar Street" }),
        occurred_at: now(),
        created_at: now(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let actor = AuditActor::User(acme.owner.id);

    erase(store, acme.workspace.id, layla.customer_id, actor, now())
        .await
        .unwrap();

    let shell = export(store, acme.workspace.id, layla.customer_id)
        .await
        .unwrap();
    assert_eq!(shell.customer.name, None);
    assert!(shell.identities.is_empty());
    assert_eq!(shell.conversations.len(), 1, "the conversation survives");
    let message = &shell.conversations[0].messages[0];
    assert_eq!(message.text, ERASED_TEXT);
    assert_eq!(message.identity, None);
    assert_eq!(shell.events[0].name, "order_placed");
    assert_eq!(shell.events[0].properties, serde_json::json!({}));
    let untouched = export(store, acme.workspace.id, other.customer_id)
        .await
        .unwrap();
    assert_eq!(untouched.conversations[0].messages[0].text, "message m2");
    let audit = store.list_audit_entries(acme.workspace.id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, ERASE_ACTION);
    assert_eq!(audit[0].subject_id, layla.customer_id.0);
    assert_eq!(audit[0].actor, actor);
}

async fn erasure_scrubs_pending_deliveries_about_the_customer(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let layla = receive(store, &acme.channel, "m1", "layla@example.com", now()).await;
    let omid = receive(store, &acme.channel, "m2", "omid@example.com", now()).await;
    let webhook = NewJob::new(
        acme.workspace.id,
        "deliver_webhook_event",
        serde_json::json!({ "event": { "customer_id": layla.customer_id, "text": "my address" } }),
        now(),
    );
    let delivery = NewJob::new(
        acme.workspace.id,
        "deliver_message",
        serde_json::json!({ "message_id": layla.message_id }),
        now(),
    );
    let unrelated = NewJob::new(
        acme.workspace.id,
        "deliver_message",
        serde_json::json!({ "message_id": omid.message_id }),
        now(),
    );
    let mut tx = store.begin().await.unwrap();
    for job in [&webhook, &delivery, &unrelated] {
        tx.insert_job(job).await.unwrap();
    }
    tx.commit().await.unwrap();

    erase(
        store,
        acme.workspace.id,
        layla.customer_id,
        AuditActor::Operator,
        now(),
    )
    .await
    .unwrap();

    let webhook = store.get_job(webhook.id).await.unwrap().unwrap();
    assert_eq!(webhook.payload, serde_json::json!({ "erased": true }));
    assert_eq!(webhook.status, JobStatus::Dead);
    let delivery = store.get_job(delivery.id).await.unwrap().unwrap();
    assert_eq!(delivery.status, JobStatus::Dead);
    let unrelated = store.get_job(unrelated.id).await.unwrap().unwrap();
    assert_eq!(unrelated.status, JobStatus::Queued);
    let outbox = store.fetch_outbox(100).await.unwrap();
    let mentions = outbox
        .iter()
        .filter(|row| {
            row.payload
                .to_string()
                .contains(&layla.customer_id.to_string())
        })
        .count();
    assert_eq!(mentions, 0);
    assert!(outbox.iter().any(|row| {
        row.payload
            .to_string()
            .contains(&omid.customer_id.to_string())
    }));
}

async fn a_message_from_an_erased_address_makes_a_new_customer(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let before = receive(store, &acme.channel, "m1", "layla@example.com", now()).await;
    erase(
        store,
        acme.workspace.id,
        before.customer_id,
        AuditActor::Operator,
        now(),
    )
    .await
    .unwrap();

    let after = receive(store, &acme.channel, "m2", "layla@example.com", now()).await;

    assert_ne!(after.customer_id, before.customer_id);
    assert_ne!(after.conversation_id, before.conversation_id);
    let shell = store
        .get_customer_profile(acme.workspace.id, before.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert!(shell.identities.is_empty());
}
