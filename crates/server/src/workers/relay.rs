//! The outbox relay: after each commit, turns outbox rows into realtime pushes on the bus and
//! into webhook jobs for API channels, then deletes them. Rows survive a crash and are relayed
//! on the next start; webhook jobs are deduplicated by the outbox row's id.

use std::{sync::Arc, time::Duration};

use seam_core::{
    Result,
    channel::ChannelKind,
    conversation::Conversation,
    jobs::{NewJob, kind},
    outbox::OutboxEvent,
    ports::{Bus, Store},
    realtime::RealtimeEvent,
};
use tokio::sync::{Notify, watch};

const BATCH: u32 = 500;
/// Polls this often even without a wake-up, so rows written by another node are relayed too.
const POLL: Duration = Duration::from_millis(500);

pub async fn run(
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    wake: Arc<Notify>,
    jobs_wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match relay_once(store.as_ref(), bus.as_ref()).await {
            Ok(relayed) => {
                if relayed.jobs_created {
                    jobs_wake.notify_one();
                }
                if relayed.rows == BATCH as usize {
                    continue;
                }
            }
            Err(error) => tracing::error!(%error, "outbox relay failed; retrying"),
        }
        // Commits that wrote jobs directly also wake us: pass it on to the job runner.
        jobs_wake.notify_one();
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}

struct Relayed {
    rows: usize,
    jobs_created: bool,
}

async fn relay_once(store: &dyn Store, bus: &dyn Bus) -> Result<Relayed> {
    let rows = store.fetch_outbox(BATCH).await?;
    if rows.is_empty() {
        return Ok(Relayed {
            rows: 0,
            jobs_created: false,
        });
    }
    let mut jobs = Vec::new();
    for row in &rows {
        if let Some(job) = webhook_job(store, row).await? {
            jobs.push(job);
        }
    }
    if !jobs.is_empty() {
        let mut tx = store.begin().await?;
        for job in &jobs {
            tx.insert_job(job).await?;
        }
        tx.commit().await?;
    }
    for row in &rows {
        let event = RealtimeEvent {
            workspace_id: row.workspace_id,
            topic: row.topic.clone(),
            data: row.payload.clone(),
        };
        if let Err(error) = bus.publish(event).await {
            tracing::warn!(%error, "realtime publish failed");
        }
    }
    let ids: Vec<_> = rows.iter().map(|row| row.id).collect();
    store.delete_outbox(&ids).await?;
    metrics::counter!("seam_outbox_relayed_total").increment(rows.len() as u64);
    Ok(Relayed {
        rows: rows.len(),
        jobs_created: !jobs.is_empty(),
    })
}

/// Conversation events go to the webhook of the API channel the customer last wrote on.
async fn webhook_job(store: &dyn Store, row: &OutboxEvent) -> Result<Option<NewJob>> {
    if !row.topic.starts_with("conversation.") {
        return Ok(None);
    }
    let Ok(conversation) = serde_json::from_value::<Conversation>(row.payload.clone()) else {
        return Ok(None);
    };
    let Some(channel_id) = conversation.last_channel_id else {
        return Ok(None);
    };
    let Some(channel) = store.get_channel(row.workspace_id, channel_id).await? else {
        return Ok(None);
    };
    if channel.kind != ChannelKind::Api || channel.webhook_url().is_none() {
        return Ok(None);
    }
    let payload = serde_json::json!({
        "channel_id": channel.id,
        "event": { "id": row.id, "type": row.topic, "created_at": row.created_at, "data": row.payload },
    });
    Ok(Some(
        NewJob::new(
            row.workspace_id,
            kind::DELIVER_WEBHOOK_EVENT,
            payload,
            row.created_at,
        )
        .dedupe(format!("outbox:{}", row.id)),
    ))
}
