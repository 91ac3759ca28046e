//! The raw limit: the rows one inbound message produces (dedupe read, identity lookup, customer
//! and identity for new senders, latest-conversation read, conversation insert or update,
//! message, two outbox rows), written directly with sqlx in one transaction per message, by the
//! same number of concurrent writers, into the same database (a scratch workspace).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::Row;
use uuid::Uuid;

use crate::{Options, corpus};

// The statements of one inbound message, shared by both databases.
const DEDUPE: &str = "SELECT id FROM messages WHERE channel_id = $1 AND provider_message_id = $2";
const FIND_IDENTITY: &str =
    "SELECT customer_id FROM identities WHERE workspace_id = $1 AND kind = 'email' AND value = $2";
const INSERT_CUSTOMER: &str = "INSERT INTO customers (id, workspace_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)";
const LATEST_CONVERSATION: &str = "SELECT id FROM conversations WHERE workspace_id = $1 AND customer_id = $2 ORDER BY last_activity_at DESC, id DESC LIMIT 1";
const UPDATE_CONVERSATION: &str = "UPDATE conversations SET status = 'open', last_activity_at = $3, waiting_since = COALESCE(waiting_since, $3), last_channel_id = $4, updated_at = $3 WHERE workspace_id = $1 AND id = $2";
const INSERT_MESSAGE: &str = "INSERT INTO messages (id, workspace_id, conversation_id, customer_id, kind, channel_id, identity, provider_message_id, text, sent_at, created_at) VALUES ($1, $2, $3, $4, 'inbound', $5, $6, $7, $8, $9, $9)";
const INSERT_OUTBOX: &str =
    "INSERT INTO outbox (id, workspace_id, topic, payload, created_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_WORKSPACE: &str = "INSERT INTO workspaces (id, name, default_region, continuity, reopen_window_secs, created_at) VALUES ($1, $2, 'US', 'customer', 259200, $3)";
const INSERT_CHANNEL: &str = "INSERT INTO channels (id, workspace_id, kind, name, config, secret, created_at) VALUES ($1, $2, 'api', 'raw', '{}', 'x', $3)";

pub struct Raw {
    pub messages: usize,
    pub elapsed: Duration,
    pub per_second: f64,
}

impl Raw {
    pub fn report(&self) -> String {
        format!(
            "raw limit: {} messages written directly in {:.2} s -> {:.0} msg/s",
            self.messages,
            self.elapsed.as_secs_f64(),
            self.per_second
        )
    }
}

fn ts() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub async fn run(options: &Options, messages: usize) -> anyhow::Result<Raw> {
    let messages = messages.max(1000);
    let next = Arc::new(AtomicUsize::new(0));
    let existing = options.existing_customers.max(1);
    let started;
    if options.database_url.starts_with("postgres") {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(&options.database_url)
            .await?;
        let (workspace, channel) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        sqlx::query(INSERT_WORKSPACE)
            .bind(workspace)
            .bind(format!("raw-bench-{workspace}"))
            .bind(now)
            .execute(&pool)
            .await?;
        sqlx::query(INSERT_CHANNEL)
            .bind(channel)
            .bind(workspace)
            .bind(now)
            .execute(&pool)
            .await?;
        started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..options.clients {
            let (pool, next) = (pool.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1000);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= messages {
                        return Ok::<_, sqlx::Error>(());
                    }
                    let key = if i < existing || rng.random_bool(0.3) { format!("n{i}") } else { format!("n{}", rng.random_range(0..existing)) };
                    let text = corpus::text(&mut rng);
                    let now = Utc::now();
                    let mut tx = pool.begin().await?;
                    sqlx::query(DEDUPE)
                        .bind(channel).bind(format!("m{i}")).fetch_optional(&mut *tx).await?;
                    let found = sqlx::query(FIND_IDENTITY)
                        .bind(workspace).bind(format!("{key}@raw.example.com")).fetch_optional(&mut *tx).await?;
                    let customer: Uuid = match found {
                        Some(row) => row.get(0),
                        None => {
                            let id = Uuid::now_v7();
                            sqlx::query(INSERT_CUSTOMER)
                                .bind(id).bind(workspace).bind(&key).bind(now).execute(&mut *tx).await?;
                            sqlx::query("INSERT INTO identities (workspace_id, customer_id, kind, value, verified, created_at) VALUES ($1, $2, 'email', $3, false, $4)")
                                .bind(workspace).bind(id).bind(format!("{key}@raw.example.com")).bind(now).execute(&mut *tx).await?;
                            id
                        }
                    };
                    let latest = sqlx::query(LATEST_CONVERSATION)
                        .bind(workspace).bind(customer).fetch_optional(&mut *tx).await?;
                    let conversation: Uuid = match latest {
                        Some(row) => {
                            let id: Uuid = row.get(0);
                            sqlx::query(UPDATE_CONVERSATION)
                                .bind(workspace).bind(id).bind(now).bind(channel).execute(&mut *tx).await?;
                            id
                        }
                        None => {
                            let id = Uuid::now_v7();
                            sqlx::query("INSERT INTO conversations (id, workspace_id, customer_id, status, priority, labels, last_channel_id, last_activity_at, waiting_since, created_at, updated_at) VALUES ($1, $2, $3, 'open', 'none', '{}', $4, $5, $5, $5, $5)")
                                .bind(id).bind(workspace).bind(customer).bind(channel).bind(now).execute(&mut *tx).await?;
                            id
                        }
                    };
                    sqlx::query(INSERT_MESSAGE)
                        .bind(Uuid::now_v7()).bind(workspace).bind(conversation).bind(customer).bind(channel).bind(format!("{key}@raw.example.com")).bind(format!("m{i}")).bind(&text).bind(now).execute(&mut *tx).await?;
                    for topic in ["conversation.updated", "message.created"] {
                        sqlx::query(INSERT_OUTBOX)
                            .bind(Uuid::now_v7()).bind(workspace).bind(topic).bind(serde_json::json!({"text": &text})).bind(now).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
            }));
        }
        for task in tasks {
            task.await??;
        }
    } else {
        let path = options.database_url.trim_start_matches("sqlite://");
        let connect = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // One writer connection, as the server uses.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await?;
        let (workspace, channel) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
        sqlx::query(INSERT_WORKSPACE)
            .bind(&workspace)
            .bind(format!("raw-bench-{workspace}"))
            .bind(ts())
            .execute(&pool)
            .await?;
        sqlx::query(INSERT_CHANNEL)
            .bind(&channel)
            .bind(&workspace)
            .bind(ts())
            .execute(&pool)
            .await?;
        started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..options.clients {
            let (pool, next, workspace, channel) = (
                pool.clone(),
                next.clone(),
                workspace.clone(),
                channel.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64 + 1000);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= messages {
                        return Ok::<_, sqlx::Error>(());
                    }
                    let key = if i < existing || rng.random_bool(0.3) { format!("n{i}") } else { format!("n{}", rng.random_range(0..existing)) };
                    let text = corpus::text(&mut rng);
                    let now = ts();
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    sqlx::query(DEDUPE)
                        .bind(&channel).bind(format!("m{i}")).fetch_optional(&mut *tx).await?;
                    let found = sqlx::query(FIND_IDENTITY)
                        .bind(&workspace).bind(format!("{key}@raw.example.com")).fetch_optional(&mut *tx).await?;
                    let customer: String = match found {
                        Some(row) => row.get(0),
                        None => {
                            let id = Uuid::now_v7().to_string();
                            sqlx::query(INSERT_CUSTOMER)
                                .bind(&id).bind(&workspace).bind(&key).bind(&now).execute(&mut *tx).await?;
                            sqlx::query("INSERT INTO identities (workspace_id, customer_id, kind, value, verified, created_at) VALUES ($1, $2, 'email', $3, 0, $4)")
                                .bind(&workspace).bind(&id).bind(format!("{key}@raw.example.com")).bind(&now).execute(&mut *tx).await?;
                            id
                        }
                    };
                    let latest = sqlx::query(LATEST_CONVERSATION)
                        .bind(&workspace).bind(&customer).fetch_optional(&mut *tx).await?;
                    let conversation: String = match latest {
                        Some(row) => {
                            let id: String = row.get(0);
                            sqlx::query(UPDATE_CONVERSATION)
                                .bind(&workspace).bind(&id).bind(&now).bind(&channel).execute(&mut *tx).await?;
                            id
                        }
                        None => {
                            let id = Uuid::now_v7().to_string();
                            sqlx::query("INSERT INTO conversations (id, workspace_id, customer_id, status, priority, labels, last_channel_id, last_activity_at, waiting_since, created_at, updated_at) VALUES ($1, $2, $3, 'open', 'none', '[]', $4, $5, $5, $5, $5)")
                                .bind(&id).bind(&workspace).bind(&customer).bind(&channel).bind(&now).execute(&mut *tx).await?;
                            id
                        }
                    };
                    sqlx::query(INSERT_MESSAGE)
                        .bind(Uuid::now_v7().to_string()).bind(&workspace).bind(&conversation).bind(&customer).bind(&channel).bind(format!("{key}@raw.example.com")).bind(format!("m{i}")).bind(&text).bind(&now).execute(&mut *tx).await?;
                    for topic in ["conversation.updated", "message.created"] {
                        sqlx::query(INSERT_OUTBOX)
                            .bind(Uuid::now_v7().to_string()).bind(&workspace).bind(topic).bind(serde_json::json!({"text": &text}).to_string()).bind(&now).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
            }));
        }
        for task in tasks {
            task.await??;
        }
    }
    let elapsed = started.elapsed();
    Ok(Raw {
        messages,
        elapsed,
        per_second: messages as f64 / elapsed.as_secs_f64(),
    })
}
