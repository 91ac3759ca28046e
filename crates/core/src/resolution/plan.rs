//! The resolution rules as a pure function: given the claims and what the store holds, which
//! customer the claims resolve to, whom to merge into it, what to attach, and which conflicts to
//! record. No IO here, so every rule is tested on plain values.
//!
//! Rules, in order: claims match the customers holding them; the customer matched by the
//! highest-priority claim survives (external id > email > phone > channel ids > visitor; the
//! older identity on a tie). A merge or attachment must not give one customer two different
//! external ids or more identities of a kind than the workspace allows, and an unverified claim
//! must not pull an identified customer into a merge or an attachment. When a rule would break,
//! the lowest-priority matched claim stops matching (it stays with its holder, and a conflict
//! is recorded) and resolution runs again.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    customer::CustomerIdentity,
    identity::{Identity, IdentityKind},
    ids::CustomerId,
    resolution::normalise::Claim,
    workspace::IdentityRules,
};

/// Why an identity did not match or was not attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictRule {
    /// It would have given one customer two different external ids.
    ExternalIdMismatch,
    /// It would have exceeded the workspace's limit for its kind.
    Limit,
    /// It was typed in, not proven, and points at an identified customer.
    UnverifiedClaim,
}

impl ConflictRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictRule::ExternalIdMismatch => "external_id_mismatch",
            ConflictRule::Limit => "limit",
            ConflictRule::UnverifiedClaim => "unverified_claim",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "external_id_mismatch" => ConflictRule::ExternalIdMismatch,
            "limit" => ConflictRule::Limit,
            "unverified_claim" => ConflictRule::UnverifiedClaim,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub identity: Identity,
    /// The customer holding it, when someone does.
    pub holder: Option<CustomerId>,
    pub rule: ConflictRule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Nobody holds any claim: a new customer.
    New,
    /// This customer, matched by this claim.
    Existing {
        customer_id: CustomerId,
        matched_by: Identity,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    /// Customers to merge into the target, each with the claim that linked it.
    pub absorb: Vec<(CustomerId, Identity)>,
    /// Claims nobody holds, to attach to the target.
    pub attach: Vec<Claim>,
    pub conflicts: Vec<Conflict>,
}

/// What the store knows: every held identity equal to a claim, and every identity of each
/// customer holding one.
pub struct Known<'a> {
    pub held: &'a [CustomerIdentity],
    pub identities_of: &'a BTreeMap<CustomerId, Vec<Identity>>,
}

impl Known<'_> {
    fn holder(&self, identity: &Identity) -> Option<&CustomerIdentity> {
        self.held.iter().find(|held| held.identity == *identity)
    }

    fn identities(&self, customer: CustomerId) -> &[Identity] {
        self.identities_of
            .get(&customer)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Known only by visitor ids (or by nothing): anybody may claim to be them.
    fn anonymous(&self, customer: CustomerId) -> bool {
        self.identities(customer)
            .iter()
            .all(|identity| identity.kind == IdentityKind::Visitor)
    }
}

pub fn plan(claims: &[Claim], known: &Known<'_>, rules: &IdentityRules) -> Plan {
    // Claims still allowed to match, in input order.
    let mut matching: Vec<&Claim> = claims.iter().collect();
    let mut conflicts = Vec::new();
    loop {
        let matched: Vec<(&Claim, &CustomerIdentity)> = matching
            .iter()
            .filter_map(|claim| known.holder(&claim.identity).map(|held| (*claim, held)))
            .collect();
        let unheld: Vec<&Claim> = claims
            .iter()
            .filter(|claim| known.holder(&claim.identity).is_none())
            .collect();
        let Some(survivor) = matched
            .iter()
            .min_by_key(|(claim, held)| (claim.identity.kind.priority(), held.created_at))
            .map(|(claim, held)| (held.customer_id, claim.identity.clone()))
        else {
            let attach = within_limits(&[], unheld, rules, &mut conflicts);
            return Plan {
                target: Target::New,
                absorb: Vec::new(),
                attach,
                conflicts,
            };
        };
        let mut customers: Vec<CustomerId> = vec![survivor.0];
        let mut absorb = Vec::new();
        for (claim, held) in &matched {
            if !customers.contains(&held.customer_id) {
                customers.push(held.customer_id);
                absorb.push((held.customer_id, claim.identity.clone()));
            }
        }

        if let Some(rule) = broken_rule(&customers, &matched, &unheld, known, rules) {
            let victim = lowest_priority(&matched, rule, known);
            conflicts.push(Conflict {
                identity: victim.0.identity.clone(),
                holder: Some(victim.1.customer_id),
                rule,
            });
            matching.retain(|claim| claim.identity != victim.0.identity);
            continue;
        }

        let held_by_target: Vec<Identity> = customers
            .iter()
            .flat_map(|customer| known.identities(*customer).iter().cloned())
            .collect();
        let attach = within_limits(&held_by_target, unheld, rules, &mut conflicts);
        return Plan {
            target: Target::Existing {
                customer_id: survivor.0,
                matched_by: survivor.1,
            },
            absorb,
            attach,
            conflicts,
        };
    }
}

/// The first rule the merge of `customers` (plus attaching `unheld`) would break.
fn broken_rule(
    customers: &[CustomerId],
    matched: &[(&Claim, &CustomerIdentity)],
    unheld: &[&Claim],
    known: &Known<'_>,
    rules: &IdentityRules,
) -> Option<ConflictRule> {
    let merging = customers.len() > 1;
    let joining = merging || !unheld.is_empty();
    // An identified customer reached only through unverified claims may be found, but not
    // merged with anyone nor given new identities.
    if joining
        && customers.iter().any(|customer| {
            !known.anonymous(*customer)
                && matched
                    .iter()
                    .filter(|(_, held)| held.customer_id == *customer)
                    .all(|(claim, _)| !claim.verified)
        })
    {
        return Some(ConflictRule::UnverifiedClaim);
    }
    let union: BTreeSet<&Identity> = customers
        .iter()
        .flat_map(|customer| known.identities(*customer).iter())
        .collect();
    let external_ids_held = union
        .iter()
        .filter(|identity| identity.kind == IdentityKind::ExternalId)
        .count();
    if external_ids_held > 1 {
        return Some(ConflictRule::ExternalIdMismatch);
    }
    if external_ids_held == 1
        && unheld
            .iter()
            .any(|claim| claim.identity.kind == IdentityKind::ExternalId)
    {
        return Some(ConflictRule::ExternalIdMismatch);
    }
    if merging {
        // A merge may not overflow a kind; attaching alone is trimmed instead (see
        // `within_limits`), since that takes nothing from anyone.
        let mut counts: BTreeMap<IdentityKind, u32> = BTreeMap::new();
        for identity in &union {
            *counts.entry(identity.kind).or_default() += 1;
        }
        if counts
            .iter()
            .any(|(kind, count)| *count > rules.limit(*kind))
        {
            return Some(ConflictRule::Limit);
        }
    }
    None
}

/// The matched claim to stop matching: the one of lowest priority (the latest of them on a tie)
/// among those that take part in the broken rule.
fn lowest_priority<'c>(
    matched: &[(&'c Claim, &'c CustomerIdentity)],
    rule: ConflictRule,
    known: &Known<'_>,
) -> (&'c Claim, &'c CustomerIdentity) {
    let candidates: Vec<(&Claim, &CustomerIdentity)> = match rule {
        ConflictRule::UnverifiedClaim => matched
            .iter()
            .filter(|(claim, held)| !claim.verified && !known.anonymous(held.customer_id))
            .copied()
            .collect(),
        _ => matched.to_vec(),
    };
    let pool = if candidates.is_empty() {
        matched
    } else {
        &candidates
    };
    let mut victim = pool[0];
    for candidate in &pool[1..] {
        if candidate.0.identity.kind.priority() >= victim.0.identity.kind.priority() {
            victim = *candidate;
        }
    }
    victim
}

/// The claims that fit the target's limits (and its one external id); the rest become
/// conflicts.
fn within_limits(
    held: &[Identity],
    unheld: Vec<&Claim>,
    rules: &IdentityRules,
    conflicts: &mut Vec<Conflict>,
) -> Vec<Claim> {
    let mut counts: BTreeMap<IdentityKind, u32> = BTreeMap::new();
    for identity in held {
        *counts.entry(identity.kind).or_default() += 1;
    }
    let mut attach = Vec::new();
    for claim in unheld {
        let count = counts.entry(claim.identity.kind).or_default();
        if *count >= rules.limit(claim.identity.kind) {
            let rule = if claim.identity.kind == IdentityKind::ExternalId {
                ConflictRule::ExternalIdMismatch
            } else {
                ConflictRule::Limit
            };
            conflicts.push(Conflict {
                identity: claim.identity.clone(),
                holder: None,
                rule,
            });
            continue;
        }
        *count += 1;
        attach.push(claim.clone());
    }
    attach
}
