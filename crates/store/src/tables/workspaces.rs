//! The workspaces table. A workspace is the tenant, so nothing here filters by tenant.

use seam_core::{
    Error, Result,
    ids::WorkspaceId,
    user::Language,
    workspace::{Continuity, IdentityRules, Workspace},
};

use crate::driver::{Columns, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, name, default_region, continuity, reopen_window_secs, identity_rules, time_zone, \
        languages, created_at"
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
        time_zone: row.text("time_zone")?,
        languages: read_languages(&row.text("languages")?)?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn insert<D: Driver>(workspace: &Workspace) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO workspaces (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .uuid(workspace.id.0)
    .text(&workspace.name)
    .text(&workspace.default_region)
    .text(workspace.continuity.as_str())
    .i64(workspace.reopen_window_secs)
    .json_owned(rules_json(&workspace.identity_rules))
    .text(&workspace.time_zone)
    .text(&languages_text(&workspace.languages))
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

/// Languages are stored comma-separated, the default first.
fn languages_text(languages: &[Language]) -> String {
    languages
        .iter()
        .map(|language| language.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn read_languages(text: &str) -> Result<Vec<Language>> {
    text.split(',')
        .map(|code| {
            Language::parse(code.trim())
                .ok_or_else(|| Error::internal(format!("stored language {code:?}")))
        })
        .collect()
}

/// Saves the settings an admin edits (the identity rules have their own statement).
pub(crate) fn update<D: Driver>(workspace: &Workspace) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE workspaces SET name = $2, default_region = $3, continuity = $4,
            reopen_window_secs = $5, time_zone = $6, languages = $7
        WHERE id = $1",
    )
    .uuid(workspace.id.0)
    .text(&workspace.name)
    .text(&workspace.default_region)
    .text(workspace.continuity.as_str())
    .i64(workspace.reopen_window_secs)
    .text(&workspace.time_zone)
    .text(&languages_text(&workspace.languages))
}

fn rules_json(rules: &IdentityRules) -> serde_json::Value {
    serde_json::to_value(rules).unwrap_or_else(|_| serde_json::json!({}))
}

pub(crate) fn update_identity_rules<D: Driver>(id: WorkspaceId, rules: &IdentityRules) -> Sql<D> {
    Sql::<D>::new("UPDATE workspaces SET identity_rules = $2 WHERE id = $1")
        .uuid(id.0)
        .json_owned(rules_json(rules))
}
