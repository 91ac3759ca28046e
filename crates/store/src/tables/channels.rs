//! The channels and teams tables. `find` looks a channel up without its workspace, for inbound
//! endpoints that learn the workspace from the channel; every other query filters on it.

use seam_core::{
    Result,
    channel::{Channel, ChannelKind},
    ids::{ChannelId, TeamId, WorkspaceId},
};

use crate::driver::{Columns, Conn, Driver, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, kind, name, config, secret, created_at"
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
        created_at: row.time("created_at")?,
    })
}

pub(crate) async fn insert<D: Driver>(conn: &mut Conn<D>, channel: &Channel) -> Result<()> {
    Sql::<D>::new(concat!(
        "INSERT INTO channels (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .uuid(channel.id.0)
    .uuid(channel.workspace_id.0)
    .text(channel.kind.as_str())
    .text(&channel.name)
    .json(&channel.config)
    .text(&channel.secret)
    .time(channel.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn get<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    id: ChannelId,
) -> Result<Option<Channel>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .fetch_optional(conn, read)
    .await
}

pub(crate) async fn find<D: Driver>(conn: &mut Conn<D>, id: ChannelId) -> Result<Option<Channel>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE id = $1"
    ))
    .uuid(id.0)
    .fetch_optional(conn, read)
    .await
}

pub(crate) async fn list<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
) -> Result<Vec<Channel>> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM channels WHERE workspace_id = $1 ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .fetch_all(conn, read)
    .await
}

pub(crate) async fn insert_team<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    id: TeamId,
    name: &str,
) -> Result<()> {
    Sql::<D>::new("INSERT INTO teams (id, workspace_id, name) VALUES ($1, $2, $3)")
        .uuid(id.0)
        .uuid(workspace_id.0)
        .text(name)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn team_exists<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    id: TeamId,
) -> Result<bool> {
    let found = Sql::<D>::new("SELECT 1 AS found FROM teams WHERE workspace_id = $1 AND id = $2")
        .uuid(workspace_id.0)
        .uuid(id.0)
        .fetch_optional(conn, |_| Ok(()))
        .await?;
    Ok(found.is_some())
}
