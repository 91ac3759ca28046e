//! The events table for tracking (lookups by `messageId`, inserts of a whole batch in one
//! statement) and the customer timeline: one `UNION ALL` of messages and events with the
//! cursor applied on both sides. Every query filters on the workspace.

use seam_core::{
    Result,
    conversation::Page,
    cursor::Cursor,
    event::Event,
    ids::{CustomerId, EventId, WorkspaceId},
    timeline::{TimelineFilter, TimelineItem},
};

use super::{messages, page_end};
use crate::driver::{Columns, Conn, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, customer_id, name, properties, occurred_at, created_at, message_id"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Event> {
    Ok(Event {
        id: EventId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        customer_id: CustomerId(row.uuid("customer_id")?),
        name: row.text("name")?,
        properties: row.json("properties")?,
        occurred_at: row.time("occurred_at")?,
        created_at: row.time("created_at")?,
        message_id: row.opt_text("message_id")?,
    })
}

/// `None` when there is nothing to look up.
pub(crate) fn find_by_message_ids<D: Driver>(
    workspace_id: WorkspaceId,
    message_ids: &[String],
) -> Option<Select<D, Event>> {
    if message_ids.is_empty() {
        return None;
    }
    let placeholders: Vec<String> = (0..message_ids.len())
        .map(|index| format!("${}", index + 2))
        .collect();
    let sql = format!(
        concat!(
            "SELECT ",
            columns!(),
            " FROM events WHERE workspace_id = $1 AND message_id IN ({})"
        ),
        placeholders.join(", ")
    );
    let mut statement = Sql::<D>::assembled(sql).uuid(workspace_id.0);
    for message_id in message_ids {
        statement = statement.text(message_id);
    }
    Some(statement.select(read))
}

/// Every event in one statement; `None` when there are none. A taken `messageId` fails the
/// statement with `Conflict`.
pub(crate) fn insert_all<D: Driver>(events: &[Event]) -> Option<Sql<D>> {
    if events.is_empty() {
        return None;
    }
    let mut sql = String::with_capacity(120 + events.len() * 48);
    sql.push_str(concat!("INSERT INTO events (", columns!(), ") VALUES "));
    for index in 0..events.len() {
        if index > 0 {
            sql.push_str(", ");
        }
        let first = index * 8;
        let row: Vec<String> = (1..=8).map(|n| format!("${}", first + n)).collect();
        sql.push('(');
        sql.push_str(&row.join(", "));
        sql.push(')');
    }
    let mut statement = Sql::<D>::assembled(sql);
    for event in events {
        statement = statement
            .uuid(event.id.0)
            .uuid(event.workspace_id.0)
            .uuid(event.customer_id.0)
            .text(&event.name)
            .json(&event.properties)
            .time(event.occurred_at)
            .time(event.created_at)
            .opt_text(event.message_id.as_deref());
    }
    Some(statement)
}

/// The messages side of the timeline. Its columns line up with [`EVENT_SIDE`]; the typed
/// `NULL`s let PostgreSQL match the two sides (SQLite reads any `CAST(NULL AS …)` as NULL).
const MESSAGE_SIDE: &str = "SELECT 'message' AS item_type, id, workspace_id, customer_id,
    created_at AS item_at, conversation_id, kind, channel_id, identity, identity_kind, author_id,
    provider_message_id, text, delivery_status, delivery_error, sent_at, created_at,
    CAST(NULL AS text) AS name, CAST(NULL AS jsonb) AS properties,
    CAST(NULL AS timestamptz) AS occurred_at, CAST(NULL AS text) AS message_id
    FROM messages WHERE workspace_id = $1 AND customer_id = $2";

const EVENT_SIDE: &str = "SELECT 'event' AS item_type, id, workspace_id, customer_id,
    occurred_at AS item_at, CAST(NULL AS uuid) AS conversation_id, CAST(NULL AS text) AS kind,
    CAST(NULL AS uuid) AS channel_id, CAST(NULL AS text) AS identity,
    CAST(NULL AS text) AS identity_kind, CAST(NULL AS uuid) AS author_id, CAST(NULL AS text) AS provider_message_id,
    CAST(NULL AS text) AS text, CAST(NULL AS text) AS delivery_status,
    CAST(NULL AS text) AS delivery_error, CAST(NULL AS timestamptz) AS sent_at, created_at,
    name, properties, occurred_at, message_id
    FROM events WHERE workspace_id = $1 AND customer_id = $2";

fn read_item<D: Driver>(row: Columns<'_, D>) -> Result<TimelineItem> {
    if row.text("item_type")? == "event" {
        return read(row).map(TimelineItem::Event);
    }
    // The message side's columns carry the messages table's names.
    messages::read(row).map(TimelineItem::Message)
}

/// One side, newest first, bounded by the cursor and the limit so that each side is one
/// range scan of its timeline index. Placeholders: `$1` workspace, `$2` customer, then the
/// channel (messages only, when filtered), then `$c`/`$c+1` the cursor and `$l` the limit.
fn side(base: &str, time: &str, channel: bool, cursor: bool) -> String {
    let mut sql = String::from(base);
    let mut next = 3;
    if channel {
        sql.push_str(&format!(" AND channel_id = ${next}"));
        next += 1;
    }
    if cursor {
        sql.push_str(&format!(
            " AND {time} <= ${next} AND ({time} < ${next} OR id < ${})",
            next + 1
        ));
        next += 2;
    }
    sql.push_str(&format!(" ORDER BY {time} DESC, id DESC LIMIT ${next}"));
    sql
}

/// Newest first over both sides; one statement.
pub(crate) async fn timeline<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    filter: &TimelineFilter,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page<TimelineItem>> {
    let (messages, events) = filter.admits();
    let channel = filter.channel_id;
    let sql = match (messages, events) {
        (true, true) => {
            // Both sides share their parameters: workspace, customer, cursor, limit.
            let message_side = side(MESSAGE_SIDE, "created_at", false, cursor.is_some());
            let event_side = side(EVENT_SIDE, "occurred_at", false, cursor.is_some());
            let limit = if cursor.is_some() { 5 } else { 3 };
            format!(
                "SELECT * FROM ({message_side}) m UNION ALL SELECT * FROM ({event_side}) e
                ORDER BY item_at DESC, id DESC LIMIT ${limit}"
            )
        }
        (true, false) => side(
            MESSAGE_SIDE,
            "created_at",
            channel.is_some(),
            cursor.is_some(),
        ),
        (false, true) => side(EVENT_SIDE, "occurred_at", false, cursor.is_some()),
        (false, false) => {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
    };
    let mut statement = Sql::<D>::assembled(sql)
        .uuid(workspace_id.0)
        .uuid(customer_id.0);
    if messages
        && !events
        && let Some(channel) = channel
    {
        statement = statement.uuid(channel.0);
    }
    if let Some(cursor) = cursor {
        statement = statement.time(cursor.at).uuid(cursor.id);
    }
    let mut items = statement
        .i64(i64::from(limit) + 1)
        .select(read_item)
        .all(conn)
        .await?;
    let next_cursor = page_end(&mut items, limit, TimelineItem::cursor);
    Ok(Page { items, next_cursor })
}
