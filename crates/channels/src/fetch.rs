//! Downloading what providers point at, safely. Credentials go only to the provider's own
//! hosts (the channel's configured base URLs); any other URL is fetched without them and
//! through a guard that refuses private, loopback, link-local and other non-public
//! addresses — checked on the addresses the connection actually uses, so a DNS answer that
//! changes between check and connect gains nothing. Redirects are followed by hand (at most
//! five), each hop checked again, and credentials are dropped once a hop leaves the trusted
//! hosts (Twilio media redirects to a CDN).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Credentials for a provider's own host.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    Basic { user: String, password: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Bearer(_) => "Bearer(********)",
            Auth::Basic { .. } => "Basic(********)",
        })
    }
}

/// A downloaded file.
#[derive(Clone, PartialEq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The `Content-Type` the server declared, if any.
    pub content_type: Option<String>,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field("bytes", &self.bytes.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL is not http(s), or points at an address the guard refuses.
    #[error("refused: {0}")]
    Refused(String),
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    /// The server answered with an error status; 5xx and 429 are worth retrying.
    #[error("the server answered {0}")]
    Status(u16),
    #[error("{0}")]
    Network(String),
}

impl FetchError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Network(_) => true,
            FetchError::Status(status) => *status == 429 || *status >= 500,
            FetchError::Refused(_) | FetchError::TooLarge(_) => false,
        }
    }
}

const MAX_REDIRECTS: usize = 5;

#[derive(Clone)]
pub struct Fetcher {
    /// For the provider's own hosts, as configured (tests point these at 127.0.0.1).
    trusted: reqwest::Client,
    /// For everything else: resolves through [`GuardedResolver`].
    guarded: reqwest::Client,
    allow_private: bool,
    max_bytes: usize,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allow_private", &self.allow_private)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Fetcher {
    /// `allow_private` turns the guard off (tests whose fake CDN listens on 127.0.0.1).
    pub fn new(
        timeout: Duration,
        max_bytes: usize,
        allow_private: bool,
    ) -> seam_core::Result<Self> {
        crate::http::install_tls_provider();
        let builder = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("Seam/", env!("CARGO_PKG_VERSION")))
        };
        let trusted = builder().build().map_err(seam_core::Error::internal)?;
        let mut guarded = builder();
        if !allow_private {
            guarded = guarded.dns_resolver(Arc::new(GuardedResolver));
        }
        let guarded = guarded.build().map_err(seam_core::Error::internal)?;
        Ok(Fetcher {
            trusted,
            guarded,
            allow_private,
            max_bytes,
        })
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// GETs `url`. `auth` is sent only while the URL's origin is one of `trusted` (base URLs
    /// such as `https://graph.facebook.com`); other URLs go through the guard, unauthenticated.
    pub async fn get(
        &self,
        url: &str,
        auth: Option<&Auth>,
        trusted: &[&str],
    ) -> Result<Fetched, FetchError> {
        let mut url = parse_http_url(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let is_trusted = trusted.iter().any(|base| same_origin(&url, base));
            let request = if is_trusted {
                let request = self.trusted.get(url.clone());
                match auth {
                    Some(Auth::Bearer(token)) => request.bearer_auth(token),
                    Some(Auth::Basic { user, password }) => {
                        request.basic_auth(user, Some(password))
                    }
                    None => request,
                }
            } else {
                if !self.allow_private {
                    refuse_literal_address(&url)?;
                }
                self.guarded.get(url.clone())
            };
            let response = request.send().await.map_err(|error| {
                if is_guard_refusal(&error) {
                    FetchError::Refused(format!(
                        "{} resolves to a private or local address",
                        url.host_str().unwrap_or_default()
                    ))
                } else {
                    FetchError::Network(crate::messaging::without_url(&error))
                }
            })?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or(FetchError::Status(status.as_u16()))?;
                let next = url
                    .join(location)
                    .map_err(|_| FetchError::Refused("the redirect is not a URL".into()))?;
                url = parse_http_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string);
            if response
                .content_length()
                .is_some_and(|length| length as usize > self.max_bytes)
            {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            let mut response = response;
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|error| FetchError::Network(crate::messaging::without_url(&error)))?
            {
                if bytes.len() + chunk.len() > self.max_bytes {
                    return Err(FetchError::TooLarge(self.max_bytes));
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                bytes,
                content_type,
            });
        }
        Err(FetchError::Refused(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }
}

fn parse_http_url(url: &str) -> Result<url::Url, FetchError> {
    let parsed = url::Url::parse(url).map_err(|_| FetchError::Refused("not a URL".to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(FetchError::Refused(
            "only http and https URLs are fetched".into(),
        ));
    }
    Ok(parsed)
}

/// Same scheme, host and port as `base`.
fn same_origin(url: &url::Url, base: &str) -> bool {
    url::Url::parse(base).is_ok_and(|base| {
        base.scheme() == url.scheme()
            && base.host_str() == url.host_str()
            && base.port_or_known_default() == url.port_or_known_default()
    })
}

/// A URL whose host is an IP literal never reaches the resolver: check it here.
fn refuse_literal_address(url: &url::Url) -> Result<(), FetchError> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(FetchError::Refused(format!("{ip} is not a public address")))
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared,
/// documentation, multicast, unspecified or reserved (and the same for IPv4 inside IPv6).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = ip.segments()[0];
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                // unique local fc00::/7, link-local fe80::/10, site-local fec0::/10
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                // documentation 2001:db8::/32, NAT64 64:ff9b::/96 (may reach IPv4 inside)
                || (first == 0x2001 && ip.segments()[1] == 0x0db8)
                || (first == 0x0064 && ip.segments()[1] == 0xff9b)
                || ip == Ipv6Addr::from(1u128))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // shared address space 100.64.0.0/10
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments 192.0.0.0/24, benchmarking 198.18.0.0/15, reserved 240/4
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

/// Resolves with the system resolver and keeps only public addresses; no public address is
/// an error the fetcher reports as a refusal.
struct GuardedResolver;

#[derive(Debug, thiserror::Error)]
#[error("seam-guard: no public address")]
struct NoPublicAddress;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| is_public(address.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(Box::new(NoPublicAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

fn is_guard_refusal(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.to_string().contains("seam-guard") {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "157.240.1.35", "2a03:2880::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let url = url::Url::parse("https://graph.facebook.com/v21.0/123").unwrap();
        assert!(same_origin(&url, "https://graph.facebook.com"));
        assert!(same_origin(&url, "https://graph.facebook.com:443/"));
        assert!(!same_origin(&url, "http://graph.facebook.com"));
        assert!(!same_origin(
            &url,
            "https://graph.facebook.com.evil.example"
        ));
    }

    #[tokio::test]
    async fn the_guard_refuses_loopback_by_name_and_by_literal() {
        let fetcher = Fetcher::new(Duration::from_secs(2), 1024, false).unwrap();
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost:9/x",
            "http://[::1]:9/x",
        ] {
            let error = fetcher.get(url, None, &[]).await.unwrap_err();
            assert!(matches!(error, FetchError::Refused(_)), "{url}: {error:?}");
        }
        let error = fetcher
            .get("file:///etc/passwd", None, &[])
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Refused(_)));
    }
}
