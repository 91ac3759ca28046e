//! Tests of sender authentication: SPF, DKIM and DMARC against pinned DNS answers.

use std::time::Duration;

use mail_auth::{
    DnsError, Error,
    common::{parse::TxtRecordParser, verify::DomainKey},
    dmarc::Dmarc,
    hickory_resolver::{
        config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts},
        proto::op::ResponseCode,
    },
    spf::Spf,
};

use super::*;
use crate::email::render::{Address, DkimKey, OutgoingEmail, render};

const ED25519: &str = include_str!("../render/testdata/ed25519.pem");
const ED25519_PUBLIC: &str = include_str!("../render/testdata/ed25519-public.b64");

/// An authenticator whose only name server is a closed loopback port: every answer the tests
/// need is in the cache, and anything else fails at once instead of leaving the machine.
fn authenticator() -> MessageAuthenticator {
    let mut connection = ConnectionConfig::udp();
    connection.port = 9;
    let server = NameServerConfig::new(IpAddr::from([127, 0, 0, 1]), true, vec![connection]);
    let config = ResolverConfig::from_parts(None, vec![], vec![server]);
    let mut options = ResolverOpts::default();
    options.timeout = Duration::from_millis(200);
    options.attempts = 1;
    MessageAuthenticator::new(config, options).unwrap()
}

fn cache() -> DnsCache {
    let cache = DnsCache::new();
    let later = Instant::now() + Duration::from_secs(3600);
    cache.add_txt(
        "acme.example",
        Spf::parse(b"v=spf1 ip4:192.0.2.10 -all"),
        later,
    );
    let key = format!("v=DKIM1; k=ed25519; p={}", ED25519_PUBLIC.trim());
    cache.add_txt(
        "seam2026._domainkey.acme.example",
        DomainKey::parse(key.as_bytes()),
        later,
    );
    cache.add_txt(
        "_dmarc.acme.example",
        Dmarc::parse(b"v=DMARC1; p=reject"),
        later,
    );
    // The DMARC tree walk (RFC 9989) also asks the top-level domain, which has no record.
    cache.add_txt(
        "_dmarc.example",
        Txt::Error(Error::Dns(DnsError::RecordNotFound(ResponseCode::NXDomain))),
        later,
    );
    cache.add_txt(
        "evil.example",
        Spf::parse(b"v=spf1 ip4:203.0.113.5 -all"),
        later,
    );
    cache
}

fn signed_message() -> Vec<u8> {
    let email = OutgoingEmail {
        from: Address {
            name: Some("ACME".to_owned()),
            email: "support@acme.example".to_owned(),
        },
        reply_to: None,
        to: Address {
            name: None,
            email: "help@seam.example".to_owned(),
        },
        subject: "Order 123".to_owned(),
        message_id: "m1@acme.example".to_owned(),
        in_reply_to: None,
        references: Vec::new(),
        markdown: "Your order shipped.".to_owned(),
        signature: None,
        attachments: Vec::new(),
        auto_submitted: false,
        date: chrono::Utc::now(),
    };
    let key = DkimKey {
        domain: "acme.example".to_owned(),
        selector: "seam2026".to_owned(),
        private_key_pem: ED25519.to_owned(),
    };
    render(&email, Some(&key)).unwrap()
}

fn envelope<'a>(ip: [u8; 4], mail_from: &'a str) -> Envelope<'a> {
    Envelope {
        client_ip: IpAddr::from(ip),
        helo: "mx.sender.example",
        mail_from,
        host_domain: "mx.seam.example",
    }
}

#[tokio::test]
async fn mail_from_an_authorised_server_with_a_valid_signature_passes_everything() {
    let results = authenticate(
        &authenticator(),
        &cache(),
        &signed_message(),
        &envelope([192, 0, 2, 10], "bounce@acme.example"),
    )
    .await;
    assert_eq!(
        (
            results.spf.as_str(),
            results.dkim.as_str(),
            results.dmarc.as_str()
        ),
        ("pass", "pass", "pass")
    );
    assert!(!results.dmarc_failed());
}

#[tokio::test]
async fn a_forged_from_address_fails_dmarc() {
    let forged = b"From: CEO <ceo@acme.example>\r\nTo: help@seam.example\r\nSubject: Urgent wire\r\nMessage-ID: <f1@evil.example>\r\n\r\nPay the invoice today.\r\n";
    let results = authenticate(
        &authenticator(),
        &cache(),
        forged,
        &envelope([203, 0, 113, 5], "attacker@evil.example"),
    )
    .await;
    // SPF passes for the attacker's own domain, which is not the From domain.
    assert_eq!(results.spf, "pass");
    assert_eq!(results.dkim, "none");
    assert_eq!(results.dmarc, "fail");
    assert!(results.dmarc_failed());
}

#[tokio::test]
async fn a_tampered_message_from_an_unauthorised_server_fails_every_check() {
    let tampered = String::from_utf8_lossy(&signed_message())
        .replacen("Order 123", "Order 999", 1)
        .into_bytes();
    let results = authenticate(
        &authenticator(),
        &cache(),
        &tampered,
        &envelope([198, 51, 100, 7], "bounce@acme.example"),
    )
    .await;
    assert_eq!(
        (
            results.spf.as_str(),
            results.dkim.as_str(),
            results.dmarc.as_str()
        ),
        ("fail", "fail", "fail")
    );
}

#[test]
fn expired_cache_entries_are_not_used() {
    let cache = DnsCache::new();
    cache.add_txt(
        "old.example",
        Spf::parse(b"v=spf1 -all"),
        Instant::now() - Duration::from_secs(1),
    );
    assert!(cache.txt.get("old.example.").is_none());
}
