//! Event tracking in the shape of the Segment spec: `identify` and `track` calls, checked at
//! the edge of the domain and turned into raw identities, an event and, for commerce events,
//! an order or return update. The use case that stores them is in [`ingest`].

mod ingest;

pub use ingest::{ItemOutcome, Tracked, batch, identify, track};

use serde_json::{Map, Value};

use crate::{
    Error, Result, Timestamp,
    commerce::{self, CommerceUpdate},
    identity::IdentityKind,
    inbound::RawIdentity,
};

/// Most calls one batch may carry.
pub const MAX_BATCH_ITEMS: usize = 500;
/// Largest `properties` (or extra `traits`) object, serialised.
pub const MAX_PROPERTIES_BYTES: usize = 32 * 1024;
/// The `Conflict` name a store reports when an event's `messageId` is already stored.
pub const EVENT_MESSAGE_ID_TAKEN: &str = "event_message_id";
/// The name of the event an identify call leaves on the timeline.
pub const IDENTIFY_EVENT: &str = "identify";

/// Who the customer is and what is known about them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identify {
    /// The integrator's user id: an `external_id` identity.
    pub user_id: Option<String>,
    /// A browser or device id: a `visitor` identity.
    pub anonymous_id: Option<String>,
    /// `email`, `phone` and `name` are read; the rest is kept on the identify event.
    pub traits: Option<Map<String, Value>>,
    /// RFC 3339; now when absent.
    pub timestamp: Option<String>,
    /// The idempotency key.
    pub message_id: Option<String>,
}

/// Something the customer did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Track {
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub event: String,
    pub properties: Option<Map<String, Value>>,
    pub timestamp: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    Identify(Identify),
    Track(Track),
}

/// A call that passed every check and is ready to be resolved and stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Checked {
    pub sender: Vec<RawIdentity>,
    pub name: Option<String>,
    pub event: String,
    pub properties: Value,
    pub occurred_at: Option<Timestamp>,
    pub message_id: Option<String>,
    pub commerce: Option<CommerceUpdate>,
}

fn raw(kind: IdentityKind, field: &str, value: String) -> RawIdentity {
    // Calls arrive with the workspace's own credential: its server vouches for them.
    RawIdentity {
        kind,
        value,
        field: field.to_string(),
        verified: true,
    }
}

fn ids_of(user_id: Option<String>, anonymous_id: Option<String>) -> Vec<RawIdentity> {
    let mut sender = Vec::new();
    if let Some(user_id) = user_id {
        sender.push(raw(IdentityKind::ExternalId, "userId", user_id));
    }
    if let Some(anonymous_id) = anonymous_id {
        sender.push(raw(IdentityKind::Visitor, "anonymousId", anonymous_id));
    }
    sender
}

fn check_timestamp(raw: Option<&str>) -> Result<Option<Timestamp>> {
    let Some(raw) = raw else { return Ok(None) };
    let parsed = chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map_err(|_| Error::invalid("timestamp", "must be an RFC 3339 date-time"))?
        .with_timezone(&chrono::Utc);
    // Both databases keep microseconds; cut here so what is stored is what is compared.
    let micros = parsed.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(Some)
        .ok_or_else(|| Error::invalid("timestamp", "is out of range"))
}

fn check_message_id(raw: Option<String>) -> Result<Option<String>> {
    match raw.map(|id| id.trim().to_string()) {
        Some(id) if id.is_empty() || id.chars().count() > 255 => {
            Err(Error::invalid("messageId", "must have 1 to 255 characters"))
        }
        other => Ok(other),
    }
}

fn check_size(field: &str, properties: &Map<String, Value>) -> Result<()> {
    let size = serde_json::to_vec(properties).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX_PROPERTIES_BYTES {
        return Err(Error::invalid(field, "is larger than 32 KiB"));
    }
    Ok(())
}

fn trait_text(traits: &mut Map<String, Value>, key: &str) -> Result<Option<String>> {
    match traits.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(Error::invalid(format!("traits.{key}"), "must be a string")),
    }
}

fn need_someone(sender: &[RawIdentity]) -> Result<()> {
    if sender.is_empty() {
        return Err(Error::invalid(
            "userId",
            "userId or anonymousId is required",
        ));
    }
    Ok(())
}

impl Call {
    /// Checks every limit and shape rule; identities are normalised later, with the
    /// workspace's region.
    pub(crate) fn check(self) -> Result<Checked> {
        match self {
            Call::Identify(call) => {
                let mut sender = ids_of(call.user_id, call.anonymous_id);
                need_someone(&sender)?;
                let mut traits = call.traits.unwrap_or_default();
                if let Some(email) = trait_text(&mut traits, "email")? {
                    sender.push(raw(IdentityKind::Email, "traits.email", email));
                }
                if let Some(phone) = trait_text(&mut traits, "phone")? {
                    sender.push(raw(IdentityKind::Phone, "traits.phone", phone));
                }
                let name = trait_text(&mut traits, "name")?
                    .map(|name| name.trim().to_string())
                    .filter(|name| !name.is_empty());
                if name.as_ref().is_some_and(|name| name.chars().count() > 200) {
                    return Err(Error::invalid(
                        "traits.name",
                        "is longer than 200 characters",
                    ));
                }
                check_size("traits", &traits)?;
                Ok(Checked {
                    sender,
                    name,
                    event: IDENTIFY_EVENT.to_string(),
                    properties: Value::Object(traits),
                    occurred_at: check_timestamp(call.timestamp.as_deref())?,
                    message_id: check_message_id(call.message_id)?,
                    commerce: None,
                })
            }
            Call::Track(call) => {
                let sender = ids_of(call.user_id, call.anonymous_id);
                need_someone(&sender)?;
                let event = call.event.trim().to_string();
                if event.is_empty() || event.chars().count() > 200 {
                    return Err(Error::invalid("event", "must have 1 to 200 characters"));
                }
                if event.chars().any(char::is_control) {
                    return Err(Error::invalid("event", "has a control character"));
                }
                let properties = call.properties.unwrap_or_default();
                check_size("properties", &properties)?;
                let commerce = commerce::parse_update(&event, &properties)?;
                Ok(Checked {
                    sender,
                    name: None,
                    event,
                    properties: Value::Object(properties),
                    occurred_at: check_timestamp(call.timestamp.as_deref())?,
                    message_id: check_message_id(call.message_id)?,
                    commerce,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(error: Error) -> String {
        match error {
            Error::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn track(event: &str) -> Track {
        Track {
            user_id: Some("u-1".into()),
            event: event.into(),
            ..Track::default()
        }
    }

    #[test]
    fn identify_turns_ids_and_traits_into_verified_identities_and_keeps_other_traits() {
        let traits = json!({"email": "Ana@Example.com", "phone": "+16502530000", "name": " Ana ", "plan": "gold"});
        let checked = Call::Identify(Identify {
            user_id: Some("u-1".into()),
            anonymous_id: Some("v-9".into()),
            traits: traits.as_object().cloned(),
            ..Identify::default()
        })
        .check()
        .unwrap();
        let kinds: Vec<_> = checked
            .sender
            .iter()
            .map(|raw| (raw.kind, raw.verified))
            .collect();
        assert_eq!(
            kinds,
            [
                (IdentityKind::ExternalId, true),
                (IdentityKind::Visitor, true),
                (IdentityKind::Email, true),
                (IdentityKind::Phone, true),
            ]
        );
        assert_eq!(checked.name.as_deref(), Some("Ana"));
        assert_eq!(checked.properties, json!({"plan": "gold"}));
        assert_eq!(checked.event, IDENTIFY_EVENT);
    }

    #[test]
    fn a_call_without_user_or_anonymous_id_is_refused() {
        let error = Call::Track(Track {
            event: "page_viewed".into(),
            ..Track::default()
        })
        .check()
        .unwrap_err();
        assert_eq!(field_of(error), "userId");
    }

    #[test]
    fn event_names_timestamps_and_properties_are_bounded() {
        let long = "x".repeat(201);
        assert_eq!(
            field_of(Call::Track(track(&long)).check().unwrap_err()),
            "event"
        );
        assert_eq!(
            field_of(Call::Track(track(" ")).check().unwrap_err()),
            "event"
        );
        let mut dated = track("page_viewed");
        dated.timestamp = Some("yesterday".into());
        assert_eq!(
            field_of(Call::Track(dated).check().unwrap_err()),
            "timestamp"
        );
        let mut heavy = track("page_viewed");
        heavy.properties = json!({"blob": "y".repeat(33 * 1024)}).as_object().cloned();
        assert_eq!(
            field_of(Call::Track(heavy).check().unwrap_err()),
            "properties"
        );
        let mut fine = track("page_viewed");
        fine.timestamp = Some("2026-11-23T10:00:00.1234567+01:00".into());
        let checked = Call::Track(fine).check().unwrap();
        assert_eq!(
            checked.occurred_at.unwrap().to_rfc3339(),
            "2026-11-23T09:00:00.123456+00:00"
        );
    }

    #[test]
    fn a_commerce_event_without_its_id_is_refused() {
        let error = Call::Track(track("return_requested")).check().unwrap_err();
        assert_eq!(field_of(error), "properties.return_id");
    }
}
