//! The unified timeline of one customer: every message of every conversation and every event,
//! newest first, in one keyset-paginated list. Messages sort by `created_at`, events by
//! `occurred_at`. No IO except through the ports.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    conversation::{Page, page_size},
    cursor::Cursor,
    event::Event,
    ids::{ChannelId, CustomerId},
    message::Message,
    ports::Store,
    user::{Actor, Permission},
};

/// One item of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TimelineItem {
    Message(Message),
    Event(Event),
}

impl TimelineItem {
    /// The position of the item in the timeline, which its cursor names.
    pub fn cursor(&self) -> Cursor {
        match self {
            TimelineItem::Message(message) => Cursor {
                at: message.created_at,
                id: message.id.0,
            },
            TimelineItem::Event(event) => Cursor {
                at: event.occurred_at,
                id: event.id.0,
            },
        }
    }
}

/// Which items to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    Message,
    Event,
}

impl TimelineKind {
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "message" => Ok(TimelineKind::Message),
            "event" => Ok(TimelineKind::Event),
            _ => Err(Error::invalid("kind", "must be message or event")),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    /// Only messages or only events; both when `None`.
    pub kind: Option<TimelineKind>,
    /// Only messages that went through this channel (events have no channel, so none of
    /// them match).
    pub channel_id: Option<ChannelId>,
}

impl TimelineFilter {
    /// Whether the filter admits messages, and events.
    pub fn admits(&self) -> (bool, bool) {
        let messages = self.kind != Some(TimelineKind::Event);
        let events = self.kind != Some(TimelineKind::Message) && self.channel_id.is_none();
        (messages, events)
    }
}

pub async fn customer_timeline(
    store: &dyn Store,
    actor: &Actor,
    customer_id: CustomerId,
    filter: &TimelineFilter,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<TimelineItem>> {
    actor.require(Permission::ReadCustomers)?;
    let limit = page_size(limit)?;
    store
        .get_customer_profile(actor.workspace_id, customer_id)
        .await?
        .ok_or(Error::NotFound)?;
    store
        .customer_timeline(actor.workspace_id, customer_id, filter, cursor, limit)
        .await
}
