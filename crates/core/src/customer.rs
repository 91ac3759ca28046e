//! Customers: the unified profile of one end customer and the identities it is known by.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    conversation::{Page, page_size},
    cursor::Cursor,
    identity::Identity,
    ids::{CustomerId, WorkspaceId},
    ports::Store,
    user::{Actor, Permission},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub workspace_id: WorkspaceId,
    pub name: Option<String>,
    /// Set while this customer is merged into another (its records live there until the merge
    /// is undone).
    pub merged_into_id: Option<CustomerId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Customer {
    /// A new customer with nothing but a name, created `now`.
    pub fn new(workspace_id: WorkspaceId, name: Option<String>, now: Timestamp) -> Self {
        Customer {
            id: CustomerId::new(),
            workspace_id,
            name,
            merged_into_id: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// One identity as attached to a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerIdentity {
    pub workspace_id: WorkspaceId,
    pub customer_id: CustomerId,
    #[serde(flatten)]
    pub identity: Identity,
    /// Proven by the channel (a provider id, a signed widget id) rather than claimed.
    pub verified: bool,
    /// Where it came from: `channel:<id>`, `identify`, `import`, `agent`.
    pub source: String,
    pub created_at: Timestamp,
}

/// A customer with every identity it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerProfile {
    #[serde(flatten)]
    pub customer: Customer,
    pub identities: Vec<CustomerIdentity>,
}

pub async fn get_customer(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
) -> Result<CustomerProfile> {
    actor.require(Permission::ReadCustomers)?;
    store
        .get_customer_profile(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Finds customers whose name contains the query, or who hold an identity containing it.
pub async fn search_customers(
    store: &dyn Store,
    actor: &Actor,
    query: Option<&str>,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<CustomerProfile>> {
    actor.require(Permission::ReadCustomers)?;
    let limit = page_size(limit)?;
    let query = query.map(str::trim).filter(|query| !query.is_empty());
    if query.is_some_and(|query| query.chars().count() > 200) {
        return Err(Error::invalid("q", "must have at most 200 characters"));
    }
    store
        .search_customers(actor.workspace_id, query, cursor, limit)
        .await
}
