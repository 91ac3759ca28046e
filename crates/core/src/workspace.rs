//! The workspace: one business, the tenant boundary. Its settings steer continuity.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::{Error, Result, Timestamp, identity::IdentityKind, ids::WorkspaceId, user::Language};

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
    pub identity_rules: IdentityRules,
    /// IANA name, e.g. `Asia/Riyadh`: business hours and reports follow it.
    pub time_zone: String,
    /// The languages the workspace serves, at least one; the first is the default.
    pub languages: Vec<Language>,
    pub created_at: Timestamp,
}

/// The workspace's identity resolution settings: how many identities of a kind one customer
/// may hold, and values that never identify anybody.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRules {
    /// Per-kind overrides of [`IdentityRules::default_limit`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<IdentityKind, u32>,
    /// Values ignored on top of the built-in list (compared case-insensitively, and also after
    /// normalisation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<String>,
}

/// Most values a workspace may block, and the longest.
const MAX_BLOCKED: usize = 1_000;
const MAX_LIMIT: u32 = 1_000;

impl IdentityRules {
    /// Built-in limits: one external id, five emails, five phones, ten ids per messaging
    /// channel, a hundred visitor ids.
    pub fn default_limit(kind: IdentityKind) -> u32 {
        match kind {
            IdentityKind::ExternalId => 1,
            IdentityKind::Email | IdentityKind::Phone => 5,
            IdentityKind::Visitor => 100,
            IdentityKind::Whatsapp
            | IdentityKind::Messenger
            | IdentityKind::Instagram
            | IdentityKind::Telegram
            | IdentityKind::Line => 10,
        }
    }

    /// How many identities of `kind` one customer may hold here.
    pub fn limit(&self, kind: IdentityKind) -> u32 {
        self.limits
            .get(&kind)
            .copied()
            .unwrap_or_else(|| Self::default_limit(kind))
    }

    /// Checks an edit: limits between 1 and 1,000 (external id stays 1: one customer is one
    /// account in the business's own system), at most 1,000 blocked values.
    pub fn validate(&self) -> Result<()> {
        for (kind, limit) in &self.limits {
            let field = format!("limits.{}", kind.as_str());
            if *kind == IdentityKind::ExternalId && *limit != 1 {
                return Err(Error::invalid(field, "must be 1: never two external ids"));
            }
            if *limit == 0 || *limit > MAX_LIMIT {
                return Err(Error::invalid(field, "must be between 1 and 1000"));
            }
        }
        if self.blocked.len() > MAX_BLOCKED {
            return Err(Error::invalid("blocked", "has more than 1000 values"));
        }
        if self
            .blocked
            .iter()
            .any(|value| value.trim().is_empty() || value.len() > 254)
        {
            return Err(Error::invalid("blocked", "has an empty or over-long value"));
        }
        Ok(())
    }
}

impl Workspace {
    pub fn new(name: impl Into<String>, default_region: impl Into<String>, now: Timestamp) -> Self {
        Workspace {
            id: WorkspaceId::new(),
            name: name.into(),
            default_region: default_region.into(),
            continuity: Continuity::Customer,
            reopen_window_secs: DEFAULT_REOPEN_WINDOW_SECS,
            identity_rules: IdentityRules::default(),
            time_zone: "UTC".into(),
            languages: vec![Language::En],
            created_at: now,
        }
    }
}

/// A workspace's name: 1 to 100 characters once trimmed.
fn clean_name(field: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(field, "must have 1 to 100 characters"));
    }
    Ok(name.to_string())
}

/// An ISO 3166 region code such as `SA`, upper-cased.
fn parse_region(field: &str, raw: &str) -> Result<String> {
    let region = raw.trim().to_ascii_uppercase();
    if region.parse::<phonenumber::country::Id>().is_err() {
        return Err(Error::invalid(field, "is not an ISO 3166 region code"));
    }
    Ok(region)
}

/// Finds the workspace called `name`, or creates it. Used by the command line, which acts as
/// the machine's operator rather than as a user.
pub async fn ensure_workspace(
    store: &dyn crate::ports::Store,
    name: &str,
    default_region: &str,
    now: Timestamp,
) -> Result<Workspace> {
    let name = clean_name("workspace", name)?;
    let region = parse_region("region", default_region)?;
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

/// Longest reopen window a workspace may set: 90 days.
pub const MAX_REOPEN_WINDOW_SECS: i64 = 90 * 24 * 3600;

/// The actor's workspace; every member may read it.
pub async fn workspace_settings(
    store: &dyn crate::ports::Store,
    actor: &crate::user::Actor,
) -> Result<Workspace> {
    actor.require(crate::user::Permission::ReadConversations)?;
    store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)
}

/// A change to the workspace's settings; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkspaceUpdate {
    pub name: Option<String>,
    pub default_region: Option<String>,
    pub time_zone: Option<String>,
    pub languages: Option<Vec<Language>>,
    pub continuity: Option<Continuity>,
    pub reopen_window_secs: Option<i64>,
}

/// Changes the settings (admins and owners), each value checked.
pub async fn update_workspace(
    store: &dyn crate::ports::Store,
    actor: &crate::user::Actor,
    update: WorkspaceUpdate,
) -> Result<Workspace> {
    actor.require(crate::user::Permission::ManageWorkspace)?;
    let mut tx = store.begin().await?;
    let mut workspace = tx
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(name) = update.name {
        workspace.name = clean_name("name", &name)?;
    }
    if let Some(region) = update.default_region {
        workspace.default_region = parse_region("default_region", &region)?;
    }
    if let Some(zone) = update.time_zone {
        let zone = zone.trim();
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(Error::invalid(
                "time_zone",
                "is not an IANA time zone such as Asia/Riyadh",
            ));
        }
        workspace.time_zone = zone.to_string();
    }
    if let Some(languages) = update.languages {
        let mut unique: Vec<Language> = Vec::with_capacity(languages.len());
        for language in languages {
            if !unique.contains(&language) {
                unique.push(language);
            }
        }
        if unique.is_empty() {
            return Err(Error::invalid(
                "languages",
                "must name at least one language",
            ));
        }
        workspace.languages = unique;
    }
    if let Some(continuity) = update.continuity {
        workspace.continuity = continuity;
    }
    if let Some(window) = update.reopen_window_secs {
        if !(0..=MAX_REOPEN_WINDOW_SECS).contains(&window) {
            return Err(Error::invalid(
                "reopen_window_secs",
                "must be between 0 and 7776000 (90 days)",
            ));
        }
        workspace.reopen_window_secs = window;
    }
    tx.update_workspace(&workspace).await?;
    tx.commit().await?;
    Ok(workspace)
}
