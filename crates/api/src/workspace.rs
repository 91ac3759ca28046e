//! `/api/v1/workspace`: the workspace's settings — name, region, time zone, languages,
//! continuity and reopen window. Rules live in core's `workspace` module.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use seam_core::{
    Error, Result,
    workspace::{self, Continuity, Workspace, WorkspaceUpdate},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    users::language,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route(
        "/api/v1/workspace",
        get(read_workspace).patch(update_workspace),
    )
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
