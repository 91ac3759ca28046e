//! Telegram adapter: the secret-token check, the documented update shapes (edits, media,
//! callback queries, blocking), and sends, `setWebhook` and file downloads against a local
//! fake of the Bot API — with the bot token kept out of every reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "providers/fake_api.rs"]
mod fake_api;

use std::time::Duration;

use fake_api::FakeApi;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use seam_channels::{
    messaging::{
        self, Adapter, Button, Check, Content, Event, Fetcher, Hook, HookError, Incoming, MediaRef,
        MediaSource, Outgoing, OutgoingMedia, Sent, Settings, SharedContact,
    },
    telegram,
};
use seam_core::{channel::ChannelKind, identity::IdentityKind};
use serde_json::json;

const BOT_TOKEN: &str = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const SECRET: &str = "Xy9_k2-Pq7Lm4Nz8Rt5Vw1Bc6Df3Gh0J";
const HOOK_URL: &str = "https://seam.example.com/hooks/5b1d9c40";

fn settings(base_url: &str) -> Settings {
    Settings {
        config: json!({"base_url": base_url, "bot_username": "acme_support_bot"}),
        credentials: json!({"bot_token": BOT_TOKEN, "webhook_secret": SECRET}),
        hook_url: HOOK_URL.into(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/providers/telegram/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
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

fn verify(settings: &Settings, secret: Option<&str>) -> Result<Check, HookError> {
    let mut pairs = vec![("content-type", "application/json")];
    if let Some(secret) = secret {
        pairs.push(("x-telegram-bot-api-secret-token", secret));
    }
    let headers = headers(&pairs);
    let body = fixture("text.json");
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body: &body,
    };
    telegram::TELEGRAM.verify(settings, &hook)
}

fn parse_body(body: &[u8]) -> Result<Vec<Event>, HookError> {
    let headers = headers(&[("content-type", "application/json")]);
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body,
    };
    telegram::TELEGRAM.parse(&settings(""), &hook)
}

fn parse(name: &str) -> Vec<Event> {
    parse_body(&fixture(name)).unwrap()
}

fn message(name: &str) -> Incoming {
    match &parse(name)[..] {
        [Event::Message(message)] => message.clone(),
        other => panic!("expected one message, got {other:?}"),
    }
}

fn ann() -> Vec<(IdentityKind, String)> {
    vec![(IdentityKind::Telegram, "1111111".to_string())]
}

// ---------------------------------------------------------------- the secret token

#[test]
fn the_secret_token_header_is_accepted() {
    assert_eq!(verify(&settings(""), Some(SECRET)), Ok(Check::Accepted));
}

#[test]
fn a_wrong_or_missing_secret_token_is_unauthorized() {
    let mut other_secret = settings("");
    other_secret.credentials["webhook_secret"] = json!("another-secret-of-32-characters_");
    for (settings, secret) in [
        (&settings(""), Some("Xy9_k2-Pq7Lm4Nz8Rt5Vw1Bc6Df3Gh0j")),
        (&settings(""), Some("")),
        (&settings(""), None),
        (&other_secret, Some(SECRET)),
    ] {
        assert!(
            matches!(verify(settings, secret), Err(HookError::Unauthorized(_))),
            "{secret:?}"
        );
    }
}

// ---------------------------------------------------------------- updates

#[test]
fn a_private_text_message_is_keyed_by_chat_and_message_id() {
    let message = message("text.json");
    assert_eq!(message.provider_message_id, "1111111:1365");
    assert_eq!(message.sender.identities, ann());
    assert_eq!(message.sender.name.as_deref(), Some("Ann Lee"));
    assert_eq!(message.sender.locale.as_deref(), Some("en"));
    assert_eq!(message.text, "Hello, where is my order?");
    assert_eq!(message.content, Content::Text);
    assert_eq!(message.sent_at.unwrap().timestamp(), 1441645532);
}

#[test]
fn a_reply_points_at_the_quoted_message() {
    let message = message("reply.json");
    assert_eq!(message.reply_to.as_deref(), Some("1111111:1366"));
    assert_eq!(message.text, "It is A-1042");
}

#[test]
fn an_edited_message_is_stored_as_an_edit_with_its_own_id() {
    let message = message("edited_message.json");
    assert_eq!(message.provider_message_id, "1111111:1365:edit:1441645700");
    assert_eq!(
        message.content,
        Content::Edit {
            of: "1111111:1365".into()
        }
    );
    assert_eq!(message.text, "Hello, where is my order A-1042?");
    assert_eq!(message.sent_at.unwrap().timestamp(), 1441645700);
}

#[test]
fn a_photo_keeps_the_largest_size_and_its_caption() {
    let message = message("photo.json");
    assert_eq!(message.content, Content::Media);
    assert_eq!(message.text, "The box arrived damaged");
    assert_eq!(
        message.media,
        vec![MediaRef {
            source: MediaSource::Provider {
                id: "AgACAgIAAxkBAAIBa2large".into()
            },
            content_type: Some("image/jpeg".into()),
            file_name: None,
        }]
    );
}

#[test]
fn documents_voice_notes_and_stickers_are_files_by_id() {
    for (fixture, id, content_type, file_name) in [
        (
            "document.json",
            "BQACAgIAAxkBAAIBbGinvoice",
            "application/pdf",
            Some("invoice.pdf"),
        ),
        ("voice.json", "AwACAgIAAxkBAAIBbWvoice", "audio/ogg", None),
        (
            "sticker.json",
            "CAACAgIAAxkBAAIBbmsticker",
            "image/webp",
            None,
        ),
    ] {
        let message = message(fixture);
        assert_eq!(message.content, Content::Media, "{fixture}");
        assert_eq!(
            message.media,
            vec![MediaRef {
                source: MediaSource::Provider { id: id.into() },
                content_type: Some(content_type.into()),
                file_name: file_name.map(str::to_string),
            }],
            "{fixture}"
        );
    }
}

#[test]
fn a_location_and_a_contact_are_read() {
    assert_eq!(
        message("location.json").content,
        Content::Location {
            latitude: 51.507351,
            longitude: -0.127758,
            name: None,
            address: None,
        }
    );
    assert_eq!(
        message("contact.json").content,
        Content::Contacts {
            contacts: vec![SharedContact {
                name: "Bob Stone".into(),
                phones: vec!["+14155552671".into()],
                emails: Vec::new(),
            }]
        }
    );
}

#[test]
fn a_callback_query_is_a_postback_with_the_buttons_label() {
    let message = message("callback_query.json");
    assert_eq!(message.provider_message_id, "callback:4382bfdwdsb323b2d9");
    assert_eq!(message.sender.identities, ann());
    assert_eq!(
        message.content,
        Content::Postback {
            payload: "csat_yes".into(),
            title: Some("Yes, thanks".into()),
        }
    );
    assert_eq!(message.text, "Yes, thanks");
    assert_eq!(message.reply_to.as_deref(), Some("1111111:1380"));
}

#[test]
fn blocking_and_restarting_the_bot_are_reported() {
    assert!(matches!(&parse("blocked.json")[..],
        [Event::Blocked { sender, at }] if sender.identities == ann() && at.unwrap().timestamp() == 1441646000));
    assert!(matches!(&parse("unblocked.json")[..],
        [Event::Unblocked { sender, .. }] if sender.identities == ann()));
}

#[test]
fn group_messages_are_left_out() {
    assert!(parse("group.json").is_empty());
}

#[test]
fn a_body_that_is_not_an_update_is_malformed() {
    for body in [&b"not json"[..], br#"{"message":{}}"#] {
        assert!(matches!(parse_body(body), Err(HookError::Malformed(_))));
    }
}

#[test]
fn the_registry_serves_telegram() {
    let adapter = messaging::adapter(ChannelKind::Telegram, &json!({})).unwrap();
    assert_eq!(adapter.name(), "telegram");
}

// ---------------------------------------------------------------- sends

fn http() -> messaging::Sender {
    seam_channels::http::client(Duration::from_secs(5)).unwrap()
}

fn outgoing(text: Option<&str>) -> Outgoing {
    Outgoing {
        message_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002),
        to: "1111111".into(),
        text: text.map(str::to_string),
        media: Vec::new(),
        buttons: Vec::new(),
        template: None,
        tag: None,
        reply_token: None,
        reply_to: None,
    }
}

fn sent_message(message_id: i64) -> serde_json::Value {
    json!({"ok": true, "result": {"message_id": message_id, "from": {"id": 7000000001i64, "is_bot": true, "first_name": "Acme Support"}, "chat": {"id": 1111111, "type": "private", "first_name": "Ann"}, "date": 1441646300, "text": "…"}})
}

fn assert_no_token(text: &str) {
    assert!(!text.contains(BOT_TOKEN), "the token leaked: {text}");
    assert!(
        !text.contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        "the token leaked: {text}"
    );
}

#[tokio::test]
async fn a_text_goes_through_send_message_with_buttons_and_a_quote() {
    let api = FakeApi::start().await;
    api.reply_json(200, sent_message(1400));
    let mut message = outgoing(Some("Was this helpful?"));
    message.reply_to = Some("1111111:1367".into());
    message.buttons = vec![
        Button {
            id: "csat_yes".into(),
            title: "Yes".into(),
        },
        Button {
            id: "csat_no".into(),
            title: "No".into(),
        },
    ];
    let sent = telegram::TELEGRAM
        .send(&http(), &settings(&api.url), &message)
        .await;
    assert_eq!(
        sent,
        Sent::Accepted {
            provider_message_id: "1111111:1400".into()
        }
    );
    let request = &api.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!(
        request.json(),
        json!({
            "chat_id": 1111111,
            "text": "Was this helpful?",
            "reply_parameters": {"message_id": 1367, "allow_sending_without_reply": true},
            "reply_markup": {"inline_keyboard": [
                [{"text": "Yes", "callback_data": "csat_yes"}],
                [{"text": "No", "callback_data": "csat_no"}],
            ]},
        })
    );
}

#[tokio::test]
async fn files_go_by_url_through_send_photo_and_send_document() {
    let api = FakeApi::start().await;
    api.reply_json(200, sent_message(1401));
    api.reply_json(200, sent_message(1402));
    api.reply_json(200, sent_message(1403));
    let mut message = outgoing(Some("Your label and invoice"));
    message.media = vec![
        OutgoingMedia {
            url: "https://files.example.com/label.png".into(),
            content_type: "image/png".into(),
            file_name: None,
        },
        OutgoingMedia {
            url: "https://files.example.com/invoice.pdf".into(),
            content_type: "application/pdf".into(),
            file_name: Some("invoice.pdf".into()),
        },
    ];
    let sent = telegram::TELEGRAM
        .send(&http(), &settings(&api.url), &message)
        .await;
    assert_eq!(
        sent,
        Sent::Accepted {
            provider_message_id: "1111111:1401".into()
        }
    );
    let requests = api.requests();
    let calls: Vec<(String, serde_json::Value)> = requests
        .iter()
        .map(|request| (request.target.clone(), request.json()))
        .collect();
    assert_eq!(
        calls,
        vec![
            (
                format!("/bot{BOT_TOKEN}/sendMessage"),
                json!({"chat_id": 1111111, "text": "Your label and invoice"})
            ),
            (
                format!("/bot{BOT_TOKEN}/sendPhoto"),
                json!({"chat_id": 1111111, "photo": "https://files.example.com/label.png"})
            ),
            (
                format!("/bot{BOT_TOKEN}/sendDocument"),
                json!({"chat_id": 1111111, "document": "https://files.example.com/invoice.pdf"})
            ),
        ]
    );
}

#[tokio::test]
async fn a_429_carries_retry_after_then_the_send_succeeds() {
    let api = FakeApi::start().await;
    api.reply_json(429, json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}));
    api.reply_json(200, sent_message(1404));
    let settings = settings(&api.url);
    let message = outgoing(Some("Hello"));
    match telegram::TELEGRAM.send(&http(), &settings, &message).await {
        Sent::Retry {
            reason,
            retry_after,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
            assert_no_token(&reason);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        telegram::TELEGRAM.send(&http(), &settings, &message).await,
        Sent::Accepted {
            provider_message_id: "1111111:1404".into()
        }
    );
}

#[tokio::test]
async fn a_blocked_bot_is_permanent_and_opted_out() {
    let api = FakeApi::start().await;
    api.reply_json(403, json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}));
    let sent = telegram::TELEGRAM
        .send(&http(), &settings(&api.url), &outgoing(Some("Hello")))
        .await;
    match sent {
        Sent::Permanent { reason, opted_out } => {
            assert!(opted_out);
            assert!(reason.contains("blocked by the user"), "{reason}");
            assert_no_token(&reason);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refused_token_never_appears_in_the_reason() {
    let api = FakeApi::start().await;
    // Even should the API echo the token, the reason does not carry it.
    api.reply_json(401, json!({"ok": false, "error_code": 401, "description": format!("Unauthorized: {BOT_TOKEN}")}));
    let sent = telegram::TELEGRAM
        .send(&http(), &settings(&api.url), &outgoing(Some("Hello")))
        .await;
    match sent {
        Sent::Permanent {
            reason,
            opted_out: false,
        } => assert_no_token(&reason),
        other => panic!("{other:?}"),
    }
    // Nobody listens on the closed port: the network error has no URL either.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    match telegram::TELEGRAM
        .send(&http(), &settings(&closed), &outgoing(Some("Hello")))
        .await
    {
        Sent::Retry { reason, .. } => assert_no_token(&reason),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_text_over_4096_characters_is_refused_without_a_request() {
    let api = FakeApi::start().await;
    let text = "a".repeat(4097);
    let sent = telegram::TELEGRAM
        .send(&http(), &settings(&api.url), &outgoing(Some(&text)))
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

// ---------------------------------------------------------------- set-up and files

#[tokio::test]
async fn set_up_points_the_webhook_at_the_hook_url_with_the_secret() {
    let api = FakeApi::start().await;
    api.reply_json(
        200,
        json!({"ok": true, "result": true, "description": "Webhook was set"}),
    );
    telegram::TELEGRAM
        .set_up(&http(), &settings(&api.url))
        .await
        .unwrap();
    let request = &api.requests()[0];
    assert_eq!(request.target, format!("/bot{BOT_TOKEN}/setWebhook"));
    assert_eq!(
        request.json(),
        json!({
            "url": HOOK_URL,
            "secret_token": SECRET,
            "allowed_updates": ["message", "edited_message", "callback_query", "my_chat_member"],
        })
    );
}

#[tokio::test]
async fn a_failed_set_up_explains_without_the_token() {
    let api = FakeApi::start().await;
    api.reply_json(400, json!({"ok": false, "error_code": 400, "description": "Bad Request: bad webhook: HTTPS url must be provided for webhook"}));
    let error = telegram::TELEGRAM
        .set_up(&http(), &settings(&api.url))
        .await
        .unwrap_err();
    assert!(error.contains("HTTPS url must be provided"), "{error}");
    assert_no_token(&error);
}

#[tokio::test]
async fn a_file_is_found_with_get_file_then_downloaded() {
    let api = FakeApi::start().await;
    api.reply_json(200, json!({"ok": true, "result": {"file_id": "BQACAgIAAxkBAAIBbGinvoice", "file_unique_id": "AgADinvoice", "file_size": 7, "file_path": "documents/file_12.pdf"}}));
    api.reply(
        200,
        &[("content-type", "application/octet-stream")],
        b"%PDF-1.",
    );
    // The guard stays on: the Bot API host is trusted as configured.
    let fetcher = Fetcher::new(Duration::from_secs(5), 1 << 20, false).unwrap();
    let media = MediaRef {
        source: MediaSource::Provider {
            id: "BQACAgIAAxkBAAIBbGinvoice".into(),
        },
        content_type: Some("application/pdf".into()),
        file_name: Some("invoice.pdf".into()),
    };
    let fetched = telegram::TELEGRAM
        .fetch_media(&fetcher, &settings(&api.url), &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"%PDF-1.");
    assert_eq!(fetched.content_type.as_deref(), Some("application/pdf"));
    let targets: Vec<String> = api
        .requests()
        .iter()
        .map(|request| request.target.clone())
        .collect();
    assert_eq!(
        targets,
        vec![
            format!("/bot{BOT_TOKEN}/getFile?file_id=BQACAgIAAxkBAAIBbGinvoice"),
            format!("/file/bot{BOT_TOKEN}/documents/file_12.pdf"),
        ]
    );
}

#[tokio::test]
async fn a_failed_download_reports_no_url() {
    let api = FakeApi::start().await;
    api.reply_json(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"}),
    );
    let fetcher = Fetcher::new(Duration::from_secs(5), 1 << 20, false).unwrap();
    let media = MediaRef {
        source: MediaSource::Provider { id: "nope".into() },
        content_type: None,
        file_name: None,
    };
    let error = telegram::TELEGRAM
        .fetch_media(&fetcher, &settings(&api.url), &media)
        .await
        .unwrap_err();
    assert_no_token(&error.to_string());
}
