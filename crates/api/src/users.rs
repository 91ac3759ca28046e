//! `/api/v1/me` and `/api/v1/users`: the signed-in user (language, availability) and the
//! workspace's users and roles. Rules live in core's `user` module.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, patch, put},
};
use chrono::{DateTime, Utc};
use seam_core::{
    Error, Result,
    ids::UserId,
    user::{self, Availability, Language, NewUser, Role, User, UserUpdate},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    conversations::nullable,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
    page::List,
    realtime::{AgentPresence, announce_presence},
    workspace::WorkspaceView,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/me", get(read_me).patch(update_me))
        .route("/api/v1/me/presence", put(set_presence))
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", patch(update))
}

/// A user as the agent app sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub email: String,
    pub name: String,
    /// `owner`, `admin`, `supervisor` or `agent`.
    pub role: String,
    /// `en`, `ar` or `fa`; `null` follows the workspace's first language.
    pub language: Option<String>,
    /// `online` or `away`: what the user chose.
    pub availability: String,
    /// `online`, `away` or `offline` (no realtime connection open).
    pub presence: String,
    pub created_at: DateTime<Utc>,
}

impl MemberView {
    fn of(user: User, agents: &AgentPresence) -> Self {
        let presence = agents.presence_of(&user);
        MemberView {
            id: user.id.0,
            workspace_id: user.workspace_id.0,
            email: user.email,
            name: user.name,
            role: user.role.as_str().to_string(),
            language: user.language.map(|language| language.as_str().to_string()),
            availability: user.availability.as_str().to_string(),
            presence: presence.as_str().to_string(),
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub user: MemberView,
    pub workspace: WorkspaceView,
}

pub(crate) fn language(field: &str, raw: &str) -> Result<Language> {
    Language::parse(raw.trim()).ok_or_else(|| Error::invalid(field, "must be en, ar or fa"))
}

fn role(raw: &str) -> Result<Role> {
    Role::parse(raw.trim())
        .ok_or_else(|| Error::invalid("role", "must be owner, admin, supervisor or agent"))
}

/// The signed-in user and their workspace.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "users",
    responses(
        (status = 200, description = "The user and workspace", body = MeView),
        (status = 401, description = "Not authenticated", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read_me(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<MeView>, ApiError> {
    let (found, workspace) = user::me(state.store.as_ref(), &actor).await?;
    Ok(Json(MeView {
        user: MemberView::of(found, &state.agents),
        workspace: workspace.into(),
    }))
}

/// A change to one's own name or language; absent fields stay, `language: null` follows the
/// workspace.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdateRequest {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub language: Option<Option<String>>,
}

/// Changes the signed-in user's name or language.
#[utoipa::path(
    patch, path = "/api/v1/me", tag = "users",
    request_body = MeUpdateRequest,
    responses(
        (status = 200, description = "The user", body = MemberView),
        (status = 422, description = "An invalid value", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update_me(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<MeUpdateRequest>,
) -> Result<Json<MemberView>, ApiError> {
    let update = UserUpdate {
        name: request.name,
        language: request
            .language
            .map(|raw| raw.map(|raw| language("language", &raw)).transpose())
            .transpose()?,
        ..UserUpdate::default()
    };
    let saved = user::update_me(state.store.as_ref(), &actor, update).await?;
    Ok(Json(MemberView::of(saved, &state.agents)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    /// `online` or `away`.
    pub status: String,
}

/// Sets the signed-in user's availability; the workspace's agents are told in realtime.
#[utoipa::path(
    put, path = "/api/v1/me/presence", tag = "users",
    request_body = PresenceRequest,
    responses(
        (status = 200, description = "The user", body = MemberView),
        (status = 422, description = "Not online or away", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_presence(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<PresenceRequest>,
) -> Result<Json<MemberView>, ApiError> {
    let availability = Availability::parse(request.status.trim())
        .ok_or_else(|| Error::invalid("status", "must be online or away"))?;
    let update = UserUpdate {
        availability: Some(availability),
        ..UserUpdate::default()
    };
    let saved = user::update_me(state.store.as_ref(), &actor, update).await?;
    let presence = state.agents.presence_of(&saved);
    announce_presence(&state, actor.workspace_id, actor.user_id, presence).await;
    Ok(Json(MemberView::of(saved, &state.agents)))
}

/// Everyone in the workspace with role and presence.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    responses((status = 200, description = "Every user, oldest first", body = List<MemberView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<List<MemberView>>, ApiError> {
    let users = user::list_users(state.store.as_ref(), &actor).await?;
    Ok(Json(List {
        items: users
            .into_iter()
            .map(|found| MemberView::of(found, &state.agents))
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    /// `owner` (by an owner only), `admin`, `supervisor` or `agent`.
    pub role: String,
    /// At least 8 characters.
    pub password: String,
    pub language: Option<String>,
}

/// Adds a user (admins and owners).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Added", body = MemberView),
        (status = 403, description = "Not an admin, or an admin adding an owner", body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
        (status = 422, description = "An invalid value", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    let new = NewUser {
        email: request.email,
        name: request.name,
        role: role(&request.role)?,
        password: request.password,
        language: request
            .language
            .as_deref()
            .map(|raw| language("language", raw))
            .transpose()?,
    };
    let added = user::add_user(state.store.as_ref(), &actor, new, chrono::Utc::now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(MemberView::of(added, &state.agents)),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub language: Option<Option<String>>,
}

/// Changes a user's name, role or language (admins and owners; owners make owners; the last
/// owner stays one).
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The user", body = MemberView),
        (status = 403, description = "Not allowed to make this change", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "It would leave the workspace without an owner", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> Result<Json<MemberView>, ApiError> {
    let update = UserUpdate {
        name: request.name,
        role: request.role.as_deref().map(role).transpose()?,
        language: request
            .language
            .map(|raw| raw.map(|raw| language("language", &raw)).transpose())
            .transpose()?,
        availability: None,
    };
    let saved = user::update_user(state.store.as_ref(), &actor, id, update).await?;
    Ok(Json(MemberView::of(saved, &state.agents)))
}
