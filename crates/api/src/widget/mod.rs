//! The website chat widget's surface: `GET /widget.js` (the widget itself, embedded in the
//! binary), `GET /widget/ws` (its WebSocket, protocol in docs/widget-protocol.md) and
//! `POST /api/v1/conversations/{id}/typing` (an agent's typing signal to the visitor).
//! The WebSocket's `Origin` is checked against the channel's `allowed_origins` before the
//! upgrade. No state of its own except the connections ([`WidgetPresence`]).

mod presence;
mod protocol;
mod socket;

use std::{
    hash::{Hash, Hasher},
    sync::{Arc, LazyLock},
};

use axum::{
    Json, Router,
    extract::{
        Query, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use seam_core::{
    ids::{ChannelId, ConversationId},
    webchat::{self, Presence, WidgetPush},
};
use serde::Deserialize;
use utoipa::ToSchema;

pub use presence::{MAX_CONNECTIONS_PER_VISITOR, MESSAGE_BURST, WidgetPresence};
pub use socket::{PING_INTERVAL, SEND_QUEUE};

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
};

/// The widget, plain JavaScript without a build step.
pub const WIDGET_JS: &str = include_str!("../../../../web/widget/widget.js");
/// Largest frame or message a widget may send (a text is limited to 4 KiB inside it).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

static WIDGET_ETAG: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    WIDGET_JS.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
});

/// The read buffer of a widget's connection; it grows only while a frame is being read.
const IDLE_READ_BUFFER_BYTES: usize = 4 * 1024;

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/widget.js", get(script))
        .route("/widget/ws", get(connect))
        .route("/api/v1/conversations/{id}/typing", post(agent_typing))
}

/// The widget script. Cached for five minutes and revalidated by its ETag, so a new version
/// reaches sites within minutes of an upgrade.
#[utoipa::path(
    get, path = "/widget.js", tag = "widget",
    responses(
        (status = 200, description = "The widget (JavaScript)", content_type = "text/javascript"),
        (status = 304, description = "Not modified (If-None-Match)"),
    )
)]
pub(crate) async fn script(headers: HeaderMap) -> Response {
    let etag = WIDGET_ETAG.as_str();
    let cache = [
        (
            header::CACHE_CONTROL,
            "public, max-age=300, must-revalidate",
        ),
        (header::ETAG, etag),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if unchanged {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConnectQuery {
    channel: String,
}

/// Opens a widget connection for the webchat channel `channel` (its id, the public key of the
/// script tag). The page's `Origin` must be one of the channel's `allowed_origins`.
#[utoipa::path(
    get, path = "/widget/ws", tag = "widget",
    params(("channel" = Uuid, Query, description = "The webchat channel's id")),
    responses(
        (status = 101, description = "WebSocket of JSON text frames (docs/widget-protocol.md)"),
        (status = 403, description = "The page's origin may not embed this channel", body = ErrorBody),
        (status = 404, description = "No such webchat channel", body = ErrorBody),
    )
)]
pub(crate) async fn connect(
    State(state): State<Arc<ApiState>>,
    query: Result<Query<ConnectQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let channel_id = query
        .ok()
        .and_then(|Query(query)| ChannelId::parse(&query.channel))
        .ok_or(ApiError::Domain(seam_core::Error::NotFound))?;
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok());
    let channel = match webchat::widget_channel(state.store.as_ref(), channel_id, origin).await {
        Ok(channel) => channel,
        Err(seam_core::Error::Forbidden) => return Err(ApiError::WidgetOriginRejected),
        Err(error) => return Err(error.into()),
    };
    let upgrade = upgrade.map_err(|_| ApiError::WebSocketRequired)?;
    // Most widgets sit idle for hours: small buffers (tungstenite's defaults are 128 KiB each
    // way) keep an open widget cheap, and its frames are small and rare enough to write at once.
    let upgrade = upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(IDLE_READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(2 * MAX_FRAME_BYTES);
    let mut response = upgrade.on_upgrade(move |socket| socket::serve(socket, state, channel));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Whether the agent is typing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    pub typing: bool,
}

/// Tells the customer's open widgets that an agent is typing (or stopped).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/typing", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = TypingRequest,
    responses(
        (status = 202, description = "Passed on to the widgets open now (if any)"),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn agent_typing(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(conversation_id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<TypingRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let visitors =
        webchat::agent_typing_targets(state.store.as_ref(), &actor, conversation_id).await?;
    let push = WidgetPush::Typing {
        typing: request.typing,
    };
    let widgets = state
        .presence
        .push(actor.workspace_id, &visitors, &push)
        .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "widgets": widgets })),
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn the_widget_is_at_most_50_kb_gzipped() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(WIDGET_JS.as_bytes()).unwrap();
        let gzipped = encoder.finish().unwrap();
        assert!(
            gzipped.len() <= 50 * 1024,
            "widget.js is {} bytes gzipped",
            gzipped.len()
        );
        assert!(WIDGET_JS.starts_with("// @ts-check"));
    }
}
