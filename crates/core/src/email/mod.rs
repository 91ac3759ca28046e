//! What an email carries beyond a chat message: the headers that thread it, its display HTML
//! (already sanitised by the adapter), the full text before quoted history was stripped, whether
//! a machine sent it, and what its authentication checks found. Delivery status reports
//! (bounces) are a separate shape, [`Bounce`], because they are not messages of a conversation.

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    Error, Result, Timestamp,
    conversation::{Conversation, ConversationStatus},
    identity::IdentityKind,
    ids::{AttachmentId, ConversationId, CustomerId, MessageId, WorkspaceId},
    message::{DeliveryStatus, MessageKind},
    ports::{FileStore, Store, Tx},
    workspace::Workspace,
};

mod bounce;
mod files;
mod outbound;
mod settings;
mod thread;

pub use bounce::*;
pub use files::*;
pub use outbound::*;
pub use settings::*;
pub use thread::*;

/// The email-specific part of an inbound message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailDetails {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids, without angle brackets, oldest first.
    pub references: Vec<String>,
    pub subject: Option<String>,
    /// The HTML body, sanitised for display (scripts, handlers, forms, remote resources removed
    /// or neutralised). `None` for plain-text mail.
    pub html: Option<String>,
    /// Whether the HTML referred to remote images, which are blocked until an agent allows them.
    pub remote_images: bool,
    /// The whole text body, quoted history included; the message's `text` is the new part.
    /// Stored empty when it equals the message's text.
    pub full_text: String,
    /// Why the message looks machine-sent (an auto-reply, a list, a null sender), if it does.
    /// Such a message is stored but reopens nothing and triggers nothing.
    pub automated: Option<String>,
    /// The envelope recipients (`RCPT TO`), lower-cased: where a reply token is found.
    pub recipients: Vec<String>,
    /// SPF / DKIM / DMARC results, when they were evaluated.
    pub auth: Option<AuthResults>,
}

/// The outcome of the sender authentication checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`.
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
}

impl AuthResults {
    /// A DMARC failure: the From address is not proven, so the message never merges identities
    /// and is shown with a warning.
    pub fn dmarc_failed(&self) -> bool {
        self.dmarc == "fail"
    }
}

/// A file that came with an inbound message (mail attachment, inline image, widget upload).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundAttachment {
    pub file_name: String,
    /// The content type sniffed from the bytes (falling back to the declared one).
    pub content_type: String,
    /// `Content-ID` of an inline part, without angle brackets, so the HTML's `cid:` links work.
    pub content_id: Option<String>,
    pub inline: bool,
    #[serde(with = "bytes_as_base64")]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for InboundAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundAttachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("content_id", &self.content_id)
            .field("inline", &self.inline)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A delivery status notification (RFC 3464) about mail Seam sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounce {
    /// Message-IDs of the returned message found in the report, without angle brackets.
    pub original_message_ids: Vec<String>,
    /// `Final-Recipient` (or `Original-Recipient`), the address that failed.
    pub recipient: Option<String>,
    /// `Status`, e.g. `5.1.1`.
    pub status: Option<String>,
    /// `Diagnostic-Code`, when given.
    pub diagnostic: Option<String>,
    /// A 5.x.x status: the address is undeliverable. 4.x.x reports are transient.
    pub permanent: bool,
}

impl Bounce {
    /// The reason shown on the failed message.
    pub fn reason(&self) -> String {
        let mut reason = String::from("the recipient's mail server returned the message");
        if let Some(status) = &self.status {
            reason.push_str(&format!(" (status {status})"));
        }
        if let Some(diagnostic) = &self.diagnostic {
            let diagnostic: String = diagnostic.chars().take(300).collect();
            reason.push_str(&format!(": {diagnostic}"));
        }
        reason
    }
}

mod bytes_as_base64 {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// The email part of one stored message, inbound or outbound.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageEmail {
    pub message_id: MessageId,
    pub workspace_id: WorkspaceId,
    /// The RFC 5322 Message-ID, without angle brackets.
    pub email_message_id: String,
    pub details: EmailDetails,
    pub created_at: Timestamp,
}

/// A message whose Message-ID matched a threading header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadHit {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub email_message_id: String,
    pub kind: MessageKind,
    pub created_at: Timestamp,
}

/// A conversation's email thread state: the reply token in its reply address and subject tag,
/// and the subject it started with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationEmail {
    pub reply_token: Option<String>,
    pub subject: Option<String>,
}

/// A stored file of a message. Its bytes are in the file store under (workspace, sha256).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub workspace_id: WorkspaceId,
    pub message_id: MessageId,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub content_id: Option<String>,
    pub inline: bool,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::{thread::is_token, *};

    #[test]
    fn reply_tokens_are_found_in_addresses_and_subjects() {
        let token = new_reply_token();
        assert!(is_token(&token));
        let address = reply_address("support@shop.example", &token);
        assert_eq!(token_of_recipient(&address), Some(token.clone()));
        assert_eq!(token_of_recipient("support@shop.example"), None);
        assert_eq!(token_of_recipient("support+short@shop.example"), None);
        let subject = format!("Re: Where is my order? {}", subject_tag(&token));
        assert_eq!(token_of_subject(&subject), Some(token.clone()));
        assert_eq!(token_of_subject("Re: [#nope] hello"), None);
    }

    #[test]
    fn subjects_compare_without_prefixes_and_tags() {
        let token = new_reply_token();
        assert_eq!(
            normalise_subject(&format!(
                "RE[2]: Fwd:  Where is   my order? {}",
                subject_tag(&token)
            )),
            "where is my order?"
        );
        assert_eq!(normalise_subject("رد: طلبي لم يصل"), "طلبي لم يصل");
        assert_eq!(normalise_subject("Re: Re: AW: Hello"), "hello");
        assert_eq!(normalise_subject("Rebate question"), "rebate question");
        assert_eq!(
            subject_without_prefixes(&format!(
                "RE: Fwd:  Where is my Order? {}",
                subject_tag(&token)
            )),
            "Where is my Order?",
            "a reply's subject keeps the thread's spelling"
        );
    }

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\a\\invoice.pdf"), "invoice.pdf");
        assert_eq!(clean_file_name("a\r\nb\".txt"), "ab.txt");
        assert_eq!(clean_file_name(""), "attachment");
        assert_eq!(clean_file_name(".hidden"), "hidden");
    }
}
