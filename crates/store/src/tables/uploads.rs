//! The uploads table: files agents uploaded to send with replies (their bytes live in the file
//! store). Every statement filters on the workspace. Decides nothing.

use seam_core::{
    Result,
    ids::{UploadId, UserId, WorkspaceId},
    uploads::Upload,
};
use uuid::Uuid;

use crate::driver::{Columns, Driver, Select, Sql};

pub(crate) fn insert<D: Driver>(upload: &Upload) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO uploads (id, workspace_id, user_id, sha256, file_name, content_type,
            size_bytes, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .uuid(upload.id.0)
    .uuid(upload.workspace_id.0)
    .uuid(upload.user_id.0)
    .text(&upload.sha256)
    .text(&upload.file_name)
    .text(&upload.content_type)
    .i64(upload.size_bytes)
    .time(upload.created_at)
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Upload> {
    Ok(Upload {
        id: UploadId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        user_id: UserId(row.uuid("user_id")?),
        sha256: row.text("sha256")?,
        file_name: row.text("file_name")?,
        content_type: row.text("content_type")?,
        size_bytes: row.i64("size_bytes")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn of_workspace<D: Driver>(
    workspace_id: WorkspaceId,
    ids: &[UploadId],
) -> Select<D, Upload> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    Sql::<D>::assembled(format!(
        "SELECT id, workspace_id, user_id, sha256, file_name, content_type, size_bytes, created_at
        FROM uploads WHERE workspace_id = $1 AND id {}",
        D::in_uuid_list(2)
    ))
    .uuid(workspace_id.0)
    .uuid_list(&ids)
    .select(read)
}
