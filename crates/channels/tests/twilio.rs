//! Twilio adapter (SMS, MMS and WhatsApp through Twilio): the published signature vectors,
//! the documented webhook payloads, and sends and media downloads against a local fake of
//! the Messages API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "providers/fake_api.rs"]
mod fake_api;

use std::time::Duration;

use base64::Engine as _;
use fake_api::FakeApi;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use seam_channels::{
    messaging::{
        self, Adapter, Button, Check, Content, Event, Fetcher, Hook, HookError, MediaRef,
        MediaSource, Outgoing, OutgoingMedia, Sent, Settings, TemplateMessage,
    },
    twilio::{self, signature},
};
use seam_core::{channel::ChannelKind, identity::IdentityKind, message::DeliveryStatus};
use serde_json::json;

const ACCOUNT_SID: &str = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
const AUTH_TOKEN: &str = "12345";
const HOOK_URL: &str = "https://seam.example.com/hooks/7f3c2a9e";

fn settings(hook_url: &str, base_url: &str) -> Settings {
    Settings {
        config: json!({
            "account_sid": ACCOUNT_SID,
            "from": "+14155552671",
            "base_url": base_url,
            "templates": [
                {"name": "order_update", "language": "en_US", "content_sid": "HX0123456789abcdef0123456789abcdef"}
            ],
        }),
        credentials: json!({"auth_token": AUTH_TOKEN}),
        hook_url: hook_url.into(),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/providers/twilio/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Verifies a POST as the hook endpoint would.
fn verify_post(
    settings: &Settings,
    query: &str,
    content_type: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<Check, HookError> {
    let mut pairs = vec![("content-type", content_type)];
    if let Some(signature) = signature {
        pairs.push(("x-twilio-signature", signature));
    }
    let headers = headers(&pairs);
    let hook = Hook {
        method: "POST",
        query,
        headers: &headers,
        body,
    };
    twilio::SMS.verify(settings, &hook)
}

fn parse(name: &str) -> Vec<Event> {
    let body = fixture(name);
    let headers = headers(&[("content-type", "application/x-www-form-urlencoded")]);
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body: &body,
    };
    twilio::SMS
        .parse(&settings(HOOK_URL, "https://api.twilio.com"), &hook)
        .unwrap()
}

fn message(events: &[Event]) -> &messaging::Incoming {
    match &events[0] {
        Event::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn status(events: &[Event]) -> &messaging::StatusReport {
    match events {
        [Event::Status(status)] => status,
        other => panic!("expected one status, got {other:?}"),
    }
}

const FORM: &str = "application/x-www-form-urlencoded";
/// T1's parameters, form-encoded.
const T1_BODY: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";

// ---------------------------------------------------------------- signatures (vector T1)

#[test]
fn the_published_twilio_signature_is_accepted() {
    let settings = settings("https://mycompany.com/myapp.php", "");
    assert_eq!(
        verify_post(
            &settings,
            "foo=1&bar=2",
            FORM,
            T1_BODY.as_bytes(),
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        ),
        Ok(Check::Accepted)
    );
}

#[test]
fn signing_sorts_the_parameters_and_appends_names_and_values() {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(T1_BODY.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    params.reverse();
    assert_eq!(
        signature::sign(
            AUTH_TOKEN,
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &params
        ),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
}

#[test]
fn a_url_matches_with_and_without_its_default_port() {
    for (hook_url, signature) in [
        // Twilio signed the URL with `:443`, Seam is configured without it, and back.
        (
            "https://mycompany.com/myapp.php",
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
        ),
        (
            "https://mycompany.com:443/myapp.php",
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
        ),
        (
            "https://mycompany.com:443/myapp.php",
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
        ),
        (
            "http://mycompany.com/myapp.php",
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
        ),
        (
            "http://mycompany.com:80/myapp.php",
            "OyGYPqTF6ztdbRNCvuQO/oPvqQ4=",
        ),
        (
            "http://mycompany.com:80/myapp.php",
            "0ZXoZLH/DfblKGATFgpif+LLRf4=",
        ),
        // A non-default port is part of what Twilio signs.
        (
            "http://mycompany.com:1234/myapp.php",
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        ),
    ] {
        let settings = settings(hook_url, "");
        assert_eq!(
            verify_post(
                &settings,
                "foo=1&bar=2",
                FORM,
                T1_BODY.as_bytes(),
                Some(signature)
            ),
            Ok(Check::Accepted),
            "{hook_url} with {signature}"
        );
    }
    let settings = settings("https://mycompany.com/myapp.php", "");
    assert!(
        verify_post(
            &settings,
            "foo=1&bar=2",
            FORM,
            T1_BODY.as_bytes(),
            Some("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
        )
        .is_err(),
        "a signature over another port is refused"
    );
}

#[test]
fn repeated_keys_are_sorted_by_value() {
    let settings = settings("https://mycompany.com/myapp.php", "");
    for body in [
        "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
        "Digits=1234&Sid=CA123&Digits=5678&SidAccount=AC123",
    ] {
        assert_eq!(
            verify_post(
                &settings,
                "foo=1&bar=2",
                FORM,
                body.as_bytes(),
                Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
            ),
            Ok(Check::Accepted),
            "{body}"
        );
    }
}

#[test]
fn a_json_body_is_signed_through_its_hash_in_the_query() {
    let settings = settings("https://mycompany.com/myapp.php", "");
    let query =
        "foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    let body = br#"{"property": "value", "boolean": true}"#;
    assert_eq!(
        verify_post(
            &settings,
            query,
            "application/json",
            body,
            Some("a9nBmqA0ju/hNViExpshrM61xv4=")
        ),
        Ok(Check::Accepted)
    );
    let tampered = br#"{"property": "value", "boolean": false}"#;
    assert!(matches!(
        verify_post(
            &settings,
            query,
            "application/json",
            tampered,
            Some("a9nBmqA0ju/hNViExpshrM61xv4=")
        ),
        Err(HookError::Unauthorized(_))
    ));
}

#[test]
fn the_second_published_vector_is_accepted() {
    let settings = settings("https://mycompany.com/myapp.php", "");
    let body = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    assert_eq!(
        verify_post(
            &settings,
            "foo=1&bar=2",
            FORM,
            body.as_bytes(),
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ),
        Ok(Check::Accepted)
    );
}

#[test]
fn a_tampered_body_a_wrong_token_or_no_header_is_unauthorized() {
    let settings = settings("https://mycompany.com/myapp.php", "");
    let tampered = T1_BODY.replace("Digits=1234", "Digits=9999");
    let mut wrong_token = settings.clone();
    wrong_token.credentials = json!({"auth_token": "54321"});
    for (settings, body, signature) in [
        (
            &settings,
            tampered.as_str(),
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ),
        (&wrong_token, T1_BODY, Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")),
        (&settings, T1_BODY, None),
    ] {
        assert!(matches!(
            verify_post(settings, "foo=1&bar=2", FORM, body.as_bytes(), signature),
            Err(HookError::Unauthorized(_))
        ));
    }
    // The query string is part of what is signed.
    assert!(
        verify_post(
            &settings,
            "foo=1&bar=3",
            FORM,
            T1_BODY.as_bytes(),
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        )
        .is_err()
    );
}

#[test]
fn a_fixture_signed_for_the_channels_hook_url_is_accepted() {
    let body = fixture("sms.form");
    let params: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let signature = signature::sign(AUTH_TOKEN, HOOK_URL, &params);
    let settings = settings(HOOK_URL, "");
    assert_eq!(
        verify_post(&settings, "", FORM, &body, Some(&signature)),
        Ok(Check::Accepted)
    );
}

// ---------------------------------------------------------------- inbound payloads

#[test]
fn an_sms_becomes_a_message_from_the_phone_number() {
    let events = parse("sms.form");
    assert_eq!(events.len(), 1);
    let message = message(&events);
    assert_eq!(
        message.provider_message_id,
        "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    );
    assert_eq!(
        message.sender.identities,
        vec![(IdentityKind::Phone, "+16502530000".to_string())]
    );
    assert_eq!(message.text, "Hi, is my order on its way?");
    assert_eq!(message.content, Content::Text);
    assert!(message.media.is_empty());
}

#[test]
fn an_mms_carries_each_media_url_with_its_type() {
    let events = parse("mms.form");
    let message = message(&events);
    assert_eq!(message.content, Content::Media);
    assert_eq!(message.text, "Photo and invoice");
    let media: Vec<(String, Option<String>)> = message
        .media
        .iter()
        .map(|media| match &media.source {
            MediaSource::Provider { id } => (id.clone(), media.content_type.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        media,
        vec![
            (
                format!(
                    "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM3f1b9c2d7e0a4b5c8d6e2f1a0b9c8d7e/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f"
                ),
                Some("image/jpeg".to_string())
            ),
            (
                format!(
                    "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM3f1b9c2d7e0a4b5c8d6e2f1a0b9c8d7e/Media/ME1b2c3d4e5f60718293a4b5c6d7e8f90"
                ),
                Some("application/pdf".to_string())
            ),
        ]
    );
}

#[test]
fn a_whatsapp_message_through_twilio_proves_the_phone_and_the_wa_id() {
    let events = parse("whatsapp.form");
    let message = message(&events);
    assert_eq!(
        message.sender.identities,
        vec![
            (IdentityKind::Phone, "+966501234567".to_string()),
            (IdentityKind::Whatsapp, "966501234567".to_string()),
        ]
    );
    assert_eq!(message.sender.name.as_deref(), Some("Layla"));
    assert_eq!(message.text, "مرحبا");
}

#[test]
fn a_whatsapp_location_through_twilio_keeps_its_label_and_address() {
    let events = parse("whatsapp_location.form");
    assert_eq!(
        message(&events).content,
        Content::Location {
            latitude: 24.7136,
            longitude: 46.6753,
            name: Some("Office".into()),
            address: Some("King Fahd Road, Riyadh".into()),
        }
    );
}

#[test]
fn status_callbacks_report_delivery_read_and_failure() {
    let delivered = parse("status_delivered.form");
    let delivered = status(&delivered);
    assert_eq!(
        delivered.provider_message_id,
        "SM0d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
    );
    assert_eq!(delivered.status, DeliveryStatus::Delivered);
    assert_eq!(delivered.error, None);
    assert!(!delivered.opted_out);

    let read = parse("status_whatsapp_read.form");
    assert_eq!(status(&read).status, DeliveryStatus::Read);

    let failed = parse("status_failed.form");
    let failed = status(&failed);
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("30003: Unreachable destination handset")
    );
    assert!(!failed.opted_out);
}

#[test]
fn an_undelivered_status_with_21610_says_the_recipient_opted_out() {
    let events = parse("status_undelivered_opted_out.form");
    let report = status(&events);
    assert_eq!(report.status, DeliveryStatus::Failed);
    assert_eq!(
        report.error.as_deref(),
        Some("21610: Attempt to send to unsubscribed recipient")
    );
    assert!(report.opted_out);
}

#[test]
fn an_advanced_opt_out_stop_also_blocks_the_sender() {
    let events = parse("opt_out_stop.form");
    assert_eq!(events.len(), 2);
    assert_eq!(message(&events).text, "Stop");
    assert!(matches!(&events[1], Event::Blocked { sender, .. }
        if sender.identities == vec![(IdentityKind::Phone, "+16502530000".to_string())]));
}

#[test]
fn a_body_without_a_message_sid_is_malformed() {
    let headers = headers(&[]);
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body: b"From=%2B16502530000&Body=Hi",
    };
    assert!(matches!(
        twilio::SMS.parse(&settings(HOOK_URL, ""), &hook),
        Err(HookError::Malformed(_))
    ));
}

#[test]
fn the_acknowledgement_is_an_empty_twiml_response() {
    let ack = twilio::SMS.acknowledgement();
    assert_eq!(ack.content_type, "text/xml");
    assert!(ack.body.ends_with("<Response/>"));
}

#[test]
fn the_registry_serves_sms_and_whatsapp_through_twilio() {
    let sms = messaging::adapter(ChannelKind::Sms, &json!({})).unwrap();
    assert_eq!(sms.name(), "twilio");
    let whatsapp =
        messaging::adapter(ChannelKind::Whatsapp, &json!({"provider": "twilio"})).unwrap();
    assert_eq!(whatsapp.name(), "twilio");
    assert!(
        messaging::adapter(ChannelKind::Whatsapp, &json!({}))
            .is_none_or(|adapter| adapter.name() != "twilio")
    );
}

// ---------------------------------------------------------------- sends

fn outgoing(to: &str, text: &str) -> Outgoing {
    Outgoing {
        message_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
        to: to.into(),
        text: Some(text.into()),
        media: Vec::new(),
        buttons: Vec::new(),
        template: None,
        tag: None,
        reply_token: None,
        reply_to: None,
    }
}

fn http() -> messaging::Sender {
    seam_channels::http::client(Duration::from_secs(5)).unwrap()
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    )
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[tokio::test]
async fn an_sms_is_posted_as_a_form_with_basic_auth() {
    let api = FakeApi::start().await;
    api.reply_json(201, json!({"sid": "SM9f8e7d6c5b4a39281706f5e4d3c2b1a0", "status": "queued", "num_segments": "1"}));
    let sent = twilio::SMS
        .send(
            &http(),
            &settings(HOOK_URL, &api.url),
            &outgoing("+16502530000", "Your order has shipped"),
        )
        .await;
    assert_eq!(
        sent,
        Sent::Accepted {
            provider_message_id: "SM9f8e7d6c5b4a39281706f5e4d3c2b1a0".into()
        }
    );
    let requests = api.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.target,
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    );
    assert_eq!(request.header("authorization"), Some(basic_auth().as_str()));
    assert_eq!(request.header("content-type"), Some(FORM));
    assert_eq!(
        request.form(),
        pairs(&[
            ("To", "+16502530000"),
            ("From", "+14155552671"),
            ("Body", "Your order has shipped")
        ])
    );
}

#[tokio::test]
async fn an_mms_repeats_media_url_and_a_messaging_service_replaces_from() {
    let api = FakeApi::start().await;
    api.reply_json(
        201,
        json!({"sid": "MM0a9b8c7d6e5f40312a1b0c9d8e7f6a5b", "status": "accepted"}),
    );
    let mut settings = settings(HOOK_URL, &api.url);
    settings.config["messaging_service_sid"] = json!("MG9752274e9e519418a7406176694466fa");
    let mut message = outgoing("+16502530000", "Here are your files");
    for (url, content_type) in [
        ("https://files.example.com/a.jpg", "image/jpeg"),
        ("https://files.example.com/b.pdf", "application/pdf"),
    ] {
        message.media.push(OutgoingMedia {
            url: url.into(),
            content_type: content_type.into(),
            file_name: None,
        });
    }
    let sent = twilio::SMS.send(&http(), &settings, &message).await;
    assert!(matches!(sent, Sent::Accepted { .. }), "{sent:?}");
    assert_eq!(
        api.requests()[0].form(),
        pairs(&[
            ("To", "+16502530000"),
            ("MessagingServiceSid", "MG9752274e9e519418a7406176694466fa"),
            ("Body", "Here are your files"),
            ("MediaUrl", "https://files.example.com/a.jpg"),
            ("MediaUrl", "https://files.example.com/b.pdf"),
        ])
    );
}

#[tokio::test]
async fn whatsapp_through_twilio_prefixes_addresses_and_sends_templates_by_content_sid() {
    let api = FakeApi::start().await;
    api.reply_json(201, json!({"sid": "SMaa", "status": "queued"}));
    api.reply_json(201, json!({"sid": "SMbb", "status": "queued"}));
    let settings = settings(HOOK_URL, &api.url);
    let mut text = outgoing("966501234567", "Hello");
    text.buttons.push(Button {
        id: "yes".into(),
        title: "Yes".into(),
    });
    twilio::WHATSAPP.send(&http(), &settings, &text).await;
    let mut template = outgoing("+966501234567", "");
    template.text = None;
    template.template = Some(TemplateMessage {
        name: "order_update".into(),
        language: "en_US".into(),
        parameters: vec!["Layla".into(), "A-1042".into()],
        content_sid: None,
    });
    let sent = twilio::WHATSAPP.send(&http(), &settings, &template).await;
    assert_eq!(
        sent,
        Sent::Accepted {
            provider_message_id: "SMbb".into()
        }
    );
    let requests = api.requests();
    assert_eq!(
        requests[0].form(),
        pairs(&[
            ("To", "whatsapp:+966501234567"),
            ("From", "whatsapp:+14155552671"),
            ("Body", "Hello\n- Yes"),
        ])
    );
    let form = requests[1].form();
    assert_eq!(
        &form[..3],
        &pairs(&[
            ("To", "whatsapp:+966501234567"),
            ("From", "whatsapp:+14155552671"),
            ("ContentSid", "HX0123456789abcdef0123456789abcdef"),
        ])[..]
    );
    assert_eq!(form[3].0, "ContentVariables");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&form[3].1).unwrap(),
        json!({"1": "Layla", "2": "A-1042"})
    );
}

#[tokio::test]
async fn a_429_is_retried_after_the_providers_delay_then_succeeds() {
    let api = FakeApi::start().await;
    api.reply(
        429,
        &[("content-type", "application/json"), ("retry-after", "3")],
        br#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#,
    );
    api.reply_json(201, json!({"sid": "SMcc", "status": "queued"}));
    let settings = settings(HOOK_URL, &api.url);
    let message = outgoing("+16502530000", "Hello");
    let first = twilio::SMS.send(&http(), &settings, &message).await;
    match first {
        Sent::Retry {
            reason,
            retry_after,
        } => {
            assert!(reason.contains("20429"), "{reason}");
            assert_eq!(retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("{other:?}"),
    }
    let second = twilio::SMS.send(&http(), &settings, &message).await;
    assert_eq!(
        second,
        Sent::Accepted {
            provider_message_id: "SMcc".into()
        }
    );
    assert_eq!(api.requests().len(), 2);
    assert_eq!(api.requests()[0].body, api.requests()[1].body);
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let api = FakeApi::start().await;
    api.reply(503, &[], b"unavailable");
    let sent = twilio::SMS
        .send(
            &http(),
            &settings(HOOK_URL, &api.url),
            &outgoing("+16502530000", "Hello"),
        )
        .await;
    assert!(matches!(sent, Sent::Retry { .. }), "{sent:?}");
}

#[tokio::test]
async fn an_unsubscribed_recipient_is_permanent_and_opted_out() {
    let api = FakeApi::start().await;
    api.reply_json(400, json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}));
    api.reply_json(400, json!({"code": 21211, "message": "The 'To' number +1650 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}));
    let settings = settings(HOOK_URL, &api.url);
    let opted_out = twilio::SMS
        .send(&http(), &settings, &outgoing("+16502530000", "Hello"))
        .await;
    assert!(
        matches!(&opted_out, Sent::Permanent { reason, opted_out: true } if reason.contains("21610")),
        "{opted_out:?}"
    );
    let invalid = twilio::SMS
        .send(&http(), &settings, &outgoing("+1650", "Hello"))
        .await;
    assert!(
        matches!(&invalid, Sent::Permanent { reason, opted_out: false } if reason.contains("21211")),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn a_body_over_1600_characters_is_refused_without_a_request() {
    let api = FakeApi::start().await;
    let sent = twilio::SMS
        .send(
            &http(),
            &settings(HOOK_URL, &api.url),
            &outgoing("+16502530000", &"é".repeat(1601)),
        )
        .await;
    assert!(
        matches!(
            sent,
            Sent::Permanent {
                opted_out: false,
                ..
            }
        ),
        "{sent:?}"
    );
    assert!(api.requests().is_empty());
}

// ---------------------------------------------------------------- media

#[tokio::test]
async fn media_is_fetched_with_basic_auth_and_the_cdn_gets_no_credentials() {
    let api = FakeApi::start().await;
    let cdn = FakeApi::start().await;
    let media_path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM3f/Media/ME0a");
    let cdn_url = format!("{}/v1/media/ME0a.jpg?sig=abc", cdn.url);
    api.reply(307, &[("location", cdn_url.as_str())], b"");
    cdn.reply(
        200,
        &[("content-type", "image/jpeg")],
        b"\xff\xd8\xff\xe0jpeg",
    );
    let fetcher = Fetcher::new(Duration::from_secs(5), 1 << 20, true).unwrap();
    let media = MediaRef {
        source: MediaSource::Provider {
            id: format!("{}{media_path}", api.url),
        },
        content_type: Some("image/jpeg".into()),
        file_name: None,
    };
    let fetched = twilio::SMS
        .fetch_media(&fetcher, &settings(HOOK_URL, &api.url), &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"\xff\xd8\xff\xe0jpeg");
    assert_eq!(fetched.content_type.as_deref(), Some("image/jpeg"));
    let asked = api.requests();
    assert_eq!(asked[0].target, media_path);
    assert_eq!(
        asked[0].header("authorization"),
        Some(basic_auth().as_str())
    );
    let redirected = cdn.requests();
    assert_eq!(redirected[0].target, "/v1/media/ME0a.jpg?sig=abc");
    assert_eq!(redirected[0].header("authorization"), None);
}

#[tokio::test]
async fn a_media_url_off_the_twilio_host_gets_no_credentials() {
    let api = FakeApi::start().await;
    let elsewhere = FakeApi::start().await;
    elsewhere.reply(200, &[("content-type", "image/png")], b"png");
    let fetcher = Fetcher::new(Duration::from_secs(5), 1 << 20, true).unwrap();
    let media = MediaRef {
        source: MediaSource::Provider {
            id: format!("{}/Media/ME0b", elsewhere.url),
        },
        content_type: None,
        file_name: None,
    };
    twilio::SMS
        .fetch_media(&fetcher, &settings(HOOK_URL, &api.url), &media)
        .await
        .unwrap();
    assert_eq!(elsewhere.requests()[0].header("authorization"), None);
    assert!(api.requests().is_empty());
}
