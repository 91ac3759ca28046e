//! Meta's webhook checks, shared by WhatsApp, Messenger and Instagram: the subscription
//! handshake (`hub.verify_token`), the `X-Hub-Signature-256` HMAC over the raw body, and the
//! `appsecret_proof` sent with Graph API calls. Constant-time comparisons only.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::messaging::{Check, Hook, HookError, Settings};

pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` fails only for fixed-key MACs.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    #[allow(clippy::expect_used)]
    Hmac::<Sha256>::new_from_slice(b"seam").expect("HMAC takes any key length")
}

/// `sha256=<lowercase hex HMAC-SHA256(app_secret, body)>`: the value Meta puts in
/// `X-Hub-Signature-256`.
pub fn hub_signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac = mac(app_secret.as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `hex(HMAC-SHA256(app_secret, access_token))`: proves to the Graph API that a call with this
/// token comes from the app's own server.
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    let mut mac = mac(app_secret.as_bytes());
    mac.update(access_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The handshake (GET) or the body signature (POST) for any Meta channel.
pub fn verify(settings: &Settings, hook: &Hook<'_>) -> Result<Check, HookError> {
    if hook.method.eq_ignore_ascii_case("GET") {
        handshake(settings, hook.query)
    } else if hook.method.eq_ignore_ascii_case("POST") {
        let secret = settings
            .credential("app_secret")
            .ok_or_else(|| HookError::Unauthorized("the channel has no app secret".into()))?;
        let header = hook.header(SIGNATURE_HEADER).ok_or_else(|| {
            HookError::Unauthorized(format!("the {SIGNATURE_HEADER} header is missing"))
        })?;
        if signature_matches(secret, header, hook.body) {
            Ok(Check::Accepted)
        } else {
            Err(HookError::Unauthorized(format!(
                "the {SIGNATURE_HEADER} signature does not match"
            )))
        }
    } else {
        Err(HookError::Unauthorized(format!(
            "{} is not a webhook method",
            hook.method
        )))
    }
}

/// Meta's subscription check: `hub.mode=subscribe` and the channel's `verify_token` give back
/// `hub.challenge`; anything else is refused.
fn handshake(settings: &Settings, query: &str) -> Result<Check, HookError> {
    let (mut mode, mut token, mut challenge) = (None, None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "hub.mode" => mode = Some(value.into_owned()),
            "hub.verify_token" => token = Some(value.into_owned()),
            "hub.challenge" => challenge = Some(value.into_owned()),
            _ => {}
        }
    }
    let refused = |reason: &str| Err(HookError::Unauthorized(reason.to_string()));
    if mode.as_deref() != Some("subscribe") {
        return refused("hub.mode is not subscribe");
    }
    let Some(expected) = settings.config_str("verify_token") else {
        return refused("the channel has no verify token");
    };
    let Some(token) = token else {
        return refused("hub.verify_token is missing");
    };
    if !bool::from(token.as_bytes().ct_eq(expected.as_bytes())) {
        return refused("hub.verify_token does not match");
    }
    match challenge {
        Some(challenge) => Ok(Check::Challenge(challenge)),
        None => refused("hub.challenge is missing"),
    }
}

/// Compares `sha256=<hex>` with the HMAC of `body` in constant time. Meta signs the body as
/// it sent it, so only the raw bytes will do.
fn signature_matches(app_secret: &str, header: &str, body: &[u8]) -> bool {
    let Some(hex_signature) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(signature) = hex::decode(hex_signature) else {
        return false;
    };
    let mut mac = mac(app_secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}
