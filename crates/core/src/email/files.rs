//! Files that come with messages: stored in the file store before the transaction, listed on
//! messages, read back for download.

use super::*;

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
