//! One widget connection: waits for `hello`, answers `welcome` with the visitor's history,
//! registers the connection for pushes, then serves `message`, `typing`, `delivered` and
//! `read` frames until the widget goes away. Every use case it calls is scoped by the
//! [`Visitor`] the hello proved; errors become `error` frames, never a dropped connection.

use std::{sync::Arc, time::Duration};

use axum::extract::ws::{Message as Frame, WebSocket};
use futures::{SinkExt, StreamExt, stream::SplitSink};
use seam_core::{
    Error,
    channel::Channel,
    ids::{ConversationId, CustomerId, MessageId},
    message::DeliveryStatus,
    webchat::{self, Visitor, WidgetPush},
};
use tokio::sync::mpsc;

use super::protocol::{ClientFrame, ServerFrame, encode_push, welcome};
use crate::ApiState;

/// How often the server pings; proxies drop sockets silent for about a minute.
pub const PING_INTERVAL: Duration = Duration::from_secs(25);
/// Pushes waiting for a slow widget before it is disconnected.
pub const SEND_QUEUE: usize = 64;
/// A widget that has sent nothing (not even a pong) for this long is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(3 * 25);
/// How long a new connection may take to say hello.
const HELLO_WITHIN: Duration = Duration::from_secs(15);
/// A frame that cannot be written in this time means the widget is stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Typing signals closer together than this are not passed on (unless they change state).
const TYPING_EVERY: Duration = Duration::from_secs(1);

type Sink = SplitSink<WebSocket, Frame>;

async fn send(sink: &mut Sink, frame: Frame) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, sink.send(frame)).await,
        Ok(Ok(()))
    )
}

/// What the socket knows about the visitor's conversation, from its own messages.
#[derive(Default)]
struct Seen {
    customer_id: Option<CustomerId>,
    conversation_id: Option<ConversationId>,
    last_typing: Option<(tokio::time::Instant, bool)>,
}

pub(crate) async fn serve(socket: WebSocket, state: Arc<ApiState>, channel: Channel) {
    let (mut sink, mut incoming) = socket.split();
    let Some(visitor) = greet(&mut sink, &mut incoming, &state, &channel).await else {
        let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
        return;
    };
    let (queue, mut pushes) = mpsc::channel::<WidgetPush>(SEND_QUEUE);
    let Some(_registration) =
        state
            .presence
            .register(channel.workspace_id, &visitor.visitor_id, queue)
    else {
        let frame = ServerFrame::error(
            "too_many_connections",
            "this visitor has too many open widgets; close one",
        );
        let _ = send(&mut sink, frame.encode()).await;
        let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
        return;
    };
    let mut seen = Seen::default();
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    loop {
        let outgoing = tokio::select! {
            push = pushes.recv() => match push {
                Some(push) => encode_push(&push),
                None => break,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    break;
                }
                Frame::Ping(Default::default())
            }
            received = incoming.next() => {
                last_heard = tokio::time::Instant::now();
                match received {
                    Some(Ok(Frame::Text(text))) => {
                        let replies = handle(&state, &visitor, &mut seen, text.as_str()).await;
                        let mut delivered = true;
                        for reply in replies {
                            delivered &= send(&mut sink, reply).await;
                        }
                        if !delivered {
                            break;
                        }
                        continue;
                    }
                    Some(Ok(Frame::Binary(_))) => ServerFrame::error(
                        "bad_frame",
                        "frames are JSON text",
                    )
                    .encode(),
                    Some(Ok(Frame::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                }
            }
        };
        if !send(&mut sink, outgoing).await {
            break;
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
}

/// Reads frames until a valid `hello`, and answers `welcome`. `None` when the widget left,
/// took too long or sent something else first.
async fn greet(
    sink: &mut Sink,
    incoming: &mut futures::stream::SplitStream<WebSocket>,
    state: &ApiState,
    channel: &Channel,
) -> Option<Visitor> {
    let first = tokio::time::timeout(HELLO_WITHIN, incoming.next()).await;
    let text = match first {
        Ok(Some(Ok(Frame::Text(text)))) => text,
        Err(_) => {
            let frame = ServerFrame::error("hello_required", "say hello first");
            send(sink, frame.encode()).await;
            return None;
        }
        _ => return None,
    };
    let parsed = ClientFrame::parse(text.as_str()).map(ClientFrame::into_hello);
    let Ok(Some((named_channel, hello, last_event_id))) = parsed else {
        let frame = ServerFrame::error("hello_required", "the first frame must be a hello");
        send(sink, frame.encode()).await;
        return None;
    };
    if named_channel.is_some_and(|named| named != channel.id.to_string()) {
        let frame = ServerFrame::error("bad_frame", "hello names another channel than the URL");
        send(sink, frame.encode()).await;
        return None;
    }
    let visitor = match webchat::admit(channel, hello) {
        Ok(visitor) => visitor,
        Err(error) => {
            send(sink, error_frame(&error, None).encode()).await;
            return None;
        }
    };
    let now = chrono::Utc::now();
    let history = match webchat::welcome(state.store.as_ref(), &visitor, last_event_id, now).await {
        Ok(history) => history,
        Err(error) => {
            send(sink, error_frame(&error, None).encode()).await;
            return None;
        }
    };
    if !send(sink, welcome(&visitor, &history.messages).encode()).await {
        return None;
    }
    Some(visitor)
}

/// Serves one frame after the hello; returns the frames to answer with.
async fn handle(state: &ApiState, visitor: &Visitor, seen: &mut Seen, text: &str) -> Vec<Frame> {
    let frame = match ClientFrame::parse(text) {
        Ok(frame) => frame,
        Err(reason) => return vec![ServerFrame::error("bad_frame", reason).encode()],
    };
    let store = state.store.as_ref();
    let now = chrono::Utc::now();
    match frame {
        ClientFrame::Hello { .. } => {
            vec![ServerFrame::error("bad_frame", "hello was said already").encode()]
        }
        ClientFrame::Message { client_id, text } => {
            if let Err(wait) = state
                .presence
                .spend_message(visitor.channel.id, &visitor.visitor_id)
            {
                return vec![
                    ServerFrame::Error {
                        code: "rate_limited",
                        message: "too many messages; wait a moment".into(),
                        client_id: Some(&client_id),
                        retry_after_ms: Some(wait.as_millis().max(1) as u64),
                    }
                    .encode(),
                ];
            }
            match webchat::send(store, visitor, &client_id, &text, now).await {
                Ok(received) => {
                    seen.customer_id = Some(received.customer_id);
                    seen.conversation_id = Some(received.conversation_id);
                    let created_at = match store
                        .get_message(visitor.channel.workspace_id, received.message_id)
                        .await
                    {
                        Ok(Some(message)) => message.created_at,
                        _ => now,
                    };
                    vec![
                        ServerFrame::Ack {
                            client_id: &client_id,
                            message_id: received.message_id,
                            created_at,
                        }
                        .encode(),
                    ]
                }
                Err(error) => vec![error_frame(&error, Some(&client_id)).encode()],
            }
        }
        ClientFrame::Typing { typing } => {
            let quiet = seen
                .last_typing
                .is_some_and(|(at, was)| was == typing && at.elapsed() < TYPING_EVERY);
            if !quiet {
                seen.last_typing = Some((tokio::time::Instant::now(), typing));
                let event = webchat::visitor_typing_event(
                    visitor,
                    seen.customer_id,
                    seen.conversation_id,
                    typing,
                );
                if let Err(error) = state.bus.publish(event).await {
                    tracing::warn!(%error, "publishing a visitor's typing failed");
                }
            }
            Vec::new()
        }
        ClientFrame::Delivered { message_ids } => {
            report(store, visitor, &message_ids, DeliveryStatus::Delivered).await
        }
        ClientFrame::Read { message_ids } => {
            report(store, visitor, &message_ids, DeliveryStatus::Read).await
        }
    }
}

async fn report(
    store: &dyn seam_core::ports::Store,
    visitor: &Visitor,
    message_ids: &[MessageId],
    status: DeliveryStatus,
) -> Vec<Frame> {
    match webchat::report(store, visitor, message_ids, status, chrono::Utc::now()).await {
        Ok(reported) => reported
            .into_iter()
            .filter_map(|message| {
                message.delivery_status.map(|status| {
                    ServerFrame::Status {
                        message_id: message.id,
                        status,
                    }
                    .encode()
                })
            })
            .collect(),
        Err(error) => vec![error_frame(&error, None).encode()],
    }
}

/// A domain error as an `error` frame; internal details are logged, never sent.
fn error_frame<'a>(error: &Error, client_id: Option<&'a str>) -> ServerFrame<'a> {
    let (code, message) = match error {
        Error::Invalid { field, reason } if field == "text" && reason.contains("longer") => {
            ("too_long", format!("{field} {reason}"))
        }
        Error::Invalid { field, reason } => ("invalid", format!("{field} {reason}")),
        Error::Refused { reason } => ("refused", reason.clone()),
        Error::Unavailable(what) => {
            tracing::warn!(error = %what, "widget: dependency unavailable");
            (
                "unavailable",
                "the service is temporarily unavailable; try again".into(),
            )
        }
        Error::NotFound => ("not_found", "not found".into()),
        other => {
            tracing::error!(error = %other, "widget: internal error");
            ("internal", "internal server error".into())
        }
    };
    ServerFrame::Error {
        code,
        message,
        client_id,
        retry_after_ms: None,
    }
}
