//! The customer_stats and customer_channels tables, widened in place by each write that sees
//! the customer, and the read that joins them with what is counted at read time
//! (conversations, orders, spending) over indexed rows. Every query filters on the workspace.

use seam_core::{
    Result, Timestamp,
    commerce::Money,
    ids::{ChannelId, CustomerId, WorkspaceId},
    stats::{CustomerStats, Spent},
};

use crate::driver::{Conn, Driver, Sql};

/// Widens first/last seen to include `[first, last]`; creates the row on first sight.
pub(crate) fn widen_seen<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    first: Timestamp,
    last: Timestamp,
    now: Timestamp,
) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO customer_stats
            (workspace_id, customer_id, first_seen_at, last_seen_at, csat_total, csat_count,
            updated_at)
        VALUES ($1, $2, $3, $4, 0, 0, $5)
        ON CONFLICT (workspace_id, customer_id) DO UPDATE SET
            first_seen_at = CASE WHEN excluded.first_seen_at < customer_stats.first_seen_at
                THEN excluded.first_seen_at ELSE customer_stats.first_seen_at END,
            last_seen_at = CASE WHEN excluded.last_seen_at > customer_stats.last_seen_at
                THEN excluded.last_seen_at ELSE customer_stats.last_seen_at END,
            updated_at = excluded.updated_at",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .time(first)
    .time(last)
    .time(now)
}

/// Records the channel as used at `at`, keeping the latest time.
pub(crate) fn use_channel<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_id: ChannelId,
    at: Timestamp,
) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO customer_channels (workspace_id, customer_id, channel_id, first_at, last_at)
        VALUES ($1, $2, $3, $4, $4)
        ON CONFLICT (workspace_id, customer_id, channel_id) DO UPDATE SET
            first_at = CASE WHEN excluded.first_at < customer_channels.first_at
                THEN excluded.first_at ELSE customer_channels.first_at END,
            last_at = CASE WHEN excluded.last_at > customer_channels.last_at
                THEN excluded.last_at ELSE customer_channels.last_at END",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .uuid(channel_id.0)
    .time(at)
}

struct Seen {
    first: Timestamp,
    last: Timestamp,
    csat_total: i64,
    csat_count: i64,
}

/// Four indexed reads: the stored row, the channels, the conversation counts and the orders
/// grouped by currency.
pub(crate) async fn get<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Result<CustomerStats> {
    let seen = Sql::<D>::new(
        "SELECT first_seen_at, last_seen_at, csat_total, csat_count FROM customer_stats
        WHERE workspace_id = $1 AND customer_id = $2",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| {
        Ok(Seen {
            first: row.time("first_seen_at")?,
            last: row.time("last_seen_at")?,
            csat_total: row.i64("csat_total")?,
            csat_count: row.i64("csat_count")?,
        })
    })
    .optional(conn)
    .await?;
    let channels_used = Sql::<D>::new(
        "SELECT channel_id FROM customer_channels WHERE workspace_id = $1 AND customer_id = $2
        ORDER BY last_at DESC, channel_id",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| Ok(ChannelId(row.uuid("channel_id")?)))
    .all(conn)
    .await?;
    let (conversations_total, conversations_open) = Sql::<D>::new(
        "SELECT COUNT(*) AS total,
            CAST(COALESCE(SUM(CASE WHEN status <> 'resolved' THEN 1 ELSE 0 END), 0) AS BIGINT)
            AS open
        FROM conversations WHERE workspace_id = $1 AND customer_id = $2",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| Ok((row.i64("total")?, row.i64("open")?)))
    .optional(conn)
    .await?
    .unwrap_or((0, 0));
    let per_currency = Sql::<D>::new(
        "SELECT currency, COUNT(*) AS orders, CAST(SUM(total_micros) AS BIGINT) AS spent
        FROM orders WHERE workspace_id = $1 AND customer_id = $2
        GROUP BY currency ORDER BY currency",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(|row| {
        Ok((
            row.opt_text("currency")?,
            row.i64("orders")?,
            row.opt_i64("spent")?,
        ))
    })
    .all(conn)
    .await?;
    let orders_count = per_currency.iter().map(|(_, orders, _)| orders).sum();
    let total_spent = per_currency
        .into_iter()
        .filter_map(|(currency, _, spent)| {
            spent.map(|spent| Spent {
                currency,
                total: Money(spent),
            })
        })
        .collect();
    Ok(CustomerStats {
        first_seen_at: seen.as_ref().map(|seen| seen.first),
        last_seen_at: seen.as_ref().map(|seen| seen.last),
        last_channel_id: channels_used.first().copied(),
        channels_used,
        conversations_open,
        conversations_total,
        orders_count,
        total_spent,
        csat_total: seen.as_ref().map_or(0, |seen| seen.csat_total),
        csat_count: seen.as_ref().map_or(0, |seen| seen.csat_count),
    })
}
