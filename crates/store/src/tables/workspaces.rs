//! The workspaces table. A workspace is the tenant, so nothing here filters by tenant.

use seam_core::{
    Result,
    ids::WorkspaceId,
    workspace::{Continuity, Workspace},
};

use crate::driver::{Columns, Driver, Select, Sql};

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

pub(crate) fn insert<D: Driver>(workspace: &Workspace) -> Sql<D> {
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
}

pub(crate) fn get<D: Driver>(id: WorkspaceId) -> Select<D, Workspace> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM workspaces WHERE id = $1"
    ))
    .uuid(id.0)
    .select(read)
}

pub(crate) fn list<D: Driver>() -> Select<D, Workspace> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM workspaces ORDER BY created_at, id"
    ))
    .select(read)
}
