//! Duplicate suggestions: pairs of customers that are probably one person, with the reason,
//! for an agent to merge or dismiss. The store finds them by joining on indexed keys (the
//! folded name and each identity's match key), never by comparing every customer with every
//! other; this module defines those keys, the reasons and their rank.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    conversation::page_size,
    identity::{Identity, IdentityKind},
    ids::{CustomerId, UserId, WorkspaceId},
    ports::Store,
    user::{Actor, Permission},
};

/// Email domains shared by strangers: a shared one says nothing about two people.
pub const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "mail.ru",
    "yandex.ru",
    "gmx.com",
    "gmx.de",
    "web.de",
];

/// Digits compared for "the same phone number stored differently" …
pub const PHONE_SUFFIX_DIGITS: usize = 9;
/// … and for "same name and a phone ending alike" (a suffix of the former).
pub const NAME_PHONE_SUFFIX_DIGITS: usize = 7;

/// The key an identity is matched on for duplicates, stored beside it: an email's domain; the
/// last 9 digits of a phone or WhatsApp number; `None` for other kinds.
pub fn match_key(identity: &Identity) -> Option<String> {
    match identity.kind {
        IdentityKind::Email => identity
            .value
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_string())
            .filter(|domain| !domain.is_empty()),
        IdentityKind::Phone | IdentityKind::Whatsapp => {
            let digits: Vec<char> = identity
                .value
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            (digits.len() >= PHONE_SUFFIX_DIGITS).then(|| {
                digits[digits.len() - PHONE_SUFFIX_DIGITS..]
                    .iter()
                    .collect()
            })
        }
        _ => None,
    }
}

/// Why two customers look like one person, strongest first (the order of [`rank`]).
///
/// [`rank`]: DuplicateReason::rank
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Names equal after folding, and an email domain in common (not a free-mail one).
    SameNameAndEmailDomain,
    /// Names equal after folding, and phone numbers ending in the same 7 digits.
    SameNameAndPhoneSuffix,
    /// Phone numbers whose last 9 digits are equal though stored differently (a number once
    /// parsed with the wrong region).
    SamePhoneDigits,
    /// Names equal after folding, nothing else.
    SameName,
}

impl DuplicateReason {
    /// 1 for the strongest reason; the store orders by it.
    pub fn rank(self) -> i32 {
        match self {
            DuplicateReason::SameNameAndEmailDomain => 1,
            DuplicateReason::SameNameAndPhoneSuffix => 2,
            DuplicateReason::SamePhoneDigits => 3,
            DuplicateReason::SameName => 4,
        }
    }

    pub fn from_rank(rank: i32) -> Option<Self> {
        Some(match rank {
            1 => DuplicateReason::SameNameAndEmailDomain,
            2 => DuplicateReason::SameNameAndPhoneSuffix,
            3 => DuplicateReason::SamePhoneDigits,
            4 => DuplicateReason::SameName,
            _ => return None,
        })
    }
}

/// Two customers that are probably one person; `customer_a < customer_b`. When several
/// reasons hold, the strongest is given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
    pub reason: DuplicateReason,
}

impl DuplicatePair {
    fn cursor(&self) -> DuplicateCursor {
        DuplicateCursor {
            rank: self.reason.rank(),
            customer_a: self.customer_a,
            customer_b: self.customer_b,
        }
    }
}

/// Where the next page of suggestions starts: the (rank, customer_a, customer_b) of the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplicateCursor {
    pub rank: i32,
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
}

impl DuplicateCursor {
    pub fn encode(&self) -> String {
        let raw = format!("{}|{}|{}", self.rank, self.customer_a, self.customer_b);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(text: &str) -> Result<Self> {
        let invalid = || Error::invalid("cursor", "is not a cursor this server issued");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| invalid())?;
        let raw = String::from_utf8(raw).map_err(|_| invalid())?;
        let mut parts = raw.split('|');
        let (Some(rank), Some(a), Some(b), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        Ok(DuplicateCursor {
            rank: rank.parse().map_err(|_| invalid())?,
            customer_a: CustomerId::parse(a).ok_or_else(invalid)?,
            customer_b: CustomerId::parse(b).ok_or_else(invalid)?,
        })
    }
}

/// One page of suggestions, strongest first.
#[derive(Clone, Debug, PartialEq)]
pub struct DuplicatePage {
    pub items: Vec<DuplicatePair>,
    pub next_cursor: Option<DuplicateCursor>,
}

impl DuplicatePage {
    /// A page from up to `limit + 1` pairs read in order: the extra one only says there is more.
    pub fn from_rows(mut items: Vec<DuplicatePair>, limit: u32) -> Self {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(DuplicatePair::cursor)
        } else {
            None
        };
        DuplicatePage { items, next_cursor }
    }
}

/// An agent's "these two are not the same person": the pair is no longer suggested.
#[derive(Clone, Debug, PartialEq)]
pub struct Dismissal {
    pub workspace_id: WorkspaceId,
    /// The smaller id of the pair.
    pub customer_a: CustomerId,
    pub customer_b: CustomerId,
    pub dismissed_by: UserId,
    pub created_at: Timestamp,
}

pub async fn list_duplicates(
    store: &dyn Store,
    actor: &Actor,
    cursor: Option<&DuplicateCursor>,
    limit: Option<u32>,
) -> Result<DuplicatePage> {
    actor.require(Permission::ReadCustomers)?;
    let limit = page_size(limit)?;
    store
        .list_duplicates(actor.workspace_id, cursor, limit)
        .await
}

/// Stops suggesting the pair `customer_ids` (two different customers of the workspace).
/// Dismissing a pair twice is not an error.
pub async fn dismiss_duplicate(
    store: &dyn Store,
    actor: &Actor,
    customer_ids: &[CustomerId],
    now: Timestamp,
) -> Result<()> {
    actor.require(Permission::UpdateCustomers)?;
    let [first, second] = customer_ids else {
        return Err(Error::invalid(
            "customer_ids",
            "must name exactly two customers",
        ));
    };
    if first == second {
        return Err(Error::invalid(
            "customer_ids",
            "must name two different customers",
        ));
    }
    for id in [first, second] {
        if store
            .get_customer_profile(actor.workspace_id, *id)
            .await?
            .is_none()
        {
            return Err(Error::NotFound);
        }
    }
    let (customer_a, customer_b) = if first < second {
        (*first, *second)
    } else {
        (*second, *first)
    };
    store
        .insert_duplicate_dismissal(&Dismissal {
            workspace_id: actor.workspace_id,
            customer_a,
            customer_b,
            dismissed_by: actor.user_id,
            created_at: now,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(kind: IdentityKind, value: &str) -> Identity {
        Identity::from_stored(kind, value.to_string())
    }

    #[test]
    fn an_email_is_matched_on_its_domain_and_a_phone_on_its_last_nine_digits() {
        assert_eq!(
            match_key(&identity(IdentityKind::Email, "layla@acme.example")).as_deref(),
            Some("acme.example")
        );
        assert_eq!(
            match_key(&identity(IdentityKind::Phone, "+989121234567")).as_deref(),
            Some("121234567")
        );
        assert_eq!(
            match_key(&identity(IdentityKind::Whatsapp, "989121234567")).as_deref(),
            Some("121234567")
        );
        assert_eq!(match_key(&identity(IdentityKind::Phone, "+1234")), None);
        assert_eq!(match_key(&identity(IdentityKind::Visitor, "v-1")), None);
    }

    #[test]
    fn a_duplicate_cursor_survives_its_round_trip_and_garbage_is_refused() {
        let cursor = DuplicateCursor {
            rank: 3,
            customer_a: CustomerId::new(),
            customer_b: CustomerId::new(),
        };
        assert_eq!(DuplicateCursor::decode(&cursor.encode()).ok(), Some(cursor));
        assert!(DuplicateCursor::decode("garbage").is_err());
    }

    #[test]
    fn ranks_and_reasons_correspond_one_to_one() {
        for reason in [
            DuplicateReason::SameNameAndEmailDomain,
            DuplicateReason::SameNameAndPhoneSuffix,
            DuplicateReason::SamePhoneDigits,
            DuplicateReason::SameName,
        ] {
            assert_eq!(DuplicateReason::from_rank(reason.rank()), Some(reason));
        }
    }
}
