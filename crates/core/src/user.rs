//! Users, their roles, and permissions as values: a use case asks the actor for a permission
//! and cannot proceed without the token it returns.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    identity::Identity,
    ids::{UserId, WorkspaceId},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

/// What an actor may do. Checked in the use cases, not in the handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    ReadConversations,
    ReplyToConversations,
    UpdateConversations,
    ReadCustomers,
    /// Merge customers, undo merges, review resolution conflicts.
    MergeCustomers,
    /// Workspace settings such as the identity rules.
    ManageWorkspace,
    /// Edit a customer's profile and consent, dismiss duplicate suggestions.
    UpdateCustomers,
    /// Define the workspace's custom attributes.
    ManageAttributes,
    ReadChannels,
    ManageChannels,
    ManageUsers,
    CreateApiTokens,
    /// Identify customers and record their events (the tracking API).
    TrackEvents,
    /// Bulk import of customers.
    ImportCustomers,
    /// Export and erasure of everything held on a customer.
    ManageCustomerData,
}

impl Role {
    pub fn grants(self, permission: Permission) -> bool {
        match permission {
            Permission::ReadConversations
            | Permission::ReplyToConversations
            | Permission::UpdateConversations
            | Permission::ReadCustomers
            | Permission::MergeCustomers
            | Permission::UpdateCustomers
            | Permission::ReadChannels
            | Permission::CreateApiTokens
            | Permission::TrackEvents => true,
            Permission::ManageChannels
            | Permission::ManageUsers
            | Permission::ManageWorkspace
            | Permission::ManageAttributes
            | Permission::ImportCustomers
            | Permission::ManageCustomerData => self >= Role::Admin,
        }
    }
}

/// Proof that a permission was checked; use cases that change state take one.
#[derive(Debug, Clone, Copy)]
pub struct Granted(Permission);

impl Granted {
    pub fn permission(self) -> Permission {
        self.0
    }
}

/// The authenticated user on whose behalf a use case runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub role: Role,
}

impl Actor {
    pub fn require(&self, permission: Permission) -> Result<Granted> {
        if self.role.grants(permission) {
            Ok(Granted(permission))
        } else {
            Err(Error::Forbidden)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub workspace_id: WorkspaceId,
    /// Normalised like an email identity; unique across Seam because login names no workspace.
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing)]
    pub password_hash: String,
    #[serde(skip_serializing)]
    pub failed_logins: i32,
    #[serde(skip_serializing)]
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            workspace_id: self.workspace_id,
            role: self.role,
        }
    }

    /// Builds a new user with a freshly hashed password.
    pub fn new(
        workspace_id: WorkspaceId,
        email: &str,
        name: &str,
        role: Role,
        password: &str,
        now: Timestamp,
    ) -> Result<Self> {
        let email = Identity::parse_email("email", email)?.value;
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "is empty"));
        }
        let password_hash = crate::auth::hash_password(password)?;
        Ok(User {
            id: UserId::new(),
            workspace_id,
            email,
            name: name.to_string(),
            role,
            password_hash,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
        })
    }
}

/// Creates a user in a workspace on the operator's authority (command line, demo seeding).
pub async fn create_user(
    store: &dyn crate::ports::Store,
    workspace_id: WorkspaceId,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    now: Timestamp,
) -> Result<User> {
    let user = User::new(workspace_id, email, name, role, password, now)?;
    let mut tx = store.begin().await?;
    tx.get_workspace(workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.insert_user(&user).await?;
    tx.commit().await?;
    Ok(user)
}
