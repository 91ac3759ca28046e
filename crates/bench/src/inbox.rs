//! `seam-bench inbox`: the agent app's inbox page under a realistic workspace. Seeds
//! `--conversations` conversations through the API channel (one customer each, a third of them
//! writing twice, a fifth of them in Arabic), then reads the first page the app asks for
//! (`status=open&limit=50`: customer names, previews and unread markers included), a search,
//! and, with `--database-url`, the same page's bare SQL on the same database: the raw limit.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

use crate::driver::{create_channel, create_token, login};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "seam-bench inbox",
    about = "The inbox list page over many conversations"
)]
pub struct InboxOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, default_value = "admin@example.com")]
    pub email: String,
    #[arg(long, env = "SEAM_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The server's database, for the raw-limit run (skipped when absent).
    #[arg(long, env = "SEAM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Conversations to create before measuring.
    #[arg(long, default_value_t = 10_000)]
    pub conversations: usize,
    /// Concurrent clients while seeding.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Page reads measured (one after another, as one agent clicks).
    #[arg(long, default_value_t = 200)]
    pub reads: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// Reads `path` `times` times with the bearer token; sorted latencies and the last body.
async fn measure(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
    times: usize,
) -> anyhow::Result<(Vec<Duration>, Value)> {
    let mut latencies = Vec::with_capacity(times);
    let mut last = Value::Null;
    for _ in 0..times {
        let started = Instant::now();
        let response = http
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("{path}: HTTP {}", response.status());
        }
        last = response.json().await?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Ok((latencies, last))
}

pub async fn run(options: &InboxOptions) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let (channel_id, secret) = create_channel(&session).await?;
    let token = create_token(&session, "seam-bench inbox").await?;
    let me: Value = http
        .get(format!("{}/api/v1/me", options.url))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let workspace_id = me["workspace"]["id"]
        .as_str()
        .context("workspace id")?
        .to_string();

    // Seed: one conversation per customer; every third customer writes twice.
    let run_id = chrono::Utc::now().timestamp_millis();
    let inbound = Arc::new(format!(
        "{}/api/v1/channels/{channel_id}/inbound",
        options.url
    ));
    let messages: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..options.conversations)
            .flat_map(|i| {
                let key = format!("inbox-{run_id}-{i}");
                let text = if i % 5 == 0 {
                    format!("سلام، سفارش شماره {i} هنوز نرسیده است. لطفاً پیگیری کنید")
                } else {
                    format!("Hello, order {i} has not arrived yet; could you check with the courier please?")
                };
                let mut first = vec![(format!("{key}-a"), key.clone(), text)];
                if i % 3 == 0 {
                    first.push((format!("{key}-b"), key, "Any news on this?".to_string()));
                }
                first
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let seeding = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..options.clients.max(1) {
        let (http, inbound, secret, next, messages) = (
            http.clone(),
            inbound.clone(),
            secret.clone(),
            next.clone(),
            messages.clone(),
        );
        clients.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, key, text)) = messages.get(n) else {
                    return Ok::<_, anyhow::Error>(());
                };
                let response = http
                    .post(inbound.as_str())
                    .bearer_auth(&secret)
                    .json(&json!({
                        "message_id": id,
                        "from": { "email": format!("{key}@bench.example.com"), "name": key },
                        "text": text,
                    }))
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("seeding failed: HTTP {}", response.status());
                }
            }
        }));
    }
    for client in clients {
        client.await??;
    }
    println!(
        "inbox: seeded {} conversations ({} messages) in {:.1} s",
        options.conversations,
        messages.len(),
        seeding.elapsed().as_secs_f64()
    );

    let page = "/api/v1/conversations?status=open&limit=50";
    let (pages, body) = measure(&http, &options.url, &token, page, options.reads).await?;
    let items = body["items"].as_array().context("items")?;
    if items.len() != 50 || items.iter().any(|item| item["preview"].is_null()) {
        bail!("the first page is not 50 previewed conversations: {body}");
    }
    println!(
        "inbox: first page (50 of {}+ open, with names, previews, unread) over HTTP: p50 {:.2} ms, p95 {:.2} ms ({} reads)",
        options.conversations,
        percentile(&pages, 0.5),
        percentile(&pages, 0.95),
        pages.len()
    );
    let wanted = format!("inbox-{run_id}-{}", options.conversations / 2);
    let search = format!("/api/v1/conversations?limit=50&q={wanted}%40bench");
    let (searches, found) = measure(
        &http,
        &options.url,
        &token,
        &search,
        (options.reads / 10).max(5),
    )
    .await?;
    if found["items"].as_array().map(Vec::len) != Some(1) {
        bail!("the search did not find exactly one conversation: {found}");
    }
    println!(
        "inbox: search by address over {} conversations: p50 {:.2} ms, p95 {:.2} ms ({} reads)",
        options.conversations,
        percentile(&searches, 0.5),
        percentile(&searches, 0.95),
        searches.len()
    );

    if let Some(database_url) = &options.database_url {
        let raw = raw_page(database_url, &workspace_id, options.reads).await?;
        println!(
            "inbox: raw limit, the page's bare SQL (ids and sort keys of 51 rows) on the same database: p50 {:.2} ms; HTTP page / raw = {:.1}x",
            percentile(&raw, 0.5),
            percentile(&pages, 0.5) / percentile(&raw, 0.5).max(0.001)
        );
    }
    Ok(())
}

const RAW_PAGE: &str = "SELECT id, last_activity_at FROM conversations
    WHERE workspace_id = $1 AND status = 'open'
    ORDER BY last_activity_at DESC, id DESC LIMIT 51";

/// The list query alone, without the server around it, `times` times.
async fn raw_page(
    database_url: &str,
    workspace_id: &str,
    times: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(times);
    if database_url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(database_url)
            .await?;
        let workspace: uuid::Uuid = workspace_id.parse()?;
        for _ in 0..times {
            let started = Instant::now();
            let rows = sqlx::query(RAW_PAGE)
                .bind(workspace)
                .fetch_all(&pool)
                .await?;
            latencies.push(started.elapsed());
            if rows.len() != 51 {
                bail!("raw page read {} rows", rows.len());
            }
        }
    } else {
        let path = database_url.trim_start_matches("sqlite://");
        let connect = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await?;
        for _ in 0..times {
            let started = Instant::now();
            let rows = sqlx::query(RAW_PAGE)
                .bind(workspace_id)
                .fetch_all(&pool)
                .await?;
            latencies.push(started.elapsed());
            if rows.len() != 51 {
                bail!("raw page read {} rows", rows.len());
            }
        }
    }
    latencies.sort();
    Ok(latencies)
}
