//! Inbound mail: raw RFC 5322 bytes -> [`ParsedEmail`] -> core's [`InboundMessage`]. Bodies in
//! any charset mail-parser knows (windows-1256 and ISO-8859-6 included), the HTML sanitised, the
//! quoted history stripped, attachments sniffed and bounded, machine-sent mail and delivery
//! status reports recognised. Pure: no IO.

mod attachments;
mod bounce;
mod headers;

use mail_parser::{MessageParser, PartType};
use seam_core::{
    Timestamp,
    email::{Bounce, EmailDetails, InboundAttachment},
    identity::IdentityKind,
    ids::ChannelId,
    inbound::{InboundMessage, RawIdentity},
    message::MAX_TEXT_BYTES,
};
use sha2::{Digest, Sha256};

use super::{quote::strip_quoted, sanitise};

pub(crate) use attachments::safe_file_name;

/// The whole text kept for "show the full message" (quoted history included) is capped here.
pub const MAX_FULL_TEXT_BYTES: usize = 1024 * 1024;
/// A display name longer than this is cut (core refuses names over 200 characters).
const MAX_NAME_CHARS: usize = 200;
/// A Message-ID longer than this cannot be the idempotency key; the hash is used instead.
const MAX_PROVIDER_ID_BYTES: usize = 255;

/// How much of a message is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A larger attachment is left out and named in the text.
    pub max_attachment_bytes: usize,
    /// Attachments past this many are left out.
    pub max_attachments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attachment_bytes: 20 * 1024 * 1024,
            max_attachments: 100,
        }
    }
}

/// A mailbox from a header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub name: Option<String>,
    pub email: String,
}

/// What Seam keeps of an inbound email.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedEmail {
    pub from: Option<Address>,
    pub reply_to: Option<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// The `Return-Path` address; `Some("")` for the null sender `<>` of bounces and
    /// auto-replies.
    pub return_path: Option<String>,
    pub date: Option<Timestamp>,
    /// The new text: quoted history and signature stripped, at most 64 KiB, never empty.
    pub text: String,
    /// Recipients are left empty and `auth` is `None`: the listener fills them in.
    pub details: EmailDetails,
    pub attachments: Vec<InboundAttachment>,
    /// Set when the message is a delivery status report about mail Seam sent.
    pub bounce: Option<Bounce>,
    /// Hex SHA-256 of the raw message: the idempotency key of mail without a Message-ID.
    pub raw_sha256: String,
}

/// Why a message could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an email message: no header section was found")]
    NotAMessage,
    #[error("the message has no From address")]
    NoFrom,
    #[error("the message has no text, no subject and no attachments")]
    Empty,
    #[error("the message is malformed beyond repair")]
    Malformed,
}

/// Parses a raw message.
pub fn parse(raw: &[u8], limits: &Limits) -> Result<ParsedEmail, ParseError> {
    // mail-parser promises never to panic; a malformed message must not take the listener down
    // if that promise is ever broken.
    let message = std::panic::catch_unwind(|| MessageParser::default().parse(raw))
        .map_err(|_| ParseError::Malformed)?
        .ok_or(ParseError::NotAMessage)?;
    if message.headers().is_empty() {
        return Err(ParseError::NotAMessage);
    }

    let from = message.from().and_then(headers::first_address);
    let return_path = headers::return_path(&message);
    let bounce = bounce::detect(&message);
    // Some mailers send reports from a bare "MAILER-DAEMON"; a report needs no sender.
    if from.is_none() && bounce.is_none() {
        return Err(ParseError::NoFrom);
    }

    let full_text = body_text(&message);
    let html = body_html(&message).map(|html| sanitise::sanitise_html(&html));
    // A report's parts (the status fields, the returned message) are not files anyone sent.
    let kept = if bounce.is_some() {
        attachments::Kept::default()
    } else {
        attachments::collect(&message, limits)
    };

    // Quotes are looked for in the part that is kept, so a huge body costs no more than that.
    let stripped = strip_quoted(truncate(&full_text, MAX_FULL_TEXT_BYTES));
    let mut text = stripped.text;
    if text.trim().is_empty() {
        // A message that is only files: name them, so the conversation shows something.
        text = kept
            .attachments
            .iter()
            .map(|attachment| format!("[attachment: {}]", attachment.file_name))
            .collect::<Vec<_>>()
            .join("\n");
    }
    if !kept.notes.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&kept.notes.join("\n"));
    }
    let subject = message.subject().map(|subject| subject.trim().to_owned());
    if text.trim().is_empty() {
        text = match (&subject, &bounce) {
            (_, Some(bounce)) => bounce.reason(),
            (Some(subject), None) if !subject.is_empty() => subject.clone(),
            _ => return Err(ParseError::Empty),
        };
    }

    let automated = headers::automated_reason(&message, return_path.as_deref(), bounce.is_some());
    let (remote_images, html) = match html {
        Some(sanitised) => (sanitised.remote_images, Some(sanitised.html)),
        None => (false, None),
    };
    let details = EmailDetails {
        message_id: message.message_id().and_then(headers::clean_id),
        in_reply_to: headers::ids(message.in_reply_to()),
        references: headers::ids(message.references()),
        subject: subject.filter(|subject| !subject.is_empty()),
        html,
        remote_images,
        full_text: truncate(full_text.trim(), MAX_FULL_TEXT_BYTES).to_owned(),
        automated,
        recipients: Vec::new(),
        auth: None,
    };

    Ok(ParsedEmail {
        from,
        reply_to: message.reply_to().and_then(headers::first_address),
        to: message.to().map(headers::addresses).unwrap_or_default(),
        cc: message.cc().map(headers::addresses).unwrap_or_default(),
        return_path,
        date: message.date().and_then(headers::timestamp),
        text: truncate(&text, MAX_TEXT_BYTES).to_owned(),
        details,
        attachments: kept.attachments,
        bounce,
        raw_sha256: hex::encode(Sha256::digest(raw)),
    })
}

impl ParsedEmail {
    /// The message for core's inbound path. `recipients` are the envelope's `RCPT TO`
    /// addresses; a sent date more than a day in the future is ignored.
    pub fn into_inbound(self, channel_id: ChannelId, recipients: &[String]) -> InboundMessage {
        let provider_message_id = match &self.details.message_id {
            Some(id) if id.len() <= MAX_PROVIDER_ID_BYTES => id.clone(),
            _ => format!("sha256:{}", self.raw_sha256),
        };
        let verified = !self
            .details
            .auth
            .as_ref()
            .is_some_and(|auth| auth.dmarc_failed());
        let (sender, sender_name) = match self.from {
            Some(from) => (
                vec![RawIdentity {
                    kind: IdentityKind::Email,
                    value: from.email,
                    field: "from".to_owned(),
                    verified,
                }],
                from.name
                    .map(|name| name.chars().take(MAX_NAME_CHARS).collect::<String>()),
            ),
            None => (Vec::new(), None),
        };
        let latest_credible = chrono::Utc::now() + chrono::Duration::days(1);
        let mut details = self.details;
        details.recipients = recipients
            .iter()
            .map(|recipient| recipient.trim().to_lowercase())
            .collect();
        InboundMessage {
            channel_id,
            provider_message_id,
            sender,
            sender_name,
            text: self.text,
            sent_at: self.date.filter(|date| *date <= latest_credible),
            email: Some(details),
            attachments: self.attachments,
        }
    }
}

/// The text body: every text part in order (HTML-only parts converted), joined.
fn body_text(message: &mail_parser::Message<'_>) -> String {
    let mut parts = Vec::new();
    for id in &message.text_body {
        match message.parts.get(*id as usize).map(|part| &part.body) {
            Some(PartType::Text(text)) => parts.push(text.to_string()),
            Some(PartType::Html(html)) => parts.push(sanitise::html_to_text(html)),
            _ => {}
        }
    }
    let mut text = parts.join("\n\n");
    if text.trim().is_empty() {
        // A message whose text part is empty but whose HTML is not.
        text = body_html(message)
            .map(|html| sanitise::html_to_text(&html))
            .unwrap_or_default();
    }
    text.replace("\r\n", "\n")
}

/// The HTML body, when the message has a real HTML part.
fn body_html(message: &mail_parser::Message<'_>) -> Option<String> {
    let parts: Vec<&str> = message
        .html_body
        .iter()
        .filter_map(
            |id| match message.parts.get(*id as usize).map(|part| &part.body) {
                Some(PartType::Html(html)) => Some(html.as_ref()),
                _ => None,
            },
        )
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
