//! Identities: typed, normalised addresses of a customer. Parsing happens here, at the edge,
//! so the rest of the domain only ever sees normalised values.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The kinds of address a customer can be known by (design §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    ExternalId,
    Email,
    Phone,
    Whatsapp,
    Messenger,
    Instagram,
    Telegram,
    Line,
    Visitor,
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::ExternalId => "external_id",
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::Whatsapp => "whatsapp",
            IdentityKind::Messenger => "messenger",
            IdentityKind::Instagram => "instagram",
            IdentityKind::Telegram => "telegram",
            IdentityKind::Line => "line",
            IdentityKind::Visitor => "visitor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "external_id" => IdentityKind::ExternalId,
            "email" => IdentityKind::Email,
            "phone" => IdentityKind::Phone,
            "whatsapp" => IdentityKind::Whatsapp,
            "messenger" => IdentityKind::Messenger,
            "instagram" => IdentityKind::Instagram,
            "telegram" => IdentityKind::Telegram,
            "line" => IdentityKind::Line,
            "visitor" => IdentityKind::Visitor,
            _ => return None,
        })
    }

    /// Resolution priority: a lower number wins when identities point at different customers.
    pub fn priority(self) -> u8 {
        match self {
            IdentityKind::ExternalId => 0,
            IdentityKind::Email => 1,
            IdentityKind::Phone => 2,
            IdentityKind::Whatsapp
            | IdentityKind::Messenger
            | IdentityKind::Instagram
            | IdentityKind::Telegram
            | IdentityKind::Line => 3,
            IdentityKind::Visitor => 4,
        }
    }
}

/// A normalised identity. Construct it only through the `parse_*` functions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

/// Longest identity value we accept; longer input is refused, not truncated.
const MAX_IDENTITY_LEN: usize = 254;

impl Identity {
    /// Rebuilds an identity that was normalised before it was stored.
    pub fn from_stored(kind: IdentityKind, value: String) -> Self {
        Identity { kind, value }
    }

    /// Email: trimmed, lower-cased, domain converted to its IDNA ASCII form.
    pub fn parse_email(field: &str, raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let invalid = |reason: &str| Error::invalid(field, reason);
        if trimmed.is_empty() {
            return Err(invalid("is empty"));
        }
        if trimmed.len() > MAX_IDENTITY_LEN {
            return Err(invalid("is longer than 254 characters"));
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or_else(|| invalid("has no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("has an empty or over-long local part"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        {
            return Err(invalid("has a space or control character"));
        }
        let ascii_domain = idna::domain_to_ascii(domain)
            .map_err(|_| invalid("has a domain that is not a valid host name"))?;
        let labels: Vec<&str> = ascii_domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
            return Err(invalid("has a domain without a dot"));
        }
        if !ascii_domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(invalid("has a domain that is not a valid host name"));
        }
        Ok(Identity {
            kind: IdentityKind::Email,
            value: format!("{}@{}", local.to_lowercase(), ascii_domain.to_lowercase()),
        })
    }

    /// Phone: E.164, national numbers read in the workspace's default region.
    pub fn parse_phone(field: &str, raw: &str, default_region: &str) -> Result<Self> {
        let trimmed = raw.trim().trim_start_matches("tel:");
        if trimmed.is_empty() {
            return Err(Error::invalid(field, "is empty"));
        }
        // The `00` international call prefix means the same as `+` (channels.md §11).
        let candidate = match trimmed.strip_prefix("00") {
            Some(international) => format!("+{international}"),
            None => trimmed.to_string(),
        };
        let region = default_region.parse::<phonenumber::country::Id>().ok();
        let number = phonenumber::parse(region, &candidate)
            .map_err(|_| Error::invalid(field, "is not a phone number"))?;
        if !phonenumber::is_valid(&number) {
            return Err(Error::invalid(
                field,
                "is not a valid phone number for its region",
            ));
        }
        Ok(Identity {
            kind: IdentityKind::Phone,
            value: number.format().mode(phonenumber::Mode::E164).to_string(),
        })
    }

    /// An opaque id (external user id, visitor id, provider user id): trimmed, kept verbatim.
    pub fn parse_opaque(kind: IdentityKind, field: &str, raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid(field, "is empty"));
        }
        if trimmed.len() > MAX_IDENTITY_LEN {
            return Err(Error::invalid(field, "is longer than 254 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::invalid(field, "has a control character"));
        }
        Ok(Identity {
            kind,
            value: trimmed.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_lowercased_and_idna_encoded() {
        let identity = Identity::parse_email("email", "  Ali@Bücher.Example ").unwrap();
        assert_eq!(identity.value, "ali@xn--bcher-kva.example");
    }

    #[test]
    fn email_without_at_or_dot_is_refused() {
        assert!(Identity::parse_email("email", "nobody").is_err());
        assert!(Identity::parse_email("email", "a@localhost").is_err());
        assert!(Identity::parse_email("email", "a b@example.com").is_err());
    }

    #[test]
    fn phone_numbers_become_e164_in_the_default_region() {
        let cases = [
            ("+1 (650) 253-0000", "US", "+16502530000"),
            ("020 7031 3000", "GB", "+442070313000"),
            ("0049 30 123456", "US", "+4930123456"),
            ("02 3661 8300", "IT", "+390236618300"),
            ("16502530000", "US", "+16502530000"),
        ];
        for (raw, region, expected) in cases {
            let identity = Identity::parse_phone("phone", raw, region).unwrap();
            assert_eq!(identity.value, expected, "{raw} in {region}");
        }
    }

    #[test]
    fn short_codes_and_garbage_are_not_phone_numbers() {
        assert!(Identity::parse_phone("phone", "12345", "US").is_err());
        assert!(Identity::parse_phone("phone", "call me", "US").is_err());
    }
}
