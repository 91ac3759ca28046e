//! `GET /api/v1/customers/{id}/export` and `POST /api/v1/customers/{id}/erase`: everything held
//! on a customer as one JSON document, and the erasure of their personal data. Admins and
//! owners only (checked by the use cases); this module only translates.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use seam_core::{
    ids::CustomerId,
    privacy::{self, CustomerExport},
};

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiPath,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/customers/{id}/export", get(export))
        .route("/api/v1/customers/{id}/erase", post(erase))
}

/// Exports everything Seam holds on a customer: the profile, its identities, its conversations
/// with their messages, and its events.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/export", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The document: customer, identities, conversations (each with messages), events", body = Object),
        (status = 403, description = "Not an admin or owner", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn export(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
) -> Result<Json<CustomerExport>, ApiError> {
    Ok(Json(
        privacy::export_customer(state.store.as_ref(), &actor, id).await?,
    ))
}

/// Erases a customer's personal data in one transaction: the name, every identity, message
/// texts, event properties, and pending deliveries about them. The customer stays as an
/// anonymous shell so that counts and metrics survive; the erasure is audited. A later message
/// from one of the erased addresses makes a new customer.
#[utoipa::path(
    post, path = "/api/v1/customers/{id}/erase", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 204, description = "Erased"),
        (status = 403, description = "Not an admin or owner", body = ErrorBody),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn erase(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
) -> Result<StatusCode, ApiError> {
    privacy::erase_customer(state.store.as_ref(), &actor, id, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
