//! One customer over HTTP: automatic merges on a shared identity, manual merge and undo,
//! conflicts listed for review, junk identities ignored with a reason, and the workspace's
//! identity rules guarded by role.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Agent, Backend, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    an_agent_merges_two_customers_and_undoes_it_with_every_identity_back_in_place,
    two_external_ids_sharing_an_email_stay_apart_and_the_conflict_waits_for_review,
    junk_addresses_are_ignored_with_a_reason_and_a_blocked_address_alone_is_refused,
    orders_and_events_follow_a_merge_and_go_back_with_its_undo,
);

async fn customer(agent: &Agent, id: &str) -> Value {
    let response = agent.api.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(response.status, 200, "{response:?}");
    response.json
}

fn identity_values(customer: &Value) -> Vec<String> {
    let mut values: Vec<String> = customer["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|identity| identity["value"].as_str().unwrap().to_string())
        .collect();
    values.sort();
    values
}

async fn an_agent_merges_two_customers_and_undoes_it_with_every_identity_back_in_place(
    backend: Backend,
) {
    // Arrange: the same person wrote once by email and once by phone.
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Shop", None).await;
    let by_email = channel
        .receive(json!({"message_id": "m-1", "from": {"email": "sara@example.com", "name": "Sara"}, "text": "Hi"}))
        .await;
    let by_phone = channel
        .receive(json!({"message_id": "m-2", "from": {"phone": "+1 650 253 0000"}, "text": "It's Sara again"}))
        .await;
    assert_ne!(by_email.customer_id, by_phone.customer_id);

    // Act: merge the phone customer into the email one.
    let merged = owner
        .api
        .post(
            &format!("/api/v1/customers/{}/merge", by_email.customer_id),
            json!({"customer_id": by_phone.customer_id}),
        )
        .await;

    // Assert: one profile with both addresses, the other marked and out of the list.
    assert_eq!(merged.status, 201, "{merged:?}");
    let merge_id = merged.json["id"].as_str().unwrap().to_string();
    assert_eq!(merged.json["moved_identities"], 1);
    let survivor = customer(&owner, &by_email.customer_id).await;
    assert_eq!(
        identity_values(&survivor),
        ["+16502530000", "sara@example.com"]
    );
    let absorbed = customer(&owner, &by_phone.customer_id).await;
    assert_eq!(absorbed["merged_into_id"], by_email.customer_id.as_str());
    let listed: Vec<Value> = owner.customers().await;
    assert!(
        listed
            .iter()
            .all(|c| c["id"] != by_phone.customer_id.as_str()),
        "a merged-away customer is still listed"
    );
    let messages = owner.messages(&by_email.conversation_id).await;
    assert_eq!(
        messages.len(),
        2,
        "the open conversations were joined: {messages:#?}"
    );
    let log = owner
        .api
        .get(&format!(
            "/api/v1/customers/{}/resolution",
            by_email.customer_id
        ))
        .await;
    assert_eq!(log.status, 200, "{log:?}");
    let entry = &log.json["items"][0];
    assert_eq!(entry["action"], "merged");
    assert_eq!(entry["rule"], "manual");
    assert!(entry["explanation"].as_str().unwrap().contains("agent"));

    // Act: a message through the phone arrives, then the merge is undone.
    let later = channel
        .receive(
            json!({"message_id": "m-3", "from": {"phone": "+16502530000"}, "text": "Still there?"}),
        )
        .await;
    let undone = owner
        .api
        .post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
        .await;
    let again = owner
        .api
        .post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
        .await;

    // Assert: both customers as before; the later message went back with the phone.
    assert_eq!(later.customer_id, by_email.customer_id);
    assert_eq!(undone.status, 200, "{undone:?}");
    assert!(undone.json["undone_at"].is_string());
    again.assert_error(409);
    assert_eq!(
        identity_values(&customer(&owner, &by_email.customer_id).await),
        ["sara@example.com"]
    );
    let restored = customer(&owner, &by_phone.customer_id).await;
    assert_eq!(identity_values(&restored), ["+16502530000"]);
    assert!(restored["merged_into_id"].is_null());
    let phone_thread: Vec<String> = owner
        .messages(&by_phone.conversation_id)
        .await
        .iter()
        .map(|message| message["id"].as_str().unwrap().to_string())
        .collect();
    assert!(phone_thread.contains(&later.message_id), "{phone_thread:?}");
    assert!(
        phone_thread.contains(&by_phone.message_id),
        "{phone_thread:?}"
    );
    assert_eq!(owner.messages(&by_email.conversation_id).await.len(), 1);
}

async fn two_external_ids_sharing_an_email_stay_apart_and_the_conflict_waits_for_review(
    backend: Backend,
) {
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Shop", None).await;
    let first = channel
        .receive(json!({"message_id": "m-1", "from": {"external_id": "u-1", "email": "family@example.com"}, "text": "Hi"}))
        .await;

    let second = channel
        .receive(json!({"message_id": "m-2", "from": {"external_id": "u-2", "email": "family@example.com"}, "text": "Hello"}))
        .await;

    assert_ne!(first.customer_id, second.customer_id);
    let conflicts = owner.api.get("/api/v1/identity-conflicts").await;
    assert_eq!(conflicts.status, 200, "{conflicts:?}");
    let items = conflicts.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["rule"], "external_id_mismatch");
    assert_eq!(items[0]["identity_value"], "family@example.com");
    assert_eq!(items[0]["other_customer_id"], first.customer_id.as_str());
    let refused = owner
        .api
        .post(
            &format!("/api/v1/customers/{}/merge", first.customer_id),
            json!({"customer_id": second.customer_id}),
        )
        .await;
    refused.assert_error(422);
    assert!(
        refused.error_message().contains("external id"),
        "{refused:?}"
    );

    let conflict_id = items[0]["id"].as_str().unwrap();
    let reviewed = owner
        .api
        .post(
            &format!("/api/v1/identity-conflicts/{conflict_id}/review"),
            json!({}),
        )
        .await;
    assert_eq!(reviewed.status, 204, "{reviewed:?}");
    let after = owner.api.get("/api/v1/identity-conflicts").await;
    assert!(after.json["items"].as_array().unwrap().is_empty());
}

async fn junk_addresses_are_ignored_with_a_reason_and_a_blocked_address_alone_is_refused(
    backend: Backend,
) {
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Shop", None).await;
    seam.create_user("Acme", "agent@acme.example", "agent password 1", "agent");
    let agent_session = seam.login("agent@acme.example", "agent password 1").await;
    let agent_token = agent_session.create_token("e2e").await;
    let agent = harness::Api::bearer(&seam.base_url, &agent_token);

    let accepted = channel
        .post_inbound(json!({"message_id": "m-1", "from": {"email": "test@test.com", "external_id": "undefined", "phone": "+16502530000"}, "text": "Hi"}))
        .await;
    let by_agent = agent
        .put(
            "/api/v1/settings/identity-rules",
            json!({"blocked": ["support@acme.example"]}),
        )
        .await;
    let by_owner = owner
        .api
        .put(
            "/api/v1/settings/identity-rules",
            json!({"limits": {"email": 3}, "blocked": ["support@acme.example"]}),
        )
        .await;
    let blocked_only = channel
        .post_inbound(
            json!({"message_id": "m-2", "from": {"email": "Support@Acme.example"}, "text": "Auto"}),
        )
        .await;

    assert_eq!(accepted.status, 202, "{accepted:?}");
    let ignored: Vec<&str> = accepted.json["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ignored| ignored["field"].as_str().unwrap())
        .collect();
    assert_eq!(ignored, ["from.email", "from.external_id"]);
    let held = customer(&owner, accepted.json["customer_id"].as_str().unwrap()).await;
    assert_eq!(identity_values(&held), ["+16502530000"]);
    by_agent.assert_error(403);
    assert_eq!(by_owner.status, 200, "{by_owner:?}");
    assert_eq!(by_owner.json["limits"]["email"], 3);
    assert_eq!(by_owner.json["limits"]["external_id"], 1);
    blocked_only.assert_error(422);
    assert_eq!(blocked_only.error_field(), Some("from"));
    assert!(
        blocked_only.error_message().contains("blocked"),
        "{blocked_only:?}"
    );
}

async fn orders_and_events_follow_a_merge_and_go_back_with_its_undo(backend: Backend) {
    // Arrange: a shop account with an order, and the same person writing from an email.
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Mail", None).await;
    let identified = owner
        .api
        .post(
            "/api/v1/identify",
            json!({"userId": "shop-7", "traits": {"email": "null", "name": "Reza"}}),
        )
        .await;
    assert_eq!(identified.status, 200, "{identified:?}");
    assert_eq!(identified.json["ignored"][0]["field"], "traits.email");
    let account = identified.json["customer_id"].as_str().unwrap().to_string();
    let ordered = owner
        .api
        .post(
            "/api/v1/track",
            json!({"userId": "shop-7", "event": "order_placed",
                   "properties": {"order_id": "O-9", "total": 12, "currency": "USD"}}),
        )
        .await;
    assert_eq!(ordered.status, 200, "{ordered:?}");
    let by_email = channel
        .receive(json!({"message_id": "m-1", "from": {"email": "reza@example.com"}, "text": "Where is O-9?"}))
        .await;
    let returned = owner
        .api
        .post(
            "/api/v1/track",
            json!({"userId": "shop-7", "event": "return_requested",
                   "properties": {"return_id": "R-1", "order_id": "O-9"}}),
        )
        .await;
    assert_eq!(returned.status, 200, "{returned:?}");

    // Act: the agent merges the shop account into the email customer.
    let merged = owner
        .api
        .post(
            &format!("/api/v1/customers/{}/merge", by_email.customer_id),
            json!({"customer_id": account}),
        )
        .await;
    assert_eq!(merged.status, 201, "{merged:?}");
    let merged_orders = owner
        .api
        .get(&format!(
            "/api/v1/customers/{}/orders",
            by_email.customer_id
        ))
        .await;
    let merged_timeline = owner
        .api
        .list_all(&format!(
            "/api/v1/customers/{}/timeline",
            by_email.customer_id
        ))
        .await;
    let merged_profile = customer(&owner, &by_email.customer_id).await;
    let merge_id = merged.json["id"].as_str().unwrap();
    let undone = owner
        .api
        .post(&format!("/api/v1/merges/{merge_id}/undo"), json!({}))
        .await;

    // Assert: one customer saw the order, the return, the events and the message; the undo
    // gave the account its order, return and events back.
    assert_eq!(merged_orders.json["orders"][0]["order_id"], "O-9");
    assert_eq!(merged_orders.json["returns"][0]["return_id"], "R-1");
    assert_eq!(merged_timeline.len(), 4, "{merged_timeline:#?}");
    assert_eq!(merged_profile["name"], "Reza");
    assert_eq!(undone.status, 200, "{undone:?}");
    let account_orders = owner
        .api
        .get(&format!("/api/v1/customers/{account}/orders"))
        .await;
    assert_eq!(account_orders.json["orders"][0]["order_id"], "O-9");
    assert_eq!(account_orders.json["returns"][0]["return_id"], "R-1");
    let email_orders = owner
        .api
        .get(&format!(
            "/api/v1/customers/{}/orders",
            by_email.customer_id
        ))
        .await;
    assert!(email_orders.json["orders"].as_array().unwrap().is_empty());
    let account_timeline = owner
        .api
        .list_all(&format!("/api/v1/customers/{account}/timeline"))
        .await;
    assert_eq!(account_timeline.len(), 3, "{account_timeline:#?}");
    assert!(customer(&owner, &by_email.customer_id).await["name"].is_null());
}
