//! Turns sqlx errors into `seam_core::Error`: unique violations become `Conflict` named after the
//! rule, lost connections `Unavailable`, the rest `Internal`. Never copies parameter values
//! (personal data) into the text: only codes, constraint, table and column names.

use seam_core::{
    Error,
    attributes::ATTRIBUTE_KEY_TAKEN,
    ports::{IDENTITY_TAKEN, TRANSACTION_CONFLICT},
    tracking::EVENT_MESSAGE_ID_TAKEN,
};

/// Unique rules and the name callers see: (PostgreSQL constraint, SQLite column list, name).
const UNIQUE_RULES: &[(&str, &str, &str)] = &[
    ("users_email_key", "users.email", "email"),
    (
        "messages_channel_id_provider_message_id_key",
        "messages.channel_id, messages.provider_message_id",
        "provider_message_id",
    ),
    (
        "identities_pkey",
        "identities.workspace_id, identities.kind, identities.value",
        IDENTITY_TAKEN,
    ),
    ("jobs_dedupe_key_key", "jobs.dedupe_key", "dedupe_key"),
    (
        "attribute_definitions_pkey",
        "attribute_definitions.workspace_id, attribute_definitions.key",
        ATTRIBUTE_KEY_TAKEN,
    ),
    (
        "events_message_id_key",
        "events.workspace_id, events.message_id",
        EVENT_MESSAGE_ID_TAKEN,
    ),
    (
        "api_tokens_token_hash_key",
        "api_tokens.token_hash",
        "token_hash",
    ),
];

/// Maps an error of either driver.
pub(crate) fn database_error(error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::Database(database) => from_database(database.as_ref()),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Error::Unavailable(format!("database: {error}")),
        sqlx::Error::ColumnDecode { index, .. } => {
            Error::internal(format!("database column {index} could not be decoded"))
        }
        other => Error::internal(format!("database: {other}")),
    }
}

fn from_database(error: &dyn sqlx::error::DatabaseError) -> Error {
    let code = error
        .code()
        .map(|code| code.into_owned())
        .unwrap_or_default();
    if error.is_unique_violation() {
        return Error::conflict(unique_rule(error));
    }
    if let Some(postgres) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return match &code[..code.len().min(2)] {
            // Connection exceptions, insufficient resources, operator intervention.
            "08" | "53" | "57" => Error::Unavailable(format!("database {code}")),
            // Serialization failure and deadlock: the use case may run again.
            "40" => Error::conflict(TRANSACTION_CONFLICT),
            // Data exceptions may quote the offending value: keep only the code.
            "22" => Error::internal(format!("database {code}")),
            _ => Error::internal(format!("database {code}: {}", postgres.message())),
        };
    }
    // SQLite's messages name tables and columns but never quote bound values.
    match code.as_str() {
        // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
        "5" | "6" | "261" | "262" | "517" => {
            Error::Unavailable(format!("database is busy ({code})"))
        }
        _ => Error::internal(format!("database {code}: {}", error.message())),
    }
}

fn unique_rule(error: &dyn sqlx::error::DatabaseError) -> String {
    let constraint = error.constraint();
    let message = error.message();
    for (postgres, sqlite, name) in UNIQUE_RULES {
        if constraint == Some(*postgres) || message.ends_with(sqlite) {
            return (*name).to_string();
        }
    }
    match constraint {
        Some(constraint) => constraint.to_string(),
        None => message.rsplit(": ").next().unwrap_or("unique").to_string(),
    }
}
