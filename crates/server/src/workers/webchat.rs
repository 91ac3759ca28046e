//! Delivery of replies on a website chat channel, called by the job runner: pushed to the
//! visitor's open widgets and recorded `sent`; when the visitor is away, given a moment to
//! come back (the channel's `away_after_secs`), then re-routed to email when the customer left
//! an address and the workspace has an email channel; otherwise left queued for the next
//! welcome, which hands it over. Decides nothing itself: the rules are in `seam_core::webchat`.

use std::time::Duration;

use chrono::Utc;
use seam_core::{
    Result,
    channel::Channel,
    jobs::Job,
    message::{DeliveryStatus, Message},
    outbound::record_delivery,
    ports::Store,
    webchat::{self, Presence, WebchatConfig, WidgetMessage, WidgetPush},
};

/// What became of one attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Handover {
    /// A widget took it; the message is `sent`.
    Pushed,
    /// Not connected yet: try again after this long.
    WaitForVisitor(Duration),
    /// Sent on by email: a new delivery job carries it.
    Rerouted,
    /// Stays queued until the visitor's next welcome.
    LeftQueued,
}

pub async fn deliver(
    store: &dyn Store,
    presence: &dyn Presence,
    job: &Job,
    message: &Message,
    channel: &Channel,
) -> Result<Handover> {
    let visitors =
        webchat::visitor_ids_of(store, message.workspace_id, message.customer_id).await?;
    let Some(shown) = WidgetMessage::of(message, Some(channel.kind), None) else {
        return Ok(Handover::LeftQueued);
    };
    let push = WidgetPush::Message { message: shown };
    if presence.push(message.workspace_id, &visitors, &push).await > 0 {
        record_delivery(
            store,
            message.workspace_id,
            message.id,
            DeliveryStatus::Sent,
            None,
            Utc::now(),
        )
        .await?;
        return Ok(Handover::Pushed);
    }
    let away_after = WebchatConfig::of(channel).away_after_secs;
    if job.attempts <= 1 && away_after > 0 {
        return Ok(Handover::WaitForVisitor(Duration::from_secs(away_after)));
    }
    match webchat::reroute_to_email(store, message, Utc::now()).await? {
        Some(_) => Ok(Handover::Rerouted),
        None => Ok(Handover::LeftQueued),
    }
}
