//! Events: anything on a customer's timeline that is not a message.

use serde::{Deserialize, Serialize};

use crate::{
    Timestamp,
    ids::{CustomerId, EventId, WorkspaceId},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub workspace_id: WorkspaceId,
    pub customer_id: CustomerId,
    /// `page_viewed`, `order_placed`, `return_requested`, …
    pub name: String,
    pub properties: serde_json::Value,
    pub occurred_at: Timestamp,
    pub created_at: Timestamp,
    /// The sender's idempotency key (Segment's `messageId`), unique per workspace.
    pub message_id: Option<String>,
}
