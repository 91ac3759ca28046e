//! Delivery of replies on messaging channels (WhatsApp, Messenger, Instagram, Telegram, LINE,
//! SMS): the job's message becomes the adapter's `Outgoing`, and the provider's answer becomes
//! the message's status. What may be sent was decided when the reply was queued
//! (`core::outbound`); this only carries it out. A reply's files go as signed links to
//! `/media/{attachment_id}`, made fresh for each attempt, which the provider fetches.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use seam_api::hooks::Messaging;
use seam_channels::messaging::{self, Button, Outgoing, OutgoingMedia, Sent, TemplateMessage};
use seam_core::{
    Error, Result,
    channel::{Channel, ChannelKind},
    consent::{self, ConsentStatus},
    ids::AttachmentId,
    ids::{JobId, MessageId, WorkspaceId},
    jobs::Job,
    message::Message,
    outbound::{record_sent, record_sent_in},
    ports::Store,
};
use tokio::sync::{mpsc, oneshot};

use crate::messaging::Applier;

/// How one send ended, for the job runner.
pub enum Sending {
    /// Accepted, and recorded with the job's completion (see [`Settler`]).
    Settled,
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Permanent {
        reason: String,
    },
}

/// A send the provider accepted, to be recorded with its job's completion.
pub struct Settling {
    pub workspace_id: WorkspaceId,
    pub job_id: JobId,
    pub message_id: MessageId,
    pub provider_message_id: String,
}

type Waiting = (Settling, oneshot::Sender<Result<()>>);

/// Records accepted sends — the provider's id, the status `sent`, the job done — many to a
/// commit: a send costs a share of one transaction instead of two of its own. Each caller
/// waits for the commit that holds its send; when a batch fails as a whole, its sends are
/// recorded one by one.
#[derive(Clone)]
pub struct Settler {
    sender: mpsc::Sender<Waiting>,
}

/// The most sends one commit settles.
const SETTLE_BATCH: usize = 128;

impl Settler {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> Settler {
        let (sender, mut receiver) = mpsc::channel::<Waiting>(1024);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(SETTLE_BATCH);
            while receiver.recv_many(&mut batch, SETTLE_BATCH).await > 0 {
                let outcomes = settle_batch(store.as_ref(), &batch).await;
                for ((_, done), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = done.send(outcome);
                }
            }
        });
        Settler { sender }
    }

    /// Records `sent`; returns once it is committed.
    pub async fn settle(&self, sent: Settling) -> Result<()> {
        let (done, committed) = oneshot::channel();
        self.sender
            .send((sent, done))
            .await
            .map_err(|_| Error::internal("the send recorder has stopped"))?;
        committed
            .await
            .map_err(|_| Error::internal("the send recorder has stopped"))?
    }
}

async fn settle_batch(store: &dyn Store, batch: &[Waiting]) -> Vec<Result<()>> {
    let now = Utc::now();
    let together = async {
        let mut tx = store.begin().await?;
        for (sent, _) in batch {
            match record_sent_in(
                tx.as_mut(),
                sent.workspace_id,
                sent.message_id,
                &sent.provider_message_id,
                now,
            )
            .await
            {
                // Erased meanwhile: nothing to record, the job is done all the same.
                Ok(_) | Err(Error::NotFound) => {}
                Err(error) => return Err(error),
            }
            tx.complete_job(sent.job_id).await?;
        }
        tx.commit().await
    }
    .await;
    match together {
        Ok(()) => batch.iter().map(|_| Ok(())).collect(),
        Err(error) => {
            tracing::warn!(%error, sends = batch.len(), "recording sends together failed; one by one");
            let mut outcomes = Vec::with_capacity(batch.len());
            for (sent, _) in batch {
                let recorded = match record_sent(
                    store,
                    sent.workspace_id,
                    sent.message_id,
                    &sent.provider_message_id,
                    now,
                )
                .await
                {
                    Ok(_) | Err(Error::NotFound) => store.complete_job(sent.job_id).await,
                    Err(error) => Err(error),
                };
                outcomes.push(recorded);
            }
            outcomes
        }
    }
}

pub async fn deliver(
    store: &dyn Store,
    http: &reqwest::Client,
    node: &Applier,
    job: &Job,
    message: &Message,
    channel: &Channel,
) -> Result<Sending> {
    let Some(adapter) = messaging::adapter(channel.kind, &channel.config) else {
        return Ok(Sending::Permanent {
            reason: format!("channels of kind {} cannot send", channel.kind.as_str()),
        });
    };
    let settings = node.messaging.settings(channel)?;
    let mut outgoing = outgoing(job, message)?;
    if let Some(files) = job.payload.get("media") {
        match media(files, channel, &node.messaging) {
            Ok(media) => outgoing.media = media,
            Err(reason) => return Ok(Sending::Permanent { reason }),
        }
    }
    if channel.kind == ChannelKind::Line {
        // Within a minute of the customer's message LINE takes a reply, else a push.
        outgoing.reply_token = node.reply_tokens.take(channel.id, &outgoing.to);
    }
    match adapter.send(http, &settings, &outgoing).await {
        Sent::Accepted {
            provider_message_id,
        } => {
            node.settler
                .settle(Settling {
                    workspace_id: job.workspace_id,
                    job_id: job.id,
                    message_id: message.id,
                    provider_message_id,
                })
                .await?;
            Ok(Sending::Settled)
        }
        Sent::Retry {
            reason,
            retry_after,
        } => Ok(Sending::Retry {
            reason,
            retry_after,
        }),
        Sent::Permanent { reason, opted_out } => {
            if opted_out {
                consent::record_from_channel(
                    store,
                    job.workspace_id,
                    message.customer_id,
                    channel.kind,
                    ConsentStatus::OptedOut,
                    &format!("provider:{}", adapter.name()),
                    Utc::now(),
                )
                .await?;
            }
            Ok(Sending::Permanent { reason })
        }
    }
}

/// The adapter's message from the stored one and what the job carries (`to`, `tag`,
/// `template`, `buttons`, decided when the reply was queued).
fn outgoing(job: &Job, message: &Message) -> Result<Outgoing> {
    let payload = &job.payload;
    let to = payload
        .get("to")
        .and_then(|to| to.as_str())
        .ok_or(Error::NotFound)?
        .to_string();
    let template = match payload.get("template") {
        Some(template) if !template.is_null() => Some(TemplateMessage {
            name: text_of(template, "name"),
            language: text_of(template, "language"),
            parameters: template
                .get("parameters")
                .and_then(|parameters| parameters.as_array())
                .map(|parameters| {
                    parameters
                        .iter()
                        .filter_map(|value| value.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            content_sid: template
                .get("content_sid")
                .and_then(|sid| sid.as_str())
                .map(str::to_string),
        }),
        _ => None,
    };
    let buttons = payload
        .get("buttons")
        .and_then(|buttons| buttons.as_array())
        .map(|buttons| {
            buttons
                .iter()
                .map(|button| Button {
                    id: text_of(button, "id"),
                    title: text_of(button, "title"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Outgoing {
        message_id: message.id.0,
        to,
        text: if template.is_some() {
            None
        } else {
            Some(message.text.clone())
        },
        media: Vec::new(),
        buttons,
        template,
        tag: payload
            .get("tag")
            .and_then(|tag| tag.as_str())
            .map(str::to_string),
        reply_token: None,
        reply_to: None,
    })
}

/// The job's files (`[{attachment_id, content_type, file_name}]`) as links the provider
/// fetches, each valid for an hour; why they cannot go, when they cannot.
fn media(
    files: &serde_json::Value,
    channel: &Channel,
    links: &Messaging,
) -> std::result::Result<Vec<OutgoingMedia>, String> {
    let files = files.as_array().map(Vec::as_slice).unwrap_or_default();
    if files.is_empty() {
        return Ok(Vec::new());
    }
    // LINE: "originalContentUrl … Protocol: HTTPS (TLS 1.2 or later)".
    if channel.kind == ChannelKind::Line && !links.public_url.starts_with("https://") {
        return Err(
            "LINE fetches files over https only: set --public-url (SEAM_PUBLIC_URL) to this \
             server's https address"
                .into(),
        );
    }
    let now = Utc::now();
    files
        .iter()
        .map(|file| {
            let id = file
                .get("attachment_id")
                .and_then(|id| id.as_str())
                .and_then(AttachmentId::parse)
                .ok_or("a file of the reply has no attachment id")?;
            Ok(OutgoingMedia {
                url: links.media_url(id, now),
                content_type: text_of(file, "content_type"),
                file_name: Some(text_of(file, "file_name")).filter(|name| !name.is_empty()),
            })
        })
        .collect()
}

fn text_of(value: &serde_json::Value, key: &str) -> String {
    value
        .get(key)
        .and_then(|value| value.as_str())
        .unwrap_or_default()
        .to_string()
}
