//! Sender authentication: SPF for the envelope sender, the message's DKIM signatures, and DMARC
//! alignment of the From domain (mail-auth), reported as core's [`AuthResults`]. The one part of
//! the email module that does IO: DNS lookups through the authenticator, remembered in a
//! [`DnsCache`] shared between messages.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::Hash,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::Mutex,
    time::Instant,
};

use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, MX, MessageAuthenticator, Parameters, RecordSet,
    ResolverCache, SpfResult, Txt, dmarc::verify::DmarcParameters, spf::verify::SpfParameters,
};
use seam_core::email::AuthResults;

/// Entries one cache table holds before it is emptied and starts again.
const MAX_CACHE_ENTRIES: usize = 10_000;

/// How the message reached Seam, as the SMTP session saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The connecting client's address.
    pub client_ip: IpAddr,
    /// The name the client gave in EHLO/HELO.
    pub helo: &'a str,
    /// The `MAIL FROM` address; empty for the null sender.
    pub mail_from: &'a str,
    /// Seam's own host name (SPF's `%{r}` macro).
    pub host_domain: &'a str,
}

/// DNS answers remembered until they expire, for every kind of record the checks read.
#[derive(Default)]
pub struct DnsCache {
    txt: MapCache<Box<str>, Txt>,
    mx: MapCache<Box<str>, RecordSet<MX>>,
    ipv4: MapCache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: MapCache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: MapCache<IpAddr, RecordSet<Box<str>>>,
}

impl std::fmt::Debug for DnsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsCache").finish_non_exhaustive()
    }
}

impl DnsCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a TXT answer (`name` without the trailing dot) until `valid_until`: how tests
    /// and operators pin a record.
    pub fn add_txt(&self, name: &str, record: impl Into<Txt>, valid_until: Instant) {
        let name = format!("{}.", name.trim_end_matches('.').to_ascii_lowercase());
        self.txt
            .insert(name.into_boxed_str(), record.into(), valid_until);
    }
}

struct MapCache<K, V>(Mutex<HashMap<K, (V, Instant)>>);

impl<K, V> Default for MapCache<K, V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for MapCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.0.lock().ok()?;
        let (value, valid_until) = entries.get(name)?;
        (*valid_until > Instant::now()).then(|| value.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.remove(name).map(|(value, _)| value)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        if let Ok(mut entries) = self.0.lock() {
            if entries.len() >= MAX_CACHE_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (value, valid_until));
        }
    }
}

/// Runs SPF, DKIM and DMARC on a raw message. Lookups that fail are reported as `temperror`,
/// never as a failure of the sender.
pub async fn authenticate(
    authenticator: &MessageAuthenticator,
    cache: &DnsCache,
    raw: &[u8],
    envelope: &Envelope<'_>,
) -> AuthResults {
    let mail_from_domain = envelope
        .mail_from
        .rsplit_once('@')
        .map_or(envelope.helo, |(_, domain)| domain)
        .to_ascii_lowercase();
    let spf_parameters = if envelope.mail_from.is_empty() {
        // The null sender: RFC 7208 §2.4 checks the HELO identity instead.
        SpfParameters::verify_ehlo(envelope.client_ip, envelope.helo, envelope.host_domain)
    } else {
        SpfParameters::verify_mail_from(
            envelope.client_ip,
            envelope.helo,
            envelope.host_domain,
            envelope.mail_from,
        )
    };
    let spf = authenticator
        .verify_spf(with_cache(Parameters::new(spf_parameters), cache))
        .await;
    let Some(message) = AuthenticatedMessage::parse(raw) else {
        return AuthResults {
            spf: spf_name(&spf.result()).to_owned(),
            dkim: "none".to_owned(),
            dmarc: "none".to_owned(),
        };
    };
    let dkim = authenticator
        .verify_dkim(with_cache(Parameters::new(&message), cache))
        .await;
    let dmarc = authenticator
        .verify_dmarc(with_cache(
            Parameters::new(DmarcParameters::new(
                &message,
                &dkim,
                &mail_from_domain,
                &spf,
            )),
            cache,
        ))
        .await;
    AuthResults {
        spf: spf_name(&spf.result()).to_owned(),
        dkim: dkim_name(dkim.iter().map(|output| output.result())).to_owned(),
        dmarc: dmarc_name(&dmarc.result()).to_owned(),
    }
}

#[allow(clippy::type_complexity)]
fn with_cache<'x, P, TXT, MXX, IPV4, IPV6, PTR>(
    parameters: Parameters<'x, P, TXT, MXX, IPV4, IPV6, PTR>,
    cache: &'x DnsCache,
) -> Parameters<
    'x,
    P,
    MapCache<Box<str>, Txt>,
    MapCache<Box<str>, RecordSet<MX>>,
    MapCache<Box<str>, RecordSet<Ipv4Addr>>,
    MapCache<Box<str>, RecordSet<Ipv6Addr>>,
    MapCache<IpAddr, RecordSet<Box<str>>>,
>
where
    TXT: ResolverCache<Box<str>, Txt>,
    MXX: ResolverCache<Box<str>, RecordSet<MX>>,
    IPV4: ResolverCache<Box<str>, RecordSet<Ipv4Addr>>,
    IPV6: ResolverCache<Box<str>, RecordSet<Ipv6Addr>>,
    PTR: ResolverCache<IpAddr, RecordSet<Box<str>>>,
{
    parameters
        .with_txt_cache(&cache.txt)
        .with_mx_cache(&cache.mx)
        .with_ipv4_cache(&cache.ipv4)
        .with_ipv6_cache(&cache.ipv6)
        .with_ptr_cache(&cache.ptr)
}

fn spf_name(result: &SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// One passing signature is enough; otherwise the first signature's result.
fn dkim_name<'a>(mut results: impl Iterator<Item = &'a DkimResult> + Clone) -> &'static str {
    if results.clone().any(|result| *result == DkimResult::Pass) {
        return "pass";
    }
    match results.next() {
        Some(DkimResult::Pass) => "pass",
        Some(DkimResult::Neutral(_)) => "neutral",
        Some(DkimResult::Fail(_)) => "fail",
        Some(DkimResult::PermError(_)) => "permerror",
        Some(DkimResult::TempError(_)) => "temperror",
        Some(DkimResult::None) | None => "none",
    }
}

fn dmarc_name(result: &DmarcResult) -> &'static str {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

#[cfg(test)]
mod tests;
