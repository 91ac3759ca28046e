//! Outbound delivery through the API channel's webhook: retried with backoff while the
//! receiver fails, delivered once when it recovers, and marked failed with the reason when the
//! attempts run out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Backend, WebhookReceiver, signature_problem, spawn_seam, spawn_seam_with};
use serde_json::json;

on_both_backends!(
    a_reply_is_retried_until_the_webhook_accepts_it_and_delivered_once,
    a_reply_the_webhook_keeps_refusing_is_marked_failed_with_the_reason,
);

async fn a_reply_is_retried_until_the_webhook_accepts_it_and_delivered_once(backend: Backend) {
    // Arrange: the receiver fails the first two attempts.
    let seam = spawn_seam(backend).await;
    let receiver = WebhookReceiver::start().await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent
        .create_api_channel("Shop backend", Some(&receiver.url))
        .await;
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "customer@example.com" },
            "text": "Can I change my address?",
        }))
        .await;
    receiver.fail_next(2, "Yes, reply with the new address.");

    // Act
    let reply = agent
        .reply(
            &received.conversation_id,
            "Yes, reply with the new address.",
        )
        .await;
    let reply_id = reply["id"].as_str().unwrap();

    // Assert: three attempts, each signed; the last accepted; the message sent.
    let sent = agent
        .wait_for_delivery_status(&received.conversation_id, reply_id, "sent")
        .await;
    assert!(sent["delivery_error"].is_null(), "{sent:#?}");
    let attempts = receiver.deliveries_of(reply_id);
    let answers: Vec<u16> = attempts.iter().map(|attempt| attempt.answered).collect();
    assert_eq!(answers, vec![500, 500, 200]);
    for attempt in &attempts {
        assert_eq!(signature_problem(attempt, &channel.secret), None);
        assert_eq!(
            attempt.body, attempts[0].body,
            "every attempt carries the same message"
        );
    }
}

async fn a_reply_the_webhook_keeps_refusing_is_marked_failed_with_the_reason(backend: Backend) {
    // Arrange: a server that gives up after two attempts, and a receiver that always fails.
    let seam = spawn_seam_with(backend, &["--job-max-attempts", "2"], &[]).await;
    let receiver = WebhookReceiver::start().await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent
        .create_api_channel("Shop backend", Some(&receiver.url))
        .await;
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "customer@example.com" },
            "text": "Hello?",
        }))
        .await;
    receiver.fail_always("This answer will never arrive.");

    // Act
    let reply = agent
        .reply(&received.conversation_id, "This answer will never arrive.")
        .await;
    let reply_id = reply["id"].as_str().unwrap();

    // Assert: failed, saying why, after exactly the configured attempts.
    let failed = agent
        .wait_for_delivery_status(&received.conversation_id, reply_id, "failed")
        .await;
    let reason = failed["delivery_error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("500"),
        "the reason should name the webhook's answer: {failed:#?}"
    );
    let answers: Vec<u16> = receiver
        .deliveries_of(reply_id)
        .iter()
        .map(|attempt| attempt.answered)
        .collect();
    assert_eq!(answers, vec![500, 500]);
}
