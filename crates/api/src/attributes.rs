//! `/api/v1/attributes`: the workspace's custom attribute schema — list (any user) and define
//! (admins and owners). Rules are core's; this module only translates.

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use chrono::{DateTime, Utc};
use seam_core::attributes::{self, AttributeDefinition, NewAttribute};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::ApiJson,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/v1/attributes", get(list).post(create))
}

/// One custom attribute customers of this workspace may carry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeView {
    /// `[a-z][a-z0-9_]{0,63}`; the key in a customer's `attributes`.
    pub key: String,
    /// `string`, `number`, `boolean`, `date` (`YYYY-MM-DD`) or `list` (of strings).
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
}

impl From<AttributeDefinition> for AttributeView {
    fn from(definition: AttributeDefinition) -> Self {
        AttributeView {
            key: definition.key,
            kind: definition.kind.as_str().to_string(),
            label: definition.label,
            created_at: definition.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttributeList {
    pub items: Vec<AttributeView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub key: String,
    /// `string`, `number`, `boolean`, `date` or `list`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Shown to agents; the key when absent.
    pub label: Option<String>,
}

/// Lists the workspace's attribute definitions, oldest first.
#[utoipa::path(
    get, path = "/api/v1/attributes", tag = "customers",
    responses((status = 200, description = "Every definition", body = AttributeList)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<AttributeList>, ApiError> {
    let definitions = attributes::list_attributes(state.store.as_ref(), &actor).await?;
    Ok(Json(AttributeList {
        items: definitions.into_iter().map(AttributeView::from).collect(),
    }))
}

/// Defines a custom attribute (admins and owners).
#[utoipa::path(
    post, path = "/api/v1/attributes", tag = "customers",
    request_body = CreateRequest,
    responses(
        (status = 201, description = "Defined", body = AttributeView),
        (status = 403, description = "Not an admin or owner", body = ErrorBody),
        (status = 409, description = "The key is defined already", body = ErrorBody),
        (status = 422, description = "An invalid key, type or label", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<AttributeView>), ApiError> {
    let definition = attributes::define_attribute(
        state.store.as_ref(),
        &actor,
        NewAttribute {
            key: request.key,
            kind: request.kind,
            label: request.label,
        },
        chrono::Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(definition.into())))
}
