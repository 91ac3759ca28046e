//! Computed profile fields: first and last seen, channels used, conversations, orders and
//! spending, CSAT. The stored part (`customer_stats`, `customer_channels`) is kept current
//! inside the transactions that add messages and events; the rest is counted at read time
//! over indexed rows. No IO except through the ports.

use serde::{Deserialize, Serialize};

use crate::{
    Result, Timestamp,
    commerce::Money,
    customer::CustomerProfile,
    ids::{ChannelId, CustomerId},
    message::{Message, MessageKind},
    ports::{Store, Tx},
    user::Actor,
};

/// What a customer has spent in one currency (`None`: orders that named no currency).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spent {
    pub currency: Option<String>,
    pub total: Money,
}

/// The computed fields of a profile.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerStats {
    /// The earliest message or event from the customer.
    pub first_seen_at: Option<Timestamp>,
    /// The latest message or event from the customer.
    pub last_seen_at: Option<Timestamp>,
    /// The channel of the customer's latest message.
    pub last_channel_id: Option<ChannelId>,
    /// Every channel the customer has written on, most recent first.
    pub channels_used: Vec<ChannelId>,
    /// Conversations not resolved.
    pub conversations_open: i64,
    pub conversations_total: i64,
    pub orders_count: i64,
    /// Summed order totals, one entry per currency.
    pub total_spent: Vec<Spent>,
    /// Sum and count of CSAT scores; nothing records them yet.
    pub csat_total: i64,
    pub csat_count: i64,
}

impl CustomerStats {
    /// The mean CSAT score, `None` before the first answer.
    pub fn average_csat(&self) -> Option<f64> {
        (self.csat_count > 0).then(|| self.csat_total as f64 / self.csat_count as f64)
    }
}

/// Keeps the stored stats current for a message just written in `tx`. Only what the customer
/// sent counts as the customer being seen.
pub async fn record_message(tx: &mut dyn Tx, message: &Message) -> Result<()> {
    if message.kind != MessageKind::Inbound {
        return Ok(());
    }
    tx.record_customer_activity(
        message.workspace_id,
        message.customer_id,
        message.sent_at,
        message.sent_at,
        message.channel_id,
    )
    .await
}

/// A customer's profile with its computed fields.
pub async fn get_customer_with_stats(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
) -> Result<(CustomerProfile, CustomerStats)> {
    let profile = crate::customer::get_customer(store, actor, id).await?;
    let stats = store.get_customer_stats(actor.workspace_id, id).await?;
    Ok((profile, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_csat_is_absent_until_a_score_exists() {
        let mut stats = CustomerStats::default();
        assert_eq!(stats.average_csat(), None);
        stats.csat_total = 9;
        stats.csat_count = 2;
        assert_eq!(stats.average_csat(), Some(4.5));
    }
}
