//! Privacy: export everything Seam holds on a customer, and erase a customer's personal data
//! while keeping an anonymous shell so that counts and metrics survive. Every erasure leaves an
//! audit entry that names the customer by id only.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    conversation::Conversation,
    customer::{Customer, CustomerIdentity},
    event::Event,
    ids::{CustomerId, UserId, WorkspaceId},
    message::Message,
    ports::Store,
    user::{Actor, Permission},
};

/// What an erased message's text becomes.
pub const ERASED_TEXT: &str = "[erased]";

/// The `action` of the audit entry an erasure writes.
pub const ERASE_ACTION: &str = "customer.erased";

/// Everything Seam holds on one customer, as one document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerExport {
    pub customer: Customer,
    pub identities: Vec<CustomerIdentity>,
    /// Oldest first, each with its messages oldest first.
    pub conversations: Vec<ConversationExport>,
    /// Oldest first.
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationExport {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

/// Who did something recorded in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum AuditActor {
    User(UserId),
    /// The operator, on the command line.
    Operator,
}

impl AuditActor {
    /// `user:<id>` or `operator`, as stored.
    pub fn label(self) -> String {
        match self {
            AuditActor::User(id) => format!("user:{id}"),
            AuditActor::Operator => "operator".to_string(),
        }
    }
}

/// One line of the audit log. Holds ids and names of actions, never personal data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub workspace_id: WorkspaceId,
    pub actor: AuditActor,
    pub action: String,
    pub subject_id: uuid::Uuid,
    pub created_at: Timestamp,
}

/// Exports one customer of the actor's workspace. Needs `ManageCustomerData`.
pub async fn export_customer(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
) -> Result<CustomerExport> {
    actor.require(Permission::ManageCustomerData)?;
    export(store, actor.workspace_id, id).await
}

/// Exports one customer on the operator's authority (the command line).
pub async fn export(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    id: CustomerId,
) -> Result<CustomerExport> {
    store
        .export_customer(workspace_id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Erases one customer of the actor's workspace. Needs `ManageCustomerData`.
pub async fn erase_customer(
    store: &dyn Store,
    actor: &Actor,
    id: CustomerId,
    now: Timestamp,
) -> Result<()> {
    actor.require(Permission::ManageCustomerData)?;
    erase(
        store,
        actor.workspace_id,
        id,
        AuditActor::User(actor.user_id),
        now,
    )
    .await
}

/// Erases one customer in one transaction: the store removes the personal data table by table
/// (`Tx::erase_customer`), and the audit entry is written with it. The erased identities are
/// gone, so a later message from the same address makes a new customer. Erasing an erased
/// customer again succeeds and records another entry.
pub async fn erase(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    id: CustomerId,
    actor: AuditActor,
    now: Timestamp,
) -> Result<()> {
    let mut tx = store.begin().await?;
    if !tx
        .erase_customer(workspace_id, id, ERASED_TEXT, now)
        .await?
    {
        tx.rollback().await?;
        return Err(Error::NotFound);
    }
    tx.insert_audit_entry(&AuditEntry {
        id: uuid::Uuid::now_v7(),
        workspace_id,
        actor,
        action: ERASE_ACTION.to_string(),
        subject_id: id.0,
        created_at: now,
    })
    .await?;
    tx.commit().await
}
