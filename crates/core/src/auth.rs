//! Authentication: argon2id password hashes, login throttling and lock-out, sessions with a
//! CSRF token, and API tokens. Secrets are stored only as hashes and compared in constant time.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    Error, Result, Timestamp,
    identity::Identity,
    ids::{ApiTokenId, UserId, WorkspaceId},
    ports::Store,
    user::{Actor, Permission, User},
};

/// How long a session lives.
pub const SESSION_LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// After this many consecutive failures the account locks.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a lock lasts.
pub const LOCK_SECS: i64 = 15 * 60;
/// Each failure before the lock slows the next answer by this much more.
pub const DELAY_PER_FAILURE_MS: u64 = 200;

pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < 8 {
        return Err(Error::invalid(
            "password",
            "must have at least 8 characters",
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(Error::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A random secret of 32 bytes, URL-safe base64.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The form in which session ids and API tokens are stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time equality for secrets, tokens and signatures.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub id_hash: String,
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub created_at: Timestamp,
}

/// A successful login: the cookie value and CSRF token, shown once.
#[derive(Debug)]
pub struct LoggedIn {
    pub user: User,
    pub session_secret: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// A failed login carries how long the caller should wait before answering.
#[derive(Debug)]
pub struct LoginFailure {
    pub error: Error,
    pub delay_ms: u64,
}

/// Checks email and password; counts failures, slows them down and locks the account.
pub async fn login(
    store: &dyn Store,
    email: &str,
    password: &str,
    now: Timestamp,
) -> Result<LoggedIn, LoginFailure> {
    let unauthorized = |delay_ms| LoginFailure {
        error: Error::Unauthorized,
        delay_ms,
    };
    let Ok(email) = Identity::parse_email("email", email) else {
        return Err(unauthorized(DELAY_PER_FAILURE_MS));
    };
    let user = match store.find_user_by_email(&email.value).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            // Spend the same effort as a real check so timing does not reveal accounts.
            let _ = verify_password(password, DUMMY_HASH);
            return Err(unauthorized(DELAY_PER_FAILURE_MS));
        }
        Err(error) => return Err(LoginFailure { error, delay_ms: 0 }),
    };
    if let Some(until) = user.locked_until.filter(|until| *until > now) {
        return Err(LoginFailure {
            error: Error::Locked { until },
            delay_ms: 0,
        });
    }
    if !verify_password(password, &user.password_hash) {
        // A lock that has expired starts a fresh count.
        let previous = if user.locked_until.is_some() {
            0
        } else {
            user.failed_logins
        };
        let failures = previous + 1;
        let locked_until =
            (failures >= MAX_FAILED_LOGINS).then(|| now + chrono::Duration::seconds(LOCK_SECS));
        if let Err(error) = store
            .record_login_failure(user.id, failures, locked_until)
            .await
        {
            return Err(LoginFailure { error, delay_ms: 0 });
        }
        return Err(match locked_until {
            Some(until) => LoginFailure {
                error: Error::Locked { until },
                delay_ms: 0,
            },
            None => unauthorized(DELAY_PER_FAILURE_MS * failures as u64),
        });
    }
    let session_secret = random_secret();
    let csrf_token = random_secret();
    let session = Session {
        id_hash: secret_hash(&session_secret),
        user_id: user.id,
        workspace_id: user.workspace_id,
        csrf_token: csrf_token.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(SESSION_LIFETIME_SECS),
    };
    let stored = async {
        store.record_login_success(user.id).await?;
        store.insert_session(&session).await
    };
    if let Err(error) = stored.await {
        return Err(LoginFailure { error, delay_ms: 0 });
    }
    Ok(LoggedIn {
        user,
        session_secret,
        csrf_token,
        expires_at: session.expires_at,
    })
}

/// A valid argon2id hash of a random string, used to equalise timing for unknown accounts.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2VhbWR1bW15c2FsdA$2GQ0l3k2Jb9mF2zYr1oXb2m2cQ9x8bUu3l7b9c5mXk0";

/// The session behind a cookie value, with the user it belongs to, if still valid.
pub async fn authenticate_session(
    store: &dyn Store,
    session_secret: &str,
    now: Timestamp,
) -> Result<(Session, User)> {
    let session = store
        .find_session(&secret_hash(session_secret))
        .await?
        .filter(|session| session.expires_at > now)
        .ok_or(Error::Unauthorized)?;
    let user = store
        .get_user(session.workspace_id, session.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    Ok((session, user))
}

pub async fn logout(store: &dyn Store, session_secret: &str) -> Result<()> {
    store.delete_session(&secret_hash(session_secret)).await
}

/// The user behind an API token.
pub async fn authenticate_token(store: &dyn Store, token: &str) -> Result<User> {
    let stored = store
        .find_api_token(&secret_hash(token))
        .await?
        .ok_or(Error::Unauthorized)?;
    store
        .get_user(stored.workspace_id, stored.user_id)
        .await?
        .ok_or(Error::Unauthorized)
}

/// Creates an API token for the actor; the plain token is returned once and never stored.
pub async fn create_api_token(
    store: &dyn Store,
    actor: &Actor,
    name: &str,
    now: Timestamp,
) -> Result<(ApiToken, String)> {
    actor.require(Permission::CreateApiTokens)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name", "must have 1 to 100 characters"));
    }
    let secret = format!("seam_{}", random_secret());
    let token = ApiToken {
        id: ApiTokenId::new(),
        workspace_id: actor.workspace_id,
        user_id: actor.user_id,
        name: name.to_string(),
        token_hash: secret_hash(&secret),
        created_at: now,
    };
    store.insert_api_token(&token).await?;
    Ok((token, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash_password("short"), Err(Error::Invalid { .. })));
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_accounts_cost_the_same() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
