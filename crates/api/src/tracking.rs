//! `POST /api/v1/identify`, `/api/v1/track` and `/api/v1/batch`: Segment-shaped tracking calls.
//! Reads the payloads into core's calls (a batch item that cannot be read is reported by its
//! index) and hands them to `seam_core::tracking`. No resolution or storage rule here.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::post};
use seam_core::{
    Error,
    tracking::{self, Call, Identify, ItemOutcome, Track, Tracked},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
    inbound::IgnoredView,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/identify", post(identify))
        .route("/api/v1/track", post(track))
        .route("/api/v1/batch", post(batch))
}

/// Who a customer is (Segment's identify). At least one of `userId`, `anonymousId`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentifyRequest {
    /// Your user id: an `external_id` identity.
    pub user_id: Option<String>,
    /// A browser or device id: a `visitor` identity.
    pub anonymous_id: Option<String>,
    /// `email`, `phone` and `name` become identities and the name; other traits are kept on
    /// the stored identify event.
    #[schema(value_type = Option<Object>)]
    pub traits: Option<Map<String, Value>>,
    /// When it happened (RFC 3339); now when absent.
    pub timestamp: Option<String>,
    /// Idempotency key, unique per workspace: a repeat answers the same ids.
    pub message_id: Option<String>,
}

/// Something a customer did (Segment's track). At least one of `userId`, `anonymousId`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackRequest {
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// 1–200 characters. `order_placed`, `order_shipped`, `order_delivered` need
    /// `properties.order_id`; `return_requested`, `return_received`, `refund_issued` need
    /// `properties.return_id`.
    pub event: String,
    /// A JSON object of at most 32 KiB.
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Map<String, Value>>,
    pub timestamp: Option<String>,
    pub message_id: Option<String>,
}

impl From<IdentifyRequest> for Call {
    fn from(request: IdentifyRequest) -> Self {
        Call::Identify(Identify {
            user_id: request.user_id,
            anonymous_id: request.anonymous_id,
            traits: request.traits,
            timestamp: request.timestamp,
            message_id: request.message_id,
        })
    }
}

impl From<TrackRequest> for Call {
    fn from(request: TrackRequest) -> Self {
        Call::Track(Track {
            user_id: request.user_id,
            anonymous_id: request.anonymous_id,
            event: request.event,
            properties: request.properties,
            timestamp: request.timestamp,
            message_id: request.message_id,
        })
    }
}

/// Up to 500 identify and track calls, stored together.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchRequest {
    /// Each an identify or track call with `"type": "identify" | "track"`.
    #[schema(value_type = Vec<Object>)]
    pub batch: Vec<Value>,
}

/// Where a call landed; the same ids for a repeated `messageId`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedView {
    pub customer_id: Uuid,
    pub event_id: Uuid,
    /// True when the `messageId` was seen before and nothing new was stored.
    pub duplicate: bool,
    /// Identities that were ignored (placeholders such as `null` or `anonymous`, and the
    /// workspace's blocked values), with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredView>,
}

impl From<Tracked> for TrackedView {
    fn from(tracked: Tracked) -> Self {
        TrackedView {
            customer_id: tracked.customer_id.0,
            event_id: tracked.event_id.0,
            duplicate: tracked.duplicate,
            ignored: tracked.ignored.into_iter().map(IgnoredView::from).collect(),
        }
    }
}

/// The result of one call of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// Position of the call in `batch`, from 0.
    pub index: usize,
    /// `stored`, `duplicate` or `rejected`.
    pub status: &'static str,
    pub customer_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    /// For a rejected call: the offending field and why.
    pub field: Option<String>,
    pub reason: Option<String>,
    /// Identities that were ignored, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<IgnoredView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

fn result_of(index: usize, outcome: ItemOutcome) -> BatchResult {
    match outcome {
        ItemOutcome::Tracked(tracked) => BatchResult {
            index,
            status: if tracked.duplicate {
                "duplicate"
            } else {
                "stored"
            },
            customer_id: Some(tracked.customer_id.0),
            event_id: Some(tracked.event_id.0),
            field: None,
            reason: None,
            ignored: tracked.ignored.into_iter().map(IgnoredView::from).collect(),
        },
        ItemOutcome::Rejected { field, reason } => BatchResult {
            index,
            status: "rejected",
            customer_id: None,
            event_id: None,
            field: Some(field),
            reason: Some(reason),
            ignored: Vec::new(),
        },
    }
}

/// Reads one batch item by its `type`; what cannot be read names its field inside the item.
fn read_item(value: Value) -> Result<Call, Error> {
    fn read<T: serde::de::DeserializeOwned + Into<Call>>(value: Value) -> Result<Call, Error> {
        serde_path_to_error::deserialize::<_, T>(value)
            .map(Into::into)
            .map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." {
                    "batch[]".to_string()
                } else {
                    path
                };
                Error::invalid(field, error.into_inner().to_string())
            })
    }
    match value.get("type").and_then(Value::as_str) {
        Some("identify") => read::<IdentifyRequest>(value),
        Some("track") => read::<TrackRequest>(value),
        _ => Err(Error::invalid("type", "must be identify or track")),
    }
}

/// Identifies a customer: resolves or creates them from the given ids and traits.
#[utoipa::path(
    post, path = "/api/v1/identify", tag = "tracking", request_body = IdentifyRequest,
    responses(
        (status = 200, description = "Resolved (or already recorded: same ids)", body = TrackedView),
        (status = 422, description = "No id, or an invalid field", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn identify(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<IdentifyRequest>,
) -> Result<Json<TrackedView>, ApiError> {
    let tracked = tracking::identify(
        state.store.as_ref(),
        &actor,
        request.into(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(tracked.into()))
}

/// Records an event on the customer the ids resolve to; commerce events update the order or
/// return they name.
#[utoipa::path(
    post, path = "/api/v1/track", tag = "tracking", request_body = TrackRequest,
    responses(
        (status = 200, description = "Stored (or already stored: same ids)", body = TrackedView),
        (status = 422, description = "No id, or an invalid field", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn track(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<TrackRequest>,
) -> Result<Json<TrackedView>, ApiError> {
    let tracked = tracking::track(
        state.store.as_ref(),
        &actor,
        request.into(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(tracked.into()))
}

/// Stores up to 500 calls in one transaction; each is answered by its index.
#[utoipa::path(
    post, path = "/api/v1/batch", tag = "tracking", request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per call", body = BatchResponse),
        (status = 422, description = "An empty batch or more than 500 calls", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn batch(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    let calls = request.batch.into_iter().map(read_item).collect();
    let outcomes = tracking::batch(state.store.as_ref(), &actor, calls, chrono::Utc::now()).await?;
    Ok(Json(BatchResponse {
        results: outcomes
            .into_iter()
            .enumerate()
            .map(|(index, outcome)| result_of(index, outcome))
            .collect(),
    }))
}
