//! Duplicate suggestions and their dismissals. Pairs are found by joins on indexed keys —
//! `customers (workspace_id, name_key)` and `identities (workspace_id, match_key)` — so the
//! work grows with the number of matching pairs, not with the square of the customers.

use seam_core::{
    Error, Result,
    duplicates::{Dismissal, DuplicateCursor, DuplicatePair, DuplicateReason, FREE_MAIL_DOMAINS},
    ids::{CustomerId, WorkspaceId},
};

use crate::driver::{Columns, Driver, Select, Sql};

fn read_pair<D: Driver>(row: Columns<'_, D>) -> Result<DuplicatePair> {
    let rank = row.i32("rank")?;
    Ok(DuplicatePair {
        customer_a: CustomerId(row.uuid("customer_a")?),
        customer_b: CustomerId(row.uuid("customer_b")?),
        reason: DuplicateReason::from_rank(rank)
            .ok_or_else(|| Error::internal("duplicate rank out of range"))?,
    })
}

/// Candidate pairs with the rank of their reason (see `DuplicateReason::rank`), before
/// dismissals and grouping. `$1` is the workspace. Names equal after folding give rank 1 with
/// a shared non-free-mail domain, 2 with phones ending in the same 7 digits, 4 otherwise;
/// phone or WhatsApp numbers with the same last 9 digits on two customers give rank 3.
fn candidates() -> String {
    let free_mail = FREE_MAIL_DOMAINS
        .iter()
        .map(|domain| format!("'{domain}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT c1.id AS customer_a, c2.id AS customer_b,
            CASE
                WHEN EXISTS (SELECT 1 FROM identities e1
                    JOIN identities e2 ON e2.workspace_id = e1.workspace_id
                        AND e2.match_key = e1.match_key
                    WHERE e1.workspace_id = $1 AND e1.customer_id = c1.id AND e1.kind = 'email'
                        AND e2.customer_id = c2.id AND e2.kind = 'email'
                        AND e1.match_key NOT IN ({free_mail})) THEN 1
                WHEN EXISTS (SELECT 1 FROM identities p1
                    JOIN identities p2 ON p2.workspace_id = p1.workspace_id
                        AND substr(p2.match_key, 3) = substr(p1.match_key, 3)
                    WHERE p1.workspace_id = $1 AND p1.customer_id = c1.id
                        AND p1.kind IN ('phone', 'whatsapp')
                        AND p2.customer_id = c2.id AND p2.kind IN ('phone', 'whatsapp')) THEN 2
                ELSE 4
            END AS rank
        FROM customers c1
        JOIN customers c2 ON c2.workspace_id = c1.workspace_id AND c2.name_key = c1.name_key
            AND c1.id < c2.id
        WHERE c1.workspace_id = $1 AND c1.name_key IS NOT NULL
        UNION ALL
        SELECT p1.customer_id, p2.customer_id, 3
        FROM identities p1
        JOIN identities p2 ON p2.workspace_id = p1.workspace_id AND p2.match_key = p1.match_key
            AND p2.kind IN ('phone', 'whatsapp') AND p1.customer_id < p2.customer_id
        WHERE p1.workspace_id = $1 AND p1.kind IN ('phone', 'whatsapp')
            AND p1.match_key IS NOT NULL"
    )
}

/// One page of undismissed pairs, strongest reason first, then by the pair's ids; fetches
/// `limit + 1` so the caller knows whether more follow.
pub(crate) fn list<D: Driver>(
    workspace_id: WorkspaceId,
    cursor: Option<&DuplicateCursor>,
    limit: u32,
) -> Select<D, DuplicatePair> {
    let mut sql = format!(
        "SELECT customer_a, customer_b, rank FROM (
            SELECT customer_a, customer_b, MIN(rank) AS rank FROM ({}) candidates
            WHERE NOT EXISTS (SELECT 1 FROM duplicate_dismissals d
                WHERE d.workspace_id = $1 AND d.customer_a = candidates.customer_a
                    AND d.customer_b = candidates.customer_b)
            GROUP BY customer_a, customer_b
        ) pairs",
        candidates()
    );
    let limit_at = if cursor.is_some() {
        sql.push_str(" WHERE (rank, customer_a, customer_b) > ($2, $3, $4)");
        5
    } else {
        2
    };
    sql.push_str(&format!(
        " ORDER BY rank, customer_a, customer_b LIMIT ${limit_at}"
    ));
    let mut statement = Sql::<D>::assembled(sql).uuid(workspace_id.0);
    if let Some(cursor) = cursor {
        statement = statement
            .i32(cursor.rank)
            .uuid(cursor.customer_a.0)
            .uuid(cursor.customer_b.0);
    }
    statement.i64(i64::from(limit) + 1).select(read_pair)
}

pub(crate) fn insert_dismissal<D: Driver>(dismissal: &Dismissal) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO duplicate_dismissals
            (workspace_id, customer_a, customer_b, dismissed_by, created_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (workspace_id, customer_a, customer_b) DO NOTHING",
    )
    .uuid(dismissal.workspace_id.0)
    .uuid(dismissal.customer_a.0)
    .uuid(dismissal.customer_b.0)
    .uuid(dismissal.dismissed_by.0)
    .time(dismissal.created_at)
}
