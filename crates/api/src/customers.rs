//! `/api/v1/customers` and `/api/v1/customers/{id}`: search, and the profile with its
//! identities, consents and computed fields. Matching and scoping are core's and the store's;
//! this module only translates.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use seam_core::{
    consent::Consent,
    customer::{self, CustomerIdentity, CustomerProfile},
    ids::CustomerId,
    stats::{self, CustomerStats},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiPath, ApiQuery},
    page::{self, List},
    profile,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/customers", get(search))
        .route("/api/v1/customers/{id}", get(read).patch(profile::update))
}

/// One address the customer is known by.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityView {
    /// `email`, `phone`, `whatsapp`, `messenger`, `instagram`, `telegram`, `line`, `visitor`
    /// or `external_id`.
    pub kind: String,
    /// Normalised: emails lower-cased, phone numbers in E.164.
    pub value: String,
    /// Proven by a channel rather than claimed by the sender.
    pub verified: bool,
    /// Where it came from: `channel:<id>`, `identify`, `import` or `agent:<id>`.
    pub source: String,
    pub created_at: DateTime<Utc>,
}

impl From<CustomerIdentity> for IdentityView {
    fn from(held: CustomerIdentity) -> Self {
        IdentityView {
            kind: held.identity.kind.as_str().to_string(),
            value: held.identity.value,
            verified: held.verified,
            source: held.source,
            created_at: held.created_at,
        }
    }
}

/// A customer's consent on one channel kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    /// `email`, `sms`, `whatsapp`, `messenger`, `instagram`, `telegram`, `line`, `webchat` or
    /// `voice`.
    pub channel_kind: String,
    /// `opted_in`, `opted_out` or `unknown` (nothing recorded).
    pub status: String,
    /// Where the answer came from (`import`, `widget`, `agent:<user id>` …); `null` if unknown.
    pub source: Option<String>,
    /// When it was recorded; `null` if unknown.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<Consent> for ConsentView {
    fn from(consent: Consent) -> Self {
        ConsentView {
            channel_kind: consent.channel_kind.as_str().to_string(),
            status: consent.status.as_str().to_string(),
            source: consent.source,
            updated_at: consent.updated_at,
        }
    }
}

/// The unified profile of one customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Option<String>,
    /// Set while this customer is merged into that one (undo the merge to separate them).
    pub merged_into_id: Option<Uuid>,
    /// BCP 47 (`fa-IR`).
    pub locale: Option<String>,
    /// IANA time zone (`Asia/Tehran`).
    pub time_zone: Option<String>,
    /// Lower-case, without duplicates.
    pub tags: Vec<String>,
    /// Custom attribute values by key (see `/api/v1/attributes`).
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    pub identities: Vec<IdentityView>,
    /// One entry per channel kind on the single-customer read; empty in search results.
    pub consents: Vec<ConsentView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerProfile> for CustomerView {
    fn from(profile: CustomerProfile) -> Self {
        let customer = profile.customer;
        CustomerView {
            id: customer.id.0,
            workspace_id: customer.workspace_id.0,
            name: customer.name,
            merged_into_id: customer.merged_into_id.map(|id| id.0),
            locale: customer.locale.map(|locale| locale.as_str().to_string()),
            time_zone: customer.time_zone.map(|zone| zone.as_str().to_string()),
            tags: customer.tags,
            attributes: customer.attributes,
            identities: profile
                .identities
                .into_iter()
                .map(IdentityView::from)
                .collect(),
            consents: profile
                .consents
                .into_iter()
                .map(ConsentView::from)
                .collect(),
            created_at: customer.created_at,
            updated_at: customer.updated_at,
        }
    }
}

/// What a customer spent in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpentView {
    /// `null` for orders that named no currency.
    pub currency: Option<String>,
    /// A decimal string, exact.
    pub total: String,
}

/// The computed fields of a profile, kept current as messages and events arrive.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub first_seen_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The channel of the customer's latest message.
    pub last_channel_id: Option<Uuid>,
    /// Most recently used first.
    pub channels_used: Vec<Uuid>,
    pub conversations_open: i64,
    pub conversations_total: i64,
    pub orders_count: i64,
    pub total_spent: Vec<SpentView>,
    /// `null` until a CSAT answer exists.
    pub average_csat: Option<f64>,
}

impl From<CustomerStats> for StatsView {
    fn from(stats: CustomerStats) -> Self {
        StatsView {
            average_csat: stats.average_csat(),
            first_seen_at: stats.first_seen_at,
            last_seen_at: stats.last_seen_at,
            last_channel_id: stats.last_channel_id.map(|id| id.0),
            channels_used: stats.channels_used.into_iter().map(|id| id.0).collect(),
            conversations_open: stats.conversations_open,
            conversations_total: stats.conversations_total,
            orders_count: stats.orders_count,
            total_spent: stats
                .total_spent
                .into_iter()
                .map(|spent| SpentView {
                    currency: spent.currency,
                    total: spent.total.to_decimal(),
                })
                .collect(),
        }
    }
}

/// A profile with its computed fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetailView {
    #[serde(flatten)]
    pub customer: CustomerView,
    pub stats: StatsView,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of a name or of any identity value; all customers when absent.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

/// Searches customers by name or identity, newest first.
#[utoipa::path(
    get, path = "/api/v1/customers", tag = "customers", params(SearchQuery),
    responses(
        (status = 200, description = "One page", body = List<CustomerView>),
        (status = 422, description = "An invalid parameter", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn search(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<List<CustomerView>>, ApiError> {
    let cursor = page::parse_cursor(query.cursor.as_deref())?;
    let limit = page::parse_limit(query.limit.as_deref())?;
    let page = customer::search_customers(
        state.store.as_ref(),
        &actor,
        query.q.as_deref(),
        cursor.as_ref(),
        limit,
    )
    .await?;
    Ok(Json(List::from_page(page, CustomerView::from)))
}

/// Reads one customer's profile with every identity it holds, its consent per channel kind and
/// its computed fields.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The profile", body = CustomerDetailView),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
) -> Result<Json<CustomerDetailView>, ApiError> {
    let (profile, stats) = stats::get_customer_with_stats(state.store.as_ref(), &actor, id).await?;
    Ok(Json(CustomerDetailView {
        customer: profile.into(),
        stats: stats.into(),
    }))
}
