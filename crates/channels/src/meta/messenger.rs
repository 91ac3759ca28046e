//! Messenger and Instagram adapters: webhooks in (see `messenger_inbound`), messages out
//! through the Send API (`POST {base}/{version}/me/messages` with the page access token and
//! its `appsecret_proof` in the query), files from Meta's CDN through the guarded fetcher.
//! No database access.

use seam_core::identity::IdentityKind;
use serde_json::{Value, json};

use super::graph::{self, Call};
use crate::messaging::{
    Adapter, Check, Event, FetchError, Fetched, Fetcher, Hook, HookError, MediaRef, MediaSource,
    Outgoing, OutgoingMedia, Sender, Sent, Settings,
};

/// Quick replies per message, and the longest quick reply title.
const MAX_QUICK_REPLIES: usize = 13;
const MAX_QUICK_REPLY_TITLE: usize = 20;

/// Which of Meta's two Send API platforms a channel is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Messenger,
    Instagram,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
        }
    }

    /// The webhook body's `object`.
    pub fn object(self) -> &'static str {
        match self {
            Platform::Messenger => "page",
            Platform::Instagram => "instagram",
        }
    }

    /// The config keys naming the channel's own account (an entry's `id`).
    pub fn account_keys(self) -> &'static [&'static str] {
        match self {
            Platform::Messenger => &["page_id"],
            Platform::Instagram => &["instagram_account_id", "page_id"],
        }
    }

    pub fn identity(self) -> IdentityKind {
        match self {
            Platform::Messenger => IdentityKind::Messenger,
            Platform::Instagram => IdentityKind::Instagram,
        }
    }

    /// Messenger takes 2,000 characters of text; Instagram 1,000 bytes.
    fn text_fits(self, text: &str) -> Result<(), String> {
        match self {
            Platform::Messenger if text.chars().count() > 2000 => {
                Err("the text is longer than 2000 characters".into())
            }
            Platform::Instagram if text.len() > 1000 => {
                Err("the text is longer than 1000 bytes".into())
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug)]
pub struct Messenger {
    platform: Platform,
}

pub static MESSENGER: Messenger = Messenger {
    platform: Platform::Messenger,
};

pub static INSTAGRAM: Messenger = Messenger {
    platform: Platform::Instagram,
};

#[async_trait::async_trait]
impl Adapter for Messenger {
    fn name(&self) -> &'static str {
        self.platform.name()
    }

    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
        super::signature::verify(settings, hook)
    }

    fn parse(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError> {
        super::messenger_inbound::parse(self.platform, settings, hook.body)
    }

    /// Each file is its own call (the Send API takes one attachment per message), then the
    /// text with its quick replies, last so they stay on screen. `messaging_type` is
    /// `RESPONSE`, or `MESSAGE_TAG` with the message's tag (`HUMAN_AGENT` after 24 hours).
    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
        let Some(token) = settings.credential("page_access_token") else {
            return permanent("the channel has no page_access_token");
        };
        let parts = match self.parts(message) {
            Ok(parts) => parts,
            Err(reason) => return permanent(&reason),
        };
        let proof = settings
            .credential("app_secret")
            .map(|secret| super::signature::appsecret_proof(secret, token));
        let mut query = vec![("access_token", token.to_string())];
        if let Some(proof) = &proof {
            query.push(("appsecret_proof", proof.clone()));
        }
        let url = format!(
            "{}/{}/me/messages",
            settings.base_url(super::DEFAULT_BASE_URL),
            super::api_version(settings)
        );
        let total = parts.len();
        let mut first_id = None;
        for (index, part) in parts.into_iter().enumerate() {
            let mut body = json!({
                "recipient": { "id": message.to },
                "messaging_type": "RESPONSE",
                "message": part,
            });
            if let Some(tag) = &message.tag {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!(tag);
            }
            let mut secrets = vec![token];
            secrets.extend(proof.as_deref());
            let call = Call {
                url: url.clone(),
                query: query.clone(),
                bearer: None,
                body,
                secrets,
            };
            let answer = match graph::post(http, call).await {
                Ok(answer) => answer,
                Err(failure) => return graph::after_parts(failure, index, total),
            };
            match graph::accepted(answer.get("message_id").and_then(Value::as_str)) {
                Ok(id) => {
                    first_id.get_or_insert(id);
                }
                Err(failure) => return graph::after_parts(failure, index, total),
            }
        }
        match first_id {
            Some(provider_message_id) => Sent::Accepted {
                provider_message_id,
            },
            None => permanent("the message has nothing to send"),
        }
    }

    /// Attachment URLs are public, expiring CDN links: fetched without credentials, through
    /// the SSRF guard.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        _settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError> {
        match &media.source {
            MediaSource::Url { url } => fetcher.get(url, None, &[]).await,
            MediaSource::Provider { .. } => Err(FetchError::Refused(format!(
                "{} files are fetched by URL",
                self.platform.name()
            ))),
        }
    }
}

impl Messenger {
    /// The `message` objects one [`Outgoing`] becomes.
    fn parts(&self, message: &Outgoing) -> Result<Vec<Value>, String> {
        if message.template.is_some() {
            return Err(format!(
                "templates are not sent on {}",
                self.platform.name()
            ));
        }
        let mut parts: Vec<Value> = message.media.iter().map(attachment).collect();
        let text = message
            .text
            .as_deref()
            .filter(|text| !text.trim().is_empty());
        if let Some(text) = text {
            self.platform.text_fits(text)?;
            let mut part = json!({ "text": text });
            if !message.buttons.is_empty() {
                part["quick_replies"] = quick_replies(message)?;
            }
            parts.push(part);
        } else if !message.buttons.is_empty() {
            return Err("quick replies need a text".into());
        }
        if parts.is_empty() {
            return Err("the message has no text or file".into());
        }
        Ok(parts)
    }
}

fn quick_replies(message: &Outgoing) -> Result<Value, String> {
    if message.buttons.len() > MAX_QUICK_REPLIES {
        return Err(format!("at most {MAX_QUICK_REPLIES} quick replies"));
    }
    if let Some(button) = message
        .buttons
        .iter()
        .find(|button| button.title.chars().count() > MAX_QUICK_REPLY_TITLE)
    {
        return Err(format!(
            "the quick reply title {:?} is longer than {MAX_QUICK_REPLY_TITLE} characters",
            button.title
        ));
    }
    Ok(message
        .buttons
        .iter()
        .map(
            |button| json!({ "content_type": "text", "title": button.title, "payload": button.id }),
        )
        .collect())
}

/// `{"attachment":{"type":"image|video|audio|file","payload":{"url":…}}}`.
fn attachment(media: &OutgoingMedia) -> Value {
    let content_type = media.content_type.to_ascii_lowercase();
    let kind = ["image", "video", "audio"]
        .into_iter()
        .find(|kind| content_type.starts_with(&format!("{kind}/")))
        .unwrap_or("file");
    json!({
        "attachment": {
            "type": kind,
            "payload": { "url": media.url, "is_reusable": false },
        },
    })
}

fn permanent(reason: &str) -> Sent {
    Sent::Permanent {
        reason: reason.to_string(),
        opted_out: false,
    }
}
