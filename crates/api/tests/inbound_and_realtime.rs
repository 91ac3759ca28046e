//! The API channel's inbound endpoint (secret first, then the body) and the agents' WebSocket,
//! through the router with in-memory fakes of the store and the bus.

// Helpers below are test code too: a failing fixture should fail its test.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use futures::StreamExt;
use seam_core::{
    channel::{Channel, ChannelKind},
    ids::{ChannelId, WorkspaceId},
    realtime::RealtimeEvent,
    user::Role,
};
use support::*;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const SECRET: &str = "channel-secret";

fn store_with_api_channel() -> (Arc<FakeStore>, ChannelId) {
    let channel = Channel {
        id: ChannelId::new(),
        workspace_id: WorkspaceId::new(),
        kind: ChannelKind::Api,
        name: "Shop".into(),
        config: serde_json::json!({}),
        secret: SECRET.into(),
        credentials: String::new(),
        created_at: chrono::Utc::now(),
    };
    let id = channel.id;
    (
        Arc::new(FakeStore {
            channels: Mutex::new(vec![channel]),
            ..Default::default()
        }),
        id,
    )
}

async fn post_inbound(bearer: &str, body: &str) -> (u16, serde_json::Value) {
    let (store, id) = store_with_api_channel();
    let request = post_json(&format!("/api/v1/channels/{id}/inbound"))
        .header("authorization", format!("Bearer {bearer}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, body) = send(&app(store), request).await;
    (status, body)
}

#[tokio::test]
async fn a_wrong_secret_is_refused_before_the_body_is_read() {
    let (status, body) = post_inbound("wrong", "this is not json").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn an_unknown_channel_looks_like_a_wrong_secret_and_a_malformed_id_is_not_found() {
    let (store, _) = store_with_api_channel();
    let app = app(store);
    let uri = format!("/api/v1/channels/{}/inbound", ChannelId::new());
    let request = post_json(&uri)
        .header("authorization", "Bearer x")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&app, request).await.0, 401);
    let request = post_json("/api/v1/channels/nope/inbound")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&app, request).await.0, 404);
}

#[tokio::test]
async fn with_the_right_secret_malformed_json_is_a_400() {
    let (status, body) = post_inbound(SECRET, r#"{"message_id": "m1", "#).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
}

#[tokio::test]
async fn with_the_right_secret_a_wrong_type_is_a_400_naming_the_field() {
    let body = r#"{"message_id": "m1", "text": ["hi"], "from": {"email": "a@example.com"}}"#;
    let (status, body) = post_inbound(SECRET, body).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_body"))
    );
    assert_eq!(body["error"]["field"], "text");
}

#[tokio::test]
async fn an_unknown_field_in_from_is_a_422_naming_it() {
    let body = r#"{"message_id": "m1", "text": "hi", "from": {"email": "a@example.com", "twitter": "@a"}}"#;
    let (status, body) = post_inbound(SECRET, body).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
    assert_eq!(body["error"]["field"], "from.twitter");
}

#[tokio::test]
async fn a_sender_without_any_address_is_a_422_from_core() {
    let body = r#"{"message_id": "m1", "text": "hi", "from": {"name": "Ana"}}"#;
    let (status, body) = post_inbound(SECRET, body).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("from"))
    );
}

/// Serves the router on a random local port and returns its address.
async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

#[tokio::test]
async fn the_realtime_socket_relays_only_its_workspaces_events_as_json_frames() {
    let (store, user) = store_with_user(Role::Agent);
    let mine = RealtimeEvent {
        workspace_id: user.workspace_id,
        topic: "conversation.updated".into(),
        data: serde_json::json!({"id": "c1"}),
    };
    let theirs = RealtimeEvent {
        workspace_id: WorkspaceId::new(),
        ..mine.clone()
    };
    let bus = FakeBus {
        events: vec![theirs, mine],
    };
    let app = app_with(store, bus, Default::default(), None);
    let (cookie, _) = log_in(&app).await;
    let address = serve(app).await;

    let mut request = format!("ws://{address}/api/v1/realtime")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", format!("http://{address}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let tungstenite::Message::Text(text) = frame else {
        panic!("expected text, got {frame:?}")
    };
    let json: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "type": "conversation.updated",
            "workspace_id": user.workspace_id.to_string(),
            "data": {"id": "c1"}
        })
    );
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn a_cross_origin_realtime_handshake_is_forbidden() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, _) = log_in(&app).await;
    let address = serve(app).await;
    let mut request = format!("ws://{address}/api/v1/realtime")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    let tungstenite::Error::Http(response) = error else {
        panic!("expected an HTTP refusal: {error}")
    };
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_plain_get_on_the_realtime_endpoint_asks_for_a_websocket() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, _) = log_in(&app).await;
    let request = get("/api/v1/realtime")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("websocket_required"))
    );
}
