//! The tracking endpoints' refusals without a database: every bad call is answered 4xx with
//! the offending field before anything is stored.

// A test crate: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use seam_core::user::Role;
use serde_json::json;
use support::*;

/// An app with one agent and an API token of theirs.
async fn app_and_token() -> (axum::Router, String) {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    let request = post_json("/api/v1/auth/tokens")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::from(r#"{"name": "shop backend"}"#))
        .unwrap();
    let (_, _, json) = send(&app, request).await;
    (app, json["token"].as_str().unwrap().to_string())
}

async fn post(
    app: &axum::Router,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let request = post_json(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, json) = send(app, request).await;
    (status, json)
}

#[tokio::test]
async fn a_track_call_without_user_or_anonymous_id_is_refused_naming_the_field() {
    let (app, token) = app_and_token().await;

    let (status, json) = post(
        &app,
        &token,
        "/api/v1/track",
        json!({"event": "page_viewed"}),
    )
    .await;

    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["field"], "userId");
}

#[tokio::test]
async fn a_timestamp_that_is_not_rfc_3339_is_refused_naming_the_field() {
    let (app, token) = app_and_token().await;

    let (status, json) = post(
        &app,
        &token,
        "/api/v1/identify",
        json!({"userId": "u-1", "timestamp": "last tuesday"}),
    )
    .await;

    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["field"], "timestamp");
}

#[tokio::test]
async fn an_order_event_without_its_order_id_is_refused() {
    let (app, token) = app_and_token().await;

    let (status, json) = post(
        &app,
        &token,
        "/api/v1/track",
        json!({"userId": "u-1", "event": "order_shipped", "properties": {"total": 3}}),
    )
    .await;

    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["field"], "properties.order_id");
}

#[tokio::test]
async fn a_batch_of_more_than_500_calls_is_refused_whole() {
    let (app, token) = app_and_token().await;
    let call = json!({"type": "track", "userId": "u-1", "event": "page_viewed"});
    let batch: Vec<_> = (0..501).map(|_| call.clone()).collect();

    let (status, json) = post(&app, &token, "/api/v1/batch", json!({ "batch": batch })).await;

    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["field"], "batch");
}

#[tokio::test]
async fn a_batch_reports_each_unreadable_call_by_its_index() {
    let (app, token) = app_and_token().await;
    let batch = json!({"batch": [
        {"type": "page", "userId": "u-1"},
        {"type": "track", "event": "page_viewed"},
        {"type": "track", "userId": "u-1", "event": "x", "timestamp": "soon"},
        {"type": "track", "userId": 7, "event": "x"},
    ]});

    let (status, json) = post(&app, &token, "/api/v1/batch", batch).await;

    assert_eq!(status, 200, "{json}");
    let results: Vec<(u64, &str, &str)> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            (
                result["index"].as_u64().unwrap(),
                result["status"].as_str().unwrap(),
                result["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (0, "rejected", "type"),
            (1, "rejected", "userId"),
            (2, "rejected", "timestamp"),
            (3, "rejected", "userId"),
        ]
    );
}

#[tokio::test]
async fn tracking_without_a_credential_is_unauthorized() {
    let app = app(std::sync::Arc::new(FakeStore::default()));
    let request = post_json("/api/v1/track")
        .body(Body::from(r#"{"userId": "u-1", "event": "x"}"#))
        .unwrap();

    let (status, _, _) = send(&app, request).await;

    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_unknown_timeline_kind_is_refused_naming_the_parameter() {
    let (app, token) = app_and_token().await;
    let id = uuid::Uuid::now_v7();
    let request = get(&format!("/api/v1/customers/{id}/timeline?kind=call"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();

    let (status, _, json) = send(&app, request).await;

    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"]["field"], "kind");
}
