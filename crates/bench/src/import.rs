//! `seam-bench import`: generates a CSV of N customers (name, email, every other row a phone,
//! external id), runs `seam import customers` on it against the given storage, then runs it
//! again (the idempotent re-run), and reports rows per second of each.

use std::{
    io::{BufWriter, Write},
    path::PathBuf,
    process::Command,
    time::Instant,
};

use anyhow::{Context, bail};
use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(name = "seam-bench import", about = "Customer import throughput")]
pub struct ImportOptions {
    /// Rows to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// The `seam` binary to run.
    #[arg(long, default_value = "target/release/seam")]
    pub seam: PathBuf,
    /// The data directory (`--data` of `seam`); the CSV is written there too.
    #[arg(long)]
    pub data: PathBuf,
    /// `--database-url` of `seam`; SQLite in the data directory when absent.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The workspace to import into (create it first with `seam user create`).
    #[arg(long, default_value = "Bench")]
    pub workspace: String,
}

pub fn run(options: &ImportOptions) -> anyhow::Result<()> {
    let file = options.data.join("bench-customers.csv");
    write_csv(&file, options.rows)?;
    println!("generated {} rows in {}", options.rows, file.display());
    for run in ["first run", "re-run"] {
        let started = Instant::now();
        let mut command = Command::new(&options.seam);
        command
            .args(["import", "customers"])
            .arg(&file)
            .args(["--workspace", &options.workspace, "--data"])
            .arg(&options.data);
        if let Some(url) = &options.database_url {
            command.args(["--database-url", url]);
        }
        let output = command
            .output()
            .with_context(|| format!("running {}", options.seam.display()))?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            bail!(
                "seam import failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        println!(
            "{run}: {} in {:.1} s, {:.0} rows/s",
            String::from_utf8_lossy(&output.stdout).trim(),
            elapsed.as_secs_f64(),
            options.rows as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn write_csv(path: &PathBuf, rows: usize) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "name,email,phone,external_id")?;
    for index in 0..rows {
        let phone = if index % 2 == 0 {
            // 650-2xx-xxxx and on: valid US numbers, distinct per row.
            format!("+1650{}", 2_000_000 + index)
        } else {
            String::new()
        };
        writeln!(
            out,
            "Customer {index},customer{index}@bench.example,{phone},crm-{index}"
        )?;
    }
    out.flush()?;
    Ok(())
}
