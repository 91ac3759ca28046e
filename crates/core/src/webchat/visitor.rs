//! Who is on the other end of a widget connection. A visitor is known by an anonymous id the
//! server issues together with a token (an HMAC of the id), so that nobody can take over
//! another visitor's id; the page may add a user id signed by the site's own server
//! (`user_hash`), and the pre-chat form a name and an email, which are claims only.

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{
    Error, Result,
    channel::{Channel, ChannelKind},
    identity::IdentityKind,
    inbound::RawIdentity,
};

type HmacSha256 = Hmac<Sha256>;

/// What the widget says about itself when it connects (the `hello` frame).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub visitor_id: Option<String>,
    pub visitor_token: Option<String>,
    pub user_id: Option<String>,
    pub user_hash: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A visitor whose credentials were checked: everything it may see and do is scoped by it.
#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    pub channel: Channel,
    pub visitor_id: String,
    /// Give this back to the widget; it proves `visitor_id` on the next connection.
    pub visitor_token: String,
    /// The site's user id, present only when its `user_hash` was right.
    pub verified_user_id: Option<String>,
    /// Whether a user id was offered with a wrong or missing hash (and so ignored).
    pub user_id_rejected: bool,
    pub name: Option<String>,
    /// A claim from the pre-chat form; never verified.
    pub email: Option<String>,
}

const VISITOR_KEY_LABEL: &[u8] = b"seam widget visitor token v1";

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex_equal(expected: &[u8], given_hex: &str) -> bool {
    match hex::decode(given_hex.trim()) {
        Ok(given) => !expected.is_empty() && bool::from(expected.ct_eq(&given)),
        Err(_) => false,
    }
}

/// The token that proves a visitor id: HMAC-SHA256 under a key derived from the channel
/// secret (never the secret itself, so a token is no `user_hash` for any user id).
pub fn visitor_token(channel: &Channel, visitor_id: &str) -> String {
    let key = mac(channel.secret.as_bytes(), VISITOR_KEY_LABEL);
    hex::encode(mac(&key, visitor_id.as_bytes()))
}

/// Whether `token` proves `visitor_id`, compared in constant time.
pub fn visitor_token_valid(channel: &Channel, visitor_id: &str, token: &str) -> bool {
    let key = mac(channel.secret.as_bytes(), VISITOR_KEY_LABEL);
    hex_equal(&mac(&key, visitor_id.as_bytes()), token)
}

/// Identity verification: `user_hash` must be hex HMAC-SHA256(channel secret, user_id), the
/// value the site's server computes. Compared in constant time.
pub fn user_hash_valid(channel: &Channel, user_id: &str, user_hash: &str) -> bool {
    hex_equal(
        &mac(channel.secret.as_bytes(), user_id.as_bytes()),
        user_hash,
    )
}

/// A fresh anonymous visitor id: 128 random bits.
pub fn new_visitor_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("v_{}", hex::encode(bytes))
}

fn optional_text(value: Option<String>, field: &str, max_chars: usize) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("must have at most {max_chars} characters and no control characters"),
        ));
    }
    Ok(Some(value))
}

/// Checks a `hello`: keeps the visitor id only when its token proves it (otherwise issues a
/// new one), keeps the user id only when its hash is right. Pure: no storage involved.
pub fn admit(channel: &Channel, hello: Hello) -> Result<Visitor> {
    if channel.kind != ChannelKind::Webchat {
        return Err(Error::NotFound);
    }
    let proven = match (&hello.visitor_id, &hello.visitor_token) {
        (Some(id), Some(token)) if visitor_token_valid(channel, id, token) => Some(id.clone()),
        _ => None,
    };
    let visitor_id = proven.unwrap_or_else(new_visitor_id);
    let user_id = optional_text(hello.user_id, "user_id", 254)?;
    let verified_user_id = match (&user_id, &hello.user_hash) {
        (Some(user_id), Some(hash)) if user_hash_valid(channel, user_id, hash) => {
            Some(user_id.clone())
        }
        _ => None,
    };
    Ok(Visitor {
        visitor_token: visitor_token(channel, &visitor_id),
        visitor_id,
        user_id_rejected: user_id.is_some() && verified_user_id.is_none(),
        verified_user_id,
        name: optional_text(hello.name, "name", 200)?,
        email: optional_text(hello.email, "email", 254)?,
        channel: channel.clone(),
    })
}

impl Visitor {
    /// The identities a message from this visitor carries: the visitor id (the channel's own
    /// id, so verified), the site's user id when its hash was right, and the pre-chat email
    /// as an unverified claim.
    pub fn sender(&self) -> Vec<RawIdentity> {
        let mut sender = vec![RawIdentity {
            kind: IdentityKind::Visitor,
            value: self.visitor_id.clone(),
            field: "visitor_id".into(),
            verified: true,
        }];
        if let Some(user_id) = &self.verified_user_id {
            sender.push(RawIdentity {
                kind: IdentityKind::ExternalId,
                value: user_id.clone(),
                field: "user_id".into(),
                verified: true,
            });
        }
        if let Some(email) = &self.email {
            sender.push(RawIdentity {
                kind: IdentityKind::Email,
                value: email.clone(),
                field: "email".into(),
                verified: false,
            });
        }
        sender
    }

    /// The provider message id of a widget message: the client id, scoped to the visitor so
    /// that one visitor's ids never collide with another's.
    pub fn provider_message_id(&self, client_id: &str) -> String {
        format!("{}:{client_id}", self.visitor_id)
    }

    /// The client id back from a provider message id this visitor produced.
    pub fn client_id_of<'a>(&self, provider_message_id: &'a str) -> Option<&'a str> {
        provider_message_id
            .strip_prefix(self.visitor_id.as_str())
            .and_then(|rest| rest.strip_prefix(':'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ChannelId, WorkspaceId};

    pub(crate) fn channel() -> Channel {
        Channel {
            id: ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            kind: ChannelKind::Webchat,
            name: "Site".into(),
            config: serde_json::json!({"allowed_origins": ["https://shop.example"]}),
            secret: "channel-secret".into(),
            credentials: String::new(),
            created_at: chrono::Utc::now(),
        }
    }

    fn hmac_hex(key: &str, message: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).unwrap();
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_proven_visitor_id_is_kept_and_an_unproven_one_replaced() {
        let channel = channel();
        let first = admit(&channel, Hello::default()).unwrap();
        assert!(first.visitor_id.starts_with("v_"));
        let again = admit(
            &channel,
            Hello {
                visitor_id: Some(first.visitor_id.clone()),
                visitor_token: Some(first.visitor_token.clone()),
                ..Hello::default()
            },
        )
        .unwrap();
        assert_eq!(again.visitor_id, first.visitor_id);
        let impostor = admit(
            &channel,
            Hello {
                visitor_id: Some(first.visitor_id.clone()),
                visitor_token: Some("00".repeat(32)),
                ..Hello::default()
            },
        )
        .unwrap();
        assert_ne!(impostor.visitor_id, first.visitor_id);
    }

    #[test]
    fn the_user_id_counts_only_with_the_sites_hmac() {
        let channel = channel();
        let good = hmac_hex("channel-secret", "user-42");
        let verified = admit(
            &channel,
            Hello {
                user_id: Some("user-42".into()),
                user_hash: Some(good.to_uppercase()),
                ..Hello::default()
            },
        )
        .unwrap();
        assert_eq!(verified.verified_user_id.as_deref(), Some("user-42"));
        let kinds: Vec<_> = verified
            .sender()
            .iter()
            .map(|raw| (raw.kind, raw.verified))
            .collect();
        assert_eq!(
            kinds,
            [
                (IdentityKind::Visitor, true),
                (IdentityKind::ExternalId, true)
            ]
        );
        let forged = admit(
            &channel,
            Hello {
                user_id: Some("user-42".into()),
                user_hash: Some(hmac_hex("another-secret", "user-42")),
                email: Some("ana@example.com".into()),
                ..Hello::default()
            },
        )
        .unwrap();
        assert_eq!(forged.verified_user_id, None);
        assert!(forged.user_id_rejected);
        let kinds: Vec<_> = forged
            .sender()
            .iter()
            .map(|raw| (raw.kind, raw.verified))
            .collect();
        assert_eq!(
            kinds,
            [(IdentityKind::Visitor, true), (IdentityKind::Email, false)]
        );
    }

    #[test]
    fn a_visitor_token_is_not_a_user_hash_of_the_visitor_id() {
        let channel = channel();
        let visitor = admit(&channel, Hello::default()).unwrap();
        assert!(!user_hash_valid(
            &channel,
            &visitor.visitor_id,
            &visitor.visitor_token
        ));
    }

    #[test]
    fn client_ids_are_scoped_to_their_visitor() {
        let visitor = admit(&channel(), Hello::default()).unwrap();
        let provider_id = visitor.provider_message_id("c-1");
        assert_eq!(visitor.client_id_of(&provider_id), Some("c-1"));
        assert_eq!(visitor.client_id_of("v_other:c-1"), None);
    }
}
