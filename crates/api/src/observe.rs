//! Per-request observability: the request id, one tracing span with method, route, status and
//! latency, and the HTTP metrics. Never records bodies, cookies, credentials or raw URLs.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// The request id header, read from clients and proxies and echoed on every response.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Whether a client-supplied request id is kept. Anything long or unusual is replaced, so the
/// header cannot flood or forge log lines.
pub fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(byte))
}

/// The request's id: the client's when acceptable, else a fresh time-ordered one.
fn request_id(request: &Request) -> HeaderValue {
    match request.headers().get(&REQUEST_ID_HEADER) {
        Some(value) if acceptable_request_id(value) => value.clone(),
        _ => HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
    }
}

/// The route label: the matched path template, so `/conversations/{id}` is one series however
/// many ids are requested; paths no route matched share one label.
pub fn route_label(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string())
}

/// The method label, bounded so that invented methods cannot grow the metric series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware: gives the request its id, runs it inside its span, then logs and counts the
/// outcome and echoes the id on the response. Outermost, so it sees every answer.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = route_label(&request);
    let id = request_id(&request);
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER.clone(), id.clone());
    let request_id = id.to_str().unwrap_or_default().to_string();
    let span = tracing::info_span!(
        "http_request",
        method,
        route = %route,
        request_id = %request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    response.headers_mut().insert(REQUEST_ID_HEADER.clone(), id);
    let latency = started.elapsed();
    let status = response.status().as_u16();
    span.record("status", status);
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::info!("request finished"));
    metrics::counter!(
        "http_requests_total",
        "method" => method, "route" => route.clone(), "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(latency.as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_request_ids_are_kept_and_odd_ones_are_not() {
        for kept in [
            "abc-123",
            "0192f1c2-7e1a-7c3b-9d4e-5f6a7b8c9d0e",
            "trace.id:42",
        ] {
            assert!(
                acceptable_request_id(&HeaderValue::from_static(kept)),
                "{kept}"
            );
        }
        let long = "a".repeat(129);
        for dropped in ["", "with space", "quote\"d", long.as_str()] {
            let value = HeaderValue::from_str(dropped).unwrap();
            assert!(!acceptable_request_id(&value), "{dropped}");
        }
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
