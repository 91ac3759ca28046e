//! When and how a business may write to a customer on a messaging channel: the providers'
//! windows (WhatsApp's 24-hour customer-service window, Messenger's and Instagram's 24 hours
//! and the `HUMAN_AGENT` tag's 7 days), consent (SMS opt-out words), approved templates and
//! SMS segments. Pure rules: the callers gather the facts ([`Reach`]) and act on the answer.
//! [`may_write`] is the one decision; the optichannel engine grows from it.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    channel::{Channel, ChannelKind},
    consent::ConsentStatus,
    customer::CustomerProfile,
    identity::{Identity, IdentityKind},
    ids::ChannelId,
};

/// WhatsApp, Messenger and Instagram: free-form messages within 24 hours of the customer's
/// last message.
pub fn service_window() -> Duration {
    Duration::hours(24)
}

/// Messenger and Instagram: a human agent may answer for 7 days with the `HUMAN_AGENT` tag.
pub fn human_agent_window() -> Duration {
    Duration::days(7)
}

pub const HUMAN_AGENT_TAG: &str = "HUMAN_AGENT";

/// What is known about one customer on one channel when a message is to be sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Reach {
    /// When the customer last wrote on this channel.
    pub last_inbound_at: Option<Timestamp>,
    /// The customer's consent on the channel's kind (opted out by STOP, a block, an agent …).
    pub consent: ConsentStatus,
}

/// The customer's latest message on a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastInbound {
    /// When they sent it (the provider's time).
    pub at: Timestamp,
    /// The address it came from.
    pub identity: Option<Identity>,
}

/// What is to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content<'a> {
    /// Text, media or buttons written by an agent or an automation.
    FreeForm,
    /// An approved template, by name.
    Template(&'a str),
}

/// How a permitted message goes out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permit {
    /// The message tag to send with it (Messenger and Instagram outside 24 hours).
    pub tag: Option<String>,
}

/// Why a message cannot go on a channel now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// The customer opted out of (or blocked) this kind of channel.
    OptedOut { reason: String },
    /// The provider's window for free-form messages is closed.
    WindowClosed { reason: String },
    /// The channel cannot send at all (missing settings) or not this content.
    NotAvailable { reason: String },
}

impl Refusal {
    /// The stable code clients translate: `opted_out`, `window_closed` or `not_available`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::OptedOut { .. } => "opted_out",
            Refusal::WindowClosed { .. } => "window_closed",
            Refusal::NotAvailable { .. } => "not_available",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Refusal::OptedOut { reason }
            | Refusal::WindowClosed { reason }
            | Refusal::NotAvailable { reason } => reason,
        }
    }
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Error::Refused {
            reason: refusal.reason().to_string(),
        }
    }
}

/// A channel that can carry a message another channel refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub kind: ChannelKind,
    /// Free-form text can go (otherwise only the templates below).
    pub free_form: bool,
    /// Approved templates that can go (WhatsApp), by name.
    pub templates: Vec<String>,
}

/// The messaging kinds whose adapters send through a provider's API.
pub fn is_messaging(kind: ChannelKind) -> bool {
    matches!(
        kind,
        ChannelKind::Whatsapp
            | ChannelKind::Messenger
            | ChannelKind::Instagram
            | ChannelKind::Telegram
            | ChannelKind::Line
            | ChannelKind::Sms
    )
}

/// Whether `content` may go to a customer with `reach` on `channel` at `now`, and how.
pub fn may_write(
    channel: &Channel,
    reach: &Reach,
    content: Content<'_>,
    now: Timestamp,
) -> std::result::Result<Permit, Refusal> {
    if reach.consent == ConsentStatus::OptedOut {
        return Err(Refusal::OptedOut {
            reason: match channel.kind {
                ChannelKind::Sms => format!(
                    "the customer opted out of SMS (replied STOP); they can opt back in by \
                     replying START to {}",
                    channel.name
                ),
                kind => format!(
                    "the customer opted out of {} messages or blocked the business",
                    kind.as_str()
                ),
            },
        });
    }
    if let Content::Template(name) = content {
        if channel.kind != ChannelKind::Whatsapp {
            return Err(Refusal::NotAvailable {
                reason: format!(
                    "templates are sent on WhatsApp only; {} is a {} channel",
                    channel.name,
                    channel.kind.as_str()
                ),
            });
        }
        if !templates(channel)
            .iter()
            .any(|template| template.name == name)
        {
            return Err(Refusal::NotAvailable {
                reason: format!("channel {} has no approved template {name}", channel.name),
            });
        }
        // An approved template may be sent at any time; it opens no window by itself.
        return Ok(Permit::default());
    }
    let since_last = reach.last_inbound_at.map(|at| now - at);
    let within = |window: Duration| since_last.is_some_and(|elapsed| elapsed < window);
    match channel.kind {
        ChannelKind::Whatsapp if within(service_window()) => Ok(Permit::default()),
        ChannelKind::Whatsapp => Err(Refusal::WindowClosed {
            reason: match reach.last_inbound_at {
                Some(at) => format!(
                    "WhatsApp's 24-hour customer-service window closed at {}; only an approved \
                     template can be sent until the customer writes again",
                    (at + service_window()).format("%Y-%m-%d %H:%M UTC")
                ),
                None => "the customer has not written on WhatsApp, so the 24-hour \
                         customer-service window is not open; only an approved template can be \
                         sent"
                    .into(),
            },
        }),
        ChannelKind::Messenger | ChannelKind::Instagram => {
            let human_agent = channel
                .config
                .get("human_agent")
                .and_then(|value| value.as_bool())
                .unwrap_or(true);
            if within(service_window()) {
                Ok(Permit::default())
            } else if human_agent && within(human_agent_window()) {
                Ok(Permit {
                    tag: Some(HUMAN_AGENT_TAG.into()),
                })
            } else {
                Err(Refusal::WindowClosed {
                    reason: format!(
                        "{} allows replies only within {} of the customer's last message{}",
                        if channel.kind == ChannelKind::Messenger {
                            "Messenger"
                        } else {
                            "Instagram"
                        },
                        if human_agent {
                            "7 days (with the HUMAN_AGENT tag)"
                        } else {
                            "24 hours"
                        },
                        match reach.last_inbound_at {
                            Some(at) =>
                                format!(" (last message {})", at.format("%Y-%m-%d %H:%M UTC")),
                            None => " (the customer has not written on this channel)".into(),
                        }
                    ),
                })
            }
        }
        // Telegram and LINE may write to anyone who has not blocked the bot; SMS to anyone
        // who has not opted out.
        _ => Ok(Permit::default()),
    }
}

/// The address a channel kind delivers to, from the identity the customer last wrote through
/// on that channel or, failing that, any identity of theirs that kind can reach.
pub fn recipient(
    channel: &Channel,
    last_used: Option<&Identity>,
    identities: &[Identity],
) -> Option<(Identity, String)> {
    let twilio = channel
        .config
        .get("provider")
        .and_then(|value| value.as_str())
        == Some("twilio");
    let address = |identity: &Identity| -> Option<String> {
        match (channel.kind, identity.kind) {
            (ChannelKind::Whatsapp, IdentityKind::Whatsapp) if twilio => {
                Some(format!("+{}", identity.value.trim_start_matches('+')))
            }
            (ChannelKind::Whatsapp, IdentityKind::Whatsapp) => {
                Some(identity.value.trim_start_matches('+').to_string())
            }
            (ChannelKind::Whatsapp, IdentityKind::Phone) if twilio => Some(identity.value.clone()),
            (ChannelKind::Whatsapp, IdentityKind::Phone) => {
                Some(identity.value.trim_start_matches('+').to_string())
            }
            (ChannelKind::Sms, IdentityKind::Phone)
            | (ChannelKind::Messenger, IdentityKind::Messenger)
            | (ChannelKind::Instagram, IdentityKind::Instagram)
            | (ChannelKind::Telegram, IdentityKind::Telegram)
            | (ChannelKind::Line, IdentityKind::Line) => Some(identity.value.clone()),
            _ => None,
        }
    };
    if let Some(identity) = last_used
        && let Some(address) = address(identity)
    {
        return Some((identity.clone(), address));
    }
    // A WhatsApp id beats a bare phone number: it is the address WhatsApp itself confirmed.
    let mut candidates: Vec<&Identity> = identities.iter().collect();
    candidates.sort_by_key(|identity| identity.kind != IdentityKind::Whatsapp);
    candidates
        .into_iter()
        .find_map(|identity| address(identity).map(|address| (identity.clone(), address)))
}

/// A reply button or quick reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
}

/// Checks reply buttons: at most 13 (Messenger's quick replies; adapters with fewer refuse
/// more), each with an id of at most 256 and a title of 1 to 20 characters.
pub fn check_choices(choices: &[Choice]) -> Result<()> {
    if choices.len() > 13 {
        return Err(Error::invalid("buttons", "has more than 13 buttons"));
    }
    for (index, choice) in choices.iter().enumerate() {
        if choice.id.is_empty() || choice.id.chars().count() > 256 {
            return Err(Error::invalid(
                format!("buttons[{index}].id"),
                "must have 1 to 256 characters",
            ));
        }
        let title = choice.title.trim().chars().count();
        if title == 0 || title > 20 {
            return Err(Error::invalid(
                format!("buttons[{index}].title"),
                "must have 1 to 20 characters",
            ));
        }
    }
    Ok(())
}

/// An approved message template of a WhatsApp channel (`config.templates`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    /// The provider's language code (`en_US`, `ar`, `fa`).
    pub language: String,
    #[serde(default)]
    pub category: Option<String>,
    /// The text with `{{1}}`, `{{2}}` … placeholders, for display and for the stored message.
    pub body: String,
    /// Where each placeholder's value comes from, in order: `customer.name`,
    /// `customer.attributes.<key>`, `customer.locale`, or a literal `"text:…"`.
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Twilio's Content SID, for WhatsApp through Twilio.
    #[serde(default)]
    pub content_sid: Option<String>,
}

/// The templates configured on a channel; entries that do not parse are skipped (the channel
/// settings are checked when they are saved).
pub fn templates(channel: &Channel) -> Vec<Template> {
    channel
        .config
        .get("templates")
        .and_then(|templates| templates.as_array())
        .map(|templates| {
            templates
                .iter()
                .filter_map(|template| serde_json::from_value(template.clone()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a channel's `templates` setting.
pub fn validate_templates(value: &serde_json::Value) -> Result<()> {
    let templates = value
        .as_array()
        .ok_or_else(|| Error::invalid("config.templates", "must be an array"))?;
    if templates.len() > 500 {
        return Err(Error::invalid(
            "config.templates",
            "has more than 500 templates",
        ));
    }
    for (index, template) in templates.iter().enumerate() {
        let field = format!("config.templates[{index}]");
        let template: Template = serde_json::from_value(template.clone())
            .map_err(|error| Error::invalid(&field, error.to_string()))?;
        if template.name.is_empty()
            || template.name.len() > 512
            || !template
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::invalid(
                format!("{field}.name"),
                "must be 1 to 512 lower-case letters, digits or underscores",
            ));
        }
        if template.language.is_empty() || template.language.len() > 16 {
            return Err(Error::invalid(
                format!("{field}.language"),
                "is not a language code",
            ));
        }
        let placeholders = placeholder_count(&template.body);
        if placeholders != template.parameters.len() {
            return Err(Error::invalid(
                format!("{field}.parameters"),
                format!(
                    "has {} entries but the body has {placeholders} placeholders",
                    template.parameters.len()
                ),
            ));
        }
        for (position, source) in template.parameters.iter().enumerate() {
            if !(source == "customer.name"
                || source == "customer.locale"
                || source.starts_with("customer.attributes.")
                || source.starts_with("text:"))
            {
                return Err(Error::invalid(
                    format!("{field}.parameters[{position}]"),
                    "must be customer.name, customer.locale, customer.attributes.<key> or text:<value>",
                ));
            }
        }
    }
    Ok(())
}

/// The settings each messaging kind takes in `config`, and which of them it must have.
fn config_keys(
    kind: ChannelKind,
    twilio: bool,
) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        ChannelKind::Whatsapp if twilio => (
            &[
                "provider",
                "base_url",
                "account_sid",
                "from",
                "messaging_service_sid",
                "templates",
            ],
            &["account_sid"],
        ),
        ChannelKind::Whatsapp => (
            &[
                "provider",
                "base_url",
                "phone_number_id",
                "verify_token",
                "api_version",
                "app_id",
                "templates",
            ],
            &["phone_number_id"],
        ),
        ChannelKind::Messenger => (
            &[
                "base_url",
                "verify_token",
                "api_version",
                "app_id",
                "page_id",
                "human_agent",
            ],
            &["page_id"],
        ),
        ChannelKind::Instagram => (
            &[
                "base_url",
                "verify_token",
                "api_version",
                "app_id",
                "instagram_account_id",
                "page_id",
                "human_agent",
            ],
            &["instagram_account_id"],
        ),
        ChannelKind::Telegram => (&["base_url", "bot_username"], &[]),
        ChannelKind::Line => (&["base_url", "data_base_url"], &[]),
        ChannelKind::Sms => (
            &[
                "base_url",
                "account_sid",
                "from",
                "messaging_service_sid",
                "help_text",
                "opt_out_words",
                "opt_in_words",
                "help_words",
            ],
            &["account_sid"],
        ),
        _ => (&[], &[]),
    }
}

/// The credentials each messaging kind needs (all required; Telegram's `webhook_secret` is
/// made by Seam when it is not given).
fn credential_keys(kind: ChannelKind, twilio: bool) -> &'static [&'static str] {
    match kind {
        ChannelKind::Whatsapp if twilio => &["auth_token"],
        ChannelKind::Whatsapp => &["access_token", "app_secret"],
        ChannelKind::Messenger | ChannelKind::Instagram => &["page_access_token", "app_secret"],
        ChannelKind::Telegram => &["bot_token", "webhook_secret"],
        ChannelKind::Line => &["channel_access_token", "channel_secret"],
        ChannelKind::Sms => &["auth_token"],
        _ => &[],
    }
}

fn uses_twilio(kind: ChannelKind, config: &serde_json::Map<String, serde_json::Value>) -> bool {
    kind == ChannelKind::Whatsapp
        && config.get("provider").and_then(|value| value.as_str()) == Some("twilio")
}

/// Checks the `config` of a messaging channel: only the settings its provider reads, the
/// required ones present, URLs that are URLs, templates that parse. Meta's channels get a
/// `verify_token` for the webhook handshake when none is given.
pub fn validate_config(
    kind: ChannelKind,
    mut config: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    if let Some(provider) = config.get("provider") {
        let provider = provider.as_str().unwrap_or_default();
        if kind != ChannelKind::Whatsapp || !matches!(provider, "cloud" | "twilio") {
            return Err(Error::invalid(
                "config.provider",
                "must be cloud or twilio, on whatsapp channels only",
            ));
        }
    }
    let twilio = uses_twilio(kind, &config);
    if matches!(
        kind,
        ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram
    ) && !twilio
        && !config.contains_key("verify_token")
    {
        config.insert(
            "verify_token".into(),
            serde_json::Value::String(crate::auth::random_secret()),
        );
    }
    let (allowed, required) = config_keys(kind, twilio);
    for key in config.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(Error::invalid(
                format!("config.{key}"),
                format!(
                    "is not a setting of {}{} (settings: {})",
                    kind.as_str(),
                    if twilio { " through twilio" } else { "" },
                    allowed.join(", ")
                ),
            ));
        }
    }
    for key in required {
        if config
            .get(*key)
            .and_then(|value| value.as_str())
            .is_none_or(|value| value.trim().is_empty())
        {
            return Err(Error::invalid(format!("config.{key}"), "is required"));
        }
    }
    if (kind == ChannelKind::Sms || twilio)
        && !config.contains_key("from")
        && !config.contains_key("messaging_service_sid")
    {
        return Err(Error::invalid(
            "config.from",
            "is required unless messaging_service_sid is set",
        ));
    }
    for (key, value) in &config {
        let field = format!("config.{key}");
        match key.as_str() {
            "templates" => validate_templates(value)?,
            "opt_out_words" | "opt_in_words" | "help_words" => {
                let words = value
                    .as_array()
                    .ok_or_else(|| Error::invalid(&field, "must be an array of words"))?;
                if words.len() > 50
                    || words.iter().any(|word| {
                        word.as_str()
                            .is_none_or(|word| word.trim().is_empty() || word.chars().count() > 40)
                    })
                {
                    return Err(Error::invalid(
                        &field,
                        "must hold at most 50 words of 1 to 40 characters",
                    ));
                }
            }
            "base_url" | "data_base_url" => {
                let url = value.as_str().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048
                {
                    return Err(Error::invalid(
                        &field,
                        "must be an http or https URL of at most 2048 characters",
                    ));
                }
            }
            "help_text" => {
                let text = value.as_str().unwrap_or_default();
                if text.trim().is_empty() || text.chars().count() > 1600 {
                    return Err(Error::invalid(&field, "must have 1 to 1,600 characters"));
                }
            }
            "provider" => {}
            "human_agent" => {
                if !value.is_boolean() {
                    return Err(Error::invalid(&field, "must be true or false"));
                }
            }
            _ => {
                let text = value
                    .as_str()
                    .ok_or_else(|| Error::invalid(&field, "must be a string"))?;
                if text.len() > 256 {
                    return Err(Error::invalid(&field, "is longer than 256 characters"));
                }
            }
        }
    }
    Ok(serde_json::Value::Object(config))
}

/// Checks a messaging channel's credentials: exactly the ones its provider needs, each a
/// non-empty string. Telegram's webhook secret is made here when not given.
pub fn validate_credentials(
    kind: ChannelKind,
    config: &serde_json::Value,
    credentials: &serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut credentials = match credentials {
        serde_json::Value::Object(credentials) => credentials.clone(),
        serde_json::Value::Null => serde_json::Map::new(),
        _ => return Err(Error::invalid("credentials", "must be an object")),
    };
    if kind == ChannelKind::Telegram && !credentials.contains_key("webhook_secret") {
        credentials.insert(
            "webhook_secret".into(),
            serde_json::Value::String(crate::auth::random_secret()),
        );
    }
    let twilio = config
        .as_object()
        .is_some_and(|config| uses_twilio(kind, config));
    let needed = credential_keys(kind, twilio);
    for key in credentials.keys() {
        if !needed.contains(&key.as_str()) {
            return Err(Error::invalid(
                format!("credentials.{key}"),
                format!(
                    "is not a credential of {} (credentials: {})",
                    kind.as_str(),
                    needed.join(", ")
                ),
            ));
        }
    }
    for key in needed {
        let value = credentials.get(*key).and_then(|value| value.as_str());
        match value {
            Some(value) if !value.trim().is_empty() && value.len() <= 4096 => {}
            Some(_) => {
                return Err(Error::invalid(
                    format!("credentials.{key}"),
                    "must have 1 to 4,096 characters",
                ));
            }
            None => return Err(Error::invalid(format!("credentials.{key}"), "is required")),
        }
    }
    if kind == ChannelKind::Telegram
        && credentials
            .get("webhook_secret")
            .and_then(|secret| secret.as_str())
            .is_some_and(|secret| {
                secret.len() > 256
                    || !secret
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
    {
        return Err(Error::invalid(
            "credentials.webhook_secret",
            "must be 1 to 256 letters, digits, _ or -",
        ));
    }
    Ok(credentials)
}

/// The highest `{{n}}` in a template body.
fn placeholder_count(body: &str) -> usize {
    let mut highest = 0;
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find("}}") {
            if let Ok(number) = rest[..end].trim().parse::<usize>() {
                highest = highest.max(number);
            }
            rest = &rest[end + 2..];
        }
    }
    highest
}

/// The template `name` in the language closest to the customer's locale: the exact tag
/// (`fa_IR` for `fa-IR`), then the language alone (`fa`), then any region of it, then the
/// workspace's first language, then whichever comes first.
pub fn pick_template<'a>(
    templates: &'a [Template],
    name: &str,
    locale: Option<&str>,
    workspace_languages: &[String],
) -> Option<&'a Template> {
    let named: Vec<&Template> = templates.iter().filter(|t| t.name == name).collect();
    let normalise = |tag: &str| tag.replace('-', "_").to_ascii_lowercase();
    let language_of = |tag: &str| {
        normalise(tag)
            .split('_')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let wanted = locale
        .into_iter()
        .chain(workspace_languages.iter().map(String::as_str));
    for tag in wanted {
        let exact = normalise(tag);
        if let Some(template) = named.iter().find(|t| normalise(&t.language) == exact) {
            return Some(template);
        }
        let language = language_of(tag);
        if let Some(template) = named.iter().find(|t| normalise(&t.language) == language) {
            return Some(template);
        }
        if let Some(template) = named.iter().find(|t| language_of(&t.language) == language) {
            return Some(template);
        }
    }
    named.first().copied()
}

/// The template's parameters filled from the customer's profile, and the text as the customer
/// will read it. A parameter whose source is empty is refused: WhatsApp rejects empty ones.
pub fn fill_template(
    template: &Template,
    profile: &CustomerProfile,
) -> Result<(Vec<String>, String)> {
    let customer = &profile.customer;
    let mut values = Vec::with_capacity(template.parameters.len());
    for source in &template.parameters {
        let value = if source == "customer.name" {
            customer.name.clone()
        } else if source == "customer.locale" {
            customer
                .locale
                .as_ref()
                .map(|locale| locale.as_str().to_string())
        } else if let Some(key) = source.strip_prefix("customer.attributes.") {
            customer.attributes.get(key).and_then(|value| match value {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
        } else {
            source.strip_prefix("text:").map(str::to_string)
        };
        let value = value
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| Error::Refused {
                reason: format!(
                    "template {} needs {source}, which this customer does not have",
                    template.name
                ),
            })?;
        values.push(value);
    }
    let mut text = template.body.clone();
    for (index, value) in values.iter().enumerate().rev() {
        text = text.replace(&format!("{{{{{}}}}}", index + 1), value);
    }
    Ok((values, text))
}

/// What an inbound SMS asks for when it is one of the consent words, the whole message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
}

const OPT_OUT_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "opt-out",
    // Arabic and Persian: "stop", "cancel", "unsubscribe".
    "توقف",
    "قف",
    "الغاء",
    "إلغاء",
    "لغو",
    "توقف کن",
    "انصراف",
];
const OPT_IN_WORDS: &[&str] = &["start", "unstop", "yes", "ابدأ", "شروع"];
const HELP_WORDS: &[&str] = &["help", "info", "مساعدة", "راهنما"];

/// The consent keyword an inbound SMS is, if any: the whole message, trimmed, case-folded,
/// trailing punctuation ignored ("stop please" is not a keyword). A channel adds its own words
/// in `config.opt_out_words` / `config.opt_in_words`.
pub fn sms_keyword(config: &serde_json::Value, text: &str) -> Option<Keyword> {
    let word = text
        .trim()
        .trim_end_matches(['.', '!', '?', '؟'])
        .trim()
        .to_lowercase();
    if word.is_empty() || word.chars().count() > 40 {
        return None;
    }
    let configured = |key: &str| -> Vec<String> {
        config
            .get(key)
            .and_then(|words| words.as_array())
            .map(|words| {
                words
                    .iter()
                    .filter_map(|word| word.as_str())
                    .map(|word| word.trim().to_lowercase())
                    .collect()
            })
            .unwrap_or_default()
    };
    let listed = |standard: &[&str], key: &str| {
        standard.contains(&word.as_str()) || configured(key).contains(&word)
    };
    if listed(OPT_OUT_WORDS, "opt_out_words") {
        Some(Keyword::OptOut)
    } else if listed(OPT_IN_WORDS, "opt_in_words") {
        Some(Keyword::OptIn)
    } else if listed(HELP_WORDS, "help_words") {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// How an SMS is encoded and how many segments it costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segments {
    pub encoding: SmsEncoding,
    pub count: usize,
    /// Code units: GSM-7 septets (an extension character counts two) or UTF-16 units.
    pub units: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

/// The most segments Seam sends one SMS as (Twilio's `Body` holds 1,600 characters).
pub const MAX_SMS_SEGMENTS: usize = 10;

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// GSM-7 when every character is in the GSM 03.38 alphabet (160 per single segment, 153 when
/// concatenated), else UCS-2 (70, 67). Arabic and Persian are always UCS-2; one emoji or curly
/// quote switches a whole message.
pub fn segments(text: &str) -> Segments {
    let mut septets = 0;
    let mut gsm = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (encoding, units, single, multi) = if gsm {
        (SmsEncoding::Gsm7, septets, 160, 153)
    } else {
        (SmsEncoding::Ucs2, text.encode_utf16().count(), 70, 67)
    };
    let count = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    Segments {
        encoding,
        count,
        units,
    }
}

/// The longest text one message may carry on a channel kind (characters), when the provider
/// sets one.
pub fn text_limit(kind: ChannelKind) -> Option<usize> {
    match kind {
        ChannelKind::Whatsapp | ChannelKind::Telegram => Some(4096),
        ChannelKind::Messenger | ChannelKind::Instagram => Some(2000),
        ChannelKind::Line => Some(5000),
        ChannelKind::Sms => Some(1600),
        _ => None,
    }
}

/// Checks a reply's text against the channel's limits, with the reason an agent can act on.
pub fn check_text(kind: ChannelKind, text: &str) -> std::result::Result<(), Refusal> {
    if let Some(limit) = text_limit(kind) {
        let length = text.chars().count();
        if length > limit {
            return Err(Refusal::NotAvailable {
                reason: format!(
                    "{} messages hold at most {limit} characters; this one has {length}",
                    kind.as_str()
                ),
            });
        }
    }
    if kind == ChannelKind::Sms {
        let segments = segments(text);
        if segments.count > MAX_SMS_SEGMENTS {
            return Err(Refusal::NotAvailable {
                reason: format!(
                    "this SMS would take {} segments ({:?}); the most Seam sends is \
                     {MAX_SMS_SEGMENTS}",
                    segments.count, segments.encoding
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ChannelId, WorkspaceId};

    #[test]
    fn a_refusal_code_is_the_code_it_is_serialised_with() {
        for refusal in [
            Refusal::OptedOut { reason: "a".into() },
            Refusal::WindowClosed { reason: "b".into() },
            Refusal::NotAvailable { reason: "c".into() },
        ] {
            assert_eq!(
                serde_json::to_value(&refusal).unwrap()["code"],
                refusal.code()
            );
        }
    }

    fn channel(kind: ChannelKind, config: serde_json::Value) -> Channel {
        Channel {
            id: ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            kind,
            name: "Support".into(),
            config,
            secret: String::new(),
            credentials: String::new(),
            created_at: chrono::Utc::now(),
        }
    }

    fn whatsapp() -> Channel {
        channel(
            ChannelKind::Whatsapp,
            serde_json::json!({"templates": [
                {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, order {{2}} shipped",
                 "parameters": ["customer.name", "customer.attributes.order_id"]},
                {"name": "order_update", "language": "ar", "body": "مرحبا {{1}}، تم شحن الطلب {{2}}",
                 "parameters": ["customer.name", "customer.attributes.order_id"]},
                {"name": "order_update", "language": "fa", "body": "سلام {{1}}، سفارش {{2}} ارسال شد",
                 "parameters": ["customer.name", "customer.attributes.order_id"]}
            ]}),
        )
    }

    fn reach(hours_ago: Option<i64>, now: Timestamp) -> Reach {
        Reach {
            last_inbound_at: hours_ago.map(|hours| now - Duration::hours(hours)),
            consent: ConsentStatus::Unknown,
        }
    }

    #[test]
    fn whatsapp_free_text_is_allowed_only_within_24_hours_of_the_customers_message() {
        let now = chrono::Utc::now();
        let channel = whatsapp();
        assert!(may_write(&channel, &reach(Some(23), now), Content::FreeForm, now).is_ok());
        let refusal =
            may_write(&channel, &reach(Some(25), now), Content::FreeForm, now).unwrap_err();
        assert!(
            matches!(refusal, Refusal::WindowClosed { .. }),
            "{refusal:?}"
        );
        assert!(
            refusal.reason().contains("template"),
            "{}",
            refusal.reason()
        );
        assert!(may_write(&channel, &reach(None, now), Content::FreeForm, now).is_err());
    }

    #[test]
    fn an_approved_template_may_be_sent_outside_the_window_but_an_unknown_one_may_not() {
        let now = chrono::Utc::now();
        let channel = whatsapp();
        assert!(
            may_write(
                &channel,
                &reach(Some(25), now),
                Content::Template("order_update"),
                now
            )
            .is_ok()
        );
        assert!(may_write(&channel, &reach(None, now), Content::Template("promo"), now).is_err());
    }

    #[test]
    fn messenger_replies_after_24_hours_carry_the_human_agent_tag_until_7_days() {
        let now = chrono::Utc::now();
        let messenger = channel(ChannelKind::Messenger, serde_json::json!({}));
        assert_eq!(
            may_write(&messenger, &reach(Some(2), now), Content::FreeForm, now),
            Ok(Permit::default())
        );
        assert_eq!(
            may_write(&messenger, &reach(Some(30), now), Content::FreeForm, now)
                .unwrap()
                .tag
                .as_deref(),
            Some(HUMAN_AGENT_TAG)
        );
        assert!(
            may_write(
                &messenger,
                &reach(Some(24 * 8), now),
                Content::FreeForm,
                now
            )
            .is_err()
        );
        let without_tag = channel(
            ChannelKind::Instagram,
            serde_json::json!({"human_agent": false}),
        );
        assert!(may_write(&without_tag, &reach(Some(30), now), Content::FreeForm, now).is_err());
    }

    #[test]
    fn an_opted_out_customer_is_refused_with_the_consent_reason() {
        let now = chrono::Utc::now();
        let sms = channel(ChannelKind::Sms, serde_json::json!({}));
        let mut opted_out = reach(Some(1), now);
        opted_out.consent = ConsentStatus::OptedOut;
        let refusal = may_write(&sms, &opted_out, Content::FreeForm, now).unwrap_err();
        assert!(matches!(refusal, Refusal::OptedOut { .. }));
        assert!(refusal.reason().contains("START"));
        assert!(may_write(&sms, &reach(None, now), Content::FreeForm, now).is_ok());
    }

    #[test]
    fn the_template_language_follows_the_customers_locale() {
        let templates = templates(&whatsapp());
        let pick = |locale| {
            pick_template(&templates, "order_update", locale, &["en".into()])
                .map(|template| template.language.as_str())
        };
        assert_eq!(pick(Some("fa-IR")), Some("fa"));
        assert_eq!(pick(Some("ar")), Some("ar"));
        assert_eq!(pick(Some("en-US")), Some("en_US"));
        assert_eq!(pick(Some("de")), Some("en_US"));
        assert_eq!(pick(None), Some("en_US"));
        assert_eq!(pick_template(&templates, "nope", None, &[]), None);
    }

    #[test]
    fn sms_keywords_are_whole_messages_in_any_case() {
        let config = serde_json::json!({"opt_out_words": ["Basta"]});
        assert_eq!(sms_keyword(&config, "STOP"), Some(Keyword::OptOut));
        assert_eq!(sms_keyword(&config, " stop. "), Some(Keyword::OptOut));
        assert_eq!(sms_keyword(&config, "Unsubscribe"), Some(Keyword::OptOut));
        assert_eq!(sms_keyword(&config, "basta"), Some(Keyword::OptOut));
        assert_eq!(sms_keyword(&config, "لغو"), Some(Keyword::OptOut));
        assert_eq!(sms_keyword(&config, "stop please"), None);
        assert_eq!(sms_keyword(&config, "START"), Some(Keyword::OptIn));
        assert_eq!(sms_keyword(&config, "unstop"), Some(Keyword::OptIn));
        assert_eq!(sms_keyword(&config, "help"), Some(Keyword::Help));
        assert_eq!(sms_keyword(&config, "Hello"), None);
    }

    #[test]
    fn arabic_and_persian_sms_are_ucs2_and_an_emoji_switches_a_whole_message() {
        assert_eq!(
            segments(&"a".repeat(160)),
            Segments {
                encoding: SmsEncoding::Gsm7,
                count: 1,
                units: 160
            }
        );
        assert_eq!(segments(&"a".repeat(161)).count, 2);
        assert_eq!(segments(&"a".repeat(306)).count, 2);
        assert_eq!(segments("{}").units, 4);
        let arabic = segments(&"س".repeat(70));
        assert_eq!((arabic.encoding, arabic.count), (SmsEncoding::Ucs2, 1));
        assert_eq!(segments(&"س".repeat(71)).count, 2);
        assert_eq!(segments(&"پ".repeat(134)).count, 2);
        assert_eq!(segments(&"پ".repeat(135)).count, 3);
        let emoji = segments(&format!("{}👍", "a".repeat(100)));
        assert_eq!((emoji.encoding, emoji.count), (SmsEncoding::Ucs2, 2));
    }

    #[test]
    fn the_recipient_is_the_address_the_customer_last_used_on_that_channel() {
        let cloud = whatsapp();
        let twilio = channel(
            ChannelKind::Whatsapp,
            serde_json::json!({"provider": "twilio"}),
        );
        let sms = channel(ChannelKind::Sms, serde_json::json!({}));
        let phone = Identity::from_stored(IdentityKind::Phone, "+16502530000".into());
        let wa = Identity::from_stored(IdentityKind::Whatsapp, "16502530001".into());
        let both = [phone.clone(), wa.clone()];
        let to = |channel: &Channel, last: Option<&Identity>| {
            recipient(channel, last, &both).map(|(_, address)| address)
        };
        assert_eq!(to(&cloud, None).as_deref(), Some("16502530001"));
        assert_eq!(to(&cloud, Some(&phone)).as_deref(), Some("16502530000"));
        assert_eq!(to(&twilio, None).as_deref(), Some("+16502530001"));
        assert_eq!(to(&sms, None).as_deref(), Some("+16502530000"));
        assert_eq!(
            recipient(&sms, None, &both).map(|(identity, _)| identity),
            Some(phone.clone())
        );
        let telegram = channel(ChannelKind::Telegram, serde_json::json!({}));
        assert_eq!(recipient(&telegram, None, &both), None);
    }

    #[test]
    fn templates_are_checked_when_saved() {
        let good = serde_json::json!([{"name": "hi", "language": "en", "body": "Hi {{1}}", "parameters": ["customer.name"]}]);
        assert!(validate_templates(&good).is_ok());
        let mismatch = serde_json::json!([{"name": "hi", "language": "en", "body": "Hi {{1}} {{2}}", "parameters": ["customer.name"]}]);
        assert!(validate_templates(&mismatch).is_err());
        let bad_name = serde_json::json!([{"name": "Hi There", "language": "en", "body": "Hi"}]);
        assert!(validate_templates(&bad_name).is_err());
        let bad_source = serde_json::json!([{"name": "hi", "language": "en", "body": "{{1}}", "parameters": ["customer.password"]}]);
        assert!(validate_templates(&bad_source).is_err());
    }

    #[test]
    fn a_text_over_the_channels_limit_is_refused_with_the_numbers() {
        assert!(check_text(ChannelKind::Telegram, &"a".repeat(4096)).is_ok());
        let refusal = check_text(ChannelKind::Telegram, &"a".repeat(4097)).unwrap_err();
        assert!(refusal.reason().contains("4096"));
        assert!(check_text(ChannelKind::Sms, &"ب".repeat(1600)).is_err());
    }

    #[test]
    fn channel_settings_are_checked_and_credentials_must_be_complete() {
        let config = |value: serde_json::Value| value.as_object().unwrap().clone();
        let whatsapp = validate_config(
            ChannelKind::Whatsapp,
            config(serde_json::json!({"phone_number_id": "1065"})),
        )
        .unwrap();
        assert!(
            whatsapp["verify_token"].as_str().unwrap().len() >= 32,
            "a handshake token is made when none is given"
        );
        let unknown = validate_config(
            ChannelKind::Whatsapp,
            config(serde_json::json!({"phone_number_id": "1065", "access_token": "x"})),
        )
        .unwrap_err();
        assert!(unknown.to_string().contains("access_token"), "{unknown}");
        assert!(
            validate_config(
                ChannelKind::Sms,
                config(serde_json::json!({"account_sid": "AC1"}))
            )
            .is_err(),
            "an SMS channel needs a number or a messaging service"
        );
        assert!(
            validate_config(
                ChannelKind::Line,
                config(serde_json::json!({"base_url": "ftp://example.com"}))
            )
            .is_err()
        );

        let missing = validate_credentials(
            ChannelKind::Whatsapp,
            &whatsapp,
            &serde_json::json!({"access_token": "EAAB"}),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("app_secret"), "{missing}");
        let telegram = validate_credentials(
            ChannelKind::Telegram,
            &serde_json::json!({}),
            &serde_json::json!({"bot_token": "123:ABC"}),
        )
        .unwrap();
        assert!(telegram["webhook_secret"].as_str().unwrap().len() >= 32);
        let twilio = validate_config(
            ChannelKind::Whatsapp,
            config(serde_json::json!({"provider": "twilio", "account_sid": "AC1", "from": "+14155552671"})),
        )
        .unwrap();
        assert!(twilio.get("verify_token").is_none());
        assert!(
            validate_credentials(
                ChannelKind::Whatsapp,
                &twilio,
                &serde_json::json!({"auth_token": "t"})
            )
            .is_ok()
        );
    }
}
