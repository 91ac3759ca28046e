//! Lists at the HTTP edge: reading `cursor`, `limit` and id-valued query parameters, and the
//! `{"items", "next_cursor"}` envelope. Page sizes themselves are core's rule, not ours.

use seam_core::{Error, Result, conversation::Page, cursor::Cursor};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One page of a list, newest first. Pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    /// Converts a core page item by item.
    pub fn from_page<U>(page: Page<U>, view: impl FnMut(U) -> T) -> Self {
        List {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
        }
    }
}

/// `cursor=`: absent or empty means the first page.
pub fn parse_cursor(raw: Option<&str>) -> Result<Option<Cursor>> {
    match raw.filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => Cursor::decode(raw).map(Some),
    }
}

/// `limit=`: a whole number; core checks the range.
pub fn parse_limit(raw: Option<&str>) -> Result<Option<u32>> {
    match raw.filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse::<u32>()
            .map(Some)
            .map_err(|_| Error::invalid("limit", "must be a whole number from 1 to 100")),
    }
}

/// An id-valued query parameter such as `team=`; empty means absent.
pub fn parse_uuid(field: &str, raw: Option<&str>) -> Result<Option<Uuid>> {
    match raw.filter(|raw| !raw.is_empty()) {
        None => Ok(None),
        Some(raw) => Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| Error::invalid(field, "must be an id (uuid)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: Error) -> String {
        match error {
            Error::Invalid { field, .. } => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn an_absent_or_empty_cursor_is_the_first_page() {
        assert_eq!(parse_cursor(None).unwrap(), None);
        assert_eq!(parse_cursor(Some("")).unwrap(), None);
    }

    #[test]
    fn a_cursor_this_server_issued_is_read_back_and_garbage_names_the_field() {
        let cursor = Cursor {
            at: chrono::Utc::now(),
            id: Uuid::now_v7(),
        };
        let parsed = parse_cursor(Some(&cursor.encode())).unwrap().unwrap();
        assert_eq!(parsed.id, cursor.id);
        assert_eq!(
            field_of(parse_cursor(Some("garbage")).unwrap_err()),
            "cursor"
        );
    }

    #[test]
    fn a_limit_must_be_a_whole_number() {
        assert_eq!(parse_limit(Some("10")).unwrap(), Some(10));
        assert_eq!(parse_limit(None).unwrap(), None);
        for bad in ["-1", "ten", "1.5", "99999999999"] {
            assert_eq!(
                field_of(parse_limit(Some(bad)).unwrap_err()),
                "limit",
                "{bad}"
            );
        }
    }

    #[test]
    fn an_id_parameter_must_be_a_uuid() {
        let id = Uuid::now_v7();
        assert_eq!(parse_uuid("team", Some(&id.to_string())).unwrap(), Some(id));
        assert_eq!(
            field_of(parse_uuid("team", Some("42")).unwrap_err()),
            "team"
        );
    }

    #[test]
    fn a_page_becomes_items_and_an_encoded_cursor() {
        let cursor = Cursor {
            at: chrono::Utc::now(),
            id: Uuid::now_v7(),
        };
        let page = Page {
            items: vec![1, 2],
            next_cursor: Some(cursor.clone()),
        };
        let list = List::from_page(page, |n| n * 10);
        assert_eq!(list.items, vec![10, 20]);
        assert_eq!(list.next_cursor, Some(cursor.encode()));
    }
}
