//! `/api/v1/me`, `/api/v1/users` and `/api/v1/workspace`: the signed-in user (language,
//! availability), the workspace's users and roles, and the workspace's settings. Rules live in
//! core's `user` and `workspace` modules.

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
    workspace::{self, Continuity, Workspace, WorkspaceUpdate},
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
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/me", get(read_me).patch(update_me))
        .route("/api/v1/me/presence", put(set_presence))
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", patch(update))
        .route(
            "/api/v1/workspace",
            get(read_workspace).patch(update_workspace),
        )
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
pub struct WorkspaceView {
    pub id: Uuid,
    pub name: String,
    /// ISO 3166 region for reading national phone numbers.
    pub default_region: String,
    /// IANA time zone.
    pub time_zone: String,
    /// The languages served, the default first.
    pub languages: Vec<String>,
    /// `customer` (one thread across channels) or `channel`.
    pub continuity: String,
    /// How long after resolving a customer's message reopens the conversation.
    pub reopen_window_secs: i64,
    pub created_at: DateTime<Utc>,
}

impl From<Workspace> for WorkspaceView {
    fn from(workspace: Workspace) -> Self {
        WorkspaceView {
            id: workspace.id.0,
            name: workspace.name,
            default_region: workspace.default_region,
            time_zone: workspace.time_zone,
            languages: workspace
                .languages
                .iter()
                .map(|language| language.as_str().to_string())
                .collect(),
            continuity: workspace.continuity.as_str().to_string(),
            reopen_window_secs: workspace.reopen_window_secs,
            created_at: workspace.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub user: MemberView,
    pub workspace: WorkspaceView,
}

fn language(field: &str, raw: &str) -> Result<Language> {
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

/// The workspace's settings.
#[utoipa::path(
    get, path = "/api/v1/workspace", tag = "settings",
    responses((status = 200, description = "The workspace", body = WorkspaceView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read_workspace(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<WorkspaceView>, ApiError> {
    let found = workspace::workspace_settings(state.store.as_ref(), &actor).await?;
    Ok(Json(found.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceUpdateRequest {
    pub name: Option<String>,
    pub default_region: Option<String>,
    pub time_zone: Option<String>,
    /// At least one of `en`, `ar`, `fa`; the first is the default.
    pub languages: Option<Vec<String>>,
    /// `customer` or `channel`.
    pub continuity: Option<String>,
    /// 0 to 7,776,000 (90 days).
    pub reopen_window_secs: Option<i64>,
}

/// Changes the workspace's settings (admins and owners).
#[utoipa::path(
    patch, path = "/api/v1/workspace", tag = "settings",
    request_body = WorkspaceUpdateRequest,
    responses(
        (status = 200, description = "The workspace", body = WorkspaceView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "An invalid value", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update_workspace(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<WorkspaceUpdateRequest>,
) -> Result<Json<WorkspaceView>, ApiError> {
    let update = WorkspaceUpdate {
        name: request.name,
        default_region: request.default_region,
        time_zone: request.time_zone,
        languages: request
            .languages
            .map(|codes| {
                codes
                    .iter()
                    .map(|code| language("languages", code))
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?,
        continuity: request
            .continuity
            .map(|raw| {
                Continuity::parse(raw.trim())
                    .ok_or_else(|| Error::invalid("continuity", "must be customer or channel"))
            })
            .transpose()?,
        reopen_window_secs: request.reopen_window_secs,
    };
    let saved = workspace::update_workspace(state.store.as_ref(), &actor, update).await?;
    Ok(Json(saved.into()))
}
