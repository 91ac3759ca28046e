//! The users, sessions and api_tokens tables: who logs in and the credentials they hold.
//! Lookups by email, session hash and token hash cross workspaces on purpose (login names no
//! workspace); everything else filters on the workspace.

use seam_core::{
    Error, Result, Timestamp,
    auth::{ApiToken, Session},
    ids::{ApiTokenId, UserId, WorkspaceId},
    user::{Availability, Language, Role, User},
};

use crate::driver::{Columns, Driver, Select, Sql};

macro_rules! user_columns {
    () => {
        "id, workspace_id, email, name, role, language, availability, password_hash, failed_logins, \
        locked_until, created_at"
    };
}

fn read_user<D: Driver>(row: Columns<'_, D>) -> Result<User> {
    Ok(User {
        id: UserId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        email: row.text("email")?,
        name: row.text("name")?,
        role: row.parsed("role", Role::parse)?,
        language: row
            .opt_text("language")?
            .map(|code| {
                Language::parse(&code)
                    .ok_or_else(|| Error::internal(format!("stored language {code:?}")))
            })
            .transpose()?,
        availability: row.parsed("availability", Availability::parse)?,
        password_hash: row.text("password_hash")?,
        failed_logins: row.i32("failed_logins")?,
        locked_until: row.opt_time("locked_until")?,
        created_at: row.time("created_at")?,
    })
}

/// Fails with `Conflict { what: "email" }` when the email is taken.
pub(crate) fn insert<D: Driver>(user: &User) -> Sql<D> {
    Sql::<D>::new(concat!(
        "INSERT INTO users (",
        user_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .uuid(user.id.0)
    .uuid(user.workspace_id.0)
    .text(&user.email)
    .text(&user.name)
    .text(user.role.as_str())
    .opt_text(user.language.map(Language::as_str))
    .text(user.availability.as_str())
    .text(&user.password_hash)
    .i32(user.failed_logins)
    .opt_time(user.locked_until)
    .time(user.created_at)
}

pub(crate) fn get<D: Driver>(workspace_id: WorkspaceId, id: UserId) -> Select<D, User> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE workspace_id = $1 AND id = $2"
    ))
    .uuid(workspace_id.0)
    .uuid(id.0)
    .select(read_user)
}

pub(crate) fn find_by_email<D: Driver>(email: &str) -> Select<D, User> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE email = $1"
    ))
    .text(email)
    .select(read_user)
}

pub(crate) fn list<D: Driver>(workspace_id: WorkspaceId) -> Select<D, User> {
    Sql::<D>::new(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE workspace_id = $1 ORDER BY created_at, id"
    ))
    .uuid(workspace_id.0)
    .select(read_user)
}

/// Saves what users and admins may change: name, role, language, availability.
pub(crate) fn update<D: Driver>(user: &User) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE users SET name = $3, role = $4, language = $5, availability = $6
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(user.workspace_id.0)
    .uuid(user.id.0)
    .text(&user.name)
    .text(user.role.as_str())
    .opt_text(user.language.map(Language::as_str))
    .text(user.availability.as_str())
}

pub(crate) fn record_login<D: Driver>(
    id: UserId,
    failed_logins: i32,
    locked_until: Option<Timestamp>,
) -> Sql<D> {
    Sql::<D>::new("UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1")
        .uuid(id.0)
        .i32(failed_logins)
        .opt_time(locked_until)
}

fn read_session<D: Driver>(row: Columns<'_, D>) -> Result<Session> {
    Ok(Session {
        id_hash: row.text("id_hash")?,
        user_id: UserId(row.uuid("user_id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        csrf_token: row.text("csrf_token")?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
    })
}

pub(crate) fn insert_session<D: Driver>(session: &Session) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO sessions (id_hash, user_id, workspace_id, csrf_token, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .text(&session.id_hash)
    .uuid(session.user_id.0)
    .uuid(session.workspace_id.0)
    .text(&session.csrf_token)
    .time(session.created_at)
    .time(session.expires_at)
}

pub(crate) fn find_session<D: Driver>(id_hash: &str) -> Select<D, Session> {
    Sql::<D>::new(
        "SELECT id_hash, user_id, workspace_id, csrf_token, created_at, expires_at
        FROM sessions WHERE id_hash = $1",
    )
    .text(id_hash)
    .select(read_session)
}

pub(crate) fn delete_session<D: Driver>(id_hash: &str) -> Sql<D> {
    Sql::<D>::new("DELETE FROM sessions WHERE id_hash = $1").text(id_hash)
}

fn read_token<D: Driver>(row: Columns<'_, D>) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(row.uuid("id")?),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?),
        user_id: UserId(row.uuid("user_id")?),
        name: row.text("name")?,
        token_hash: row.text("token_hash")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn insert_token<D: Driver>(token: &ApiToken) -> Sql<D> {
    Sql::<D>::new(
        "INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .uuid(token.id.0)
    .uuid(token.workspace_id.0)
    .uuid(token.user_id.0)
    .text(&token.name)
    .text(&token.token_hash)
    .time(token.created_at)
}

pub(crate) fn find_token<D: Driver>(token_hash: &str) -> Select<D, ApiToken> {
    Sql::<D>::new(
        "SELECT id, workspace_id, user_id, name, token_hash, created_at
        FROM api_tokens WHERE token_hash = $1",
    )
    .text(token_hash)
    .select(read_token)
}
