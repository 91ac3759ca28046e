//! Which conversation a mail continues: reply tokens (in the reply address and the subject
//! tag), subjects without their prefixes, the envelope's verdicts, and `thread_of`.

use super::*;

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

pub(super) fn is_token(text: &str) -> bool {
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

/// Whether the conversation should reopen for this message: never for automated mail.
pub(crate) fn reopen(conversation: &mut Conversation) {
    conversation.status = ConversationStatus::Open;
    conversation.snoozed_until = None;
    conversation.resolved_at = None;
}
