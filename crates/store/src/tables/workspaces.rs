//! The workspaces table. A workspace is the tenant, so nothing here filters by tenant.

use seam_core::{
    Result,
    ids::WorkspaceId,
    workspace::{Continuity, Workspace},
};

use crate::driver::{Columns, Conn, Driver, Sql};

macro_rules! columns {
    () => {
        "id, name, default_region, continuity, reopen_window_secs, created_at"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(row.uuid("id")?),
        name: row.text("name")?,
        default_region: row.text("default_region")?,
        continuity: row.parsed("continuity", Continuity::parse)?,
        reopen_window_secs: row.i64("reopen_window_secs")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) async fn insert<D: Driver>(conn: &mut Conn<D>, workspace: &Workspace) -> Result<()> {
    Sql::<D>::new(concat!(
        "INSERT INTO workspaces (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .uuid(workspace.id.0)
    .text(&workspace.name)
    .text(&workspace.default_region)
    .text(workspace.continuity.as_str())
    .i64(workspace.reopen_window_secs)
    .time(workspace.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn get<D: Driver>(
    conn: &mut Conn<D>,
    id: WorkspaceId,
) -> Result<Option<Workspace>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM workspaces WHERE id = $1"
    ))
    .uuid(id.0)
    .fetch_optional(conn, read)
    .await
}

pub(crate) async fn list<D: Driver>(conn: &mut Conn<D>) -> Result<Vec<Workspace>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM workspaces ORDER BY created_at, id"
    ))
    .fetch_all(conn, read)
    .await
}
