//! Tests of parsing: bodies, charsets, attachments, auto-replies, bounces, limits.

use super::*;

fn parse_ok(raw: &str) -> ParsedEmail {
    match parse(raw.as_bytes(), &Limits::default()) {
        Ok(parsed) => parsed,
        Err(error) => panic!("parse failed: {error}"),
    }
}

const PLAIN: &str = "From: \"Jane Doe\" <Jane@Example.com>\r\n\
To: Support <support@seam.example>, Sales <sales@seam.example>\r\n\
Cc: boss@example.com\r\n\
Reply-To: jane.private@example.com\r\n\
Subject: =?UTF-8?B?2LfZhNioINix2YLZhSAxMjM=?=\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0400\r\n\
Message-ID: <abc123@mail.example.com>\r\n\
In-Reply-To: <first@seam.example>\r\n\
References: <root@seam.example>\r\n <first@seam.example>\r\n\
Return-Path: <jane@example.com>\r\n\
\r\n\
Thanks, that worked.\r\n\
\r\n\
On Mon, Nov 23, 2026 at 9:00 AM Support <support@seam.example> wrote:\r\n\
> Try again please.\r\n";

#[test]
fn headers_are_read() {
    let parsed = parse_ok(PLAIN);
    let from = parsed
        .from
        .as_ref()
        .map(|from| (from.name.as_deref(), from.email.as_str()));
    assert_eq!(from, Some((Some("Jane Doe"), "Jane@Example.com")));
    assert_eq!(parsed.to.len(), 2);
    assert_eq!(parsed.cc[0].email, "boss@example.com");
    assert_eq!(
        parsed.reply_to.as_ref().map(|a| a.email.as_str()),
        Some("jane.private@example.com")
    );
    assert_eq!(parsed.return_path.as_deref(), Some("jane@example.com"));
    assert_eq!(
        parsed.date.map(|date| date.to_rfc3339()),
        Some("2026-11-23T06:00:00+00:00".to_owned())
    );
    assert_eq!(parsed.details.subject.as_deref(), Some("طلب رقم 123"));
    assert_eq!(
        parsed.details.message_id.as_deref(),
        Some("abc123@mail.example.com")
    );
    assert_eq!(parsed.details.in_reply_to, vec!["first@seam.example"]);
    assert_eq!(
        parsed.details.references,
        vec!["root@seam.example", "first@seam.example"]
    );
    assert_eq!(parsed.details.automated, None);
    assert_eq!(parsed.bounce, None);
}

#[test]
fn the_text_is_the_new_part_and_the_full_text_is_kept() {
    let parsed = parse_ok(PLAIN);
    assert_eq!(parsed.text, "Thanks, that worked.");
    assert!(parsed.details.full_text.contains("> Try again please."));
    assert_eq!(parsed.details.html, None);
}

#[test]
fn into_inbound_carries_identity_ids_and_recipients() {
    let parsed = parse_ok(PLAIN);
    let channel = ChannelId::new();
    let inbound = parsed.into_inbound(channel, &["Reply+Token@Seam.Example".to_owned()]);
    assert_eq!(inbound.provider_message_id, "abc123@mail.example.com");
    assert_eq!(inbound.sender.len(), 1);
    assert_eq!(inbound.sender[0].value, "Jane@Example.com");
    assert_eq!(inbound.sender[0].field, "from");
    assert!(inbound.sender[0].verified);
    assert_eq!(inbound.sender_name.as_deref(), Some("Jane Doe"));
    assert_eq!(inbound.text, "Thanks, that worked.");
    assert!(inbound.sent_at.is_some());
    let details = inbound.email.unwrap_or_default();
    assert_eq!(details.recipients, vec!["reply+token@seam.example"]);
}

#[test]
fn a_dmarc_failure_leaves_the_sender_unverified() {
    let mut parsed = parse_ok(PLAIN);
    parsed.details.auth = Some(seam_core::email::AuthResults {
        spf: "fail".into(),
        dkim: "fail".into(),
        dmarc: "fail".into(),
    });
    let inbound = parsed.into_inbound(ChannelId::new(), &[]);
    assert!(!inbound.sender[0].verified);
}

#[test]
fn mail_without_message_id_is_keyed_by_its_hash() {
    let raw = "From: a@example.com\r\nSubject: hi\r\n\r\nHello\r\n";
    let parsed = parse_ok(raw);
    assert_eq!(parsed.details.message_id, None);
    let expected = format!("sha256:{}", hex::encode(Sha256::digest(raw.as_bytes())));
    let inbound = parsed.into_inbound(ChannelId::new(), &[]);
    assert_eq!(inbound.provider_message_id, expected);
}

#[test]
fn a_date_far_in_the_future_is_ignored() {
    let raw = "From: a@example.com\r\nDate: Fri, 1 Jan 2100 00:00:00 +0000\r\n\r\nHello\r\n";
    let inbound = parse_ok(raw).into_inbound(ChannelId::new(), &[]);
    assert_eq!(inbound.sent_at, None);
}

#[test]
fn not_a_message_and_no_from_are_errors() {
    assert_eq!(parse(b"", &Limits::default()), Err(ParseError::NotAMessage));
    assert_eq!(
        parse(b"Subject: hi\r\n\r\nbody", &Limits::default()),
        Err(ParseError::NoFrom)
    );
    assert_eq!(
        parse(b"From: a@example.com\r\n\r\n", &Limits::default()),
        Err(ParseError::Empty)
    );
}

#[test]
fn a_message_with_only_a_subject_uses_it_as_text() {
    let parsed = parse_ok("From: a@example.com\r\nSubject: Call me back\r\n\r\n");
    assert_eq!(parsed.text, "Call me back");
}

#[test]
fn windows_1256_arabic_decodes() {
    let mut raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=windows-1256\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    // "مرحبا" in windows-1256.
    raw.extend_from_slice(&[0xe3, 0xd1, 0xcd, 0xc8, 0xc7, b'\r', b'\n']);
    let parsed = parse(&raw, &Limits::default()).map(|p| p.text);
    assert_eq!(parsed.as_deref(), Ok("مرحبا"));
}

#[test]
fn iso_8859_6_arabic_decodes() {
    let mut raw =
        b"From: a@example.com\r\nContent-Type: text/plain; charset=ISO-8859-6\r\n\r\n".to_vec();
    raw.extend_from_slice(&[0xe5, 0xd1, 0xcd, 0xc8, 0xc7, b'\r', b'\n']);
    let parsed = parse(&raw, &Limits::default()).map(|p| p.text);
    assert_eq!(parsed.as_deref(), Ok("مرحبا"));
}

#[test]
fn html_only_mail_gets_text_and_sanitised_html() {
    let raw = "From: a@example.com\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p onclick=\"x()\">Hello <b>there</b></p><script>alert(1)</script>\
<img src=\"https://t.example/p.gif\"></body></html>\r\n";
    let parsed = parse_ok(raw);
    assert_eq!(parsed.text, "Hello there");
    let html = parsed.details.html.unwrap_or_default();
    assert!(html.contains("<b>there</b>"), "{html}");
    assert!(
        !html.contains("script") && !html.contains("onclick"),
        "{html}"
    );
    assert!(parsed.details.remote_images);
}

fn with_attachment(name_params: &str, content_type: &str, body_b64: &str) -> String {
    format!(
        "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
--b1\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment;{name_params}\r\nContent-Transfer-Encoding: base64\r\n\r\n{body_b64}\r\n\
--b1--\r\n"
    )
}

// A 1x1 PNG.
const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[test]
fn attachment_type_is_sniffed_from_the_bytes() {
    let raw = with_attachment(
        " filename=\"photo.bin\"",
        "application/octet-stream",
        PNG_B64,
    );
    let parsed = parse_ok(&raw);
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].file_name, "photo.bin");
    assert_eq!(parsed.attachments[0].content_type, "image/png");
    assert!(!parsed.attachments[0].inline);
    assert_eq!(parsed.text, "See attached.");
}

#[test]
fn rfc_2231_file_names_decode_and_paths_are_removed() {
    let raw = with_attachment(
        " filename*=UTF-8''%D9%81%D8%A7%D8%AA%D9%88%D8%B1%D8%A9.txt",
        "text/plain",
        "aGVsbG8=",
    );
    let parsed = parse_ok(&raw);
    assert_eq!(parsed.attachments[0].file_name, "فاتورة.txt");
    assert_eq!(parsed.attachments[0].content_type, "text/plain");
    let sneaky = with_attachment(" filename=\"../../etc/passwd\"", "text/plain", "aGVsbG8=");
    assert_eq!(parse_ok(&sneaky).attachments[0].file_name, "passwd");
}

#[test]
fn an_oversized_attachment_is_left_out_and_named() {
    let raw = with_attachment(
        " filename=\"big.zip\"",
        "application/zip",
        &"QUFB".repeat(400),
    );
    let limits = Limits {
        max_attachment_bytes: 1000,
        max_attachments: 100,
    };
    let parsed = parse(raw.as_bytes(), &limits).map_err(|e| e.to_string());
    let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.attachments.is_empty());
    assert_eq!(
        parsed.text,
        "See attached.\n\n[attachment too large: big.zip, 2 KB]"
    );
}

#[test]
fn attachments_past_the_count_limit_are_left_out() {
    let mut raw = String::from(
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    for index in 0..5 {
        raw.push_str(&format!(
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"f{index}.txt\"\r\n\r\nx\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    let limits = Limits {
        max_attachment_bytes: 1000,
        max_attachments: 2,
    };
    let parsed = parse(raw.as_bytes(), &limits).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = parsed
        .attachments
        .iter()
        .map(|a| a.file_name.as_str())
        .collect();
    assert_eq!(names, vec!["f0.txt", "f1.txt"]);
    assert!(parsed.text.contains("[attachment: f0.txt]") || parsed.text.contains("3 more"));
}

#[test]
fn attachments_alone_are_listed_as_the_text() {
    let raw = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n";
    let parsed = parse_ok(raw);
    assert_eq!(parsed.text, "[attachment: invoice.pdf]");
    assert_eq!(parsed.attachments[0].content_type, "application/pdf");
}

#[test]
fn inline_images_keep_their_content_id() {
    let raw = format!(
        "From: a@example.com\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/html\r\n\r\n<p>Logo: <img src=\"cid:logo@x\"></p>\r\n\
--r\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG_B64}\r\n--r--\r\n"
    );
    let parsed = parse_ok(&raw);
    assert_eq!(parsed.attachments.len(), 1);
    let image = &parsed.attachments[0];
    assert_eq!(image.content_id.as_deref(), Some("logo@x"));
    assert!(image.inline);
    let html = parsed.details.html.unwrap_or_default();
    assert!(html.contains("src=\"cid:logo@x\""), "{html}");
    assert!(!parsed.details.remote_images);
}

#[test]
fn each_auto_reply_sign_is_recognised() {
    for header in [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: yes",
        "Precedence: bulk",
        "Precedence: list",
        "Precedence: junk",
        "Precedence: auto_reply",
        "X-Loop: helpdesk@example.com",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: DR, OOF",
        "List-Id: <news.example.com>",
        "List-Unsubscribe: <mailto:unsub@example.com>",
        "Return-Path: <>",
    ] {
        let raw = format!("From: a@example.com\r\n{header}\r\n\r\nAway until Monday.\r\n");
        let parsed = parse_ok(&raw);
        assert!(
            parsed.details.automated.is_some(),
            "{header} not recognised"
        );
    }
    for header in [
        "Auto-Submitted: no",
        "Precedence: first-class",
        "X-Auto-Response-Suppress: DR",
    ] {
        let raw = format!("From: a@example.com\r\n{header}\r\n\r\nHello.\r\n");
        assert_eq!(parse_ok(&raw).details.automated, None, "{header}");
    }
}

#[test]
fn the_null_sender_is_an_empty_return_path() {
    let parsed = parse_ok("From: a@example.com\r\nReturn-Path: <>\r\n\r\nx\r\n");
    assert_eq!(parsed.return_path.as_deref(), Some(""));
}

fn dsn(status: &str, action: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n\
To: support@seam.example\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\r\n\
--dsn\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n\
--dsn\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.net\r\nArrival-Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n\
Final-Recipient: rfc822; Nobody@Example.org\r\nOriginal-Recipient: rfc822;nobody@example.org\r\n\
Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>:\r\n  Recipient address rejected: User unknown\r\n\r\n\
--dsn\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: support@seam.example\r\nTo: nobody@example.org\r\nMessage-ID: <conversation/123/messages/9@seam.example>\r\nSubject: Your order\r\n\r\n\
--dsn--\r\n"
    )
}

#[test]
fn a_permanent_bounce_is_read() {
    let parsed = parse_ok(&dsn("5.1.1", "failed"));
    let bounce = parsed.bounce.unwrap_or_default();
    assert_eq!(
        bounce.original_message_ids,
        vec!["conversation/123/messages/9@seam.example"]
    );
    assert_eq!(bounce.recipient.as_deref(), Some("nobody@example.org"));
    assert_eq!(bounce.status.as_deref(), Some("5.1.1"));
    assert_eq!(
        bounce.diagnostic.as_deref(),
        Some("550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown")
    );
    assert!(bounce.permanent);
    assert!(parsed.details.automated.is_some());
}

#[test]
fn a_delayed_delivery_report_is_transient() {
    let parsed = parse_ok(&dsn("4.4.1", "delayed"));
    let bounce = parsed.bounce.unwrap_or_default();
    assert_eq!(bounce.status.as_deref(), Some("4.4.1"));
    assert!(!bounce.permanent);
}

#[test]
fn a_report_that_is_not_delivery_status_is_not_a_bounce() {
    let raw = "From: a@example.com\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nRead.\r\n--x--\r\n";
    assert_eq!(parse_ok(raw).bounce, None);
}

#[test]
fn text_is_cut_to_the_core_limit_on_a_character_boundary() {
    let body = "ب".repeat(MAX_TEXT_BYTES);
    let raw =
        format!("From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
    let parsed = parse_ok(&raw);
    assert!(parsed.text.len() <= MAX_TEXT_BYTES);
    assert!(parsed.text.len() > MAX_TEXT_BYTES - 4);
    assert!(parsed.text.chars().all(|c| c == 'ب'));
}

#[test]
fn a_report_from_a_bare_mailer_daemon_is_still_a_bounce() {
    let raw = dsn("5.1.1", "failed").replace(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        "From: MAILER-DAEMON",
    );
    let parsed = parse_ok(&raw);
    assert_eq!(parsed.from, None);
    assert_eq!(
        parsed.bounce.and_then(|bounce| bounce.status),
        Some("5.1.1".to_owned())
    );
}

#[test]
fn a_huge_body_is_kept_within_bounds() {
    let body = "Hello again.\r\n".repeat(200_000);
    let raw = format!("From: a@example.com\r\n\r\n{body}");
    let parsed = parse_ok(&raw);
    assert!(parsed.text.len() <= MAX_TEXT_BYTES);
    assert!(parsed.details.full_text.len() <= MAX_FULL_TEXT_BYTES);
    assert!(parsed.text.starts_with("Hello again.\nHello again."));
}
