//! The PostgreSQL driver: one pool, native uuid/timestamptz/jsonb/text[] values, and the
//! statements whose dialect differs (row locking with `SKIP LOCKED`, `= ANY` lists).

use std::{future::Future, str::FromStr, time::Duration};

use seam_core::{Error, Result, Timestamp};
use sqlx::{
    Connection as _, PgConnection, Postgres, Row as _,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow},
    types::Json,
};
use uuid::Uuid;

use crate::{
    driver::{Bound, Driver, Value},
    error::database_error,
};

pub(crate) struct PostgresDriver;

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

pub(crate) async fn connect(url: &str) -> Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| Error::invalid("database_url", "is not a PostgreSQL URL"))?;
    PgPoolOptions::new()
        .max_connections(16)
        // Fail fast when the server is away: readiness and callers learn it in seconds.
        .acquire_timeout(Duration::from_secs(5))
        // Pinging on every acquire costs a round trip per transaction; ping only connections
        // that sat idle long enough for the server or a proxy to have dropped them.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(database_error)
}

impl Driver for PostgresDriver {
    type Db = Postgres;

    const BEGIN: &'static str = "BEGIN";
    const BEGIN_READ: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    // SKIP LOCKED: nodes claiming at the same time take different jobs instead of waiting.
    const JOINS_STATEMENTS: bool = false;
    const CLAIM_JOBS: &'static str = "UPDATE jobs
        SET status = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
        WHERE id IN (
            SELECT id FROM jobs
            WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND lease_until < $1)
            ORDER BY run_at LIMIT $3
            FOR UPDATE SKIP LOCKED)
        RETURNING id, workspace_id, kind, payload, status, attempts, max_attempts, run_at,
            lease_until, last_error";
    const DELETE_OUTBOX: &'static str = "DELETE FROM outbox WHERE id = ANY($1)";
    const LOCK_CUSTOMER: Option<&'static str> =
        Some("SELECT id FROM customers WHERE workspace_id = $1 AND id = $2 FOR UPDATE");
    const IDENTITIES_OF_CUSTOMERS: &'static str = "SELECT workspace_id, customer_id, kind, value,
            verified, source, created_at
        FROM identities
        WHERE workspace_id = $1 AND customer_id = ANY($2)
        ORDER BY created_at, kind, value";

    fn in_uuid_list(placeholder: usize) -> String {
        format!("= ANY(${placeholder})")
    }

    fn bind(query: Bound<Self>, value: Value) -> Bound<Self> {
        match value {
            Value::Uuid(uuid) => query.bind(uuid),
            Value::UuidList(uuids) => query.bind(uuids),
            Value::Text(text) => query.bind(text),
            Value::Time(time) => query.bind(time),
            Value::I32(number) => query.bind(number),
            Value::I64(number) => query.bind(number),
            Value::OptI64(number) => query.bind(number),
            Value::Bool(flag) => query.bind(flag),
            Value::Json(json) => query.bind(Json(json)),
            Value::Labels(labels) => query.bind(labels),
        }
    }

    fn get_uuid(row: &PgRow, column: &str) -> sqlx::Result<Uuid> {
        row.try_get(column)
    }
    fn get_opt_uuid(row: &PgRow, column: &str) -> sqlx::Result<Option<Uuid>> {
        row.try_get(column)
    }
    fn get_text(row: &PgRow, column: &str) -> sqlx::Result<String> {
        row.try_get(column)
    }
    fn get_opt_text(row: &PgRow, column: &str) -> sqlx::Result<Option<String>> {
        row.try_get(column)
    }
    fn get_time(row: &PgRow, column: &str) -> sqlx::Result<Timestamp> {
        row.try_get(column)
    }
    fn get_opt_time(row: &PgRow, column: &str) -> sqlx::Result<Option<Timestamp>> {
        row.try_get(column)
    }
    fn get_i32(row: &PgRow, column: &str) -> sqlx::Result<i32> {
        row.try_get(column)
    }
    fn get_i64(row: &PgRow, column: &str) -> sqlx::Result<i64> {
        row.try_get(column)
    }
    fn get_opt_i64(row: &PgRow, column: &str) -> sqlx::Result<Option<i64>> {
        row.try_get(column)
    }
    fn get_bool(row: &PgRow, column: &str) -> sqlx::Result<bool> {
        row.try_get(column)
    }
    fn get_json(row: &PgRow, column: &str) -> sqlx::Result<serde_json::Value> {
        row.try_get::<Json<serde_json::Value>, _>(column)
            .map(|json| json.0)
    }
    fn get_labels(row: &PgRow, column: &str) -> sqlx::Result<Vec<String>> {
        row.try_get(column)
    }

    async fn execute(conn: &mut PgConnection, query: Bound<Self>) -> sqlx::Result<u64> {
        query.execute(conn).await.map(|done| done.rows_affected())
    }
    fn fetch_optional<'c>(
        conn: &'c mut PgConnection,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Option<PgRow>>> + Send + 'c {
        query.fetch_optional(conn)
    }
    fn fetch_all<'c>(
        conn: &'c mut PgConnection,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Vec<PgRow>>> + Send + 'c {
        query.fetch_all(conn)
    }
}
