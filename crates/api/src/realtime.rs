//! `GET /api/v1/realtime`: the agent app's WebSocket. Relays the workspace's bus events as
//! `{"type", "workspace_id", "data"}` text frames; never reads or writes state. A client that
//! cannot keep up is disconnected and catches up through the list APIs.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{
        State,
        ws::{Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, header},
    response::Response,
    routing::get,
};
use futures::{SinkExt, StreamExt};
use seam_core::{
    ids::{UserId, WorkspaceId},
    ports::Subscription,
    realtime::RealtimeEvent,
    user::{Presence, User},
};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
};

/// How often the server pings an idle connection.
pub const PING_INTERVAL: Duration = Duration::from_secs(25);
/// Frames waiting for a slow client before it is disconnected.
pub const SEND_QUEUE: usize = 256;
/// A client that has sent nothing (not even a pong) for this long is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(3 * 25);
/// Largest message a client may send (axum's default is 64 MiB).
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// A single frame that cannot be written in this time means the client is stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/v1/realtime", get(connect))
}

/// The agents with a realtime connection open on this node, counted per user: a user with
/// none is offline. Counted per node: a deployment of several nodes sees each node's own.
#[derive(Debug, Default)]
pub struct AgentPresence {
    connections: Mutex<HashMap<UserId, usize>>,
}

impl AgentPresence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a new connection; true when it is the user's first.
    fn join(&self, user_id: UserId) -> bool {
        let Ok(mut connections) = self.connections.lock() else {
            return false;
        };
        let count = connections.entry(user_id).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Forgets a connection; true when it was the user's last.
    fn leave(&self, user_id: UserId) -> bool {
        let Ok(mut connections) = self.connections.lock() else {
            return false;
        };
        match connections.get_mut(&user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                connections.remove(&user_id);
                true
            }
            None => false,
        }
    }

    pub fn is_connected(&self, user_id: UserId) -> bool {
        self.connections
            .lock()
            .map(|connections| connections.contains_key(&user_id))
            .unwrap_or(false)
    }

    /// What others see of `user` now.
    pub fn presence_of(&self, user: &User) -> Presence {
        Presence::of(user.availability, self.is_connected(user.id))
    }
}

/// Tells the workspace's agents that a user's presence changed.
pub(crate) async fn announce_presence(
    state: &ApiState,
    workspace_id: WorkspaceId,
    user_id: UserId,
    presence: Presence,
) {
    let event = RealtimeEvent {
        workspace_id,
        topic: "presence.changed".into(),
        data: serde_json::json!({ "user_id": user_id, "presence": presence.as_str() }),
    };
    if let Err(error) = state.bus.publish(event).await {
        tracing::warn!(%error, "presence change not published");
    }
}

/// What each text frame carries.
#[derive(Debug, Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    topic: &'a str,
    workspace_id: seam_core::ids::WorkspaceId,
    data: &'a serde_json::Value,
}

/// Whether a WebSocket handshake's `Origin` is this server, judged by the `Host` header.
/// Browsers always send `Origin`; its absence means a non-browser client, which cannot be the
/// victim of cross-site WebSocket hijacking, so it is allowed.
pub fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (
        origin.to_str(),
        headers.get(header::HOST).map(|host| host.to_str()),
    ) else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let normalise = |authority: &str| {
        let lower = authority.trim().trim_end_matches('/').to_ascii_lowercase();
        match lower.strip_suffix(default_port) {
            Some(bare) => bare.to_string(),
            None => lower,
        }
    };
    normalise(authority) == normalise(host)
}

/// Opens the realtime stream of the caller's workspace.
#[utoipa::path(
    get, path = "/api/v1/realtime", tag = "realtime",
    responses(
        (status = 101, description = "WebSocket of `{\"type\", \"workspace_id\", \"data\"}` JSON text frames"),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Cross-origin handshake", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn connect(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !origin_allowed(&headers) {
        return Err(ApiError::OriginRejected);
    }
    let upgrade = upgrade.map_err(|_| ApiError::WebSocketRequired)?;
    let subscription = state.bus.subscribe(actor.workspace_id).await?;
    // Agents only send pongs and closes; a large frame from them is a mistake or an attack.
    let upgrade = upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    Ok(upgrade.on_upgrade(move |socket| async move {
        let (workspace_id, user_id) = (actor.workspace_id, actor.user_id);
        if state.agents.join(user_id) {
            announce_current(&state, workspace_id, user_id).await;
        }
        relay(socket, subscription).await;
        if state.agents.leave(user_id) {
            announce_presence(&state, workspace_id, user_id, Presence::Offline).await;
        }
    }))
}

/// Announces the user's presence as their chosen availability makes it now.
async fn announce_current(state: &ApiState, workspace_id: WorkspaceId, user_id: UserId) {
    match state.store.get_user(workspace_id, user_id).await {
        Ok(Some(user)) => {
            let presence = state.agents.presence_of(&user);
            announce_presence(state, workspace_id, user_id, presence).await;
        }
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "presence not read"),
    }
}

/// Pumps bus events into a bounded queue (closing when it overflows) and the queue into the
/// socket, with pings, until either side goes away.
async fn relay(socket: WebSocket, mut subscription: Box<dyn Subscription>) {
    let (queue, mut pending) = mpsc::channel::<Message>(SEND_QUEUE);
    let mut feeder = tokio::spawn(async move {
        while let Some(event) = subscription.next().await {
            let Some(frame) = encode(&event) else {
                continue;
            };
            if queue.try_send(frame).is_err() {
                tracing::info!("realtime client too slow; disconnecting");
                return;
            }
        }
    });
    let (mut sink, mut incoming) = socket.split();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let outgoing = tokio::select! {
            frame = pending.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    break;
                }
                Message::Ping(Default::default())
            }
            received = incoming.next() => match received {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {
                    last_heard = tokio::time::Instant::now();
                    continue;
                }
            },
            // The bus ended or the client overflowed its queue.
            _ = &mut feeder => break,
        };
        match tokio::time::timeout(WRITE_TIMEOUT, sink.send(outgoing)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => break,
        }
    }
    feeder.abort();
    // A stuck client must not hold this task forever.
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
}

fn encode(event: &RealtimeEvent) -> Option<Message> {
    let frame = Frame {
        topic: &event.topic,
        workspace_id: event.workspace_id,
        data: &event.data,
    };
    match serde_json::to_string(&frame) {
        Ok(text) => Some(Message::Text(text.into())),
        Err(error) => {
            tracing::error!(%error, topic = %event.topic, "realtime event not serialisable");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            map.insert(header::ORIGIN, origin.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_same_origin_handshake_is_allowed() {
        assert!(origin_allowed(&headers(
            Some("http://localhost:8080"),
            "localhost:8080"
        )));
        assert!(origin_allowed(&headers(
            Some("https://Seam.Example.com"),
            "seam.example.com"
        )));
        assert!(origin_allowed(&headers(
            Some("https://seam.example.com"),
            "seam.example.com:443"
        )));
    }

    #[test]
    fn a_handshake_without_origin_is_a_non_browser_client_and_allowed() {
        assert!(origin_allowed(&headers(None, "localhost:8080")));
    }

    #[test]
    fn a_cross_origin_handshake_is_refused() {
        assert!(!origin_allowed(&headers(
            Some("http://evil.example"),
            "localhost:8080"
        )));
        assert!(!origin_allowed(&headers(
            Some("http://localhost:9999"),
            "localhost:8080"
        )));
        assert!(!origin_allowed(&headers(Some("null"), "localhost:8080")));
        assert!(!origin_allowed(&headers(
            Some("file://localhost:8080"),
            "localhost:8080"
        )));
        assert!(!origin_allowed(&headers(
            Some("http://localhost:8080.evil.example"),
            "localhost:8080"
        )));
    }

    #[test]
    fn an_event_becomes_a_frame_with_its_type_workspace_and_data() {
        let workspace_id = seam_core::ids::WorkspaceId::new();
        let event = RealtimeEvent {
            workspace_id,
            topic: "message.created".into(),
            data: serde_json::json!({"id": "m1"}),
        };
        let Some(Message::Text(text)) = encode(&event) else {
            panic!("not a text frame")
        };
        let frame: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(
            frame,
            serde_json::json!({
                "type": "message.created",
                "workspace_id": workspace_id.to_string(),
                "data": {"id": "m1"}
            })
        );
    }
}
