//! The import, export and erase routes without a database: who may call them, and the 4xx
//! answers for bodies and ids they cannot take. What they store is tested on both databases
//! in the store's conformance suite and end to end in the server's.

// A test crate: an unwrap here is an assertion.
#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request};
use seam_core::user::Role;
use support::*;

async fn logged_in(role: Role) -> (axum::Router, String, String) {
    let (store, _) = store_with_user(role);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    (app, cookie, csrf)
}

fn post_body(
    uri: &str,
    cookie: &str,
    csrf: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Request<Body> {
    Request::post(uri)
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn an_agent_may_not_import_export_or_erase_customers() {
    let (app, cookie, csrf) = logged_in(Role::Agent).await;
    let id = uuid::Uuid::now_v7();

    let import = post_body(
        "/api/v1/customers/import",
        &cookie,
        &csrf,
        "text/csv",
        b"name,email\nA,a@example.com\n".to_vec(),
    );
    let export = get(&format!("/api/v1/customers/{id}/export"))
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let erase = post_body(
        &format!("/api/v1/customers/{id}/erase"),
        &cookie,
        &csrf,
        "application/json",
        Vec::new(),
    );

    for request in [import, export, erase] {
        let (status, _, body) = send(&app, request).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn customer_data_routes_need_a_credential() {
    let app = app(store_with_user(Role::Admin).0);
    let id = uuid::Uuid::now_v7();
    let (status, _, _) = send(
        &app,
        get(&format!("/api/v1/customers/{id}/export"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = send(
        &app,
        Request::post("/api/v1/customers/import")
            .header("content-type", "text/csv")
            .body(Body::from("name,email\n"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_import_body_that_is_neither_csv_nor_ndjson_is_refused_with_415() {
    let (app, cookie, csrf) = logged_in(Role::Admin).await;
    let request = post_body(
        "/api/v1/customers/import",
        &cookie,
        &csrf,
        "application/json",
        b"[{\"email\":\"a@example.com\"}]".to_vec(),
    );

    let (status, _, body) = send(&app, request).await;

    assert_eq!(status, 415, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("text/csv"), "{message}");
}

#[tokio::test]
async fn an_import_with_an_unknown_column_is_refused_whole_before_anything_is_stored() {
    // The fake store cannot write: reaching it would answer 503, not 422.
    let (app, cookie, csrf) = logged_in(Role::Owner).await;
    let request = post_body(
        "/api/v1/customers/import",
        &cookie,
        &csrf,
        "text/csv; charset=utf-8",
        b"name,email,loyalty_tier\nA,a@example.com,gold\n".to_vec(),
    );

    let (status, _, body) = send(&app, request).await;

    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "file");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("loyalty_tier"), "{message}");
}

#[tokio::test]
async fn the_import_route_takes_bodies_past_the_global_limit_up_to_20_mib() {
    let (app, cookie, csrf) = logged_in(Role::Admin).await;
    // 2 MiB: over the global 1 MiB limit, so only the route's own limit lets it through (to
    // the unknown column, refused with 422 after the whole body was read).
    let mut two_mib = b"name,email,plan\n".to_vec();
    two_mib.resize(2 * 1024 * 1024, b'x');
    let mut too_large = b"name,email\n".to_vec();
    too_large.resize(20 * 1024 * 1024 + 1, b'x');

    let (within, _, within_body) = send(
        &app,
        post_body(
            "/api/v1/customers/import",
            &cookie,
            &csrf,
            "text/csv",
            two_mib,
        ),
    )
    .await;
    let (beyond, _, beyond_body) = send(
        &app,
        post_body(
            "/api/v1/customers/import",
            &cookie,
            &csrf,
            "text/csv",
            too_large,
        ),
    )
    .await;

    assert_eq!(within, 422, "{within_body}");
    assert_eq!(beyond, 413, "{beyond_body}");
    assert_eq!(beyond_body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn exporting_an_unknown_customer_answers_404_and_a_malformed_id_a_4xx() {
    let (app, cookie, csrf) = logged_in(Role::Admin).await;
    let id = uuid::Uuid::now_v7();

    let (unknown, _, _) = send(
        &app,
        get(&format!("/api/v1/customers/{id}/export"))
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let (malformed, _, body) = send(
        &app,
        post_body(
            "/api/v1/customers/not-an-id/erase",
            &cookie,
            &csrf,
            "application/json",
            Vec::new(),
        ),
    )
    .await;

    assert_eq!(unknown, 404);
    assert!((400..500).contains(&malformed), "{malformed} {body}");
}
