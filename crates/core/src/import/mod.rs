//! Customer import: rows from a file are validated at the edge, then resolved through the one
//! resolution path (`inbound::resolve_customer_from`) in transactions of many rows each. A row that
//! fails in the write is rolled back alone: its batch is retried row by row. Re-running a file
//! creates nothing new.

mod file;

use serde::{Deserialize, Serialize};

pub use file::{COLUMNS, ImportFormat, ImportRow, ParsedFile, RejectedRow, parse_file};

use crate::{
    Error, Result, Timestamp,
    identity::{Identity, IdentityKind},
    ids::{CustomerId, WorkspaceId},
    inbound::{RawIdentity, normalise_sender, resolve_customer_from},
    ports::{Store, Tx},
    resolution::Source,
    user::{Actor, Permission},
    workspace::Workspace,
};

/// Rows written per transaction.
pub const BATCH_ROWS: usize = 1000;

/// Longest customer name accepted, as on the inbound path.
const MAX_NAME_CHARS: usize = 200;

/// What an import did, row by row counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Rows that made a new customer.
    pub created: u64,
    /// Rows that added an identity or a name to a known customer.
    pub updated: u64,
    /// Rows whose customer already held everything they said.
    pub unchanged: u64,
    /// Rows that did not land, in line order.
    pub rejected: Vec<RejectedRow>,
}

/// A validated row: normalised identities, ready to resolve.
struct ValidRow {
    line: u64,
    name: Option<String>,
    identities: Vec<(Identity, bool)>,
}

#[derive(Clone, Copy)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// The bulk API's use case: reads the file, then imports it into the actor's workspace.
/// Needs `ImportCustomers` (admins and owners). A file Seam cannot read as a whole is
/// `Invalid { field: "file" }` and nothing is written.
pub async fn import_file(
    store: &dyn Store,
    actor: &Actor,
    format: ImportFormat,
    bytes: &[u8],
    now: Timestamp,
) -> Result<ImportReport> {
    actor.require(Permission::ImportCustomers)?;
    let parsed = parse_file(format, bytes)?;
    import_rows(store, actor.workspace_id, parsed, now, &mut |_| {}).await
}

/// Imports parsed rows into a workspace on the operator's authority (the command line).
/// `progress` is told how many rows have been handled so far, after every batch.
pub async fn import_rows(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    parsed: ParsedFile,
    now: Timestamp,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportReport> {
    let workspace = store
        .get_workspace(workspace_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut report = ImportReport {
        rejected: parsed.rejected,
        ..ImportReport::default()
    };
    let mut handled = 0u64;
    for chunk in parsed.rows.chunks(BATCH_ROWS) {
        let mut batch = Vec::with_capacity(chunk.len());
        for row in chunk {
            match validate(&workspace, row) {
                Ok(valid) => batch.push(valid),
                Err(rejected) => report.rejected.push(rejected),
            }
        }
        write_batch(store, &workspace, &batch, now, &mut report).await?;
        handled += chunk.len() as u64;
        progress(handled);
    }
    report.rejected.sort_by_key(|rejected| rejected.line);
    Ok(report)
}

/// Parses a row's identities with the workspace's rules; the first problem rejects the row.
fn validate(workspace: &Workspace, row: &ImportRow) -> std::result::Result<ValidRow, RejectedRow> {
    let reject = |field: &str, reason: &str| RejectedRow {
        line: row.line,
        field: field.to_string(),
        reason: reason.to_string(),
    };
    if row
        .name
        .as_ref()
        .is_some_and(|name| name.chars().count() > MAX_NAME_CHARS)
    {
        return Err(reject("name", "is longer than 200 characters"));
    }
    if row
        .name
        .as_ref()
        .is_some_and(|name| name.chars().any(char::is_control))
    {
        return Err(reject("name", "has a control character"));
    }
    let raw = |kind: IdentityKind, field: &str, value: &String| RawIdentity {
        kind,
        value: value.clone(),
        field: field.to_string(),
        // The workspace vouches for its own records.
        verified: true,
    };
    let mut sender = Vec::new();
    sender.extend(
        row.external_id
            .iter()
            .map(|value| raw(IdentityKind::ExternalId, "external_id", value)),
    );
    sender.extend(
        row.emails
            .iter()
            .map(|value| raw(IdentityKind::Email, "emails", value)),
    );
    sender.extend(
        row.phones
            .iter()
            .map(|value| raw(IdentityKind::Phone, "phones", value)),
    );
    if sender.is_empty() {
        return Err(reject(
            "row",
            "needs at least one of external_id, emails or phones",
        ));
    }
    let identities = normalise_sender(workspace, &sender).map_err(|error| match error {
        Error::Invalid { field, reason } => reject(&field, &reason),
        other => reject("row", &other.to_string()),
    })?;
    Ok(ValidRow {
        line: row.line,
        name: row.name.clone(),
        identities,
    })
}

/// Writes a batch in one transaction; if any row fails, the batch is rolled back and written
/// again one row per transaction, so only the failing rows are lost.
async fn write_batch(
    store: &dyn Store,
    workspace: &Workspace,
    batch: &[ValidRow],
    now: Timestamp,
    report: &mut ImportReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut failed = false;
    for row in batch {
        match write_row(tx.as_mut(), workspace, row, now).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) if rejects_row(&error) => {
                failed = true;
                break;
            }
            Err(error) => return Err(error),
        }
    }
    if !failed {
        tx.commit().await?;
        outcomes
            .into_iter()
            .for_each(|outcome| count(report, outcome));
        return Ok(());
    }
    tx.rollback().await?;
    for row in batch {
        let mut tx = store.begin().await?;
        match write_row(tx.as_mut(), workspace, row, now).await {
            Ok(outcome) => {
                tx.commit().await?;
                count(report, outcome);
            }
            Err(error) if rejects_row(&error) => {
                tx.rollback().await?;
                report.rejected.push(rejection(row.line, &error));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Errors that belong to one row's data; anything else (the database gone) stops the import.
fn rejects_row(error: &Error) -> bool {
    matches!(
        error,
        Error::Invalid { .. } | Error::Conflict { .. } | Error::Refused { .. }
    )
}

fn rejection(line: u64, error: &Error) -> RejectedRow {
    match error {
        Error::Invalid { field, reason } => RejectedRow {
            line,
            field: field.clone(),
            reason: reason.clone(),
        },
        Error::Conflict { what } => RejectedRow {
            line,
            field: what.clone(),
            reason: "is held by another customer".into(),
        },
        other => RejectedRow {
            line,
            field: "row".into(),
            reason: other.to_string(),
        },
    }
}

fn count(report: &mut ImportReport, outcome: Outcome) {
    match outcome {
        Outcome::Created => report.created += 1,
        Outcome::Updated => report.updated += 1,
        Outcome::Unchanged => report.unchanged += 1,
    }
}

/// Resolves one row and tells what changed, from the identities and names held before.
async fn write_row(
    tx: &mut dyn Tx,
    workspace: &Workspace,
    row: &ValidRow,
    now: Timestamp,
) -> Result<Outcome> {
    let identities: Vec<Identity> = row
        .identities
        .iter()
        .map(|(identity, _)| identity.clone())
        .collect();
    let known = tx.find_identities(workspace.id, &identities).await?;
    if known.is_empty() {
        resolve_customer_from(
            tx,
            workspace,
            &row.identities,
            row.name.as_deref(),
            Source::Import,
            now,
        )
        .await?;
        return Ok(Outcome::Created);
    }
    let mut unnamed: Vec<CustomerId> = Vec::new();
    if row.name.is_some() {
        for held in &known {
            if unnamed.contains(&held.customer_id) {
                continue;
            }
            let customer = tx.get_customer(workspace.id, held.customer_id).await?;
            if customer.is_some_and(|customer| customer.name.is_none()) {
                unnamed.push(held.customer_id);
            }
        }
    }
    let id = resolve_customer_from(
        tx,
        workspace,
        &row.identities,
        row.name.as_deref(),
        Source::Import,
        now,
    )
    .await?;
    // Identities nobody held were attached; the name filled a gap or changed nothing.
    if known.len() == identities.len() && !unnamed.contains(&id) {
        Ok(Outcome::Unchanged)
    } else {
        Ok(Outcome::Updated)
    }
}
