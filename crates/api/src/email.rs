//! Mail in: one raw RFC 5322 message becomes a stored message (or, for a delivery status
//! report, a failed outbound message), whichever way it arrived — the SMTP listener, a polled
//! mailbox, or `POST /api/v1/channels/{id}/email` for MTAs that pipe mail to Seam.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use seam_channels::email::parse::{self, Limits};
use seam_core::{
    Error, Result,
    channel::{Channel, ChannelKind},
    email::{self, AuthResults, BounceOutcome},
    ids::ChannelId,
    inbound::{self, Received},
    ports::{FileStore, Store},
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::bearer_token,
    error::{ApiError, ErrorBody},
    extract::ApiPath,
};

pub fn router(max_message_bytes: usize) -> Router<Arc<ApiState>> {
    Router::new().route(
        "/api/v1/channels/{id}/email",
        post(receive_raw).layer(DefaultBodyLimit::max(max_message_bytes)),
    )
}

/// What became of one mail.
#[derive(Debug)]
pub enum Ingested {
    Message(Received),
    /// A delivery status report: it changed outbound messages, and made no message.
    Bounce(BounceOutcome),
}

/// Parses and stores one raw message received for `channel`, addressed to `recipients` (the
/// envelope's, lower-cased). `null_sender` is an empty `MAIL FROM:<>`: machine-sent mail.
pub async fn ingest(
    store: &dyn Store,
    files: &dyn FileStore,
    channel: &Channel,
    recipients: &[String],
    null_sender: bool,
    auth: Option<AuthResults>,
    raw: &[u8],
) -> Result<Ingested> {
    let parsed = parse::parse(raw, &Limits::default())
        .map_err(|error| Error::invalid("message", error.to_string()))?;
    let now = chrono::Utc::now();
    if let Some(bounce) = &parsed.bounce {
        let outcome = email::record_bounce(store, channel.workspace_id, bounce, now).await?;
        tracing::info!(
            channel = %channel.id,
            failed = outcome.failed.len(),
            flagged = outcome.flagged,
            "delivery status report applied"
        );
        return Ok(Ingested::Bounce(outcome));
    }
    let mut message = parsed.into_inbound(channel.id, recipients);
    email::apply_envelope(&mut message, null_sender, auth);
    let received = inbound::receive_with_files(store, Some(files), channel, message, now).await?;
    Ok(Ingested::Message(received))
}

/// Where a piped message landed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailAccepted {
    /// `message`, or `bounce` for a delivery status report.
    pub outcome: String,
    pub customer_id: Option<Uuid>,
    pub conversation_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    /// For a bounce: outbound messages now failed.
    pub failed_message_ids: Vec<Uuid>,
}

/// Takes one raw RFC 5322 message (`Content-Type: message/rfc822`), for MTAs that pipe mail.
/// Authenticated with the email channel's secret; the same message twice stores it once.
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/email", tag = "channels",
    params(("id" = Uuid, Path, description = "Email channel id")),
    request_body(content = String, content_type = "message/rfc822"),
    responses(
        (status = 202, description = "Stored", body = MailAccepted),
        (status = 401, description = "Unknown channel or wrong secret", body = ErrorBody),
        (status = 413, description = "Larger than the message size limit", body = ErrorBody),
        (status = 422, description = "Not a message that can be read", body = ErrorBody),
    ),
    security(("channel_secret" = []))
)]
pub(crate) async fn receive_raw(
    State(state): State<Arc<ApiState>>,
    ApiPath(channel_id): ApiPath<ChannelId>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> std::result::Result<(StatusCode, Json<MailAccepted>), ApiError> {
    let bearer = bearer_token(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok()),
    );
    let channel =
        inbound::authenticate_channel(state.store.as_ref(), channel_id, ChannelKind::Email, bearer)
            .await?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::Domain(Error::invalid("body", rejection.body_text()))
        }
    })?;
    let address = channel
        .config
        .get("address")
        .and_then(|address| address.as_str())
        .unwrap_or_default()
        .to_string();
    let ingested = ingest(
        state.store.as_ref(),
        state.files.as_ref(),
        &channel,
        &[address],
        false,
        None,
        &body,
    )
    .await?;
    let accepted = match ingested {
        Ingested::Message(received) => MailAccepted {
            outcome: "message".into(),
            customer_id: Some(received.customer_id.0),
            conversation_id: Some(received.conversation_id.0),
            message_id: Some(received.message_id.0),
            failed_message_ids: Vec::new(),
        },
        Ingested::Bounce(outcome) => MailAccepted {
            outcome: "bounce".into(),
            customer_id: None,
            conversation_id: None,
            message_id: None,
            failed_message_ids: outcome.failed.iter().map(|id| id.0).collect(),
        },
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
