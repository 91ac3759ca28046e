//! Test-only helpers: fresh databases for tests, as URLs with guards that remove them again.
//! Must not depend on `seam-store` (whose tests use this crate) and is never used outside tests.

mod scan;

use std::{path::PathBuf, str::FromStr};

pub use scan::{Finding, find_values};

use sqlx::{
    ConnectOptions, Connection,
    postgres::{PgConnectOptions, PgConnection},
};

/// The environment variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_ENV: &str = "SEAM_TEST_DATABASE_URL";

/// A database created for one test. SQLite files live in a temporary directory removed on
/// drop; PostgreSQL databases are dropped on drop or by [`TestDatabase::cleanup`].
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    /// Held for its drop, which removes the directory.
    _directory: Option<tempfile::TempDir>,
    postgres: Option<PostgresDatabase>,
}

#[derive(Debug)]
struct PostgresDatabase {
    server: PgConnectOptions,
    name: String,
}

impl TestDatabase {
    /// The URL to hand to `seam_store::connect`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the database now rather than on drop.
    pub async fn cleanup(mut self) {
        if let Some(postgres) = self.postgres.take() {
            drop_postgres_database(&postgres.server, &postgres.name).await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(PostgresDatabase { server, name }) = self.postgres.take() {
            // Drop cannot await: drop the database from a thread with its own runtime.
            let dropping = std::thread::spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(drop_postgres_database(&server, &name)),
                    Err(error) => eprintln!("seam-testkit: no runtime to drop {name}: {error}"),
                }
            });
            let _ = dropping.join();
        }
    }
}

/// A SQLite file in a fresh temporary directory (the file itself is created on connect).
pub fn sqlite_url() -> TestDatabase {
    let directory = tempfile::tempdir().unwrap_or_else(|error| {
        panic!("seam-testkit: cannot create a temporary directory: {error}")
    });
    let path: PathBuf = directory.path().join("seam.db");
    TestDatabase {
        url: format!("sqlite://{}", path.display()),
        _directory: Some(directory),
        postgres: None,
    }
}

/// A fresh, empty `seam_test_<random>` database on the server named by
/// `SEAM_TEST_DATABASE_URL`. Without that variable: a panic when `CI=true` (a suite that needs
/// PostgreSQL must not pass without it), otherwise `None` after printing a notice.
pub async fn postgres_url() -> Option<TestDatabase> {
    let Ok(server_url) = std::env::var(POSTGRES_ENV) else {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!(
                "{POSTGRES_ENV} is not set, and CI=true: PostgreSQL tests cannot be skipped in CI"
            );
        }
        eprintln!(
            "seam-testkit: {POSTGRES_ENV} is not set; skipping the PostgreSQL half of this test"
        );
        return None;
    };
    let server = PgConnectOptions::from_str(&server_url).unwrap_or_else(|error| {
        panic!("seam-testkit: {POSTGRES_ENV} is not a PostgreSQL URL: {error}")
    });
    let name = format!("seam_test_{}", uuid::Uuid::now_v7().simple());
    let mut connection = PgConnection::connect_with(&server)
        .await
        .unwrap_or_else(|error| {
            panic!("seam-testkit: cannot reach PostgreSQL at {POSTGRES_ENV}: {error}")
        });
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut connection)
        .await
        .unwrap_or_else(|error| panic!("seam-testkit: cannot create database {name}: {error}"));
    let _ = connection.close().await;
    let url = server.clone().database(&name).to_url_lossy().to_string();
    Some(TestDatabase {
        url,
        _directory: None,
        postgres: Some(PostgresDatabase { server, name }),
    })
}

async fn drop_postgres_database(server: &PgConnectOptions, name: &str) {
    let dropped = async {
        let mut connection = PgConnection::connect_with(server).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut connection)
        .await?;
        connection.close().await
    };
    if let Err(error) = dropped.await {
        eprintln!("seam-testkit: could not drop test database {name}: {error}");
    }
}
