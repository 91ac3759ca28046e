//! The agent app: `GET /` (its page) and `GET /assets/{file}` (its content-hashed scripts,
//! styles and images), served from the build output `web/dist` embedded in the binary
//! (docs/adr/0008). The page carries the Content-Security-Policy that forbids inline scripts;
//! the app talks to the API on the same origin with the session cookie.

use std::{
    collections::HashMap,
    hash::{Hash, Hasher},
    io::Write,
    sync::{Arc, LazyLock},
};

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use flate2::{Compression, write::GzEncoder};
use rust_embed::RustEmbed;

use crate::{ApiState, error::ApiError};

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Dist;

/// What the page may load: scripts and styles only from this origin (no inline script, no
/// inline style element), images also as data/blob URLs and, once an agent allows an email's
/// remote images, over https; network only to this origin (the API and its WebSocket).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob: https:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Files smaller than this are sent as they are; compressing them saves too little.
const GZIP_FROM_BYTES: usize = 1024;

/// One file of the build, ready to send.
struct Asset {
    bytes: Vec<u8>,
    /// The bytes gzipped, when that makes them smaller.
    gzipped: Option<Vec<u8>>,
    content_type: &'static str,
    etag: String,
}

/// Every file of the build by its path under `web/dist`, prepared once.
static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    Dist::iter()
        .filter_map(|path| {
            let file = Dist::get(&path)?;
            let bytes = file.data.into_owned();
            Some((path.to_string(), prepare(&path, bytes)))
        })
        .collect()
});

fn prepare(path: &str, bytes: Vec<u8>) -> Asset {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let content_type = content_type(path);
    let compressible = content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("image/svg");
    let gzipped = (compressible && bytes.len() >= GZIP_FROM_BYTES)
        .then(|| gzip(&bytes))
        .flatten()
        .filter(|gzipped| gzipped.len() < bytes.len());
    Asset {
        etag: format!("\"{:016x}\"", hasher.finish()),
        bytes,
        gzipped,
        content_type,
    }
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "webmanifest") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

pub fn router() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/", get(page))
        .route("/assets/{*file}", get(asset))
}

/// The app's page. Never cached without revalidation, so an upgrade reaches agents at once.
async fn page(headers: HeaderMap) -> Result<Response, ApiError> {
    let asset = ASSETS
        .get("index.html")
        .ok_or(ApiError::Domain(seam_core::Error::NotFound))?;
    Ok(send(asset, &headers, "no-cache", true))
}

/// A content-hashed file of the build: its name changes whenever its bytes do, so it may be
/// kept for a year.
async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let asset = ASSETS
        .get(&format!("assets/{file}"))
        .ok_or(ApiError::Domain(seam_core::Error::NotFound))?;
    Ok(send(
        asset,
        &headers,
        "public, max-age=31536000, immutable",
        false,
    ))
}

fn send(asset: &Asset, request: &HeaderMap, cache: &'static str, page: bool) -> Response {
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == asset.etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepts_gzip = request
            .get(header::ACCEPT_ENCODING)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accepted| {
                accepted.split(',').any(|coding| {
                    let mut parts = coding.split(';');
                    let name = parts.next().unwrap_or_default().trim();
                    let refused = parts.any(|parameter| {
                        parameter
                            .trim()
                            .strip_prefix("q=")
                            .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
                    });
                    name.eq_ignore_ascii_case("gzip") && !refused
                })
            });
        match (&asset.gzipped, accepts_gzip) {
            (Some(gzipped), true) => {
                let mut response = gzipped.clone().into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            _ => asset.bytes.clone().into_response(),
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_in_the_build() {
        let page = ASSETS.get("index.html").map(|asset| asset.content_type);
        assert_eq!(page, Some("text/html; charset=utf-8"));
    }

    #[test]
    fn large_text_is_gzipped_and_inflates_to_the_same_bytes() {
        let text = "const seam = 'agent app';\n".repeat(200);
        let asset = prepare("assets/app-abc.js", text.clone().into_bytes());
        let gzipped = asset.gzipped.unwrap();
        assert!(gzipped.len() < text.len());
        let mut inflated = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(gzipped.as_slice()),
            &mut inflated,
        )
        .unwrap();
        assert_eq!(inflated, text);
        assert_eq!(asset.content_type, "text/javascript; charset=utf-8");
    }

    #[test]
    fn images_are_sent_as_they_are() {
        let asset = prepare("assets/logo.png", vec![0; 4096]);
        assert!(asset.gzipped.is_none());
    }
}
