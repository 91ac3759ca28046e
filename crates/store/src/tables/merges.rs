//! The merges and resolution_log tables, and the moves a merge and its undo make across the
//! customer-owned tables. Every statement filters on the workspace.

use seam_core::{
    Error, Result, Timestamp,
    channel::ChannelKind,
    conversation::Page,
    cursor::Cursor,
    identity::{Identity, IdentityKind},
    ids::{
        ConversationId, CustomerId, EventId, MergeId, MessageId, ResolutionEntryId, UserId,
        WorkspaceId,
    },
    merge::Merge,
    resolution::{ResolutionAction, ResolutionEntry},
};
use uuid::Uuid;

use super::page_end;
use crate::driver::{Columns, Conn, Driver, Select, Sql};

macro_rules! merge_columns {
    () => {
        "id, workspace_id, survivor_id, absorbed_id, actor_user_id, rule, snapshot, created_at, \
        undone_at, undone_by_user_id"
    };
}

macro_rules! entry_columns {
    () => {
        "id, workspace_id, customer_id, other_customer_id, action, identity_kind, identity_value, \
        rule, merge_id, created_at, reviewed_at"
    };
}

fn read_merge<D: Driver>(row: Columns<'_, D>) -> Result<Merge> {
    Ok(Merge {
        id: MergeId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        survivor_id: CustomerId(row.uuid("survivor_id")?),
        absorbed_id: CustomerId(row.uuid("absorbed_id")?),
        actor_user_id: row.opt_uuid("actor_user_id")?.map(UserId),
        rule: row.opt_text("rule")?,
        snapshot: serde_json::from_value(row.json("snapshot")?)
            .map_err(|error| Error::internal(format!("stored merge snapshot: {error}")))?,
        created_at: row.time("created_at")?,
        undone_at: row.opt_time("undone_at")?,
        undone_by_user_id: row.opt_uuid("undone_by_user_id")?.map(UserId),
    })
}

fn read_entry<D: Driver>(row: Columns<'_, D>) -> Result<ResolutionEntry> {
    let kind = row.opt_parsed("identity_kind", IdentityKind::parse)?;
    let value = row.opt_text("identity_value")?;
    Ok(ResolutionEntry {
        id: ResolutionEntryId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        customer_id: CustomerId(row.uuid("customer_id")?),
        other_customer_id: row.opt_uuid("other_customer_id")?.map(CustomerId),
        action: row.parsed("action", ResolutionAction::parse)?,
        identity: kind
            .zip(value)
            .map(|(kind, value)| Identity::from_stored(kind, value)),
        rule: row.text("rule")?,
        merge_id: row.opt_uuid("merge_id")?.map(MergeId),
        created_at: row.time("created_at")?,
        reviewed_at: row.opt_time("reviewed_at")?,
    })
}

pub(crate) fn insert_merge<D: Driver>(merge: &Merge) -> Result<Sql<D>> {
    let snapshot = serde_json::to_value(&merge.snapshot).map_err(Error::internal)?;
    Ok(Sql::<D>::new(concat!(
        "INSERT INTO merges (",
        merge_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .uuid(merge.id.0)
    .uuid(merge.workspace_id.0)
    .uuid(merge.survivor_id.0)
    .uuid(merge.absorbed_id.0)
    .opt_uuid(merge.actor_user_id.map(|id| id.0))
    .opt_text(merge.rule.as_deref())
    .json_owned(snapshot)
    .time(merge.created_at)
    .opt_time(merge.undone_at)
    .opt_uuid(merge.undone_by_user_id.map(|id| id.0)))
}

pub(crate) fn get_merge<D: Driver>(workspace_id: WorkspaceId, id: MergeId) -> Select<D, Merge> {
    Sql::<D>::new(concat!(
        "SELECT ",
        merge_columns!(),
        " FROM merges WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read_merge)
}

pub(crate) fn update_merge_undone<D: Driver>(merge: &Merge) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE merges SET undone_at = $3, undone_by_user_id = $4 WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(merge.workspace_id.0)
    .uuid(merge.id.0)
    .opt_time(merge.undone_at)
    .opt_uuid(merge.undone_by_user_id.map(|id| id.0))
}

/// One multi-row insert; `None` when there is nothing to insert.
pub(crate) fn insert_entries<D: Driver>(entries: &[ResolutionEntry]) -> Option<Sql<D>> {
    if entries.is_empty() {
        return None;
    }
    let mut sql = String::from(concat!(
        "INSERT INTO resolution_log (",
        entry_columns!(),
        ") VALUES "
    ));
    for index in 0..entries.len() {
        if index > 0 {
            sql.push_str(", ");
        }
        let first = index * 11 + 1;
        let placeholders: Vec<String> = (first..first + 11).map(|n| format!("${n}")).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    let mut statement = Sql::<D>::assembled(sql);
    for entry in entries {
        statement = statement
            .uuid(entry.id.0)
            .uuid(entry.workspace_id.0)
            .uuid(entry.customer_id.0)
            .opt_uuid(entry.other_customer_id.map(|id| id.0))
            .text(entry.action.as_str())
            .opt_text(
                entry
                    .identity
                    .as_ref()
                    .map(|identity| identity.kind.as_str()),
            )
            .opt_text(
                entry
                    .identity
                    .as_ref()
                    .map(|identity| identity.value.as_str()),
            )
            .text(&entry.rule)
            .opt_uuid(entry.merge_id.map(|id| id.0))
            .time(entry.created_at)
            .opt_time(entry.reviewed_at);
    }
    Some(statement)
}

pub(crate) fn log_of_customer<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    limit: u32,
) -> Select<D, ResolutionEntry> {
    Sql::<D>::new(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM resolution_log WHERE workspace_id = $1 AND (customer_id = $2 OR other_customer_id = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .i64(i64::from(limit))
    .select(read_entry)
}

pub(crate) async fn open_conflicts<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ResolutionEntry>> {
    let mut sql = String::from(concat!(
        "SELECT ",
        entry_columns!(),
        " FROM resolution_log WHERE workspace_id = $1 AND action = 'conflict' AND reviewed_at IS NULL"
    ));
    if cursor.is_some() {
        sql.push_str(" AND created_at <= $3 AND (created_at < $3 OR id < $4)");
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $2");
    let mut statement = Sql::<D>::assembled(sql)
        .uuid(workspace_id.0)
        .i64(i64::from(limit) + 1);
    if let Some(cursor) = cursor {
        statement = statement.time(cursor.at).uuid(cursor.id);
    }
    let mut items = statement.select(read_entry).all(conn).await?;
    let next_cursor = page_end(&mut items, limit, |entry| Cursor {
        at: entry.created_at,
        id: entry.id.0,
    });
    Ok(Page { items, next_cursor })
}

pub(crate) fn mark_reviewed<D: Driver>(
    workspace_id: WorkspaceId,
    id: ResolutionEntryId,
    now: Timestamp,
) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE resolution_log SET reviewed_at = $3
        WHERE workspace_id = $1 AND id = $2 AND action = 'conflict' AND reviewed_at IS NULL",
    )
    .uuid(workspace_id.0)
    .uuid(id.0)
    .time(now)
}

pub(crate) fn conversation_ids<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, ConversationId> {
    Sql::<D>::new(
        "SELECT id FROM conversations WHERE workspace_id = $1 AND customer_id = $2 ORDER BY id",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| Ok(ConversationId(row.uuid("id")?)))
}

pub(crate) fn message_ids<D: Driver>(
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
) -> Select<D, MessageId> {
    Sql::<D>::new(
        "SELECT id FROM messages WHERE workspace_id = $1 AND conversation_id = $2 ORDER BY id",
    )
    .uuid(workspace_id.0)
    .uuid(conversation_id.0)
    .select(|row| Ok(MessageId(row.uuid("id")?)))
}

pub(crate) fn consent_kinds<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, ChannelKind> {
    Sql::<D>::new(
        "SELECT channel_kind FROM customer_consents WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY channel_kind",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| row.parsed("channel_kind", ChannelKind::parse))
}

pub(crate) fn move_consents<D: Driver>(
    workspace_id: WorkspaceId,
    kinds: &[ChannelKind],
    from: CustomerId,
    to: CustomerId,
) -> Vec<Sql<D>> {
    kinds
        .iter()
        .map(|kind| {
            Sql::<D>::new(
                "UPDATE customer_consents SET customer_id = $3
                WHERE workspace_id = $1 AND customer_id = $2 AND channel_kind = $4",
            )
            .uuid(workspace_id.0)
            .uuid(from.0)
            .uuid(to.0)
            .text(kind.as_str())
        })
        .collect()
}

pub(crate) fn event_ids<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, EventId> {
    Sql::<D>::new("SELECT id FROM events WHERE workspace_id = $1 AND customer_id = $2 ORDER BY id")
        .uuid(workspace_id.0)
        .uuid(customer_id.0)
        .select(|row| Ok(EventId(row.uuid("id")?)))
}

/// Every table that holds a customer's records, moved from `from` to `to`, and the stored
/// computed fields of `from` folded into those of `to` (seen times widened, channels used
/// joined, CSAT sums added). A table added later that belongs to customers joins this list.
pub(crate) fn reassign<D: Driver>(
    workspace_id: WorkspaceId,
    from: CustomerId,
    to: CustomerId,
) -> Vec<Sql<D>> {
    const TABLES: [&str; 6] = [
        "identities",
        "conversations",
        "messages",
        "events",
        "orders",
        "returns",
    ];
    const FOLD_STATS: &str = "INSERT INTO customer_stats
            (workspace_id, customer_id, first_seen_at, last_seen_at, csat_total, csat_count,
            updated_at)
        SELECT workspace_id, $3, first_seen_at, last_seen_at, csat_total, csat_count, updated_at
        FROM customer_stats WHERE workspace_id = $1 AND customer_id = $2
        ON CONFLICT (workspace_id, customer_id) DO UPDATE SET
            first_seen_at = CASE WHEN excluded.first_seen_at < customer_stats.first_seen_at
                THEN excluded.first_seen_at ELSE customer_stats.first_seen_at END,
            last_seen_at = CASE WHEN excluded.last_seen_at > customer_stats.last_seen_at
                THEN excluded.last_seen_at ELSE customer_stats.last_seen_at END,
            csat_total = customer_stats.csat_total + excluded.csat_total,
            csat_count = customer_stats.csat_count + excluded.csat_count";
    const FOLD_CHANNELS: &str = "INSERT INTO customer_channels
            (workspace_id, customer_id, channel_id, first_at, last_at)
        SELECT workspace_id, $3, channel_id, first_at, last_at
        FROM customer_channels WHERE workspace_id = $1 AND customer_id = $2
        ON CONFLICT (workspace_id, customer_id, channel_id) DO UPDATE SET
            first_at = CASE WHEN excluded.first_at < customer_channels.first_at
                THEN excluded.first_at ELSE customer_channels.first_at END,
            last_at = CASE WHEN excluded.last_at > customer_channels.last_at
                THEN excluded.last_at ELSE customer_channels.last_at END";
    let scoped = |sql: Sql<D>| sql.uuid(workspace_id.0).uuid(from.0).uuid(to.0);
    TABLES
        .iter()
        .map(|table| {
            scoped(Sql::<D>::assembled(format!(
                "UPDATE {table} SET customer_id = $3 WHERE workspace_id = $1 AND customer_id = $2"
            )))
        })
        .chain([
            scoped(Sql::new(FOLD_STATS)),
            scoped(Sql::new(FOLD_CHANNELS)),
        ])
        .collect()
}

/// Orders (`table` = `orders`, key `order_id`) or returns back to `to`.
pub(crate) fn move_keyed<D: Driver>(
    table: &'static str,
    key: &'static str,
    workspace_id: WorkspaceId,
    ids: &[String],
    to: CustomerId,
) -> Vec<Sql<D>> {
    ids.iter()
        .map(|id| {
            Sql::<D>::assembled(format!(
                "UPDATE {table} SET customer_id = $3 WHERE workspace_id = $1 AND {key} = $2"
            ))
            .uuid(workspace_id.0)
            .text(id)
            .uuid(to.0)
        })
        .collect()
}

pub(crate) fn keyed_ids<D: Driver>(
    table: &'static str,
    key: &'static str,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, String> {
    Sql::<D>::assembled(format!(
        "SELECT {key} AS key FROM {table} WHERE workspace_id = $1 AND customer_id = $2 ORDER BY {key}"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| row.text("key"))
}

pub(crate) fn move_identities<D: Driver>(
    workspace_id: WorkspaceId,
    identities: &[Identity],
    to: CustomerId,
) -> Vec<Sql<D>> {
    identities
        .iter()
        .map(|identity| {
            Sql::<D>::new(
                "UPDATE identities SET customer_id = $4
                WHERE workspace_id = $1 AND kind = $2 AND value = $3",
            )
            .uuid(workspace_id.0)
            .text(identity.kind.as_str())
            .text(&identity.value)
            .uuid(to.0)
        })
        .collect()
}

/// Rows of `table` whose id is listed get `customer_id = to`; `None` for an empty list.
fn move_rows<D: Driver>(
    table: &str,
    key: &str,
    workspace_id: WorkspaceId,
    ids: &[Uuid],
    to: CustomerId,
) -> Option<Sql<D>> {
    if ids.is_empty() {
        return None;
    }
    Some(
        Sql::<D>::assembled(format!(
            "UPDATE {table} SET customer_id = $2 WHERE workspace_id = $1 AND {key} {}",
            D::in_uuid_list(3)
        ))
        .uuid(workspace_id.0)
        .uuid(to.0)
        .uuid_list(ids),
    )
}

pub(crate) fn move_conversations<D: Driver>(
    workspace_id: WorkspaceId,
    ids: &[ConversationId],
    to: CustomerId,
) -> Vec<Sql<D>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let conversations = move_rows::<D>("conversations", "id", workspace_id, &ids, to);
    let messages = move_rows::<D>("messages", "conversation_id", workspace_id, &ids, to);
    conversations.into_iter().chain(messages).collect()
}

pub(crate) fn move_events<D: Driver>(
    workspace_id: WorkspaceId,
    ids: &[EventId],
    to: CustomerId,
) -> Option<Sql<D>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    move_rows::<D>("events", "id", workspace_id, &ids, to)
}

pub(crate) fn move_messages<D: Driver>(
    workspace_id: WorkspaceId,
    ids: &[MessageId],
    customer_id: CustomerId,
    conversation_id: ConversationId,
) -> Option<Sql<D>> {
    if ids.is_empty() {
        return None;
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    Some(
        Sql::<D>::assembled(format!(
            "UPDATE messages SET customer_id = $2, conversation_id = $3
            WHERE workspace_id = $1 AND id {}",
            D::in_uuid_list(4)
        ))
        .uuid(workspace_id.0)
        .uuid(customer_id.0)
        .uuid(conversation_id.0)
        .uuid_list(&ids),
    )
}
