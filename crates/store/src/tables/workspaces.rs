//! The workspaces table. A workspace is the tenant, so nothing here filters by tenant.

use seam_core::{
    Error, Result,
    ids::WorkspaceId,
    workspace::{Continuity, IdentityRules, Workspace},
};

use crate::driver::{Columns, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, name, default_region, continuity, reopen_window_secs, identity_rules, created_at"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(row.uuid("id")?),
        name: row.text("name")?,
        default_region: row.text("default_region")?,
        continuity: row.parsed("continuity", Continuity::parse)?,
        reopen_window_secs: row.i64("reopen_window_secs")?,
        identity_rules: serde_json::from_value(row.json("identity_rules")?)
            .map_err(|error| Error::internal(format!("stored identity rules: {error}")))?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn insert<D: Driver>(workspace: &Workspace) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO workspaces (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .uuid(workspace.id.0)
    .text(&workspace.name)
    .text(&workspace.default_region)
    .text(workspace.continuity.as_str())
    .i64(workspace.reopen_window_secs)
    .json_owned(rules_json(&workspace.identity_rules))
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

fn rules_json(rules: &IdentityRules) -> serde_json::Value {
    serde_json::to_value(rules).unwrap_or_else(|_| serde_json::json!({}))
}

pub(crate) fn update_identity_rules<D: Driver>(id: WorkspaceId, rules: &IdentityRules) -> Sql<D> {
    Sql::<D>::new("UPDATE workspaces SET identity_rules = $2 WHERE id = $1")
        .uuid(id.0)
        .json_owned(rules_json(rules))
}
