//! Twilio's request signature, `X-Twilio-Signature`: base64 HMAC-SHA1 keyed with the auth
//! token over the URL Twilio called followed by the sorted form parameters. Pure functions,
//! no I/O.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The header Twilio signs every webhook request with.
pub const HEADER: &str = "X-Twilio-Signature";

/// The signature Twilio sends for `url` (exactly as configured, query string included) and
/// the form `params` of a POST (none for a GET or a JSON body).
///
/// Parameters are sorted by name, then by value when a name repeats, and appended as
/// `name` then `value` with no separators (twilio-python's `RequestValidator`).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = hmac_sha1(auth_token);
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request. The URL is tried both with and without
/// the scheme's explicit default port, as twilio-python does, because Twilio signs the URL
/// the way it was typed into the console. A request whose query carries `bodySHA256` (a JSON
/// body) is signed over the URL alone, and the body must hash to that value.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    body: &[u8],
    signature: &str,
) -> bool {
    let body_hash = query_of(url).and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "bodySHA256")
            .map(|(_, value)| value.into_owned())
    });
    let params: &[(String, String)] = if body_hash.is_some() { &[] } else { params };
    let signed = [without_port(url), with_default_port(url)].iter().fold(
        subtle::Choice::from(0),
        |matched, candidate| {
            matched
                | sign(auth_token, candidate, params)
                    .as_bytes()
                    .ct_eq(signature.as_bytes())
        },
    );
    if !bool::from(signed) {
        return false;
    }
    match body_hash {
        Some(expected) => {
            let actual = hex::encode(Sha256::digest(body));
            bool::from(
                actual
                    .as_bytes()
                    .ct_eq(expected.to_ascii_lowercase().as_bytes()),
            )
        }
        None => true,
    }
}

fn hmac_sha1(key: &str) -> Hmac<Sha1> {
    match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; `new_from_slice` fails only for fixed-key MACs.
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha1> {
    #[allow(clippy::expect_used)]
    Hmac::<Sha1>::new_from_slice(b"seam").expect("HMAC takes any key length")
}

fn query_of(url: &str) -> Option<&str> {
    url.split_once('?').map(|(_, query)| query)
}

/// `url` split into `scheme://`, the host (with any port) and the rest. Done on the string,
/// not through `url::Url`, which would normalise away the very port being tested.
fn split_authority(url: &str) -> Option<(&str, &str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some((
        &url[..scheme_end],
        &rest[..authority_end],
        &rest[authority_end..],
    ))
}

/// The host part and the port, if the authority names one (`[::1]:8080` included).
fn host_and_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => {
            (&authority[..colon], Some(&authority[colon + 1..]))
        }
        _ => (authority, None),
    }
}

fn without_port(url: &str) -> String {
    match split_authority(url) {
        Some((scheme, authority, rest)) => {
            let (host, _) = host_and_port(authority);
            format!("{scheme}{host}{rest}")
        }
        None => url.to_string(),
    }
}

fn with_default_port(url: &str) -> String {
    let Some((scheme, authority, rest)) = split_authority(url) else {
        return url.to_string();
    };
    if host_and_port(authority).1.is_some() {
        return url.to_string();
    }
    let port = if scheme.eq_ignore_ascii_case("https://") {
        443
    } else {
        80
    };
    format!("{scheme}{authority}:{port}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_added_and_removed_on_the_string() {
        assert_eq!(
            with_default_port("https://example.com/hooks?x=1"),
            "https://example.com:443/hooks?x=1"
        );
        assert_eq!(
            without_port("http://example.com:1234/hooks"),
            "http://example.com/hooks"
        );
        assert_eq!(with_default_port("http://[::1]/a"), "http://[::1]:80/a");
        assert_eq!(without_port("http://[::1]:8080/a"), "http://[::1]/a");
    }
}
