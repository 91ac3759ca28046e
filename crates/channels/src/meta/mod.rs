//! Meta's messaging platforms as adapters: WhatsApp Cloud API, Messenger and Instagram. They
//! share the webhook handshake and `X-Hub-Signature-256` check (`signature`) and the Graph
//! API's error rules (`graph`); each platform has its payloads and its Send API. No database
//! access.

mod graph;
mod messenger;
mod messenger_inbound;
mod signature;
mod whatsapp;
mod whatsapp_inbound;

pub use messenger::{INSTAGRAM, MESSENGER, Messenger, Platform};
pub use signature::{SIGNATURE_HEADER, appsecret_proof, hub_signature};
pub use whatsapp::{WHATSAPP_CLOUD, WhatsappCloud};

use crate::messaging::Settings;

/// Meta's Graph API, unless the channel's `base_url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version, unless the channel's `api_version` says otherwise.
pub const DEFAULT_API_VERSION: &str = "v21.0";

fn api_version(settings: &Settings) -> &str {
    settings
        .config_str("api_version")
        .unwrap_or(DEFAULT_API_VERSION)
        .trim_matches('/')
}
