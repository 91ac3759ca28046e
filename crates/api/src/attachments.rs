//! `GET /api/v1/attachments/{id}`: the bytes of a file that came with a message. Images are
//! shown inline; everything else downloads, and nothing a browser could run is ever rendered
//! from Seam's origin.

use std::sync::Arc;

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use seam_core::ids::AttachmentId;

use crate::{ApiState, authenticate::Authenticated, error::ApiError, extract::ApiPath};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/v1/attachments/{id}", get(download))
}

/// Types safe to show inline: raster images only (SVG can carry script).
pub(crate) const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Downloads one attachment.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}", tag = "conversations",
    params(("id" = uuid::Uuid, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file's bytes"),
        (status = 404, description = "No such attachment", body = crate::error::ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn download(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<AttachmentId>,
) -> Result<Response, ApiError> {
    let (attachment, bytes) =
        seam_core::email::get_attachment(state.store.as_ref(), state.files.as_ref(), &actor, id)
            .await?;
    let inline = INLINE_TYPES.contains(&attachment.content_type.as_str());
    let content_type = if inline {
        attachment.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encode(&attachment.file_name)
    );
    Ok(file_response(bytes, content_type, &disposition))
}

/// A stored file as a response: its type and disposition, cached privately for an hour, never
/// sniffed, and sandboxed so that nothing in it runs with Seam's origin.
pub(crate) fn file_response(bytes: Vec<u8>, content_type: &str, disposition: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    response
}

/// RFC 5987 encoding of a file name for `filename*`.
pub(crate) fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_percent_encoded_for_the_header() {
        assert_eq!(
            super::percent_encode("فاتورة 1.pdf"),
            "%D9%81%D8%A7%D8%AA%D9%88%D8%B1%D8%A9%201.pdf"
        );
        assert_eq!(super::percent_encode("a\"b;c"), "a%22b%3Bc");
    }
}
