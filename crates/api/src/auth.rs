//! `/api/v1/auth/*`: login (session cookie + CSRF token), logout and API tokens. Throttling,
//! lock-out and hashing are core's; this module only sets cookies and waits the delay core asks.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{AppendHeaders, IntoResponse},
    routing::post,
};
use seam_core::{Error, auth, user::User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::{self, Authenticated, CSRF_HEADER, SESSION_COOKIE},
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/tokens", post(create_token))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The logged-in user as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    /// `owner`, `admin`, `supervisor` or `agent`.
    pub role: String,
    pub workspace_id: Uuid,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id.0,
            name: user.name,
            email: user.email,
            role: user.role.as_str().to_string(),
            workspace_id: user.workspace_id.0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserView,
    /// Send it back as `X-CSRF-Token` on every cookie-authenticated write.
    pub csrf_token: String,
}

/// Logs in: sets the `seam_session` (HttpOnly) and `seam_csrf` cookies.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; session cookies set", body = LoginResponse),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 423, description = "Locked after repeated failures", body = ErrorBody),
    )
)]
pub(crate) async fn login(
    State(state): State<Arc<ApiState>>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let now = chrono::Utc::now();
    match auth::login(state.store.as_ref(), &request.email, &request.password, now).await {
        Ok(logged_in) => {
            let [session, csrf] = authenticate::session_cookies(
                &logged_in.session_secret,
                &logged_in.csrf_token,
                logged_in.expires_at,
                now,
                state.config.secure_cookies,
            );
            let headers = AppendHeaders([
                (header::SET_COOKIE, session),
                (header::SET_COOKIE, csrf),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ]);
            let body = LoginResponse {
                user: logged_in.user.into(),
                csrf_token: logged_in.csrf_token,
            };
            Ok((headers, Json(body)))
        }
        Err(failure) => {
            // Core decides how long a failure takes, so guessing gets slower with each try.
            tokio::time::sleep(Duration::from_millis(failure.delay_ms)).await;
            Err(match failure.error {
                Error::Unauthorized => ApiError::InvalidCredentials,
                other => ApiError::Domain(other),
            })
        }
    }
}

/// Logs out: deletes the session and clears the cookies. Without a live session there is
/// nothing to protect, so it only clears the cookies; with one, the CSRF header is required
/// so that other sites cannot log agents out.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out; cookies cleared"),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = ErrorBody),
    )
)]
pub(crate) async fn logout(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(secret) = authenticate::cookie(&headers, SESSION_COOKIE) {
        let store = state.store.as_ref();
        match auth::authenticate_session(store, secret, chrono::Utc::now()).await {
            Ok((session, _)) => {
                let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !authenticate::csrf_passes(
                    &axum::http::Method::POST,
                    &session.csrf_token,
                    presented,
                ) {
                    return Err(ApiError::CsrfFailed);
                }
                auth::logout(store, secret).await?;
            }
            Err(Error::Unauthorized) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let [session, csrf] = authenticate::cleared_cookies(state.config.secure_cookies);
    Ok((
        StatusCode::NO_CONTENT,
        AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, csrf)]),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    /// What the token is for, 1–100 characters.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    /// The token itself; shown only in this response. Use it as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Creates an API token for the calling user.
#[utoipa::path(
    post, path = "/api/v1/auth/tokens", tag = "auth",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created; the token is shown once", body = CreatedToken),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create_token(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<CreateTokenRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (token, secret) = auth::create_api_token(
        state.store.as_ref(),
        &actor,
        &request.name,
        chrono::Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(CreatedToken {
            id: token.id.0,
            token: secret,
        }),
    ))
}
