//! `GET /api/v1/customers/{id}/timeline` (messages and events, newest first) and
//! `GET /api/v1/customers/{id}/orders` (orders and returns). Translates query parameters and
//! views; the lists themselves are core's and the store's.

use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use seam_core::{
    commerce::{self, CustomerOrders, Order, Return},
    event::Event,
    ids::{ChannelId, CustomerId},
    timeline::{self, TimelineFilter, TimelineItem, TimelineKind},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiPath, ApiQuery},
    messages::MessageView,
    page::{self, List},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/customers/{id}/timeline", get(list))
        .route("/api/v1/customers/{id}/orders", get(orders))
}

/// An event as clients see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// `identify` for identify calls; the tracked event's name otherwise.
    pub name: String,
    #[schema(value_type = Object)]
    pub properties: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub message_id: Option<String>,
}

impl From<Event> for EventView {
    fn from(event: Event) -> Self {
        EventView {
            id: event.id.0,
            customer_id: event.customer_id.0,
            name: event.name,
            properties: event.properties,
            occurred_at: event.occurred_at,
            created_at: event.created_at,
            message_id: event.message_id,
        }
    }
}

/// One timeline item, tagged by `type`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TimelineItemView {
    Message(MessageView),
    Event(EventView),
}

impl From<TimelineItem> for TimelineItemView {
    fn from(item: TimelineItem) -> Self {
        match item {
            TimelineItem::Message(message) => TimelineItemView::Message(message.into()),
            TimelineItem::Event(event) => TimelineItemView::Event(event.into()),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// `message` or `event`; both when absent.
    pub kind: Option<String>,
    /// Only messages through this channel (events have no channel and are left out).
    pub channel: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

/// The customer's messages of every conversation and events, newest first.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/timeline", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id"), TimelineQuery),
    responses(
        (status = 200, description = "One page", body = List<TimelineItemView>),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "An invalid parameter", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Json<List<TimelineItemView>>, ApiError> {
    let filter = TimelineFilter {
        kind: query
            .kind
            .as_deref()
            .filter(|kind| !kind.is_empty())
            .map(TimelineKind::parse)
            .transpose()?,
        channel_id: page::parse_uuid("channel", query.channel.as_deref())?.map(ChannelId),
    };
    let cursor = page::parse_cursor(query.cursor.as_deref())?;
    let limit = page::parse_limit(query.limit.as_deref())?;
    let page = timeline::customer_timeline(
        state.store.as_ref(),
        &actor,
        id,
        &filter,
        cursor.as_ref(),
        limit,
    )
    .await?;
    Ok(Json(List::from_page(page, TimelineItemView::from)))
}

/// An order as its events left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub status: String,
    /// A decimal string (`"59.9"`), exact.
    pub total: Option<String>,
    pub currency: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    /// When the event that set `status` happened.
    pub status_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        OrderView {
            order_id: order.order_id,
            status: order.status,
            total: order.total.map(|total| total.to_decimal()),
            currency: order.currency,
            placed_at: order.placed_at,
            status_at: order.status_at,
            created_at: order.created_at,
            updated_at: order.updated_at,
        }
    }
}

/// A return as its events left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    pub return_id: String,
    pub order_id: Option<String>,
    pub status: String,
    pub status_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Return> for ReturnView {
    fn from(record: Return) -> Self {
        ReturnView {
            return_id: record.return_id,
            order_id: record.order_id,
            status: record.status,
            status_at: record.status_at,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrdersView {
    pub orders: Vec<OrderView>,
    pub returns: Vec<ReturnView>,
}

impl From<CustomerOrders> for OrdersView {
    fn from(held: CustomerOrders) -> Self {
        OrdersView {
            orders: held.orders.into_iter().map(OrderView::from).collect(),
            returns: held.returns.into_iter().map(ReturnView::from).collect(),
        }
    }
}

/// The customer's orders and returns with their current status, newest first.
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/orders", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, description = "Orders and returns", body = OrdersView),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn orders(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
) -> Result<Json<OrdersView>, ApiError> {
    let held = commerce::customer_orders(state.store.as_ref(), &actor, id).await?;
    Ok(Json(held.into()))
}
