//! `seam-bench-identity`: micro-benchmarks of identity resolution and merges on a real database.
//! Seeds a workspace with N customers holding three identities each (email, phone, visitor),
//! then times `resolution::resolve` (80% of claims match, 10% attach a new identity, 10% create
//! a customer), and a merge and its undo of a customer with 1,000 messages and 1,000 events.
//! Prints medians and tails; the figures go to BENCHMARKS.md.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rand::{Rng, SeedableRng, rngs::StdRng};
use seam_core::{
    customer::Customer,
    identity::{Identity, IdentityKind},
    ids::CustomerId,
    merge::{merge_customers, undo_merge},
    resolution::{self, Claim, Source},
    user::{Actor, Role, User},
    workspace::Workspace,
};

#[derive(Parser, Debug)]
#[command(
    name = "seam-bench-identity",
    about = "Identity resolution and merge micro-benchmarks"
)]
struct Options {
    /// `sqlite:<file>` (created) or `postgres://…` (must be an empty database).
    #[arg(long, env = "SEAM_DATABASE_URL")]
    database_url: String,
    /// Customers to seed, each with three identities.
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    /// Resolutions to time.
    #[arg(long, default_value_t = 5_000)]
    resolutions: usize,
    /// Messages and events of the customer merged and unmerged.
    #[arg(long, default_value_t = 1_000)]
    records: u64,
    /// Merge/undo rounds to time.
    #[arg(long, default_value_t = 20)]
    merges: usize,
}

const SEED_TIME_SQLITE: &str = "2026-01-01T00:00:00.000000Z";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let database = seam_store::connect(&options.database_url)
        .await
        .context("connecting")?;
    database.migrate().await.context("migrating")?;
    let store = database.store.clone();
    let postgres = options.database_url.starts_with("postgres");
    let now = chrono::Utc::now();

    let workspace = Workspace::new(format!("bench-{}", uuid::Uuid::now_v7()), "US", now);
    let owner = User {
        id: seam_core::ids::UserId::new(),
        workspace_id: workspace.id,
        email: format!("owner-{}@bench.example", uuid::Uuid::now_v7().simple()),
        name: "Bench".to_string(),
        role: Role::Owner,
        language: None,
        availability: seam_core::user::Availability::Online,
        password_hash: "$argon2id$placeholder".to_string(),
        failed_logins: 0,
        locked_until: None,
        created_at: now,
    };
    let mut tx = store.begin().await?;
    tx.insert_workspace(&workspace).await?;
    tx.insert_user(&owner).await?;
    tx.commit().await?;
    let actor = Actor {
        user_id: owner.id,
        workspace_id: workspace.id,
        role: Role::Owner,
    };

    let started = Instant::now();
    seed(
        &options.database_url,
        postgres,
        workspace.id.0,
        options.customers,
    )
    .await?;
    println!(
        "seeded {} customers and {} identities in {:.1} s",
        options.customers,
        options.customers * 3,
        started.elapsed().as_secs_f64()
    );

    // Resolution.
    let mut rng = StdRng::seed_from_u64(7);
    let mut inside = Vec::with_capacity(options.resolutions);
    let mut committed = Vec::with_capacity(options.resolutions);
    for round in 0..options.resolutions {
        let i = rng.random_range(0..options.customers);
        let roll = rng.random_range(0..10);
        let claims: Vec<Claim> = match roll {
            0 => vec![claim(
                IdentityKind::Email,
                format!("new-{round}@fresh.example"),
            )],
            1 => vec![
                claim(IdentityKind::Email, format!("c{i}@bench.example")),
                claim(IdentityKind::Visitor, format!("nv-{round}")),
            ],
            _ => vec![claim(IdentityKind::Email, format!("c{i}@bench.example"))],
        };
        let begun = Instant::now();
        let mut tx = store.begin().await?;
        let resolving = Instant::now();
        resolution::resolve(
            tx.as_mut(),
            &workspace,
            &claims,
            None,
            Source::Identify,
            chrono::Utc::now(),
        )
        .await?;
        inside.push(resolving.elapsed());
        tx.commit().await?;
        committed.push(begun.elapsed());
    }
    println!(
        "resolution over {} customers, {} runs: {}",
        options.customers,
        options.resolutions,
        summary(&mut inside)
    );
    println!("  with begin and commit: {}", summary(&mut committed));

    // Merge and undo of a customer with many records.
    let mut merges = Vec::new();
    let mut undos = Vec::new();
    for round in 0..options.merges {
        let survivor = Customer::new(workspace.id, Some("Survivor".into()), chrono::Utc::now());
        let absorbed = Customer::new(workspace.id, Some("Absorbed".into()), chrono::Utc::now());
        let mut tx = store.begin().await?;
        tx.insert_customer(&survivor).await?;
        tx.insert_customer(&absorbed).await?;
        tx.commit().await?;
        seed_records(
            &options.database_url,
            postgres,
            workspace.id.0,
            absorbed.id,
            options.records,
            round,
        )
        .await?;
        let begun = Instant::now();
        let merge = merge_customers(
            store.as_ref(),
            &actor,
            survivor.id,
            absorbed.id,
            chrono::Utc::now(),
        )
        .await?;
        merges.push(begun.elapsed());
        let begun = Instant::now();
        undo_merge(store.as_ref(), &actor, merge.id, chrono::Utc::now()).await?;
        undos.push(begun.elapsed());
    }
    println!(
        "merge of a customer with {} messages and {} events: {}",
        options.records,
        options.records,
        summary(&mut merges)
    );
    println!("  undo: {}", summary(&mut undos));
    database.close().await;
    Ok(())
}

fn claim(kind: IdentityKind, value: String) -> Claim {
    Claim {
        identity: Identity::from_stored(kind, value),
        verified: true,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    if samples.is_empty() {
        return "no samples".to_string();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.9)),
        ms(percentile(samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO))
    )
}

/// Customers `i` get id `…-8000-<i:012>`, identities `c<i>@bench.example`, `+1555<i:07>`
/// (national numbers of the 555 block), `v-<i>`. Written with set-based SQL in batches.
async fn seed(
    url: &str,
    postgres: bool,
    workspace: uuid::Uuid,
    customers: u64,
) -> anyhow::Result<()> {
    const BATCH: u64 = 100_000;
    if postgres {
        let pool = sqlx::PgPool::connect(url).await?;
        let mut from = 0;
        while from < customers {
            let to = (from + BATCH).min(customers) - 1;
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO customers (id, workspace_id, name, created_at, updated_at)
                SELECT ('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid, $1,
                    'Customer ' || i, now(), now()
                FROM generate_series($2::bigint, $3::bigint) AS i",
            )
            .bind(workspace)
            .bind(from as i64)
            .bind(to as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO identities (workspace_id, customer_id, kind, value, verified, source, created_at)
                SELECT $1, ('00000000-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid, k.kind,
                    CASE k.kind WHEN 'email' THEN 'c' || i || '@bench.example'
                        WHEN 'phone' THEN '+1555' || lpad(i::text, 7, '0')
                        ELSE 'v-' || i END,
                    true, 'import', now()
                FROM generate_series($2::bigint, $3::bigint) AS i,
                    (VALUES ('email'), ('phone'), ('visitor')) AS k(kind)",
            )
            .bind(workspace)
            .bind(from as i64)
            .bind(to as i64)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            from = to + 1;
        }
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let workspace = workspace.hyphenated().to_string();
        let mut from = 0;
        while from < customers {
            let to = (from + BATCH).min(customers) - 1;
            let mut tx = pool.begin().await?;
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
                INSERT INTO customers (id, workspace_id, name, created_at, updated_at)
                SELECT printf('00000000-0000-7000-8000-%012d', i), $1, 'Customer ' || i, $4, $4 FROM n",
            )
            .bind(&workspace)
            .bind(from as i64)
            .bind(to as i64)
            .bind(SEED_TIME_SQLITE)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM n WHERE i < $3),
                k(kind) AS (VALUES ('email'), ('phone'), ('visitor'))
                INSERT INTO identities (workspace_id, customer_id, kind, value, verified, source, created_at)
                SELECT $1, printf('00000000-0000-7000-8000-%012d', i), k.kind,
                    CASE k.kind WHEN 'email' THEN 'c' || i || '@bench.example'
                        WHEN 'phone' THEN printf('+1555%07d', i)
                        ELSE 'v-' || i END,
                    1, 'import', $4
                FROM n, k",
            )
            .bind(&workspace)
            .bind(from as i64)
            .bind(to as i64)
            .bind(SEED_TIME_SQLITE)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            from = to + 1;
        }
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    Ok(())
}

/// One conversation holding `records` messages, and `records` events, for `customer`.
async fn seed_records(
    url: &str,
    postgres: bool,
    workspace: uuid::Uuid,
    customer: CustomerId,
    records: u64,
    round: usize,
) -> anyhow::Result<()> {
    let conversation = uuid::Uuid::now_v7();
    if postgres {
        let pool = sqlx::PgPool::connect(url).await?;
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO conversations (id, workspace_id, customer_id, status, priority, labels,
                last_activity_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'resolved', 'none', '{}', now(), now(), now())",
        )
        .bind(conversation)
        .bind(workspace)
        .bind(customer.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO messages (id, workspace_id, conversation_id, customer_id, kind, text, sent_at, created_at)
            SELECT gen_random_uuid(), $1, $2, $3, 'inbound', 'message ' || i, now(), now()
            FROM generate_series(1, $4::bigint) AS i",
        )
        .bind(workspace)
        .bind(conversation)
        .bind(customer.0)
        .bind(records as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO events (id, workspace_id, customer_id, name, properties, occurred_at, created_at)
            SELECT gen_random_uuid(), $1, $2, 'page_viewed', '{}', now(), now()
            FROM generate_series(1, $3::bigint) AS i",
        )
        .bind(workspace)
        .bind(customer.0)
        .bind(records as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let workspace = workspace.hyphenated().to_string();
        let customer = customer.0.hyphenated().to_string();
        let conversation = conversation.hyphenated().to_string();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO conversations (id, workspace_id, customer_id, status, priority, labels,
                last_activity_at, created_at, updated_at)
            VALUES ($1, $2, $3, 'resolved', 'none', '[]', $4, $4, $4)",
        )
        .bind(&conversation)
        .bind(&workspace)
        .bind(&customer)
        .bind(SEED_TIME_SQLITE)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $4)
            INSERT INTO messages (id, workspace_id, conversation_id, customer_id, kind, text, sent_at, created_at)
            SELECT printf('00000000-0000-7000-9%03d-%012d', $5, i), $1, $2, $3, 'inbound', 'message ' || i, $6, $6 FROM n",
        )
        .bind(&workspace)
        .bind(&conversation)
        .bind(&customer)
        .bind(records as i64)
        .bind(round as i64)
        .bind(SEED_TIME_SQLITE)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3)
            INSERT INTO events (id, workspace_id, customer_id, name, properties, occurred_at, created_at)
            SELECT printf('00000000-0000-7000-a%03d-%012d', $4, i), $1, $2, 'page_viewed', '{}', $5, $5 FROM n",
        )
        .bind(&workspace)
        .bind(&customer)
        .bind(records as i64)
        .bind(round as i64)
        .bind(SEED_TIME_SQLITE)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        pool.close().await;
    }
    Ok(())
}
