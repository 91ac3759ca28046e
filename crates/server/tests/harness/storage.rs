//! Storage for one scenario: a temporary data directory and, on PostgreSQL, a database of its
//! own (from `seam-testkit`: created on the server named by `SEAM_TEST_DATABASE_URL`, dropped
//! afterwards).

use super::Backend;

/// Everything a server keeps between runs: the data directory and, on PostgreSQL, the database.
pub struct Storage {
    pub backend: Backend,
    pub data_dir: tempfile::TempDir,
    postgres: Option<seam_testkit::TestDatabase>,
}

impl Storage {
    pub async fn fresh(backend: Backend) -> Storage {
        let data_dir = tempfile::Builder::new()
            .prefix("seam-e2e-")
            .tempdir()
            .unwrap();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(
                seam_testkit::postgres_url()
                    .await
                    .expect("PostgreSQL scenarios run only when SEAM_TEST_DATABASE_URL is set"),
            ),
        };
        Storage {
            backend,
            data_dir,
            postgres,
        }
    }

    /// The PostgreSQL URL, when the backend is PostgreSQL.
    pub fn database_url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|postgres| postgres.url().to_string())
    }

    /// The storage flags every `seam` command of this scenario gets.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--data".to_string(),
            self.data_dir.path().display().to_string(),
        ];
        if let Some(postgres) = &self.postgres {
            args.push("--database-url".into());
            args.push(postgres.url().to_string());
        }
        args
    }
}
