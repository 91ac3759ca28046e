//! Merges and resolution: `POST /api/v1/customers/{id}/merge`, `POST /api/v1/merges/{id}/undo`,
//! `GET /api/v1/merges/{id}`, the customer's resolution log, the conflicts waiting for review
//! and the workspace's identity rules. The rules are core's; this module only translates.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use seam_core::{
    identity::IdentityKind,
    ids::{CustomerId, MergeId, ResolutionEntryId},
    merge::{self, Merge},
    resolution::{self, ResolutionEntry},
    workspace::IdentityRules,
};
use serde::{Deserialize, Serialize};
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
        .route("/api/v1/customers/{id}/merge", post(merge_into))
        .route("/api/v1/customers/{id}/resolution", get(resolution_log))
        .route("/api/v1/merges/{id}", get(read))
        .route("/api/v1/merges/{id}/undo", post(undo))
        .route("/api/v1/identity-conflicts", get(conflicts))
        .route("/api/v1/identity-conflicts/{id}/review", post(review))
        .route(
            "/api/v1/settings/identity-rules",
            get(read_rules).put(replace_rules),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The customer to merge into the one in the path; the path's customer survives.
    pub customer_id: Uuid,
}

/// One merge, automatic or manual.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeView {
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub absorbed_id: Uuid,
    /// The agent who merged; absent when resolution merged on a shared identity.
    pub actor_user_id: Option<Uuid>,
    /// For automatic merges, e.g. `shared_identity:email`.
    pub rule: Option<String>,
    /// Identities, conversations and events the absorbed customer brought.
    pub moved_identities: usize,
    pub moved_conversations: usize,
    pub moved_events: usize,
    pub created_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
    pub undone_by_user_id: Option<Uuid>,
}

impl From<Merge> for MergeView {
    fn from(merge: Merge) -> Self {
        MergeView {
            id: merge.id.0,
            survivor_id: merge.survivor_id.0,
            absorbed_id: merge.absorbed_id.0,
            actor_user_id: merge.actor_user_id.map(|id| id.0),
            rule: merge.rule,
            moved_identities: merge.snapshot.absorbed_identities.len(),
            moved_conversations: merge.snapshot.conversation_ids.len(),
            moved_events: merge.snapshot.event_ids.len(),
            created_at: merge.created_at,
            undone_at: merge.undone_at,
            undone_by_user_id: merge.undone_by_user_id.map(|id| id.0),
        }
    }
}

/// Merges another customer into this one: identities, conversations, messages and events move
/// here; this customer's values win and the other's fill its gaps. Undo restores both.
#[utoipa::path(
    post, path = "/api/v1/customers/{id}/merge", tag = "customers",
    params(("id" = Uuid, Path, description = "The surviving customer")),
    request_body = MergeRequest,
    responses(
        (status = 201, description = "Merged", body = MergeView),
        (status = 404, description = "No such customer", body = ErrorBody),
        (status = 422, description = "Would break a rule (two external ids, a limit), or the same customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn merge_into(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
    ApiJson(request): ApiJson<MergeRequest>,
) -> Result<(StatusCode, Json<MergeView>), ApiError> {
    let merged = merge::merge_customers(
        state.store.as_ref(),
        &actor,
        id,
        CustomerId(request.customer_id),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(merged.into())))
}

/// Reads one merge.
#[utoipa::path(
    get, path = "/api/v1/merges/{id}", tag = "customers",
    params(("id" = Uuid, Path, description = "Merge id")),
    responses(
        (status = 200, description = "The merge", body = MergeView),
        (status = 404, description = "No such merge", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<MergeId>,
) -> Result<Json<MergeView>, ApiError> {
    let found = merge::get_merge(state.store.as_ref(), &actor, id).await?;
    Ok(Json(found.into()))
}

/// Undoes a merge: both customers get back their identities, conversations, events and fields,
/// and messages that arrived since through the absorbed customer's identities go back with them.
#[utoipa::path(
    post, path = "/api/v1/merges/{id}/undo", tag = "customers",
    params(("id" = Uuid, Path, description = "Merge id")),
    responses(
        (status = 200, description = "Undone", body = MergeView),
        (status = 404, description = "No such merge", body = ErrorBody),
        (status = 409, description = "Already undone", body = ErrorBody),
        (status = 422, description = "The survivor was merged again since: undo that first", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn undo(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<MergeId>,
) -> Result<Json<MergeView>, ApiError> {
    let undone = merge::undo_merge(state.store.as_ref(), &actor, id, Utc::now()).await?;
    Ok(Json(undone.into()))
}

/// One decision of identity resolution.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionEntryView {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub other_customer_id: Option<Uuid>,
    /// `created`, `attached`, `merged`, `unmerged` or `conflict`.
    pub action: String,
    pub identity_kind: Option<String>,
    pub identity_value: Option<String>,
    /// `no_match`, `new_identity`, `shared_identity`, `manual`, `undo`, or for conflicts
    /// `external_id_mismatch`, `limit`, `unverified_claim`.
    pub rule: String,
    /// A sentence for the agent.
    pub explanation: String,
    pub merge_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

fn explanation(entry: &ResolutionEntry) -> String {
    let identity = entry
        .identity
        .as_ref()
        .map(|identity| format!("{} {}", identity.kind.as_str(), identity.value))
        .unwrap_or_else(|| "no identity".to_string());
    match (entry.action.as_str(), entry.rule.as_str()) {
        ("created", _) => format!("New customer: nobody held {identity}."),
        ("attached", _) => format!("{identity} was new and was attached."),
        ("merged", "manual") => "An agent merged another customer into this one.".to_string(),
        ("merged", _) => {
            format!("Merged automatically: both customers were reached by {identity}.")
        }
        ("unmerged", _) => "A merge was undone.".to_string(),
        (_, "external_id_mismatch") => format!(
            "{identity} was not used: it would have given one customer two different external ids."
        ),
        (_, "limit") => format!(
            "{identity} was not used: it would have exceeded the workspace's limit for its kind."
        ),
        (_, "unverified_claim") => format!(
            "{identity} was typed in, not proven, and belongs to an identified customer: no merge."
        ),
        (action, rule) => format!("{action} ({rule})"),
    }
}

impl From<ResolutionEntry> for ResolutionEntryView {
    fn from(entry: ResolutionEntry) -> Self {
        ResolutionEntryView {
            explanation: explanation(&entry),
            id: entry.id.0,
            customer_id: entry.customer_id.0,
            other_customer_id: entry.other_customer_id.map(|id| id.0),
            action: entry.action.as_str().to_string(),
            identity_kind: entry
                .identity
                .as_ref()
                .map(|identity| identity.kind.as_str().to_string()),
            identity_value: entry.identity.map(|identity| identity.value),
            rule: entry.rule,
            merge_id: entry.merge_id.map(|id| id.0),
            created_at: entry.created_at,
            reviewed_at: entry.reviewed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionLogView {
    pub items: Vec<ResolutionEntryView>,
}

/// Why this customer is who it is: customers created, identities attached, merges made and
/// undone, identities left out by a rule — newest first (the latest 200).
#[utoipa::path(
    get, path = "/api/v1/customers/{id}/resolution", tag = "customers",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses(
        (status = 200, description = "The decisions", body = ResolutionLogView),
        (status = 404, description = "No such customer", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn resolution_log(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<CustomerId>,
) -> Result<Json<ResolutionLogView>, ApiError> {
    let entries = resolution::explain(state.store.as_ref(), &actor, id).await?;
    Ok(Json(ResolutionLogView {
        items: entries.into_iter().map(ResolutionEntryView::from).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

/// Identities that resolution left out because a rule would have broken, waiting for an agent
/// to review (merge by hand, or mark reviewed). Newest first.
#[utoipa::path(
    get, path = "/api/v1/identity-conflicts", tag = "customers", params(ConflictQuery),
    responses(
        (status = 200, description = "One page", body = List<ResolutionEntryView>),
        (status = 422, description = "An invalid parameter", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn conflicts(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<ConflictQuery>,
) -> Result<Json<List<ResolutionEntryView>>, ApiError> {
    let cursor = page::parse_cursor(query.cursor.as_deref())?;
    let limit = page::parse_limit(query.limit.as_deref())?;
    let found =
        resolution::list_conflicts(state.store.as_ref(), &actor, cursor.as_ref(), limit).await?;
    Ok(Json(List::from_page(found, ResolutionEntryView::from)))
}

/// Takes a conflict off the review list.
#[utoipa::path(
    post, path = "/api/v1/identity-conflicts/{id}/review", tag = "customers",
    params(("id" = Uuid, Path, description = "Conflict id")),
    responses(
        (status = 204, description = "Reviewed"),
        (status = 404, description = "No such open conflict", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn review(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ResolutionEntryId>,
) -> Result<StatusCode, ApiError> {
    resolution::review_conflict(state.store.as_ref(), &actor, id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The identity rules: per-kind limits (every kind listed) and the blocked values.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRulesView {
    /// Most identities of each kind one customer may hold (`external_id` is always 1).
    #[serde(default)]
    pub limits: BTreeMap<String, u32>,
    /// Values that never identify anybody, on top of the built-in ones (`null`, `undefined`,
    /// `anonymous`, `0`, `-1`, `test@test.com`, …).
    #[serde(default)]
    pub blocked: Vec<String>,
}

const KINDS: [IdentityKind; 9] = [
    IdentityKind::ExternalId,
    IdentityKind::Email,
    IdentityKind::Phone,
    IdentityKind::Whatsapp,
    IdentityKind::Messenger,
    IdentityKind::Instagram,
    IdentityKind::Telegram,
    IdentityKind::Line,
    IdentityKind::Visitor,
];

impl From<IdentityRules> for IdentityRulesView {
    fn from(rules: IdentityRules) -> Self {
        IdentityRulesView {
            limits: KINDS
                .iter()
                .map(|kind| (kind.as_str().to_string(), rules.limit(*kind)))
                .collect(),
            blocked: rules.blocked,
        }
    }
}

impl IdentityRulesView {
    fn into_rules(self) -> Result<IdentityRules, seam_core::Error> {
        let mut limits = BTreeMap::new();
        for (kind, limit) in self.limits {
            let parsed = IdentityKind::parse(&kind).ok_or_else(|| {
                seam_core::Error::invalid(format!("limits.{kind}"), "is not an identity kind")
            })?;
            if limit != IdentityRules::default_limit(parsed) {
                limits.insert(parsed, limit);
            }
        }
        Ok(IdentityRules {
            limits,
            blocked: self.blocked,
        })
    }
}

/// Reads the workspace's identity rules.
#[utoipa::path(
    get, path = "/api/v1/settings/identity-rules", tag = "settings",
    responses((status = 200, description = "The rules", body = IdentityRulesView)),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn read_rules(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
) -> Result<Json<IdentityRulesView>, ApiError> {
    let rules = resolution::identity_rules(state.store.as_ref(), &actor).await?;
    Ok(Json(rules.into()))
}

/// Replaces the workspace's identity rules (admins and owners). Kinds left out keep their
/// default limit.
#[utoipa::path(
    put, path = "/api/v1/settings/identity-rules", tag = "settings",
    request_body = IdentityRulesView,
    responses(
        (status = 200, description = "The rules now", body = IdentityRulesView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A limit out of range or an unknown kind", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn replace_rules(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<IdentityRulesView>,
) -> Result<Json<IdentityRulesView>, ApiError> {
    let rules = request.into_rules()?;
    let saved = resolution::set_identity_rules(state.store.as_ref(), &actor, rules).await?;
    Ok(Json(saved.into()))
}
