//! The outbox and events tables: rows written inside a transaction and read back by the
//! relay, oldest first. The relay is global, so these reads cross workspaces on purpose.

use seam_core::{
    Result,
    event::Event,
    ids::{OutboxId, WorkspaceId},
    outbox::OutboxEvent,
};
use uuid::Uuid;

use crate::driver::{Columns, Conn, Driver, Sql};

fn read<D: Driver>(row: Columns<'_, D>) -> Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: OutboxId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        topic: row.text("topic")?,
        payload: row.json("payload")?,
        created_at: row.time("created_at")?,
    })
}

/// Every row in one statement (a transaction holds its outbox rows back until commit);
/// `None` when there are none.
pub(crate) fn insert_all<D: Driver>(events: Vec<OutboxEvent>) -> Option<Sql<D>> {
    if events.is_empty() {
        return None;
    }
    let mut sql =
        String::from("INSERT INTO outbox (id, workspace_id, topic, payload, created_at) VALUES ");
    for index in 0..events.len() {
        let first = index * 5;
        if index > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            first + 1,
            first + 2,
            first + 3,
            first + 4,
            first + 5
        ));
    }
    let mut statement = Sql::<D>::assembled(sql);
    for event in events {
        statement = statement
            .uuid(event.id.0)
            .uuid(event.workspace_id.0)
            .text(&event.topic)
            .json_owned(event.payload)
            .time(event.created_at);
    }
    Some(statement)
}

pub(crate) async fn fetch<D: Driver>(conn: &mut Conn<D>, limit: u32) -> Result<Vec<OutboxEvent>> {
    Sql::<D>::new(
        "SELECT id, workspace_id, topic, payload, created_at FROM outbox
        ORDER BY created_at, id LIMIT $1",
    )
    .i64(i64::from(limit))
    .select(read)
    .all(conn)
    .await
}

pub(crate) async fn delete<D: Driver>(conn: &mut Conn<D>, ids: &[OutboxId]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    Sql::<D>::new(D::DELETE_OUTBOX)
        .uuid_list(&ids)
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) fn insert_event<D: Driver>(event: &Event) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO events (id, workspace_id, customer_id, name, properties, occurred_at, created_at,
            message_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .uuid(event.id.0)
    .uuid(event.workspace_id.0)
    .uuid(event.customer_id.0)
    .text(&event.name)
    .json(&event.properties)
    .time(event.occurred_at)
    .time(event.created_at)
    .opt_text(event.message_id.as_deref())
}
