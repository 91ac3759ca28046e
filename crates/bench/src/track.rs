//! `seam-bench track`: event ingest through `POST /api/v1/batch`. Identifies the "existing"
//! customers first, then concurrent clients post batches of track calls — 80% for existing
//! customers, 20% for new user ids, each of which makes resolution create a customer — and
//! reports events per second and the latency of a batch.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::driver::{create_token, login};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "seam-bench track",
    about = "Event ingest through the batch endpoint"
)]
pub struct TrackOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, default_value = "admin@example.com")]
    pub email: String,
    #[arg(long, env = "SEAM_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Batches to send in the measured run.
    #[arg(long, default_value_t = 200)]
    pub batches: usize,
    /// Calls per batch (at most 500).
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Customers identified before the measured run.
    #[arg(long, default_value_t = 5_000)]
    pub existing_customers: usize,
}

/// Posts one batch; how many calls were stored.
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    calls: Vec<Value>,
) -> anyhow::Result<usize> {
    let response = http
        .post(format!("{url}/api/v1/batch"))
        .bearer_auth(token)
        .json(&json!({ "batch": calls }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("batch failed: HTTP {}", response.status());
    }
    let body: Value = response.json().await?;
    let results = body["results"].as_array().context("results")?;
    Ok(results
        .iter()
        .filter(|result| result["status"] == "stored")
        .count())
}

pub async fn run(options: &TrackOptions) -> anyhow::Result<()> {
    let size = options.batch_size.clamp(1, 500);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let token = create_token(&session, "seam-bench track").await?;
    let run_id = chrono::Utc::now().timestamp_millis();

    let identifies: Vec<Value> = (0..options.existing_customers)
        .map(|i| {
            json!({"type": "identify", "userId": format!("bench-{run_id}-{i}"),
                "traits": {"email": format!("bench-{run_id}-{i}@bench.example.com")}})
        })
        .collect();
    for chunk in identifies.chunks(500) {
        post(&http, &options.url, &token, chunk.to_vec()).await?;
    }

    let next = Arc::new(AtomicUsize::new(0));
    let stored = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..options.clients {
        let (http, token, next, stored) =
            (http.clone(), token.clone(), next.clone(), stored.clone());
        let (url, batches, existing) = (
            options.url.clone(),
            options.batches,
            options.existing_customers.max(1),
        );
        clients.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed);
                if batch >= batches {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let calls: Vec<Value> = (0..size)
                    .map(|n| {
                        let user = if rng.random_range(0..10) < 2 {
                            format!("bench-{run_id}-new-{batch}-{n}")
                        } else {
                            format!("bench-{run_id}-{}", rng.random_range(0..existing))
                        };
                        json!({"type": "track", "userId": user, "event": "page_viewed",
                            "messageId": format!("bench-{run_id}-{batch}-{n}"),
                            "properties": {"path": "/pricing", "n": n}})
                    })
                    .collect();
                let sent = Instant::now();
                let count = post(&http, &url, &token, calls).await?;
                latencies.push(sent.elapsed());
                stored.fetch_add(count, Ordering::Relaxed);
            }
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or_default()
    };
    let stored = stored.load(Ordering::Relaxed);
    println!(
        "track: {stored} events in {} batches of {size} by {} clients in {:.2} s -> {:.0} events/s; batch p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        options.clients,
        elapsed.as_secs_f64(),
        stored as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
    if stored != latencies.len() * size {
        bail!(
            "{} of {} events were not stored",
            latencies.len() * size - stored,
            latencies.len() * size
        );
    }
    Ok(())
}
