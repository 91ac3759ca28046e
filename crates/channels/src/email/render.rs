//! Outbound mail: an agent's Markdown reply -> a complete RFC 5322 message (text and HTML
//! alternatives, attachments, threading headers, RFC 3834 auto-submitted marks), DKIM-signed
//! when the channel has a key. Pure: the bytes are handed to the relay.

mod dkim;

use std::time::SystemTime;

use lettre::message::{
    Attachment, Mailbox, MultiPart, SinglePart,
    header::{ContentType, HeaderName, HeaderValue},
};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

pub use super::parse::Address;
pub use dkim::DkimKey;

/// A file sent with a reply.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for OutgoingAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// Everything an outbound email is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingEmail {
    pub from: Address,
    /// Usually the conversation's reply address (the channel address with a plus token).
    pub reply_to: Option<Address>,
    pub to: Address,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: String,
    /// The Message-ID of the message answered, without angle brackets.
    pub in_reply_to: Option<String>,
    /// The answered message's References, oldest first; `in_reply_to` is appended when rendering.
    pub references: Vec<String>,
    pub markdown: String,
    /// The channel's signature, Markdown, appended after the "-- " delimiter.
    pub signature: Option<String>,
    pub attachments: Vec<OutgoingAttachment>,
    /// Mail no person wrote (notifications, auto-replies): marked so that other systems do not
    /// answer it (RFC 3834).
    pub auto_submitted: bool,
    pub date: seam_core::Timestamp,
}

/// Why a message could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{field} is not a valid email address: {value}")]
    InvalidAddress { field: &'static str, value: String },
    #[error("{field} is not a valid message id: {value}")]
    InvalidMessageId { field: &'static str, value: String },
    #[error("attachment {file_name} has an invalid content type: {content_type}")]
    InvalidContentType {
        file_name: String,
        content_type: String,
    },
    #[error("the DKIM key cannot be used: {0}")]
    DkimKey(String),
    #[error("the message could not be built: {0}")]
    Build(String),
}

/// Renders the message, signing it with `dkim` when given.
pub fn render(email: &OutgoingEmail, dkim: Option<&DkimKey>) -> Result<Vec<u8>, RenderError> {
    // Load the key first: a configuration error is reported before any work is done.
    let signer = dkim.map(dkim::Signer::load).transpose()?;

    let own_id = checked_id("message_id", &email.message_id)?;
    let mut builder = lettre::Message::builder()
        .from(mailbox("from", &email.from)?)
        .to(mailbox("to", &email.to)?)
        .subject(one_line(&email.subject))
        .date(SystemTime::from(email.date))
        .message_id(Some(format!("<{own_id}>")));
    if let Some(reply_to) = &email.reply_to {
        builder = builder.reply_to(mailbox("reply_to", reply_to)?);
    }
    let mut references = email
        .references
        .iter()
        .map(|id| checked_id("references", id))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(parent) = &email.in_reply_to {
        let parent = checked_id("in_reply_to", parent)?;
        builder = builder.in_reply_to(format!("<{parent}>"));
        references.retain(|id| *id != parent);
        references.push(parent);
    }
    if !references.is_empty() {
        let joined: Vec<String> = references.iter().map(|id| format!("<{id}>")).collect();
        builder = builder.references(joined.join(" "));
    }
    if email.auto_submitted {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"),
                "All".to_owned(),
            ));
    }

    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(plain_text(email)))
        .singlepart(SinglePart::html(html(email)));
    let message = if email.attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for attachment in &email.attachments {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|_| {
                RenderError::InvalidContentType {
                    file_name: attachment.file_name.clone(),
                    content_type: attachment.content_type.clone(),
                }
            })?;
            let file_name = super::parse::safe_file_name(&attachment.file_name);
            mixed = mixed.singlepart(
                Attachment::new(file_name).body(attachment.bytes.clone(), content_type),
            );
        }
        builder.multipart(mixed)
    };
    let mut message = message.map_err(|error| RenderError::Build(error.to_string()))?;
    if let Some(signer) = signer {
        signer.sign(&mut message);
    }
    Ok(message.formatted())
}

fn mailbox(field: &'static str, address: &Address) -> Result<Mailbox, RenderError> {
    let invalid = || RenderError::InvalidAddress {
        field,
        value: address.email.clone(),
    };
    let email: lettre::Address = address.email.trim().parse().map_err(|_| invalid())?;
    let name = address
        .name
        .as_deref()
        .map(one_line)
        .filter(|name| !name.is_empty());
    Ok(Mailbox::new(name, email))
}

/// A message id as it goes between angle brackets: `left@right`, printable ASCII, no spaces.
fn checked_id(field: &'static str, id: &str) -> Result<String, RenderError> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let valid = !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'));
    if valid {
        Ok(id.to_owned())
    } else {
        Err(RenderError::InvalidMessageId {
            field,
            value: id.to_owned(),
        })
    }
}

/// Header text on one line: line breaks would start a new header.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn plain_text(email: &OutgoingEmail) -> String {
    let mut text = email.markdown.trim_end().to_owned();
    if let Some(signature) = email.signature.as_deref().filter(|s| !s.trim().is_empty()) {
        text.push_str("\n\n-- \n");
        text.push_str(signature.trim_end());
    }
    text.push('\n');
    text
}

fn html(email: &OutgoingEmail) -> String {
    let mut body = markdown_to_html(&email.markdown);
    if let Some(signature) = email.signature.as_deref().filter(|s| !s.trim().is_empty()) {
        body.push_str("<div class=\"signature\">-- <br>\n");
        body.push_str(&markdown_to_html(signature));
        body.push_str("</div>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body>\n<div dir=\"auto\">\n{body}</div>\n</body></html>\n"
    )
}

/// Markdown to HTML. Raw HTML in the Markdown is shown as text, never passed through, and links
/// keep only web, mail and phone URLs.
pub fn markdown_to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Whether each open link or image was kept, so its end is dropped with its start.
    let mut open: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }) => {
            let keep = safe_link(dest_url);
            open.push(keep);
            keep.then_some(event)
        }
        Event::End(TagEnd::Link | TagEnd::Image) => open.pop().unwrap_or(true).then_some(event),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn safe_link(url: &str) -> bool {
    let lowered = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "tel:", "cid:"]
        .iter()
        .any(|scheme| lowered.starts_with(scheme))
}

#[cfg(test)]
mod tests;
