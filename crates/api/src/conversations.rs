//! `/api/v1/conversations` and `/api/v1/conversations/{id}`: list with filters, read, update.
//! Parses query and body into core's filter and update types; rules and scoping are core's.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use seam_core::{
    Error, Result,
    conversation::{
        self, AssigneeFilter, Conversation, ConversationFilter, ConversationStatus,
        ConversationUpdate, InboxItem, Priority, SearchQuery,
    },
    ids::{ChannelId, ConversationId, TeamId, UserId},
    outbound,
    user::Actor,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery},
    page::{self, List},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/conversations", get(list))
        .route("/api/v1/conversations/{id}", get(read).patch(update))
        .route("/api/v1/conversations/{id}/read", post(mark_read))
        .route("/api/v1/conversations/{id}/channels", get(reply_channels))
}

/// A conversation as clients see it (the same fields realtime events carry).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub customer_id: Uuid,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: String,
    /// `none`, `low`, `medium`, `high` or `urgent`.
    pub priority: String,
    pub assignee_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub labels: Vec<String>,
    /// Where a reply goes when the channel is `auto`.
    pub last_channel_id: Option<Uuid>,
    pub previous_conversation_id: Option<Uuid>,
    pub last_activity_at: DateTime<Utc>,
    /// Since when the customer has been waiting for an answer.
    pub waiting_since: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The customer's name (lists and reads; absent from realtime events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The latest inbound or outbound message (lists and reads; absent from realtime events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewView>,
    /// The customer wrote since the caller last read it (lists and reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
}

/// One line of the latest message, for the inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub text: String,
    /// `inbound` or `outbound`.
    pub kind: String,
    pub channel_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

impl From<InboxItem> for ConversationView {
    fn from(item: InboxItem) -> Self {
        ConversationView {
            customer_name: item.customer_name,
            preview: item.preview.map(|preview| PreviewView {
                text: preview.text,
                kind: preview.kind.as_str().to_string(),
                channel_id: preview.channel_id.map(|id| id.0),
                at: preview.at,
            }),
            unread: Some(item.unread),
            ..ConversationView::from(item.conversation)
        }
    }
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        ConversationView {
            id: c.id.0,
            workspace_id: c.workspace_id.0,
            customer_id: c.customer_id.0,
            status: c.status.as_str().to_string(),
            priority: c.priority.as_str().to_string(),
            assignee_id: c.assignee_id.map(|id| id.0),
            team_id: c.team_id.map(|id| id.0),
            labels: c.labels,
            last_channel_id: c.last_channel_id.map(|id| id.0),
            previous_conversation_id: c.previous_conversation_id.map(|id| id.0),
            last_activity_at: c.last_activity_at,
            waiting_since: c.waiting_since,
            snoozed_until: c.snoozed_until,
            resolved_at: c.resolved_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            customer_name: None,
            preview: None,
            unread: None,
        }
    }
}

/// Filters of the conversation list. Every value is optional; empty means absent.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: Option<String>,
    /// A user id, `me` or `none` (unassigned).
    pub assignee: Option<String>,
    /// A team id.
    pub team: Option<String>,
    /// A channel id: conversations with a message through it.
    pub channel: Option<String>,
    pub label: Option<String>,
    /// Text the customer's name, one of their addresses or a message contains.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

fn present(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|raw| !raw.is_empty())
}

impl ListQuery {
    /// The query as core's filter; `me` is the actor.
    pub fn filter(&self, actor: &Actor) -> Result<ConversationFilter> {
        let status = present(&self.status)
            .map(|raw| {
                ConversationStatus::parse(raw).ok_or_else(|| {
                    Error::invalid("status", "must be open, pending, snoozed or resolved")
                })
            })
            .transpose()?;
        let assignee = match present(&self.assignee) {
            None => None,
            Some("me") => Some(AssigneeFilter::User(actor.user_id)),
            Some("none") => Some(AssigneeFilter::Unassigned),
            Some(raw) => Some(AssigneeFilter::User(UserId::parse(raw).ok_or_else(
                || Error::invalid("assignee", "must be a user id, me or none"),
            )?)),
        };
        Ok(ConversationFilter {
            status,
            assignee,
            team_id: page::parse_uuid("team", present(&self.team))?.map(TeamId),
            channel_id: page::parse_uuid("channel", present(&self.channel))?.map(ChannelId),
            label: present(&self.label).map(str::to_lowercase),
            customer_id: None,
            query: SearchQuery::parse(self.q.as_deref().unwrap_or_default())?,
        })
    }
}

/// Lists conversations, newest activity first.
#[utoipa::path(
    get, path = "/api/v1/conversations", tag = "conversations", params(ListQuery),
    responses(
        (status = 200, description = "One page", body = List<ConversationView>),
        (status = 422, description = "A filter value is invalid", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<List<ConversationView>>, ApiError> {
    let filter = query.filter(&actor)?;
    let cursor = page::parse_cursor(present(&query.cursor))?;
    let limit = page::parse_limit(present(&query.limit))?;
    let page = conversation::list_inbox(
        state.store.as_ref(),
        &actor,
        &filter,
        cursor.as_ref(),
        limit,
    )
    .await?;
    Ok(Json(List::from_page(page, ConversationView::from)))
}

/// Reads one conversation.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = ConversationView),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ConversationView>, ApiError> {
    let found = conversation::get_inbox_item(state.store.as_ref(), &actor, id).await?;
    Ok(Json(found.into()))
}

/// A partial update: absent fields stay as they are; `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateRequest {
    /// `open`, `pending`, `snoozed` (needs `snoozed_until`) or `resolved`.
    pub status: Option<String>,
    /// `none`, `low`, `medium`, `high` or `urgent`.
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub assignee_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub team_id: Option<Option<Uuid>>,
    /// Replaces every label.
    pub labels: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>, nullable)]
    pub snoozed_until: Option<Option<DateTime<Utc>>>,
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`, via `default`).
pub(crate) fn nullable<'de, D, T>(
    deserializer: D,
) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl UpdateRequest {
    pub fn into_update(self) -> Result<ConversationUpdate> {
        let status = self
            .status
            .map(|raw| {
                ConversationStatus::parse(&raw).ok_or_else(|| {
                    Error::invalid("status", "must be open, pending, snoozed or resolved")
                })
            })
            .transpose()?;
        let priority = self
            .priority
            .map(|raw| {
                Priority::parse(&raw).ok_or_else(|| {
                    Error::invalid("priority", "must be none, low, medium, high or urgent")
                })
            })
            .transpose()?;
        Ok(ConversationUpdate {
            status,
            priority,
            assignee_id: self.assignee_id.map(|id| id.map(UserId)),
            team_id: self.team_id.map(|id| id.map(TeamId)),
            labels: self.labels,
            snoozed_until: self.snoozed_until,
        })
    }
}

/// Updates status, priority, assignee, team, labels or snooze time.
#[utoipa::path(
    patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = UpdateRequest,
    responses(
        (status = 200, description = "The updated conversation", body = ConversationView),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "An invalid value", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    let update = request.into_update()?;
    let updated = conversation::update_conversation(
        state.store.as_ref(),
        &actor,
        id,
        update,
        chrono::Utc::now(),
    )
    .await?;
    let item = conversation::inbox_item_of(state.store.as_ref(), &actor, updated).await?;
    Ok(Json(item.into()))
}

/// Marks the conversation read by the caller (its unread marker clears).
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/read", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn mark_read(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<StatusCode, ApiError> {
    conversation::mark_read(state.store.as_ref(), &actor, id, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why a channel cannot take a free-form reply now.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnavailableReason {
    /// `opted_out`, `window_closed` or `not_available`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyChannelView {
    pub channel_id: Uuid,
    pub kind: String,
    pub name: String,
    pub available: bool,
    pub reason: Option<UnavailableReason>,
    /// Approved templates that can still go (WhatsApp).
    pub templates: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyChannelsView {
    pub items: Vec<ReplyChannelView>,
    /// Always `null`: the list is whole.
    pub next_cursor: Option<String>,
    /// The channel the composer starts on.
    pub default_channel_id: Option<Uuid>,
}

/// The channels a reply could go on, each with why it cannot when it cannot.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/channels", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The channels that reach the customer", body = ReplyChannelsView),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn reply_channels(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<ReplyChannelsView>, ApiError> {
    let found =
        outbound::reply_channels(state.store.as_ref(), &actor, id, chrono::Utc::now()).await?;
    Ok(Json(ReplyChannelsView {
        items: found
            .channels
            .into_iter()
            .map(|channel| ReplyChannelView {
                channel_id: channel.channel_id.0,
                kind: channel.kind.as_str().to_string(),
                name: channel.name,
                available: channel.available,
                reason: channel.reason.map(|refusal| UnavailableReason {
                    code: refusal.code().to_string(),
                    message: refusal.reason().to_string(),
                }),
                templates: channel.templates,
            })
            .collect(),
        next_cursor: None,
        default_channel_id: found.default_channel_id.map(|id| id.0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;
    use seam_core::{ids::WorkspaceId, user::Role};

    fn agent() -> Actor {
        Actor {
            user_id: UserId::new(),
            workspace_id: WorkspaceId::new(),
            role: Role::Agent,
        }
    }

    fn field_of(error: Error) -> String {
        match error {
            Error::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn assignee_me_means_the_actor_and_none_means_unassigned() {
        let actor = agent();
        let me = ListQuery {
            assignee: Some("me".into()),
            ..Default::default()
        };
        assert_eq!(
            me.filter(&actor).unwrap().assignee,
            Some(AssigneeFilter::User(actor.user_id))
        );
        let none = ListQuery {
            assignee: Some("none".into()),
            ..Default::default()
        };
        assert_eq!(
            none.filter(&actor).unwrap().assignee,
            Some(AssigneeFilter::Unassigned)
        );
        let other = UserId::new();
        let by_id = ListQuery {
            assignee: Some(other.to_string()),
            ..Default::default()
        };
        assert_eq!(
            by_id.filter(&actor).unwrap().assignee,
            Some(AssigneeFilter::User(other))
        );
    }

    #[test]
    fn bad_filter_values_name_their_parameter() {
        let actor = agent();
        let cases = [
            ListQuery {
                status: Some("closed".into()),
                ..Default::default()
            },
            ListQuery {
                assignee: Some("bob".into()),
                ..Default::default()
            },
            ListQuery {
                team: Some("7".into()),
                ..Default::default()
            },
            ListQuery {
                channel: Some("email".into()),
                ..Default::default()
            },
        ];
        let fields: Vec<String> = cases
            .iter()
            .map(|query| field_of(query.filter(&actor).unwrap_err()))
            .collect();
        assert_eq!(fields, ["status", "assignee", "team", "channel"]);
    }

    #[test]
    fn empty_filters_are_absent() {
        let query = ListQuery {
            status: Some(String::new()),
            team: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(
            query.filter(&agent()).unwrap(),
            ConversationFilter::default()
        );
    }

    #[test]
    fn an_update_tells_null_from_absent() {
        let request: UpdateRequest = parse_json(br#"{"assignee_id": null}"#).unwrap();
        let update = request.into_update().unwrap();
        assert_eq!(update.assignee_id, Some(None));
        assert_eq!(update.team_id, None);
        assert_eq!(update.snoozed_until, None);
    }

    #[test]
    fn an_update_parses_status_and_priority_words() {
        let request: UpdateRequest =
            parse_json(br#"{"status": "resolved", "priority": "urgent", "labels": ["vip"]}"#)
                .unwrap();
        let update = request.into_update().unwrap();
        assert_eq!(update.status, Some(ConversationStatus::Resolved));
        assert_eq!(update.priority, Some(Priority::Urgent));
        let request: UpdateRequest = parse_json(br#"{"priority": "asap"}"#).unwrap();
        assert_eq!(field_of(request.into_update().unwrap_err()), "priority");
    }
}
