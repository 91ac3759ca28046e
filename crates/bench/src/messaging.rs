//! `seam-bench hooks` and `seam-bench outbound`: the messaging channels under load, with a
//! WhatsApp Cloud channel as the example.
//!
//! - `hooks`: concurrent clients POST signed WhatsApp deliveries (`X-Hub-Signature-256` over
//!   the raw body, one message each, from 10,000 different numbers) to `/hooks/{channel}`;
//!   reports deliveries acknowledged per second and their latency, then how long the job
//!   runner took until every message was in the database.
//! - `outbound`: a fake Graph API in this process (every 20th send answered 429 once), a
//!   channel pointing at it, customers who wrote first (the window is open), then concurrent
//!   agents' replies; reports replies sent per second from the first reply to the last send the
//!   provider accepted, and checks every reply reached the provider exactly once.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Parser;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;

use crate::driver::{Session, login};

const APP_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";

#[derive(Parser, Debug, Clone)]
#[command(
    name = "seam-bench hooks|outbound",
    about = "Messaging channels under load"
)]
pub struct MessagingOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    #[arg(long, default_value = "admin@example.com")]
    pub email: String,
    #[arg(long, env = "SEAM_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The server's database, to see when deliveries are applied and replies sent.
    #[arg(long, env = "SEAM_DATABASE_URL")]
    pub database_url: String,
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Deliveries (`hooks`) or replies (`outbound`) in the measured run.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// `outbound`: conversations the replies are spread over.
    #[arg(long, default_value_t = 500)]
    pub conversations: usize,
    /// Give up waiting for the server after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub max_wait: u64,
    /// `hooks`: also measure the raw limit underneath — the same deliveries, by the same
    /// clients, to an endpoint in this process that only checks the signature and answers 200.
    #[arg(long)]
    pub raw: bool,
}

fn signature(body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(APP_SECRET.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes any key length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A WhatsApp Cloud delivery of one text message, shaped as Meta sends it.
fn delivery(wamid: &str, wa_id: &str, text: &str) -> Vec<u8> {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
        "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Bench Customer"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": chrono::Utc::now().timestamp().to_string(),
                "type": "text", "text": {"body": text}}]}}]}]});
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A valid US mobile-format number for customer `n` (libphonenumber accepts 650-253-xxxx).
fn wa_id(n: usize) -> String {
    format!("1650253{:04}", n % 10_000)
}

async fn create_channel(session: &Session, base_url: Option<&str>) -> anyhow::Result<String> {
    let mut config = json!({ "phone_number_id": PHONE_NUMBER_ID });
    if let Some(base_url) = base_url {
        config["base_url"] = json!(base_url);
    }
    let response = session
        .http
        .post(format!("{}/api/v1/channels", session.url))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&json!({
            "kind": "whatsapp",
            "name": format!("bench whatsapp {}", chrono::Utc::now().timestamp_millis()),
            "config": config,
            "credentials": {"access_token": "bench-access-token", "app_secret": APP_SECRET},
        }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "creating the channel failed: HTTP {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    let body: Value = response.json().await?;
    Ok(body["id"].as_str().context("channel id")?.to_string())
}

enum Database {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

impl Database {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        Ok(if url.starts_with("postgres") {
            Database::Postgres(sqlx::PgPool::connect(url).await?)
        } else {
            Database::Sqlite(sqlx::SqlitePool::connect(url).await?)
        })
    }

    /// Messages of `kind` on the channel, and of those how many have `status` (when given).
    async fn count(&self, channel: &str, kind: &str, status: Option<&str>) -> anyhow::Result<i64> {
        let sql = "SELECT count(*) FROM messages WHERE channel_id = $1 AND kind = $2 \
                   AND ($3 IS NULL OR delivery_status = $3)";
        Ok(match self {
            Database::Postgres(pool) => sqlx::query(
                "SELECT count(*) FROM messages WHERE channel_id = $1 AND kind = $2 \
                     AND ($3::text IS NULL OR delivery_status = $3)",
            )
            .bind(channel.parse::<uuid::Uuid>()?)
            .bind(kind)
            .bind(status)
            .fetch_one(pool)
            .await?
            .get(0),
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(channel)
                .bind(kind)
                .bind(status)
                .fetch_one(pool)
                .await?
                .get(0),
        })
    }

    async fn conversations(&self, channel: &str) -> anyhow::Result<Vec<String>> {
        let sql = "SELECT DISTINCT conversation_id FROM messages WHERE channel_id = $1";
        Ok(match self {
            Database::Postgres(pool) => sqlx::query(sql)
                .bind(channel.parse::<uuid::Uuid>()?)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| row.get::<uuid::Uuid, _>(0).to_string())
                .collect(),
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(channel)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| row.get::<String, _>(0))
                .collect(),
        })
    }

    /// Waits until `count` reaches `target`; when it did.
    async fn wait_for(
        &self,
        channel: &str,
        kind: &str,
        status: Option<&str>,
        target: i64,
        max_wait: Duration,
    ) -> anyhow::Result<Instant> {
        let started = Instant::now();
        loop {
            let count = self.count(channel, kind, status).await?;
            if count >= target {
                return Ok(Instant::now());
            }
            if started.elapsed() > max_wait {
                bail!("after {max_wait:?} only {count} of {target} {kind} messages are there");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn percentile(latencies: &mut [Duration], p: f64) -> f64 {
    latencies.sort();
    latencies
        .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// Posts `count` deliveries from `clients` concurrent clients; their latencies.
async fn post_deliveries(
    http: &reqwest::Client,
    hook: &str,
    run_id: &str,
    first: usize,
    count: usize,
    clients: usize,
) -> anyhow::Result<Vec<Duration>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, hook, run_id, next) = (
            http.clone(),
            hook.to_string(),
            run_id.to_string(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let n = first + n;
                let body = delivery(
                    &format!("wamid.bench-{run_id}-{n}"),
                    &wa_id(n),
                    "مرحبا، أين طلبي؟ Where is my order?",
                );
                let started = Instant::now();
                let response = http
                    .post(&hook)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature(&body))
                    .body(body)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("delivery {n}: HTTP {}", response.status());
                }
                latencies.push(started.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(latencies)
}

pub async fn hooks(options: &MessagingOptions) -> anyhow::Result<()> {
    let http = client(options.clients)?;
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let channel = create_channel(&session, None).await?;
    let database = Database::connect(&options.database_url).await?;
    let hook = format!("{}/hooks/{channel}", options.url);
    let run_id = chrono::Utc::now().timestamp_millis().to_string();

    let started = Instant::now();
    let mut latencies =
        post_deliveries(&http, &hook, &run_id, 0, options.messages, options.clients).await?;
    let acknowledged = started.elapsed();
    let applied = database
        .wait_for(
            &channel,
            "inbound",
            None,
            options.messages as i64,
            Duration::from_secs(options.max_wait),
        )
        .await?
        .duration_since(started);
    println!(
        "hooks: {} signed deliveries by {} clients acknowledged in {:.2} s -> {:.0}/s; p50 {:.1} ms, p99 {:.1} ms",
        options.messages,
        options.clients,
        acknowledged.as_secs_f64(),
        options.messages as f64 / acknowledged.as_secs_f64(),
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    println!(
        "hooks: all {} messages applied (customer, conversation, message) {:.2} s after the first delivery -> {:.0}/s",
        options.messages,
        applied.as_secs_f64(),
        options.messages as f64 / applied.as_secs_f64()
    );
    if options.raw {
        raw_limit(options, &http).await?;
    }
    Ok(())
}

/// The raw limit's endpoint: HTTP and the signature check, nothing stored.
async fn raw_hook(
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let given = headers
        .get("x-hub-signature-256")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let expected = signature(&body);
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if same {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNAUTHORIZED
    }
}

async fn raw_limit(options: &MessagingOptions, http: &reqwest::Client) -> anyhow::Result<()> {
    let app = axum::Router::new().route("/hooks/raw", axum::routing::post(raw_hook));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hooks/raw", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut latencies =
        post_deliveries(http, &hook, "raw", 0, options.messages, options.clients).await?;
    let elapsed = started.elapsed();
    println!(
        "raw: the same {} deliveries to a signature-checking endpoint in this process in {:.2} s -> {:.0}/s; p50 {:.1} ms, p99 {:.1} ms",
        options.messages,
        elapsed.as_secs_f64(),
        options.messages as f64 / elapsed.as_secs_f64(),
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    Ok(())
}

/// The fake Graph API: counts sends per recipient, refuses every 20th the first time.
#[derive(Default)]
struct FakeGraph {
    calls: AtomicUsize,
    accepted: AtomicUsize,
    refused: Mutex<HashMap<String, ()>>,
}

async fn fake_send(
    axum::extract::State(fake): axum::extract::State<Arc<FakeGraph>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let call = fake.calls.fetch_add(1, Ordering::Relaxed);
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let key = format!("{}:{}", body["to"], body["text"]["body"]);
    if call % 20 == 0 {
        let mut refused = fake
            .refused
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if refused.insert(key, ()).is_none() {
            return (
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                axum::Json(json!({"error": {"code": 130429, "message": "Rate limit hit"}})),
            )
                .into_response();
        }
    }
    let n = fake.accepted.fetch_add(1, Ordering::Relaxed);
    axum::Json(json!({"messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": body["to"]}],
        "messages": [{"id": format!("wamid.sent-{n}")}]}))
    .into_response()
}

pub async fn outbound(options: &MessagingOptions) -> anyhow::Result<()> {
    let fake = Arc::new(FakeGraph::default());
    let app = axum::Router::new()
        .route(
            "/{version}/{phone}/messages",
            axum::routing::post(fake_send),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = client(options.clients)?;
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let channel = create_channel(&session, Some(&base_url)).await?;
    let database = Database::connect(&options.database_url).await?;
    let run_id = chrono::Utc::now().timestamp_millis().to_string();

    // The customers write first: their windows are open.
    let hook = format!("{}/hooks/{channel}", options.url);
    post_deliveries(
        &http,
        &hook,
        &run_id,
        0,
        options.conversations,
        options.clients,
    )
    .await?;
    database
        .wait_for(
            &channel,
            "inbound",
            None,
            options.conversations as i64,
            Duration::from_secs(options.max_wait),
        )
        .await?;
    let conversations = Arc::new(database.conversations(&channel).await?);

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..options.clients {
        let (session_http, url, cookie, csrf) = (
            session.http.clone(),
            session.url.clone(),
            session.cookie.clone(),
            session.csrf.clone(),
        );
        let (next, conversations, total) = (next.clone(), conversations.clone(), options.messages);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let conversation = &conversations[n % conversations.len()];
                let sent = Instant::now();
                let response = session_http
                    .post(format!("{url}/api/v1/conversations/{conversation}/messages"))
                    .header("cookie", &cookie)
                    .header("x-csrf-token", &csrf)
                    .json(&json!({"text": format!("Reply {n}: your order left the warehouse today.")}))
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!(
                        "reply {n}: HTTP {}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    );
                }
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let queued = started.elapsed();
    let done = database
        .wait_for(
            &channel,
            "outbound",
            Some("sent"),
            options.messages as i64,
            Duration::from_secs(options.max_wait),
        )
        .await?
        .duration_since(started);
    let accepted = fake.accepted.load(Ordering::Relaxed);
    let refused = fake
        .refused
        .lock()
        .map(|refused| refused.len())
        .unwrap_or_default();
    println!(
        "outbound: {} replies queued through the API by {} clients in {:.2} s -> {:.0}/s; p50 {:.1} ms, p99 {:.1} ms",
        options.messages,
        options.clients,
        queued.as_secs_f64(),
        options.messages as f64 / queued.as_secs_f64(),
        percentile(&mut latencies, 0.5),
        percentile(&mut latencies, 0.99),
    );
    println!(
        "outbound: all {} sent through the provider {:.2} s after the first reply -> {:.0}/s; {refused} answered 429 first and retried",
        options.messages,
        done.as_secs_f64(),
        options.messages as f64 / done.as_secs_f64()
    );
    if accepted != options.messages {
        bail!(
            "the provider accepted {accepted} sends for {} replies: a reply was sent twice or not at all",
            options.messages
        );
    }
    Ok(())
}

fn client(clients: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .timeout(Duration::from_secs(60))
        .build()?)
}
