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

// ---------------------------------------------------------------------------------------------
// Stored email state and the use cases that read it.

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

/// Letters of reply tokens: lower-case (mail systems may fold the local part) and without the
/// look-alikes 0/o and 1/l.
const TOKEN_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// 12 letters of a 32-letter alphabet: 60 bits, unguessable at any rate SMTP allows.
const TOKEN_LENGTH: usize = 12;

pub fn new_reply_token() -> String {
    let mut rng = rand::rng();
    (0..TOKEN_LENGTH)
        .map(|_| TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())] as char)
        .collect()
}

fn is_token(text: &str) -> bool {
    text.len() == TOKEN_LENGTH && text.bytes().all(|byte| TOKEN_ALPHABET.contains(&byte))
}

/// The reply token in a recipient address `local+token@domain`, if it has one.
pub fn token_of_recipient(address: &str) -> Option<String> {
    let (local, _domain) = address.rsplit_once('@')?;
    let (_, tag) = local.rsplit_once('+')?;
    let tag = tag.to_ascii_lowercase();
    is_token(&tag).then_some(tag)
}

/// The reply address of a conversation on a channel's address: `support+token@example.com`.
pub fn reply_address(channel_address: &str, token: &str) -> String {
    match channel_address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => channel_address.to_string(),
    }
}

/// The subject tag that threads a reply when every header was stripped: `[#token]`.
pub fn subject_tag(token: &str) -> String {
    format!("[#{token}]")
}

/// The token in a subject's tag, if it has one.
pub fn token_of_subject(subject: &str) -> Option<String> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find(']') {
            let candidate = after[..end].trim().to_ascii_lowercase();
            if is_token(&candidate) {
                return Some(candidate);
            }
        }
        rest = after;
    }
    None
}

/// Reply and forward prefixes, compared case-insensitively (`Re:`, `RE[2]:`, `Fwd:`, `AW:`,
/// `رد:`).
const SUBJECT_PREFIXES: &[&str] = &[
    "re",
    "fw",
    "fwd",
    "aw",
    "wg",
    "sv",
    "vs",
    "tr",
    "رد",
    "پاسخ",
    "ارسال",
];

/// A subject without reply and forward prefixes and without our tag, spelled as written and
/// with its whitespace folded: how a reply's subject starts.
pub fn subject_without_prefixes(subject: &str) -> String {
    let untagged = match token_of_subject(subject) {
        Some(token) => subject.replace(&subject_tag(&token), " "),
        None => subject.to_string(),
    };
    let mut text = untagged.trim_start();
    // Cuts one prefix with its separator: `Re:`, `Re[3]:`, `Re :`.
    let cut = |text: &str| -> Option<usize> {
        SUBJECT_PREFIXES.iter().find_map(|prefix| {
            let head = text.get(..prefix.len())?;
            if !head.eq_ignore_ascii_case(prefix) {
                return None;
            }
            let rest = text[prefix.len()..].trim_start();
            let rest = match rest.strip_prefix('[') {
                Some(inner) => inner.split_once(']').map(|(_, after)| after)?,
                None => rest,
            };
            let rest = rest.trim_start();
            let after = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：'))?;
            Some(text.len() - after.len())
        })
    };
    while let Some(at) = cut(text) {
        text = text[at..].trim_start();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`subject_without_prefixes`] lower-cased, for comparing a reply with the thread it claims
/// to continue.
pub fn normalise_subject(subject: &str) -> String {
    subject_without_prefixes(subject).to_lowercase()
}

/// Applies what the SMTP session learned about a mail beyond its content: a DMARC failure
/// leaves the From address unproven (so it never merges identities), and a null envelope
/// sender marks the mail machine-sent.
pub fn apply_envelope(
    message: &mut crate::inbound::InboundMessage,
    null_sender: bool,
    auth: Option<AuthResults>,
) {
    if auth.as_ref().is_some_and(AuthResults::dmarc_failed) {
        for sender in &mut message.sender {
            sender.verified = false;
        }
    }
    let Some(details) = message.email.as_mut() else {
        return;
    };
    if auth.is_some() {
        details.auth = auth;
    }
    if null_sender && details.automated.is_none() {
        details.automated = Some("sent with a null envelope sender".into());
    }
}

/// Which conversation of `customer_id` an email continues, by its headers, in the order of
/// `channels.md` §9: In-Reply-To, the reply token in a recipient, References with the same
/// subject, the subject tag. `None` leaves the message to the workspace's continuity rule.
/// Only the customer's own conversations are candidates: a thread never crosses customers.
pub(crate) async fn thread_of(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    customer_id: CustomerId,
    details: &EmailDetails,
) -> Result<Option<Conversation>> {
    let own = |conversation: Option<Conversation>| {
        conversation.filter(|conversation| conversation.customer_id == customer_id)
    };
    // 1. In-Reply-To: the newest message it names.
    if !details.in_reply_to.is_empty() {
        let mut hits = tx
            .find_email_thread(workspace.id, &details.in_reply_to)
            .await?;
        hits.sort_by_key(|hit| std::cmp::Reverse(hit.created_at));
        for hit in hits {
            let conversation = own(tx
                .get_conversation(workspace.id, hit.conversation_id)
                .await?);
            if conversation.is_some() {
                return Ok(conversation);
            }
        }
    }
    // 2. The reply token of the address it was sent to.
    for recipient in &details.recipients {
        if let Some(token) = token_of_recipient(recipient)
            && let Some(id) = tx
                .find_conversation_by_reply_token(workspace.id, &token)
                .await?
        {
            let conversation = own(tx.get_conversation(workspace.id, id).await?);
            if conversation.is_some() {
                return Ok(conversation);
            }
        }
    }
    // 3. References, only when the subject matches the thread's (forwarded chains carry
    //    References of threads they do not continue).
    let subject = details.subject.as_deref().map(normalise_subject);
    if !details.references.is_empty()
        && let Some(subject) = &subject
    {
        let mut hits = tx
            .find_email_thread(workspace.id, &details.references)
            .await?;
        hits.sort_by_key(|hit| std::cmp::Reverse(hit.created_at));
        for hit in hits {
            let thread = tx
                .conversation_email(workspace.id, hit.conversation_id)
                .await?;
            let same_subject = thread
                .subject
                .as_deref()
                .is_some_and(|started| normalise_subject(started) == *subject);
            if !same_subject {
                continue;
            }
            let conversation = own(tx
                .get_conversation(workspace.id, hit.conversation_id)
                .await?);
            if conversation.is_some() {
                return Ok(conversation);
            }
        }
    }
    // 4. The subject tag.
    if let Some(token) = details.subject.as_deref().and_then(token_of_subject)
        && let Some(id) = tx
            .find_conversation_by_reply_token(workspace.id, &token)
            .await?
    {
        let conversation = own(tx.get_conversation(workspace.id, id).await?);
        if conversation.is_some() {
            return Ok(conversation);
        }
    }
    Ok(None)
}

/// Puts the files of a message in the file store (before its transaction: a file without a
/// row is harmless, a row without its file is not) and returns their rows.
pub async fn store_files(
    files: &dyn FileStore,
    workspace_id: WorkspaceId,
    message_id: MessageId,
    attachments: &[InboundAttachment],
    now: Timestamp,
) -> Result<Vec<Attachment>> {
    let mut stored = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        let sha256 = hex::encode(Sha256::digest(&attachment.bytes));
        files.put(workspace_id, &sha256, &attachment.bytes).await?;
        stored.push(Attachment {
            id: AttachmentId::new(),
            workspace_id,
            message_id,
            file_name: clean_file_name(&attachment.file_name),
            content_type: attachment.content_type.clone(),
            size_bytes: attachment.bytes.len() as i64,
            sha256,
            content_id: attachment.content_id.clone(),
            inline: attachment.inline,
            created_at: now,
        });
    }
    Ok(stored)
}

/// A file name safe to show and to put in a Content-Disposition header: no path, no control
/// characters, at most 200 characters.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned
    }
}

/// What a delivery status notification changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BounceOutcome {
    /// Outbound messages now marked failed.
    pub failed: Vec<MessageId>,
    /// Whether the recipient's email identity is now flagged as bouncing.
    pub flagged: bool,
}

/// Applies a bounce: the outbound messages it returns are marked failed with the reason, and
/// on a permanent failure the recipient's email identity is flagged as bouncing. A bounce never
/// becomes a message of a conversation, and nothing answers it.
pub async fn record_bounce(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    bounce: &Bounce,
    now: Timestamp,
) -> Result<BounceOutcome> {
    let mut outcome = BounceOutcome::default();
    let hits = if bounce.original_message_ids.is_empty() {
        Vec::new()
    } else {
        let mut tx = store.begin().await?;
        let hits = tx
            .find_email_thread(workspace_id, &bounce.original_message_ids)
            .await?;
        tx.rollback().await?;
        hits
    };
    let reason = bounce.reason();
    let mut recipient = bounce.recipient.clone();
    for hit in hits.iter().filter(|hit| hit.kind == MessageKind::Outbound) {
        if !bounce.permanent {
            continue;
        }
        let message = crate::outbound::record_delivery(
            store,
            workspace_id,
            hit.message_id,
            DeliveryStatus::Failed,
            Some(reason.clone()),
            now,
        )
        .await?;
        if message.delivery_status == Some(DeliveryStatus::Failed) {
            outcome.failed.push(message.id);
        }
        if recipient.is_none() {
            recipient = message.identity.clone();
        }
    }
    if bounce.permanent
        && let Some(address) = recipient
    {
        let address = address.trim().to_lowercase();
        let mut tx = store.begin().await?;
        outcome.flagged = tx
            .mark_identity_bounced(workspace_id, IdentityKind::Email, &address, now, &reason)
            .await?;
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Answers the files of a message for download, checked against the workspace.
pub async fn get_attachment(
    store: &dyn Store,
    files: &dyn FileStore,
    actor: &crate::user::Actor,
    id: AttachmentId,
) -> Result<(Attachment, Vec<u8>)> {
    actor.require(crate::user::Permission::ReadConversations)?;
    let attachment = store
        .get_attachment(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let bytes = files
        .get(actor.workspace_id, &attachment.sha256)
        .await?
        .ok_or_else(|| Error::internal("an attachment's file is missing from the file store"))?;
    Ok((attachment, bytes))
}

/// Whether the conversation should reopen for this message: never for automated mail.
pub(crate) fn reopen(conversation: &mut Conversation) {
    conversation.status = ConversationStatus::Open;
    conversation.snoozed_until = None;
    conversation.resolved_at = None;
}

#[cfg(test)]
mod tests {
    use super::*;

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

// ---------------------------------------------------------------------------------------------
// The email channel's configuration.

/// How Seam talks to the relay that sends its mail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelaySettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (default), `tls` (SMTPS) or `none`.
    #[serde(default = "default_security")]
    pub security: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn default_security() -> String {
    "starttls".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimSettings {
    pub domain: String,
    pub selector: String,
    /// PEM, RSA or Ed25519.
    pub private_key: String,
}

/// A mailbox Seam pulls mail from over IMAP, for businesses that keep their mail provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapSettings {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    /// TLS from the first byte (port 993); plain IMAP only when false.
    #[serde(default = "default_true")]
    pub tls: bool,
    pub username: String,
    pub password: Option<String>,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Move stored mail to this folder; otherwise it is only marked seen.
    #[serde(default)]
    pub move_to: Option<String>,
}

fn default_imap_port() -> u16 {
    993
}

fn default_true() -> bool {
    true
}

fn default_mailbox() -> String {
    "INBOX".into()
}

/// An email channel's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSettings {
    /// The address customers write to; replies go out from it, with the conversation's reply
    /// token as a plus-address in Reply-To.
    pub address: String,
    #[serde(default)]
    pub from_name: Option<String>,
    /// Markdown appended to every reply.
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub relay: Option<RelaySettings>,
    #[serde(default)]
    pub dkim: Option<DkimSettings>,
    #[serde(default)]
    pub imap: Option<ImapSettings>,
}

impl EmailSettings {
    pub fn of(channel: &crate::channel::Channel) -> Result<EmailSettings> {
        serde_json::from_value(channel.config.clone())
            .map_err(|error| Error::internal(format!("stored email channel settings: {error}")))
    }

    /// The domain of the channel's address: where Message-IDs of its mail are minted.
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map(|(_, domain)| domain)
            .unwrap_or("localhost")
    }
}

pub(crate) fn validate_config(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    const KEYS: &[&str] = &["address", "from_name", "signature", "relay", "dkim", "imap"];
    if let Some(key) = object.keys().find(|key| !KEYS.contains(&key.as_str())) {
        return Err(Error::invalid(
            format!("config.{key}"),
            "is not a setting of email",
        ));
    }
    let value = serde_json::Value::Object(object);
    let mut settings: EmailSettings = serde_json::from_value(value).map_err(|error| {
        Error::invalid("config", format!("is not valid email settings: {error}"))
    })?;
    let address = crate::identity::Identity::parse_email("config.address", &settings.address)?;
    settings.address = address.value;
    if settings.address.contains('+') {
        return Err(Error::invalid(
            "config.address",
            "must not contain '+': replies are told apart by a plus-address",
        ));
    }
    if settings
        .from_name
        .as_ref()
        .is_some_and(|name| name.chars().count() > 100 || name.contains(['\r', '\n']))
    {
        return Err(Error::invalid(
            "config.from_name",
            "must be one line of at most 100 characters",
        ));
    }
    if settings
        .signature
        .as_ref()
        .is_some_and(|signature| signature.len() > 4000)
    {
        return Err(Error::invalid(
            "config.signature",
            "is longer than 4000 bytes",
        ));
    }
    if let Some(relay) = &settings.relay {
        if relay.host.trim().is_empty() || relay.host.contains(['/', ' ', '\r', '\n']) {
            return Err(Error::invalid("config.relay.host", "is not a host name"));
        }
        if relay.port == 0 {
            return Err(Error::invalid("config.relay.port", "must be a port number"));
        }
        if !["starttls", "tls", "none"].contains(&relay.security.as_str()) {
            return Err(Error::invalid(
                "config.relay.security",
                "must be starttls, tls or none",
            ));
        }
        if relay.password.is_some() != relay.username.is_some() {
            return Err(Error::invalid(
                "config.relay",
                "needs both username and password, or neither",
            ));
        }
    }
    if let Some(imap) = &settings.imap
        && (imap.host.trim().is_empty()
            || imap.host.contains(['/', ' ', '\r', '\n'])
            || imap.port == 0
            || imap.username.trim().is_empty()
            || imap.password.is_none()
            || imap.mailbox.trim().is_empty())
    {
        return Err(Error::invalid(
            "config.imap",
            "needs a host, a port, a username, a password and a mailbox",
        ));
    }
    if let Some(dkim) = &settings.dkim
        && (dkim.domain.trim().is_empty()
            || dkim.selector.trim().is_empty()
            || !dkim.private_key.contains("PRIVATE KEY"))
    {
        return Err(Error::invalid(
            "config.dkim",
            "needs a domain, a selector and a PEM private key",
        ));
    }
    serde_json::to_value(&settings).map_err(Error::internal)
}

/// The email parts and files of a page of messages the actor may already read.
pub async fn decorations(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    message_ids: &[MessageId],
) -> Result<(Vec<MessageEmail>, Vec<Attachment>)> {
    let emails = store.message_emails(workspace_id, message_ids).await?;
    let files = store
        .attachments_of_messages(workspace_id, message_ids)
        .await?;
    Ok((emails, files))
}

/// Everything the email worker needs to write one outbound message as mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundEmail {
    pub to: String,
    /// `Re: <the thread's subject> [#token]`.
    pub subject: String,
    /// Minted once per message and kept, so a retried send carries the same id.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The conversation's reply address on the channel.
    pub reply_to: String,
}

/// At most this many ids in a References header (the first and the newest ones).
const MAX_REFERENCES: usize = 20;

/// Threads an outbound message into its conversation's mail: the subject with its tag, the
/// reply address, In-Reply-To and References from the newest mail of the conversation, and a
/// Message-ID stored with the message (so the customer's answer threads back to it).
pub async fn prepare_outbound(
    store: &dyn Store,
    settings: &EmailSettings,
    message: &crate::message::Message,
    now: Timestamp,
) -> Result<OutboundEmail> {
    let to = message
        .identity
        .clone()
        .filter(|_| message.identity_kind == Some(IdentityKind::Email))
        .ok_or_else(|| Error::Refused {
            reason: "the message has no email address to go to".into(),
        })?;
    let mut tx = store.begin().await?;
    let mut thread = tx
        .conversation_email(message.workspace_id, message.conversation_id)
        .await?;
    let token = match &thread.reply_token {
        Some(token) => token.clone(),
        None => {
            let token = new_reply_token();
            thread.reply_token = Some(token.clone());
            tx.set_conversation_email(message.workspace_id, message.conversation_id, &thread)
                .await?;
            token
        }
    };
    let previous = tx
        .latest_email_of_conversation(message.workspace_id, message.conversation_id, message.id)
        .await?;
    let existing = tx
        .find_email_thread(message.workspace_id, &[own_message_id(settings, message)])
        .await?;
    let started = thread
        .subject
        .clone()
        .or_else(|| {
            previous
                .as_ref()
                .and_then(|mail| mail.details.subject.clone())
        })
        .map(|subject| subject_without_prefixes(&subject))
        .unwrap_or_else(|| match &settings.from_name {
            Some(name) => format!("Your conversation with {name}"),
            None => "Your conversation with us".to_string(),
        });
    let subject = format!("Re: {started} {}", subject_tag(&token));
    let in_reply_to = previous.as_ref().map(|mail| mail.email_message_id.clone());
    let mut references = previous
        .as_ref()
        .map(|mail| mail.details.references.clone())
        .unwrap_or_default();
    if let Some(parent) = &in_reply_to {
        references.push(parent.clone());
    }
    if references.len() > MAX_REFERENCES {
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(tail);
    }
    let message_id = own_message_id(settings, message);
    if existing.is_empty() {
        tx.insert_message_email(&MessageEmail {
            message_id: message.id,
            workspace_id: message.workspace_id,
            email_message_id: message_id.clone(),
            details: EmailDetails {
                message_id: Some(message_id.clone()),
                in_reply_to: in_reply_to.iter().cloned().collect(),
                references: references.clone(),
                subject: Some(subject.clone()),
                recipients: vec![to.clone()],
                ..EmailDetails::default()
            },
            created_at: now,
        })
        .await?;
    }
    tx.commit().await?;
    Ok(OutboundEmail {
        to,
        subject,
        message_id,
        in_reply_to,
        references,
        reply_to: reply_address(&settings.address, &token),
    })
}

/// The Message-ID of Seam's mail for a message: unique, and recognisable as ours.
fn own_message_id(settings: &EmailSettings, message: &crate::message::Message) -> String {
    format!("seam.{}@{}", message.id.0, settings.domain())
}
