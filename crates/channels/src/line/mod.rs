//! LINE adapter: Messaging API webhooks (signed with the channel secret) <-> [`Event`]s,
//! reply and push sends, and message content downloads. No database access.

mod event;
mod send;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::messaging::{
    Adapter, Auth, Check, Event, FetchError, Fetched, Fetcher, Hook, HookError, MediaRef,
    MediaSource, Outgoing, Sender, Sent, Settings,
};

/// The Messaging API host; `base_url` overrides it.
pub const DEFAULT_BASE_URL: &str = "https://api.line.me";
/// The host message content is downloaded from; `data_base_url` overrides it.
pub const DEFAULT_DATA_BASE_URL: &str = "https://api-data.line.me";
/// `base64(HMAC-SHA256(channel secret, raw body))`.
pub const SIGNATURE_HEADER: &str = "X-Line-Signature";

#[derive(Debug)]
pub struct Line;

pub static LINE: Line = Line;

/// The `X-Line-Signature` value for `body`.
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(channel_secret, body).finalize().into_bytes())
}

fn mac(channel_secret: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; `new_from_slice` fails only for fixed-key MACs.
        Err(_) => unreachable_hmac(),
    };
    mac.update(body);
    mac
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    #[allow(clippy::expect_used)]
    Hmac::<Sha256>::new_from_slice(b"seam").expect("HMAC takes any key length")
}

#[async_trait::async_trait]
impl Adapter for Line {
    fn name(&self) -> &'static str {
        "line"
    }

    /// The HMAC covers the body byte for byte; the console's "Verify" request (no events)
    /// is signed the same way and is accepted like any other.
    fn verify(&self, settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
        let Some(secret) = settings.credential("channel_secret") else {
            return Err(HookError::Unauthorized(
                "the channel has no LINE channel secret".into(),
            ));
        };
        let Some(signature) = hook.header(SIGNATURE_HEADER) else {
            return Err(HookError::Unauthorized(format!(
                "the {SIGNATURE_HEADER} header is missing"
            )));
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .unwrap_or_default();
        match mac(secret, hook.body).verify_slice(&signature) {
            Ok(()) => Ok(Check::Accepted),
            Err(_) => Err(HookError::Unauthorized(format!(
                "the {SIGNATURE_HEADER} header does not match"
            ))),
        }
    }

    fn parse(&self, _settings: &Settings, hook: &Hook<'_>) -> Result<Vec<Event>, HookError> {
        event::parse(hook.body)
    }

    async fn send(&self, http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
        send::send(http, settings, message).await
    }

    /// `contentProvider: line` content comes from the data host with the channel token;
    /// `external` content is fetched from its URL through the guard, without it.
    async fn fetch_media(
        &self,
        fetcher: &Fetcher,
        settings: &Settings,
        media: &MediaRef,
    ) -> Result<Fetched, FetchError> {
        match &media.source {
            MediaSource::Provider { id } => {
                let Some(token) = settings.credential("channel_access_token") else {
                    return Err(FetchError::Refused(
                        "the channel has no LINE channel access token".into(),
                    ));
                };
                let base = data_base_url(settings);
                let url = format!("{base}/v2/bot/message/{id}/content");
                fetcher
                    .get(&url, Some(&Auth::Bearer(token.to_string())), &[base])
                    .await
            }
            MediaSource::Url { url } => fetcher.get(url, None, &[]).await,
        }
    }
}

fn data_base_url(settings: &Settings) -> &str {
    settings
        .config_str("data_base_url")
        .unwrap_or(DEFAULT_DATA_BASE_URL)
        .trim_end_matches('/')
}
