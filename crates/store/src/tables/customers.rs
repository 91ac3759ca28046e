//! The customers and identities tables: profiles, identity lookups for resolution, and the
//! customer search. Every query filters on the workspace.

use seam_core::{
    Error, Result,
    conversation::Page,
    cursor::Cursor,
    customer::{Attributes, Customer, CustomerIdentity, CustomerProfile},
    duplicates,
    identity::{Identity, IdentityKind},
    ids::{CustomerId, WorkspaceId},
    profile::{Locale, TimeZone},
};
use uuid::Uuid;

use super::page_end;
use crate::driver::{Columns, Conn, Driver, Select, Sql};

macro_rules! columns {
    () => {
        "id, workspace_id, name, locale, time_zone, tags, attributes, name_key, merged_into_id, \
         created_at, updated_at"
    };
}

macro_rules! identity_columns {
    () => {
        "workspace_id, customer_id, kind, value, verified, source, created_at"
    };
}

fn read<D: Driver>(row: Columns<'_, D>) -> Result<Customer> {
    Ok(Customer {
        id: CustomerId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        name: row.opt_text("name")?,
        locale: row.opt_text("locale")?.map(Locale::from_stored),
        time_zone: row.opt_text("time_zone")?.map(TimeZone::from_stored),
        tags: row.labels("tags")?,
        attributes: read_attributes(row.json("attributes")?)?,
        merged_into_id: row.opt_uuid("merged_into_id")?.map(CustomerId),
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

fn read_attributes(value: serde_json::Value) -> Result<Attributes> {
    match value {
        serde_json::Value::Object(attributes) => Ok(attributes),
        _ => Err(Error::internal("column attributes holds no JSON object")),
    }
}

fn read_identity<D: Driver>(row: Columns<'_, D>) -> Result<CustomerIdentity> {
    Ok(CustomerIdentity {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        customer_id: CustomerId(row.uuid("customer_id")?),
        identity: Identity::from_stored(
            row.parsed("kind", IdentityKind::parse)?,
            row.text("value")?,
        ),
        verified: row.bool("verified")?,
        source: row.text("source")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn insert<D: Driver>(customer: &Customer) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO customers (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .uuid(customer.id.0)
    .uuid(customer.workspace_id.0)
    .opt_text(customer.name.as_deref())
    .opt_text(customer.locale.as_ref().map(Locale::as_str))
    .opt_text(customer.time_zone.as_ref().map(TimeZone::as_str))
    .labels(&customer.tags)
    .json_owned(serde_json::Value::Object(customer.attributes.clone()))
    .opt_text(customer.name_key().as_deref())
    .opt_uuid(customer.merged_into_id.map(|id| id.0))
    .time(customer.created_at)
    .time(customer.updated_at)
}

/// Every profile field, and the name key kept in step with the name.
pub(crate) fn update<D: Driver>(customer: &Customer) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE customers SET name = $3, locale = $4, time_zone = $5, tags = $6,
            attributes = $7, name_key = $8, updated_at = $9, merged_into_id = $10
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(customer.workspace_id.0)
    .uuid(customer.id.0)
    .opt_text(customer.name.as_deref())
    .opt_text(customer.locale.as_ref().map(Locale::as_str))
    .opt_text(customer.time_zone.as_ref().map(TimeZone::as_str))
    .labels(&customer.tags)
    .json_owned(serde_json::Value::Object(customer.attributes.clone()))
    .opt_text(customer.name_key().as_deref())
    .time(customer.updated_at)
    .opt_uuid(customer.merged_into_id.map(|id| id.0))
}

/// The row lock of [`Driver::LOCK_CUSTOMER`], where the driver needs one.
pub(crate) fn lock<D: Driver>(workspace_id: WorkspaceId, id: CustomerId) -> Option<Sql<D>> {
    D::LOCK_CUSTOMER.map(|sql| Sql::<D>::new(sql).uuid(workspace_id.0).uuid(id.0))
}

pub(crate) fn get<D: Driver>(workspace_id: WorkspaceId, id: CustomerId) -> Select<D, Customer> {
    Sql::<D>::new(concat!(
        "SELECT ",
        columns!(),
        " FROM customers WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read)
}

/// With the identity's match key for duplicate suggestions.
pub(crate) fn insert_identity<D: Driver>(held: &CustomerIdentity) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO identities (",
        identity_columns!(),
        ", match_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .uuid(held.workspace_id.0)
    .uuid(held.customer_id.0)
    .text(held.identity.kind.as_str())
    .text(&held.identity.value)
    .bool(held.verified)
    .text(&held.source)
    .time(held.created_at)
    .opt_text(duplicates::match_key(&held.identity).as_deref())
}

/// One exact primary-key lookup per identity, joined by `UNION ALL`, so that both planners
/// use the key for every branch.
/// `None` when there is nothing to look up.
pub(crate) fn find_identities<D: Driver>(
    workspace_id: WorkspaceId,
    identities: &[Identity],
) -> Option<Select<D, CustomerIdentity>> {
    if identities.is_empty() {
        return None;
    }
    let mut sql = String::with_capacity(identities.len() * 140);
    for index in 0..identities.len() {
        if index > 0 {
            sql.push_str(" UNION ALL ");
        }
        let kind = 2 + 2 * index;
        sql.push_str(&format!(
            concat!(
                "SELECT ",
                identity_columns!(),
                " FROM identities WHERE workspace_id = $1 AND kind = ${} AND value = ${}"
            ),
            kind,
            kind + 1
        ));
    }
    let mut query = Sql::<D>::assembled(sql).uuid(workspace_id.0);
    for identity in identities {
        query = query.text(identity.kind.as_str()).text(&identity.value);
    }
    Some(query.select(read_identity))
}

pub(crate) async fn get_profile<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    id: CustomerId,
) -> Result<Option<CustomerProfile>> {
    let Some(customer) = get::<D>(workspace_id, id).optional(conn).await? else {
        return Ok(None);
    };
    let identities = Sql::<D>::new(concat!(
        "SELECT ",
        identity_columns!(),
        " FROM identities WHERE workspace_id = $1 AND customer_id = $2 ORDER BY created_at, kind, value"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read_identity)
    .all(conn)
    .await?;
    let consents = super::profile::consents_of::<D>(workspace_id, id)
        .all(conn)
        .await?;
    Ok(Some(CustomerProfile {
        customer,
        identities,
        consents,
    }))
}

/// `LIKE` pattern matching `query` anywhere, with `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for character in query.to_lowercase().chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}

/// Newest first. SQLite's `lower()` folds ASCII letters only; PostgreSQL's folds all of Unicode.
pub(crate) async fn search<D: Driver>(
    conn: &mut Conn<D>,
    workspace_id: WorkspaceId,
    query: Option<&str>,
    cursor: Option<&Cursor>,
    limit: u32,
) -> Result<Page<CustomerProfile>> {
    let mut sql = String::from(concat!(
        "SELECT ",
        columns!(),
        " FROM customers c WHERE c.workspace_id = $1 AND c.merged_into_id IS NULL"
    ));
    let mut next = 2;
    if query.is_some() {
        sql.push_str(&format!(
            " AND (lower(c.name) LIKE ${next} ESCAPE '\\' OR EXISTS (SELECT 1 FROM identities i
                WHERE i.customer_id = c.id AND lower(i.value) LIKE ${next} ESCAPE '\\'))"
        ));
        next += 1;
    }
    if cursor.is_some() {
        sql.push_str(&format!(
            " AND c.created_at <= ${next} AND (c.created_at < ${next} OR c.id < ${})",
            next + 1
        ));
        next += 2;
    }
    sql.push_str(&format!(
        " ORDER BY c.created_at DESC, c.id DESC LIMIT ${next}"
    ));
    let mut statement = Sql::<D>::assembled(sql).uuid(workspace_id.0);
    if let Some(query) = query {
        statement = statement.text(&contains_pattern(query));
    }
    if let Some(cursor) = cursor {
        statement = statement.time(cursor.at).uuid(cursor.id);
    }
    let mut customers = statement
        .i64(i64::from(limit) + 1)
        .select(read)
        .all(conn)
        .await?;
    let next_cursor = page_end(&mut customers, limit, |customer| Cursor {
        at: customer.created_at,
        id: customer.id.0,
    });
    let ids: Vec<Uuid> = customers.iter().map(|customer| customer.id.0).collect();
    let mut identities = if ids.is_empty() {
        Vec::new()
    } else {
        Sql::<D>::new(D::IDENTITIES_OF_CUSTOMERS)
            .uuid(workspace_id.0)
            .uuid_list(&ids)
            .select(read_identity)
            .all(conn)
            .await?
    };
    let items = customers
        .into_iter()
        .map(|customer| {
            let (held, rest): (Vec<_>, Vec<_>) = identities
                .drain(..)
                .partition(|identity| identity.customer_id == customer.id);
            identities = rest;
            CustomerProfile {
                customer,
                identities: held,
                consents: Vec::new(),
            }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Every identity of the listed customers, oldest first.
pub(crate) fn identities_of<D: Driver>(
    workspace_id: WorkspaceId,
    customer_ids: &[CustomerId],
) -> Select<D, CustomerIdentity> {
    let ids: Vec<Uuid> = customer_ids.iter().map(|id| id.0).collect();
    Sql::<D>::new(D::IDENTITIES_OF_CUSTOMERS)
        .uuid(workspace_id.0)
        .uuid_list(&ids)
        .select(read_identity)
}
