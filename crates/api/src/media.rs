//! `GET /media/{attachment_id}`: a reply's file, for the messaging provider that delivers it.
//! Providers fetch files by link and hold no Seam login, so the link is the credential:
//! `?expires=<unix seconds>&signature=<hex HMAC-SHA256 of "{attachment_id}.{expires}">`, keyed
//! with the server's media key and valid for an hour. The signature is checked in constant time
//! before anything is looked up; a wrong or expired link is 403.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    response::Response,
    routing::get,
};
use ring::hmac;
use seam_core::{Timestamp, ids::AttachmentId};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    ApiState,
    attachments::{INLINE_TYPES, file_response, percent_encode},
    error::ApiError,
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/media/{attachment_id}", get(serve))
}

/// How long a media link stays valid: long enough for a provider's retries, short enough that
/// a link seen in a log or a chat export soon stops working.
pub const LINK_LIFETIME_SECONDS: i64 = 3600;

fn key(media_key: &[u8; 32]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, media_key)
}

fn signed_text(attachment_id: &str, expires: i64) -> String {
    format!("{attachment_id}.{expires}")
}

/// `{public_url}/media/{id}?expires=…&signature=…`, valid for an hour from `now`.
pub fn link(public_url: &str, media_key: &[u8; 32], id: AttachmentId, now: Timestamp) -> String {
    let expires = now.timestamp() + LINK_LIFETIME_SECONDS;
    let id = id.to_string();
    let signature = hmac::sign(&key(media_key), signed_text(&id, expires).as_bytes());
    format!(
        "{public_url}/media/{id}?expires={expires}&signature={}",
        hex::encode(signature)
    )
}

/// Whether the link's signature is the server's for this id and expiry, and it has not expired.
fn verify(
    media_key: &[u8; 32],
    attachment_id: &str,
    expires: &str,
    signature: &str,
    now: Timestamp,
) -> bool {
    let (Ok(expires), Ok(signature)) = (expires.parse::<i64>(), hex::decode(signature)) else {
        return false;
    };
    let genuine = hmac::verify(
        &key(media_key),
        signed_text(attachment_id, expires).as_bytes(),
        &signature,
    )
    .is_ok();
    genuine && now.timestamp() < expires
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Unix seconds after which the link no longer works.
    pub expires: Option<String>,
    /// Lowercase hex HMAC-SHA256 of `{attachment_id}.{expires}`.
    pub signature: Option<String>,
}

/// Serves a reply's file to a provider holding its signed link.
#[utoipa::path(
    get, path = "/media/{attachment_id}", tag = "conversations",
    params(("attachment_id" = uuid::Uuid, Path, description = "Attachment id"), LinkQuery),
    responses(
        (status = 200, description = "The file's bytes, with its content type"),
        (status = 403, description = "A wrong or expired link", body = crate::error::ErrorBody),
        (status = 404, description = "No such attachment", body = crate::error::ErrorBody),
    ),
)]
pub(crate) async fn serve(
    State(state): State<Arc<ApiState>>,
    Path(attachment_id): Path<String>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(LinkQuery {
        expires: Some(expires),
        signature: Some(signature),
    })) = query
    else {
        return Err(ApiError::MediaLinkRejected);
    };
    let now = chrono::Utc::now();
    if !verify(
        &state.messaging.media_key,
        &attachment_id,
        &expires,
        &signature,
        now,
    ) {
        return Err(ApiError::MediaLinkRejected);
    }
    let id = AttachmentId::parse(&attachment_id).ok_or(seam_core::Error::NotFound)?;
    let (attachment, bytes) =
        seam_core::uploads::media_file(state.store.as_ref(), state.files.as_ref(), id).await?;
    let inline = INLINE_TYPES.contains(&attachment.content_type.as_str());
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii_fallback(&attachment.file_name),
        percent_encode(&attachment.file_name)
    );
    // The provider gets the file's own type, whatever it is: it sends it on as that type.
    Ok(file_response(bytes, &attachment.content_type, &disposition))
}

/// The file name for clients that ignore `filename*` (RFC 6266 §4.3): ASCII, no quotes.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn parts(link: &str) -> (String, String, String) {
        let rest = link.strip_prefix("https://seam.example/media/").unwrap();
        let (id, query) = rest.split_once('?').unwrap();
        let (expires, signature) = query
            .strip_prefix("expires=")
            .unwrap()
            .split_once("&signature=")
            .unwrap();
        (id.into(), expires.into(), signature.into())
    }

    #[test]
    fn a_link_is_valid_for_an_hour_for_its_attachment_only() {
        let now = chrono::Utc::now();
        let id = AttachmentId::new();
        let link = link("https://seam.example", &KEY, id, now);
        let (linked_id, expires, signature) = parts(&link);
        assert_eq!(linked_id, id.to_string());
        assert_eq!(
            expires.parse::<i64>().unwrap(),
            now.timestamp() + LINK_LIFETIME_SECONDS
        );
        assert_eq!(signature.len(), 64);
        assert!(verify(&KEY, &linked_id, &expires, &signature, now));

        let later = now + chrono::Duration::seconds(LINK_LIFETIME_SECONDS);
        assert!(!verify(&KEY, &linked_id, &expires, &signature, later));
        let other = AttachmentId::new().to_string();
        assert!(!verify(&KEY, &other, &expires, &signature, now));
        let extended = (now.timestamp() + 2 * LINK_LIFETIME_SECONDS).to_string();
        assert!(!verify(&KEY, &linked_id, &extended, &signature, now));
        assert!(!verify(&[8; 32], &linked_id, &expires, &signature, now));
        assert!(!verify(&KEY, &linked_id, &expires, "not hex", now));
        assert!(!verify(&KEY, &linked_id, "soon", &signature, now));
    }

    #[test]
    fn a_file_name_falls_back_to_ascii_without_quotes() {
        assert_eq!(ascii_fallback("فاتورة 1.pdf"), "______ 1.pdf");
        assert_eq!(ascii_fallback("a\"b\\c.txt"), "a_b_c.txt");
    }
}
