//! The editable profile of a customer: locale, time zone, tags and custom attributes, their
//! parsing at the edge, and the use case that edits them (`PATCH /customers/{id}`).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp, attributes,
    customer::{self, CustomerProfile},
    ids::CustomerId,
    outbox::OutboxEvent,
    ports::Store,
    user::{Actor, Permission},
};

/// The longest customer name accepted.
const MAX_NAME_CHARS: usize = 200;
/// At most this many tags per customer …
pub const MAX_TAGS: usize = 50;
/// … of at most this many characters each.
pub const MAX_TAG_CHARS: usize = 64;

/// A BCP 47 language tag in its canonical case: language lower-case, script title-case,
/// region upper-case (`fa-IR`, `zh-Hant-TW`, `sr-Latn`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Locale(String);

impl Locale {
    /// Checks the well-formed subset of BCP 47 Seam accepts — language, optional script,
    /// optional region, variants, extensions and private use, in that order — and normalises
    /// case; `_` is accepted as a separator and written as `-`.
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        let invalid = || Error::invalid(field, "is not a BCP 47 language tag (like fa-IR)");
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 64 {
            return Err(invalid());
        }
        let mut subtags = raw.split(['-', '_']).peekable();
        let language = subtags.next().ok_or_else(invalid)?;
        if !(matches!(language.len(), 2 | 3 | 5..=8) && is_alpha(language)) {
            return Err(invalid());
        }
        let mut parts = vec![language.to_ascii_lowercase()];
        if let Some(script) = subtags.next_if(|tag| tag.len() == 4 && is_alpha(tag)) {
            let mut script = script.to_ascii_lowercase();
            script[..1].make_ascii_uppercase();
            parts.push(script);
        }
        if let Some(region) = subtags.next_if(|tag| {
            (tag.len() == 2 && is_alpha(tag))
                || (tag.len() == 3 && tag.bytes().all(|b| b.is_ascii_digit()))
        }) {
            parts.push(region.to_ascii_uppercase());
        }
        while let Some(variant) = subtags.next_if(|tag| {
            is_alphanumeric(tag)
                && ((5..=8).contains(&tag.len())
                    || (tag.len() == 4 && tag.as_bytes()[0].is_ascii_digit()))
        }) {
            parts.push(variant.to_ascii_lowercase());
        }
        // Extensions (`u-ca-persian`) and private use (`x-…`): a singleton, then subtags.
        while let Some(singleton) = subtags.next() {
            if singleton.len() != 1 || !is_alphanumeric(singleton) {
                return Err(invalid());
            }
            let private = singleton.eq_ignore_ascii_case("x");
            let shortest = if private { 1 } else { 2 };
            parts.push(singleton.to_ascii_lowercase());
            let mut any = false;
            while let Some(tag) = subtags.next_if(|tag| {
                (shortest..=8).contains(&tag.len())
                    && is_alphanumeric(tag)
                    && (private || tag.len() > 1)
            }) {
                parts.push(tag.to_ascii_lowercase());
                any = true;
            }
            if !any {
                return Err(invalid());
            }
        }
        Ok(Locale(parts.join("-")))
    }

    /// A value stored by Seam, which parsed it before storing.
    pub fn from_stored(text: String) -> Self {
        Locale(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_alpha(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_alphanumeric(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An IANA time zone name known to the tz database Seam ships (`chrono-tz`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    pub fn parse(field: &str, raw: &str) -> Result<Self> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(|zone| TimeZone(zone.name().to_string()))
            .map_err(|_| Error::invalid(field, "is not an IANA time zone name (like Asia/Tehran)"))
    }

    /// A value stored by Seam, which parsed it before storing.
    pub fn from_stored(text: String) -> Self {
        TimeZone(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tags trimmed and case-folded, duplicates removed (first spelling kept in order).
pub fn normalise_tags(raw: &[String]) -> Result<Vec<String>> {
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for tag in raw {
        let tag = tag
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if tag.is_empty() {
            return Err(Error::invalid("tags", "a tag must not be empty"));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(Error::invalid(
                "tags",
                format!("a tag has at most {MAX_TAG_CHARS} characters"),
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid("tags", format!("at most {MAX_TAGS} tags")));
    }
    Ok(tags)
}

/// What `PATCH /customers/{id}` may change. An absent field stays as it is; `Some(None)`
/// clears it. In `attributes`, a `null` value removes that key and unnamed keys stay.
#[derive(Clone, Debug, Default)]
pub struct CustomerUpdate {
    pub name: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub time_zone: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

fn parse_name(raw: Option<String>) -> Result<Option<String>> {
    let Some(raw) = raw else { return Ok(None) };
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "name",
            format!("has at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(Some(name.to_string()).filter(|name| !name.is_empty()))
}

/// Edits a customer's profile in one transaction with a `customer.updated` outbox event, and
/// answers the profile as stored.
pub async fn update_customer(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
    update: CustomerUpdate,
    now: Timestamp,
) -> Result<CustomerProfile> {
    actor.require(Permission::UpdateCustomers)?;
    let name = update.name.map(parse_name).transpose()?;
    let locale = update
        .locale
        .map(|raw| raw.map(|raw| Locale::parse("locale", &raw)).transpose())
        .transpose()?;
    let time_zone = update
        .time_zone
        .map(|raw| {
            raw.map(|raw| TimeZone::parse("time_zone", &raw))
                .transpose()
        })
        .transpose()?;
    let tags = update.tags.as_deref().map(normalise_tags).transpose()?;

    let mut tx = store.begin().await?;
    tx.lock_customer(actor.workspace_id, id).await?;
    let mut customer = tx
        .get_customer(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(changes) = update.attributes {
        let schema = tx.list_attribute_definitions(actor.workspace_id).await?;
        attributes::apply(&schema, &mut customer.attributes, changes)?;
    }
    if let Some(name) = name {
        customer.name = name;
    }
    if let Some(locale) = locale {
        customer.locale = locale;
    }
    if let Some(time_zone) = time_zone {
        customer.time_zone = time_zone;
    }
    if let Some(tags) = tags {
        customer.tags = tags;
    }
    customer.updated_at = now;
    tx.update_customer(&customer).await?;
    tx.insert_outbox(&OutboxEvent::customer_updated(&customer, now))
        .await?;
    tx.commit().await?;
    customer::get_customer(store, actor, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(raw: &str) -> Option<String> {
        Locale::parse("locale", raw).ok().map(|locale| locale.0)
    }

    #[test]
    fn locales_are_normalised_to_canonical_case() {
        assert_eq!(locale("fa-ir").as_deref(), Some("fa-IR"));
        assert_eq!(locale("FA_IR").as_deref(), Some("fa-IR"));
        assert_eq!(locale("ar").as_deref(), Some("ar"));
        assert_eq!(locale("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(locale("es-419").as_deref(), Some("es-419"));
        assert_eq!(
            locale("fa-IR-u-ca-persian").as_deref(),
            Some("fa-IR-u-ca-persian")
        );
        assert_eq!(locale("de-CH-1996").as_deref(), Some("de-CH-1996"));
    }

    #[test]
    fn malformed_locales_are_refused() {
        for raw in [
            "", "f", "english-", "fa-", "fa--IR", "12", "fa-IR-u", "fa IR", "ف-IR",
        ] {
            assert_eq!(locale(raw), None, "{raw:?} was accepted");
        }
    }

    #[test]
    fn iana_time_zones_are_accepted_and_others_refused() {
        assert_eq!(
            TimeZone::parse("time_zone", "Asia/Tehran")
                .map(|zone| zone.0)
                .ok()
                .as_deref(),
            Some("Asia/Tehran")
        );
        assert!(TimeZone::parse("time_zone", "UTC").is_ok());
        for raw in ["", "Tehran", "Asia/Atlantis", "+03:30"] {
            assert!(
                TimeZone::parse("time_zone", raw).is_err(),
                "{raw:?} was accepted"
            );
        }
    }

    #[test]
    fn tags_are_trimmed_case_folded_and_deduplicated() {
        let raw = vec![
            " VIP ".to_string(),
            "vip".into(),
            "Late  Payer".into(),
            "مشتری".into(),
        ];
        assert_eq!(
            normalise_tags(&raw).ok(),
            Some(vec!["vip".to_string(), "late payer".into(), "مشتری".into()])
        );
    }

    #[test]
    fn too_many_too_long_or_empty_tags_are_refused() {
        let many: Vec<String> = (0..=MAX_TAGS).map(|n| format!("tag{n}")).collect();
        assert!(normalise_tags(&many).is_err());
        assert!(normalise_tags(&["x".repeat(MAX_TAG_CHARS + 1)]).is_err());
        assert!(normalise_tags(&["  ".to_string()]).is_err());
        let fifty_duplicates: Vec<String> = (0..100).map(|_| "Same".to_string()).collect();
        assert_eq!(
            normalise_tags(&fifty_duplicates).ok(),
            Some(vec!["same".to_string()])
        );
    }
}
