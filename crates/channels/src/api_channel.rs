//! The API channel's outbound side: events and replies POSTed as JSON to the channel's
//! `webhook_url`, signed like Stripe's webhooks with HMAC-SHA256 over `"<t>.<body>"` in the
//! header `Seam-Signature: t=<unix seconds>,v1=<hex>`. No database access.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "Seam-Signature";

/// The signature header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // `new_from_slice` only rejects key lengths for fixed-key MACs; HMAC has none.
    #[allow(clippy::expect_used)]
    Hmac::<Sha256>::new_from_slice(b"seam").expect("HMAC takes any key length")
}

/// Checks a `Seam-Signature` header as a receiver would: constant-time, within `tolerance` of
/// `now` (unix seconds) to stop replays.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signature = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    mac(secret, timestamp, body)
        .verify_slice(&signature)
        .is_ok()
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Delivered,
    /// Worth trying again (network error, 408, 429, 5xx); `retry_after` when the receiver said.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help (other 4xx).
    Permanent {
        reason: String,
    },
}

/// POSTs `body` to `url`, signed with `secret`.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    body: Vec<u8>,
    idempotency_key: &str,
    now_unix: i64,
) -> Delivery {
    let signature = sign(secret, now_unix, &body);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header("Idempotency-Key", idempotency_key)
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            let reason = if error.is_timeout() {
                "the webhook did not answer in time".to_string()
            } else if error.is_connect() {
                "could not connect to the webhook".to_string()
            } else {
                "the webhook request failed".to_string()
            };
            return Delivery::Retry {
                reason,
                retry_after: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Delivery::Delivered;
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.min(3600)));
    let reason = format!("the webhook answered HTTP {}", status.as_u16());
    if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        Delivery::Retry {
            reason,
            retry_after,
        }
    } else {
        Delivery::Permanent { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_tampered_body_does_not() {
        let header = sign("whsec", 1_700_000_000, b"{\"a\":1}");
        assert!(verify("whsec", &header, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("whsec", &header, b"{\"a\":2}", 1_700_000_010, 300));
        assert!(!verify("other", &header, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(
            !verify("whsec", &header, b"{\"a\":1}", 1_700_001_000, 300),
            "replay accepted"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign("key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
