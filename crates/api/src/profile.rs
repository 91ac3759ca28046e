//! Editing a customer's profile: `PATCH /api/v1/customers/{id}` (name, locale, time zone, tags,
//! attributes) and `PUT /api/v1/customers/{id}/consent/{channel_kind}`. Validation is core's;
//! this module only translates.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::put};
use seam_core::{
    consent,
    ids::CustomerId,
    profile::{self, CustomerUpdate},
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    ApiState,
    authenticate::Authenticated,
    conversations::nullable,
    customers::CustomerView,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route(
        "/api/v1/customers/{id}/consent/{channel_kind}",
        put(set_consent),
    )
}

/// A partial edit: absent fields stay as they are; `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub name: Option<Option<String>>,
    /// BCP 47 language tag (`fa-IR`); normalised.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub locale: Option<Option<String>>,
    /// IANA time zone name (`Asia/Tehran`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, nullable)]
    pub time_zone: Option<Option<String>>,
    /// Replaces every tag: trimmed, lower-cased, deduplicated; at most 50 of at most 64
    /// characters.
    pub tags: Option<Vec<String>>,
    /// Attribute values by key, checked against the workspace's schema; `null` removes a key,
    /// keys not named stay.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<UpdateRequest> for CustomerUpdate {
    fn from(request: UpdateRequest) -> Self {
        CustomerUpdate {
            name: request.name,
            locale: request.locale,
            time_zone: request.time_zone,
            tags: request.tags,
            attributes: request.attributes,
        }
    }
}

/// Edits name, locale, time zone, tags or custom attributes.
#[utoipa::path(
    patch, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "The updated profile", body = CustomerView),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "An invalid value; `field` names it (`attributes.<key>`)",
            body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Json<CustomerView>, ApiError> {
    let profile = profile::update_customer(
        state.store.as_ref(),
        &actor,
        id,
        request.into(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `opted_in`, `opted_out` or `unknown`.
    pub status: String,
    /// Where the answer came from (at most 200 characters); `agent:<your user id>` when absent.
    pub source: Option<String>,
}

/// Records the customer's consent on one channel kind.
#[utoipa::path(
    put, path = "/api/v1/customers/{id}/consent/{channel_kind}", tag = "customers",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("channel_kind" = String, Path, description = "email, sms, whatsapp, messenger, \
            instagram, telegram, line, webchat or voice"),
    ),
    request_body = ConsentRequest,
    responses(
        (status = 200, description = "The updated profile", body = CustomerView),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "An invalid channel kind, status or source", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn set_consent(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath((id, channel_kind)): ApiPath<(CustomerId, String)>,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<Json<CustomerView>, ApiError> {
    let profile = consent::set_consent(
        state.store.as_ref(),
        &actor,
        id,
        &channel_kind,
        &request.status,
        request.source.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Json(profile.into()))
}
