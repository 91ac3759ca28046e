//! Periodic gauges for `/metrics`: the job queue depth.

use std::{sync::Arc, time::Duration};

use seam_core::ports::Store;
use tokio::sync::watch;

pub async fn run(store: Arc<dyn Store>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match store.count_pending_jobs().await {
            Ok(depth) => metrics::gauge!("seam_jobs_pending").set(depth as f64),
            Err(error) => tracing::warn!(%error, "could not count pending jobs"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => return,
        }
    }
}
