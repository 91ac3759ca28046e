//! Login, cookies, CSRF, API tokens, logout and channel secrets, through the router with an
//! in-memory fake of the store.

mod support;

use axum::{body::Body, http::Request};
use seam_core::user::Role;
use support::*;

#[tokio::test]
async fn login_sets_an_http_only_session_cookie_and_a_readable_csrf_cookie() {
    let (store, user) = store_with_user(Role::Agent);
    let app = app(store);
    let body = serde_json::json!({"email": "Agent@Example.com", "password": PASSWORD}).to_string();
    let (status, headers, json) = send(
        &app,
        post_json("/api/v1/auth/login")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["user"]["id"], user.id.to_string());
    assert_eq!(json["user"]["role"], "agent");
    assert_eq!(json["user"]["workspace_id"], user.workspace_id.to_string());
    assert!(json["user"].get("password_hash").is_none());
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("seam_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Path=/")
    );
    assert!(!session.contains("Secure"), "plain http by default");
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("seam_csrf="))
        .unwrap();
    assert!(csrf.starts_with(&format!(
        "seam_csrf={}",
        json["csrf_token"].as_str().unwrap()
    )));
    assert!(!csrf.contains("HttpOnly"));
}

#[tokio::test]
async fn a_wrong_password_is_invalid_credentials_and_five_lock_the_account() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let wrong =
        serde_json::json!({"email": "agent@example.com", "password": "nope nope"}).to_string();
    for _ in 0..4 {
        let request = post_json("/api/v1/auth/login")
            .body(Body::from(wrong.clone()))
            .unwrap();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
    }
    let request = post_json("/api/v1/auth/login")
        .body(Body::from(wrong.clone()))
        .unwrap();
    let (status, headers, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (423, Some("account_locked")),
        "{body}"
    );
    assert!(body["error"]["message"].as_str().unwrap().contains("until"));
    assert!(headers.contains_key("retry-after"));
    // Even the right password is refused while locked.
    let right = serde_json::json!({"email": "agent@example.com", "password": PASSWORD}).to_string();
    let (status, _, _) = send(
        &app,
        post_json("/api/v1/auth/login")
            .body(Body::from(right))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 423);
}

#[tokio::test]
async fn a_cookie_authenticated_write_needs_the_csrf_header() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    let body = || Body::from(r#"{"name": "ci"}"#);

    let request = post_json("/api/v1/auth/tokens")
        .header("cookie", &cookie)
        .body(body())
        .unwrap();
    let (status, _, json) = send(&app, request).await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (403, Some("csrf_failed"))
    );

    let request = post_json("/api/v1/auth/tokens")
        .header("cookie", &cookie)
        .header("x-csrf-token", "forged")
        .body(body())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, 403);

    let request = post_json("/api/v1/auth/tokens")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(body())
        .unwrap();
    let (status, _, json) = send(&app, request).await;
    assert_eq!(status, 201, "{json}");
    assert!(json["token"].as_str().unwrap().starts_with("seam_"));
    assert!(uuid::Uuid::parse_str(json["id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn a_bearer_token_needs_no_csrf_header() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    let request = post_json("/api/v1/auth/tokens")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::from(r#"{"name": "ci"}"#))
        .unwrap();
    let (_, _, json) = send(&app, request).await;
    let token = json["token"].as_str().unwrap();

    let request = post_json("/api/v1/auth/tokens")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(r#"{"name": "second"}"#))
        .unwrap();
    let (status, _, json) = send(&app, request).await;
    assert_eq!(status, 201, "{json}");
}

#[tokio::test]
async fn logout_deletes_the_session_and_clears_the_cookies() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store.clone());
    let (cookie, csrf) = log_in(&app).await;

    let request = Request::post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, 403, "logging out from another site is refused");

    let request = Request::post("/api/v1/auth/logout")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&app, request).await;
    assert_eq!(status, 204);
    assert!(store.sessions.lock().unwrap().is_empty());
    let cleared: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(cleared.iter().all(|c| c.contains("Max-Age=0")) && cleared.len() == 2);

    let request = get("/api/v1/conversations")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_api_channel_shows_its_secret_once_and_lists_never_do() {
    let (store, _) = store_with_user(Role::Admin);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    let body = r#"{"kind": "api", "name": "Shop", "config": {"webhook_url": "https://shop.example/hook"}}"#;
    let request = post_json("/api/v1/channels")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::from(body))
        .unwrap();
    let (status, _, created) = send(&app, request).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(
        created["inbound_url"],
        format!("/api/v1/channels/{id}/inbound")
    );
    assert_eq!(created["kind"], "api");

    let request = get("/api/v1/channels")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _, listed) = send(&app, request).await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"][0]["id"], id);
    assert!(listed["next_cursor"].is_null());
    assert!(!listed.to_string().contains(secret));
}

#[tokio::test]
async fn an_agent_cannot_create_channels() {
    let (store, _) = store_with_user(Role::Agent);
    let app = app(store);
    let (cookie, csrf) = log_in(&app).await;
    let request = post_json("/api/v1/channels")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(Body::from(
            r#"{"kind": "api", "name": "Shop", "config": {}}"#,
        ))
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}
