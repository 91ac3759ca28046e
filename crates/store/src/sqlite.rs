//! The SQLite driver: connection setup (WAL, one writer connection plus a read pool) and how
//! values are stored (UUID text, fixed-width UTC text timestamps, JSON text). No table SQL
//! beyond the few statements whose dialects differ.

use std::{future::Future, str::FromStr, time::Duration};

use seam_core::{Error, Result, Timestamp};
use sqlx::{
    Row as _, Sqlite, SqliteConnection,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
};
use uuid::Uuid;

use crate::{
    driver::{Bound, Driver, Value},
    error::database_error,
};

/// Timestamps are stored with exactly six fractional digits and a `Z`, so that comparing the
/// text compares the instants, and the precision matches PostgreSQL's.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub(crate) struct SqliteDriver;

/// Opens the writer pool (exactly one connection) and the read pool, creating the file.
pub(crate) async fn connect(url: &str) -> Result<(SqlitePool, SqlitePool)> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|_| Error::invalid("database_url", "is not a SQLite URL"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .statement_cache_capacity(200);
    // The writer opens first, so the file exists in WAL mode before any reader connects.
    // A local file does not drop connections: no ping before each acquire.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.clone())
        .await
        .map_err(database_error)?;
    let readers = std::thread::available_parallelism()
        .map_or(4, |count| count.get())
        .clamp(2, 8);
    let reader = SqlitePoolOptions::new()
        .max_connections(readers as u32)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.read_only(true))
        .await
        .map_err(database_error)?;
    Ok((writer, reader))
}

fn format_time(value: Timestamp) -> String {
    value.format(TIME_FORMAT).to_string()
}

fn parse_time(column: &str, text: &str) -> sqlx::Result<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|error| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: error.into(),
        })
}

fn parse_uuid(column: &str, text: &str) -> sqlx::Result<Uuid> {
    Uuid::parse_str(text).map_err(|error| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: error.into(),
    })
}

fn decode_error(column: &str, error: serde_json::Error) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: error.into(),
    }
}

impl Driver for SqliteDriver {
    type Db = Sqlite;

    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const BEGIN_READ: &'static str = "BEGIN DEFERRED";
    // The single writer connection serialises claims, so no row locking is needed.
    const JOINS_STATEMENTS: bool = true;
    const CLAIM_JOBS: &'static str = "UPDATE jobs
        SET status = 'running', attempts = attempts + 1, lease_until = $2, updated_at = $1
        WHERE id IN (
            SELECT id FROM jobs
            WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND lease_until < $1)
            ORDER BY run_at LIMIT $3)
        RETURNING id, workspace_id, kind, payload, status, attempts, max_attempts, run_at,
            lease_until, last_error";
    const DELETE_OUTBOX: &'static str =
        "DELETE FROM outbox WHERE id IN (SELECT value FROM json_each($1))";
    // The one writer connection already runs write transactions one at a time.
    const LOCK_CUSTOMER: Option<&'static str> = None;
    const IDENTITIES_OF_CUSTOMERS: &'static str = "SELECT workspace_id, customer_id, kind, value,
            verified, source, created_at
        FROM identities
        WHERE workspace_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
        ORDER BY created_at, kind, value";

    fn in_uuid_list(placeholder: usize) -> String {
        format!("IN (SELECT value FROM json_each(${placeholder}))")
    }

    fn bind(query: Bound<Self>, value: Value) -> Bound<Self> {
        match value {
            Value::Uuid(uuid) => query.bind(uuid.map(Uuid::hyphenated)),
            Value::UuidList(uuids) => {
                let texts: Vec<String> = uuids.iter().map(Uuid::to_string).collect();
                query.bind(serde_json::Value::from(texts).to_string())
            }
            Value::Text(text) => query.bind(text),
            Value::Time(time) => query.bind(time.map(format_time)),
            Value::I32(number) => query.bind(number),
            Value::I64(number) => query.bind(number),
            Value::OptI64(number) => query.bind(number),
            Value::Bool(flag) => query.bind(flag),
            Value::Json(json) => query.bind(json.to_string()),
            Value::Labels(labels) => query.bind(serde_json::Value::from(labels).to_string()),
        }
    }

    fn get_uuid(row: &SqliteRow, column: &str) -> sqlx::Result<Uuid> {
        parse_uuid(column, row.try_get::<&str, _>(column)?)
    }
    fn get_opt_uuid(row: &SqliteRow, column: &str) -> sqlx::Result<Option<Uuid>> {
        row.try_get::<Option<&str>, _>(column)?
            .map(|text| parse_uuid(column, text))
            .transpose()
    }
    fn get_text(row: &SqliteRow, column: &str) -> sqlx::Result<String> {
        row.try_get(column)
    }
    fn get_opt_text(row: &SqliteRow, column: &str) -> sqlx::Result<Option<String>> {
        row.try_get(column)
    }
    fn get_time(row: &SqliteRow, column: &str) -> sqlx::Result<Timestamp> {
        parse_time(column, row.try_get::<&str, _>(column)?)
    }
    fn get_opt_time(row: &SqliteRow, column: &str) -> sqlx::Result<Option<Timestamp>> {
        row.try_get::<Option<&str>, _>(column)?
            .map(|text| parse_time(column, text))
            .transpose()
    }
    fn get_i32(row: &SqliteRow, column: &str) -> sqlx::Result<i32> {
        row.try_get(column)
    }
    fn get_i64(row: &SqliteRow, column: &str) -> sqlx::Result<i64> {
        row.try_get(column)
    }
    fn get_opt_i64(row: &SqliteRow, column: &str) -> sqlx::Result<Option<i64>> {
        row.try_get(column)
    }
    fn get_bool(row: &SqliteRow, column: &str) -> sqlx::Result<bool> {
        row.try_get(column)
    }
    fn get_json(row: &SqliteRow, column: &str) -> sqlx::Result<serde_json::Value> {
        serde_json::from_str(row.try_get::<&str, _>(column)?)
            .map_err(|error| decode_error(column, error))
    }
    fn get_labels(row: &SqliteRow, column: &str) -> sqlx::Result<Vec<String>> {
        serde_json::from_str(row.try_get::<&str, _>(column)?)
            .map_err(|error| decode_error(column, error))
    }

    async fn execute(conn: &mut SqliteConnection, query: Bound<Self>) -> sqlx::Result<u64> {
        query.execute(conn).await.map(|done| done.rows_affected())
    }
    fn fetch_optional<'c>(
        conn: &'c mut SqliteConnection,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Option<SqliteRow>>> + Send + 'c {
        query.fetch_optional(conn)
    }
    fn fetch_all<'c>(
        conn: &'c mut SqliteConnection,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Vec<SqliteRow>>> + Send + 'c {
        query.fetch_all(conn)
    }
}
