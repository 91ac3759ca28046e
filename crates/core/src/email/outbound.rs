//! Seam's own mail: the headers that thread a reply into the conversation's mail.

use super::*;

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
    let message_id = own_message_id(settings, message);
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
        .find_email_thread(message.workspace_id, std::slice::from_ref(&message_id))
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
