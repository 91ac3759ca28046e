//! `/api/v1/customers/duplicates`: probable duplicate customers with the reason, and their
//! dismissal. Finding them is core's and the store's; this module only translates.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use seam_core::{
    duplicates::{self, DuplicateCursor, DuplicatePair},
    ids::CustomerId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiQuery},
    page,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/customers/duplicates", get(list))
        .route("/api/v1/customers/duplicates/dismiss", post(dismiss))
}

/// Two customers that are probably one person; merge them or dismiss the pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    /// The two customers (the smaller id first).
    pub customer_ids: [Uuid; 2],
    /// The strongest reason that holds: `same_name_and_email_domain`,
    /// `same_name_and_phone_suffix`, `same_phone_digits` or `same_name`.
    pub reason: String,
}

impl From<DuplicatePair> for DuplicateView {
    fn from(pair: DuplicatePair) -> Self {
        let reason = serde_json::to_value(pair.reason)
            .ok()
            .and_then(|value| value.as_str().map(str::to_string))
            .unwrap_or_default();
        DuplicateView {
            customer_ids: [pair.customer_a.0, pair.customer_b.0],
            reason,
        }
    }
}

/// One page of suggestions, strongest reason first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateList {
    pub items: Vec<DuplicateView>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

/// Lists probable duplicate customers with the reason.
#[utoipa::path(
    get, path = "/api/v1/customers/duplicates", tag = "customers", params(ListQuery),
    responses(
        (status = 200, description = "One page", body = DuplicateList),
        (status = 422, description = "An invalid parameter", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<DuplicateList>, ApiError> {
    let cursor = query
        .cursor
        .as_deref()
        .filter(|raw| !raw.is_empty())
        .map(DuplicateCursor::decode)
        .transpose()?;
    let limit = page::parse_limit(query.limit.as_deref())?;
    let page =
        duplicates::list_duplicates(state.store.as_ref(), &actor, cursor.as_ref(), limit).await?;
    Ok(Json(DuplicateList {
        items: page.items.into_iter().map(DuplicateView::from).collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DismissRequest {
    /// The two customers of the pair.
    pub customer_ids: Vec<Uuid>,
}

/// Stops suggesting a pair.
#[utoipa::path(
    post, path = "/api/v1/customers/duplicates/dismiss", tag = "customers",
    request_body = DismissRequest,
    responses(
        (status = 204, description = "Dismissed (also when it was already)"),
        (status = 404, description = "A customer does not exist", body = ErrorBody),
        (status = 422, description = "Not exactly two different customers", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn dismiss(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<DismissRequest>,
) -> Result<StatusCode, ApiError> {
    let ids: Vec<CustomerId> = request.customer_ids.into_iter().map(CustomerId).collect();
    duplicates::dismiss_duplicate(state.store.as_ref(), &actor, &ids, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
