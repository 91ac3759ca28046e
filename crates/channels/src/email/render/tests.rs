//! Tests of outbound rendering: threading headers, alternatives, signatures, DKIM.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::TimeZone;
use sha2::{Digest, Sha256};

use super::*;
use crate::email::parse::{Limits, parse};

fn email() -> OutgoingEmail {
    OutgoingEmail {
        from: Address {
            name: Some("ACME Support".to_owned()),
            email: "support@acme.example".to_owned(),
        },
        reply_to: Some(Address {
            name: None,
            email: "support+c0ffee@acme.example".to_owned(),
        }),
        to: Address {
            name: Some("سارة".to_owned()),
            email: "sara@example.com".to_owned(),
        },
        subject: "Re: Order 123".to_owned(),
        message_id: "conversation/1/messages/2@acme.example".to_owned(),
        in_reply_to: Some("CAF=abc@mail.gmail.com".to_owned()),
        references: vec!["root@acme.example".to_owned()],
        markdown: "Hello **Sara**,\n\nyour order <script>alert(1)</script> shipped.\n\n[Track it](https://track.example/1) or [not](javascript:alert(1)).".to_owned(),
        signature: Some("ACME — *we ship*".to_owned()),
        attachments: Vec::new(),
        auto_submitted: false,
        date: chrono::Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().unwrap_or_default(),
    }
}

fn rendered(email: &OutgoingEmail, dkim: Option<&DkimKey>) -> Vec<u8> {
    render(email, dkim).unwrap_or_else(|error| panic!("render failed: {error}"))
}

fn header_section(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

#[test]
fn threading_headers_are_set() {
    let raw = rendered(&email(), None);
    let parsed = parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        parsed.details.message_id.as_deref(),
        Some("conversation/1/messages/2@acme.example")
    );
    assert_eq!(parsed.details.in_reply_to, vec!["CAF=abc@mail.gmail.com"]);
    assert_eq!(
        parsed.details.references,
        vec!["root@acme.example", "CAF=abc@mail.gmail.com"]
    );
    assert_eq!(
        parsed.reply_to.map(|a| a.email),
        Some("support+c0ffee@acme.example".to_owned())
    );
    assert_eq!(parsed.to[0].name.as_deref(), Some("سارة"));
    assert_eq!(parsed.details.subject.as_deref(), Some("Re: Order 123"));
    assert_eq!(
        parsed.date.map(|d| d.to_rfc3339()),
        Some("2026-11-23T10:00:00+00:00".to_owned())
    );
    assert_eq!(parsed.details.automated, None);
}

#[test]
fn the_body_is_text_and_html_alternatives_with_the_signature() {
    let raw = rendered(&email(), None);
    let headers = header_section(&raw);
    assert!(headers.contains("multipart/alternative"), "{headers}");
    let parsed = parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.details.full_text.contains("Hello **Sara**"));
    assert!(parsed.details.full_text.contains("\n-- \nACME — *we ship*"));
    // The signature is cut from the new text, as a receiving helpdesk would.
    assert!(!parsed.text.contains("we ship"));
    let html = parsed.details.html.unwrap_or_default();
    assert!(html.contains("<strong>Sara</strong>"), "{html}");
    assert!(html.contains("we ship"), "{html}");
}

#[test]
fn raw_html_in_markdown_is_escaped_and_unsafe_links_dropped() {
    let html = markdown_to_html(&email().markdown);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains(r#"<a href="https://track.example/1">Track it</a>"#),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "{html}");
    assert!(html.contains("not"), "{html}");
}

#[test]
fn the_html_is_right_to_left_friendly() {
    let body = html(&email());
    assert!(body.contains("<div dir=\"auto\">"), "{body}");
    assert!(body.contains("<meta charset=\"utf-8\">"));
}

#[test]
fn auto_submitted_mail_is_marked() {
    let mut email = email();
    email.auto_submitted = true;
    let raw = rendered(&email, None);
    let headers = header_section(&raw);
    assert!(
        headers.contains("Auto-Submitted: auto-generated"),
        "{headers}"
    );
    assert!(
        headers.contains("X-Auto-Response-Suppress: All"),
        "{headers}"
    );
    let parsed = parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.details.automated.is_some());
}

#[test]
fn attachments_make_a_mixed_message() {
    let mut email = email();
    email.attachments = vec![OutgoingAttachment {
        file_name: "فاتورة 123.pdf".to_owned(),
        content_type: "application/pdf".to_owned(),
        bytes: b"%PDF-1.4\n%fake\n".to_vec(),
    }];
    let raw = rendered(&email, None);
    assert!(header_section(&raw).contains("multipart/mixed"));
    let parsed = parse(&raw, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].file_name, "فاتورة 123.pdf");
    assert_eq!(parsed.attachments[0].content_type, "application/pdf");
    assert_eq!(parsed.attachments[0].bytes, b"%PDF-1.4\n%fake\n");
}

#[test]
fn line_breaks_cannot_inject_headers() {
    let mut email = email();
    email.subject = "Hi\r\nBcc: victim@example.com".to_owned();
    let raw = rendered(&email, None);
    let headers = header_section(&raw);
    assert!(
        !headers.lines().any(|line| line.starts_with("Bcc:")),
        "{headers}"
    );
}

#[test]
fn invalid_addresses_and_ids_are_errors() {
    let mut bad_to = email();
    bad_to.to.email = "not an address".to_owned();
    assert!(matches!(
        render(&bad_to, None),
        Err(RenderError::InvalidAddress { field: "to", .. })
    ));
    let mut bad_id = email();
    bad_id.message_id = "has space@x".to_owned();
    assert!(matches!(
        render(&bad_id, None),
        Err(RenderError::InvalidMessageId { .. })
    ));
}

fn key(pem: &str) -> DkimKey {
    DkimKey {
        domain: "acme.example".to_owned(),
        selector: "seam2026".to_owned(),
        private_key_pem: pem.to_owned(),
    }
}

const RSA_PKCS1: &str = include_str!("testdata/rsa-pkcs1.pem");
const RSA_PKCS8: &str = include_str!("testdata/rsa-pkcs8.pem");
const RSA_PUBLIC: &str = include_str!("testdata/rsa-public.b64");
const RSA_512: &str = include_str!("testdata/rsa-512.pem");
const ED25519: &str = include_str!("testdata/ed25519.pem");
const ED25519_PUBLIC: &str = include_str!("testdata/ed25519-public.b64");

/// An independent DKIM verifier (RFC 6376 relaxed/relaxed), as a receiving server runs it.
fn verify_dkim(raw: &[u8], public_key: &[u8]) -> Result<(), String> {
    let text = String::from_utf8(raw.to_vec()).map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no body")?;
    // Unfold into fields, keeping the raw text of each.
    let mut fields: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().ok_or("continuation first")?;
            last.push_str("\r\n");
            last.push_str(line);
        } else {
            fields.push(line.to_owned());
        }
    }
    let relaxed_header = |field: &str| -> String {
        let (name, value) = field.split_once(':').unwrap_or((field, ""));
        let unfolded = value.replace("\r\n", "");
        let collapsed = unfolded
            .split([' ', '\t'])
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        format!("{}:{}", name.trim().to_ascii_lowercase(), collapsed.trim())
    };
    let signature_field = fields
        .iter()
        .find(|f| f.to_ascii_lowercase().starts_with("dkim-signature:"))
        .ok_or("no DKIM-Signature")?
        .clone();
    let tags: Vec<(String, String)> = signature_field
        .split_once(':')
        .map(|(_, v)| v)
        .unwrap_or_default()
        .split(';')
        .filter_map(|tag| {
            let (name, value) = tag.split_once('=')?;
            let value: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            Some((name.trim().to_owned(), value))
        })
        .collect();
    let tag = |name: &str| {
        tags.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or(format!("no {name}= tag"))
    };
    if tag("c")? != "relaxed/relaxed" || tag("d")? != "acme.example" || tag("s")? != "seam2026" {
        return Err(format!("unexpected tags in {signature_field}"));
    }
    // Body hash.
    let mut lines: Vec<String> = body
        .split("\r\n")
        .map(|line| {
            let collapsed: Vec<&str> = line.split([' ', '\t']).collect();
            let mut out = String::new();
            for (i, part) in collapsed.iter().enumerate() {
                if i > 0 && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(part);
            }
            out.trim_end().to_owned()
        })
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let canonical_body = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\r\n") + "\r\n"
    };
    let body_hash = STANDARD.encode(Sha256::digest(canonical_body.as_bytes()));
    if body_hash != tag("bh")? {
        return Err("body hash mismatch".to_owned());
    }
    // Header hash input.
    let mut data = String::new();
    for name in tag("h")?.split(':') {
        if let Some(field) = fields.iter().rev().find(|f| {
            f.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        }) {
            data.push_str(&relaxed_header(field));
            data.push_str("\r\n");
        }
    }
    let b_value = tag("b")?;
    let unsigned: String = {
        let canonical = relaxed_header(&signature_field);
        let start = canonical.rfind("b=").ok_or("no b=")?;
        let end = canonical[start..]
            .find(';')
            .map_or(canonical.len(), |i| start + i);
        format!("{}b={}", &canonical[..start], &canonical[end..])
    };
    data.push_str(&unsigned);
    let signature = STANDARD.decode(b_value).map_err(|e| e.to_string())?;
    let provider = rustls::crypto::ring::default_provider();
    let (scheme, message): (rustls::SignatureScheme, Vec<u8>) = match tag("a")?.as_str() {
        "rsa-sha256" => (rustls::SignatureScheme::RSA_PKCS1_SHA256, data.into_bytes()),
        "ed25519-sha256" => (
            rustls::SignatureScheme::ED25519,
            Sha256::digest(data.as_bytes()).to_vec(),
        ),
        other => return Err(format!("unexpected algorithm {other}")),
    };
    let algorithms = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(s, _)| *s == scheme)
        .map(|(_, algs)| *algs)
        .ok_or("no algorithm")?;
    if algorithms.iter().any(|alg| {
        alg.verify_signature(public_key, &message, &signature)
            .is_ok()
    }) {
        Ok(())
    } else {
        Err("signature does not verify".to_owned())
    }
}

#[test]
fn an_rsa_pkcs1_key_signs_and_the_signature_verifies() {
    let raw = rendered(&email(), Some(&key(RSA_PKCS1)));
    let public = STANDARD.decode(RSA_PUBLIC.trim()).unwrap_or_default();
    assert_eq!(verify_dkim(&raw, &public), Ok(()));
    let headers = header_section(&raw);
    assert!(headers.contains("a=rsa-sha256"), "{headers}");
}

#[test]
fn an_rsa_pkcs8_key_signs_the_same_way() {
    let raw = rendered(&email(), Some(&key(RSA_PKCS8)));
    let public = STANDARD.decode(RSA_PUBLIC.trim()).unwrap_or_default();
    assert_eq!(verify_dkim(&raw, &public), Ok(()));
}

#[test]
fn an_ed25519_key_signs_and_the_signature_verifies() {
    let mut email = email();
    email.auto_submitted = true;
    email.attachments = vec![OutgoingAttachment {
        file_name: "a.txt".to_owned(),
        content_type: "text/plain".to_owned(),
        bytes: b"hello".to_vec(),
    }];
    let raw = rendered(&email, Some(&key(ED25519)));
    let public = STANDARD.decode(ED25519_PUBLIC.trim()).unwrap_or_default();
    assert_eq!(verify_dkim(&raw, &public), Ok(()));
    assert!(header_section(&raw).contains("a=ed25519-sha256"));
}

#[test]
fn a_tampered_message_fails_verification() {
    let raw = rendered(&email(), Some(&key(RSA_PKCS1)));
    let tampered = String::from_utf8_lossy(&raw).replacen("Re: Order 123", "Re: Order 999", 1);
    let public = STANDARD.decode(RSA_PUBLIC.trim()).unwrap_or_default();
    assert!(verify_dkim(tampered.as_bytes(), &public).is_err());
}

#[test]
fn bad_keys_are_clear_errors() {
    for (pem, expected) in [
        ("not a key at all", "not a PEM private key"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
            "malformed RSA key",
        ),
        (RSA_512, "RSA keys need at least 1024 bits"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "unsupported PEM type",
        ),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "encrypted",
        ),
    ] {
        match render(&email(), Some(&key(pem))) {
            Err(RenderError::DkimKey(reason)) => {
                assert!(
                    reason.contains(expected),
                    "{reason} should mention {expected}"
                )
            }
            other => panic!("expected a key error for {expected}, got {other:?}"),
        }
    }
}

#[test]
fn the_private_key_is_never_printed() {
    let printed = format!("{:?}", key(RSA_PKCS1));
    assert!(!printed.contains("BEGIN"), "{printed}");
}
