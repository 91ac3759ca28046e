//! The HTTP surface without a database: operational endpoints, the JSON error shape of every
//! kind of rejection, request ids, limits, timeouts and the OpenAPI document.

mod support;

use std::{sync::Arc, time::Duration};

use axum::body::Body;
use seam_api::ApiConfig;
use support::*;

#[tokio::test]
async fn healthz_answers_ok_and_readyz_follows_the_database() {
    let app = app(Arc::new(FakeStore::default()));
    let (status, _, body) = send(&app, get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, _, _) = send(&app, get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);

    let down = FakeStore {
        ping_delay: Some(Duration::ZERO),
        ..Default::default()
    };
    let app = support::app(Arc::new(down));
    let (status, _, body) = send(&app, get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable"))
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_not_raw_path() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let app = app_with(
        Arc::new(FakeStore::default()),
        FakeBus::default(),
        ApiConfig::default(),
        Some(handle),
    );
    let id = uuid::Uuid::now_v7();
    let request = get(&format!("/api/v1/conversations/{id}"))
        .body(Body::empty())
        .unwrap();
    send(&app, request).await;
    send(&app, get("/healthz").body(Body::empty()).unwrap()).await;

    let (status, headers, body) = send(&app, get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = body.as_str().unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains(r#"route="/api/v1/conversations/{id}""#),
        "{text}"
    );
    assert!(text.contains(r#"status="401""#), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(
        !text.contains(&id.to_string()),
        "raw ids must not become labels"
    );
}

#[tokio::test]
async fn metrics_without_a_handle_are_not_found() {
    let app = app(Arc::new(FakeStore::default()));
    let (status, _, body) = send(&app, get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_json_error_shape() {
    let app = app(Arc::new(FakeStore::default()));
    let (status, _, body) = send(&app, get("/api/v1/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let request = axum::http::Request::delete("/healthz")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn a_request_id_is_generated_when_absent_and_kept_when_given() {
    let app = app(Arc::new(FakeStore::default()));
    let (_, headers, _) = send(&app, get("/healthz").body(Body::empty()).unwrap()).await;
    let generated = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    let request = get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&app, request).await;
    assert_eq!(headers["x-request-id"], "abc-123");
}

#[tokio::test]
async fn api_endpoints_without_credentials_are_unauthorized() {
    let app = app(Arc::new(FakeStore::default()));
    for uri in [
        "/api/v1/conversations",
        "/api/v1/customers",
        "/api/v1/channels",
        "/api/v1/realtime",
    ] {
        let (status, _, body) = send(&app, get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{uri}"
        );
    }
    let request = get("/api/v1/conversations")
        .header("authorization", "Bearer seam_unknown")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_reason() {
    let app = app(Arc::new(FakeStore::default()));
    let request = post_json("/api/v1/auth/login")
        .body(Body::from("{\"email\": "))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert!(
        body["error"]["message"].as_str().unwrap().contains("EOF"),
        "{body}"
    );

    let request = post_json("/api/v1/auth/login")
        .body(Body::from(r#"{"email": 1}"#))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_body"))
    );
    assert_eq!(body["error"]["field"], "email");
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_refused() {
    let app = app(Arc::new(FakeStore::default()));
    let request = axum::http::Request::post("/api/v1/auth/login")
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_in_our_shape() {
    let config = ApiConfig {
        max_body_bytes: 64,
        ..Default::default()
    };
    let app = app_with(
        Arc::new(FakeStore::default()),
        FakeBus::default(),
        config,
        None,
    );
    let big =
        serde_json::json!({"email": "a@example.com", "password": "x".repeat(200)}).to_string();
    let request = post_json("/api/v1/auth/login")
        .body(Body::from(big))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test]
async fn a_slow_request_times_out_in_our_shape() {
    let slow = FakeStore {
        ping_delay: Some(Duration::from_millis(500)),
        ..Default::default()
    };
    let config = ApiConfig {
        request_timeout: Duration::from_millis(50),
        ..Default::default()
    };
    let app = app_with(Arc::new(slow), FakeBus::default(), config, None);
    let (status, headers, body) = send(&app, get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (408, Some("timeout"))
    );
    assert!(headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn a_malformed_id_in_a_path_is_not_found() {
    let (store, _) = store_with_user(seam_core::user::Role::Agent);
    let app = app(store);
    let (cookie, _) = log_in(&app).await;
    for uri in ["/api/v1/conversations/not-a-uuid", "/api/v1/customers/42"] {
        let request = get(uri)
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn bad_query_values_are_422_naming_the_parameter() {
    let (store, _) = store_with_user(seam_core::user::Role::Agent);
    let app = app(store);
    let (cookie, _) = log_in(&app).await;
    let cases = [
        ("/api/v1/conversations?limit=ten", "limit"),
        ("/api/v1/conversations?limit=1000", "limit"),
        ("/api/v1/conversations?assignee=bob", "assignee"),
        ("/api/v1/conversations?status=closed", "status"),
        ("/api/v1/conversations?cursor=garbage", "cursor"),
        ("/api/v1/customers?cursor=garbage", "cursor"),
    ];
    for (uri, field) in cases {
        let request = get(uri)
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, 422, "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn a_list_answers_items_and_next_cursor() {
    let (store, _) = store_with_user(seam_core::user::Role::Agent);
    let app = app(store);
    let (cookie, _) = log_in(&app).await;
    let request = get("/api/v1/conversations?assignee=me&status=open&limit=10")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn the_openapi_document_lists_every_fixed_path() {
    let app = app(Arc::new(FakeStore::default()));
    let (status, _, body) = send(&app, get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    let paths = body["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/tokens",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/channels",
        "/api/v1/channels/{id}/inbound",
        "/api/v1/realtime",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    assert!(paths["/api/v1/conversations/{id}"]["patch"].is_object());
    let schemas = body["components"]["schemas"].as_object().unwrap();
    for schema in [
        "LoginRequest",
        "InboundRequest",
        "ConversationView",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
}

#[tokio::test]
async fn an_unusual_request_id_is_replaced_not_echoed() {
    let app = app(Arc::new(FakeStore::default()));
    let request = get("/healthz")
        .header("x-request-id", "a b c")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&app, request).await;
    let id = headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}
