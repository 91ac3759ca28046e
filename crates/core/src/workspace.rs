//! The workspace: one business, the tenant boundary. Its settings steer continuity.

use serde::{Deserialize, Serialize};

use crate::{Timestamp, ids::WorkspaceId};

/// How inbound messages find their conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Continuity {
    /// One thread per customer, whatever channel the message came by (the default).
    Customer,
    /// One thread per customer and channel.
    Channel,
}

impl Continuity {
    pub fn as_str(self) -> &'static str {
        match self {
            Continuity::Customer => "customer",
            Continuity::Channel => "channel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "customer" => Some(Continuity::Customer),
            "channel" => Some(Continuity::Channel),
            _ => None,
        }
    }
}

/// Default window in which a customer's message reopens a resolved conversation.
pub const DEFAULT_REOPEN_WINDOW_SECS: i64 = 3 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    /// ISO 3166 region used to read national phone numbers, e.g. `US`, `SA`, `IR`.
    pub default_region: String,
    pub continuity: Continuity,
    pub reopen_window_secs: i64,
    pub created_at: Timestamp,
}

impl Workspace {
    pub fn new(name: impl Into<String>, default_region: impl Into<String>, now: Timestamp) -> Self {
        Workspace {
            id: WorkspaceId::new(),
            name: name.into(),
            default_region: default_region.into(),
            continuity: Continuity::Customer,
            reopen_window_secs: DEFAULT_REOPEN_WINDOW_SECS,
            created_at: now,
        }
    }
}

/// Finds the workspace called `name`, or creates it. Used by the command line, which acts as
/// the machine's operator rather than as a user.
pub async fn ensure_workspace(
    store: &dyn crate::ports::Store,
    name: &str,
    default_region: &str,
    now: Timestamp,
) -> crate::Result<Workspace> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(crate::Error::invalid(
            "workspace",
            "must have 1 to 100 characters",
        ));
    }
    let region = default_region.trim().to_ascii_uppercase();
    if region.parse::<phonenumber::country::Id>().is_err() {
        return Err(crate::Error::invalid(
            "region",
            "is not an ISO 3166 region code",
        ));
    }
    if let Some(found) = store
        .list_workspaces()
        .await?
        .into_iter()
        .find(|w| w.name == name)
    {
        return Ok(found);
    }
    let workspace = Workspace::new(name, region, now);
    let mut tx = store.begin().await?;
    tx.insert_workspace(&workspace).await?;
    tx.commit().await?;
    Ok(workspace)
}
