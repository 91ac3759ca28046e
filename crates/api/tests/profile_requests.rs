//! The profile endpoints' 4xx answers through the router with a fake store: attribute schema
//! permissions, conflicts and validation; profile edits, consent and duplicate requests
//! refused before anything is stored.

// A test crate: an unwrap here is an assertion, as clippy.toml allows inside `#[test]`s.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use seam_core::user::Role;
use serde_json::{Value, json};
use support::*;

/// Sends `body` as JSON with `method` to `uri`, logged in as a user of `role`.
struct Client {
    app: axum::Router,
    cookie: String,
    csrf: String,
}

impl Client {
    async fn as_role(role: Role) -> Client {
        let (store, _) = store_with_user(role);
        let app = app(store);
        let (cookie, csrf) = log_in(&app).await;
        Client { app, cookie, csrf }
    }

    async fn send(&self, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/json");
        let request = match body {
            Some(body) => request.body(Body::from(body.to_string())).unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let (status, _, body) = send(&self.app, request).await;
        (status, body)
    }
}

fn field(body: &Value) -> Option<&str> {
    body["error"]["field"].as_str()
}

#[tokio::test]
async fn only_admins_and_owners_define_attributes_and_a_taken_key_is_a_409() {
    let agent = Client::as_role(Role::Agent).await;
    let plan = json!({"key": "plan", "type": "string", "label": "Plan"});
    let (status, body) = agent
        .send("POST", "/api/v1/attributes", Some(plan.clone()))
        .await;
    assert_eq!(status, 403, "{body}");

    let admin = Client::as_role(Role::Admin).await;
    let (status, body) = admin
        .send("POST", "/api/v1/attributes", Some(plan.clone()))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["key"], "plan");
    assert_eq!(body["type"], "string");
    let (status, body) = admin.send("POST", "/api/v1/attributes", Some(plan)).await;
    assert_eq!(status, 409, "{body}");

    let (status, body) = admin.send("GET", "/api/v1/attributes", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn malformed_attribute_definitions_are_422_naming_the_field() {
    let owner = Client::as_role(Role::Owner).await;
    for (definition, expected) in [
        (json!({"key": "Plan", "type": "string"}), "key"),
        (json!({"key": "2fa", "type": "string"}), "key"),
        (json!({"key": "plan", "type": "colour"}), "type"),
        (
            json!({"key": "plan", "type": "string", "label": "x".repeat(201)}),
            "label",
        ),
        (
            json!({"key": "plan", "type": "string", "extra": 1}),
            "extra",
        ),
    ] {
        let (status, body) = owner
            .send("POST", "/api/v1/attributes", Some(definition.clone()))
            .await;
        assert_eq!(status, 422, "{definition}: {body}");
        assert_eq!(field(&body), Some(expected), "{definition}: {body}");
    }
}

#[tokio::test]
async fn invalid_profile_edits_are_422_naming_the_field() {
    let agent = Client::as_role(Role::Agent).await;
    let id = uuid::Uuid::now_v7();
    let uri = format!("/api/v1/customers/{id}");
    for (edit, expected) in [
        (json!({"locale": "english-"}), "locale"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"tags": ["   "]}), "tags"),
        (json!({"tags": ["x".repeat(65)]}), "tags"),
        (
            json!({"tags": (0..51).map(|n| format!("t{n}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"nickname": "Lay"}), "nickname"),
    ] {
        let (status, body) = agent.send("PATCH", &uri, Some(edit.clone())).await;
        assert_eq!(status, 422, "{edit}: {body}");
        assert_eq!(field(&body), Some(expected), "{edit}: {body}");
    }
    // A body of the wrong shape is the API's usual 400, still naming the field.
    let shape = json!({"attributes": ["not", "an", "object"]});
    let (status, body) = agent.send("PATCH", &uri, Some(shape)).await;
    assert_eq!((status, field(&body)), (400, Some("attributes")), "{body}");
}

#[tokio::test]
async fn invalid_consent_requests_are_422_naming_the_field() {
    let agent = Client::as_role(Role::Agent).await;
    let id = uuid::Uuid::now_v7();
    let cases = [
        ("api", json!({"status": "opted_in"}), "channel_kind"),
        ("fax", json!({"status": "opted_in"}), "channel_kind"),
        ("sms", json!({"status": "maybe"}), "status"),
        (
            "sms",
            json!({"status": "opted_in", "source": "x".repeat(201)}),
            "source",
        ),
    ];
    for (kind, request, expected) in cases {
        let uri = format!("/api/v1/customers/{id}/consent/{kind}");
        let (status, body) = agent.send("PUT", &uri, Some(request.clone())).await;
        assert_eq!(status, 422, "{kind} {request}: {body}");
        assert_eq!(field(&body), Some(expected), "{kind} {request}: {body}");
    }
    let uri = format!("/api/v1/customers/{id}/consent/sms");
    let (status, body) = agent.send("PUT", &uri, Some(json!({}))).await;
    assert_eq!(status, 400, "a body without status: {body}");
}

#[tokio::test]
async fn duplicate_requests_check_cursor_limit_and_the_pair() {
    let agent = Client::as_role(Role::Agent).await;
    let (status, body) = agent
        .send("GET", "/api/v1/customers/duplicates", None)
        .await;
    assert_eq!(
        (status, &body),
        (200, &json!({"items": [], "next_cursor": null}))
    );
    for (uri, expected) in [
        ("/api/v1/customers/duplicates?cursor=garbage", "cursor"),
        ("/api/v1/customers/duplicates?limit=0", "limit"),
        ("/api/v1/customers/duplicates?limit=many", "limit"),
    ] {
        let (status, body) = agent.send("GET", uri, None).await;
        assert_eq!(status, 422, "{uri}: {body}");
        assert_eq!(field(&body), Some(expected), "{uri}");
    }

    let one = uuid::Uuid::now_v7();
    let dismiss = "/api/v1/customers/duplicates/dismiss";
    for ids in [json!([one]), json!([one, one]), json!([one, one, one])] {
        let (status, body) = agent
            .send("POST", dismiss, Some(json!({ "customer_ids": ids })))
            .await;
        assert_eq!(status, 422, "{ids}: {body}");
        assert_eq!(field(&body), Some("customer_ids"));
    }
    let unknown = json!({"customer_ids": [one, uuid::Uuid::now_v7()]});
    let (status, _) = agent.send("POST", dismiss, Some(unknown)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_openapi_document_lists_the_profile_paths() {
    let agent = Client::as_role(Role::Agent).await;
    let (status, body) = agent.send("GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    let paths = body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/attributes",
        "/api/v1/customers/duplicates",
        "/api/v1/customers/duplicates/dismiss",
        "/api/v1/customers/{id}/consent/{channel_kind}",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    assert!(paths["/api/v1/customers/{id}"]["patch"].is_object());
    assert!(paths["/api/v1/attributes"]["post"].is_object());
}
