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

/// A language the agent app speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Ar,
    Fa,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Ar, Language::Fa];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ar => "ar",
            Language::Fa => "fa",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "en" => Some(Language::En),
            "ar" => Some(Language::Ar),
            "fa" => Some(Language::Fa),
            _ => None,
        }
    }
}

/// Whether a user wants conversations: chosen by the user. Being offline is not chosen: it is
/// having no realtime connection open (see [`Presence`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Online,
    Away,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "online" => Some(Availability::Online),
            "away" => Some(Availability::Away),
            _ => None,
        }
    }
}

/// What others see of a user: their availability while connected, offline otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Presence {
    pub fn of(availability: Availability, connected: bool) -> Self {
        match (connected, availability) {
            (false, _) => Presence::Offline,
            (true, Availability::Online) => Presence::Online,
            (true, Availability::Away) => Presence::Away,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Offline => "offline",
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
    /// The language of the agent app; `None` follows the workspace's first language.
    pub language: Option<Language>,
    pub availability: Availability,
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
        let name = clean_name(name)?;
        let password_hash = crate::auth::hash_password(password)?;
        Ok(User {
            id: UserId::new(),
            workspace_id,
            email,
            name,
            role,
            language: None,
            availability: Availability::Online,
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

/// The signed-in user with their workspace (the agent app's start).
pub async fn me(
    store: &dyn crate::ports::Store,
    actor: &Actor,
) -> Result<(User, crate::workspace::Workspace)> {
    let user = store
        .get_user(actor.workspace_id, actor.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let workspace = store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((user, workspace))
}

/// Everyone in the actor's workspace, oldest first. Every member may see them (to assign).
pub async fn list_users(store: &dyn crate::ports::Store, actor: &Actor) -> Result<Vec<User>> {
    actor.require(Permission::ReadConversations)?;
    store.list_users(actor.workspace_id).await
}

/// A change to a user; `None` leaves a field as it is, `language: Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub language: Option<Option<Language>>,
    pub availability: Option<Availability>,
}

/// A user's name: 1 to 100 characters once trimmed.
fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must have 1 to 100 characters"));
    }
    Ok(name.to_string())
}

/// The actor changes their own name, language or availability (never their role).
pub async fn update_me(
    store: &dyn crate::ports::Store,
    actor: &Actor,
    update: UserUpdate,
) -> Result<User> {
    if update.role.is_some() {
        return Err(Error::invalid("role", "is changed by an admin"));
    }
    let name = update.name.as_deref().map(clean_name).transpose()?;
    let mut tx = store.begin().await?;
    let mut user = tx
        .get_user(actor.workspace_id, actor.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    if let Some(name) = name {
        user.name = name;
    }
    if let Some(language) = update.language {
        user.language = language;
    }
    if let Some(availability) = update.availability {
        user.availability = availability;
    }
    tx.update_user(&user).await?;
    tx.commit().await?;
    Ok(user)
}

/// A user an admin adds to the workspace.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub language: Option<Language>,
}

/// Adds a user. Admins add agents, supervisors and admins; only an owner adds an owner.
pub async fn add_user(
    store: &dyn crate::ports::Store,
    actor: &Actor,
    new: NewUser,
    now: Timestamp,
) -> Result<User> {
    actor.require(Permission::ManageUsers)?;
    if new.role == Role::Owner && actor.role != Role::Owner {
        return Err(Error::Forbidden);
    }
    let mut user = User::new(
        actor.workspace_id,
        &new.email,
        &new.name,
        new.role,
        &new.password,
        now,
    )?;
    user.language = new.language;
    let mut tx = store.begin().await?;
    tx.insert_user(&user).await?;
    tx.commit().await?;
    Ok(user)
}

/// An admin changes a user's name, role or language. Only an owner makes or unmakes an
/// owner, and the last owner stays one.
pub async fn update_user(
    store: &dyn crate::ports::Store,
    actor: &Actor,
    id: UserId,
    update: UserUpdate,
) -> Result<User> {
    actor.require(Permission::ManageUsers)?;
    if update.availability.is_some() {
        return Err(Error::invalid("availability", "is set by the user"));
    }
    let name = update.name.as_deref().map(clean_name).transpose()?;
    let mut tx = store.begin().await?;
    let mut user = tx
        .get_user(actor.workspace_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(role) = update.role
        && role != user.role
    {
        if (role == Role::Owner || user.role == Role::Owner) && actor.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        if user.role == Role::Owner {
            let owners = tx
                .list_users(actor.workspace_id)
                .await?
                .iter()
                .filter(|other| other.role == Role::Owner)
                .count();
            if owners <= 1 {
                return Err(Error::conflict("last_owner"));
            }
        }
        user.role = role;
    }
    if let Some(name) = name {
        user.name = name;
    }
    if let Some(language) = update.language {
        user.language = language;
    }
    tx.update_user(&user).await?;
    tx.commit().await?;
    Ok(user)
}
