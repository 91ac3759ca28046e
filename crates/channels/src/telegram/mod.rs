//! Telegram adapter: Bot API updates <-> [`Event`]s, sends, file downloads and `setWebhook`.
//! No database access. The bot token is part of every Bot API URL, so no URL and no text
//! that might echo one ever reaches an error reason or a log.

mod send;
mod update;

use subtle::ConstantTimeEq;

use crate::messaging::{
    Adapter, Check, Event, FetchError, Fetched, Fetcher, Hook, HookError, MediaRef, MediaSource,
    Outgoing, Sender, Sent, Settings, network_error,
};

/// The Bot API host; `base_url` in the channel's configuration overrides it.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// The header Telegram sends the `secret_token` given to `setWebhook` in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// The updates Seam asks for.
pub const ALLOWED_UPDATES: [&str; 4] = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
];

#[derive(Debug)]
pub struct Telegram;

pub static TELEGRAM: Telegram = Telegram;

#[async_trait::async_trait]
impl Adapter for Telegram {
    fn name(&self) -> &'static str {
        "telegram"
    }

    /// Telegram signs nothing: it repeats the `secret_token` given to `setWebhook` in a
    /// header, compared here in constant time.
    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
        let Some(secret) = settings.credential("webhook_secret") else {
            return Err(HookError::Unauthorized(
                "the channel has no webhook secret".into(),
            ));
        };
        let Some(received) = hook.header(SECRET_HEADER) else {
            return Err(HookError::Unauthorized(format!(
                "the {SECRET_HEADER} header is missing"
            )));
        };
        if bool::from(received.as_bytes().ct_eq(secret.as_bytes())) {
            Ok(Check::Accepted)
        } else {
            Err(HookError::Unauthorized(format!(
                "the {SECRET_HEADER} header does not match"
            )))
        }
    }

    fn parse(&self, _settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError> {
        update::parse(hook.body)
    }

    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
        let Some(bot) = Bot::of(settings) else {
            return Sent::Permanent {
                reason: "the channel has no bot token".into(),
                opted_out: false,
            };
        };
        send::send(http, &bot, message).await
    }

    /// `getFile` turns the file id into a path, downloaded from `{base}/file/bot<token>/…`.
    /// Both URLs carry the token, so they are used here and never kept.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError> {
        let file_id = match &media.source {
            MediaSource::Provider { id } => id,
            MediaSource::Url { url } => return fetcher.get(url, None, &[]).await,
        };
        let Some(bot) = Bot::of(settings) else {
            return Err(FetchError::Refused("the channel has no bot token".into()));
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("file_id", file_id)
            .finish();
        let trusted = [bot.base];
        let answer = fetcher
            .get(&bot.method(&format!("getFile?{query}")), None, &trusted)
            .await?;
        let answer: serde_json::Value = serde_json::from_slice(&answer.bytes).map_err(|_| {
            FetchError::Network("getFile answered something other than JSON".into())
        })?;
        let Some(path) = answer
            .pointer("/result/file_path")
            .and_then(|path| path.as_str())
        else {
            return Err(FetchError::Network(
                "getFile answered without a file_path".into(),
            ));
        };
        let url = format!("{}/file/bot{}/{}", bot.base, bot.token, path);
        let mut fetched = fetcher.get(&url, None, &trusted).await?;
        // The file server answers `application/octet-stream`; the update knew better.
        if fetched
            .content_type
            .as_deref()
            .is_none_or(|value| value.starts_with("application/octet-stream"))
            && media.content_type.is_some()
        {
            fetched.content_type = media.content_type.clone();
        }
        Ok(fetched)
    }

    /// Points the bot's webhook at `hook_url` with the channel's secret token.
    async fn set_up(&self, http: &Sender, settings: &Settings) -> Result<(), String> {
        let Some(bot) = Bot::of(settings) else {
            return Err("the channel has no bot token".into());
        };
        let Some(secret) = settings.credential("webhook_secret") else {
            return Err("the channel has no webhook secret".into());
        };
        let body = serde_json::json!({
            "url": settings.hook_url,
            "secret_token": secret,
            "allowed_updates": ALLOWED_UPDATES,
        });
        let response = http
            .post(bot.method("setWebhook"))
            .json(&body)
            .send()
            .await
            .map_err(|error| match network_error(&error) {
                Sent::Retry { reason, .. } | Sent::Permanent { reason, .. } => reason,
                Sent::Accepted { .. } => String::new(),
            })?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        if answer.get("ok").and_then(|ok| ok.as_bool()) == Some(true) {
            Ok(())
        } else {
            Err(format!(
                "setWebhook failed ({}): {}",
                status.as_u16(),
                bot.scrub(description(&answer))
            ))
        }
    }
}

/// The bot's coordinates: where the Bot API is and the token that is part of its URLs.
struct Bot<'a> {
    base: &'a str,
    token: &'a str,
}

impl<'a> Bot<'a> {
    fn of(settings: &'a Settings) -> Option<Self> {
        Some(Bot {
            base: settings.base_url(DEFAULT_BASE_URL),
            token: settings.credential("bot_token")?,
        })
    }

    fn method(&self, name: &str) -> String {
        format!("{}/bot{}/{name}", self.base, self.token)
    }

    /// Text from Telegram, with the token cut out should it ever appear.
    fn scrub(&self, text: &str) -> String {
        text.replace(self.token, "<bot token>")
    }
}

fn description(answer: &serde_json::Value) -> &str {
    answer
        .get("description")
        .and_then(|text| text.as_str())
        .unwrap_or("no description")
}
