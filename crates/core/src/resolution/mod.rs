//! Identity resolution: the one place where a set of identities becomes a customer. Claims are
//! normalised ([`normalise`]), planned by pure rules ([`plan`]), then applied here in the
//! caller's transaction — customers created, merged, identities attached — with every decision
//! written to the resolution log so an agent can see why.

pub mod normalise;
pub mod plan;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result, Timestamp,
    conversation::Page,
    cursor::Cursor,
    customer::{Customer, CustomerIdentity},
    identity::Identity,
    ids::{ChannelId, CustomerId, MergeId, ResolutionEntryId, UserId},
    merge::{self, MergeBy},
    ports::{Store, Tx},
    user::{Actor, Permission},
    workspace::{IdentityRules, Workspace},
};
pub use normalise::{Claim, IgnoredIdentity, Normalised};
pub use plan::{Conflict, ConflictRule, Target};

/// Where the claims come from; recorded on each identity attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Channel(ChannelId),
    Identify,
    Import,
    Agent(UserId),
}

impl Source {
    pub fn label(self) -> String {
        match self {
            Source::Channel(id) => format!("channel:{id}"),
            Source::Identify => "identify".to_string(),
            Source::Import => "import".to_string(),
            Source::Agent(id) => format!("agent:{id}"),
        }
    }
}

/// What resolution did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub customer_id: CustomerId,
    /// A new customer was created.
    pub created: bool,
    /// The identity that picked the customer (none for a new one).
    pub matched_by: Option<Identity>,
    /// Identities newly attached to the customer.
    pub attached: Vec<Identity>,
    /// Merges made to reach one customer.
    pub merges: Vec<MergeId>,
    /// How many identities were left out by a rule (listed for review).
    pub conflicts: usize,
}

/// One decision of resolution, merge or undo, kept for explanation and review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionEntry {
    pub id: ResolutionEntryId,
    #[serde(skip)]
    pub workspace_id: crate::ids::WorkspaceId,
    /// The customer the decision is about (for a conflict: the one the claims resolved to).
    pub customer_id: CustomerId,
    /// The other customer involved: the one merged in, or the holder of a conflicting identity.
    pub other_customer_id: Option<CustomerId>,
    pub action: ResolutionAction,
    pub identity: Option<Identity>,
    /// The rule that decided: `no_match`, `new_identity`, `shared_identity`, `manual`,
    /// `external_id_mismatch`, `limit`, `unverified_claim`, `undo`.
    pub rule: String,
    pub merge_id: Option<MergeId>,
    pub created_at: Timestamp,
    /// For conflicts: when an agent reviewed it (it leaves the review list).
    pub reviewed_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionAction {
    Created,
    Attached,
    Merged,
    Unmerged,
    Conflict,
}

impl ResolutionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ResolutionAction::Created => "created",
            ResolutionAction::Attached => "attached",
            ResolutionAction::Merged => "merged",
            ResolutionAction::Unmerged => "unmerged",
            ResolutionAction::Conflict => "conflict",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "created" => ResolutionAction::Created,
            "attached" => ResolutionAction::Attached,
            "merged" => ResolutionAction::Merged,
            "unmerged" => ResolutionAction::Unmerged,
            "conflict" => ResolutionAction::Conflict,
            _ => return None,
        })
    }
}

impl ResolutionEntry {
    pub fn new(
        workspace_id: crate::ids::WorkspaceId,
        customer_id: CustomerId,
        action: ResolutionAction,
        rule: &str,
        now: Timestamp,
    ) -> Self {
        ResolutionEntry {
            id: ResolutionEntryId::new(),
            workspace_id,
            customer_id,
            other_customer_id: None,
            action,
            identity: None,
            rule: rule.to_string(),
            merge_id: None,
            created_at: now,
            reviewed_at: None,
        }
    }

    fn with_identity(mut self, identity: &Identity) -> Self {
        self.identity = Some(identity.clone());
        self
    }

    fn with_other(mut self, other: Option<CustomerId>) -> Self {
        self.other_customer_id = other;
        self
    }
}

/// Resolves `claims` to one customer inside `tx`: finds, creates, merges and attaches as the
/// rules of [`plan`] decide. Fails with `Conflict { what: IDENTITY_TAKEN }` when a concurrent
/// transaction attached one of the identities first (the caller tries again).
pub async fn resolve(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    claims: &[Claim],
    name: Option<&str>,
    source: Source,
    now: Timestamp,
) -> Result<Resolution> {
    if claims.is_empty() {
        return Err(Error::invalid("identities", "has no usable identity"));
    }
    let identities: Vec<Identity> = claims.iter().map(|claim| claim.identity.clone()).collect();
    let held = tx.find_identities(workspace.id, &identities).await?;
    let mut holders: Vec<CustomerId> = held.iter().map(|held| held.customer_id).collect();
    holders.sort();
    holders.dedup();
    // Only a resolution that may change the holders (merge them, or attach to one) locks
    // them, in id order; a plain match takes no lock, so concurrent batches of events for the
    // same customers never wait on each other. Callers that need the customer serialised
    // (the inbound path) lock it themselves.
    let mut identities_of: BTreeMap<CustomerId, Vec<Identity>> = BTreeMap::new();
    if holders.len() > 1 || (holders.len() == 1 && held.len() < claims.len()) {
        for customer in &holders {
            tx.lock_customer(workspace.id, *customer).await?;
        }
        for identity in tx.identities_of_customers(workspace.id, &holders).await? {
            identities_of
                .entry(identity.customer_id)
                .or_default()
                .push(identity.identity);
        }
    }
    let plan = plan::plan(
        claims,
        &plan::Known {
            held: &held,
            identities_of: &identities_of,
        },
        &workspace.identity_rules,
    );

    let name = name.map(str::trim).filter(|name| !name.is_empty());
    let mut log = Vec::new();
    let (customer_id, matched_by) = match &plan.target {
        Target::New => {
            let customer = Customer::new(workspace.id, name.map(str::to_string), now);
            tx.insert_customer(&customer).await?;
            let mut entry = ResolutionEntry::new(
                workspace.id,
                customer.id,
                ResolutionAction::Created,
                "no_match",
                now,
            );
            entry.identity = plan.attach.first().map(|claim| claim.identity.clone());
            log.push(entry);
            (customer.id, None)
        }
        Target::Existing {
            customer_id,
            matched_by,
        } => {
            if let Some(name) = name
                && let Some(mut customer) = tx.get_customer(workspace.id, *customer_id).await?
                && customer.name.is_none()
            {
                customer.name = Some(name.to_string());
                customer.updated_at = now;
                tx.update_customer(&customer).await?;
            }
            (*customer_id, Some(matched_by.clone()))
        }
    };

    let mut merges = Vec::new();
    for (absorbed, linked_by) in &plan.absorb {
        let merged = merge::merge_in_tx(
            tx,
            workspace,
            customer_id,
            *absorbed,
            MergeBy::Rule {
                identity: linked_by.clone(),
            },
            now,
        )
        .await?;
        merges.push(merged.id);
    }

    let created = plan.target == Target::New;
    for claim in &plan.attach {
        tx.insert_identity(&CustomerIdentity {
            workspace_id: workspace.id,
            customer_id,
            identity: claim.identity.clone(),
            verified: claim.verified,
            source: source.label(),
            created_at: now,
        })
        .await?;
        if !created {
            log.push(
                ResolutionEntry::new(
                    workspace.id,
                    customer_id,
                    ResolutionAction::Attached,
                    "new_identity",
                    now,
                )
                .with_identity(&claim.identity),
            );
        }
    }
    for conflict in &plan.conflicts {
        log.push(
            ResolutionEntry::new(
                workspace.id,
                customer_id,
                ResolutionAction::Conflict,
                conflict.rule.as_str(),
                now,
            )
            .with_identity(&conflict.identity)
            .with_other(conflict.holder.filter(|holder| *holder != customer_id)),
        );
    }
    if !log.is_empty() {
        tx.insert_resolution_entries(&log).await?;
    }
    Ok(Resolution {
        customer_id,
        created,
        matched_by,
        attached: plan
            .attach
            .iter()
            .map(|claim| claim.identity.clone())
            .collect(),
        merges,
        conflicts: plan.conflicts.len(),
    })
}

/// The resolution log of one customer (decisions about it, and about others that involved
/// it), newest first.
pub async fn explain(
    store: &dyn Store,
    actor: &Actor,
    customer_id: CustomerId,
) -> Result<Vec<ResolutionEntry>> {
    actor.require(Permission::ReadCustomers)?;
    store
        .get_customer_profile(actor.workspace_id, customer_id)
        .await?
        .ok_or(Error::NotFound)?;
    store
        .resolution_log_of_customer(actor.workspace_id, customer_id, 200)
        .await
}

/// Conflicts waiting for review, newest first.
pub async fn list_conflicts(
    store: &dyn Store,
    actor: &Actor,
    cursor: Option<&Cursor>,
    limit: Option<u32>,
) -> Result<Page<ResolutionEntry>> {
    actor.require(Permission::ReadCustomers)?;
    let limit = crate::conversation::page_size(limit)?;
    store
        .list_open_conflicts(actor.workspace_id, cursor, limit)
        .await
}

/// Takes a conflict off the review list.
pub async fn review_conflict(
    store: &dyn Store,
    actor: &Actor,
    id: ResolutionEntryId,
    now: Timestamp,
) -> Result<()> {
    actor.require(Permission::MergeCustomers)?;
    if store
        .mark_conflict_reviewed(actor.workspace_id, id, now)
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The workspace's identity rules.
pub async fn identity_rules(store: &dyn Store, actor: &Actor) -> Result<IdentityRules> {
    actor.require(Permission::ReadCustomers)?;
    let workspace = store
        .get_workspace(actor.workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(workspace.identity_rules)
}

/// Replaces the workspace's identity rules (admins).
pub async fn set_identity_rules(
    store: &dyn Store,
    actor: &Actor,
    rules: IdentityRules,
) -> Result<IdentityRules> {
    actor.require(Permission::ManageWorkspace)?;
    rules.validate()?;
    store
        .update_identity_rules(actor.workspace_id, &rules)
        .await?;
    Ok(rules)
}
