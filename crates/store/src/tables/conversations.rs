//! The conversations table (and, through its triggers, conversation_labels): continuity
//! lookups, saves, and the filtered, keyset-paginated inbox list. Every query filters on the
//! workspace.

use seam_core::{
    Result, Timestamp,
    conversation::{
        AssigneeFilter, Conversation, ConversationFilter, ConversationStatus, ConversationSummary,
        Page, Preview, Priority,
    },
    cursor::Cursor,
    ids::{ChannelId, ConversationId, CustomerId, TeamId, UserId, WorkspaceId},
    message::MessageKind,
};
use uuid::Uuid;

use super::{customers::contains_pattern, page_end};
use crate::driver::{Columns, Conn, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, customer_id, status, priority, assignee_id, team_id, labels, \
        last_channel_id, previous_conversation_id, last_activity_at, waiting_since, snoozed_until, \
        resolved_at, created_at, updated_at"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        customer_id: CustomerId(row.uuid("customer_id")?),
        status: row.parsed("status", ConversationStatus::parse)?,
        priority: row.parsed("priority", Priority::parse)?,
        assignee_id: row.opt_uuid("assignee_id")?.map(UserId),
        team_id: row.opt_uuid("team_id")?.map(TeamId),
        labels: row.labels("labels")?,
        last_channel_id: row.opt_uuid("last_channel_id")?.map(ChannelId),
        previous_conversation_id: row
            .opt_uuid("previous_conversation_id")?
            .map(ConversationId),
        last_activity_at: row.time("last_activity_at")?,
        waiting_since: row.opt_time("waiting_since")?,
        snoozed_until: row.opt_time("snoozed_until")?,
        resolved_at: row.opt_time("resolved_at")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn insert<D: Driver>(conversation: &Conversation) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO conversations (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .uuid(conversation.id.0)
    .uuid(conversation.workspace_id.0)
    .uuid(conversation.customer_id.0)
    .text(conversation.status.as_str())
    .text(conversation.priority.as_str())
    .opt_uuid(conversation.assignee_id.map(|id| id.0))
    .opt_uuid(conversation.team_id.map(|id| id.0))
    .labels(&conversation.labels)
    .opt_uuid(conversation.last_channel_id.map(|id| id.0))
    .opt_uuid(conversation.previous_conversation_id.map(|id| id.0))
    .time(conversation.last_activity_at)
    .opt_time(conversation.waiting_since)
    .opt_time(conversation.snoozed_until)
    .opt_time(conversation.resolved_at)
    .time(conversation.created_at)
    .time(conversation.updated_at)
}

/// Saves every field. The label index follows through a trigger that fires only when the
/// labels changed, so the common save (a new message) costs one statement.
pub(crate) fn update<D: Driver>(conversation: &Conversation) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE conversations SET status = $3, priority = $4, assignee_id = $5, team_id = $6,
            labels = $7, last_channel_id = $8, previous_conversation_id = $9,
            last_activity_at = $10, waiting_since = $11, snoozed_until = $12, resolved_at = $13,
            updated_at = $14
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(conversation.workspace_id.0)
    .uuid(conversation.id.0)
    .text(conversation.status.as_str())
    .text(conversation.priority.as_str())
    .opt_uuid(conversation.assignee_id.map(|id| id.0))
    .opt_uuid(conversation.team_id.map(|id| id.0))
    .labels(&conversation.labels)
    .opt_uuid(conversation.last_channel_id.map(|id| id.0))
    .opt_uuid(conversation.previous_conversation_id.map(|id| id.0))
    .time(conversation.last_activity_at)
    .opt_time(conversation.waiting_since)
    .opt_time(conversation.snoozed_until)
    .opt_time(conversation.resolved_at)
    .time(conversation.updated_at)
}

pub(crate) fn get<D: Driver>(
    workspace_id: WorkspaceId,
    id: ConversationId,
) -> Select<D, Conversation> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM conversations WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read)
}

pub(crate) fn latest<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_id: Option<ChannelId>,
) -> Select<D, Conversation> {
    match channel_id {
        None => Sql::<D>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM conversations WHERE workspace_id = $1 AND customer_id = $2
            ORDER BY last_activity_at DESC, id DESC LIMIT 1"
        ))
        .uuid(workspace_id.0)
        .uuid(customer_id.0),
        Some(channel_id) => Sql::<D>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM conversations WHERE workspace_id = $1 AND customer_id = $2
            AND last_channel_id = $3 ORDER BY last_activity_at DESC, id DESC LIMIT 1"
        ))
        .uuid(workspace_id.0)
        .uuid(customer_id.0)
        .uuid(channel_id.0),
    }
    .select(read)
}

/// Not resolved, newest activity first.
pub(crate) fn open_of_customer<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Conversation> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM conversations WHERE workspace_id = $1 AND customer_id = $2 AND status <> 'resolved'
        ORDER BY last_activity_at DESC, id DESC"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read)
}

/// Newest activity first. The statement holds only the conditions the filter uses, so each
/// filter shape gets its own prepared statement and plan.
pub(crate) async fn list<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    filter: &ConversationFilter,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page<Conversation>> {
    let mut sql = String::from(concat!(
        "SELECT ",
        columns!(),
        " FROM conversations c WHERE c.workspace_id = $1"
    ));
    let mut count = 1;
    let mut param = || {
        count += 1;
        format!("${count}")
    };
    if filter.status.is_some() {
        sql.push_str(&format!(" AND c.status = {}", param()));
    }
    match filter.assignee {
        Some(AssigneeFilter::User(_)) => sql.push_str(&format!(" AND c.assignee_id = {}", param())),
        Some(AssigneeFilter::Unassigned) => sql.push_str(" AND c.assignee_id IS NULL"),
        None => {}
    }
    if filter.team_id.is_some() {
        sql.push_str(&format!(" AND c.team_id = {}", param()));
    }
    if filter.customer_id.is_some() {
        sql.push_str(&format!(" AND c.customer_id = {}", param()));
    }
    if filter.label.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM conversation_labels l
                WHERE l.conversation_id = c.id AND l.label = {})",
            param()
        ));
    }
    if filter.channel_id.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.channel_id = {})",
            param()
        ));
    }
    if filter.query.is_some() {
        let (lower, folded) = (param(), param());
        sql.push_str(&format!(
            " AND (EXISTS (SELECT 1 FROM customers cu WHERE cu.id = c.customer_id
                    AND (lower(cu.name) LIKE {lower} ESCAPE '\\' OR cu.name_key LIKE {folded} ESCAPE '\\'))
                OR EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.customer_id
                    AND lower(i.value) LIKE {lower} ESCAPE '\\')
                OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                    AND lower(m.text) LIKE {lower} ESCAPE '\\'))"
        ));
    }
    if cursor.is_some() {
        let (at, id) = (param(), param());
        // The first condition is a plain range both planners can take from the index.
        sql.push_str(&format!(
            " AND c.last_activity_at <= {at} AND (c.last_activity_at < {at} OR c.id < {id})"
        ));
    }
    sql.push_str(&format!(
        " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {}",
        param()
    ));

    let mut statement = Sql::<D>::assembled(sql).uuid(workspace_id.0);
    if let Some(status) = filter.status {
        statement = statement.text(status.as_str());
    }
    if let Some(AssigneeFilter::User(user)) = filter.assignee {
        statement = statement.uuid(user.0);
    }
    if let Some(team) = filter.team_id {
        statement = statement.uuid(team.0);
    }
    if let Some(customer) = filter.customer_id {
        statement = statement.uuid(customer.0);
    }
    if let Some(label) = &filter.label {
        statement = statement.text(label);
    }
    if let Some(channel) = filter.channel_id {
        statement = statement.uuid(channel.0);
    }
    if let Some(query) = &filter.query {
        statement = statement
            .text(&contains_pattern(&query.lower))
            .text(&contains_pattern(&query.folded));
    }
    if let Some(cursor) = cursor {
        statement = statement.time(cursor.at).uuid(cursor.id);
    }
    let mut items = statement
        .i64(i64::from(limit) + 1)
        .select(read)
        .all(conn)
        .await?;
    let next_cursor = page_end(&mut items, limit, |conversation| Cursor {
        at: conversation.last_activity_at,
        id: conversation.id.0,
    });
    Ok(Page { items, next_cursor })
}

/// The customer's name, the latest inbound or outbound message and the user's last read of
/// each listed conversation: one statement for the page plus one for the previews.
pub(crate) async fn summaries<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    user_id: UserId,
    ids: &[ConversationId],
) -> Result<Vec<ConversationSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let sql = format!(
        "SELECT c.id, cu.name AS customer_name,
            (SELECT m.id FROM messages m WHERE m.conversation_id = c.id
                AND m.kind IN ('inbound', 'outbound')
                ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS preview_id,
            (SELECT m.created_at FROM messages m WHERE m.conversation_id = c.id
                AND m.kind = 'inbound'
                ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS last_inbound_at,
            (SELECT r.read_at FROM conversation_reads r WHERE r.conversation_id = c.id
                AND r.user_id = $2) AS read_at
        FROM conversations c JOIN customers cu ON cu.id = c.customer_id
        WHERE c.workspace_id = $1 AND c.id {}",
        D::in_uuid_list(3)
    );
    let rows = Sql::<D>::assembled(sql)
        .uuid(workspace_id.0)
        .uuid(user_id.0)
        .uuid_list(&ids)
        .select(|row: Columns<'_, D>| {
            Ok((
                ConversationId(row.uuid("id")?),
                row.opt_text("customer_name")?,
                row.opt_uuid("preview_id")?,
                row.opt_time("last_inbound_at")?,
                row.opt_time("read_at")?,
            ))
        })
        .all(conn)
        .await?;
    let preview_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.2).collect();
    let previews = if preview_ids.is_empty() {
        Vec::new()
    } else {
        Sql::<D>::assembled(format!(
            "SELECT id, kind, channel_id, text, created_at FROM messages
            WHERE workspace_id = $1 AND id {}",
            D::in_uuid_list(2)
        ))
        .uuid(workspace_id.0)
        .uuid_list(&preview_ids)
        .select(|row: Columns<'_, D>| {
            Ok((
                row.uuid("id")?,
                Preview {
                    text: Preview::text_of(&row.text("text")?),
                    kind: row.parsed("kind", MessageKind::parse)?,
                    channel_id: row.opt_uuid("channel_id")?.map(ChannelId),
                    at: row.time("created_at")?,
                },
            ))
        })
        .all(conn)
        .await?
    };
    Ok(rows
        .into_iter()
        .map(
            |(conversation_id, customer_name, preview_id, last_inbound_at, read_at)| {
                ConversationSummary {
                    conversation_id,
                    customer_name,
                    preview: preview_id.and_then(|wanted| {
                        previews
                            .iter()
                            .find(|(id, _)| *id == wanted)
                            .map(|(_, preview)| preview.clone())
                    }),
                    last_inbound_at,
                    read_at,
                }
            },
        )
        .collect())
}

/// Records the user's latest read of a conversation.
pub(crate) fn mark_read<D: Driver>(
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
    user_id: UserId,
    at: Timestamp,
) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO conversation_reads (conversation_id, user_id, workspace_id, read_at)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (conversation_id, user_id) DO UPDATE SET read_at = excluded.read_at",
    )
    .uuid(conversation_id.0)
    .uuid(user_id.0)
    .uuid(workspace_id.0)
    .time(at)
}

/// Every conversation of a customer, oldest first (export).
pub(crate) fn of_customer<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Conversation> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM conversations WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read)
}
