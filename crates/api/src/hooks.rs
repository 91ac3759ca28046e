//! `/hooks/{channel_id}`: where WhatsApp, Messenger, Instagram, Telegram, LINE and Twilio
//! deliver. The adapter checks the handshake or the signature over the raw body before
//! anything is read; a signed delivery is parsed, written durably as one job (many deliveries
//! share one commit, see [`Intake`]) and answered 2xx; the job runner applies its events.
//! Nothing is stored for a delivery that fails its check.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use seam_channels::messaging::{self, Check, Event, Hook, HookError, Settings};
use seam_core::{
    Error, Result,
    channel::{Channel, open_credentials},
    ids::ChannelId,
    jobs::{NewJob, kind},
    ports::{Store, Vault},
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{ApiState, error::ApiError};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/hooks/{channel_id}", get(deliver).post(deliver))
}

/// What the API needs for messaging channels: the key that opens credentials, the address
/// providers reach Seam at, and the intake of deliveries.
#[derive(Clone)]
pub struct Messaging {
    pub vault: Arc<dyn Vault>,
    /// `https://support.example.com`, no trailing slash.
    pub public_url: String,
    pub intake: Intake,
}

impl Messaging {
    /// The URL to paste into the provider: `{public_url}/hooks/{channel_id}`.
    pub fn hook_url(&self, channel_id: ChannelId) -> String {
        format!("{}/hooks/{}", self.public_url, channel_id.0)
    }

    /// A channel's adapter settings with its credentials opened, for one call.
    pub fn settings(&self, channel: &Channel) -> Result<Settings> {
        Ok(Settings {
            config: channel.config.clone(),
            credentials: open_credentials(self.vault.as_ref(), channel)?,
            hook_url: self.hook_url(channel.id),
        })
    }
}

/// Writes deliveries as jobs, many to a transaction: each request waits for the commit that
/// holds its job, so a 2xx always means stored, and a burst costs one commit per batch rather
/// than one per delivery.
#[derive(Clone)]
pub struct Intake {
    sender: mpsc::Sender<(NewJob, oneshot::Sender<Result<()>>)>,
}

/// The most deliveries one transaction holds.
const BATCH: usize = 256;

impl Intake {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Intake {
        let (sender, mut receiver) = mpsc::channel::<(NewJob, oneshot::Sender<Result<()>>)>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while receiver.recv_many(&mut batch, BATCH).await > 0 {
                let written = write(store.as_ref(), &batch).await;
                for (_, done) in batch.drain(..) {
                    let _ = done.send(match &written {
                        Ok(()) => Ok(()),
                        Err(error) => Err(Error::internal(error)),
                    });
                }
            }
        });
        Intake { sender }
    }

    /// Stores `job`; returns once it is committed.
    pub async fn submit(&self, job: NewJob) -> Result<()> {
        let (done, committed) = oneshot::channel();
        self.sender
            .send((job, done))
            .await
            .map_err(|_| Error::internal("the delivery intake has stopped"))?;
        committed
            .await
            .map_err(|_| Error::internal("the delivery intake has stopped"))?
    }
}

async fn write(store: &dyn Store, batch: &[(NewJob, oneshot::Sender<Result<()>>)]) -> Result<()> {
    let mut tx = store.begin().await?;
    for (job, _) in batch {
        tx.insert_job(job).await?;
    }
    tx.commit().await
}

/// How long a delivery may wait for its commit before the provider is told to try again.
const INTAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn deliver(
    State(state): State<Arc<ApiState>>,
    Path(channel_id): Path<Uuid>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let channel = state
        .store
        .find_channel(ChannelId(channel_id))
        .await?
        .ok_or(Error::NotFound)?;
    let adapter = messaging::adapter(channel.kind, &channel.config).ok_or(Error::NotFound)?;
    let settings = state.messaging.settings(&channel)?;
    let hook = Hook {
        method: method.as_str(),
        query: query.as_deref().unwrap_or_default(),
        headers: &headers,
        body: &body,
    };
    let refused = |error: HookError, status: StatusCode| -> Response {
        let (code, reason) = match &error {
            HookError::Unauthorized(reason) => ("unauthorized", reason.clone()),
            HookError::Malformed(reason) => ("malformed", reason.clone()),
        };
        let status = match error {
            HookError::Malformed(_) => StatusCode::BAD_REQUEST,
            HookError::Unauthorized(_) => status,
        };
        metrics::counter!("seam_hook_deliveries_refused_total", "provider" => adapter.name())
            .increment(1);
        (
            status,
            axum::Json(serde_json::json!({"error": {"code": code, "message": reason}})),
        )
            .into_response()
    };
    let unauthorized = if method == Method::GET {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    match adapter.verify(&settings, &hook) {
        Err(error) => return Ok(refused(error, unauthorized)),
        Ok(Check::Challenge(challenge)) => {
            return Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                challenge,
            )
                .into_response());
        }
        Ok(Check::Accepted) => {}
    }
    let events = match adapter.parse(&settings, &hook) {
        Ok(events) => events,
        Err(error) => return Ok(refused(error, unauthorized)),
    };
    if !events.is_empty() {
        let job = apply_job(&channel, &events)?;
        tokio::time::timeout(INTAKE_TIMEOUT, state.messaging.intake.submit(job))
            .await
            .map_err(|_| Error::internal("storing the delivery timed out"))??;
    }
    metrics::counter!("seam_hook_deliveries_total", "provider" => adapter.name()).increment(1);
    let acknowledgement = adapter.acknowledgement();
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, acknowledgement.content_type)],
        acknowledgement.body,
    )
        .into_response())
}

/// The job that applies a delivery's events.
pub fn apply_job(channel: &Channel, events: &[Event]) -> Result<NewJob> {
    Ok(NewJob::new(
        channel.workspace_id,
        kind::APPLY_HOOK_EVENTS,
        serde_json::json!({
            "channel_id": channel.id,
            "events": serde_json::to_value(events).map_err(Error::internal)?,
        }),
        chrono::Utc::now(),
    ))
}
