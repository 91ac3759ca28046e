//! The editable customer profile end to end: an admin defines attributes, an agent edits a
//! customer (locale, time zone, tags, attributes) and records consent, the agent app hears
//! `customer.updated`, and an Arabic and a Persian spelling of one name at one company are
//! suggested as duplicates until dismissed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Backend, Realtime, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    an_agent_edits_a_profile_records_consent_and_reviews_duplicates,
    invalid_profile_edits_are_refused_and_change_nothing,
);

async fn an_agent_edits_a_profile_records_consent_and_reviews_duplicates(backend: Backend) {
    // Arrange: an owner, an agent of the same workspace, and two customers whose names are one
    // name typed on an Arabic and on a Persian keyboard, both writing from one company domain.
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let password = "correct horse battery staple";
    seam.create_user("Acme", "agent@acme.example", password, "agent");
    let agent = seam.login("agent@acme.example", password).await.api();
    let channel = owner.create_api_channel("Backend", None).await;
    let arabic = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "fatima@acme-corp.example", "name": "فاطمة علي" },
            "text": "السلام عليكم",
        }))
        .await;
    let persian = channel
        .receive(json!({
            "message_id": "m-2",
            "from": { "email": "f.ali@acme-corp.example", "name": "فاطمه علی" },
            "text": "سلام",
        }))
        .await;
    assert_ne!(arabic.customer_id, persian.customer_id);
    let mut realtime = Realtime::connect(&seam.url(""), &owner.token).await;

    // Act: the schema, by the owner; the agent may read it but not extend it.
    for (key, kind) in [
        ("plan", "string"),
        ("renews_on", "date"),
        ("interests", "list"),
    ] {
        let created = owner
            .api
            .post("/api/v1/attributes", json!({ "key": key, "type": kind }))
            .await;
        assert_eq!(created.status, 201, "{created:?}");
    }
    agent
        .post(
            "/api/v1/attributes",
            json!({ "key": "seats", "type": "number" }),
        )
        .await
        .assert_error(403);
    let schema = agent.get("/api/v1/attributes").await;
    assert_eq!(schema.json["items"].as_array().map(Vec::len), Some(3));

    // Act: the agent edits the profile.
    let path = format!("/api/v1/customers/{}", arabic.customer_id);
    let edited = agent
        .patch(
            &path,
            json!({
                "locale": "fa-ir",
                "time_zone": "Asia/Tehran",
                "tags": [" VIP ", "vip", "Wholesale"],
                "attributes": { "plan": "gold", "renews_on": "2027-03-21",
                    "interests": ["saffron", "پسته"] },
            }),
        )
        .await;
    assert_eq!(edited.status, 200, "{edited:?}");
    let removed = agent
        .patch(&path, json!({ "attributes": { "plan": null } }))
        .await;
    assert_eq!(removed.status, 200, "{removed:?}");
    let consent = agent
        .put(
            &format!("{path}/consent/sms"),
            json!({ "status": "opted_out", "source": "import" }),
        )
        .await;
    assert_eq!(consent.status, 200, "{consent:?}");
    let consent = agent
        .put(
            &format!("{path}/consent/whatsapp"),
            json!({ "status": "opted_in" }),
        )
        .await;
    assert_eq!(consent.status, 200, "{consent:?}");

    // Assert: the profile as stored.
    let profile = agent.get(&path).await.json;
    assert_eq!(profile["name"], "فاطمة علي");
    assert_eq!(profile["locale"], "fa-IR");
    assert_eq!(profile["time_zone"], "Asia/Tehran");
    assert_eq!(profile["tags"], json!(["vip", "wholesale"]));
    assert_eq!(
        profile["attributes"],
        json!({ "renews_on": "2027-03-21", "interests": ["saffron", "پسته"] })
    );
    let consents = profile["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 9, "{consents:#?}");
    let consent_of = |kind: &str| -> Value {
        consents
            .iter()
            .find(|consent| consent["channel_kind"] == kind)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(consent_of("sms")["status"], "opted_out");
    assert_eq!(consent_of("sms")["source"], "import");
    assert_eq!(consent_of("whatsapp")["status"], "opted_in");
    assert!(
        consent_of("whatsapp")["source"]
            .as_str()
            .is_some_and(|source| source.starts_with("agent:"))
    );
    assert_eq!(consent_of("email")["status"], "unknown");
    assert_eq!(consent_of("email")["updated_at"], Value::Null);

    // Assert: the agent app heard about it.
    realtime
        .wait_for("customer.updated with the new locale", |event| {
            event["type"] == "customer.updated"
                && event["data"]["id"] == arabic.customer_id.as_str()
                && event["data"]["locale"] == "fa-IR"
        })
        .await;

    // Assert: the two spellings are one suggestion, with both ids and the reason.
    let suggestions = agent.get("/api/v1/customers/duplicates").await;
    assert_eq!(suggestions.status, 200, "{suggestions:?}");
    let items = suggestions.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:#?}");
    let mut ids: Vec<&str> = items[0]["customer_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    ids.sort();
    let mut expected = vec![arabic.customer_id.as_str(), persian.customer_id.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(items[0]["reason"], "same_name_and_email_domain");

    // Act + Assert: once dismissed, the pair is no longer suggested.
    let dismissed = agent
        .post(
            "/api/v1/customers/duplicates/dismiss",
            json!({ "customer_ids": [persian.customer_id, arabic.customer_id] }),
        )
        .await;
    assert_eq!(dismissed.status, 204, "{dismissed:?}");
    let suggestions = agent.get("/api/v1/customers/duplicates").await;
    assert_eq!(suggestions.json["items"], json!([]));
}

async fn invalid_profile_edits_are_refused_and_change_nothing(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Backend", None).await;
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "omar@example.com", "name": "Omar" },
            "text": "Hello",
        }))
        .await;
    let created = owner
        .api
        .post(
            "/api/v1/attributes",
            json!({ "key": "seats", "type": "number" }),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    owner
        .api
        .post(
            "/api/v1/attributes",
            json!({ "key": "seats", "type": "string" }),
        )
        .await
        .assert_error(409);
    let path = format!("/api/v1/customers/{}", received.customer_id);
    let before = owner.api.get(&path).await.json;

    // Act + Assert
    for (edit, field) in [
        (
            json!({ "attributes": { "colour": "red" } }),
            "attributes.colour",
        ),
        (
            json!({ "attributes": { "seats": "twelve" } }),
            "attributes.seats",
        ),
        (
            json!({ "locale": "not a locale", "tags": ["ok"] }),
            "locale",
        ),
        (json!({ "time_zone": "Asia/Atlantis" }), "time_zone"),
        (json!({ "tags": ["x".repeat(65)] }), "tags"),
    ] {
        let response = owner.api.patch(&path, edit.clone()).await;
        response.assert_error(422);
        assert_eq!(response.error_field(), Some(field), "{edit}");
    }
    owner
        .api
        .put(
            &format!("{path}/consent/pigeon"),
            json!({ "status": "opted_in" }),
        )
        .await
        .assert_error(422);
    let after = owner.api.get(&path).await.json;
    assert_eq!(after, before, "refused edits store nothing");
}
