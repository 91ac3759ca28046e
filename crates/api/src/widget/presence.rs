//! The widget connections open on this node, by (workspace, visitor id), and each visitor's
//! message budget. A push is offered to a connection's bounded queue and never waits: a widget
//! too slow to take it is closed, and reads what it missed in its next welcome. Other nodes
//! will reach these connections by carrying [`Presence::push`] over the bus.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use seam_core::{
    ids::{ChannelId, WorkspaceId},
    webchat::{Presence, WidgetPush},
};
use tokio::sync::mpsc;

/// Open widgets one visitor may have at once (tabs, devices).
pub const MAX_CONNECTIONS_PER_VISITOR: usize = 10;
/// Messages a visitor may send in a burst; the budget refills at one per [`REFILL_EVERY`],
/// which makes 10 messages per 10 seconds.
pub const MESSAGE_BURST: f64 = 10.0;
pub const REFILL_EVERY: Duration = Duration::from_secs(1);
/// Budgets kept before full ones are forgotten (a full budget is the same as none).
const BUDGETS_KEPT: usize = 10_000;

/// The gauge of open widget connections on this node.
pub const CONNECTIONS_GAUGE: &str = "seam_widget_connections";

type Key = (WorkspaceId, String);

struct Connection {
    id: u64,
    queue: mpsc::Sender<WidgetPush>,
}

/// A token bucket.
struct Budget {
    tokens: f64,
    updated: Instant,
}

impl Budget {
    fn refill(&mut self, now: Instant) {
        let earned = now.duration_since(self.updated).as_secs_f64() / REFILL_EVERY.as_secs_f64();
        self.tokens = (self.tokens + earned).min(MESSAGE_BURST);
        self.updated = now;
    }
}

/// The in-process presence registry and rate limiter, shared by the widget sockets and the
/// delivery worker.
#[derive(Default)]
pub struct WidgetPresence {
    connections: Mutex<HashMap<Key, Vec<Connection>>>,
    budgets: Mutex<HashMap<(ChannelId, String), Budget>>,
    next_id: AtomicU64,
}

/// A connection's place in the registry; leaving it (drop) unregisters the connection.
pub struct Registration {
    presence: Arc<WidgetPresence>,
    key: Key,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut connections) = self.presence.connections.lock()
            && let Some(list) = connections.get_mut(&self.key)
        {
            let before = list.len();
            list.retain(|connection| connection.id != self.id);
            metrics::gauge!(CONNECTIONS_GAUGE).decrement((before - list.len()) as f64);
            if list.is_empty() {
                connections.remove(&self.key);
            }
        }
    }
}

impl WidgetPresence {
    pub fn new() -> Self {
        Self::default()
    }

    /// Open widget connections on this node.
    pub fn connection_count(&self) -> usize {
        self.connections
            .lock()
            .map(|connections| connections.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// Adds a connection; `None` when the visitor has too many open already.
    pub(crate) fn register(
        self: &Arc<Self>,
        workspace_id: WorkspaceId,
        visitor_id: &str,
        queue: mpsc::Sender<WidgetPush>,
    ) -> Option<Registration> {
        let key = (workspace_id, visitor_id.to_string());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut connections = self.connections.lock().ok()?;
        let list = connections.entry(key.clone()).or_default();
        if list.len() >= MAX_CONNECTIONS_PER_VISITOR {
            return None;
        }
        list.push(Connection { id, queue });
        metrics::gauge!(CONNECTIONS_GAUGE).increment(1.0);
        Some(Registration {
            presence: self.clone(),
            key,
            id,
        })
    }

    /// Spends one message of the visitor's budget; how long until one is available when the
    /// budget is spent.
    pub(crate) fn spend_message(
        &self,
        channel_id: ChannelId,
        visitor_id: &str,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut budgets) = self.budgets.lock() else {
            return Ok(());
        };
        if budgets.len() >= BUDGETS_KEPT {
            budgets.retain(|_, budget| {
                budget.refill(now);
                budget.tokens < MESSAGE_BURST
            });
        }
        let budget = budgets
            .entry((channel_id, visitor_id.to_string()))
            .or_insert(Budget {
                tokens: MESSAGE_BURST,
                updated: now,
            });
        budget.refill(now);
        if budget.tokens >= 1.0 {
            budget.tokens -= 1.0;
            Ok(())
        } else {
            Err(REFILL_EVERY.mul_f64(1.0 - budget.tokens))
        }
    }
}

#[async_trait]
impl Presence for WidgetPresence {
    async fn push(
        &self,
        workspace_id: WorkspaceId,
        visitor_ids: &[String],
        push: &WidgetPush,
    ) -> usize {
        let Ok(connections) = self.connections.lock() else {
            return 0;
        };
        let mut taken = 0;
        for visitor_id in visitor_ids {
            let Some(list) = connections.get(&(workspace_id, visitor_id.clone())) else {
                continue;
            };
            for connection in list {
                // A full queue means a stuck widget: it is not counted, and its socket closes
                // when it notices the queue is gone (see the socket's writer).
                if connection.queue.try_send(push.clone()).is_ok() {
                    taken += 1;
                }
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_push_reaches_only_the_named_visitors_connections() {
        let presence = Arc::new(WidgetPresence::new());
        let workspace = WorkspaceId::new();
        let (first, mut first_rx) = mpsc::channel(4);
        let (second, mut second_rx) = mpsc::channel(4);
        let _a = presence.register(workspace, "v_a", first).unwrap();
        let _b = presence.register(workspace, "v_b", second).unwrap();
        let push = WidgetPush::Typing { typing: true };
        assert_eq!(presence.push(workspace, &["v_a".into()], &push).await, 1);
        assert_eq!(first_rx.try_recv().unwrap(), push);
        assert!(second_rx.try_recv().is_err());
        assert_eq!(
            presence
                .push(WorkspaceId::new(), &["v_a".into()], &push)
                .await,
            0,
            "another workspace's visitor of the same id is another visitor"
        );
    }

    #[tokio::test]
    async fn a_closed_connection_is_no_longer_present() {
        let presence = Arc::new(WidgetPresence::new());
        let workspace = WorkspaceId::new();
        let (queue, _rx) = mpsc::channel(4);
        let registration = presence.register(workspace, "v_a", queue).unwrap();
        assert_eq!(presence.connection_count(), 1);
        drop(registration);
        assert_eq!(presence.connection_count(), 0);
        let push = WidgetPush::Typing { typing: false };
        assert_eq!(presence.push(workspace, &["v_a".into()], &push).await, 0);
    }

    #[test]
    fn a_visitor_may_send_ten_messages_at_once_and_then_must_wait() {
        let presence = WidgetPresence::new();
        let channel = ChannelId::new();
        for _ in 0..10 {
            assert!(presence.spend_message(channel, "v_a").is_ok());
        }
        let wait = presence.spend_message(channel, "v_a").unwrap_err();
        assert!(wait <= REFILL_EVERY);
        assert!(
            presence.spend_message(channel, "v_b").is_ok(),
            "budgets are per visitor"
        );
    }

    #[test]
    fn a_visitor_has_at_most_ten_open_widgets() {
        let presence = Arc::new(WidgetPresence::new());
        let workspace = WorkspaceId::new();
        let mut held = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..MAX_CONNECTIONS_PER_VISITOR {
            let (queue, rx) = mpsc::channel(1);
            receivers.push(rx);
            held.push(presence.register(workspace, "v_a", queue).unwrap());
        }
        let (queue, _rx) = mpsc::channel(1);
        assert!(presence.register(workspace, "v_a", queue).is_none());
    }
}
