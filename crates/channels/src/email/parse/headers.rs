//! Reading header fields: addresses, message ids, dates, and the signs of machine-sent mail.

use mail_parser::{Address as MailAddress, HeaderValue, Message};
use seam_core::Timestamp;

use super::Address;

/// At most this many ids are read from one In-Reply-To or References field.
const MAX_IDS: usize = 100;
/// A message id longer than this is not one.
const MAX_ID_BYTES: usize = 998;

pub(super) fn addresses(address: &MailAddress<'_>) -> Vec<Address> {
    let all: Vec<&mail_parser::Addr<'_>> = match address {
        MailAddress::List(list) => list.iter().collect(),
        MailAddress::Group(groups) => groups.iter().flat_map(|group| &group.addresses).collect(),
    };
    all.into_iter()
        .filter_map(|addr| {
            let email = addr.address.as_deref()?.trim();
            if !looks_like_address(email) {
                return None;
            }
            let name = addr
                .name
                .as_deref()
                .map(|name| name.trim().trim_matches('"').trim().to_owned())
                .filter(|name| !name.is_empty() && name != email);
            Some(Address {
                name,
                email: email.to_owned(),
            })
        })
        .collect()
}

pub(super) fn first_address(address: &MailAddress<'_>) -> Option<Address> {
    addresses(address).into_iter().next()
}

fn looks_like_address(email: &str) -> bool {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && email.len() <= 320
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// A message id without angle brackets or surrounding space; `None` when nothing is left.
pub(super) fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && id.len() <= MAX_ID_BYTES && !id.chars().any(char::is_whitespace))
        .then(|| id.to_owned())
}

/// The ids of an In-Reply-To or References field, in order, without duplicates.
pub(super) fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for id in raw.into_iter().filter_map(clean_id) {
        if out.len() == MAX_IDS {
            break;
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub(super) fn timestamp(date: &mail_parser::DateTime) -> Option<Timestamp> {
    if !date.is_valid() {
        return None;
    }
    chrono::DateTime::from_timestamp(date.to_timestamp(), 0)
}

/// The raw value of the first header named `name` (case-insensitive), unfolded and trimmed.
pub(super) fn raw_header(message: &Message<'_>, name: &str) -> Option<String> {
    let header = message
        .headers()
        .iter()
        .find(|header| header.name().eq_ignore_ascii_case(name))?;
    let bytes = message
        .raw_message()
        .get(header.offset_start() as usize..header.offset_end() as usize)?;
    let value = String::from_utf8_lossy(bytes);
    Some(
        value
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The `Return-Path` address, `Some("")` for the null sender `<>`.
pub(super) fn return_path(message: &Message<'_>) -> Option<String> {
    let value = raw_header(message, "Return-Path")?;
    let value = value.trim();
    let address = value
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map_or(value, |(inside, _)| inside)
        .trim();
    Some(address.to_owned())
}

/// Why the message looks machine-sent (RFC 3834 and the headers mailers use in practice), or
/// `None` for mail a person wrote.
pub(super) fn automated_reason(
    message: &Message<'_>,
    return_path: Option<&str>,
    is_bounce: bool,
) -> Option<String> {
    if is_bounce {
        return Some("delivery status report (bounce)".to_owned());
    }
    if let Some(value) = raw_header(message, "Auto-Submitted") {
        let kind = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        if kind != "no" {
            return Some(format!("Auto-Submitted: {value}"));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Loop"] {
        if let Some(value) = raw_header(message, name) {
            return Some(format!("{name}: {value}"));
        }
    }
    if let Some(value) = raw_header(message, "Precedence") {
        let lowered = value.to_lowercase();
        if ["bulk", "list", "junk", "auto_reply", "auto-reply"].contains(&lowered.as_str()) {
            return Some(format!("Precedence: {value}"));
        }
    }
    if let Some(value) = raw_header(message, "X-Auto-Response-Suppress") {
        let suppresses = value
            .split(',')
            .map(|item| item.trim().to_lowercase())
            .any(|item| item == "all" || item == "oof");
        if suppresses {
            return Some(format!("X-Auto-Response-Suppress: {value}"));
        }
    }
    for name in ["List-Id", "List-Unsubscribe"] {
        if raw_header(message, name).is_some() {
            return Some(format!("{name} header (mailing list)"));
        }
    }
    if return_path == Some("") {
        return Some("null sender (Return-Path: <>)".to_owned());
    }
    None
}
