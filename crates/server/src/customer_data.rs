//! The command-line side of customer data: `seam import customers`, `seam customer export` and
//! `seam customer erase`. Reads files and picks the workspace; the work is core's use cases.
//! Prints counts and line numbers, never personal data, to the terminal.

use std::{io::IsTerminal, path::Path};

use anyhow::{Context, bail};
use seam_core::{
    ids::CustomerId,
    import::{self, ImportFormat, ImportReport, ParsedFile},
    ports::Store,
    privacy::{self, AuditActor},
    workspace::Workspace,
};

/// The workspace named, or the only one there is.
pub async fn pick_workspace(store: &dyn Store, name: Option<&str>) -> anyhow::Result<Workspace> {
    let workspaces = store
        .list_workspaces()
        .await
        .map_err(|error| anyhow::anyhow!("listing workspaces: {error}"))?;
    match name {
        Some(name) => workspaces
            .into_iter()
            .find(|workspace| workspace.name == name)
            .with_context(|| format!("there is no workspace named {name:?}")),
        None => match <[Workspace; 1]>::try_from(workspaces) {
            Ok([workspace]) => Ok(workspace),
            Err(workspaces) if workspaces.is_empty() => {
                bail!("there is no workspace yet; create one with `seam user create`")
            }
            Err(workspaces) => {
                let names: Vec<&str> = workspaces.iter().map(|w| w.name.as_str()).collect();
                bail!(
                    "there are several workspaces ({}); name one with --workspace",
                    names.join(", ")
                )
            }
        },
    }
}

/// The format given, or the one the file's extension says.
pub fn import_format(path: &Path, given: Option<&str>) -> anyhow::Result<ImportFormat> {
    if let Some(given) = given {
        return ImportFormat::parse(given).context("--format must be csv or ndjson");
    }
    path.extension()
        .and_then(|extension| extension.to_str())
        .and_then(ImportFormat::parse)
        .context("cannot tell the format from the file name; pass --format csv or ndjson")
}

/// Reads and parses the whole file; fails when the file as a whole cannot be used.
pub fn read_import_file(path: &Path, format: ImportFormat) -> anyhow::Result<ParsedFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    import::parse_file(format, &bytes).map_err(|error| match error {
        seam_core::Error::Invalid { reason, .. } => {
            anyhow::anyhow!("{} cannot be imported: the file {reason}", path.display())
        }
        other => anyhow::anyhow!("{} cannot be imported: {other}", path.display()),
    })
}

/// Imports the rows with a progress bar on a terminal, then prints the summary; rejected rows
/// go to `report_path` (as JSON) or to stderr.
pub async fn import_customers(
    store: &dyn Store,
    workspace: &Workspace,
    parsed: ParsedFile,
    report_path: Option<&Path>,
) -> anyhow::Result<ImportReport> {
    let total = parsed.rows.len() as u64;
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress_bar = bar.clone();
    let report = import::import_rows(
        store,
        workspace.id,
        parsed,
        chrono::Utc::now(),
        &mut move |handled| progress_bar.set_position(handled),
    )
    .await
    .map_err(|error| anyhow::anyhow!("importing: {error}"))?;
    bar.finish_and_clear();
    println!(
        "created {}, updated {}, unchanged {}, rejected {}",
        report.created,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    match report_path {
        Some(path) => {
            let json = serde_json::to_vec_pretty(&report)?;
            std::fs::write(path, json)
                .with_context(|| format!("writing the report to {}", path.display()))?;
        }
        None => {
            for rejected in &report.rejected {
                eprintln!(
                    "line {}: {}: {}",
                    rejected.line, rejected.field, rejected.reason
                );
            }
        }
    }
    Ok(report)
}

fn customer_id(text: &str) -> anyhow::Result<CustomerId> {
    CustomerId::parse(text.trim()).context("the customer id is not a valid id")
}

/// Prints everything held on a customer as one JSON document.
pub async fn export_customer(
    store: &dyn Store,
    workspace: &Workspace,
    id: &str,
) -> anyhow::Result<()> {
    let export = privacy::export(store, workspace.id, customer_id(id)?)
        .await
        .map_err(|error| match error {
            seam_core::Error::NotFound => {
                anyhow::anyhow!("no such customer in {:?}", workspace.name)
            }
            other => anyhow::anyhow!("exporting: {other}"),
        })?;
    println!("{}", serde_json::to_string_pretty(&export)?);
    Ok(())
}

/// Erases a customer's personal data on the operator's authority.
pub async fn erase_customer(
    store: &dyn Store,
    workspace: &Workspace,
    id: &str,
) -> anyhow::Result<()> {
    let id = customer_id(id)?;
    privacy::erase(
        store,
        workspace.id,
        id,
        AuditActor::Operator,
        chrono::Utc::now(),
    )
    .await
    .map_err(|error| match error {
        seam_core::Error::NotFound => anyhow::anyhow!("no such customer in {:?}", workspace.name),
        other => anyhow::anyhow!("erasing: {other}"),
    })?;
    println!("erased {id}");
    Ok(())
}
