//! Realtime events pushed to connected agents. Delivery is at most once: a client that
//! reconnects catches up through the list APIs; durability lives in the database.

use serde::{Deserialize, Serialize};

use crate::ids::WorkspaceId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealtimeEvent {
    pub workspace_id: WorkspaceId,
    /// Same topics as the outbox: `message.created`, `conversation.updated`, …
    #[serde(rename = "type")]
    pub topic: String,
    pub data: serde_json::Value,
}
