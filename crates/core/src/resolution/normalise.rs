//! From raw sender addresses to claims: normalisation per identity kind, and the blocked values
//! (junk such as `null`, `anonymous`, `test@test.com`) that never identify anybody.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    identity::{Identity, IdentityKind},
    inbound::RawIdentity,
    workspace::Workspace,
};

/// One normalised identity offered to resolution, and whether the channel proved it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub identity: Identity,
    /// Proven (a provider id, a signed widget id, a trusted server-side call) rather than typed
    /// in by whoever is on the other end. Unverified claims never merge customers.
    pub verified: bool,
}

/// An address that was left out of resolution, and why. Reported to the caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoredIdentity {
    /// Where it was in the request, e.g. `from.email`.
    pub field: String,
    pub kind: IdentityKind,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalised {
    pub claims: Vec<Claim>,
    pub ignored: Vec<IgnoredIdentity>,
}

/// Values that are placeholders, not addresses, whatever the workspace says.
const BUILT_IN_BLOCKED: &[&str] = &[
    "",
    "null",
    "nil",
    "none",
    "undefined",
    "anonymous",
    "unknown",
    "0",
    "-1",
    "test@test.com",
    "test@example.com",
    "noreply@example.com",
];

const PLACEHOLDER: &str = "is a placeholder value that identifies nobody";
const BLOCKED: &str = "is blocked in this workspace";

/// Why `raw` (as given) or its `normalised` form identifies nobody, if it does not.
pub fn blocked_reason(
    workspace: &Workspace,
    raw: &str,
    normalised: Option<&str>,
) -> Option<&'static str> {
    let raw = raw.trim().to_lowercase();
    let equals = |value: &str| {
        raw == value || normalised.is_some_and(|normalised| normalised.eq_ignore_ascii_case(value))
    };
    if BUILT_IN_BLOCKED.iter().any(|value| equals(value)) {
        return Some(PLACEHOLDER);
    }
    workspace
        .identity_rules
        .blocked
        .iter()
        .any(|value| equals(value.trim().to_lowercase().as_str()))
        .then_some(BLOCKED)
}

/// Normalises the sender's addresses with the workspace's rules. Blocked values are left out
/// and reported; a value that is not blocked but cannot be read (an email without `@`) is an
/// error naming its field. Repeated identities collapse into one claim, verified if any
/// repetition was.
pub fn normalise(workspace: &Workspace, sender: &[RawIdentity]) -> Result<Normalised> {
    let mut normalised = Normalised::default();
    for raw in sender {
        // Placeholders are often not even well-formed (`null` as an email): check them first.
        let reason = match BUILT_IN_BLOCKED.contains(&raw.value.trim().to_lowercase().as_str()) {
            true => Some(PLACEHOLDER),
            false => None,
        };
        let identity = match reason {
            Some(_) => None,
            None => Some(parse(workspace, raw)?),
        };
        let reason = reason.or_else(|| {
            identity
                .as_ref()
                .and_then(|identity| blocked_reason(workspace, &raw.value, Some(&identity.value)))
        });
        let (Some(identity), None) = (identity, reason) else {
            normalised.ignored.push(IgnoredIdentity {
                field: raw.field.clone(),
                kind: raw.kind,
                reason: reason.unwrap_or(PLACEHOLDER).to_string(),
            });
            continue;
        };
        match normalised
            .claims
            .iter_mut()
            .find(|claim| claim.identity == identity)
        {
            Some(claim) => claim.verified |= raw.verified,
            None => normalised.claims.push(Claim {
                identity,
                verified: raw.verified,
            }),
        }
    }
    Ok(normalised)
}

/// One identity by its kind's rule. A WhatsApp id is a phone number: the person on SMS and on
/// WhatsApp is one customer.
fn parse(workspace: &Workspace, raw: &RawIdentity) -> Result<Identity> {
    match raw.kind {
        IdentityKind::Email => Identity::parse_email(&raw.field, &raw.value),
        IdentityKind::Phone | IdentityKind::Whatsapp => {
            // WhatsApp's wa_id carries no `+`; it is always international.
            let value = if raw.kind == IdentityKind::Whatsapp
                && raw.value.trim().chars().all(|c| c.is_ascii_digit())
            {
                format!("+{}", raw.value.trim())
            } else {
                raw.value.clone()
            };
            Identity::parse_phone(&raw.field, &value, &workspace.default_region)
        }
        kind => Identity::parse_opaque(kind, &raw.field, &raw.value),
    }
}

/// Refuses a message or call whose every address was ignored.
pub fn require_some(normalised: &Normalised, field: &str) -> Result<()> {
    if normalised.claims.is_empty() {
        let reason = match normalised.ignored.first() {
            Some(ignored) => format!(
                "has no usable identity: {} {}",
                ignored.field, ignored.reason
            ),
            None => "has no identity".to_string(),
        };
        return Err(Error::invalid(field, reason));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn workspace(blocked: &[&str]) -> Workspace {
        let mut workspace = Workspace::new("Acme", "US", Timestamp::default());
        workspace.identity_rules.blocked = blocked.iter().map(|v| v.to_string()).collect();
        workspace
    }

    fn raw(kind: IdentityKind, value: &str, verified: bool) -> RawIdentity {
        RawIdentity {
            kind,
            value: value.to_string(),
            field: format!("from.{}", kind.as_str()),
            verified,
        }
    }

    #[test]
    fn placeholder_values_are_ignored_with_a_reason_and_real_ones_kept() {
        let sender = [
            raw(IdentityKind::ExternalId, "undefined", true),
            raw(IdentityKind::Email, " Test@Test.com ", true),
            raw(IdentityKind::Visitor, "anonymous", true),
            raw(IdentityKind::ExternalId, "-1", true),
            raw(IdentityKind::Phone, "+1 650 253 0000", true),
        ];

        let normalised = normalise(&workspace(&[]), &sender).unwrap();

        assert_eq!(normalised.claims.len(), 1);
        assert_eq!(normalised.claims[0].identity.value, "+16502530000");
        let fields: Vec<&str> = normalised
            .ignored
            .iter()
            .map(|i| i.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "from.external_id",
                "from.email",
                "from.visitor",
                "from.external_id"
            ]
        );
    }

    #[test]
    fn a_workspace_blocked_value_matches_after_normalisation() {
        let sender = [raw(IdentityKind::Email, "  Support@Acme.Example ", true)];

        let normalised = normalise(&workspace(&["support@acme.example"]), &sender).unwrap();

        assert!(normalised.claims.is_empty());
        assert_eq!(normalised.ignored[0].reason, "is blocked in this workspace");
        assert!(require_some(&normalised, "from").is_err());
    }

    #[test]
    fn a_whatsapp_id_is_the_same_phone_identity_as_the_sms_number() {
        let sender = [
            raw(IdentityKind::Whatsapp, "16502530000", true),
            raw(IdentityKind::Phone, "(650) 253-0000", false),
        ];

        let normalised = normalise(&workspace(&[]), &sender).unwrap();

        assert_eq!(normalised.claims.len(), 1);
        assert_eq!(normalised.claims[0].identity.kind, IdentityKind::Phone);
        assert!(normalised.claims[0].verified);
    }

    #[test]
    fn a_malformed_address_that_is_not_junk_is_an_error_naming_its_field() {
        let sender = [raw(IdentityKind::Email, "layla-at-example", true)];

        let error = normalise(&workspace(&[]), &sender).unwrap_err();

        assert!(matches!(error, Error::Invalid { field, .. } if field == "from.email"));
    }
}
