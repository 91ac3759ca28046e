//! Opaque cursors for keyset pagination: the sort key of the last item of a page.

use base64::Engine;

use crate::{Error, Result, Timestamp};

/// Position after which the next page starts: (timestamp, id) of the last item, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: Timestamp,
    pub id: uuid::Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let raw = format!("{}|{}", self.at.timestamp_micros(), self.id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::invalid("cursor", "is not a cursor this server issued");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let (micros, id) = raw.split_once('|').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Cursor { at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            at: chrono::Utc::now(),
            id: uuid::Uuid::now_v7(),
        };
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded.id, cursor.id);
        assert_eq!(decoded.at.timestamp_micros(), cursor.at.timestamp_micros());
        assert!(Cursor::decode("not-a-cursor").is_err());
    }
}
