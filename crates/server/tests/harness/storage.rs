//! Storage for one scenario: a temporary data directory and, on PostgreSQL, a database of its
//! own, created from `SEAM_TEST_DATABASE_URL` and dropped afterwards.

use std::time::Duration;

use super::{Backend, LOCAL_POSTGRES};

/// One database created for one scenario and dropped after it.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create() -> PostgresDatabase {
        let admin_url = std::env::var("SEAM_TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| LOCAL_POSTGRES.to_string());
        let name = format!("seam_e2e_{}", uuid::Uuid::now_v7().simple());
        let connection = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "PostgreSQL at SEAM_TEST_DATABASE_URL={admin_url} is unreachable: {error}. \
                     Start it (see .ci/run) — PostgreSQL scenarios fail rather than skip."
                )
            });
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&connection)
            .await
            .unwrap();
        connection.close().await;
        let url = database_url_with_name(&admin_url, &name);
        PostgresDatabase {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs inside the scenario's runtime, which must not block: use a runtime of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
                            .execute(&pool)
                            .await;
                        pool.close().await;
                    }
                });
            }
        })
        .join();
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping user, host, port and parameters.
fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |index| index + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |index| after_scheme + index);
    let mut replaced = format!("{}/{}", &base[..authority_end], name);
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

/// Everything a server keeps between runs: the data directory and, on PostgreSQL, the database.
pub struct Storage {
    pub backend: Backend,
    pub data_dir: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

impl Storage {
    pub async fn fresh(backend: Backend) -> Storage {
        let data_dir = tempfile::Builder::new()
            .prefix("seam-e2e-")
            .tempdir()
            .unwrap();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresDatabase::create().await),
        };
        Storage {
            backend,
            data_dir,
            postgres,
        }
    }

    /// The storage flags every `seam` command of this scenario gets.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--data".to_string(),
            self.data_dir.path().display().to_string(),
        ];
        if let Some(postgres) = &self.postgres {
            args.push("--database-url".into());
            args.push(postgres.url.clone());
        }
        args
    }
}
