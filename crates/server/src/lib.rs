//! The `seam` server: wires storage, the bus, the HTTP API and the background workers into one
//! process, and shuts them down in order. The only crate that knows every other crate.

pub mod config;
pub mod customer_data;
pub mod demo;
pub mod email;
pub mod messaging;
pub mod workers;

use std::{net::SocketAddr, sync::Arc};

use anyhow::{Context, bail};
use seam_core::ports::{Bus, Store};
use tokio::{sync::watch, task::JoinHandle};

pub use config::{Config, ConfigArgs};

/// Opens the database named by the configuration and brings its schema up to date.
pub async fn open_database(config: &Config) -> anyhow::Result<seam_store::Database> {
    if !config.database_url.starts_with("postgres") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    }
    let database = seam_store::connect(&config.database_url)
        .await
        .map_err(|error| anyhow::anyhow!("opening the database: {error}"))?;
    database
        .migrate()
        .await
        .map_err(|error| anyhow::anyhow!("migrating the database: {error}"))?;
    Ok(database)
}

/// Installs the Prometheus recorder once per process; `None` if one is installed already.
fn install_metrics() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    const LATENCY_BUCKETS: &[f64] = &[
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            LATENCY_BUCKETS,
        )
        .ok()?
        .install_recorder()
        .ok()
}

/// The largest file a messaging provider's media download may bring (WhatsApp allows 100 MB
/// documents).
const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;

/// A started server.
pub struct Running {
    pub http_addr: SocketAddr,
    pub smtp_addr: SocketAddr,
    pub store: Arc<dyn Store>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    workers: Vec<JoinHandle<()>>,
    database: seam_store::Database,
    grace: std::time::Duration,
}

/// Starts HTTP and the workers on an opened database. Returns once the listener is bound.
pub async fn start(config: &Config, database: seam_store::Database) -> anyhow::Result<Running> {
    if config.nats_url.is_some() {
        bail!("the NATS bus is not available in this version; leave SEAM_NATS_URL unset");
    }
    let store = database.store.clone();
    let files: Arc<dyn seam_core::ports::FileStore> =
        Arc::new(seam_store::LocalFiles::new(config.data_dir.join("files")));
    let bus: Arc<dyn Bus> = Arc::new(seam_bus::InProcessBus::new());
    let metrics = install_metrics();
    let (shutdown, shutdown_rx) = watch::channel(false);
    // Website chat: the widgets connected to this node, shared by the API and the job runner.
    let presence = Arc::new(seam_api::widget::WidgetPresence::new());

    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http_addr))?;
    let http_addr = listener.local_addr()?;
    let sealed = messaging::load_key(
        config.secret_key.as_ref().map(|key| key.0.as_str()),
        &config.data_dir,
    )?;
    let media_key = Arc::new(sealed.derive(messaging::MEDIA_KEY_LABEL));
    let vault: Arc<dyn seam_core::ports::Vault> = Arc::new(sealed);
    let hooks = seam_api::hooks::Messaging {
        vault,
        media_key,
        public_url: config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http_addr}")),
        intake: seam_api::hooks::Intake::start(store.clone()),
        channels: Default::default(),
    };

    // Telegram learns a changed public URL from Seam.
    if let Err(error) = messaging::set_up_for_url(store.as_ref(), &hooks.public_url).await {
        tracing::warn!(%error, "queuing the set-up of channels for the public URL failed");
    }

    let state = seam_api::ApiState {
        store: store.clone(),
        bus: bus.clone(),
        files: files.clone(),
        metrics,
        config: seam_api::ApiConfig {
            secure_cookies: config.secure_cookies,
            max_mail_bytes: config.smtp.max_message_bytes,
            ..seam_api::ApiConfig::default()
        },
        presence: presence.clone(),
        agents: Arc::new(seam_api::AgentPresence::new()),
        messaging: hooks.clone(),
    };
    let router = seam_api::router(state);

    let jobs_wake = Arc::new(tokio::sync::Notify::new());
    let http = seam_channels::http::client(std::time::Duration::from_secs(15))
        .map_err(|error| anyhow::anyhow!("building the HTTP client: {error}"))?;
    let mut workers = vec![
        tokio::spawn(workers::relay::run(
            store.clone(),
            bus.clone(),
            database.outbox_notify.clone(),
            jobs_wake.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::jobs::run(
            workers::jobs::Runner::new(
                store.clone(),
                http.clone(),
                Arc::new(email::Mailer::new(store.clone())),
                config.job_max_attempts,
            )
            .with_presence(presence)
            .with_messaging(messaging::Applier {
                store: store.clone(),
                files: files.clone(),
                http: http.clone(),
                fetcher: seam_channels::messaging::Fetcher::new(
                    std::time::Duration::from_secs(60),
                    MAX_MEDIA_BYTES,
                    config.allow_private_fetch,
                )?,
                messaging: hooks,
                reply_tokens: Arc::new(messaging::ReplyTokens::default()),
                settler: workers::outbound::Settler::start(store.clone()),
            }),
            jobs_wake,
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::gauges::run(store.clone(), shutdown_rx.clone())),
    ];
    let book = Arc::new(email::AddressBook::new(store.clone()));
    let checks = if config.smtp.sender_checks {
        Some(email::SenderChecks::system(&config.smtp.hostname)?)
    } else {
        None
    };
    let intake = Arc::new(email::MailIntake::new(
        store.clone(),
        files.clone(),
        book,
        checks,
    ));
    let (smtp_addr, smtp) = email::start_listener(
        config.smtp_addr,
        &config.smtp,
        intake.clone(),
        shutdown_rx.clone(),
    )
    .await?;
    workers.push(smtp);
    workers.push(tokio::spawn(email::run_mailboxes(
        store.clone(),
        intake,
        shutdown_rx.clone(),
    )));

    let mut stop = shutdown_rx;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await
    });
    Ok(Running {
        http_addr,
        smtp_addr,
        store,
        shutdown,
        server,
        workers,
        database,
        grace: config.shutdown_grace,
    })
}

impl Running {
    /// Stops accepting connections, lets in-flight requests and jobs finish (up to the grace
    /// period), then closes the database.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let drained = async {
            let served = self.server.await;
            for worker in self.workers {
                let _ = worker.await;
            }
            served
        };
        match tokio::time::timeout(self.grace, drained).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::error!(%error, "HTTP server stopped with an error"),
            Ok(Err(error)) => tracing::error!(%error, "HTTP server task failed"),
            Err(_) => tracing::warn!("shutdown grace period elapsed; stopping anyway"),
        }
        self.database.close().await;
        Ok(())
    }
}
