//! Delivery status reports: the returned reply fails, a permanent failure flags the address.

use super::*;

/// What a delivery status notification changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BounceOutcome {
    /// Outbound messages now marked failed.
    pub failed: Vec<MessageId>,
    /// Whether the recipient's email identity is now flagged as bouncing.
    pub flagged: bool,
}

/// Applies a bounce: the outbound messages it returns are marked failed with the reason, and
/// on a permanent failure the recipient's email identity is flagged as bouncing. A bounce never
/// becomes a message of a conversation, and nothing answers it.
pub async fn record_bounce(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    bounce: &Bounce,
    now: Timestamp,
) -> Result<BounceOutcome> {
    let mut outcome = BounceOutcome::default();
    let hits = if bounce.original_message_ids.is_empty() {
        Vec::new()
    } else {
        let mut tx = store.begin().await?;
        let hits = tx
            .find_email_thread(workspace_id, &bounce.original_message_ids)
            .await?;
        tx.rollback().await?;
        hits
    };
    let reason = bounce.reason();
    let mut recipient = bounce.recipient.clone();
    for hit in hits.iter().filter(|hit| hit.kind == MessageKind::Outbound) {
        if !bounce.permanent {
            continue;
        }
        let message = crate::outbound::record_delivery(
            store,
            workspace_id,
            hit.message_id,
            DeliveryStatus::Failed,
            Some(reason.clone()),
            now,
        )
        .await?;
        if message.delivery_status == Some(DeliveryStatus::Failed) {
            outcome.failed.push(message.id);
        }
        if recipient.is_none() {
            recipient = message.identity.clone();
        }
    }
    if bounce.permanent
        && let Some(address) = recipient
    {
        let address = address.trim().to_lowercase();
        let mut tx = store.begin().await?;
        outcome.flagged = tx
            .mark_identity_bounced(workspace_id, IdentityKind::Email, &address, now, &reason)
            .await?;
        tx.commit().await?;
    }
    Ok(outcome)
}
