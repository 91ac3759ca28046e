//! Bad input gets a clear 4xx and loses nothing: malformed JSON, wrong types, oversized
//! bodies, a wrong channel secret, invalid identities. What was refused leaves no trace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Api, Backend, spawn_seam};
use serde_json::json;

on_both_backends!(
    refused_inbound_requests_say_why_and_store_nothing,
    refused_agent_requests_say_why_and_change_nothing,
);

async fn refused_inbound_requests_say_why_and_store_nothing(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let inbound = format!("/api/v1/channels/{}/inbound", channel.id);
    let with_secret = Api::bearer(&seam.base_url, &channel.secret);
    let valid = json!({
        "message_id": "refused-1",
        "from": { "email": "valid@example.com" },
        "text": "a valid message",
    });

    // Act + Assert: malformed JSON.
    with_secret
        .post_raw(
            &inbound,
            "application/json",
            br#"{"message_id": "refused-1", "from": {"#.to_vec(),
        )
        .await
        .assert_error(400);
    with_secret
        .post_raw(&inbound, "application/json", b"".to_vec())
        .await
        .assert_error(400);

    // Wrong types and missing fields: a 4xx naming the problem.
    for body in [
        json!({ "message_id": "refused-1", "from": { "email": "valid@example.com" }, "text": 42 }),
        json!({ "message_id": 7, "from": { "email": "valid@example.com" }, "text": "hi" }),
        json!({ "message_id": "refused-1", "from": "valid@example.com", "text": "hi" }),
        json!({ "message_id": "refused-1", "from": { "email": ["valid@example.com"] }, "text": "hi" }),
        json!({ "message_id": "refused-1", "from": { "email": "valid@example.com" } }),
        json!({ "message_id": "refused-1", "text": "hi" }),
        json!(["not", "an", "object"]),
    ] {
        let response = with_secret.post(&inbound, body.clone()).await;
        assert!(
            matches!(response.status, 400 | 422),
            "{body} got {response:?}"
        );
        response.assert_error(response.status);
    }

    // Empty values and an empty sender.
    for (body, field) in [
        (
            json!({ "message_id": "", "from": { "email": "valid@example.com" }, "text": "hi" }),
            "message_id",
        ),
        (
            json!({ "message_id": "refused-1", "from": { "email": "valid@example.com" }, "text": "  " }),
            "text",
        ),
        (
            json!({ "message_id": "refused-1", "from": {}, "text": "hi" }),
            "from",
        ),
    ] {
        let response = with_secret.post(&inbound, body).await;
        response.assert_error(422);
        assert_eq!(response.error_field(), Some(field), "{response:?}");
    }

    // Invalid identities.
    for (from, field) in [
        (json!({ "email": "not-an-email" }), "from.email"),
        (json!({ "email": "someone@localhost" }), "from.email"),
        (
            json!({ "email": "valid@example.com", "phone": "call me maybe" }),
            "from.phone",
        ),
        (json!({ "phone": "12345" }), "from.phone"),
    ] {
        let response = with_secret
            .post(
                &inbound,
                json!({ "message_id": "refused-1", "from": from, "text": "hi" }),
            )
            .await;
        response.assert_error(422);
        assert_eq!(response.error_field(), Some(field), "{response:?}");
    }

    // A text over 64 KiB inside a body under the limit, and a body over the 1 MiB limit.
    let long_text = "x".repeat(70 * 1024);
    let response = with_secret
        .post(
            &inbound,
            json!({ "message_id": "refused-1", "from": { "email": "valid@example.com" }, "text": long_text }),
        )
        .await;
    response.assert_error(422);
    assert_eq!(response.error_field(), Some("text"));
    let oversized = format!(
        r#"{{"message_id":"refused-1","from":{{"email":"valid@example.com"}},"text":"{}"}}"#,
        "x".repeat(1024 * 1024 + 1)
    );
    with_secret
        .post_raw(&inbound, "application/json", oversized.into_bytes())
        .await
        .assert_error(413);

    // Credentials: none, a wrong secret, an unknown channel.
    Api::anonymous(&seam.base_url)
        .post(&inbound, valid.clone())
        .await
        .assert_error(401);
    Api::bearer(&seam.base_url, "not-the-secret")
        .post(&inbound, valid.clone())
        .await
        .assert_error(401);
    with_secret
        .post(
            &format!("/api/v1/channels/{}/inbound", uuid::Uuid::now_v7()),
            valid.clone(),
        )
        .await
        .assert_error(401);

    // Assert: nothing was stored...
    assert!(agent.conversations().await.is_empty());
    assert!(agent.customers().await.is_empty());
    assert!(
        agent
            .api
            .list_all("/api/v1/customers?q=valid")
            .await
            .is_empty()
    );

    // ...not even the message id: the same id, now valid, is a new message.
    let accepted = channel.receive(valid).await;
    let messages = agent.messages(&accepted.conversation_id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["text"], "a valid message");
    assert_eq!(agent.customers().await.len(), 1);
}

async fn refused_agent_requests_say_why_and_change_nothing(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "customer@example.com" },
            "text": "hello",
        }))
        .await;
    let conversation = format!("/api/v1/conversations/{}", received.conversation_id);
    let messages = format!("{conversation}/messages");

    // Act + Assert
    agent
        .api
        .post_raw(&messages, "application/json", b"{\"text\":".to_vec())
        .await
        .assert_error(400);
    let empty = agent.api.post(&messages, json!({ "text": "   " })).await;
    empty.assert_error(422);
    assert_eq!(empty.error_field(), Some("text"));
    let wrong_type = agent.api.post(&messages, json!({ "text": true })).await;
    assert!(matches!(wrong_type.status, 400 | 422), "{wrong_type:?}");
    wrong_type.assert_error(wrong_type.status);
    // The channel has no webhook_url, so a reply cannot be delivered: refused, with the reason.
    let undeliverable = agent.api.post(&messages, json!({ "text": "answer" })).await;
    assert!(
        (400..500).contains(&undeliverable.status),
        "{undeliverable:?}"
    );
    undeliverable.assert_error(undeliverable.status);
    assert!(
        undeliverable.error_message().contains("webhook_url"),
        "{undeliverable:?}"
    );
    let bad_status = agent
        .api
        .patch(&conversation, json!({ "status": "finished" }))
        .await;
    assert!(matches!(bad_status.status, 400 | 422), "{bad_status:?}");
    bad_status.assert_error(bad_status.status);
    let bad_labels = agent
        .api
        .patch(&conversation, json!({ "labels": ["", "x"] }))
        .await;
    bad_labels.assert_error(422);
    agent
        .api
        .get("/api/v1/conversations?limit=0")
        .await
        .assert_error(422);
    agent
        .api
        .get("/api/v1/conversations?cursor=garbage")
        .await
        .assert_error(422);
    agent
        .api
        .get("/api/v1/conversations?status=finished")
        .await
        .assert_error(422);
    let unknown = uuid::Uuid::now_v7();
    agent
        .api
        .get(&format!("/api/v1/conversations/{unknown}"))
        .await
        .assert_error(404);
    agent
        .api
        .get(&format!("/api/v1/customers/{unknown}"))
        .await
        .assert_error(404);
    let bad_channel = agent
        .api
        .post(
            "/api/v1/channels",
            json!({ "kind": "api", "name": "x", "config": { "webhook_url": "ftp://x" } }),
        )
        .await;
    bad_channel.assert_error(422);
    assert_eq!(bad_channel.error_field(), Some("config.webhook_url"));

    // Assert: the conversation is as it was.
    let stored = agent.api.get(&conversation).await;
    assert_eq!(stored.json["status"], "open");
    assert_eq!(stored.json["labels"], json!([]));
    let listed = agent.messages(&received.conversation_id).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let channels = agent.api.get("/api/v1/channels").await;
    assert_eq!(channels.json["items"].as_array().unwrap().len(), 1);
}
