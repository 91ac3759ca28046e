//! The messages table. Its unique (channel_id, provider_message_id) index is the
//! deduplication of provider retries: `insert` surfaces a duplicate as `Conflict`.

use seam_core::{
    Result, Timestamp,
    conversation::Page,
    cursor::Cursor,
    identity::IdentityKind,
    ids::{ChannelId, ConversationId, CustomerId, MessageId, UserId, WorkspaceId},
    message::{DeliveryStatus, Message, MessageKind},
};

use super::page_end;
use crate::driver::{Columns, Conn, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, conversation_id, customer_id, kind, channel_id, identity, identity_kind, \
        author_id, provider_message_id, text, delivery_status, delivery_error, sent_at, created_at"
    };
}

pub(crate) fn read<D: Driver>(row: Columns<'_, D>) -> Result<Message> {
    Ok(Message {
        id: MessageId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        conversation_id: ConversationId(row.uuid("conversation_id")?),
        customer_id: CustomerId(row.uuid("customer_id")?),
        kind: row.parsed("kind", MessageKind::parse)?,
        channel_id: row.opt_uuid("channel_id")?.map(ChannelId),
        identity: row.opt_text("identity")?,
        identity_kind: row.opt_parsed("identity_kind", IdentityKind::parse)?,
        author_id: row.opt_uuid("author_id")?.map(UserId),
        provider_message_id: row.opt_text("provider_message_id")?,
        text: row.text("text")?,
        delivery_status: row.opt_parsed("delivery_status", DeliveryStatus::parse)?,
        delivery_error: row.opt_text("delivery_error")?,
        sent_at: row.time("sent_at")?,
        created_at: row.time("created_at")?,
    })
}

/// Fails with `Conflict { what: "provider_message_id" }` on a duplicate delivery.
pub(crate) fn insert<D: Driver>(message: &Message) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO messages (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .uuid(message.id.0)
    .uuid(message.workspace_id.0)
    .uuid(message.conversation_id.0)
    .uuid(message.customer_id.0)
    .text(message.kind.as_str())
    .opt_uuid(message.channel_id.map(|id| id.0))
    .opt_text(message.identity.as_deref())
    .opt_text(message.identity_kind.map(IdentityKind::as_str))
    .opt_uuid(message.author_id.map(|id| id.0))
    .opt_text(message.provider_message_id.as_deref())
    .text(&message.text)
    .opt_text(message.delivery_status.map(DeliveryStatus::as_str))
    .opt_text(message.delivery_error.as_deref())
    .time(message.sent_at)
    .time(message.created_at)
}

pub(crate) fn update_delivery<D: Driver>(message: &Message) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE messages SET delivery_status = $3, delivery_error = $4, provider_message_id = $5
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(message.workspace_id.0)
    .uuid(message.id.0)
    .opt_text(message.delivery_status.map(DeliveryStatus::as_str))
    .opt_text(message.delivery_error.as_deref())
    .opt_text(message.provider_message_id.as_deref())
}

pub(crate) fn get<D: Driver>(workspace_id: WorkspaceId, id: MessageId) -> Select<D, Message> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read)
}

/// Oldest first.
pub(crate) fn of_customer_since<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    since: Timestamp,
) -> Select<D, Message> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE workspace_id = $1 AND customer_id = $2 AND created_at >= $3
        ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .time(since)
    .select(read)
}

/// Channel ids are unique across workspaces, so the channel scopes the lookup.
pub(crate) fn find_by_provider_id<D: Driver>(
    channel_id: ChannelId,
    provider_message_id: &str,
) -> Select<D, Message> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE channel_id = $1 AND provider_message_id = $2"
    ))
    .uuid(channel_id.0)
    .text(provider_message_id)
    .select(read)
}

/// Newest first.
pub(crate) async fn list<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    conversation_id: ConversationId,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page<Message>> {
    let statement = match cursor {
        None => Sql::<D>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM messages WHERE workspace_id = $1 AND conversation_id = $2
            ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .uuid(workspace_id.0)
        .uuid(conversation_id.0),
        Some(cursor) => Sql::<D>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM messages WHERE workspace_id = $1 AND conversation_id = $2
            AND created_at <= $3 AND (created_at < $3 OR id < $4)
            ORDER BY created_at DESC, id DESC LIMIT $5"
        ))
        .uuid(workspace_id.0)
        .uuid(conversation_id.0)
        .time(cursor.at)
        .uuid(cursor.id),
    };
    let mut items = statement
        .i64(i64::from(limit) + 1)
        .select(read)
        .all(conn)
        .await?;
    let next_cursor = page_end(&mut items, limit, |message| Cursor {
        at: message.created_at,
        id: message.id.0,
    });
    Ok(Page { items, next_cursor })
}

/// Every message of a customer, oldest first (export).
pub(crate) fn of_customer<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Message> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM messages WHERE workspace_id = $1 AND customer_id = $2 ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read)
}
