//! Our own JSON, query and path extractors, so that every rejection leaves in our JSON error
//! shape with a reason, never as axum's plain text. Parses requests; decides nothing.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use seam_core::Error;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. Not JSON → 400 `malformed_json`; JSON of the wrong shape → 400 `invalid_body`
/// with the path of the offending field; a field the type does not know (where the type denies
/// unknown fields) → 422 `invalid` with that field; too large → 413.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !declares_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::MalformedJson {
                        reason: "the body could not be read".into(),
                    }
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn declares_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises a JSON body, classifying failures as described on [`ApiJson`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = (path != ".").then_some(path);
        classify(error.into_inner(), field)
    })?;
    deserializer.end().map_err(|error| classify(error, None))?;
    Ok(value)
}

fn classify(error: serde_json::Error, field: Option<String>) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::MalformedJson {
            reason: error.to_string(),
        },
        Category::Data => {
            let reason = error.to_string();
            match unknown_field_name(&reason) {
                // serde_path_to_error's path already ends with the unknown key.
                Some(name) => {
                    let field = field.unwrap_or_else(|| name.to_string());
                    ApiError::Domain(Error::invalid(field, "is not a known field"))
                }
                None => {
                    let reason = match &field {
                        Some(field) => format!("{field}: {reason}"),
                        None => reason,
                    };
                    ApiError::InvalidBody { field, reason }
                }
            }
        }
    }
}

/// The key named by serde's "unknown field `x`, expected …" message.
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Query parameters; an unreadable query string → 400 `invalid_query`. Give targets
/// `Option<String>` fields and parse values with [`crate::page`] helpers, so that bad values
/// are 422s naming their field.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::InvalidQuery {
                reason: rejection.body_text(),
            })
    }
}

/// Path parameters; anything that does not parse (a malformed uuid) is 404, exactly like an
/// id that does not exist.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| ApiError::Domain(Error::NotFound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        text: String,
        from: From,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct From {
        email: Option<String>,
    }

    #[test]
    fn broken_json_is_malformed() {
        for body in [
            &b"{"[..],
            b"not json",
            b"{\"text\": \"a\", \"from\": {}} trailing",
            b"",
        ] {
            let error = parse_json::<Body>(body).unwrap_err();
            assert!(matches!(error, ApiError::MalformedJson { .. }), "{error:?}");
        }
    }

    #[test]
    fn a_wrong_type_is_a_bad_body_naming_the_field() {
        let error = parse_json::<Body>(br#"{"text": 5, "from": {}}"#).unwrap_err();
        let ApiError::InvalidBody { field, reason } = error else {
            panic!("{error:?}")
        };
        assert_eq!(field.as_deref(), Some("text"));
        assert!(reason.contains("invalid type"), "{reason}");
    }

    #[test]
    fn a_missing_field_is_a_bad_body() {
        let error = parse_json::<Body>(br#"{"from": {}}"#).unwrap_err();
        let ApiError::InvalidBody { reason, .. } = error else {
            panic!("{error:?}")
        };
        assert!(reason.contains("missing field `text`"), "{reason}");
    }

    #[test]
    fn an_unknown_field_in_a_strict_object_is_invalid_with_its_full_path() {
        let error = parse_json::<Body>(br#"{"text": "hi", "from": {"nick": "x"}}"#).unwrap_err();
        let ApiError::Domain(Error::Invalid { field, .. }) = error else {
            panic!("{error:?}")
        };
        assert_eq!(field, "from.nick");
    }

    #[test]
    fn json_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(!declares_json(&headers));
        for (value, expected) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(declares_json(&headers), expected, "{value}");
        }
    }
}
