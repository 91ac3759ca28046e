//! `POST /api/v1/conversations/{id}/join` and `POST /api/v1/messages/{id}/split`: joining two
//! conversations of one customer and splitting a message off. Only translates.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use seam_core::{
    ids::{ConversationId, MessageId},
    regroup,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    conversations::ConversationView,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/conversations/{id}/join", post(join))
        .route("/api/v1/messages/{id}/split", post(split))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The conversation whose messages move into the one in the path; it is resolved, empty.
    pub conversation_id: Uuid,
}

/// Joins another conversation of the same customer into this one.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/join", tag = "conversations",
    params(("id" = Uuid, Path, description = "The conversation that stays")),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "The joined conversation", body = ConversationView),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "Different customers, or a resolved conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn join(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<JoinRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    let joined = regroup::join_conversations(
        state.store.as_ref(),
        &actor,
        id,
        ConversationId(request.conversation_id),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(joined.into()))
}

/// Moves one message into a new conversation of the same customer, linked to the old one.
#[utoipa::path(
    post, path = "/api/v1/messages/{id}/split", tag = "conversations",
    params(("id" = Uuid, Path, description = "Message id")),
    responses(
        (status = 201, description = "The new conversation", body = ConversationView),
        (status = 404, description = "No such message", body = ErrorBody),
        (status = 422, description = "A note or activity, or the only message of its conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn split(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<MessageId>,
) -> Result<(StatusCode, Json<ConversationView>), ApiError> {
    let created =
        regroup::split_message(state.store.as_ref(), &actor, id, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}
