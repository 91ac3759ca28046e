//! Reads every column of every table of a database as text, so that a test can prove a value
//! is stored nowhere (erasure). Test-only; reads, never writes.

use sqlx::{Connection, Row, postgres::PgConnection, sqlite::SqliteConnection};

/// One place a value was found: `table.column`.
pub type Finding = String;

/// Every `table.column` of the database at `url` (SQLite or PostgreSQL) holding a value that
/// contains one of `needles`, compared case-insensitively.
pub async fn find_values(url: &str, needles: &[&str]) -> anyhow::Result<Vec<Finding>> {
    let needles: Vec<String> = needles.iter().map(|needle| needle.to_lowercase()).collect();
    let cells = if url.starts_with("postgres") {
        postgres_cells(url).await?
    } else {
        sqlite_cells(url).await?
    };
    let mut findings: Vec<Finding> = cells
        .into_iter()
        .filter(|(_, value)| {
            let value = value.to_lowercase();
            needles.iter().any(|needle| value.contains(needle.as_str()))
        })
        .map(|(place, _)| place)
        .collect();
    findings.dedup();
    Ok(findings)
}

/// Quotes an identifier read from the catalogue.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn sqlite_cells(url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut conn = SqliteConnection::connect(url).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut cells = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&mut conn)
            .await?;
        for column in columns {
            // As bytes: some columns (the migrations' checksums) are not UTF-8.
            let sql = format!(
                "SELECT CAST({} AS BLOB) AS value FROM {}",
                quoted(&column),
                quoted(&table)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await?;
            for row in rows {
                if let Some(value) = row.try_get::<Option<Vec<u8>>, _>("value")? {
                    let value = String::from_utf8_lossy(&value).into_owned();
                    cells.push((format!("{table}.{column}"), value));
                }
            }
        }
    }
    conn.close().await?;
    Ok(cells)
}

async fn postgres_cells(url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut conn = PgConnection::connect(url).await?;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut cells = Vec::new();
    for (table, column) in columns {
        let sql = format!(
            "SELECT CAST({} AS TEXT) AS value FROM {}",
            quoted(&column),
            quoted(&table)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await?;
        for row in rows {
            if let Some(value) = row.try_get::<Option<String>, _>("value")? {
                cells.push((format!("{table}.{column}"), value));
            }
        }
    }
    conn.close().await?;
    Ok(cells)
}
