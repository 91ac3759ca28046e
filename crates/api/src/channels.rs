//! `/api/v1/channels`: list and create channels. The secret leaves only in the creation
//! response; lists never carry it. Config validation is core's.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::Path,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, patch},
};
use chrono::{DateTime, Utc};
use seam_core::channel::{self, Channel, ChannelKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    page::List,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/channels", get(list).post(create))
        .route("/api/v1/channels/{id}", patch(update))
}

/// A channel as clients see it. Has no field for the secret, so none can leak.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// `api`, `email`, `webchat`, `whatsapp`, `messenger`, `instagram`, `telegram`, `line`,
    /// `sms` or `voice`.
    pub kind: String,
    pub name: String,
    /// Kind-specific settings; for `api`, an optional `webhook_url`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Messaging channels: the webhook URL to enter at the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_url: Option<String>,
    /// Messaging channels: the names of the credentials set (their values are never shown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credential_names: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl ChannelView {
    fn of(state: &ApiState, channel: Channel) -> Self {
        let config = channel.public_config();
        let messaging = seam_core::messaging::is_messaging(channel.kind);
        let mut credential_names = if messaging {
            channel::credential_names(state.messaging.vault.as_ref(), &channel)
        } else {
            Vec::new()
        };
        credential_names.sort();
        ChannelView {
            id: channel.id.0,
            workspace_id: channel.workspace_id.0,
            kind: channel.kind.as_str().to_string(),
            hook_url: messaging.then(|| state.messaging.hook_url(channel.id)),
            credential_names,
            name: channel.name,
            config,
            created_at: channel.created_at,
        }
    }
}

/// A channel just created: shown once with what an integrator needs to call it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedChannelView {
    #[serde(flatten)]
    pub channel: ChannelView,
    /// API and email channels: the bearer secret for the inbound endpoint; webchat channels:
    /// the key of `user_hash` (identity verification). Shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// API channels: the path to POST inbound messages to; email channels: the path to POST
    /// raw mail to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_url: Option<String>,
}

/// The path of an API channel's inbound endpoint.
pub fn inbound_path(channel_id: Uuid) -> String {
    format!("/api/v1/channels/{channel_id}/inbound")
}

/// Lists the workspace's channels.
#[utoipa::path(
    get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, description = "Every channel", body = List<ChannelView>)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<List<ChannelView>>, ApiError> {
    let channels = channel::list_channels(state.store.as_ref(), &actor).await?;
    Ok(Json(List {
        items: channels
            .into_iter()
            .map(|channel| ChannelView::of(&state, channel))
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRequest {
    pub kind: String,
    pub name: String,
    /// Kind-specific settings; for `api`: `{"webhook_url"?: "https://…"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Messaging channels: the provider's secrets, e.g. WhatsApp
    /// `{"access_token", "app_secret"}`. Sealed at rest; never shown again.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub credentials: serde_json::Value,
}

/// Creates a channel (admins and owners).
#[utoipa::path(
    post, path = "/api/v1/channels", tag = "channels",
    request_body = CreateRequest,
    responses(
        (status = 201, description = "Created; an API channel's secret is shown once", body = CreatedChannelView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid kind, name or config", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<CreateRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let created = channel::create_channel_with(
        state.store.as_ref(),
        Some(state.messaging.vault.as_ref()),
        &actor,
        channel::NewChannel {
            kind: &request.kind,
            name: &request.name,
            config: &request.config,
            credentials: &request.credentials,
        },
        chrono::Utc::now(),
    )
    .await?;
    // Channels with an authenticated inbound endpoint show its path and secret, once; website
    // chat shows its secret too, the key that signs `user_hash` for identity verification.
    let inbound_url = match created.channel.kind {
        ChannelKind::Api => Some(inbound_path(created.channel.id.0)),
        ChannelKind::Email => Some(format!("/api/v1/channels/{}/email", created.channel.id.0)),
        _ => None,
    };
    let shows_secret = inbound_url.is_some() || created.channel.kind == ChannelKind::Webchat;
    let view = CreatedChannelView {
        secret: shows_secret.then_some(created.secret),
        inbound_url,
        channel: ChannelView::of(&state, created.channel),
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(view),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRequest {
    pub name: Option<String>,
    /// Messaging channels: settings to change, key by key (`null` removes a key).
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// Messaging channels: credentials to replace, key by key (e.g. a rotated
    /// `access_token`); the others are kept.
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes a channel (admins and owners): its name; for messaging channels, settings and
/// credentials too, after which Seam sets the channel up with the provider again.
#[utoipa::path(
    patch, path = "/api/v1/channels/{id}", tag = "channels",
    params(("id" = Uuid, Path, description = "Channel id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "The channel as changed", body = ChannelView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such channel", body = ErrorBody),
        (status = 422, description = "Invalid name, config or credentials", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    Path(id): Path<Uuid>,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Json<ChannelView>, ApiError> {
    let channel = channel::update_channel(
        state.store.as_ref(),
        state.messaging.vault.as_ref(),
        &actor,
        seam_core::ids::ChannelId(id),
        channel::ChannelChanges {
            name: request.name,
            config: request.config,
            credentials: request.credentials,
        },
        chrono::Utc::now(),
    )
    .await?;
    state.messaging.channels.forget(channel.id);
    Ok(Json(ChannelView::of(&state, channel)))
}
