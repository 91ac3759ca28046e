//! The custom attribute schema of a workspace (key, type, label) and the validation of a
//! customer's attribute values against it.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    customer::Attributes,
    ids::WorkspaceId,
    ports::Store,
    user::{Actor, Permission},
};

/// The `Conflict` name a store reports when a workspace already defines the key.
pub const ATTRIBUTE_KEY_TAKEN: &str = "attribute_key";
/// The longest string attribute value, and the longest item of a list.
pub const MAX_STRING_CHARS: usize = 1_000;
/// The most items a list attribute holds.
pub const MAX_LIST_ITEMS: usize = 100;
/// The most attributes a workspace defines.
pub const MAX_DEFINITIONS: usize = 200;
const MAX_LABEL_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Number,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// An array of strings.
    List,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Number => "number",
            AttributeType::Boolean => "boolean",
            AttributeType::Date => "date",
            AttributeType::List => "list",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "string" => AttributeType::String,
            "number" => AttributeType::Number,
            "boolean" => AttributeType::Boolean,
            "date" => AttributeType::Date,
            "list" => AttributeType::List,
            _ => return None,
        })
    }
}

/// One attribute a workspace's customers may carry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    pub workspace_id: WorkspaceId,
    /// `[a-z][a-z0-9_]{0,63}`.
    pub key: String,
    #[serde(rename = "type")]
    pub kind: AttributeType,
    pub label: String,
    pub created_at: Timestamp,
}

/// Checks an attribute key: a lower-case ASCII letter, then up to 63 of `a-z`, `0-9`, `_`.
pub fn parse_key(field: &str, raw: &str) -> Result<String> {
    let mut bytes = raw.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if first_ok && rest_ok && raw.len() <= 64 {
        Ok(raw.to_string())
    } else {
        Err(Error::invalid(
            field,
            "must start with a-z and hold at most 64 of a-z, 0-9 and _",
        ))
    }
}

/// Checks one value against its type; `field` names it in the error.
pub fn check_value(field: &str, kind: AttributeType, value: &serde_json::Value) -> Result<()> {
    use serde_json::Value;
    let wrong = |what: &str| Err(Error::invalid(field, format!("must be {what}")));
    match (kind, value) {
        (AttributeType::String, Value::String(text)) => check_length(field, text),
        (AttributeType::String, _) => wrong("a string"),
        (AttributeType::Number, Value::Number(_)) => Ok(()),
        (AttributeType::Number, _) => wrong("a number"),
        (AttributeType::Boolean, Value::Bool(_)) => Ok(()),
        (AttributeType::Boolean, _) => wrong("true or false"),
        (AttributeType::Date, Value::String(text))
            if text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() =>
        {
            Ok(())
        }
        (AttributeType::Date, _) => wrong("a date as YYYY-MM-DD"),
        (AttributeType::List, Value::Array(items)) => {
            if items.len() > MAX_LIST_ITEMS {
                return wrong(&format!("a list of at most {MAX_LIST_ITEMS} strings"));
            }
            for item in items {
                match item {
                    Value::String(text) => check_length(field, text)?,
                    _ => return wrong("a list of strings"),
                }
            }
            Ok(())
        }
        (AttributeType::List, _) => wrong("a list of strings"),
    }
}

fn check_length(field: &str, text: &str) -> Result<()> {
    if text.chars().count() > MAX_STRING_CHARS {
        return Err(Error::invalid(
            field,
            format!("has at most {MAX_STRING_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Applies `changes` to `attributes`: a `null` removes the key, any other value must match the
/// key's definition in `schema`; keys not named stay. Changes nothing unless all are valid.
pub fn apply(
    schema: &[AttributeDefinition],
    attributes: &mut Attributes,
    changes: Attributes,
) -> Result<()> {
    for (key, value) in &changes {
        let field = format!("attributes.{key}");
        let Some(definition) = schema.iter().find(|definition| &definition.key == key) else {
            return Err(Error::invalid(
                field,
                "is not an attribute of this workspace",
            ));
        };
        if !value.is_null() {
            check_value(&field, definition.kind, value)?;
        }
    }
    for (key, value) in changes {
        if value.is_null() {
            attributes.remove(&key);
        } else {
            attributes.insert(key, value);
        }
    }
    Ok(())
}

/// A new attribute definition, as asked for.
#[derive(Clone, Debug)]
pub struct NewAttribute {
    pub key: String,
    pub kind: String,
    pub label: Option<String>,
}

pub async fn list_attributes(store: &dyn Store, actor: &Actor) -> Result<Vec<AttributeDefinition>> {
    actor.require(Permission::ReadCustomers)?;
    store.list_attribute_definitions(actor.workspace_id).await
}

/// Defines a new attribute; `Conflict { what: ATTRIBUTE_KEY_TAKEN }` when the key exists.
pub async fn define_attribute(
    store: &dyn Store,
    actor: &Actor,
    new: NewAttribute,
    now: Timestamp,
) -> Result<AttributeDefinition> {
    actor.require(Permission::ManageAttributes)?;
    let key = parse_key("key", new.key.trim())?;
    let kind = AttributeType::parse(new.kind.trim()).ok_or_else(|| {
        Error::invalid("type", "must be one of string, number, boolean, date, list")
    })?;
    let label = new
        .label
        .map(|label| label.trim().to_string())
        .filter(|label| !label.is_empty())
        .unwrap_or_else(|| key.clone());
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(Error::invalid(
            "label",
            format!("has at most {MAX_LABEL_CHARS} characters"),
        ));
    }
    if store
        .list_attribute_definitions(actor.workspace_id)
        .await?
        .len()
        >= MAX_DEFINITIONS
    {
        return Err(Error::Refused {
            reason: format!("a workspace defines at most {MAX_DEFINITIONS} attributes"),
        });
    }
    let definition = AttributeDefinition {
        workspace_id: actor.workspace_id,
        key,
        kind,
        label,
        created_at: now,
    };
    store.insert_attribute_definition(&definition).await?;
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Vec<AttributeDefinition> {
        [
            ("plan", AttributeType::String),
            ("seats", AttributeType::Number),
            ("vip", AttributeType::Boolean),
            ("renews_on", AttributeType::Date),
            ("interests", AttributeType::List),
        ]
        .into_iter()
        .map(|(key, kind)| AttributeDefinition {
            workspace_id: WorkspaceId::new(),
            key: key.to_string(),
            kind,
            label: key.to_string(),
            created_at: chrono::Utc::now(),
        })
        .collect()
    }

    fn changes(value: serde_json::Value) -> Attributes {
        value.as_object().cloned().unwrap_or_default()
    }

    fn field_of(result: Result<()>) -> Option<String> {
        match result {
            Err(Error::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn keys_follow_the_lower_snake_case_pattern() {
        assert!(parse_key("key", "plan").is_ok());
        assert!(parse_key("key", "renews_on_2").is_ok());
        assert!(parse_key("key", &format!("a{}", "b".repeat(63))).is_ok());
        for raw in [
            "",
            "Plan",
            "2fa",
            "_plan",
            "plan-name",
            "plän",
            &"a".repeat(65),
        ] {
            assert!(parse_key("key", raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn values_of_every_type_are_accepted_when_they_match() {
        let mut attributes = Attributes::new();
        let result = apply(
            &schema(),
            &mut attributes,
            changes(json!({"plan": "gold", "seats": 12.5, "vip": true,
                "renews_on": "2026-12-31", "interests": ["tea", "books"]})),
        );
        assert!(result.is_ok());
        assert_eq!(attributes.len(), 5);
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_field() {
        let mut attributes = Attributes::new();
        let result = apply(
            &schema(),
            &mut attributes,
            changes(json!({"colour": "red"})),
        );
        assert_eq!(field_of(result).as_deref(), Some("attributes.colour"));
    }

    #[test]
    fn wrong_types_are_refused_and_nothing_changes() {
        for wrong in [
            json!({"plan": 1}),
            json!({"seats": "12"}),
            json!({"vip": "yes"}),
            json!({"renews_on": "31/12/2026"}),
            json!({"renews_on": "2026-02-30"}),
            json!({"interests": ["tea", 2]}),
            json!({"interests": "tea"}),
            json!({"plan": "x".repeat(MAX_STRING_CHARS + 1)}),
        ] {
            let mut attributes = Attributes::new();
            let mut batch = changes(wrong.clone());
            // A valid change beside the wrong one must not land either.
            batch.entry("interests").or_insert(json!(["tea"]));
            let result = apply(&schema(), &mut attributes, batch);
            assert!(field_of(result).is_some(), "{wrong} was accepted");
            assert!(attributes.is_empty(), "{wrong} changed something");
        }
    }

    #[test]
    fn null_removes_a_key_and_other_keys_stay() {
        let mut attributes = changes(json!({"plan": "gold", "vip": true}));
        let result = apply(
            &schema(),
            &mut attributes,
            changes(json!({"plan": null, "seats": 3})),
        );
        assert!(result.is_ok());
        assert_eq!(attributes, changes(json!({"vip": true, "seats": 3})));
    }
}
