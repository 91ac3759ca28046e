//! Uploads and media links at the HTTP edge, without a database: an upload needs a login and a
//! non-empty body of at most 25 MiB; a media link without the server's signature is 403 before
//! anything is looked up; both routes are in the OpenAPI document.

// A test crate: an unwrap here is an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{body::Body, http::Request};
use seam_core::user::Role;
use support::*;

fn upload(uri: &str, cookie: &str, csrf: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/pdf")
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn an_upload_needs_a_login_and_an_empty_one_is_refused_with_a_reason() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);

    let (status, _, body) = send(
        &app,
        Request::post("/api/v1/uploads?file_name=a.pdf")
            .header("content-type", "application/pdf")
            .body(Body::from(b"%PDF".to_vec()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    let (cookie, csrf) = log_in(&app).await;
    let (status, _, body) = send(
        &app,
        upload(
            "/api/v1/uploads?file_name=a.pdf",
            &cookie,
            &csrf,
            Vec::new(),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "body");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("empty"),
        "{body}"
    );

    let (status, _, body) = send(
        &app,
        upload("/api/v1/uploads", &cookie, &csrf, b"%PDF".to_vec()),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "file_name");
}

#[tokio::test]
async fn an_upload_larger_than_25_mib_is_413() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;

    let too_large = vec![b'x'; 25 * 1024 * 1024 + 1];
    let (status, _, body) = send(
        &app,
        upload(
            "/api/v1/uploads?file_name=big.pdf",
            &cookie,
            &csrf,
            too_large,
        ),
    )
    .await;

    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn a_media_link_without_the_servers_signature_is_forbidden() {
    let app = app(std::sync::Arc::new(FakeStore::default()));
    let id = uuid::Uuid::now_v7();
    let expires = chrono::Utc::now().timestamp() + 600;
    for query in [
        format!("?expires={expires}&signature={}", "0".repeat(64)),
        format!("?expires={expires}"),
        format!("?expires=tomorrow&signature={}", "0".repeat(64)),
        String::new(),
    ] {
        let (status, headers, body) = send(
            &app,
            get(&format!("/media/{id}{query}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, 403, "{query}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert!(headers.get("content-disposition").is_none());
    }
}

#[tokio::test]
async fn the_openapi_document_lists_uploads_and_media_links() {
    let app = app(std::sync::Arc::new(FakeStore::default()));
    let (status, _, body) = send(&app, get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    assert!(body["paths"]["/api/v1/uploads"]["post"].is_object());
    assert!(body["paths"]["/media/{attachment_id}"]["get"].is_object());
    assert!(body["components"]["schemas"]["UploadView"].is_object());
}
