//! The job runner: claims due jobs, runs them with bounded concurrency, and applies the
//! retry schedule of `seam_core::jobs`. A job whose lease expires (the node died mid-job) is
//! claimed again, which is why every job is idempotent.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use seam_channels::api_channel::{self, Delivery};
use seam_core::{
    Error, Result,
    channel::ChannelKind,
    ids::{ChannelId, MessageId},
    jobs::{Job, Retry, kind, next_attempt},
    message::{DeliveryStatus, MessageKind},
    outbound::{can_deliver, record_delivery},
    ports::Store,
};
use tokio::sync::{Notify, Semaphore, watch};

use crate::email::Mailer;

/// Jobs run at once per node.
const CONCURRENCY: usize = 32;
/// How long a claimed job is ours before another worker may take it.
const LEASE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    http: reqwest::Client,
    mailer: Arc<Mailer>,
    max_attempts: i32,
    /// Website chat: the widgets connected to this node.
    presence: Option<Arc<dyn seam_core::webchat::Presence>>,
    /// Messaging channels: applies webhook deliveries and sets channels up.
    applier: Option<crate::messaging::Applier>,
}

impl Runner {
    pub fn new(
        store: Arc<dyn Store>,
        http: reqwest::Client,
        mailer: Arc<Mailer>,
        max_attempts: i32,
    ) -> Self {
        Runner {
            store,
            http,
            mailer,
            max_attempts,
            presence: None,
            applier: None,
        }
    }

    /// Messaging channels: sends through their adapters, applies what their webhooks
    /// delivered and tells providers where to deliver.
    pub fn with_messaging(mut self, applier: crate::messaging::Applier) -> Self {
        self.applier = Some(applier);
        self
    }

    /// Website chat: delivers webchat replies to the widgets in `presence`.
    pub fn with_presence(mut self, presence: Arc<dyn seam_core::webchat::Presence>) -> Self {
        self.presence = Some(presence);
        self
    }
}

pub async fn run(runner: Runner, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        if *shutdown.borrow() {
            break;
        }
        let free = slots.available_permits() as u32;
        let mut claimed = 0;
        if free > 0 {
            let now = Utc::now();
            let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
            match runner.store.claim_jobs(now, lease_until, free).await {
                Ok(jobs) => {
                    claimed = jobs.len();
                    for job in jobs {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        let runner = runner.clone();
                        tokio::spawn(async move {
                            runner.execute(job).await;
                            drop(permit);
                        });
                    }
                }
                Err(error) => tracing::error!(%error, "claiming jobs failed"),
            }
        }
        if claimed > 0 && claimed == free as usize {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        }
    }
    // Let the jobs in hand finish.
    let _ = slots.acquire_many(CONCURRENCY as u32).await;
}

/// How one attempt ended.
enum Outcome {
    Done,
    /// Done, and already recorded as done (with the send it completed).
    Settled,
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Permanent {
        reason: String,
    },
}

impl From<Delivery> for Outcome {
    fn from(delivery: Delivery) -> Self {
        match delivery {
            Delivery::Delivered => Outcome::Done,
            Delivery::Retry {
                reason,
                retry_after,
            } => Outcome::Retry {
                reason,
                retry_after,
            },
            Delivery::Permanent { reason } => Outcome::Permanent { reason },
        }
    }
}

impl Runner {
    async fn execute(&self, mut job: Job) {
        // The configured limit applies to jobs already queued too.
        job.max_attempts = job.max_attempts.min(self.max_attempts);
        let outcome = match job.kind.as_str() {
            kind::DELIVER_MESSAGE => self.deliver_message(&job).await,
            kind::DELIVER_WEBHOOK_EVENT => self.deliver_webhook_event(&job).await,
            kind::APPLY_HOOK_EVENTS | kind::SET_UP_CHANNEL => self.messaging_job(&job).await,
            other => Ok(Outcome::Permanent {
                reason: format!("unknown job kind {other}"),
            }),
        };
        let outcome = outcome.unwrap_or_else(|error| match error {
            Error::NotFound => Outcome::Permanent {
                reason: "the job's subject no longer exists".into(),
            },
            other => Outcome::Retry {
                reason: other.to_string(),
                retry_after: None,
            },
        });
        if let Err(error) = self.settle(&job, outcome).await {
            tracing::error!(%error, job = %job.id, "recording a job's outcome failed");
        }
    }

    async fn settle(&self, job: &Job, outcome: Outcome) -> Result<()> {
        let now = Utc::now();
        let kind = job.kind.clone();
        match outcome {
            Outcome::Done => {
                metrics::counter!("seam_jobs_completed_total", "kind" => kind).increment(1);
                self.store.complete_job(job.id).await
            }
            Outcome::Settled => {
                metrics::counter!("seam_jobs_completed_total", "kind" => kind).increment(1);
                Ok(())
            }
            Outcome::Retry {
                reason,
                retry_after,
            } => {
                let retry_after = retry_after
                    .and_then(|after| chrono::Duration::from_std(after).ok())
                    .map(|after| now + after);
                match next_attempt(job, retry_after, now) {
                    Retry::At(at) => {
                        metrics::counter!("seam_jobs_retried_total", "kind" => kind).increment(1);
                        tracing::info!(job = %job.id, attempts = job.attempts, %reason, "job will be retried");
                        self.store.retry_job(job.id, at, &reason).await
                    }
                    Retry::Dead => self.bury(job, &reason).await,
                }
            }
            Outcome::Permanent { reason } => self.bury(job, &reason).await,
        }
    }

    async fn bury(&self, job: &Job, reason: &str) -> Result<()> {
        metrics::counter!("seam_jobs_dead_total", "kind" => job.kind.clone()).increment(1);
        tracing::warn!(job = %job.id, attempts = job.attempts, %reason, "job is dead");
        if job.kind == kind::DELIVER_MESSAGE
            && let Some(message_id) = message_id_of(job)
        {
            let failed = record_delivery(
                self.store.as_ref(),
                job.workspace_id,
                message_id,
                DeliveryStatus::Failed,
                Some(reason.to_string()),
                Utc::now(),
            )
            .await;
            if let Err(error) = failed
                && !matches!(error, Error::NotFound)
            {
                return Err(error);
            }
        }
        self.store.bury_job(job.id, reason).await
    }

    async fn messaging_job(&self, job: &Job) -> Result<Outcome> {
        use crate::messaging::Applied;
        let Some(applier) = self.applier.as_ref() else {
            return Ok(Outcome::Retry {
                reason: "messaging channels are not served by this node".into(),
                retry_after: None,
            });
        };
        let applied = if job.kind == kind::SET_UP_CHANNEL {
            applier.set_up(job).await?
        } else {
            applier.apply(job).await?
        };
        Ok(match applied {
            Applied::Done => Outcome::Done,
            Applied::Retry {
                reason,
                retry_after,
            } => Outcome::Retry {
                reason,
                retry_after,
            },
            Applied::Permanent { reason } => Outcome::Permanent { reason },
        })
    }

    async fn deliver_message(&self, job: &Job) -> Result<Outcome> {
        let message_id = message_id_of(job).ok_or(Error::NotFound)?;
        let store = self.store.as_ref();
        let message = store
            .get_message(job.workspace_id, message_id)
            .await?
            .ok_or(Error::NotFound)?;
        if message.kind != MessageKind::Outbound
            || message.delivery_status != Some(DeliveryStatus::Queued)
        {
            // Delivered on an earlier attempt whose completion was not recorded.
            return Ok(Outcome::Done);
        }
        let channel_id = message.channel_id.ok_or(Error::NotFound)?;
        let channel = store
            .get_channel(job.workspace_id, channel_id)
            .await?
            .ok_or(Error::NotFound)?;
        // Website chat: pushed to the visitor's widgets, or re-routed (workers/webchat.rs).
        if channel.kind == seam_core::channel::ChannelKind::Webchat {
            let Some(presence) = self.presence.as_deref() else {
                return Ok(Outcome::Retry {
                    reason: "website chat is not served by this node".into(),
                    retry_after: None,
                });
            };
            use super::webchat::{Handover, deliver};
            return Ok(
                match deliver(store, presence, job, &message, &channel).await? {
                    Handover::WaitForVisitor(wait) => Outcome::Retry {
                        reason: "the visitor is not on the site; waiting before email".into(),
                        retry_after: Some(wait),
                    },
                    Handover::Pushed | Handover::Rerouted | Handover::LeftQueued => Outcome::Done,
                },
            );
        }
        if let Err(refusal) = can_deliver(&channel) {
            return Ok(Outcome::Permanent {
                reason: refusal.to_string(),
            });
        }
        if seam_core::messaging::is_messaging(channel.kind) {
            let Some(node) = self.applier.as_ref() else {
                return Ok(Outcome::Permanent {
                    reason: "messaging channels are not served by this node".into(),
                });
            };
            return Ok(
                match super::outbound::deliver(store, &self.http, node, job, &message, &channel)
                    .await?
                {
                    super::outbound::Sending::Settled => Outcome::Settled,
                    super::outbound::Sending::Retry {
                        reason,
                        retry_after,
                    } => Outcome::Retry {
                        reason,
                        retry_after,
                    },
                    super::outbound::Sending::Permanent { reason } => Outcome::Permanent { reason },
                },
            );
        }
        if channel.kind == ChannelKind::Email {
            let delivery = self.mailer.send(&channel, &message).await?;
            if delivery == Delivery::Delivered {
                record_delivery(
                    store,
                    job.workspace_id,
                    message.id,
                    DeliveryStatus::Sent,
                    None,
                    Utc::now(),
                )
                .await?;
            }
            return Ok(delivery.into());
        }
        let url = channel.webhook_url().unwrap_or_default().to_string();
        let customer = store
            .get_customer_profile(job.workspace_id, message.customer_id)
            .await?;
        let body = serde_json::json!({
            "type": "message.created",
            "message": {
                "id": message.id,
                "conversation_id": message.conversation_id,
                "text": message.text,
                "author_id": message.author_id,
                "created_at": message.created_at,
            },
            "customer": customer.map(|profile| serde_json::json!({
                "id": profile.customer.id,
                "name": profile.customer.name,
                "identities": profile.identities.iter()
                    .map(|held| serde_json::json!({"kind": held.identity.kind, "value": held.identity.value}))
                    .collect::<Vec<_>>(),
            })),
        });
        let body = serde_json::to_vec(&body).map_err(Error::internal)?;
        let delivery = api_channel::deliver(
            &self.http,
            &url,
            &channel.secret,
            body,
            &message.id.to_string(),
            Utc::now().timestamp(),
        )
        .await;
        if delivery == Delivery::Delivered {
            record_delivery(
                store,
                job.workspace_id,
                message.id,
                DeliveryStatus::Sent,
                None,
                Utc::now(),
            )
            .await?;
        }
        Ok(delivery.into())
    }

    async fn deliver_webhook_event(&self, job: &Job) -> Result<Outcome> {
        let channel_id = job
            .payload
            .get("channel_id")
            .and_then(|id| id.as_str())
            .and_then(ChannelId::parse)
            .ok_or(Error::NotFound)?;
        let event = job.payload.get("event").cloned().ok_or(Error::NotFound)?;
        let channel = self
            .store
            .get_channel(job.workspace_id, channel_id)
            .await?
            .ok_or(Error::NotFound)?;
        let Some(url) = channel.webhook_url() else {
            return Ok(Outcome::Permanent {
                reason: "the channel no longer has a webhook_url".into(),
            });
        };
        let key = event
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or_default()
            .to_string();
        let body = serde_json::to_vec(&event).map_err(Error::internal)?;
        let delivery = api_channel::deliver(
            &self.http,
            url,
            &channel.secret,
            body,
            &key,
            Utc::now().timestamp(),
        )
        .await;
        Ok(delivery.into())
    }
}

fn message_id_of(job: &Job) -> Option<MessageId> {
    job.payload
        .get("message_id")
        .and_then(|id| id.as_str())
        .and_then(MessageId::parse)
}
