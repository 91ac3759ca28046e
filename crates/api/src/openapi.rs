//! The OpenAPI document, generated from the handlers' annotations and served at
//! `/api/openapi.json`. Lists paths; holds no handler logic.

use std::sync::Arc;

use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::{
    ApiState, attachments, attributes, auth, authenticate::SESSION_COOKIE, channels, conversations,
    customers, duplicates, email, health, import, inbound, media, merges, messages, privacy,
    profile, realtime, regroup, timeline, tracking, uploads, users, widget, workspace,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Seam API", description = "Omnichannel customer support: REST and realtime."),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::login, auth::logout, auth::create_token,
        conversations::list, conversations::read, conversations::update,
        conversations::mark_read, conversations::reply_channels,
        messages::list, messages::send, attachments::download,
        uploads::create, media::serve,
        customers::search, customers::read,
        merges::merge_into, merges::read, merges::undo, merges::resolution_log,
        merges::conflicts, merges::review, merges::read_rules, merges::replace_rules,
        regroup::join, regroup::split,
        profile::update, profile::set_consent,
        duplicates::list, duplicates::dismiss,
        attributes::list, attributes::create,
        import::import_customers, privacy::export, privacy::erase,
        channels::list, channels::create, channels::update,
        inbound::receive, email::receive_raw,
        realtime::connect,
        tracking::identify, tracking::track, tracking::batch,
        timeline::list, timeline::orders,
        users::read_me, users::update_me, users::set_presence, users::list, users::create,
        users::update, workspace::read_workspace, workspace::update_workspace,
        // Website chat.
        widget::script, widget::connect, widget::agent_typing,
    ),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// Names the three credentials the paths refer to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer =
            || SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build());
        components.add_security_scheme("bearer", bearer());
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "Session cookie from login; writes also need the X-CSRF-Token header.",
            ))),
        );
        components.add_security_scheme("channel_secret", bearer());
    }
}

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
