//! A website chat channel's settings: which sites may embed it, what the widget says first,
//! its default language, whether it asks for a name and email, and how long a reply waits for
//! the visitor before it goes out by email. Checked when the channel is created.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, channel::Channel};

/// Languages the widget speaks.
pub const LOCALES: [&str; 3] = ["en", "ar", "fa"];
/// How long a reply waits for an absent visitor before continuity to email, by default.
pub const DEFAULT_AWAY_AFTER_SECS: u64 = 30;
const MAX_ORIGINS: usize = 50;
const MAX_GREETING_CHARS: usize = 500;
const MAX_AWAY_AFTER_SECS: u64 = 24 * 3600;

/// The settings as the widget and the delivery worker read them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebchatConfig {
    /// Normalised origins (`scheme://host[:port]`) allowed to open the widget's WebSocket.
    pub allowed_origins: Vec<String>,
    pub greeting: Option<String>,
    /// `en`, `ar` or `fa`; the page's language decides when absent.
    pub locale: Option<String>,
    /// Ask for name and email before the first message.
    pub pre_chat_form: bool,
    /// Seconds a reply waits for an absent visitor before it is sent by email instead.
    pub away_after_secs: u64,
}

impl WebchatConfig {
    /// Reads a stored (already validated) configuration; missing values take their defaults.
    pub fn of(channel: &Channel) -> WebchatConfig {
        let config = &channel.config;
        WebchatConfig {
            allowed_origins: config
                .get("allowed_origins")
                .and_then(|origins| origins.as_array())
                .map(|origins| {
                    origins
                        .iter()
                        .filter_map(|origin| origin.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            greeting: config
                .get("greeting")
                .and_then(|greeting| greeting.as_str())
                .map(str::to_string),
            locale: config
                .get("locale")
                .and_then(|locale| locale.as_str())
                .map(str::to_string),
            pre_chat_form: config
                .get("pre_chat_form")
                .and_then(|form| form.as_bool())
                .unwrap_or(false),
            away_after_secs: config
                .get("away_after_secs")
                .and_then(|secs| secs.as_u64())
                .unwrap_or(DEFAULT_AWAY_AFTER_SECS),
        }
    }

    /// Whether a browser on `origin` may open the widget. Browsers always send `Origin` on
    /// a WebSocket handshake, so its absence is refused too.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin.and_then(normalise_origin) else {
            return false;
        };
        self.allowed_origins.contains(&origin)
    }
}

/// `scheme://host[:port]` in lower case without a default port, or `None` when `text` is not
/// an http(s) origin (a path, a query, credentials or `null` are not origins).
pub fn normalise_origin(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_suffix('/').unwrap_or(text);
    let (scheme, authority) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = authority.to_ascii_lowercase();
    // Host names and IPv4 addresses, with an optional port. (IPv6 literals are not accepted.)
    if authority.len() > 260
        || authority
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
    {
        return None;
    }
    let host = match authority.split_once(':') {
        Some((host, port)) => {
            port.parse::<u16>().ok().filter(|port| *port > 0)?;
            host
        }
        None => authority.as_str(),
    };
    if host.is_empty() || host.starts_with(['.', '-']) || host.ends_with(['.', '-']) {
        return None;
    }
    Some(match authority.strip_suffix(default_port) {
        Some(bare) => format!("{scheme}://{bare}"),
        None => format!("{scheme}://{authority}"),
    })
}

/// Checks a webchat channel's `config` object and returns it normalised.
pub fn validate_config(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    let mut checked = serde_json::Map::new();
    for (key, value) in object {
        let field = format!("config.{key}");
        let value = match key.as_str() {
            "allowed_origins" => serde_json::Value::from(origins(&field, &value)?),
            "greeting" => {
                let greeting = value
                    .as_str()
                    .ok_or_else(|| Error::invalid(&field, "must be a string"))?
                    .trim();
                if greeting.chars().count() > MAX_GREETING_CHARS {
                    return Err(Error::invalid(field, "is longer than 500 characters"));
                }
                serde_json::Value::from(greeting)
            }
            "locale" => {
                let locale = value.as_str().unwrap_or_default();
                if !LOCALES.contains(&locale) {
                    return Err(Error::invalid(field, "must be one of en, ar, fa"));
                }
                value
            }
            "pre_chat_form" => {
                if !value.is_boolean() {
                    return Err(Error::invalid(field, "must be true or false"));
                }
                value
            }
            "away_after_secs" => {
                match value.as_u64() {
                    Some(secs) if secs <= MAX_AWAY_AFTER_SECS => {}
                    _ => return Err(Error::invalid(field, "must be 0 to 86400 seconds")),
                }
                value
            }
            _ => return Err(Error::invalid(field, "is not a setting of webchat")),
        };
        checked.insert(key, value);
    }
    if !checked.contains_key("allowed_origins") {
        return Err(Error::invalid(
            "config.allowed_origins",
            "is required: the sites (e.g. https://shop.example) that may embed the widget",
        ));
    }
    Ok(serde_json::Value::Object(checked))
}

fn origins(field: &str, value: &serde_json::Value) -> Result<Vec<String>> {
    let list = value
        .as_array()
        .ok_or_else(|| Error::invalid(field, "must be a list of origins"))?;
    if list.is_empty() || list.len() > MAX_ORIGINS {
        return Err(Error::invalid(field, "must list 1 to 50 origins"));
    }
    let mut origins = Vec::with_capacity(list.len());
    for (index, origin) in list.iter().enumerate() {
        let normalised = origin.as_str().and_then(normalise_origin).ok_or_else(|| {
            Error::invalid(
                format!("{field}[{index}]"),
                "must be an origin such as https://shop.example (scheme, host, optional port)",
            )
        })?;
        if !origins.contains(&normalised) {
            origins.push(normalised);
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn origins_are_normalised_and_compared_exactly() {
        assert_eq!(
            normalise_origin("HTTPS://Shop.Example:443/").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            normalise_origin("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        for bad in [
            "shop.example",
            "null",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://user@shop.example",
            "https://shop.example:99999",
            "https://",
        ] {
            assert_eq!(normalise_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_webchat_channel_needs_its_allowed_origins() {
        let error = validate_config(object(json!({"greeting": "Hi"}))).unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "config.allowed_origins")
        );
        let error = validate_config(object(
            json!({"allowed_origins": ["https://ok.example", "*"]}),
        ))
        .unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "config.allowed_origins[1]")
        );
        let error = validate_config(object(
            json!({"allowed_origins": ["https://ok.example"], "colour": "red"}),
        ))
        .unwrap_err();
        assert!(matches!(error, Error::Invalid { ref field, .. } if field == "config.colour"));
    }

    #[test]
    fn a_valid_config_is_stored_normalised_and_read_back() {
        let stored = validate_config(object(json!({
            "allowed_origins": ["https://Shop.Example/", "https://shop.example"],
            "greeting": "  مرحبا  ",
            "locale": "ar",
            "pre_chat_form": true,
            "away_after_secs": 0,
        })))
        .unwrap();
        let channel = Channel {
            id: crate::ids::ChannelId::new(),
            workspace_id: crate::ids::WorkspaceId::new(),
            kind: crate::channel::ChannelKind::Webchat,
            name: "Site".into(),
            config: stored,
            secret: "s".into(),
            credentials: String::new(),
            created_at: chrono::Utc::now(),
        };
        let config = WebchatConfig::of(&channel);
        assert_eq!(config.allowed_origins, ["https://shop.example"]);
        assert_eq!(config.greeting.as_deref(), Some("مرحبا"));
        assert_eq!(config.locale.as_deref(), Some("ar"));
        assert!(config.pre_chat_form);
        assert_eq!(config.away_after_secs, 0);
        assert!(config.allows_origin(Some("https://shop.example:443")));
        assert!(!config.allows_origin(Some("https://evil.example")));
        assert!(!config.allows_origin(Some("https://shop.example.evil.example")));
        assert!(!config.allows_origin(None));
    }
}
