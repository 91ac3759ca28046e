//! The HTTP layer's one error type and the one place that turns errors into responses.
//! Internal errors are logged here and never echoed; nothing else in `api` picks statuses.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use seam_core::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a request can fail with: the domain's errors plus what only HTTP knows about.
#[derive(Debug)]
pub enum ApiError {
    /// An error from a core use case.
    Domain(Error),
    /// Login with a wrong email or password (the domain calls it `Unauthorized`).
    InvalidCredentials,
    /// A cookie-authenticated write without the matching `X-CSRF-Token` header.
    CsrfFailed,
    /// A WebSocket handshake whose `Origin` is not this server.
    OriginRejected,
    /// A widget WebSocket handshake from a page the channel does not allow.
    WidgetOriginRejected,
    /// A WebSocket endpoint called without a WebSocket handshake.
    WebSocketRequired,
    /// A media link with a wrong signature, or past its expiry.
    MediaLinkRejected,
    /// The body is not JSON at all (syntax error, truncated, wrong encoding).
    MalformedJson { reason: String },
    /// The body is JSON of the wrong shape (wrong type, missing field).
    InvalidBody {
        field: Option<String>,
        reason: String,
    },
    /// Query parameters that cannot be read at all.
    InvalidQuery { reason: String },
    /// The body is not declared as `application/json`.
    UnsupportedMediaType,
    /// An import body declared as neither `text/csv` nor `application/x-ndjson`.
    UnsupportedImportType,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The request took longer than the configured timeout.
    Timeout,
    /// No route has this path.
    RouteNotFound,
    /// The path exists, the method does not.
    MethodNotAllowed,
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError::Domain(error)
    }
}

/// The JSON shape of every error: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `not_found`, `invalid`, `csrf_failed`.
    pub code: &'static str,
    /// Human-readable explanation; never contains internal details.
    pub message: String,
    /// The offending input field, when one is to blame (e.g. `from.email`, `limit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `undeliverable`: the channels that can carry the message now, with the templates
    /// that can go where free-form text cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub alternatives: Option<Vec<seam_core::messaging::Alternative>>,
}

impl ApiError {
    /// Status, code, message and field: the single mapping from errors to what clients see.
    fn parts(self) -> (StatusCode, &'static str, String, Option<String>) {
        use StatusCode as S;
        match self {
            ApiError::Domain(error) => match error {
                Error::NotFound => (S::NOT_FOUND, "not_found", "not found".into(), None),
                Error::Conflict { what } => {
                    (S::CONFLICT, "conflict", format!("conflict: {what}"), None)
                }
                Error::Forbidden => (
                    S::FORBIDDEN,
                    "forbidden",
                    "you are not allowed to do this".into(),
                    None,
                ),
                Error::Unauthorized => (
                    S::UNAUTHORIZED,
                    "unauthorized",
                    "authentication required".into(),
                    None,
                ),
                Error::Locked { until } => (
                    S::LOCKED,
                    "account_locked",
                    format!(
                        "too many failed logins; the account is locked until {}",
                        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                    None,
                ),
                Error::Invalid { field, reason } => (
                    S::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("{field} {reason}"),
                    Some(field),
                ),
                Error::Refused { reason } => (S::UNPROCESSABLE_ENTITY, "refused", reason, None),
                Error::Undeliverable { reason, .. } => {
                    (S::UNPROCESSABLE_ENTITY, "undeliverable", reason, None)
                }
                Error::Unavailable(what) => {
                    tracing::warn!(error = %what, "dependency unavailable");
                    let message = "the service is temporarily unavailable; try again".into();
                    (S::SERVICE_UNAVAILABLE, "unavailable", message, None)
                }
                Error::Internal(what) => {
                    tracing::error!(error = %what, "internal error");
                    (
                        S::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal server error".into(),
                        None,
                    )
                }
            },
            ApiError::InvalidCredentials => (
                S::UNAUTHORIZED,
                "invalid_credentials",
                "the email or password is wrong".into(),
                None,
            ),
            ApiError::CsrfFailed => (
                S::FORBIDDEN,
                "csrf_failed",
                "missing or wrong X-CSRF-Token header".into(),
                None,
            ),
            ApiError::WidgetOriginRejected => (
                S::FORBIDDEN,
                "forbidden",
                "this site is not among the channel's allowed_origins".into(),
                None,
            ),
            ApiError::OriginRejected => (
                S::FORBIDDEN,
                "forbidden",
                "the Origin header does not match this server".into(),
                None,
            ),
            ApiError::MediaLinkRejected => (
                S::FORBIDDEN,
                "forbidden",
                "this media link is invalid or has expired".into(),
                None,
            ),
            ApiError::WebSocketRequired => (
                S::BAD_REQUEST,
                "websocket_required",
                "this endpoint only accepts WebSocket handshakes".into(),
                None,
            ),
            ApiError::MalformedJson { reason } => (
                S::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {reason}"),
                None,
            ),
            ApiError::InvalidBody { field, reason } => {
                (S::BAD_REQUEST, "invalid_body", reason, field)
            }
            ApiError::InvalidQuery { reason } => (S::BAD_REQUEST, "invalid_query", reason, None),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json".into(),
                None,
            ),
            ApiError::UnsupportedImportType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file as text/csv or application/x-ndjson".into(),
                None,
            ),
            ApiError::PayloadTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is larger than this server accepts".into(),
                None,
            ),
            ApiError::Timeout => (
                S::REQUEST_TIMEOUT,
                "timeout",
                "the request took too long".into(),
                None,
            ),
            ApiError::RouteNotFound => (S::NOT_FOUND, "not_found", "no such endpoint".into(), None),
            ApiError::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not support this method".into(),
                None,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            ApiError::Domain(Error::Locked { until }) => {
                Some((*until - chrono::Utc::now()).num_seconds().max(1))
            }
            _ => None,
        };
        let alternatives = match &self {
            ApiError::Domain(Error::Undeliverable { alternatives, .. }) => {
                Some(alternatives.clone())
            }
            _ => None,
        };
        let (status, code, message, field) = self.parts();
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    field,
                    alternatives,
                },
            }),
        )
            .into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Fallback for paths no route matches, so that even a typo gets our JSON shape.
pub(crate) async fn route_not_found() -> ApiError {
    ApiError::RouteNotFound
}

/// Fallback for a known path with a method it does not serve.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn render(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn every_domain_error_has_its_status_and_code() {
        let until = chrono::Utc::now() + chrono::Duration::minutes(15);
        let cases = [
            (Error::NotFound, 404, "not_found"),
            (Error::conflict("email taken"), 409, "conflict"),
            (Error::Forbidden, 403, "forbidden"),
            (Error::Unauthorized, 401, "unauthorized"),
            (Error::Locked { until }, 423, "account_locked"),
            (
                Error::invalid("limit", "must be at most 100"),
                422,
                "invalid",
            ),
            (
                Error::Refused {
                    reason: "no webhook".into(),
                },
                422,
                "refused",
            ),
            (Error::Unavailable("db down".into()), 503, "unavailable"),
            (Error::internal("boom"), 500, "internal"),
        ];
        for (error, status, code) in cases {
            let (actual_status, body) = render(ApiError::from(error)).await;
            assert_eq!(actual_status.as_u16(), status, "{code}");
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["message"].is_string());
        }
    }

    #[tokio::test]
    async fn an_invalid_input_names_its_field() {
        let (_, body) = render(Error::invalid("from.email", "has no @").into()).await;
        assert_eq!(body["error"]["field"], "from.email");
        assert_eq!(body["error"]["message"], "from.email has no @");
    }

    #[tokio::test]
    async fn internal_and_unavailable_errors_never_echo_their_cause() {
        for error in [
            Error::internal("password=hunter2"),
            Error::Unavailable("dsn secret".into()),
        ] {
            let (_, body) = render(error.into()).await;
            let text = body.to_string();
            assert!(
                !text.contains("hunter2") && !text.contains("secret"),
                "{text}"
            );
            assert!(body["error"].get("field").is_none());
        }
    }

    #[tokio::test]
    async fn a_locked_account_says_until_when_and_when_to_retry() {
        let until = chrono::Utc::now() + chrono::Duration::minutes(15);
        let response = ApiError::from(Error::Locked { until }).into_response();
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let (_, body) = render(Error::Locked { until }.into()).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&until.format("%Y-%m-%dT%H:%M").to_string()),
            "{message}"
        );
    }

    #[tokio::test]
    async fn http_only_failures_have_their_own_codes() {
        let cases = [
            (ApiError::InvalidCredentials, 401, "invalid_credentials"),
            (ApiError::CsrfFailed, 403, "csrf_failed"),
            (ApiError::MediaLinkRejected, 403, "forbidden"),
            (ApiError::PayloadTooLarge, 413, "payload_too_large"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported_media_type",
            ),
            (ApiError::Timeout, 408, "timeout"),
            (
                ApiError::MalformedJson {
                    reason: "EOF".into(),
                },
                400,
                "malformed_json",
            ),
            (ApiError::RouteNotFound, 404, "not_found"),
            (ApiError::MethodNotAllowed, 405, "method_not_allowed"),
        ];
        for (error, status, code) in cases {
            let (actual_status, body) = render(error).await;
            assert_eq!(actual_status.as_u16(), status, "{code}");
            assert_eq!(body["error"]["code"], code);
        }
    }
}
