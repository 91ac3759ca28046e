//! The seam between the shared table code and the two sqlx drivers: how a value is bound, how a
//! column is read and how a statement runs. Knows no table and holds no SQL of its own.

use std::future::Future;

use seam_core::{Result, Timestamp};
use sqlx::{Database, query::Query};
use uuid::Uuid;

use crate::error::database_error;

/// A connection of the driver's database.
pub(crate) type Conn<D> = <<D as Driver>::Db as Database>::Connection;
/// A row of the driver's database.
pub(crate) type Row<D> = <<D as Driver>::Db as Database>::Row;
/// A statement with its arguments, ready to run.
pub(crate) type Bound<D> =
    Query<'static, <D as Driver>::Db, <<D as Driver>::Db as Database>::Arguments>;

/// What the shared table code needs from a database. Implemented by the SQLite and the
/// PostgreSQL driver; every method is a one-liner there.
pub(crate) trait Driver: Send + Sync + Sized + 'static {
    type Db: Database;

    /// The statement that opens a write transaction.
    const BEGIN: &'static str;
    /// Claims due jobs: `$1` now, `$2` lease_until, `$3` limit (see `tables::jobs`).
    const CLAIM_JOBS: &'static str;
    /// Deletes the outbox rows whose ids are in the list bound as `$1`.
    const DELETE_OUTBOX: &'static str;
    /// Identities of the customers listed in `$2`, in workspace `$1`.
    const IDENTITIES_OF_CUSTOMERS: &'static str;

    fn bind_uuid(query: Bound<Self>, value: Uuid) -> Bound<Self>;
    fn bind_opt_uuid(query: Bound<Self>, value: Option<Uuid>) -> Bound<Self>;
    fn bind_uuid_list(query: Bound<Self>, values: &[Uuid]) -> Bound<Self>;
    fn bind_text(query: Bound<Self>, value: &str) -> Bound<Self>;
    fn bind_opt_text(query: Bound<Self>, value: Option<&str>) -> Bound<Self>;
    fn bind_time(query: Bound<Self>, value: Timestamp) -> Bound<Self>;
    fn bind_opt_time(query: Bound<Self>, value: Option<Timestamp>) -> Bound<Self>;
    fn bind_i32(query: Bound<Self>, value: i32) -> Bound<Self>;
    fn bind_i64(query: Bound<Self>, value: i64) -> Bound<Self>;
    fn bind_bool(query: Bound<Self>, value: bool) -> Bound<Self>;
    fn bind_json(query: Bound<Self>, value: &serde_json::Value) -> Bound<Self>;
    fn bind_labels(query: Bound<Self>, labels: &[String]) -> Bound<Self>;

    fn get_uuid(row: &Row<Self>, column: &str) -> sqlx::Result<Uuid>;
    fn get_opt_uuid(row: &Row<Self>, column: &str) -> sqlx::Result<Option<Uuid>>;
    fn get_text(row: &Row<Self>, column: &str) -> sqlx::Result<String>;
    fn get_opt_text(row: &Row<Self>, column: &str) -> sqlx::Result<Option<String>>;
    fn get_time(row: &Row<Self>, column: &str) -> sqlx::Result<Timestamp>;
    fn get_opt_time(row: &Row<Self>, column: &str) -> sqlx::Result<Option<Timestamp>>;
    fn get_i32(row: &Row<Self>, column: &str) -> sqlx::Result<i32>;
    fn get_i64(row: &Row<Self>, column: &str) -> sqlx::Result<i64>;
    fn get_bool(row: &Row<Self>, column: &str) -> sqlx::Result<bool>;
    fn get_json(row: &Row<Self>, column: &str) -> sqlx::Result<serde_json::Value>;
    fn get_labels(row: &Row<Self>, column: &str) -> sqlx::Result<Vec<String>>;

    fn execute<'c>(
        conn: &'c mut Conn<Self>,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<u64>> + Send + 'c;
    fn fetch_optional<'c>(
        conn: &'c mut Conn<Self>,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Option<Row<Self>>>> + Send + 'c;
    fn fetch_all<'c>(
        conn: &'c mut Conn<Self>,
        query: Bound<Self>,
    ) -> impl Future<Output = sqlx::Result<Vec<Row<Self>>>> + Send + 'c;
}

/// A statement being bound, in the order of its `$n` placeholders.
pub(crate) struct Sql<D: Driver>(Bound<D>);

impl<D: Driver> Sql<D> {
    pub(crate) fn new(sql: &'static str) -> Self {
        Sql(sqlx::query(sql))
    }

    /// A statement assembled at run time from fixed fragments only, never from values.
    pub(crate) fn assembled(sql: String) -> Self {
        Sql(sqlx::query(sqlx::AssertSqlSafe(sql)))
    }

    pub(crate) fn uuid(self, value: Uuid) -> Self {
        Sql(D::bind_uuid(self.0, value))
    }
    pub(crate) fn opt_uuid(self, value: Option<Uuid>) -> Self {
        Sql(D::bind_opt_uuid(self.0, value))
    }
    pub(crate) fn uuid_list(self, values: &[Uuid]) -> Self {
        Sql(D::bind_uuid_list(self.0, values))
    }
    pub(crate) fn text(self, value: &str) -> Self {
        Sql(D::bind_text(self.0, value))
    }
    pub(crate) fn opt_text(self, value: Option<&str>) -> Self {
        Sql(D::bind_opt_text(self.0, value))
    }
    pub(crate) fn time(self, value: Timestamp) -> Self {
        Sql(D::bind_time(self.0, value))
    }
    pub(crate) fn opt_time(self, value: Option<Timestamp>) -> Self {
        Sql(D::bind_opt_time(self.0, value))
    }
    pub(crate) fn i32(self, value: i32) -> Self {
        Sql(D::bind_i32(self.0, value))
    }
    pub(crate) fn i64(self, value: i64) -> Self {
        Sql(D::bind_i64(self.0, value))
    }
    pub(crate) fn bool(self, value: bool) -> Self {
        Sql(D::bind_bool(self.0, value))
    }
    pub(crate) fn json(self, value: &serde_json::Value) -> Self {
        Sql(D::bind_json(self.0, value))
    }
    pub(crate) fn labels(self, labels: &[String]) -> Self {
        Sql(D::bind_labels(self.0, labels))
    }

    /// Runs the statement; the number of rows it changed.
    pub(crate) async fn execute(self, conn: &mut Conn<D>) -> Result<u64> {
        D::execute(conn, self.0).await.map_err(database_error)
    }

    pub(crate) async fn fetch_optional<T>(
        self,
        conn: &mut Conn<D>,
        read: fn(Columns<'_, D>) -> Result<T>,
    ) -> Result<Option<T>> {
        match D::fetch_optional(conn, self.0)
            .await
            .map_err(database_error)?
        {
            Some(row) => read(Columns::new(&row)).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn fetch_all<T>(
        self,
        conn: &mut Conn<D>,
        read: fn(Columns<'_, D>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let rows = D::fetch_all(conn, self.0).await.map_err(database_error)?;
        rows.iter().map(|row| read(Columns::new(row))).collect()
    }
}

/// Typed access to the columns of one row.
pub(crate) struct Columns<'r, D: Driver> {
    row: &'r Row<D>,
}

impl<'r, D: Driver> Columns<'r, D> {
    fn new(row: &'r Row<D>) -> Self {
        Columns { row }
    }

    pub(crate) fn uuid(&self, column: &str) -> Result<Uuid> {
        D::get_uuid(self.row, column).map_err(database_error)
    }
    pub(crate) fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>> {
        D::get_opt_uuid(self.row, column).map_err(database_error)
    }
    pub(crate) fn text(&self, column: &str) -> Result<String> {
        D::get_text(self.row, column).map_err(database_error)
    }
    pub(crate) fn opt_text(&self, column: &str) -> Result<Option<String>> {
        D::get_opt_text(self.row, column).map_err(database_error)
    }
    pub(crate) fn time(&self, column: &str) -> Result<Timestamp> {
        D::get_time(self.row, column).map_err(database_error)
    }
    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<Timestamp>> {
        D::get_opt_time(self.row, column).map_err(database_error)
    }
    pub(crate) fn i32(&self, column: &str) -> Result<i32> {
        D::get_i32(self.row, column).map_err(database_error)
    }
    pub(crate) fn i64(&self, column: &str) -> Result<i64> {
        D::get_i64(self.row, column).map_err(database_error)
    }
    pub(crate) fn bool(&self, column: &str) -> Result<bool> {
        D::get_bool(self.row, column).map_err(database_error)
    }
    pub(crate) fn json(&self, column: &str) -> Result<serde_json::Value> {
        D::get_json(self.row, column).map_err(database_error)
    }
    pub(crate) fn labels(&self, column: &str) -> Result<Vec<String>> {
        D::get_labels(self.row, column).map_err(database_error)
    }

    /// A nullable text column holding one of an enum's names.
    pub(crate) fn opt_parsed<T>(
        &self,
        column: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.opt_text(column)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| unknown_value(column)),
        }
    }

    /// A text column holding one of an enum's names.
    pub(crate) fn parsed<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
        let text = self.text(column)?;
        parse(&text).ok_or_else(|| unknown_value(column))
    }
}

fn unknown_value(column: &str) -> seam_core::Error {
    seam_core::Error::internal(format!("column {column} holds a value Seam does not know"))
}
