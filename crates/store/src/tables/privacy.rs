//! Privacy across tables: the export of everything held on one customer, the erasure of their
//! personal data (one statement per table that can hold it), and the audit log. Every query
//! filters on the workspace.

use seam_core::{
    Result, Timestamp,
    event::Event,
    ids::{CustomerId, EventId, UserId, WorkspaceId},
    privacy::{AuditActor, AuditEntry, ConversationExport, CustomerExport},
};

use super::{conversations, customers, messages};
use crate::driver::{Columns, Conn, Driver, Select, Sql};

fn read_event<D: Driver>(row: Columns<'_, D>) -> Result<Event> {
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

fn events_of_customer<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Event> {
    Sql::<D>::new(
        "SELECT id, workspace_id, customer_id, name, properties, occurred_at, created_at,
            message_id
        FROM events WHERE workspace_id = $1 AND customer_id = $2 ORDER BY occurred_at, id",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read_event)
}

/// Reads everything held on one customer. Run on one connection; the parts are read one after
/// the other.
pub(crate) async fn export<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    id: CustomerId,
) -> Result<Option<CustomerExport>> {
    let Some(profile) = customers::get_profile::<D>(conn, workspace_id, id).await? else {
        return Ok(None);
    };
    let conversations = conversations::of_customer::<D>(workspace_id, id)
        .all(conn)
        .await?;
    let mut messages = messages::of_customer::<D>(workspace_id, id)
        .all(conn)
        .await?;
    let events = events_of_customer::<D>(workspace_id, id).all(conn).await?;
    let conversations = conversations
        .into_iter()
        .map(|conversation| {
            let (own, rest): (Vec<_>, Vec<_>) = messages
                .drain(..)
                .partition(|message| message.conversation_id == conversation.id);
            messages = rest;
            ConversationExport {
                conversation,
                messages: own,
            }
        })
        .collect();
    Ok(Some(CustomerExport {
        customer: profile.customer,
        identities: profile.identities,
        conversations,
        events,
    }))
}

/// The erasure of one customer, table by table. A table added later that can hold personal
/// data about a customer adds its step here.
pub(crate) fn erase_steps<D: Driver>(
    workspace_id: WorkspaceId,
    id: CustomerId,
    erased_text: &str,
    now: Timestamp,
) -> Vec<Sql<D>> {
    let mentions = format!("%{}%", id.0);
    vec![
        // customers: the row stays, an anonymous shell, so that counts and conversation
        // metrics survive; every profile field goes, also from customers merged into it (their
        // records are the same person's).
        Sql::<D>::new(
            "UPDATE customers SET name = NULL, name_key = NULL, locale = NULL, time_zone = NULL,
                tags = $4, attributes = $5, updated_at = $3
            WHERE workspace_id = $1 AND (id = $2 OR merged_into_id = $2)",
        )
        .uuid(workspace_id.0)
        .uuid(id.0)
        .time(now)
        .labels(&[])
        .json_owned(serde_json::json!({})),
        // consent records: they belong to addresses that are gone.
        Sql::<D>::new("DELETE FROM customer_consents WHERE workspace_id = $1 AND customer_id = $2")
            .uuid(workspace_id.0)
            .uuid(id.0),
        // merges: their snapshots hold the profile and identities as they were, so merges that
        // involve the customer are forgotten (and can no longer be undone).
        Sql::<D>::new(
            "UPDATE resolution_log SET merge_id = NULL WHERE workspace_id = $1 AND merge_id IN (
                SELECT id FROM merges WHERE workspace_id = $1
                AND (survivor_id = $2 OR absorbed_id = $2))",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        Sql::<D>::new(
            "DELETE FROM merges WHERE workspace_id = $1 AND (survivor_id = $2 OR absorbed_id = $2)",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        // resolution log: the decisions stay, the addresses they name go — wherever the entry
        // is filed (before the identities themselves are deleted below).
        Sql::<D>::new(
            "UPDATE resolution_log SET identity_value = NULL
            WHERE workspace_id = $1 AND identity_value IS NOT NULL AND (
                customer_id = $2 OR other_customer_id = $2
                OR customer_id IN (SELECT id FROM customers
                    WHERE workspace_id = $1 AND merged_into_id = $2)
                OR EXISTS (SELECT 1 FROM identities i
                    WHERE i.workspace_id = $1 AND i.customer_id = $2
                    AND i.kind = resolution_log.identity_kind
                    AND i.value = resolution_log.identity_value))",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        // identities: deleted, so the addresses resolve to nobody and a later message from
        // one of them makes a new customer.
        Sql::<D>::new("DELETE FROM identities WHERE workspace_id = $1 AND customer_id = $2")
            .uuid(workspace_id.0)
            .uuid(id.0),
        // messages: the text and the address a message went through.
        Sql::<D>::new(
            "UPDATE messages SET text = $3, identity = NULL, identity_kind = NULL,
                delivery_error = NULL
            WHERE workspace_id = $1 AND customer_id = $2",
        )
        .uuid(workspace_id.0)
        .uuid(id.0)
        .text(erased_text),
        // email parts and files of those messages, and the subjects of the conversations.
        Sql::<D>::new(
            "DELETE FROM message_emails WHERE workspace_id = $1 AND message_id IN (
                SELECT id FROM messages WHERE workspace_id = $1 AND customer_id = $2)",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        Sql::<D>::new(
            "DELETE FROM attachments WHERE workspace_id = $1 AND message_id IN (
                SELECT id FROM messages WHERE workspace_id = $1 AND customer_id = $2)",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        Sql::<D>::new(
            "UPDATE conversations SET subject = NULL WHERE workspace_id = $1 AND customer_id = $2",
        )
        .uuid(workspace_id.0)
        .uuid(id.0),
        // events: the name of what happened stays, its properties go.
        Sql::<D>::new(
            "UPDATE events SET properties = $3 WHERE workspace_id = $1 AND customer_id = $2",
        )
        .uuid(workspace_id.0)
        .uuid(id.0)
        .json_owned(serde_json::json!({})),
        // jobs that deliver one of the customer's messages: buried before they run.
        Sql::<D>::new(
            "UPDATE jobs SET status = 'dead', last_error = 'customer erased', lease_until = NULL,
                updated_at = $3
            WHERE workspace_id = $1 AND status IN ('queued', 'running') AND EXISTS (
                SELECT 1 FROM messages m WHERE m.workspace_id = $1 AND m.customer_id = $2
                AND CAST(jobs.payload AS TEXT) LIKE '%' || CAST(m.id AS TEXT) || '%')",
        )
        .uuid(workspace_id.0)
        .uuid(id.0)
        .time(now),
        // jobs whose payload carries data about the customer (webhook events): scrubbed, and
        // buried while pending.
        Sql::<D>::new(
            "UPDATE jobs SET payload = $3, updated_at = $4,
                last_error = CASE WHEN status IN ('queued', 'running') THEN 'customer erased'
                    ELSE last_error END,
                status = CASE WHEN status IN ('queued', 'running') THEN 'dead' ELSE status END
            WHERE workspace_id = $1 AND (CAST(payload AS TEXT) LIKE $2 OR EXISTS (
                SELECT 1 FROM customers c WHERE c.workspace_id = $1 AND c.merged_into_id = $5
                AND CAST(jobs.payload AS TEXT) LIKE '%' || CAST(c.id AS TEXT) || '%'))",
        )
        .uuid(workspace_id.0)
        .text(&mentions)
        .json_owned(serde_json::json!({ "erased": true }))
        .time(now)
        .uuid(id.0),
        // outbox: pending pushes about the customer are dropped, not relayed.
        Sql::<D>::new(
            "DELETE FROM outbox WHERE workspace_id = $1 AND (CAST(payload AS TEXT) LIKE $2
                OR EXISTS (SELECT 1 FROM customers c
                    WHERE c.workspace_id = $1 AND c.merged_into_id = $3
                    AND CAST(outbox.payload AS TEXT) LIKE '%' || CAST(c.id AS TEXT) || '%'))",
        )
        .uuid(workspace_id.0)
        .text(&mentions)
        .uuid(id.0),
    ]
}

pub(crate) fn insert_audit<D: Driver>(entry: &AuditEntry) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO audit_log (id, workspace_id, actor, action, subject_id, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .uuid(entry.id)
    .uuid(entry.workspace_id.0)
    .text(&entry.actor.label())
    .text(&entry.action)
    .uuid(entry.subject_id)
    .time(entry.created_at)
}

fn read_audit<D: Driver>(row: Columns<'_, D>) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.uuid("id")?,
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        actor: row.parsed("actor", parse_actor)?,
        action: row.text("action")?,
        subject_id: row.uuid("subject_id")?,
        created_at: row.time("created_at")?,
    })
}

fn parse_actor(text: &str) -> Option<AuditActor> {
    match text.strip_prefix("user:") {
        Some(id) => UserId::parse(id).map(AuditActor::User),
        None => (text == "operator").then_some(AuditActor::Operator),
    }
}

pub(crate) fn list_audit<D: Driver>(workspace_id: WorkspaceId) -> Select<D, AuditEntry> {
    Sql::<D>::new(
        "SELECT id, workspace_id, actor, action, subject_id, created_at
        FROM audit_log WHERE workspace_id = $1 ORDER BY created_at, id",
    )
    .uuid(workspace_id.0)
    .select(read_audit)
}
