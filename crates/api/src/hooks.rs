//! `/hooks/{channel_id}`: where WhatsApp, Messenger, Instagram, Telegram, LINE and Twilio
//! deliver. The adapter checks the handshake or the signature over the raw body before
//! anything is read; a signed delivery is parsed, written durably as one job (many deliveries
//! share one commit, see [`Intake`]) and answered 2xx; the job runner applies its events.
//! Nothing is stored for a delivery that fails its check.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

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
    Error, Result, Timestamp,
    channel::{Channel, open_credentials},
    ids::{AttachmentId, ChannelId},
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
/// providers reach Seam at, the key that signs media links, and the intake of deliveries.
#[derive(Clone)]
pub struct Messaging {
    pub vault: Arc<dyn Vault>,
    /// `https://support.example.com`, no trailing slash.
    pub public_url: String,
    pub intake: Intake,
    /// Channels the endpoint saw in the last few seconds, settings opened.
    pub channels: ChannelCache,
    /// Signs and checks the links providers fetch reply files from (`/media/{id}`).
    pub media_key: Arc<[u8; 32]>,
}

impl Messaging {
    /// The URL to paste into the provider: `{public_url}/hooks/{channel_id}`.
    pub fn hook_url(&self, channel_id: ChannelId) -> String {
        format!("{}/hooks/{}", self.public_url, channel_id.0)
    }

    /// The link a provider fetches a reply's file from: `{public_url}/media/{id}`, signed and
    /// valid for an hour from `now`.
    pub fn media_url(&self, attachment_id: AttachmentId, now: Timestamp) -> String {
        crate::media::link(&self.public_url, &self.media_key, attachment_id, now)
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

/// Channels recently looked up by `/hooks`, with their settings opened, kept for a few seconds:
/// a burst of deliveries reads and opens its channel once.
#[derive(Clone, Default)]
pub struct ChannelCache {
    entries: Arc<std::sync::Mutex<HashMap<ChannelId, Cached>>>,
}

/// When a channel was looked up, and what was found.
type Cached = (Instant, Channel, Settings);

const CACHED_FOR: Duration = Duration::from_secs(5);
const CACHED_CHANNELS: usize = 1024;

impl ChannelCache {
    /// Drops what this node holds of a channel that was just changed.
    pub fn forget(&self, id: ChannelId) {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&id);
    }
}

impl Messaging {
    /// The channel and its opened settings, from the cache when seen within [`CACHED_FOR`].
    async fn channel(&self, store: &dyn Store, id: ChannelId) -> Result<(Channel, Settings)> {
        {
            let entries = self
                .channels
                .entries
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if let Some((at, channel, settings)) = entries.get(&id)
                && at.elapsed() < CACHED_FOR
            {
                return Ok((channel.clone(), settings.clone()));
            }
        }
        let channel = store.find_channel(id).await?.ok_or(Error::NotFound)?;
        let settings = self.settings(&channel)?;
        let mut entries = self
            .channels
            .entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.len() >= CACHED_CHANNELS {
            entries.retain(|_, (at, _, _)| at.elapsed() < CACHED_FOR);
        }
        if entries.len() < CACHED_CHANNELS {
            entries.insert(id, (Instant::now(), channel.clone(), settings.clone()));
        }
        Ok((channel, settings))
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
    for job in merged(batch.iter().map(|(job, _)| job)) {
        tx.insert_job(&job).await?;
    }
    tx.commit().await
}

/// The most deliveries one job carries.
const DELIVERIES_PER_JOB: usize = 16;

/// Deliveries to the same channel in one batch become one job (up to [`DELIVERIES_PER_JOB`]),
/// their events in the order they arrived: fewer rows to write, claim and complete.
fn merged<'a>(jobs: impl Iterator<Item = &'a NewJob>) -> Vec<NewJob> {
    let mut merged: Vec<(NewJob, usize)> = Vec::new();
    for job in jobs {
        let events = job
            .payload
            .get("events")
            .and_then(|events| events.as_array());
        let open = merged.iter_mut().find(|(into, count)| {
            *count < DELIVERIES_PER_JOB
                && into.kind == job.kind
                && into.workspace_id == job.workspace_id
                && into.dedupe_key.is_none()
                && job.dedupe_key.is_none()
                && into.payload.get("channel_id") == job.payload.get("channel_id")
        });
        match (open, events) {
            (Some((into, count)), Some(events)) => {
                if let Some(all) = into
                    .payload
                    .get_mut("events")
                    .and_then(|all| all.as_array_mut())
                {
                    all.extend(events.iter().cloned());
                    *count += 1;
                } else {
                    merged.push((job.clone(), 1));
                }
            }
            _ => merged.push((job.clone(), 1)),
        }
    }
    merged.into_iter().map(|(job, _)| job).collect()
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
    let (channel, settings) = state
        .messaging
        .channel(state.store.as_ref(), ChannelId(channel_id))
        .await?;
    let adapter = messaging::adapter(channel.kind, &channel.config).ok_or(Error::NotFound)?;
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

#[cfg(test)]
mod tests {
    use seam_core::ids::WorkspaceId;

    use super::*;

    fn delivery(workspace_id: WorkspaceId, channel: &str, n: usize) -> NewJob {
        NewJob::new(
            workspace_id,
            kind::APPLY_HOOK_EVENTS,
            serde_json::json!({"channel_id": channel, "events": [{"n": n}]}),
            chrono::Utc::now(),
        )
    }

    #[test]
    fn deliveries_to_one_channel_share_jobs_of_at_most_sixteen_in_arrival_order() {
        let workspace = WorkspaceId::new();
        let other_workspace = WorkspaceId::new();
        let mut batch: Vec<NewJob> = (0..20).map(|n| delivery(workspace, "a", n)).collect();
        batch.insert(3, delivery(workspace, "b", 100));
        batch.insert(5, delivery(other_workspace, "a", 200));
        let jobs = merged(batch.iter());
        let events = |job: &NewJob| -> Vec<u64> {
            job.payload["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|event| event["n"].as_u64().unwrap())
                .collect()
        };
        assert_eq!(jobs.len(), 4);
        assert_eq!(events(&jobs[0]), (0..16).collect::<Vec<_>>());
        assert_eq!(events(&jobs[1]), vec![100]);
        assert_eq!(jobs[2].workspace_id, other_workspace);
        assert_eq!(events(&jobs[2]), vec![200]);
        assert_eq!(events(&jobs[3]), (16..20).collect::<Vec<_>>());
    }
}
