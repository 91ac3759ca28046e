//! `POST /api/v1/channels/{id}/inbound`: the API channel's inbound endpoint. Checks the channel
//! secret before reading the body, turns the payload into core's `InboundMessage` and hands it
//! to the one inbound path. No deduplication or customer matching here.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{FromRequest, Request, State},
    http::{StatusCode, header},
    routing::post,
};
use chrono::{DateTime, Utc};
use seam_core::{
    identity::IdentityKind,
    ids::ChannelId,
    inbound::{self, InboundMessage, RawIdentity, Received},
    resolution::IgnoredIdentity,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::bearer_token,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/v1/channels/{id}/inbound", post(receive))
}

/// A message an integrator's backend received from its customer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InboundRequest {
    /// Your id for this message: sending the same id again stores nothing new.
    pub message_id: String,
    pub from: Sender,
    pub text: String,
    /// When the customer sent it (RFC 3339); now when absent.
    pub sent_at: Option<DateTime<Utc>>,
}

/// Who sent it: at least one of `email`, `phone`, `external_id`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    pub email: Option<String>,
    /// Any common format; read in the workspace's default region and stored as E.164.
    pub phone: Option<String>,
    /// Your own user id; trusted, because your backend vouches for it.
    pub external_id: Option<String>,
    pub name: Option<String>,
}

impl InboundRequest {
    /// The payload as core's inbound message. Values are normalised and checked by core.
    pub fn into_inbound(self, channel_id: ChannelId) -> InboundMessage {
        let from = self.from;
        // The integration holding the channel's secret vouches for the addresses it sends,
        // as a server-side identify call does.
        let identities = [
            (IdentityKind::Email, from.email, "from.email", true),
            (IdentityKind::Phone, from.phone, "from.phone", true),
            (
                IdentityKind::ExternalId,
                from.external_id,
                "from.external_id",
                true,
            ),
        ];
        let sender = identities
            .into_iter()
            .filter_map(|(kind, value, field, verified)| {
                value.map(|value| RawIdentity {
                    kind,
                    value,
                    field: field.to_string(),
                    verified,
                })
            })
            .collect();
        InboundMessage {
            channel_id,
            provider_message_id: self.message_id,
            sender,
            sender_name: from.name,
            text: self.text,
            sent_at: self.sent_at,
            email: None,
            attachments: Vec::new(),
        }
    }
}

/// Where the message landed; the same for a repeated `message_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub customer_id: Uuid,
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    /// Sender addresses that were ignored (placeholders such as `null` or `test@test.com`,
    /// and the workspace's blocked values), with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredView>,
}

/// An address left out of resolution.
#[derive(Debug, Serialize, ToSchema)]
pub struct IgnoredView {
    /// Where it was in the request, e.g. `from.email`.
    pub field: String,
    pub reason: String,
}

impl From<IgnoredIdentity> for IgnoredView {
    fn from(ignored: IgnoredIdentity) -> Self {
        IgnoredView {
            field: ignored.field,
            reason: ignored.reason,
        }
    }
}

impl From<Received> for Accepted {
    fn from(received: Received) -> Self {
        Accepted {
            customer_id: received.customer_id.0,
            conversation_id: received.conversation_id.0,
            message_id: received.message_id.0,
            ignored: received
                .ignored
                .into_iter()
                .map(IgnoredView::from)
                .collect(),
        }
    }
}

/// Receives one message on an API channel (`Authorization: Bearer <channel secret>`).
#[utoipa::path(
    post, path = "/api/v1/channels/{id}/inbound", tag = "channels",
    params(("id" = Uuid, Path, description = "Channel id")),
    request_body = InboundRequest,
    responses(
        (status = 202, description = "Accepted (or already accepted: same ids)", body = Accepted),
        (status = 400, description = "Malformed JSON or a wrong type", body = ErrorBody),
        (status = 401, description = "Unknown channel or wrong secret", body = ErrorBody),
        (status = 422, description = "An invalid or unknown field", body = ErrorBody),
    ),
    security(("channel_secret" = []))
)]
pub(crate) async fn receive(
    State(state): State<Arc<ApiState>>,
    ApiPath(channel_id): ApiPath<ChannelId>,
    request: Request,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let store = state.store.as_ref();
    let authorization = request.headers().get(header::AUTHORIZATION);
    let bearer = bearer_token(authorization.and_then(|value| value.to_str().ok()));
    // The secret is checked before the body is read, so strangers cannot make us parse.
    let channel = inbound::authenticate_api_channel(store, channel_id, bearer).await?;
    let ApiJson(payload) = ApiJson::<InboundRequest>::from_request(request, &state).await?;
    let received = inbound::receive(
        store,
        &channel,
        payload.into_inbound(channel.id),
        chrono::Utc::now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(received.into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;
    use seam_core::Error;

    #[test]
    fn every_given_address_becomes_a_verified_identity() {
        let body = br#"{"message_id": "m1", "text": "hello",
            "from": {"email": "a@example.com", "phone": "+16502530000", "external_id": "u-7", "name": "Ana"}}"#;
        let request: InboundRequest = parse_json(body).unwrap();
        let channel_id = ChannelId::new();
        let message = request.into_inbound(channel_id);
        assert_eq!(message.channel_id, channel_id);
        assert_eq!(message.provider_message_id, "m1");
        assert_eq!(message.sender_name.as_deref(), Some("Ana"));
        let found: Vec<(IdentityKind, &str, bool)> = message
            .sender
            .iter()
            .map(|raw| (raw.kind, raw.field.as_str(), raw.verified))
            .collect();
        assert_eq!(
            found,
            [
                (IdentityKind::Email, "from.email", true),
                (IdentityKind::Phone, "from.phone", true),
                (IdentityKind::ExternalId, "from.external_id", true),
            ]
        );
    }

    #[test]
    fn sent_at_is_read_as_rfc_3339() {
        let body = br#"{"message_id": "m1", "text": "hi", "from": {"email": "a@example.com"},
            "sent_at": "2026-11-23T10:00:00+01:00"}"#;
        let message = parse_json::<InboundRequest>(body)
            .unwrap()
            .into_inbound(ChannelId::new());
        assert_eq!(
            message.sent_at.unwrap().to_rfc3339(),
            "2026-11-23T09:00:00+00:00"
        );
        let body = br#"{"message_id": "m1", "text": "hi", "from": {}, "sent_at": "yesterday"}"#;
        let error = parse_json::<InboundRequest>(body).unwrap_err();
        assert!(
            matches!(error, ApiError::InvalidBody { ref field, .. } if field.as_deref() == Some("sent_at"))
        );
    }

    #[test]
    fn an_unknown_sender_field_is_refused_by_name() {
        let body = br#"{"message_id": "m1", "text": "hi", "from": {"emial": "a@example.com"}}"#;
        let error = parse_json::<InboundRequest>(body).unwrap_err();
        assert!(
            matches!(error, ApiError::Domain(Error::Invalid { ref field, .. }) if field == "from.emial"),
            "{error:?}"
        );
    }

    #[test]
    fn a_wrong_type_is_a_bad_body() {
        let body = br#"{"message_id": 17, "text": "hi", "from": {}}"#;
        let error = parse_json::<InboundRequest>(body).unwrap_err();
        assert!(matches!(error, ApiError::InvalidBody { .. }), "{error:?}");
    }
}
