//! Workspace isolation: nothing crosses workspaces. A user or token of one workspace gets 404
//! for every id of another, its lists and filters never show the other's rows, and its
//! realtime socket never carries the other's events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Agent, ApiChannel, Backend, Realtime, Received, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    every_id_of_another_workspace_is_not_found,
    lists_and_filters_never_show_another_workspaces_rows,
    a_channel_secret_opens_only_its_own_channel,
    the_realtime_socket_carries_only_its_own_workspaces_events,
);

/// One workspace with a channel, a customer, a conversation holding a message and a note.
struct Tenant {
    agent: Agent,
    channel: ApiChannel,
    received: Received,
}

async fn tenant(seam: &harness::SeamProcess, name: &str, email: &str) -> Tenant {
    let agent = seam.owner_of(name).await;
    let channel = agent
        .create_api_channel(&format!("{name} backend"), None)
        .await;
    let received = channel
        .receive(json!({
            "message_id": format!("{name}-first"),
            "from": { "email": email, "phone": "+14155550123", "name": format!("{name} customer") },
            "text": format!("Hello {name}"),
        }))
        .await;
    let note = agent
        .api
        .post(
            &format!(
                "/api/v1/conversations/{}/messages",
                received.conversation_id
            ),
            json!({ "text": format!("note in {name}"), "private": true }),
        )
        .await;
    assert_eq!(note.status, 201, "{note:?}");
    assert_eq!(note.json["kind"], "note");
    Tenant {
        agent,
        channel,
        received,
    }
}

async fn every_id_of_another_workspace_is_not_found(backend: Backend) {
    // Arrange: two workspaces holding the same customer address.
    let seam = spawn_seam(backend).await;
    let a = tenant(&seam, "Alpha", "same.person@example.com").await;
    let b = tenant(&seam, "Beta", "same.person@example.com").await;
    assert_ne!(a.agent.workspace_id, b.agent.workspace_id);
    assert_ne!(a.received.customer_id, b.received.customer_id);

    for (me, other) in [(&a, &b), (&b, &a)] {
        let api = &me.agent.api;
        let conversation = &other.received.conversation_id;
        let customer = &other.received.customer_id;

        // Act + Assert: reads.
        for path in [
            format!("/api/v1/conversations/{conversation}"),
            format!("/api/v1/conversations/{conversation}/messages"),
            format!("/api/v1/customers/{customer}"),
        ] {
            api.get(&path).await.assert_error(404);
        }

        // Act + Assert: writes, which must change nothing.
        api.patch(
            &format!("/api/v1/conversations/{conversation}"),
            json!({ "status": "resolved", "labels": ["stolen"] }),
        )
        .await
        .assert_error(404);
        api.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "crossing over", "private": true }),
        )
        .await
        .assert_error(404);
        api.post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "crossing over", "channel": other.channel.id }),
        )
        .await
        .assert_error(404);

        // Ids of the other workspace inside a request body are refused, too.
        let own = &me.received.conversation_id;
        let foreign_channel = api
            .post(
                &format!("/api/v1/conversations/{own}/messages"),
                json!({ "text": "through their channel", "channel": other.channel.id }),
            )
            .await;
        assert!(
            matches!(foreign_channel.status, 404 | 422),
            "{foreign_channel:?}"
        );
        let foreign_assignee = api
            .patch(
                &format!("/api/v1/conversations/{own}"),
                json!({ "assignee_id": other.agent.user_id }),
            )
            .await;
        assert!(
            matches!(foreign_assignee.status, 404 | 422),
            "{foreign_assignee:?}"
        );
    }

    // Assert: each workspace's data is as its own owner left it.
    for tenant in [&a, &b] {
        let conversation = tenant
            .agent
            .api
            .get(&format!(
                "/api/v1/conversations/{}",
                tenant.received.conversation_id
            ))
            .await;
        assert_eq!(conversation.status, 200);
        assert_eq!(conversation.json["status"], "open");
        assert_eq!(conversation.json["labels"], json!([]));
        assert!(conversation.json["assignee_id"].is_null());
        let messages = tenant
            .agent
            .messages(&tenant.received.conversation_id)
            .await;
        let texts: Vec<&str> = messages.iter().filter_map(|m| m["text"].as_str()).collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert!(!texts.iter().any(|text| text.contains("crossing over")));
        assert!(
            !texts
                .iter()
                .any(|text| text.contains("through their channel"))
        );
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

async fn lists_and_filters_never_show_another_workspaces_rows(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let a = tenant(&seam, "Alpha", "shared@example.com").await;
    let b = tenant(&seam, "Beta", "shared@example.com").await;

    for (me, other) in [(&a, &b), (&b, &a)] {
        // Act
        let conversations = ids(&me.agent.conversations().await);
        let customers = ids(&me.agent.customers().await);
        let searched = ids(&me.agent.api.list_all("/api/v1/customers?q=shared").await);
        let by_phone = ids(&me
            .agent
            .api
            .list_all("/api/v1/customers?q=4155550123")
            .await);
        let channels = me.agent.api.get("/api/v1/channels").await;
        let other_assignee = me
            .agent
            .api
            .list_all(&format!(
                "/api/v1/conversations?assignee={}",
                other.agent.user_id
            ))
            .await;
        let other_channel = me
            .agent
            .api
            .list_all(&format!(
                "/api/v1/conversations?channel={}",
                other.channel.id
            ))
            .await;

        // Assert
        assert_eq!(conversations, vec![me.received.conversation_id.clone()]);
        assert_eq!(customers, vec![me.received.customer_id.clone()]);
        assert_eq!(searched, vec![me.received.customer_id.clone()]);
        assert_eq!(by_phone, vec![me.received.customer_id.clone()]);
        assert_eq!(channels.status, 200, "{channels:?}");
        let channel_ids = ids(channels.json["items"].as_array().expect("channels list"));
        assert_eq!(channel_ids, vec![me.channel.id.clone()]);
        assert!(!channels.text.contains(&other.channel.secret));
        assert!(
            !channels.text.contains(&me.channel.secret),
            "a secret is shown only once"
        );
        assert!(other_assignee.is_empty(), "{other_assignee:#?}");
        assert!(other_channel.is_empty(), "{other_channel:#?}");
    }
}

async fn a_channel_secret_opens_only_its_own_channel(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let a = tenant(&seam, "Alpha", "alpha.customer@example.com").await;
    let b = tenant(&seam, "Beta", "beta.customer@example.com").await;
    let intruder = ApiChannel {
        secret: a.channel.secret.clone(),
        ..b.channel.clone()
    };
    let with_user_token = ApiChannel {
        secret: a.agent.token.clone(),
        ..b.channel.clone()
    };

    // Act
    let with_other_secret = intruder
        .post_inbound(json!({
            "message_id": "intrusion-1",
            "from": { "email": "intruder@example.com" },
            "text": "planted",
        }))
        .await;
    let with_token = with_user_token
        .post_inbound(json!({
            "message_id": "intrusion-2",
            "from": { "email": "intruder@example.com" },
            "text": "planted",
        }))
        .await;

    // Assert
    with_other_secret.assert_error(401);
    with_token.assert_error(401);
    for tenant in [&a, &b] {
        assert_eq!(tenant.agent.customers().await.len(), 1);
        assert_eq!(tenant.agent.conversations().await.len(), 1);
    }
}

async fn the_realtime_socket_carries_only_its_own_workspaces_events(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let a = tenant(&seam, "Alpha", "alpha.customer@example.com").await;
    let b = tenant(&seam, "Beta", "beta.customer@example.com").await;
    let mut realtime = Realtime::connect(&seam.base_url, &a.agent.token).await;

    // Act: Beta's customer writes first, then Alpha's.
    b.channel
        .receive(json!({
            "message_id": "beta-2",
            "from": { "email": "beta.customer@example.com" },
            "text": "for Beta only",
        }))
        .await;
    let mine = a
        .channel
        .receive(json!({
            "message_id": "alpha-2",
            "from": { "email": "alpha.customer@example.com" },
            "text": "for Alpha",
        }))
        .await;

    // Assert: Alpha's socket got Alpha's message and nothing of Beta's before (or with) it.
    realtime
        .wait_for("Alpha's message", |event| {
            event["type"] == "message.created" && event["data"]["id"] == mine.message_id.as_str()
        })
        .await;
    for event in &realtime.seen {
        assert_eq!(
            event["workspace_id"],
            a.agent.workspace_id.as_str(),
            "{event:#?}"
        );
        assert!(!event.to_string().contains("for Beta only"), "{event:#?}");
    }
}
