//! Delivery status notifications (RFC 3464): `multipart/report; report-type=delivery-status`
//! with a `message/delivery-status` part, and the returned message or its headers.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use seam_core::email::Bounce;

use super::headers;

/// The bounce a message reports, if it is a delivery status notification.
pub(super) fn detect(message: &Message<'_>) -> Option<Bounce> {
    let root = message.root_part();
    let content_type = root.content_type()?;
    let is_report = content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|sub| sub.eq_ignore_ascii_case("report"))
        && content_type
            .attribute("report-type")
            .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }

    let mut bounce = Bounce::default();
    let mut action = None;
    for part in &message.parts {
        let Some(part_type) = part.content_type() else {
            continue;
        };
        let main = part_type.ctype().to_ascii_lowercase();
        let sub = part_type.subtype().unwrap_or_default().to_ascii_lowercase();
        match (main.as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status")
                if bounce.status.is_none() =>
            {
                action = read_status(&body_text(&part.body), &mut bounce);
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(returned) = &part.body {
                    push_id(&mut bounce.original_message_ids, returned.message_id());
                }
            }
            ("text", "rfc822-headers" | "global-headers") => {
                let text = body_text(&part.body);
                if let Some(headers) = MessageParser::default().parse_headers(text.as_bytes()) {
                    push_id(&mut bounce.original_message_ids, headers.message_id());
                }
            }
            _ => {}
        }
    }
    for id in headers::ids(message.in_reply_to())
        .into_iter()
        .chain(headers::ids(message.references()))
    {
        if !bounce.original_message_ids.contains(&id) {
            bounce.original_message_ids.push(id);
        }
    }
    let status_class = bounce
        .status
        .as_deref()
        .and_then(|status| status.chars().next());
    bounce.permanent = match status_class {
        Some(class) => class == '5',
        None => action.as_deref() == Some("failed"),
    };
    Some(bounce)
}

fn push_id(ids: &mut Vec<String>, id: Option<&str>) {
    if let Some(id) = id.and_then(headers::clean_id)
        && !ids.contains(&id)
    {
        ids.push(id);
    }
}

fn body_text(body: &PartType<'_>) -> String {
    match body {
        PartType::Text(text) | PartType::Html(text) => text.to_string(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
            String::from_utf8_lossy(bytes).into_owned()
        }
        PartType::Message(message) => String::from_utf8_lossy(message.raw_message()).into_owned(),
        PartType::Multipart(_) => String::new(),
    }
}

/// Reads the first recipient's fields of a `message/delivery-status` body into `bounce`;
/// returns its `Action`, lower-cased.
fn read_status(body: &str, bounce: &mut Bounce) -> Option<String> {
    let mut action = None;
    // Groups are separated by blank lines: the per-message fields, then one group per
    // recipient. The first recipient group with a Status or Action is the one reported.
    for group in groups(body) {
        let mut status = None;
        let mut group_action = None;
        let mut recipient = None;
        let mut original = None;
        let mut diagnostic = None;
        for (name, value) in group {
            match name.as_str() {
                "status" => status = value.split_whitespace().next().map(str::to_owned),
                "action" => group_action = Some(value.to_ascii_lowercase()),
                "final-recipient" => recipient = Some(address_of(&value)),
                "original-recipient" => original = Some(address_of(&value)),
                "diagnostic-code" => diagnostic = Some(strip_type(&value).to_owned()),
                _ => {}
            }
        }
        if status.is_none() && group_action.is_none() {
            continue;
        }
        bounce.status = status.filter(|status| is_status_code(status));
        bounce.recipient = recipient.or(original).filter(|address| !address.is_empty());
        bounce.diagnostic = diagnostic.filter(|text| !text.is_empty());
        action = group_action;
        break;
    }
    action
}

/// The `name: value` fields of each blank-line-separated group, names lower-cased, folded
/// lines joined.
fn groups(body: &str) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// `rfc822; user@example.com` -> `user@example.com`, lower-cased.
fn address_of(value: &str) -> String {
    strip_type(value)
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_lowercase()
}

/// Removes an RFC 3464 type prefix (`rfc822;`, `smtp;`, `utf-8;`).
fn strip_type(value: &str) -> &str {
    match value.split_once(';') {
        Some((kind, rest))
            if !kind.trim().is_empty()
                && kind
                    .trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            rest.trim()
        }
        _ => value.trim(),
    }
}

/// `class.subject.detail`, e.g. `5.1.1` (RFC 3463).
fn is_status_code(status: &str) -> bool {
    let parts: Vec<&str> = status.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..].iter().all(|part| {
            !part.is_empty() && part.len() <= 3 && part.chars().all(|c| c.is_ascii_digit())
        })
}
