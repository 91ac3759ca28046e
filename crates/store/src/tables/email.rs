//! The email tables: message_emails (threading headers and display HTML of email messages),
//! the conversations' reply tokens and subjects, bouncing identities, and attachments. Every
//! statement filters on the workspace.

use seam_core::{
    Error, Result,
    channel::{Channel, ChannelKind},
    email::{Attachment, ConversationEmail, EmailDetails, MessageEmail, ThreadHit},
    identity::IdentityKind,
    ids::{AttachmentId, ConversationId, CustomerId, MessageId, WorkspaceId},
    message::MessageKind,
};
use uuid::Uuid;

use crate::driver::{Columns, Driver, Select, Sql};

/// At most this many ids of a References header are looked up: the newest ones.
pub(crate) const MAX_THREAD_IDS: usize = 50;

pub(crate) fn insert_message_email<D: Driver>(email: &MessageEmail) -> Result<Sql<D>> {
    // Subject and HTML have their own columns; the rest of the details is JSON.
    let mut rest = email.details.clone();
    let subject = rest.subject.take();
    let html = rest.html.take();
    rest.message_id = None;
    let details = serde_json::to_value(&rest).map_err(Error::internal)?;
    Ok(Sql::<D>::new(
        "INSERT INTO message_emails (message_id, workspace_id, email_message_id, subject, html,
            details, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .uuid(email.message_id.0)
    .uuid(email.workspace_id.0)
    .text(&email.email_message_id)
    .opt_text(subject.as_deref())
    .opt_text(html.as_deref())
    .json_owned(details)
    .time(email.created_at))
}

fn read_message_email<D: Driver>(row: Columns<'_, D>) -> Result<MessageEmail> {
    let mut details: EmailDetails = serde_json::from_value(row.json("details")?)
        .map_err(|error| Error::internal(format!("stored email details: {error}")))?;
    let email_message_id = row.text("email_message_id")?;
    details.subject = row.opt_text("subject")?;
    details.html = row.opt_text("html")?;
    details.message_id = Some(email_message_id.clone());
    Ok(MessageEmail {
        message_id: MessageId(row.uuid("message_id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        email_message_id,
        details,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn message_emails<D: Driver>(
    workspace_id: WorkspaceId,
    message_ids: &[MessageId],
) -> Select<D, MessageEmail> {
    let ids: Vec<Uuid> = message_ids.iter().map(|id| id.0).collect();
    Sql::<D>::assembled(format!(
        "SELECT message_id, workspace_id, email_message_id, subject, html, details, created_at
        FROM message_emails WHERE workspace_id = $1 AND message_id {}",
        D::in_uuid_list(2)
    ))
    .uuid(workspace_id.0)
    .uuid_list(&ids)
    .select(read_message_email)
}

pub(crate) fn latest_of_conversation<D: Driver>(
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
    except: MessageId,
) -> Select<D, MessageEmail> {
    Sql::<D>::new(
        "SELECT e.message_id, e.workspace_id, e.email_message_id, e.subject, e.html, e.details,
            e.created_at
        FROM message_emails e JOIN messages m ON m.id = e.message_id
        WHERE e.workspace_id = $1 AND m.workspace_id = $1 AND m.conversation_id = $2
            AND e.message_id <> $3
        ORDER BY m.created_at DESC, m.id DESC LIMIT 1",
    )
    .uuid(workspace_id.0)
    .uuid(conversation_id.0)
    .uuid(except.0)
    .select(read_message_email)
}

fn read_hit<D: Driver>(row: Columns<'_, D>) -> Result<ThreadHit> {
    Ok(ThreadHit {
        message_id: MessageId(row.uuid("message_id")?),
        conversation_id: ConversationId(row.uuid("conversation_id")?),
        email_message_id: row.text("email_message_id")?,
        kind: row.parsed("kind", MessageKind::parse)?,
        created_at: row.time("created_at")?,
    })
}

/// `None` when there is nothing to look up.
pub(crate) fn find_thread<D: Driver>(
    workspace_id: WorkspaceId,
    email_message_ids: &[String],
) -> Option<Select<D, ThreadHit>> {
    let start = email_message_ids.len().saturating_sub(MAX_THREAD_IDS);
    let ids = &email_message_ids[start..];
    if ids.is_empty() {
        return None;
    }
    let placeholders: Vec<String> = (0..ids.len())
        .map(|index| format!("${}", index + 2))
        .collect();
    let mut sql = Sql::<D>::assembled(format!(
        "SELECT e.message_id, m.conversation_id, e.email_message_id, m.kind, e.created_at
        FROM message_emails e JOIN messages m ON m.id = e.message_id
        WHERE e.workspace_id = $1 AND e.email_message_id IN ({})",
        placeholders.join(", ")
    ))
    .uuid(workspace_id.0);
    for id in ids {
        sql = sql.text(id);
    }
    Some(sql.select(read_hit))
}

pub(crate) fn find_by_reply_token<D: Driver>(
    workspace_id: WorkspaceId,
    token: &str,
) -> Select<D, ConversationId> {
    Sql::<D>::new("SELECT id FROM conversations WHERE workspace_id = $1 AND reply_token = $2")
        .uuid(workspace_id.0)
        .text(token)
        .select(|row| Ok(ConversationId(row.uuid("id")?)))
}

pub(crate) fn conversation_email<D: Driver>(
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
) -> Select<D, ConversationEmail> {
    Sql::<D>::new(
        "SELECT reply_token, subject FROM conversations WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(workspace_id.0)
    .uuid(conversation_id.0)
    .select(|row| {
        Ok(ConversationEmail {
            reply_token: row.opt_text("reply_token")?,
            subject: row.opt_text("subject")?,
        })
    })
}

pub(crate) fn set_conversation_email<D: Driver>(
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
    email: &ConversationEmail,
) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE conversations SET reply_token = $3, subject = $4 WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(workspace_id.0)
    .uuid(conversation_id.0)
    .opt_text(email.reply_token.as_deref())
    .opt_text(email.subject.as_deref())
}

pub(crate) fn insert_attachment<D: Driver>(attachment: &Attachment) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO attachments (id, workspace_id, message_id, file_name, content_type,
            size_bytes, sha256, content_id, inline, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .uuid(attachment.id.0)
    .uuid(attachment.workspace_id.0)
    .uuid(attachment.message_id.0)
    .text(&attachment.file_name)
    .text(&attachment.content_type)
    .i64(attachment.size_bytes)
    .text(&attachment.sha256)
    .opt_text(attachment.content_id.as_deref())
    .bool(attachment.inline)
    .time(attachment.created_at)
}

macro_rules! attachment_columns {
    () => {
        "id, workspace_id, message_id, file_name, content_type, size_bytes, sha256, content_id, \
        inline, created_at"
    };
}

fn read_attachment<D: Driver>(row: Columns<'_, D>) -> Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        message_id: MessageId(row.uuid("message_id")?),
        file_name: row.text("file_name")?,
        content_type: row.text("content_type")?,
        size_bytes: row.i64("size_bytes")?,
        sha256: row.text("sha256")?,
        content_id: row.opt_text("content_id")?,
        inline: row.bool("inline")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn attachments_of_messages<D: Driver>(
    workspace_id: WorkspaceId,
    message_ids: &[MessageId],
) -> Select<D, Attachment> {
    let ids: Vec<Uuid> = message_ids.iter().map(|id| id.0).collect();
    Sql::<D>::assembled(format!(
        concat!(
            "SELECT ",
            attachment_columns!(),
            " FROM attachments WHERE workspace_id = $1 AND message_id {} ORDER BY created_at, id"
        ),
        D::in_uuid_list(2)
    ))
    .uuid(workspace_id.0)
    .uuid_list(&ids)
    .select(read_attachment)
}

pub(crate) fn get_attachment<D: Driver>(
    workspace_id: WorkspaceId,
    id: AttachmentId,
) -> Select<D, Attachment> {
    Sql::<D>::new(concat!(
        "SELECT ",
        attachment_columns!(),
        " FROM attachments WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read_attachment)
}

/// By id alone, for a signed media link: the link, checked by the caller, names the workspace.
pub(crate) fn find_attachment<D: Driver>(id: AttachmentId) -> Select<D, Attachment> {
    Sql::<D>::new(concat!(
        "SELECT ",
        attachment_columns!(),
        " FROM attachments WHERE id = $1"
    ))
    .uuid(id.0)
    .select(read_attachment)
}

pub(crate) fn mark_bounced<D: Driver>(
    workspace_id: WorkspaceId,
    kind: IdentityKind,
    value: &str,
    at: seam_core::Timestamp,
    reason: &str,
) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE identities SET bounced_at = $4, bounce_reason = $5
        WHERE workspace_id = $1 AND kind = $2 AND value = $3",
    )
    .uuid(workspace_id.0)
    .text(kind.as_str())
    .text(value)
    .time(at)
    .text(reason)
}

pub(crate) fn deliverable_email<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, String> {
    Sql::<D>::new(
        "SELECT i.value FROM identities i
        WHERE i.workspace_id = $1 AND i.customer_id = $2 AND i.kind = 'email'
            AND i.bounced_at IS NULL
        ORDER BY (SELECT max(m.created_at) FROM messages m
                WHERE m.workspace_id = $1 AND m.customer_id = $2 AND m.kind = 'inbound'
                AND m.identity_kind = 'email' AND m.identity = i.value) DESC NULLS LAST,
            i.verified DESC, i.created_at DESC, i.value
        LIMIT 1",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| row.text("value"))
}

pub(crate) fn channels_of_kind<D: Driver>(kind: ChannelKind) -> Select<D, Channel> {
    super::channels::of_kind(kind)
}
