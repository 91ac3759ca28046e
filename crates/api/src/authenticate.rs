//! Who is asking: the [`Authenticated`] extractor (API token or session cookie, the latter with
//! a CSRF check on writes) and the session cookies. Credentials are checked by core; nothing
//! here logs or stores a secret.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, Method, header, request::Parts},
};
use seam_core::{
    Error, Timestamp,
    auth::{self, secrets_equal},
    user::Actor,
};

use crate::{ApiState, error::ApiError};

/// Name of the HttpOnly cookie holding the session secret.
pub const SESSION_COOKIE: &str = "seam_session";
/// Name of the script-readable cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "seam_csrf";
/// Header a cookie-authenticated write must carry, equal to the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The acting user of a request. Extracting it authenticates the request: 401 without a valid
/// credential, 403 `csrf_failed` for a cookie-authenticated write without the CSRF header.
#[derive(Clone, Debug)]
pub struct Authenticated(pub Actor);

/// What the client presented.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    Bearer(&'a str),
    Session(&'a str),
}

/// The credential of a request. An `Authorization` header wins over cookies; one that is not a
/// bearer token is refused rather than ignored, so a client never silently falls back to a
/// cookie it did not mean to use.
pub fn credential(headers: &HeaderMap) -> Result<Credential<'_>, Error> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return bearer_token(value.to_str().ok())
            .map(Credential::Bearer)
            .ok_or(Error::Unauthorized);
    }
    cookie(headers, SESSION_COOKIE)
        .map(Credential::Session)
        .ok_or(Error::Unauthorized)
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer_token(value: Option<&str>) -> Option<&str> {
    let (scheme, token) = value?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of a cookie, across every `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// Methods that change nothing need no CSRF token.
pub fn needs_csrf(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a cookie-authenticated request passes the CSRF check.
pub fn csrf_passes(method: &Method, expected: &str, presented: Option<&str>) -> bool {
    if !needs_csrf(method) {
        return true;
    }
    presented.is_some_and(|presented| !expected.is_empty() && secrets_equal(expected, presented))
}

impl FromRequestParts<Arc<ApiState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, ApiError> {
        let store = state.store.as_ref();
        match credential(&parts.headers)? {
            Credential::Bearer(token) => {
                let user = auth::authenticate_token(store, token).await?;
                Ok(Authenticated(user.actor()))
            }
            Credential::Session(secret) => {
                let (session, user) =
                    auth::authenticate_session(store, secret, chrono::Utc::now()).await?;
                let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !csrf_passes(&parts.method, &session.csrf_token, presented) {
                    return Err(ApiError::CsrfFailed);
                }
                Ok(Authenticated(user.actor()))
            }
        }
    }
}

/// `Set-Cookie` values for a new session: the HttpOnly session secret and the readable CSRF
/// token, both expiring with the session.
pub fn session_cookies(
    secret: &str,
    csrf_token: &str,
    expires_at: Timestamp,
    now: Timestamp,
    secure: bool,
) -> [String; 2] {
    let max_age = (expires_at - now).num_seconds().max(0);
    let secure = if secure { "; Secure" } else { "" };
    [
        format!(
            "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
        ),
        format!("{CSRF_COOKIE}={csrf_token}; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"),
    ]
}

/// `Set-Cookie` values that remove both session cookies.
pub fn cleared_cookies(secure: bool) -> [String; 2] {
    let secure = if secure { "; Secure" } else { "" };
    [
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"),
        format!("{CSRF_COOKIE}=; SameSite=Lax; Path=/; Max-Age=0{secure}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_bearer_header_wins_over_the_session_cookie() {
        let h = headers(&[
            ("authorization", "Bearer seam_abc"),
            ("cookie", "seam_session=s1"),
        ]);
        assert_eq!(credential(&h).unwrap(), Credential::Bearer("seam_abc"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_across_headers() {
        let h = headers(&[
            ("cookie", "theme=dark"),
            ("cookie", "a=1; seam_session=s1; b=2"),
        ]);
        assert_eq!(credential(&h).unwrap(), Credential::Session("s1"));
    }

    #[test]
    fn no_credential_or_a_non_bearer_authorization_is_unauthorized() {
        assert!(matches!(
            credential(&headers(&[])),
            Err(Error::Unauthorized)
        ));
        let basic = headers(&[
            ("authorization", "Basic dXNlcjpwYXNz"),
            ("cookie", "seam_session=s"),
        ]);
        assert!(matches!(credential(&basic), Err(Error::Unauthorized)));
        assert!(credential(&headers(&[("authorization", "Bearer ")])).is_err());
        assert!(credential(&headers(&[("cookie", "seam_session=")])).is_err());
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(Some("bearer tok")), Some("tok"));
        assert_eq!(bearer_token(Some("BEARER  tok ")), Some("tok"));
        assert_eq!(bearer_token(Some("Token tok")), None);
    }

    #[test]
    fn reads_need_no_csrf_token() {
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(csrf_passes(&method, "expected", None));
        }
    }

    #[test]
    fn writes_need_the_sessions_exact_csrf_token() {
        for method in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            assert!(csrf_passes(&method, "expected", Some("expected")));
            assert!(!csrf_passes(&method, "expected", None));
            assert!(!csrf_passes(&method, "expected", Some("expecte")));
            assert!(!csrf_passes(&method, "expected", Some("")));
            assert!(!csrf_passes(&method, "", Some("")));
        }
    }

    #[test]
    fn session_cookies_are_http_only_lax_and_secure_when_asked() {
        let now = chrono::Utc::now();
        let expires = now + chrono::Duration::hours(1);
        let [session, csrf] = session_cookies("s3cret", "c5rf", expires, now, true);
        assert!(session.starts_with("seam_session=s3cret; HttpOnly; SameSite=Lax; Path=/"));
        assert!(session.contains("Max-Age=3600") && session.ends_with("; Secure"));
        assert!(csrf.starts_with("seam_csrf=c5rf;") && !csrf.contains("HttpOnly"));
        let [plain, _] = session_cookies("s", "c", expires, now, false);
        assert!(!plain.contains("Secure"));
        let [cleared, _] = cleared_cookies(false);
        assert!(cleared.starts_with("seam_session=;") && cleared.contains("Max-Age=0"));
    }
}
