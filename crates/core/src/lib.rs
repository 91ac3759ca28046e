//! Seam's domain: types, rules and use cases. Decides everything and performs no IO; storage,
//! the bus and the clock reach it only through the ports in [`ports`].

pub mod attributes;
pub mod auth;
pub mod channel;
pub mod commerce;
pub mod consent;
pub mod conversation;
pub mod cursor;
pub mod customer;
pub mod duplicates;
pub mod email;
pub mod error;
pub mod event;
pub mod identity;
pub mod ids;
pub mod import;
pub mod inbound;
pub mod jobs;
pub mod merge;
pub mod message;
pub mod messaging;
pub mod money;
pub mod outbound;
pub mod outbox;
pub mod ports;
pub mod privacy;
pub mod profile;
pub mod realtime;
pub mod regroup;
pub mod resolution;
pub mod stats;
pub mod text;
pub mod timeline;
pub mod tracking;
pub mod uploads;
pub mod user;
pub mod webchat;
pub mod workspace;

pub use error::{Error, Result};

/// Every timestamp in Seam is UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
