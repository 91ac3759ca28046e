//! The conversation loop end to end: a customer writes through the API channel, an agent sees
//! it listed and pushed, answers, and the answer reaches the integrator's webhook, signed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Backend, Realtime, WebhookReceiver, signature_problem, spawn_seam};
use serde_json::json;

on_both_backends!(
    an_inbound_message_is_listed_pushed_and_answered_through_the_signed_webhook,
    the_same_message_id_twice_stores_one_message,
    a_customer_known_by_email_who_then_writes_by_phone_stays_in_one_conversation,
    a_message_on_another_channel_joins_the_customers_open_conversation,
);

async fn an_inbound_message_is_listed_pushed_and_answered_through_the_signed_webhook(
    backend: Backend,
) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let receiver = WebhookReceiver::start().await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent
        .create_api_channel("Shop backend", Some(&receiver.url))
        .await;
    let mut realtime = Realtime::connect(&seam.base_url, &agent.token).await;

    // Act: the customer writes.
    let received = channel
        .receive(json!({
            "message_id": "order-1001-msg-1",
            "from": { "email": "  Layla.Haddad@Example.COM ", "name": "Layla Haddad" },
            "text": "Where is my order 1001?",
        }))
        .await;

    // Assert: listed, with the customer's normalised identity, and pushed to the agent.
    let conversations = agent.conversations().await;
    let listed = conversations
        .iter()
        .find(|conversation| conversation["id"] == received.conversation_id.as_str())
        .unwrap_or_else(|| panic!("conversation not listed: {conversations:#?}"));
    assert_eq!(listed["customer_id"], received.customer_id.as_str());
    assert_eq!(listed["status"], "open");
    let customer = agent
        .api
        .get(&format!("/api/v1/customers/{}", received.customer_id))
        .await;
    assert_eq!(customer.status, 200, "{customer:?}");
    assert_eq!(customer.json["name"], "Layla Haddad");
    let identities = customer.json["identities"].as_array().unwrap();
    assert!(
        identities.iter().any(|identity| identity["kind"] == "email"
            && identity["value"] == "layla.haddad@example.com"),
        "email not normalised: {identities:#?}"
    );
    let messages = agent.messages(&received.conversation_id).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["id"], received.message_id.as_str());
    assert_eq!(messages[0]["kind"], "inbound");
    assert_eq!(messages[0]["text"], "Where is my order 1001?");
    let pushed = realtime
        .wait_for("message.created for the inbound message", |event| {
            event["type"] == "message.created"
                && event["data"]["id"] == received.message_id.as_str()
        })
        .await;
    assert_eq!(pushed["workspace_id"], agent.workspace_id.as_str());
    assert_eq!(
        pushed["data"]["conversation_id"],
        received.conversation_id.as_str()
    );
    realtime
        .wait_for("conversation.created for the new conversation", |event| {
            event["type"] == "conversation.created"
                && event["data"]["id"] == received.conversation_id.as_str()
        })
        .await;

    // Act: the agent answers.
    let reply = agent
        .reply(&received.conversation_id, "It ships tomorrow.")
        .await;

    // Assert: delivered to the webhook, signed with the channel secret, and marked sent.
    let reply_id = reply["id"].as_str().unwrap().to_string();
    assert_eq!(reply["kind"], "outbound");
    assert_eq!(reply["channel_id"], channel.id.as_str());
    let delivery = receiver
        .wait_for("the reply at the webhook", |request| {
            request.delivers(&reply_id)
        })
        .await;
    assert!(
        delivery.body_text().contains("It ships tomorrow."),
        "{}",
        delivery.body_text()
    );
    assert!(
        delivery.json().is_object(),
        "webhook body is not JSON: {}",
        delivery.body_text()
    );
    assert_eq!(signature_problem(&delivery, &channel.secret), None);
    let sent = agent
        .wait_for_delivery_status(&received.conversation_id, &reply_id, "sent")
        .await;
    assert!(sent["delivery_error"].is_null(), "{sent:#?}");
    realtime
        .wait_for("message.created for the reply", |event| {
            event["type"] == "message.created" && event["data"]["id"] == reply_id.as_str()
        })
        .await;
    realtime
        .wait_for("message.updated saying the reply was sent", |event| {
            event["type"] == "message.updated"
                && event["data"]["id"] == reply_id.as_str()
                && event["data"]["delivery_status"] == "sent"
        })
        .await;
}

async fn the_same_message_id_twice_stores_one_message(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let message = json!({
        "message_id": "provider-retry-7",
        "from": { "email": "omid@example.com" },
        "text": "سلام، سفارش من کجاست؟",
    });

    // Act: the provider retries the same delivery.
    let first = channel.receive(message.clone()).await;
    let second = channel.receive(message).await;

    // Assert: the same ids, one message.
    assert_eq!(first, second);
    let messages = agent.messages(&first.conversation_id).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["text"], "سلام، سفارش من کجاست؟");
    assert_eq!(agent.conversations().await.len(), 1);
    assert_eq!(agent.customers().await.len(), 1);
}

async fn a_customer_known_by_email_who_then_writes_by_phone_stays_in_one_conversation(
    backend: Backend,
) {
    // Arrange: the customer is known by email.
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let known = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "sara@example.com" },
            "text": "Hello, I need help with a return.",
        }))
        .await;

    // Act: the customer writes with email and phone, then with the phone only.
    let with_both = channel
        .receive(json!({
            "message_id": "m-2",
            "from": { "email": "sara@example.com", "phone": "+1 (650) 253-0000" },
            "text": "Here is my number too.",
        }))
        .await;
    let by_phone = channel
        .receive(json!({
            "message_id": "m-3",
            "from": { "phone": "+16502530000" },
            "text": "Writing from my phone now.",
        }))
        .await;

    // Assert: one customer, one open conversation, three messages, both identities.
    assert_eq!(with_both.customer_id, known.customer_id);
    assert_eq!(by_phone.customer_id, known.customer_id);
    assert_eq!(with_both.conversation_id, known.conversation_id);
    assert_eq!(by_phone.conversation_id, known.conversation_id);
    let conversations = agent.conversations().await;
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert_eq!(conversations[0]["status"], "open");
    assert_eq!(agent.messages(&known.conversation_id).await.len(), 3);
    let customer = agent
        .api
        .get(&format!("/api/v1/customers/{}", known.customer_id))
        .await;
    let identities = customer.json["identities"].as_array().unwrap();
    assert!(
        identities
            .iter()
            .any(|i| i["kind"] == "email" && i["value"] == "sara@example.com")
    );
    assert!(
        identities
            .iter()
            .any(|i| i["kind"] == "phone" && i["value"] == "+16502530000"),
        "phone not stored in E.164: {identities:#?}"
    );
    let by_phone_search = agent.api.get("/api/v1/customers?q=%2B16502530000").await;
    assert_eq!(by_phone_search.status, 200);
    let found = by_phone_search.json["items"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["id"], known.customer_id.as_str());
}

async fn a_message_on_another_channel_joins_the_customers_open_conversation(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let shop = agent.create_api_channel("Shop backend", None).await;
    let app = agent.create_api_channel("Mobile app", None).await;
    let first = shop
        .receive(json!({
            "message_id": "shop-1",
            "from": { "email": "karim@example.com" },
            "text": "I started a return on the website.",
        }))
        .await;

    // Act
    let second = app
        .receive(json!({
            "message_id": "app-1",
            "from": { "email": "KARIM@example.com" },
            "text": "Following up from the app.",
        }))
        .await;

    // Assert: one conversation, each message showing the channel it came by.
    assert_eq!(second.conversation_id, first.conversation_id);
    let messages = agent.messages(&first.conversation_id).await;
    let channel_of = |id: &str| {
        messages.iter().find(|message| message["id"] == id).unwrap()["channel_id"].clone()
    };
    assert_eq!(channel_of(&first.message_id), shop.id.as_str());
    assert_eq!(channel_of(&second.message_id), app.id.as_str());
    let by_channel = agent
        .api
        .list_all(&format!("/api/v1/conversations?channel={}", app.id))
        .await;
    assert_eq!(by_channel.len(), 1);
    assert_eq!(by_channel[0]["id"], first.conversation_id.as_str());
}
