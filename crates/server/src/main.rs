//! The `seam` command line: `serve`, `demo`, `migrate`, `user create`, `import customers` and
//! `customer export|erase`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use seam_core::user::Role;
use std::path::PathBuf;

use seam_server::{Config, ConfigArgs, customer_data, demo, open_database, start};

#[derive(Parser, Debug)]
#[command(
    name = "seam",
    version,
    about = "Omnichannel customer support and engagement"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server: HTTP API, realtime and background workers.
    Serve,
    /// Seed a demo workspace (if not already there), then serve.
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import data from files.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export or erase everything Seam holds on a customer.
    Customer {
        #[command(subcommand)]
        command: CustomerCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Import customers from a CSV (columns name, external_id, emails, phones; several values
    /// separated by `;`) or NDJSON file. Re-running the same file creates nothing new.
    Customers {
        file: PathBuf,
        /// csv or ndjson; guessed from the file's extension when absent.
        #[arg(long)]
        format: Option<String>,
        /// The workspace's name; may be left out when there is only one.
        #[arg(long)]
        workspace: Option<String>,
        /// Write the report (counts and rejected rows) here as JSON instead of listing the
        /// rejected rows on stderr.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CustomerCommand {
    /// Print everything held on a customer as one JSON document.
    Export {
        id: String,
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Erase a customer's personal data, keeping an anonymous shell; audited.
    Erase {
        id: String,
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user, and its workspace if there is none of that name.
    Create {
        #[arg(long)]
        email: String,
        /// The password; prefer SEAM_USER_PASSWORD so it stays out of shell history.
        #[arg(long, env = "SEAM_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long, default_value = "Default")]
        workspace: String,
        /// The workspace's default phone region, used when it is created.
        #[arg(long, default_value = "US")]
        region: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::resolve(&cli.config)?;
    init_tracing(config.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli.command, config))
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let database = open_database(&config).await?;
            database.close().await;
            println!("database is up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    name,
                    role,
                    workspace,
                    region,
                },
        } => {
            let role =
                Role::parse(&role).context("role must be owner, admin, supervisor or agent")?;
            let database = open_database(&config).await?;
            let store = database.store.as_ref();
            let now = chrono::Utc::now();
            let workspace = seam_core::workspace::ensure_workspace(store, &workspace, &region, now)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
            let user = seam_core::user::create_user(
                store,
                workspace.id,
                &email,
                &name,
                role,
                &password,
                now,
            )
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
            database.close().await;
            println!("{}", user.id);
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Customers {
                    file,
                    format,
                    workspace,
                    report,
                },
        } => {
            let format = customer_data::import_format(&file, format.as_deref())?;
            let parsed = customer_data::read_import_file(&file, format)?;
            let database = open_database(&config).await?;
            let store = database.store.as_ref();
            let workspace = customer_data::pick_workspace(store, workspace.as_deref()).await?;
            let outcome =
                customer_data::import_customers(store, &workspace, parsed, report.as_deref()).await;
            database.close().await;
            outcome.map(drop)
        }
        Command::Customer { command } => {
            let database = open_database(&config).await?;
            let store = database.store.as_ref();
            let outcome = match command {
                CustomerCommand::Export { id, workspace } => {
                    let workspace =
                        customer_data::pick_workspace(store, workspace.as_deref()).await?;
                    customer_data::export_customer(store, &workspace, &id).await
                }
                CustomerCommand::Erase { id, workspace } => {
                    let workspace =
                        customer_data::pick_workspace(store, workspace.as_deref()).await?;
                    customer_data::erase_customer(store, &workspace, &id).await
                }
            };
            database.close().await;
            outcome
        }
        Command::Serve => serve(config, false).await,
        Command::Demo => serve(config, true).await,
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let database = open_database(&config).await?;
    let seeded = if demo {
        Some(demo::seed(database.store.as_ref()).await?)
    } else {
        None
    };
    let running = start(&config, database).await?;
    // The one line scripts and tests wait for.
    println!("seam smtp on {}", running.smtp_addr);
    println!("seam listening on http://{}", running.http_addr);
    if let Some(seeded) = seeded {
        seeded.print_instructions(running.http_addr);
    }
    tracing::info!(addr = %running.http_addr, "ready");
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
