//! Operational endpoints: liveness, readiness (the database answers) and Prometheus metrics.
//! No authentication and no tenant data.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    ApiState,
    error::{ApiError, ErrorBody},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health))
)]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(state): State<Arc<ApiState>>) -> Result<Json<Health>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(Health { status: "ok" })),
        // Whatever the store says, readiness is "not now": a 503, never a 500.
        Err(error) => Err(seam_core::Error::Unavailable(error.to_string()).into()),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 404, description = "Metrics are not enabled", body = ErrorBody),
    )
)]
pub(crate) async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    match &state.metrics {
        Some(handle) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => ApiError::RouteNotFound.into_response(),
    }
}
