//! The one error type of the domain. No storage or HTTP types here: `store` maps its errors
//! into these variants and `api` maps these variants to responses in one place.

/// Result of every domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or exists in another workspace (never say which).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; `what` names the rule for the caller.
    #[error("conflict: {what}")]
    Conflict { what: String },
    /// The actor lacks the permission.
    #[error("forbidden")]
    Forbidden,
    /// Not authenticated, or the credential is wrong.
    #[error("unauthorized")]
    Unauthorized,
    /// The account is locked after repeated failed logins.
    #[error("account locked until {until}")]
    Locked { until: crate::Timestamp },
    /// Input that cannot become a domain value.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The action is not allowed in the current state (e.g. a channel that cannot deliver).
    #[error("{reason}")]
    Refused { reason: String },
    /// A message that cannot go on the chosen channel now (a closed window, an opt-out), with
    /// the channels and templates that can carry it.
    #[error("{reason}")]
    Undeliverable {
        reason: String,
        alternatives: Vec<crate::messaging::Alternative>,
    },
    /// A dependency (database, bus) is not reachable right now.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure below us; logged, never shown to clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn conflict(what: impl Into<String>) -> Self {
        Error::Conflict { what: what.into() }
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        Error::Internal(what.to_string())
    }
}
