//! Messages and the forward-only delivery status rule.

use serde::{Deserialize, Serialize};

use crate::{
    Timestamp,
    ids::{ChannelId, ConversationId, CustomerId, MessageId, UserId, WorkspaceId},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// From the customer.
    Inbound,
    /// To the customer, through a channel.
    Outbound,
    /// An internal note: agents only, never delivered.
    Note,
    /// A system record (status change, assignment).
    Activity,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Inbound => "inbound",
            MessageKind::Outbound => "outbound",
            MessageKind::Note => "note",
            MessageKind::Activity => "activity",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "inbound" => MessageKind::Inbound,
            "outbound" => MessageKind::Outbound,
            "note" => MessageKind::Note,
            "activity" => MessageKind::Activity,
            _ => return None,
        })
    }
}

/// Delivery status of an outbound message. It only moves forward:
/// `queued < sent < delivered < read`, and `failed` is terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => DeliveryStatus::Queued,
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            _ => return None,
        })
    }

    fn rank(self) -> u8 {
        match self {
            DeliveryStatus::Queued => 0,
            DeliveryStatus::Sent => 1,
            DeliveryStatus::Delivered => 2,
            DeliveryStatus::Read => 3,
            DeliveryStatus::Failed => 4,
        }
    }

    /// Whether a report of `next` may replace `self`. Late, repeated and out-of-order provider
    /// callbacks are therefore harmless. A read receipt after a failure is still ignored: once
    /// failed, the agent has been told, and the message stays failed.
    pub fn may_become(self, next: DeliveryStatus) -> bool {
        match (self, next) {
            (DeliveryStatus::Failed, _) => false,
            (_, DeliveryStatus::Failed) => {
                matches!(self, DeliveryStatus::Queued | DeliveryStatus::Sent)
            }
            _ => next.rank() > self.rank(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub customer_id: CustomerId,
    pub kind: MessageKind,
    /// The channel it came or went through; `None` for notes and activity.
    pub channel_id: Option<ChannelId>,
    /// The identity value it came from or went to (e.g. the email address), when known.
    pub identity: Option<String>,
    /// The kind of that identity.
    pub identity_kind: Option<crate::identity::IdentityKind>,
    /// The agent who wrote it (outbound and notes).
    pub author_id: Option<UserId>,
    /// The provider's message id: the deduplication key together with `channel_id`.
    pub provider_message_id: Option<String>,
    pub text: String,
    pub delivery_status: Option<DeliveryStatus>,
    pub delivery_error: Option<String>,
    /// When the customer or the provider says it was sent.
    pub sent_at: Timestamp,
    pub created_at: Timestamp,
}

/// Longest message text accepted, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::*;

    #[test]
    fn delivery_status_only_moves_forward() {
        assert!(Queued.may_become(Sent));
        assert!(Sent.may_become(Read));
        assert!(!Read.may_become(Delivered));
        assert!(!Delivered.may_become(Sent));
        assert!(!Sent.may_become(Sent));
    }

    #[test]
    fn failed_is_terminal_and_reachable_only_before_delivery() {
        assert!(Queued.may_become(Failed));
        assert!(Sent.may_become(Failed));
        assert!(!Delivered.may_become(Failed));
        for next in [Queued, Sent, Delivered, Read, Failed] {
            assert!(!Failed.may_become(next));
        }
    }
}
