//! WhatsApp Cloud API adapter: webhooks in (see `whatsapp_inbound`), messages out through
//! `POST {base}/{version}/{phone_number_id}/messages` with the access token as Bearer, and
//! media downloaded in two steps (the media id's URL, then the file). No database access.

use serde_json::{Value, json};

use super::graph::{self, Call};
use crate::messaging::{
    Adapter, Auth, Check, Event, FetchError, Fetched, Fetcher, Hook, HookError, MediaRef,
    MediaSource, Outgoing, OutgoingMedia, Sender, Sent, Settings,
};

/// Longest text message.
const MAX_TEXT: usize = 4096;
/// Longest media caption and interactive body.
const MAX_CAPTION: usize = 1024;
/// Reply buttons in one interactive message, and the longest button title.
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_TITLE: usize = 20;

#[derive(Debug)]
pub struct WhatsappCloud;

pub static WHATSAPP_CLOUD: WhatsappCloud = WhatsappCloud;

#[async_trait::async_trait]
impl Adapter for WhatsappCloud {
    fn name(&self) -> &'static str {
        "whatsapp_cloud"
    }

    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
        super::signature::verify(settings, hook)
    }

    fn parse(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError> {
        super::whatsapp_inbound::parse(settings, hook.body)
    }

    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
        let (Some(number), Some(token)) = (
            settings.config_str("phone_number_id"),
            settings.credential("access_token"),
        ) else {
            return permanent("the channel has no phone_number_id or access_token");
        };
        let parts = match parts(message) {
            Ok(parts) => parts,
            Err(reason) => return permanent(&reason),
        };
        let url = format!(
            "{}/{}/{number}/messages",
            settings.base_url(super::DEFAULT_BASE_URL),
            super::api_version(settings)
        );
        let total = parts.len();
        let mut first_id = None;
        for (index, mut part) in parts.into_iter().enumerate() {
            part["messaging_product"] = json!("whatsapp");
            part["recipient_type"] = json!("individual");
            part["to"] = json!(message.to.trim_start_matches('+'));
            if index == 0
                && let Some(reply_to) = &message.reply_to
            {
                part["context"] = json!({ "message_id": reply_to });
            }
            let call = Call {
                url: url.clone(),
                query: Vec::new(),
                bearer: Some(token),
                body: part,
                secrets: vec![token],
            };
            let answer = match graph::post(http, call).await {
                Ok(answer) => answer,
                Err(failure) => return graph::after_parts(failure, index, total),
            };
            let id = answer
                .pointer("/messages/0/id")
                .and_then(Value::as_str)
                .map(str::to_string);
            match graph::accepted(id.as_deref()) {
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

    /// `GET {base}/{version}/{media_id}` answers `{url, mime_type}`; the file is then fetched
    /// from that URL with the same token (Meta's CDN, `lookaside.fbsbx.com`, wants it). The
    /// returned URL's origin is trusted because Meta's authenticated answer named it.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError> {
        let id = match &media.source {
            MediaSource::Url { url } => return fetcher.get(url, None, &[]).await,
            MediaSource::Provider { id } => id,
        };
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(FetchError::Refused("not a WhatsApp media id".into()));
        }
        let token = settings
            .credential("access_token")
            .ok_or_else(|| FetchError::Refused("the channel has no access token".into()))?;
        let auth = Auth::Bearer(token.to_string());
        let base = settings.base_url(super::DEFAULT_BASE_URL);
        let info_url = format!("{base}/{}/{id}", super::api_version(settings));
        let info = fetcher.get(&info_url, Some(&auth), &[base]).await?;
        let info: Value = serde_json::from_slice(&info.bytes)
            .map_err(|_| FetchError::Network("the media answer is not JSON".into()))?;
        let file_url = info
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| FetchError::Network("the media answer has no url".into()))?;
        let parsed = url::Url::parse(file_url)
            .map_err(|_| FetchError::Refused("the media url is not a URL".into()))?;
        // The token goes with the download only to Meta's own media hosts (or the configured
        // base URL); any other URL is fetched without it, through the guard.
        let origin = parsed.origin().ascii_serialization();
        let meta_host = parsed.scheme() == "https"
            && parsed.host_str().is_some_and(|host| {
                META_MEDIA_DOMAINS
                    .iter()
                    .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
            });
        let trusted: Vec<&str> = if meta_host {
            vec![base, &origin]
        } else {
            vec![base]
        };
        let mut file = fetcher.get(file_url, Some(&auth), &trusted).await?;
        if file.content_type.is_none() {
            file.content_type = info
                .get("mime_type")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        Ok(file)
    }
}

/// The domains Meta serves WhatsApp media from (`lookaside.fbsbx.com` today).
const META_MEDIA_DOMAINS: &[&str] = &["fbsbx.com", "facebook.com", "fbcdn.net", "whatsapp.net"];

fn permanent(reason: &str) -> Sent {
    Sent::Permanent {
        reason: reason.to_string(),
        opted_out: false,
    }
}

/// The messages one [`Outgoing`] becomes, in order: a template alone; otherwise each file
/// (a single captionable file carries the text as its caption), then the text, as an
/// interactive message when it has buttons.
fn parts(message: &Outgoing) -> Result<Vec<Value>, String> {
    if let Some(template) = &message.template {
        let parameters: Vec<Value> = template
            .parameters
            .iter()
            .map(|text| json!({ "type": "text", "text": text }))
            .collect();
        let mut body = json!({ "name": template.name, "language": { "code": template.language } });
        if !parameters.is_empty() {
            body["components"] = json!([{ "type": "body", "parameters": parameters }]);
        }
        return Ok(vec![json!({ "type": "template", "template": body })]);
    }
    let text = message
        .text
        .as_deref()
        .filter(|text| !text.trim().is_empty());
    let characters = text.map_or(0, |text| text.chars().count());
    if characters > MAX_TEXT {
        return Err(format!("the text is longer than {MAX_TEXT} characters"));
    }
    let captioned = matches!(
        (text, message.media.as_slice()),
        (Some(_), [only]) if message.buttons.is_empty()
            && characters <= MAX_CAPTION
            && media_kind(only) != "audio"
    );
    let mut parts = Vec::new();
    for media in &message.media {
        let kind = media_kind(media);
        let mut object = json!({ "link": media.url });
        if captioned && let Some(text) = text {
            object["caption"] = json!(text);
        }
        if kind == "document" {
            object["filename"] = json!(file_name(media));
        }
        parts.push(json!({ "type": kind, kind: object }));
    }
    if !message.buttons.is_empty() {
        parts.push(interactive(message, text, characters)?);
    } else if let Some(text) = text
        && !captioned
    {
        parts.push(json!({ "type": "text", "text": { "body": text, "preview_url": false } }));
    }
    if parts.is_empty() {
        return Err("the message has no text, file or template".into());
    }
    Ok(parts)
}

fn interactive(message: &Outgoing, text: Option<&str>, characters: usize) -> Result<Value, String> {
    let Some(text) = text else {
        return Err("buttons need a text".into());
    };
    if characters > MAX_CAPTION {
        return Err(format!(
            "a text with buttons is longer than {MAX_CAPTION} characters"
        ));
    }
    if message.buttons.len() > MAX_BUTTONS {
        return Err(format!("WhatsApp allows at most {MAX_BUTTONS} buttons"));
    }
    if let Some(button) = message
        .buttons
        .iter()
        .find(|button| button.title.chars().count() > MAX_BUTTON_TITLE)
    {
        return Err(format!(
            "the button title {:?} is longer than {MAX_BUTTON_TITLE} characters",
            button.title
        ));
    }
    let buttons: Vec<Value> = message
        .buttons
        .iter()
        .map(|button| json!({ "type": "reply", "reply": { "id": button.id, "title": button.title } }))
        .collect();
    Ok(json!({
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": { "text": text },
            "action": { "buttons": buttons },
        },
    }))
}

/// WhatsApp's media type for a file. It takes only JPEG and PNG as images (a WebP image would
/// be a sticker), so other images go as documents, as does anything not video or audio.
fn media_kind(media: &OutgoingMedia) -> &'static str {
    let content_type = media.content_type.to_ascii_lowercase();
    if content_type == "image/jpeg" || content_type == "image/png" {
        "image"
    } else if content_type.starts_with("video/") {
        "video"
    } else if content_type.starts_with("audio/") {
        "audio"
    } else {
        "document"
    }
}

/// A document's file name: the given one, else the URL's last path segment.
fn file_name(media: &OutgoingMedia) -> String {
    media
        .file_name
        .clone()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            url::Url::parse(&media.url).ok().and_then(|url| {
                url.path_segments()
                    .and_then(|mut segments| segments.next_back().map(str::to_string))
                    .filter(|name| !name.is_empty())
            })
        })
        .unwrap_or_else(|| "attachment".to_string())
}
