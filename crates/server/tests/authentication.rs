//! Logging in and staying safe: session cookies, CSRF on cookie-authenticated writes, API
//! tokens, logout, role permissions, and the lock-out after repeated failed logins.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Api, Backend, Realtime, spawn_seam};
use serde_json::json;

on_both_backends!(
    repeated_failed_logins_lock_the_account_and_only_that_account,
    cookie_writes_need_the_csrf_token_and_bearer_tokens_do_not,
    logging_out_ends_the_session,
    requests_without_valid_credentials_are_unauthorized,
    an_agent_cannot_configure_channels,
    the_realtime_socket_needs_credentials_and_refuses_other_origins,
);

async fn repeated_failed_logins_lock_the_account_and_only_that_account(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    seam.create_user("Acme", "target@example.com", "the right password", "agent");
    seam.create_user("Acme", "colleague@example.com", "another password", "agent");
    let anonymous = Api::anonymous(&seam.base_url);
    let attempt = |email: &'static str, password: &'static str| {
        let anonymous = anonymous.clone();
        async move {
            anonymous
                .post(
                    "/api/v1/auth/login",
                    json!({ "email": email, "password": password }),
                )
                .await
        }
    };

    // Act: five wrong passwords.
    let mut failures = Vec::new();
    for _ in 0..5 {
        failures.push(attempt("target@example.com", "wrong password").await);
    }
    let with_right_password = attempt("target@example.com", "the right password").await;
    let colleague = attempt("colleague@example.com", "another password").await;

    // Assert: refused, then locked even for the right password; the colleague is unaffected.
    for failure in &failures[..4] {
        failure.assert_error(401);
        assert!(
            failure
                .set_cookies()
                .iter()
                .all(|c| !c.starts_with("seam_session="))
        );
    }
    assert!(matches!(failures[4].status, 401 | 423), "{:?}", failures[4]);
    with_right_password.assert_error(423);
    assert!(
        with_right_password
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("seam_session="))
    );
    assert_eq!(colleague.status, 200, "{colleague:?}");
}

async fn cookie_writes_need_the_csrf_token_and_bearer_tokens_do_not(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    let channel = owner.create_api_channel("Shop backend", None).await;
    let received = channel
        .receive(json!({ "message_id": "m-1", "from": { "email": "c@example.com" }, "text": "hi" }))
        .await;
    let conversation = format!("/api/v1/conversations/{}", received.conversation_id);
    seam.create_user("Acme", "agent@example.com", "agent password", "agent");

    // Act
    let session = seam.login("agent@example.com", "agent password").await;
    let forged = session.api_without_csrf();
    let wrong_token = Api::cookie(&seam.base_url, &session.cookie, Some("not-the-csrf-token"));
    let read_without_csrf = forged.get(&conversation).await;
    let patch_without_csrf = forged
        .patch(&conversation, json!({ "status": "resolved" }))
        .await;
    let patch_with_wrong_csrf = wrong_token
        .patch(&conversation, json!({ "status": "resolved" }))
        .await;
    let token_without_csrf = forged
        .post("/api/v1/auth/tokens", json!({ "name": "x" }))
        .await;
    let note_without_csrf = forged
        .post(
            &format!("{conversation}/messages"),
            json!({ "text": "n", "private": true }),
        )
        .await;

    // Assert: the session cookie is HttpOnly and SameSite; reads pass; writes are refused.
    let session_cookie = session
        .set_cookies
        .iter()
        .find(|c| c.starts_with("seam_session="))
        .unwrap();
    assert!(
        session_cookie.to_ascii_lowercase().contains("httponly"),
        "{session_cookie}"
    );
    assert!(
        session_cookie.to_ascii_lowercase().contains("samesite"),
        "{session_cookie}"
    );
    assert!(
        session
            .set_cookies
            .iter()
            .any(|c| c.starts_with("seam_csrf="))
    );
    assert_eq!(session.user["email"], "agent@example.com");
    assert_eq!(read_without_csrf.status, 200, "{read_without_csrf:?}");
    patch_without_csrf.assert_error(403);
    patch_with_wrong_csrf.assert_error(403);
    token_without_csrf.assert_error(403);
    note_without_csrf.assert_error(403);
    let unchanged = owner.api.get(&conversation).await;
    assert_eq!(unchanged.json["status"], "open");
    assert_eq!(owner.messages(&received.conversation_id).await.len(), 1);

    // Act + Assert: with the token the same writes pass, and a bearer token needs none.
    let patched = session
        .api()
        .patch(&conversation, json!({ "status": "pending" }))
        .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(patched.json["status"], "pending");
    let token = session.create_token("script").await;
    let by_token = Api::bearer(&seam.base_url, &token)
        .patch(&conversation, json!({ "status": "resolved" }))
        .await;
    assert_eq!(by_token.status, 200, "{by_token:?}");
    assert_eq!(
        owner.api.get(&conversation).await.json["status"],
        "resolved"
    );
}

async fn logging_out_ends_the_session(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    seam.create_user("Acme", "agent@example.com", "agent password", "agent");
    let session = seam.login("agent@example.com", "agent password").await;
    assert_eq!(session.api().get("/api/v1/conversations").await.status, 200);

    // Act
    let logout = session.api().post("/api/v1/auth/logout", json!({})).await;

    // Assert
    assert!((200..300).contains(&logout.status), "{logout:?}");
    session
        .api()
        .get("/api/v1/conversations")
        .await
        .assert_error(401);
}

async fn requests_without_valid_credentials_are_unauthorized(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    seam.create_user("Acme", "agent@example.com", "agent password", "agent");

    // Act
    let anonymous = Api::anonymous(&seam.base_url)
        .get("/api/v1/conversations")
        .await;
    let bad_token = Api::bearer(&seam.base_url, "seam-not-a-token")
        .get("/api/v1/customers")
        .await;
    let bad_cookie = Api::cookie(&seam.base_url, "seam_session=forged", None)
        .get("/api/v1/conversations")
        .await;
    let wrong_password = Api::anonymous(&seam.base_url)
        .post(
            "/api/v1/auth/login",
            json!({ "email": "agent@example.com", "password": "nope" }),
        )
        .await;
    let unknown_user = Api::anonymous(&seam.base_url)
        .post(
            "/api/v1/auth/login",
            json!({ "email": "ghost@example.com", "password": "nope" }),
        )
        .await;

    // Assert: all 401; an unknown address and a wrong password look the same.
    anonymous.assert_error(401);
    bad_token.assert_error(401);
    bad_cookie.assert_error(401);
    wrong_password.assert_error(401);
    unknown_user.assert_error(401);
    assert_eq!(unknown_user.error_code(), wrong_password.error_code());
    assert_eq!(unknown_user.error_message(), wrong_password.error_message());
}

async fn an_agent_cannot_configure_channels(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let owner = seam.owner_of("Acme").await;
    seam.create_user("Acme", "agent@example.com", "agent password", "agent");
    let session = seam.login("agent@example.com", "agent password").await;

    // Act
    let response = session
        .api()
        .post(
            "/api/v1/channels",
            json!({ "kind": "api", "name": "Sneaky", "config": {} }),
        )
        .await;

    // Assert
    response.assert_error(403);
    let channels = owner.api.get("/api/v1/channels").await;
    assert_eq!(channels.json["items"], json!([]));
}

async fn the_realtime_socket_needs_credentials_and_refuses_other_origins(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    seam.create_user("Acme", "agent@example.com", "agent password", "agent");
    let session = seam.login("agent@example.com", "agent password").await;
    let own_origin = seam.base_url.clone();

    // Act
    let anonymous = Realtime::handshake_status(&seam.base_url, &[]).await;
    let same_origin = Realtime::handshake_status(
        &seam.base_url,
        &[("cookie", &session.cookie), ("origin", &own_origin)],
    )
    .await;
    let cross_origin = Realtime::handshake_status(
        &seam.base_url,
        &[
            ("cookie", &session.cookie),
            ("origin", "https://evil.example"),
        ],
    )
    .await;

    // Assert
    assert_eq!(anonymous, 401);
    assert_eq!(same_origin, 101);
    assert_eq!(cross_origin, 403);
}
