//! Event tracking end to end: a shop backend identifies a customer and tracks commerce events,
//! the customer then writes through the API channel, and an agent sees one customer with one
//! timeline, their orders and returns, and the computed profile fields — all over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Backend, spawn_seam};
use serde_json::json;

on_both_backends!(
    identify_track_and_a_message_make_one_customer_with_one_timeline_and_their_orders
);

async fn identify_track_and_a_message_make_one_customer_with_one_timeline_and_their_orders(
    backend: Backend,
) {
    // Arrange: a workspace with an API channel; the shop's backend uses the owner's token.
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;

    // Act 1: identify, then a batch of commerce events (one repeating the identify's key).
    let identify = json!({
        "userId": "u-42", "anonymousId": "v-1", "messageId": "id-1",
        "traits": {"email": "Maya@Example.com", "name": "Maya", "plan": "gold"},
    });
    let identified = agent.api.post("/api/v1/identify", identify.clone()).await;
    assert_eq!(identified.status, 200, "{identified:?}");
    let customer_id = identified.json["customer_id"].as_str().unwrap().to_string();
    let mut repeated = identify.clone();
    repeated["type"] = json!("identify");
    let batch = agent
        .api
        .post(
            "/api/v1/batch",
            json!({"batch": [
                {"type": "track", "userId": "u-42", "event": "order_placed", "messageId": "o-1",
                 "timestamp": "2026-11-01T10:00:00Z",
                 "properties": {"order_id": "A-1", "total": 59.90, "currency": "EUR"}},
                {"type": "track", "userId": "u-42", "event": "order_shipped", "messageId": "o-2",
                 "timestamp": "2026-11-02T10:00:00Z", "properties": {"order_id": "A-1"}},
                {"type": "track", "anonymousId": "v-1", "event": "return_requested",
                 "timestamp": "2026-11-05T10:00:00Z",
                 "properties": {"return_id": "R-1", "order_id": "A-1"}},
                {"type": "track", "userId": "u-42", "event": "order_placed",
                 "properties": {"total": 3}},
                repeated,
            ]}),
        )
        .await;
    assert_eq!(batch.status, 200, "{batch:?}");
    let statuses: Vec<&str> = batch.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["stored", "stored", "stored", "rejected", "duplicate"]
    );
    assert_eq!(batch.json["results"][3]["field"], "properties.order_id");
    for stored in &batch.json["results"].as_array().unwrap()[..3] {
        assert_eq!(stored["customer_id"], customer_id.as_str());
    }

    // Act 2: the customer writes through the API channel with the same email.
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": {"email": "maya@example.com"},
            "text": "Where is my return?",
        }))
        .await;
    assert_eq!(received.customer_id, customer_id);

    // Assert: one timeline, newest first, the message on top; the kind filter holds.
    let timeline = agent
        .api
        .list_all(&format!("/api/v1/customers/{customer_id}/timeline"))
        .await;
    let kinds: Vec<(String, String)> = timeline
        .iter()
        .map(|item| {
            let label = item["name"].as_str().or(item["text"].as_str()).unwrap();
            (
                item["type"].as_str().unwrap().to_string(),
                label.to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds[0],
        ("message".to_string(), "Where is my return?".to_string())
    );
    assert_eq!(kinds[1], ("event".to_string(), "identify".to_string()));
    assert_eq!(
        kinds[2..],
        [
            ("event".to_string(), "return_requested".to_string()),
            ("event".to_string(), "order_shipped".to_string()),
            ("event".to_string(), "order_placed".to_string()),
        ]
    );
    let events = agent
        .api
        .list_all(&format!(
            "/api/v1/customers/{customer_id}/timeline?kind=event"
        ))
        .await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["properties"], json!({"plan": "gold"}));

    // Assert: the orders and returns an agent (or a bot) answers from.
    let held = agent
        .api
        .get(&format!("/api/v1/customers/{customer_id}/orders"))
        .await;
    assert_eq!(held.status, 200, "{held:?}");
    assert_eq!(held.json["orders"][0]["order_id"], "A-1");
    assert_eq!(held.json["orders"][0]["status"], "shipped");
    assert_eq!(held.json["orders"][0]["total"], "59.9");
    assert_eq!(held.json["returns"][0]["return_id"], "R-1");
    assert_eq!(held.json["returns"][0]["status"], "requested");

    // Assert: the computed profile fields.
    let profile = agent
        .api
        .get(&format!("/api/v1/customers/{customer_id}"))
        .await;
    assert_eq!(profile.status, 200, "{profile:?}");
    assert_eq!(profile.json["name"], "Maya");
    let stats = &profile.json["stats"];
    assert_eq!(stats["first_seen_at"], "2026-11-01T10:00:00Z");
    assert_eq!(stats["last_channel_id"], channel.id.as_str());
    assert_eq!(stats["channels_used"], json!([channel.id]));
    assert_eq!(stats["conversations_open"], 1);
    assert_eq!(stats["conversations_total"], 1);
    assert_eq!(stats["orders_count"], 1);
    assert_eq!(
        stats["total_spent"],
        json!([{"currency": "EUR", "total": "59.9"}])
    );
    assert!(stats["average_csat"].is_null());

    // Assert: a bad timestamp is refused and stores nothing.
    let refused = agent
        .api
        .post(
            "/api/v1/track",
            json!({"userId": "u-42", "event": "page_viewed", "timestamp": "tomorrow"}),
        )
        .await;
    refused.assert_error(422);
    assert_eq!(refused.error_field(), Some("timestamp"));
    let after = agent
        .api
        .list_all(&format!(
            "/api/v1/customers/{customer_id}/timeline?kind=event"
        ))
        .await;
    assert_eq!(after.len(), 4);
}
