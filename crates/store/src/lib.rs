//! Seam's storage: the SQLite and PostgreSQL implementations of core's `Store` and `Tx` ports,
//! their migrations, the job queue and the outbox. Stores and loads; decides nothing (the
//! rules live in `seam-core`).

mod driver;
mod error;
mod files;
mod postgres;
mod sqlite;
mod store;
mod tables;
mod tx;

use std::sync::Arc;

use seam_core::{Error, Result, ports::Store};

pub use crate::files::LocalFiles;
use sqlx::{PgPool, SqlitePool, migrate::Migrator};
use tokio::sync::Notify;

use crate::{
    error::database_error, postgres::PostgresDriver, sqlite::SqliteDriver, store::SqlStore,
};

// `sqlx::migrate!` needs the `macros` feature (and with it the query macros); the proc macro
// itself comes with `derive` + `migrate`. Neither needs a database at build time.
static SQLITE_MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("migrations/postgres");

/// Which database a [`Database`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An open database: the store the rest of Seam uses, and the signal raised after every
/// commit that wrote outbox rows or jobs (the relay and workers wait on it).
pub struct Database {
    pub store: Arc<dyn Store>,
    pub outbox_notify: Arc<Notify>,
    pools: Pools,
}

enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Opens `sqlite://path/to/file.db` (creating the file if missing) or `postgres://…`.
pub async fn connect(url: &str) -> Result<Database> {
    let outbox_notify = Arc::new(Notify::new());
    if url.starts_with("sqlite:") {
        let (writer, reader) = sqlite::connect(url).await?;
        let store =
            SqlStore::<SqliteDriver>::new(writer.clone(), reader.clone(), outbox_notify.clone());
        Ok(Database {
            store: Arc::new(store),
            outbox_notify,
            pools: Pools::Sqlite { writer, reader },
        })
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = postgres::connect(url).await?;
        let store =
            SqlStore::<PostgresDriver>::new(pool.clone(), pool.clone(), outbox_notify.clone());
        Ok(Database {
            store: Arc::new(store),
            outbox_notify,
            pools: Pools::Postgres(pool),
        })
    } else {
        Err(Error::invalid(
            "database_url",
            "must start with sqlite:// or postgres://",
        ))
    }
}

impl Database {
    /// Applies the migrations this build carries that the database lacks.
    pub async fn migrate(&self) -> Result<()> {
        let outcome = match &self.pools {
            Pools::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await,
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        outcome.map_err(|error| database_error(error.into()))
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Waits for the connections to finish their work and closes them.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}
