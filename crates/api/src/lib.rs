//! Seam's HTTP and WebSocket surface (axum): REST handlers, auth extractors, OpenAPI, request
//! layers. Handlers extract, call one core use case and map the result; no SQL, no business
//! rules, no storage crate here.

mod app;
mod attachments;
mod attributes;
mod auth;
mod authenticate;
mod channels;
mod conversations;
mod customers;
mod duplicates;
pub mod email;
mod error;
mod extract;
mod health;
pub mod hooks;
mod import;
mod inbound;
mod media;
mod merges;
mod messages;
mod observe;
mod openapi;
mod page;
mod privacy;
mod profile;
mod realtime;
mod regroup;
mod timeline;
mod tracking;
mod uploads;
mod users;
pub mod widget;
mod workspace;

use std::{sync::Arc, time::Duration};

use axum::{Router, error_handling::HandleErrorLayer, extract::DefaultBodyLimit, middleware};
use seam_core::ports::{Bus, FileStore, Store};
use tower::ServiceBuilder;

pub use crate::{
    app::CONTENT_SECURITY_POLICY,
    authenticate::{Authenticated, CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE},
    error::{ApiError, ErrorBody, ErrorDetail},
    openapi::ApiDoc,
    realtime::AgentPresence,
};

/// What every handler shares.
pub struct ApiState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// Where the bytes of attachments live.
    pub files: Arc<dyn FileStore>,
    /// Renders `/metrics`; `None` answers 404 there.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    pub config: ApiConfig,
    /// The website chat widgets connected to this node (see `widget`).
    pub presence: Arc<widget::WidgetPresence>,
    /// The agents with a realtime connection open on this node (their presence).
    pub agents: Arc<realtime::AgentPresence>,
    /// Messaging channels: credentials, the public URL and the webhook intake.
    pub messaging: hooks::Messaging,
}

#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest request body accepted (413 beyond). Default 1 MiB.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 408. Default 30 s.
    pub request_timeout: Duration,
    /// Mark cookies `Secure`; turn on whenever Seam is reached over https.
    pub secure_cookies: bool,
    /// Largest raw mail `POST /api/v1/channels/{id}/email` accepts. Default 25 MiB.
    pub max_mail_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            secure_cookies: false,
            max_mail_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Every route of the API with its layers. The last `.layer()` is the outermost: request id,
/// span and metrics wrap everything (so they see timeouts too), then the timeout, then the
/// body limit closest to the handlers.
pub fn router(state: ApiState) -> Router {
    let timeout = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(timed_out))
        .timeout(state.config.request_timeout);
    Router::new()
        .merge(health::router())
        .merge(openapi::router())
        .merge(auth::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(attachments::router())
        .merge(uploads::router())
        .merge(media::router())
        .merge(customers::router())
        .merge(merges::router())
        .merge(regroup::router())
        .merge(profile::router())
        .merge(duplicates::router())
        .merge(attributes::router())
        .merge(import::router())
        .merge(privacy::router())
        .merge(channels::router())
        .merge(inbound::router())
        .merge(hooks::router())
        .merge(email::router(state.config.max_mail_bytes))
        .merge(realtime::router())
        .merge(tracking::router())
        .merge(timeline::router())
        .merge(users::router())
        .merge(workspace::router())
        // Website chat: /widget.js, /widget/ws and the agent's typing signal.
        .merge(widget::router())
        // The agent app: / and /assets/*.
        .merge(app::router())
        .fallback(error::route_not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(timeout)
        .layer(middleware::from_fn(observe::observe))
        .with_state(Arc::new(state))
}

/// Maps the timeout layer's error (the only error a layer here produces) to our JSON shape.
async fn timed_out(error: tower::BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::Timeout
    } else {
        ApiError::Domain(seam_core::Error::internal(error))
    }
}
