//! The seam between the shared table code and the two sqlx drivers: how a value is bound, how a
//! column is read and how a statement runs. Knows no table and holds no SQL of its own.

use std::{borrow::Cow, future::Future, marker::PhantomData};

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

/// One bound value, kept until the statement runs so that statements can be joined.
pub(crate) enum Value {
    Uuid(Option<Uuid>),
    UuidList(Vec<Uuid>),
    Text(Option<String>),
    Time(Option<Timestamp>),
    I32(i32),
    I64(i64),
    OptI64(Option<i64>),
    Bool(bool),
    Json(serde_json::Value),
    Labels(Vec<String>),
}

/// What the shared table code needs from a database. Implemented by the SQLite and the
/// PostgreSQL driver; every method is a one-liner there.
pub(crate) trait Driver: Send + Sync + Sized + 'static {
    type Db: Database;

    /// The statement that opens a write transaction.
    const BEGIN: &'static str;
    /// The statement that opens a transaction that only reads (a snapshot).
    const BEGIN_READ: &'static str;
    /// Whether several statements with parameters can travel as one (SQLite can; PostgreSQL's
    /// extended protocol cannot). When they can, a transaction sends its `BEGIN` and the
    /// writes nobody waits on together with the next statement, saving round trips.
    const JOINS_STATEMENTS: bool;
    /// Claims due jobs: `$1` now, `$2` lease_until, `$3` limit (see `tables::jobs`).
    const CLAIM_JOBS: &'static str;
    /// Deletes the outbox rows whose ids are in the list bound as `$1`.
    const DELETE_OUTBOX: &'static str;
    /// Identities of the customers listed in `$2`, in workspace `$1`.
    const IDENTITIES_OF_CUSTOMERS: &'static str;
    /// Locks customer `$2` of workspace `$1` until the transaction ends, so that use cases on
    /// one customer run one after the other. `None` where the single writer already does that.
    const LOCK_CUSTOMER: Option<&'static str>;

    /// `<column> <this>` is true when the column is one of the uuids bound as `$placeholder`
    /// (a list bound with [`Sql::uuid_list`]).
    fn in_uuid_list(placeholder: usize) -> String;

    fn bind(query: Bound<Self>, value: Value) -> Bound<Self>;

    fn get_uuid(row: &Row<Self>, column: &str) -> sqlx::Result<Uuid>;
    fn get_opt_uuid(row: &Row<Self>, column: &str) -> sqlx::Result<Option<Uuid>>;
    fn get_text(row: &Row<Self>, column: &str) -> sqlx::Result<String>;
    fn get_opt_text(row: &Row<Self>, column: &str) -> sqlx::Result<Option<String>>;
    fn get_time(row: &Row<Self>, column: &str) -> sqlx::Result<Timestamp>;
    fn get_opt_time(row: &Row<Self>, column: &str) -> sqlx::Result<Option<Timestamp>>;
    fn get_i32(row: &Row<Self>, column: &str) -> sqlx::Result<i32>;
    fn get_i64(row: &Row<Self>, column: &str) -> sqlx::Result<i64>;
    fn get_opt_i64(row: &Row<Self>, column: &str) -> sqlx::Result<Option<i64>>;
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

/// A statement and its values, in the order of its `$n` placeholders. Every statement binds
/// `$1` to `$n` without gaps, so the number of values is its highest placeholder.
pub(crate) struct Sql<D: Driver> {
    sql: Cow<'static, str>,
    values: Vec<Value>,
    driver: PhantomData<D>,
}

impl<D: Driver> Sql<D> {
    pub(crate) fn new(sql: &'static str) -> Self {
        Sql {
            sql: Cow::Borrowed(sql),
            values: Vec::new(),
            driver: PhantomData,
        }
    }

    /// A statement assembled at run time from fixed fragments only, never from values.
    pub(crate) fn assembled(sql: String) -> Self {
        Sql {
            sql: Cow::Owned(sql),
            values: Vec::new(),
            driver: PhantomData,
        }
    }

    /// This statement followed by `next`, as one (only where `D::JOINS_STATEMENTS`).
    pub(crate) fn then(mut self, next: Sql<D>) -> Self {
        let mut sql = self.sql.into_owned();
        sql.push_str(";\n");
        shift_placeholders(&next.sql, self.values.len(), &mut sql);
        self.values.extend(next.values);
        Sql {
            sql: Cow::Owned(sql),
            values: self.values,
            driver: PhantomData,
        }
    }

    fn push(mut self, value: Value) -> Self {
        self.values.push(value);
        self
    }

    pub(crate) fn uuid(self, value: Uuid) -> Self {
        self.push(Value::Uuid(Some(value)))
    }
    pub(crate) fn opt_uuid(self, value: Option<Uuid>) -> Self {
        self.push(Value::Uuid(value))
    }
    pub(crate) fn uuid_list(self, values: &[Uuid]) -> Self {
        self.push(Value::UuidList(values.to_vec()))
    }
    pub(crate) fn text(self, value: &str) -> Self {
        self.push(Value::Text(Some(value.to_string())))
    }
    pub(crate) fn opt_text(self, value: Option<&str>) -> Self {
        self.push(Value::Text(value.map(str::to_string)))
    }
    pub(crate) fn time(self, value: Timestamp) -> Self {
        self.push(Value::Time(Some(value)))
    }
    pub(crate) fn opt_time(self, value: Option<Timestamp>) -> Self {
        self.push(Value::Time(value))
    }
    pub(crate) fn i32(self, value: i32) -> Self {
        self.push(Value::I32(value))
    }
    pub(crate) fn i64(self, value: i64) -> Self {
        self.push(Value::I64(value))
    }
    pub(crate) fn opt_i64(self, value: Option<i64>) -> Self {
        self.push(Value::OptI64(value))
    }
    pub(crate) fn bool(self, value: bool) -> Self {
        self.push(Value::Bool(value))
    }
    pub(crate) fn json(self, value: &serde_json::Value) -> Self {
        self.push(Value::Json(value.clone()))
    }
    /// Like [`Sql::json`], without copying a value the caller no longer needs.
    pub(crate) fn json_owned(self, value: serde_json::Value) -> Self {
        self.push(Value::Json(value))
    }
    pub(crate) fn labels(self, labels: &[String]) -> Self {
        self.push(Value::Labels(labels.to_vec()))
    }

    /// Reads the rows of this statement with `read`.
    pub(crate) fn select<T>(self, read: fn(Columns<'_, D>) -> Result<T>) -> Select<D, T> {
        Select { sql: self, read }
    }

    fn bound(self) -> Bound<D> {
        let mut query = match self.sql {
            Cow::Borrowed(sql) => sqlx::query(sql),
            Cow::Owned(sql) => sqlx::query(sqlx::AssertSqlSafe(sql)),
        };
        for value in self.values {
            query = D::bind(query, value);
        }
        query
    }

    /// Runs the statement; the number of rows it changed.
    pub(crate) async fn execute(self, conn: &mut Conn<D>) -> Result<u64> {
        D::execute(conn, self.bound()).await.map_err(database_error)
    }
}

/// Renumbers `$n` placeholders by `offset` while appending `sql` to `out`. Our statements hold
/// no `$` except in placeholders.
fn shift_placeholders(sql: &str, offset: usize, out: &mut String) {
    let mut characters = sql.chars().peekable();
    while let Some(character) = characters.next() {
        out.push(character);
        if character != '$' {
            continue;
        }
        let mut number = None;
        while let Some(digit) = characters.peek().and_then(|next| next.to_digit(10)) {
            number = Some(number.unwrap_or(0) * 10 + digit as usize);
            characters.next();
        }
        if let Some(number) = number {
            out.push_str(&(number + offset).to_string());
        }
    }
}

/// A statement whose rows become `T`.
pub(crate) struct Select<D: Driver, T> {
    pub(crate) sql: Sql<D>,
    pub(crate) read: fn(Columns<'_, D>) -> Result<T>,
}

impl<D: Driver, T> Select<D, T> {
    pub(crate) async fn optional(self, conn: &mut Conn<D>) -> Result<Option<T>> {
        match D::fetch_optional(conn, self.sql.bound())
            .await
            .map_err(database_error)?
        {
            Some(row) => (self.read)(Columns::new(&row)).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn all(self, conn: &mut Conn<D>) -> Result<Vec<T>> {
        let rows = D::fetch_all(conn, self.sql.bound())
            .await
            .map_err(database_error)?;
        rows.iter()
            .map(|row| (self.read)(Columns::new(row)))
            .collect()
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
    pub(crate) fn opt_i64(&self, column: &str) -> Result<Option<i64>> {
        D::get_opt_i64(self.row, column).map_err(database_error)
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
