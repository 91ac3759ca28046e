//! The attribute_definitions and customer_consents tables: a workspace's attribute schema and
//! each customer's consent per channel kind. Every query filters on the workspace.

use seam_core::{
    Result,
    attributes::{AttributeDefinition, AttributeType},
    channel::ChannelKind,
    consent::{Consent, ConsentStatus},
    ids::{CustomerId, WorkspaceId},
};

use crate::driver::{Columns, Driver, Select, Sql};

fn read_definition<D: Driver>(row: Columns<'_, D>) -> Result<AttributeDefinition> {
    Ok(AttributeDefinition {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        key: row.text("key")?,
        kind: row.parsed("kind", AttributeType::parse)?,
        label: row.text("label")?,
        created_at: row.time("created_at")?,
    })
}

fn read_consent<D: Driver>(row: Columns<'_, D>) -> Result<Consent> {
    Ok(Consent {
        channel_kind: row.parsed("channel_kind", ChannelKind::parse)?,
        status: row.parsed("status", ConsentStatus::parse)?,
        source: Some(row.text("source")?),
        updated_at: Some(row.time("updated_at")?),
    })
}

pub(crate) fn insert_definition<D: Driver>(definition: &AttributeDefinition) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO attribute_definitions (workspace_id, key, kind, label, created_at)
        VALUES ($1, $2, $3, $4, $5)",
    )
    .uuid(definition.workspace_id.0)
    .text(&definition.key)
    .text(definition.kind.as_str())
    .text(&definition.label)
    .time(definition.created_at)
}

/// Oldest first.
pub(crate) fn definitions<D: Driver>(workspace_id: WorkspaceId) -> Select<D, AttributeDefinition> {
    Sql::<D>::new(
        "SELECT workspace_id, key, kind, label, created_at FROM attribute_definitions
        WHERE workspace_id = $1 ORDER BY created_at, key",
    )
    .uuid(workspace_id.0)
    .select(read_definition)
}

pub(crate) fn upsert_consent<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    consent: &Consent,
) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO customer_consents
            (workspace_id, customer_id, channel_kind, status, source, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (workspace_id, customer_id, channel_kind) DO UPDATE
        SET status = excluded.status, source = excluded.source, updated_at = excluded.updated_at",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .text(consent.channel_kind.as_str())
    .text(consent.status.as_str())
    .text(consent.source.as_deref().unwrap_or(""))
    .time(consent.updated_at.unwrap_or_default())
}

/// Every consent recorded for the customer, by channel kind.
pub(crate) fn consents_of<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
) -> Select<D, Consent> {
    Sql::<D>::new(
        "SELECT channel_kind, status, source, updated_at FROM customer_consents
        WHERE workspace_id = $1 AND customer_id = $2 ORDER BY channel_kind",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .select(read_consent)
}

pub(crate) fn consent<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_kind: ChannelKind,
) -> Select<D, Consent> {
    Sql::<D>::new(
        "SELECT channel_kind, status, source, updated_at FROM customer_consents
        WHERE workspace_id = $1 AND customer_id = $2 AND channel_kind = $3",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .text(channel_kind.as_str())
    .select(read_consent)
}
