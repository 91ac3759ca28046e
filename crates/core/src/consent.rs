//! Consent per channel kind: whether a customer may be contacted on email, SMS, WhatsApp …,
//! with where the answer came from and when. Campaigns and channel rules ask [`consent_for`].

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    channel::ChannelKind,
    customer::{self, CustomerProfile},
    ids::{CustomerId, WorkspaceId},
    outbox::OutboxEvent,
    ports::Store,
    user::{Actor, Permission},
};

/// The longest `source` accepted.
const MAX_SOURCE_CHARS: usize = 200;

/// The channel kinds consent is recorded for (every kind but the API channel, which is an
/// integration rather than a way to reach a person).
pub const CONSENT_KINDS: [ChannelKind; 9] = [
    ChannelKind::Email,
    ChannelKind::Sms,
    ChannelKind::Whatsapp,
    ChannelKind::Messenger,
    ChannelKind::Instagram,
    ChannelKind::Telegram,
    ChannelKind::Line,
    ChannelKind::Webchat,
    ChannelKind::Voice,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    OptedIn,
    OptedOut,
    /// Nothing recorded, or recorded as not known.
    Unknown,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::OptedIn => "opted_in",
            ConsentStatus::OptedOut => "opted_out",
            ConsentStatus::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "opted_in" => ConsentStatus::OptedIn,
            "opted_out" => ConsentStatus::OptedOut,
            "unknown" => ConsentStatus::Unknown,
            _ => return None,
        })
    }
}

/// A customer's consent on one channel kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub channel_kind: ChannelKind,
    pub status: ConsentStatus,
    /// Where it came from: `import`, `widget`, `agent:<user id>` …; `None` when unknown.
    pub source: Option<String>,
    /// When it was recorded; `None` when nothing is.
    pub updated_at: Option<Timestamp>,
}

impl Consent {
    /// What holds when nothing is recorded.
    pub fn unknown(channel_kind: ChannelKind) -> Self {
        Consent {
            channel_kind,
            status: ConsentStatus::Unknown,
            source: None,
            updated_at: None,
        }
    }
}

/// A channel kind consent is recorded for; `field` names it in the error.
pub fn parse_kind(field: &str, raw: &str) -> Result<ChannelKind> {
    ChannelKind::parse(raw)
        .filter(|kind| CONSENT_KINDS.contains(kind))
        .ok_or_else(|| {
            Error::invalid(
                field,
                "must be one of email, sms, whatsapp, messenger, instagram, telegram, line, \
                 webchat, voice",
            )
        })
}

/// One entry per consent kind, in [`CONSENT_KINDS`] order: the recorded one or `unknown`.
pub fn every_kind(recorded: &[Consent]) -> Vec<Consent> {
    CONSENT_KINDS
        .iter()
        .map(|kind| {
            recorded
                .iter()
                .find(|consent| consent.channel_kind == *kind)
                .cloned()
                .unwrap_or_else(|| Consent::unknown(*kind))
        })
        .collect()
}

/// The customer's consent on `channel_kind`: `unknown` when nothing is recorded (or the
/// customer is not in this workspace). For campaigns, channel rules and any sender.
pub async fn consent_for(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_kind: ChannelKind,
) -> Result<Consent> {
    Ok(store
        .get_consent(workspace_id, customer_id, channel_kind)
        .await?
        .unwrap_or_else(|| Consent::unknown(channel_kind)))
}

/// Records consent as an agent states it (`PUT /customers/{id}/consent/{kind}`); the source
/// defaults to `agent:<user id>`. Answers the profile as stored.
pub async fn set_consent(
    store: &dyn Store,
    actor: &Actor,
    customer_id: CustomerId,
    channel_kind: &str,
    status: &str,
    source: Option<&str>,
    now: Timestamp,
) -> Result<CustomerProfile> {
    actor.require(Permission::UpdateCustomers)?;
    let channel_kind = parse_kind("channel_kind", channel_kind)?;
    let status = ConsentStatus::parse(status)
        .ok_or_else(|| Error::invalid("status", "must be opted_in, opted_out or unknown"))?;
    let source = match source.map(str::trim).filter(|source| !source.is_empty()) {
        Some(source) if source.chars().count() > MAX_SOURCE_CHARS => {
            return Err(Error::invalid(
                "source",
                format!("has at most {MAX_SOURCE_CHARS} characters"),
            ));
        }
        Some(source) => source.to_string(),
        None => format!("agent:{}", actor.user_id.0),
    };
    let consent = Consent {
        channel_kind,
        status,
        source: Some(source),
        updated_at: Some(now),
    };
    let mut tx = store.begin().await?;
    tx.lock_customer(actor.workspace_id, customer_id).await?;
    let mut customer = tx
        .get_customer(actor.workspace_id, customer_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.upsert_consent(actor.workspace_id, customer_id, &consent)
        .await?;
    customer.updated_at = now;
    tx.update_customer(&customer).await?;
    tx.insert_outbox(&OutboxEvent::customer_updated(&customer, now))
        .await?;
    tx.commit().await?;
    customer::get_customer(store, actor, customer_id).await
}

/// Records consent that a channel reported rather than a person stated: an SMS STOP or START,
/// a provider refusing a send because the recipient opted out, a block or unfollow.
/// `source` says which (`sms:STOP`, `provider:twilio`, …). No permission: the channel is
/// the authority. Nothing is written when the status is already the same.
pub async fn record_from_channel(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_kind: ChannelKind,
    status: ConsentStatus,
    source: &str,
    now: Timestamp,
) -> Result<()> {
    let current = store
        .get_consent(workspace_id, customer_id, channel_kind)
        .await?;
    if current.is_some_and(|consent| consent.status == status) {
        return Ok(());
    }
    let consent = Consent {
        channel_kind,
        status,
        source: Some(source.chars().take(MAX_SOURCE_CHARS).collect()),
        updated_at: Some(now),
    };
    let mut tx = store.begin().await?;
    tx.lock_customer(workspace_id, customer_id).await?;
    let mut customer = tx
        .get_customer(workspace_id, customer_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.upsert_consent(workspace_id, customer_id, &consent)
        .await?;
    customer.updated_at = now;
    tx.update_customer(&customer).await?;
    tx.insert_outbox(&OutboxEvent::customer_updated(&customer, now))
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consent_kind_is_listed_and_unrecorded_ones_are_unknown() {
        let recorded = vec![Consent {
            channel_kind: ChannelKind::Sms,
            status: ConsentStatus::OptedOut,
            source: Some("import".into()),
            updated_at: Some(chrono::Utc::now()),
        }];
        let all = every_kind(&recorded);
        assert_eq!(all.len(), CONSENT_KINDS.len());
        assert_eq!(all[1], recorded[0]);
        assert_eq!(all[0], Consent::unknown(ChannelKind::Email));
    }

    #[test]
    fn the_api_channel_is_not_a_consent_kind() {
        assert!(parse_kind("channel_kind", "api").is_err());
        assert!(parse_kind("channel_kind", "carrier-pigeon").is_err());
        assert_eq!(
            parse_kind("channel_kind", "whatsapp").ok(),
            Some(ChannelKind::Whatsapp)
        );
    }
}
