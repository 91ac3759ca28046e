//! Attachments and inline images: bytes, a safe file name, the content type sniffed from the
//! bytes, and the limits on size and count.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use seam_core::email::InboundAttachment;

use super::Limits;

/// A file name longer than this is cut (keeping the extension where it can).
const MAX_FILE_NAME_CHARS: usize = 200;

#[derive(Default)]
pub(super) struct Kept {
    pub attachments: Vec<InboundAttachment>,
    /// Lines for the message text about what was left out.
    pub notes: Vec<String>,
}

pub(super) fn collect(message: &Message<'_>, limits: &Limits) -> Kept {
    let mut attachments = Vec::new();
    let mut notes = Vec::new();
    let mut dropped_for_count = 0usize;
    for (index, part_id) in message.attachments.iter().enumerate() {
        let Some(part) = message.parts.get(*part_id as usize) else {
            continue;
        };
        let Some((bytes, is_message)) = bytes_of(part) else {
            continue;
        };
        let file_name = file_name(part, is_message, index + 1, &bytes);
        if bytes.len() > limits.max_attachment_bytes {
            notes.push(format!(
                "[attachment too large: {file_name}, {}]",
                human_size(bytes.len())
            ));
            continue;
        }
        if attachments.len() >= limits.max_attachments {
            dropped_for_count += 1;
            continue;
        }
        let declared = declared_type(part, is_message);
        let content_type = infer::get(&bytes)
            .map(|kind| kind.mime_type().to_owned())
            .or(declared)
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let content_id = part
            .content_id()
            .map(|id| {
                id.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
            .filter(|id| !id.is_empty());
        let disposition_inline = part.content_disposition().map(|d| d.is_inline());
        let inline = disposition_inline.unwrap_or(content_id.is_some());
        attachments.push(InboundAttachment {
            file_name,
            content_type,
            content_id,
            inline,
            bytes,
        });
    }
    if dropped_for_count > 0 {
        notes.push(format!(
            "[{dropped_for_count} more attachments were not kept: at most {} per message]",
            limits.max_attachments
        ));
    }
    Kept { attachments, notes }
}

/// The decoded bytes of an attachment part and whether it is a whole attached message.
fn bytes_of(part: &MessagePart<'_>) -> Option<(Vec<u8>, bool)> {
    match &part.body {
        PartType::Text(text) | PartType::Html(text) => Some((text.as_bytes().to_vec(), false)),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => Some((bytes.to_vec(), false)),
        PartType::Message(nested) => Some((nested.raw_message().to_vec(), true)),
        PartType::Multipart(_) => None,
    }
}

fn declared_type(part: &MessagePart<'_>, is_message: bool) -> Option<String> {
    if is_message {
        return Some("message/rfc822".to_owned());
    }
    let content_type = part.content_type()?;
    let main = content_type.ctype().trim().to_ascii_lowercase();
    let sub = content_type.subtype()?.trim().to_ascii_lowercase();
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    (valid(&main) && valid(&sub)).then(|| format!("{main}/{sub}"))
}

/// The part's file name (RFC 2231 and RFC 2047 already decoded by mail-parser), made safe to
/// store: no directories, no control characters, not empty.
fn file_name(part: &MessagePart<'_>, is_message: bool, position: usize, bytes: &[u8]) -> String {
    let declared = part
        .attachment_name()
        .map(safe_file_name)
        .filter(|name| !name.is_empty());
    if let Some(name) = declared {
        return name;
    }
    if is_message {
        return format!("message-{position}.eml");
    }
    let extension = infer::get(bytes)
        .map(|kind| kind.extension().to_owned())
        .or_else(|| {
            part.content_type()
                .and_then(|ct| ct.subtype())
                .filter(|sub| sub.len() <= 8 && sub.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(|sub| match sub.to_ascii_lowercase().as_str() {
                    "plain" => "txt".to_owned(),
                    other => other.to_owned(),
                })
        })
        .unwrap_or_else(|| "bin".to_owned());
    format!("attachment-{position}.{extension}")
}

pub(crate) fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.chars().count() <= MAX_FILE_NAME_CHARS {
        return cleaned.to_owned();
    }
    let extension = cleaned
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| ext.chars().count() <= 10)
        .unwrap_or("");
    let keep = MAX_FILE_NAME_CHARS - extension.chars().count() - 1;
    let stem: String = cleaned.chars().take(keep).collect();
    if extension.is_empty() {
        stem
    } else {
        format!("{stem}.{extension}")
    }
}

fn human_size(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB {
        format!("{} MB", bytes.div_ceil(MB))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}
