//! Twilio adapter for SMS/MMS and for WhatsApp through Twilio: signed form webhooks (messages
//! and status callbacks) <-> [`Event`]s, and sends through the Messages API. No database
//! access.

mod inbound;
mod send;
pub mod signature;

use crate::messaging::{
    Acknowledgement, Adapter, Auth, Check, Event, FetchError, Fetched, Fetcher, Hook, HookError,
    MediaRef, MediaSource, Outgoing, Sender, Sent, Settings,
};

/// Twilio's API host; `base_url` in the channel's configuration overrides it.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The adapter for one of the two channel kinds Twilio carries. They share everything but
/// the address form of a send (`whatsapp:+E164` on WhatsApp).
#[derive(Debug)]
pub struct Twilio {
    whatsapp: bool,
}

/// SMS and MMS (`sms` channels).
pub static SMS: Twilio = Twilio { whatsapp: false };
/// WhatsApp through Twilio (`whatsapp` channels with `provider: "twilio"`).
pub static WHATSAPP: Twilio = Twilio { whatsapp: true };

#[async_trait::async_trait]
impl Adapter for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    /// Twilio signs `hook_url` plus the query string as received, followed by the sorted
    /// form parameters of a POST (none for a GET or a JSON body, whose hash is in the query).
    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
        let Some(auth_token) = settings.credential("auth_token") else {
            return Err(HookError::Unauthorized(
                "the channel has no Twilio auth token".into(),
            ));
        };
        let Some(signature) = hook.header(signature::HEADER) else {
            return Err(HookError::Unauthorized(format!(
                "the {} header is missing",
                signature::HEADER
            )));
        };
        let url = if hook.query.is_empty() {
            settings.hook_url.clone()
        } else {
            format!("{}?{}", settings.hook_url, hook.query)
        };
        let params = if hook.method.eq_ignore_ascii_case("POST") && is_form(hook) {
            inbound::form_pairs(hook.body)
        } else {
            Vec::new()
        };
        if signature::verify(auth_token, &url, &params, hook.body, signature) {
            Ok(Check::Accepted)
        } else {
            Err(HookError::Unauthorized(format!(
                "the {} header does not match",
                signature::HEADER
            )))
        }
    }

    fn parse(&self, _settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError> {
        inbound::parse(hook.body)
    }

    /// Twilio reads the answer as TwiML: an empty `<Response/>` sends nothing back.
    fn acknowledgement(&self) -> Acknowledgement {
        Acknowledgement {
            content_type: "text/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
        }
    }

    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
        send::send(http, settings, message, self.whatsapp).await
    }

    /// `MediaUrl{i}` lives on api.twilio.com and needs Basic auth (account SID and auth
    /// token); it redirects to a CDN, which the fetcher reaches without the credentials.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError> {
        match &media.source {
            MediaSource::Provider { id: url } => {
                let (Some(account_sid), Some(auth_token)) = (
                    settings.config_str("account_sid"),
                    settings.credential("auth_token"),
                ) else {
                    return Err(FetchError::Refused(
                        "the channel has no Twilio account SID or auth token".into(),
                    ));
                };
                let auth = Auth::Basic {
                    user: account_sid.to_string(),
                    password: auth_token.to_string(),
                };
                let base = settings.base_url(DEFAULT_BASE_URL);
                fetcher.get(url, Some(&auth), &[base]).await
            }
            MediaSource::Url { url } => fetcher.get(url, None, &[]).await,
        }
    }
}

fn is_form(hook: &Hook<'_>) -> bool {
    hook.header("content-type").is_none_or(|value| {
        value
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}
