//! The channels and teams tables. `find` looks a channel up without its workspace, for inbound
//! endpoints that learn the workspace from the channel; every other query filters on it.

use seam_core::{
    Result,
    channel::{Channel, ChannelKind},
    ids::{ChannelId, TeamId, WorkspaceId},
};

use crate::driver::{Columns, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, kind, name, config, secret, credentials, created_at"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Channel> {
    Ok(Channel {
        id: ChannelId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        kind: row.parsed("kind", ChannelKind::parse)?,
        name: row.text("name")?,
        config: row.json("config")?,
        secret: row.text("secret")?,
        credentials: row.text("credentials")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn insert<D: Driver>(channel: &Channel) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO channels (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .uuid(channel.id.0)
    .uuid(channel.workspace_id.0)
    .text(channel.kind.as_str())
    .text(&channel.name)
    .json(&channel.config)
    .text(&channel.secret)
    .text(&channel.credentials)
    .time(channel.created_at)
}

pub(crate) fn update<D: Driver>(channel: &Channel) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE channels SET name = $3, config = $4, credentials = $5
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(channel.workspace_id.0)
    .uuid(channel.id.0)
    .text(&channel.name)
    .json(&channel.config)
    .text(&channel.credentials)
}

pub(crate) fn get<D: Driver>(workspace_id: WorkspaceId, id: ChannelId) -> Select<D, Channel> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read)
}

pub(crate) fn find<D: Driver>(id: ChannelId) -> Select<D, Channel> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE id = $1"
    ))
    .uuid(id.0)
    .select(read)
}

pub(crate) fn list<D: Driver>(workspace_id: WorkspaceId) -> Select<D, Channel> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE workspace_id = $1 ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .select(read)
}

pub(crate) fn insert_team<D: Driver>(workspace_id: WorkspaceId, id: TeamId, name: &str) -> Sql<D> {
    Sql::<D>::new("INSERT INTO teams (id, workspace_id, name) VALUES ($1, $2, $3)")
        .uuid(id.0)
        .uuid(workspace_id.0)
        .text(name)
}

/// One row when the team exists in the workspace.
pub(crate) fn team_exists<D: Driver>(workspace_id: WorkspaceId, id: TeamId) -> Select<D, ()> {
    Sql::new("SELECT 1 AS found FROM teams WHERE workspace_id = $1 AND id = $2")
        .uuid(workspace_id.0)
        .uuid(id.0)
        .select(|_| Ok(()))
}

/// Every channel of one kind, across workspaces: for listeners that learn the workspace from
/// the address a message was sent to.
pub(crate) fn of_kind<D: Driver>(kind: ChannelKind) -> Select<D, Channel> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE kind = $1 ORDER BY created_at, id"
    ))
    .text(kind.as_str())
    .select(read)
}
