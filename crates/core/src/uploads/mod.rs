//! Files agents send with replies. An upload stores the bytes (in the file store) and a row of
//! its own before any reply names it; a reply then copies its uploads into attachment rows of
//! the new message, so the thread shows them like the customer's files. Which channels carry
//! files, of which types and sizes, is decided in `limits`; storage is reached only through the
//! ports.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    Error, Result, Timestamp,
    email::{Attachment, clean_file_name},
    ids::{AttachmentId, MessageId, UploadId, UserId, WorkspaceId},
    ports::{FileStore, Store, Tx},
    user::{Actor, Permission},
};

mod limits;

pub use limits::check_files;

/// The largest file an agent may upload.
pub const MAX_UPLOAD_BYTES: usize = 25 * MIB as usize;
/// The most files one reply may carry.
pub const MAX_FILES_PER_REPLY: usize = 10;
/// Content type of an upload that declared none.
const UNKNOWN_TYPE: &str = "application/octet-stream";

pub(crate) const MIB: i64 = 1024 * 1024;

/// A stored file an agent uploaded. Its bytes are in the file store under (workspace, sha256).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: UploadId,
    pub workspace_id: WorkspaceId,
    /// Who uploaded it.
    pub user_id: UserId,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: Timestamp,
}

impl Upload {
    /// The attachment row that carries this file on message `message_id`.
    pub fn attach_to(&self, message_id: MessageId, now: Timestamp) -> Attachment {
        Attachment {
            id: AttachmentId::new(),
            workspace_id: self.workspace_id,
            message_id,
            file_name: self.file_name.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.size_bytes,
            sha256: self.sha256.clone(),
            content_id: None,
            inline: false,
            created_at: now,
        }
    }
}

/// A media type: `type/subtype` in lower case, parameters dropped (RFC 6838 names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType(String);

impl ContentType {
    pub fn parse(text: &str) -> Result<ContentType> {
        let essence = text
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let name = |name: &str| {
            (1..=127).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&byte))
        };
        match essence.split_once('/') {
            Some((kind, subtype)) if name(kind) && name(subtype) => Ok(ContentType(essence)),
            _ => Err(Error::invalid(
                "content_type",
                "must be a media type such as application/pdf",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A file as an agent sends it, checked: a safe file name, a media type, 1 byte to 25 MiB.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUpload {
    file_name: String,
    content_type: ContentType,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for NewUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUpload")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl NewUpload {
    /// `content_type` absent means unknown (`application/octet-stream`).
    pub fn parse(
        file_name: Option<&str>,
        content_type: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<NewUpload> {
        let file_name = file_name
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                Error::invalid("file_name", "is required, e.g. ?file_name=invoice.pdf")
            })?;
        let content_type = ContentType::parse(content_type.unwrap_or(UNKNOWN_TYPE))?;
        if bytes.is_empty() {
            return Err(Error::invalid(
                "body",
                "is empty; send the file's bytes as the request body",
            ));
        }
        if bytes.len() > MAX_UPLOAD_BYTES {
            return Err(Error::invalid("body", "is larger than 25 MiB"));
        }
        Ok(NewUpload {
            file_name: clean_file_name(file_name),
            content_type,
            bytes,
        })
    }
}

/// Stores an agent's file for a later reply: the bytes first (a file without a row is
/// harmless, a row without its file is not), then the row.
pub async fn upload(
    store: &dyn Store,
    files: &dyn FileStore,
    actor: &Actor,
    file: NewUpload,
    now: Timestamp,
) -> Result<Upload> {
    actor.require(Permission::ReplyToConversations)?;
    let sha256 = hex::encode(Sha256::digest(&file.bytes));
    files.put(actor.workspace_id, &sha256, &file.bytes).await?;
    let upload = Upload {
        id: UploadId::new(),
        workspace_id: actor.workspace_id,
        user_id: actor.user_id,
        sha256,
        file_name: file.file_name,
        content_type: file.content_type.0,
        size_bytes: file.bytes.len() as i64,
        created_at: now,
    };
    store.insert_upload(&upload).await?;
    Ok(upload)
}

/// What a reply's files must be whatever the channel: at most ten, each named once, never
/// with a template (which goes alone), and a text wherever there are buttons.
pub fn check_reply(
    attachments: &[UploadId],
    text: &str,
    template: bool,
    buttons: bool,
) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    if attachments.len() > MAX_FILES_PER_REPLY {
        return Err(Error::invalid(
            "attachments",
            format!("holds more than {MAX_FILES_PER_REPLY} files"),
        ));
    }
    for (index, id) in attachments.iter().enumerate() {
        if attachments[..index].contains(id) {
            return Err(Error::invalid(
                format!("attachments[{index}]"),
                "names an upload already attached",
            ));
        }
    }
    if template {
        return Err(Error::invalid(
            "attachments",
            "cannot go with a template, which is sent alone",
        ));
    }
    if buttons && text.trim().is_empty() {
        return Err(Error::invalid("text", "is empty; buttons need a text"));
    }
    Ok(())
}

/// The uploads named by a reply, in its order; an id that is not an upload of the workspace
/// is invalid, named by its place in `attachments`.
pub async fn uploads_of(
    tx: &mut dyn Tx,
    workspace_id: WorkspaceId,
    ids: &[UploadId],
) -> Result<Vec<Upload>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = tx.uploads(workspace_id, ids).await?;
    ids.iter()
        .enumerate()
        .map(|(index, id)| {
            found
                .iter()
                .find(|upload| upload.id == *id && upload.workspace_id == workspace_id)
                .cloned()
                .ok_or_else(|| {
                    Error::invalid(
                        format!("attachments[{index}]"),
                        "is not an upload of this workspace",
                    )
                })
        })
        .collect()
}

/// The files of a messaging delivery job, in order: `[{attachment_id, content_type,
/// file_name}]`. The sender turns each into a link the provider fetches.
pub fn job_media(attachments: &[Attachment]) -> serde_json::Value {
    serde_json::Value::Array(
        attachments
            .iter()
            .map(|attachment| {
                serde_json::json!({
                    "attachment_id": attachment.id,
                    "content_type": attachment.content_type,
                    "file_name": attachment.file_name,
                })
            })
            .collect(),
    )
}

/// A file fetched by its signed media link. The caller must have checked the link's signature:
/// the link, made by Seam for one attachment, is what establishes the workspace.
pub async fn media_file(
    store: &dyn Store,
    files: &dyn FileStore,
    id: AttachmentId,
) -> Result<(Attachment, Vec<u8>)> {
    let attachment = store.find_attachment(id).await?.ok_or(Error::NotFound)?;
    let bytes = files
        .get(attachment.workspace_id, &attachment.sha256)
        .await?
        .ok_or_else(|| Error::internal("an attachment's file is missing from the file store"))?;
    Ok((attachment, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_media_types_without_parameters() {
        assert_eq!(
            ContentType::parse("Application/PDF; name=x.pdf")
                .unwrap()
                .as_str(),
            "application/pdf"
        );
        assert_eq!(
            ContentType::parse(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            )
            .unwrap()
            .as_str(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        for bad in [
            "",
            "pdf",
            "text/",
            "/plain",
            "text/plain/x",
            "te xt/plain",
            "text/pl\"ain",
        ] {
            assert!(ContentType::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_upload_needs_a_name_and_bytes_and_defaults_to_an_unknown_type() {
        let parsed = NewUpload::parse(Some("../a/invoice.pdf"), None, vec![1]).unwrap();
        assert_eq!(parsed.file_name, "invoice.pdf");
        assert_eq!(parsed.content_type.as_str(), "application/octet-stream");
        let empty = NewUpload::parse(Some("a.pdf"), Some("application/pdf"), Vec::new());
        assert!(
            matches!(&empty, Err(Error::Invalid { field, reason }) if field == "body" && reason.contains("empty")),
            "{empty:?}"
        );
        let unnamed = NewUpload::parse(Some("  "), Some("application/pdf"), vec![1]);
        assert!(
            matches!(&unnamed, Err(Error::Invalid { field, .. }) if field == "file_name"),
            "{unnamed:?}"
        );
    }

    #[test]
    fn a_reply_holds_at_most_ten_distinct_files_and_never_with_a_template() {
        let eleven: Vec<UploadId> = (0..11).map(|_| UploadId::new()).collect();
        assert!(check_reply(&eleven[..10], "", false, false).is_ok());
        let error = check_reply(&eleven, "", false, false).unwrap_err();
        assert!(matches!(&error, Error::Invalid { field, .. } if field == "attachments"));
        let twice = [eleven[0], eleven[1], eleven[0]];
        let error = check_reply(&twice, "", false, false).unwrap_err();
        assert!(matches!(&error, Error::Invalid { field, .. } if field == "attachments[2]"));
        assert!(check_reply(&eleven[..1], "", true, false).is_err());
        assert!(check_reply(&eleven[..1], " ", false, true).is_err());
        assert!(check_reply(&eleven[..1], "Pick one", false, true).is_ok());
    }
}
