//! `seam-bench`: a load driver for a running Seam. It posts inbound messages to the API
//! channel from many concurrent clients, reports throughput and latency, checks the end state
//! in the database, and measures the raw limit: the same rows written directly with sqlx in the
//! same transaction pattern on the same database. `seam-bench import` measures the customer
//! import instead (see `import`), `seam-bench track` event ingest through the batch endpoint, `seam-bench smtp` mail
//! ingest through the SMTP listener, `seam-bench hooks` and `outbound` the messaging channels,
//! `seam-bench inbox` the agent app's inbox page.

mod corpus;
mod driver;
mod import;
mod inbox;
mod messaging;
mod raw;
mod smtp;
mod track;
mod verify;

use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(name = "seam-bench", about = "Load driver for Seam's inbound path")]
pub struct Options {
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An owner or admin account, to create the benchmark's API channel.
    #[arg(long, default_value = "admin@example.com")]
    pub email: String,
    #[arg(long, env = "SEAM_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The server's database, for the end-state check and the raw-limit run.
    #[arg(long, env = "SEAM_DATABASE_URL")]
    pub database_url: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Messages to send in total.
    #[arg(long, default_value_t = 50_000)]
    pub messages: usize,
    /// Customers created before the measured run; 70% of messages come from them.
    #[arg(long, default_value_t = 2_000)]
    pub existing_customers: usize,
    /// Send at this many messages per second instead of as fast as possible (latency runs).
    #[arg(long)]
    pub rate: Option<u64>,
    /// Stop after this long even if not all messages were sent.
    #[arg(long, default_value = "120", value_parser = parse_secs)]
    pub max_duration: Duration,
    /// Skip the raw-limit run.
    #[arg(long)]
    pub no_raw: bool,
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|error| error.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() == Some("import") {
        return import::run(&import::ImportOptions::parse_from(std::env::args().skip(1)));
    }
    if std::env::args().nth(1).as_deref() == Some("smtp") {
        let _ = rustls::crypto::ring::default_provider().install_default();
        return smtp::run(&smtp::SmtpOptions::parse_from(std::env::args().skip(1))).await;
    }
    if let Some(which @ ("hooks" | "outbound")) = std::env::args().nth(1).as_deref() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let options = messaging::MessagingOptions::parse_from(std::env::args().skip(1));
        return if which == "hooks" {
            messaging::hooks(&options).await
        } else {
            messaging::outbound(&options).await
        };
    }
    if std::env::args().nth(1).as_deref() == Some("inbox") {
        let _ = rustls::crypto::ring::default_provider().install_default();
        return inbox::run(&inbox::InboxOptions::parse_from(std::env::args().skip(1))).await;
    }
    if std::env::args().nth(1).as_deref() == Some("track") {
        let _ = rustls::crypto::ring::default_provider().install_default();
        return track::run(&track::TrackOptions::parse_from(std::env::args().skip(1))).await;
    }
    let options = Options::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let run = driver::run(&options).await?;
    println!("{}", run.report());
    let verified = verify::check(&options.database_url, &run).await?;
    println!("{verified}");
    if !options.no_raw {
        let raw = raw::run(&options, run.accepted).await?;
        println!("{}", raw.report());
        if raw.per_second > 0.0 {
            println!(
                "ratio end-to-end / raw: {:.2}",
                run.per_second() / raw.per_second
            );
        }
    }
    if !verified.ok() {
        anyhow::bail!("end-state check failed");
    }
    Ok(())
}
