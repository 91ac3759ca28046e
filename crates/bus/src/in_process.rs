//! The default bus: one bounded broadcast channel per workspace, inside this process. A slow
//! subscriber skips what it missed instead of slowing the publisher.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use seam_core::{
    Error, Result,
    ids::WorkspaceId,
    ports::{Bus, Subscription},
    realtime::RealtimeEvent,
};
use tokio::sync::broadcast;

/// Events a subscriber may fall behind by before it starts skipping.
const CAPACITY: usize = 1024;

#[derive(Default)]
pub struct InProcessBus {
    topics: Mutex<HashMap<WorkspaceId, broadcast::Sender<Arc<RealtimeEvent>>>>,
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, event: RealtimeEvent) -> Result<()> {
        let mut topics = self
            .topics
            .lock()
            .map_err(|_| Error::internal("bus lock poisoned"))?;
        if let Some(sender) = topics.get(&event.workspace_id) {
            if sender.receiver_count() == 0 {
                topics.remove(&event.workspace_id);
            } else {
                // An error only means every receiver left in the meantime.
                let _ = sender.send(Arc::new(event));
            }
        }
        Ok(())
    }

    async fn subscribe(&self, workspace_id: WorkspaceId) -> Result<Box<dyn Subscription>> {
        let mut topics = self
            .topics
            .lock()
            .map_err(|_| Error::internal("bus lock poisoned"))?;
        let sender = topics
            .entry(workspace_id)
            .or_insert_with(|| broadcast::channel(CAPACITY).0);
        Ok(Box::new(InProcessSubscription {
            receiver: sender.subscribe(),
        }))
    }
}

struct InProcessSubscription {
    receiver: broadcast::Receiver<Arc<RealtimeEvent>>,
}

#[async_trait]
impl Subscription for InProcessSubscription {
    async fn next(&mut self) -> Option<RealtimeEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some((*event).clone()),
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "realtime subscriber fell behind; events skipped");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(workspace_id: WorkspaceId, n: i64) -> RealtimeEvent {
        RealtimeEvent {
            workspace_id,
            topic: "message.created".into(),
            data: serde_json::json!({ "n": n }),
        }
    }

    #[tokio::test]
    async fn subscribers_get_their_workspace_events_and_nothing_else() {
        let bus = InProcessBus::new();
        let (a, b) = (WorkspaceId::new(), WorkspaceId::new());
        let mut first = bus.subscribe(a).await.unwrap();
        let mut second = bus.subscribe(a).await.unwrap();
        let mut other = bus.subscribe(b).await.unwrap();

        bus.publish(event(a, 1)).await.unwrap();

        assert_eq!(first.next().await.unwrap().data["n"], 1);
        assert_eq!(second.next().await.unwrap().data["n"], 1);
        let nothing =
            tokio::time::timeout(std::time::Duration::from_millis(50), other.next()).await;
        assert!(nothing.is_err(), "workspace b received workspace a's event");
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_skips_ahead_instead_of_blocking_the_publisher() {
        let bus = InProcessBus::new();
        let workspace = WorkspaceId::new();
        let mut slow = bus.subscribe(workspace).await.unwrap();
        for n in 0..(CAPACITY as i64 + 10) {
            bus.publish(event(workspace, n)).await.unwrap();
        }
        let first_seen = slow.next().await.unwrap().data["n"].as_i64().unwrap();
        assert!(
            first_seen >= 10,
            "expected the oldest events to be skipped, got {first_seen}"
        );
    }
}
