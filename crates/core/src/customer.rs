//! Customers: the unified profile of one end customer and the identities it is known by.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    consent::{self, Consent},
    conversation::{Page, page_size},
    cursor::Cursor,
    identity::Identity,
    ids::{CustomerId, WorkspaceId},
    ports::Store,
    profile::{Locale, TimeZone},
    text,
    user::{Actor, Permission},
};

/// Custom attribute values by key, checked against the workspace's attribute schema.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub workspace_id: WorkspaceId,
    pub name: Option<String>,
    /// Set while this customer is merged into another (its records live there until the merge
    /// is undone).
    pub merged_into_id: Option<CustomerId>,
    /// BCP 47, normalised (`fa-IR`).
    pub locale: Option<Locale>,
    /// An IANA time zone name (`Asia/Tehran`).
    pub time_zone: Option<TimeZone>,
    /// Trimmed, lower-case, without duplicates.
    pub tags: Vec<String>,
    pub attributes: Attributes,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Customer {
    /// A new customer with nothing but a name, created `now`. Every customer is built here, so
    /// that a new profile field has one place to get its default.
    pub fn new(workspace_id: WorkspaceId, name: Option<String>, now: Timestamp) -> Self {
        Customer {
            id: CustomerId::new(),
            workspace_id,
            name,
            merged_into_id: None,
            locale: None,
            time_zone: None,
            tags: Vec::new(),
            attributes: Attributes::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The name folded for matching ([`text::fold`]); stored beside the name on every write
    /// and compared by the duplicate suggestions. `None` without a name.
    pub fn name_key(&self) -> Option<String> {
        self.name
            .as_deref()
            .map(text::fold)
            .filter(|key| !key.is_empty())
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
    /// The consent recorded per channel kind; [`get_customer`] lists every kind, `unknown`
    /// where nothing is recorded. Empty in search results.
    #[serde(default)]
    pub consents: Vec<Consent>,
}

pub async fn get_customer(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
) -> Result<CustomerProfile> {
    actor.require(Permission::ReadCustomers)?;
    let mut profile = store
        .get_customer_profile(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    profile.consents = consent::every_kind(&profile.consents);
    Ok(profile)
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
