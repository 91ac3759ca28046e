//! The end-to-end harness: runs the real `seam` binary on a fresh database, talks to it over
//! HTTP and WebSocket like any client, and stands in for the outside world with a recording
//! webhook receiver. Scenarios use only what a user or an integrator can see.

// Each scenario file uses part of the harness; the rest is not dead, only unused there.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

mod actors;
mod http;
mod mail;
pub mod messaging;
mod process;
mod realtime;
mod storage;
mod webhook;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

pub use actors::{Agent, ApiChannel, Received, Session};
pub use http::{Api, Response, http_client};
pub use mail::{Delivered, MailServer, send_mail};
pub use process::{SeamProcess, seam_command, short_id, spawn_seam, spawn_seam_with};
pub use realtime::Realtime;
pub use storage::Storage;
pub use webhook::{Recorded, WebhookReceiver, signature_problem};

/// How long an asynchronous effect (a push, a delivery, a retry with backoff) may take to show
/// before a scenario gives up. Never asserted as a duration: only a guard against hanging.
pub const EVENTUALLY: Duration = Duration::from_secs(60);

/// How long a server may take to print its ready line. A hang guard, not a measurement.
pub const READY_GUARD: Duration = Duration::from_secs(90);

/// Where the PostgreSQL scenarios find their server when `SEAM_TEST_DATABASE_URL` is unset.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Runs each named scenario (an `async fn(Backend)`) once on SQLite and once on PostgreSQL, as
/// two tests named `<scenario>::on_sqlite` and `<scenario>::on_postgres`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                super::$scenario(super::harness::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if super::harness::Backend::Postgres.runs_here() {
                    super::$scenario(super::harness::Backend::Postgres).await;
                }
            }
        }
    )*};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Whether this backend's scenarios run here. SQLite always does. PostgreSQL does when
    /// `SEAM_TEST_DATABASE_URL` is set; with `CI=true` a missing URL is a failure, never a skip.
    pub fn runs_here(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => match std::env::var("SEAM_TEST_DATABASE_URL") {
                Ok(url) if !url.trim().is_empty() => true,
                _ if running_in_ci() => panic!(
                    "CI=true but SEAM_TEST_DATABASE_URL is unset: the PostgreSQL scenarios must \
                     run in CI (set it, e.g. to {LOCAL_POSTGRES})"
                ),
                _ => {
                    eprintln!(
                        "NOT RUN on PostgreSQL: SEAM_TEST_DATABASE_URL is unset \
                         (./scripts/test.sh sets it)"
                    );
                    false
                }
            },
        }
    }
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Retries `probe` until it yields something or [`EVENTUALLY`] passes; panics naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(EVENTUALLY, what, probe).await
}

/// [`eventually`] with another hang guard, for effects that wait on a lease or a backoff.
pub async fn eventually_within<T, F, Fut>(guard: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        if started.elapsed() > guard {
            panic!("gave up waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Arabic script, as used by both Arabic and Persian.
pub fn has_arabic_script(text: &str) -> bool {
    text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

/// Where this test crate lives, for scenarios that read the source tree.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}
