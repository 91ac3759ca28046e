//! LINE adapter: the published signature vector, the documented webhook events (media from
//! LINE or elsewhere, redelivery, follow and unfollow, the console's empty "Verify"), and
//! reply, push and content downloads against a local fake of the Messaging API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "providers/fake_api.rs"]
mod fake_api;

use std::time::Duration;

use fake_api::FakeApi;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use seam_channels::{
    line,
    messaging::{
        self, Adapter, Button, Check, Content, Event, Fetcher, Hook, HookError, Incoming, MediaRef,
        MediaSource, Outgoing, OutgoingMedia, Sent, Settings,
    },
};
use seam_core::{channel::ChannelKind, identity::IdentityKind};
use serde_json::json;

const SECRET: &str = "test_secret";
const TOKEN: &str = "lZ1B0rHjvxrFDWcBd7CSxQh9Z4mN8kQ2s/Tn2sgPq1MWvk=";
const USER: &str = "U4af4980629be1b7ecb67e06a1d2b4f4a";

fn settings(base_url: &str) -> Settings {
    Settings {
        config: json!({"base_url": base_url, "data_base_url": base_url}),
        credentials: json!({"channel_access_token": TOKEN, "channel_secret": SECRET}),
        hook_url: "https://seam.example.com/hooks/0c9a2e11".into(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/providers/line/{name}",
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

fn verify(settings: &Settings, body: &[u8], signature: Option<&str>) -> Result<Check, HookError> {
    let mut pairs = vec![("content-type", "application/json; charset=utf-8")];
    if let Some(signature) = signature {
        pairs.push(("x-line-signature", signature));
    }
    let headers = headers(&pairs);
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body,
    };
    line::LINE.verify(settings, &hook)
}

fn parse_body(body: &[u8]) -> Result<Vec<Event>, HookError> {
    let headers = headers(&[("content-type", "application/json; charset=utf-8")]);
    let hook = Hook {
        method: "POST",
        query: "",
        headers: &headers,
        body,
    };
    line::LINE.parse(&settings(""), &hook)
}

fn messages(name: &str) -> Vec<Incoming> {
    parse_body(&fixture(name))
        .unwrap()
        .into_iter()
        .map(|event| match event {
            Event::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        })
        .collect()
}

fn user() -> Vec<(IdentityKind, String)> {
    vec![(IdentityKind::Line, USER.to_string())]
}

// ---------------------------------------------------------------- signatures (vector T2)

#[test]
fn the_published_line_signature_is_accepted() {
    assert_eq!(
        verify(
            &settings(""),
            br#"{"hello":"world"}"#,
            Some("t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=")
        ),
        Ok(Check::Accepted)
    );
    assert_eq!(
        line::sign(SECRET, br#"{"hello":"world"}"#),
        "t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM="
    );
}

#[test]
fn the_signature_covers_a_trailing_newline() {
    let body = b"{\"hello\":\"world\"}\n";
    assert_eq!(
        verify(
            &settings(""),
            body,
            Some("1P9s/oAl8AeXczrnGXMaBAZJN3wNt/RxHJz/0lTYnQE=")
        ),
        Ok(Check::Accepted)
    );
    assert!(
        verify(
            &settings(""),
            body,
            Some("t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=")
        )
        .is_err()
    );
}

#[test]
fn a_tampered_body_a_wrong_secret_or_no_header_is_unauthorized() {
    let mut wrong_secret = settings("");
    wrong_secret.credentials["channel_secret"] = json!("another_secret");
    for (settings, body, signature) in [
        (
            &settings(""),
            &br#"{"hello":"World"}"#[..],
            Some("t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM="),
        ),
        (
            &wrong_secret,
            br#"{"hello":"world"}"#,
            Some("t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM="),
        ),
        (&settings(""), br#"{"hello":"world"}"#, None),
        (&settings(""), br#"{"hello":"world"}"#, Some("not base64!")),
    ] {
        assert!(matches!(
            verify(settings, body, signature),
            Err(HookError::Unauthorized(_))
        ));
    }
}

#[test]
fn the_consoles_verify_request_is_accepted_with_no_events() {
    let body = fixture("verify.json");
    let signature = line::sign(SECRET, &body);
    assert_eq!(
        verify(&settings(""), &body, Some(&signature)),
        Ok(Check::Accepted)
    );
    assert!(parse_body(&body).unwrap().is_empty());
}

// ---------------------------------------------------------------- events

#[test]
fn a_text_message_keeps_its_id_and_reply_token() {
    let messages = messages("text.json");
    let [message] = &messages[..] else {
        panic!("{messages:?}")
    };
    assert_eq!(message.provider_message_id, "468789577898262530");
    assert_eq!(message.sender.identities, user());
    assert_eq!(message.text, "Hello, I need help with my order");
    assert_eq!(message.content, Content::Text);
    assert_eq!(
        message.reply_token.as_deref(),
        Some("38ef843bde154d9b91c21320ffd17a0f")
    );
    assert_eq!(message.sent_at.unwrap().timestamp_millis(), 1692251666727);
    assert!(!message.redelivery);
}

#[test]
fn a_redelivery_is_marked_and_keeps_the_same_id() {
    let first = messages("text.json");
    let again = messages("redelivery.json");
    assert!(again[0].redelivery);
    assert_eq!(again[0].provider_message_id, first[0].provider_message_id);
}

#[test]
fn media_from_line_is_fetched_by_id_and_external_media_by_url() {
    let messages = messages("media.json");
    let media: Vec<&MediaRef> = messages.iter().map(|message| &message.media[0]).collect();
    assert!(
        messages
            .iter()
            .all(|message| message.content == Content::Media)
    );
    assert_eq!(
        media,
        vec![
            &MediaRef {
                source: MediaSource::Provider {
                    id: "468789577898262531".into()
                },
                content_type: Some("image/jpeg".into()),
                file_name: None,
            },
            &MediaRef {
                source: MediaSource::Url {
                    url: "https://example.com/original.mp4".into()
                },
                content_type: Some("video/mp4".into()),
                file_name: None,
            },
            &MediaRef {
                source: MediaSource::Provider {
                    id: "468789577898262533".into()
                },
                content_type: None,
                file_name: Some("receipt.pdf".into()),
            },
        ]
    );
}

#[test]
fn a_location_and_a_sticker_are_read() {
    let messages = messages("location_sticker.json");
    assert_eq!(
        messages[0].content,
        Content::Location {
            latitude: 35.658581,
            longitude: 139.745433,
            name: Some("Tokyo Tower".into()),
            address: Some("4-2-8 Shibakoen, Minato-ku, Tokyo".into()),
        }
    );
    assert!(
        matches!(&messages[1].content, Content::Unsupported { what } if what.contains("sticker"))
    );
}

#[test]
fn a_postback_carries_its_data() {
    let messages = messages("postback.json");
    assert_eq!(
        messages[0].provider_message_id,
        "postback:01H810YECXQQZ37VAXPF6H9E6Z"
    );
    assert_eq!(
        messages[0].content,
        Content::Postback {
            payload: "csat_yes".into(),
            title: None
        }
    );
}

#[test]
fn unfollow_blocks_and_follow_unblocks() {
    let events = parse_body(&fixture("follow_unfollow.json")).unwrap();
    assert!(matches!(&events[..], [
        Event::Blocked { sender: blocked, .. },
        Event::Unblocked { sender: unblocked, .. },
    ] if blocked.identities == user() && unblocked.identities == user()));
}

#[test]
fn unsend_group_and_standby_events_are_left_out() {
    assert!(parse_body(&fixture("ignored.json")).unwrap().is_empty());
}

#[test]
fn a_body_that_is_not_a_webhook_is_malformed() {
    for body in [&b"{"[..], br#"{"destination":"U1"}"#] {
        assert!(matches!(parse_body(body), Err(HookError::Malformed(_))));
    }
}

#[test]
fn the_registry_serves_line() {
    let adapter = messaging::adapter(ChannelKind::Line, &json!({})).unwrap();
    assert_eq!(adapter.name(), "line");
}

// ---------------------------------------------------------------- sends

fn http() -> messaging::Sender {
    seam_channels::http::client(Duration::from_secs(5)).unwrap()
}

const MESSAGE_ID: &str = "01900000-0000-7000-8000-000000000003";

fn outgoing(text: &str) -> Outgoing {
    Outgoing {
        message_id: MESSAGE_ID.parse().unwrap(),
        to: USER.into(),
        text: Some(text.into()),
        media: Vec::new(),
        buttons: Vec::new(),
        template: None,
        tag: None,
        reply_token: None,
        reply_to: None,
    }
}

fn accepted() -> Sent {
    Sent::Accepted {
        provider_message_id: format!("sent:{MESSAGE_ID}"),
    }
}

#[tokio::test]
async fn a_push_carries_the_retry_key_and_quick_replies() {
    let api = FakeApi::start().await;
    api.reply_json(
        200,
        json!({"sentMessages": [{"id": "481156185286836555", "quoteToken": "IStG5h1Tz7b"}]}),
    );
    let mut message = outgoing("Was this helpful?");
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
    message.media.push(OutgoingMedia {
        url: "https://files.example.com/label.png".into(),
        content_type: "image/png".into(),
        file_name: None,
    });
    let sent = line::LINE
        .send(&http(), &settings(&api.url), &message)
        .await;
    assert_eq!(sent, accepted());
    let request = &api.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v2/bot/message/push");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("x-line-retry-key"), Some(MESSAGE_ID));
    let postback = |id: &str, title: &str| json!({"type": "action", "action": {"type": "postback", "label": title, "data": id, "displayText": title}});
    assert_eq!(
        request.json(),
        json!({
            "to": USER,
            "messages": [
                {"type": "text", "text": "Was this helpful?"},
                {
                    "type": "image",
                    "originalContentUrl": "https://files.example.com/label.png",
                    "previewImageUrl": "https://files.example.com/label.png",
                    "quickReply": {"items": [postback("csat_yes", "Yes"), postback("csat_no", "No")]},
                },
            ],
        })
    );
}

#[tokio::test]
async fn a_reply_token_is_used_when_present() {
    let api = FakeApi::start().await;
    api.reply_json(200, json!({"sentMessages": [{"id": "481156185286836556"}]}));
    let mut message = outgoing("Thanks, we are on it");
    message.reply_token = Some("38ef843bde154d9b91c21320ffd17a0f".into());
    assert_eq!(
        line::LINE
            .send(&http(), &settings(&api.url), &message)
            .await,
        accepted()
    );
    let requests = api.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].target, "/v2/bot/message/reply");
    assert_eq!(requests[0].header("x-line-retry-key"), None);
    assert_eq!(
        requests[0].json(),
        json!({"replyToken": "38ef843bde154d9b91c21320ffd17a0f", "messages": [{"type": "text", "text": "Thanks, we are on it"}]})
    );
}

#[tokio::test]
async fn an_expired_reply_token_falls_back_to_a_push() {
    let api = FakeApi::start().await;
    api.reply_json(400, json!({"message": "Invalid reply token"}));
    api.reply_json(200, json!({}));
    let mut message = outgoing("Sorry for the wait");
    message.reply_token = Some("38ef843bde154d9b91c21320ffd17a0f".into());
    assert_eq!(
        line::LINE
            .send(&http(), &settings(&api.url), &message)
            .await,
        accepted()
    );
    let targets: Vec<String> = api
        .requests()
        .iter()
        .map(|request| request.target.clone())
        .collect();
    assert_eq!(targets, ["/v2/bot/message/reply", "/v2/bot/message/push"]);
}

#[tokio::test]
async fn a_429_is_retried_and_a_repeat_after_acceptance_is_accepted() {
    let api = FakeApi::start().await;
    api.reply(
        429,
        &[("content-type", "application/json"), ("retry-after", "2")],
        br#"{"message":"The API rate limit has been exceeded. Try again later."}"#,
    );
    // LINE took the first attempt after all: the retry key makes the repeat a 409.
    api.reply_json(409, json!({"message": "The retry key is already accepted"}));
    let settings = settings(&api.url);
    let message = outgoing("Hello");
    match line::LINE.send(&http(), &settings, &message).await {
        Sent::Retry {
            reason,
            retry_after,
        } => {
            assert!(reason.contains("429"), "{reason}");
            assert_eq!(retry_after, Some(Duration::from_secs(2)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        line::LINE.send(&http(), &settings, &message).await,
        accepted()
    );
    let keys: Vec<Option<String>> = api
        .requests()
        .iter()
        .map(|request| request.header("x-line-retry-key").map(str::to_string))
        .collect();
    assert_eq!(
        keys,
        [Some(MESSAGE_ID.to_string()), Some(MESSAGE_ID.to_string())]
    );
}

#[tokio::test]
async fn an_invalid_recipient_is_permanent() {
    let api = FakeApi::start().await;
    api.reply_json(400, json!({"message": "The request body has 1 error(s)", "details": [{"message": "Invalid user ID", "property": "to"}]}));
    let sent = line::LINE
        .send(&http(), &settings(&api.url), &outgoing("Hello"))
        .await;
    assert!(
        matches!(&sent, Sent::Permanent { reason, opted_out: false } if reason.contains("Invalid user ID")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn too_long_a_text_or_too_many_messages_is_refused_without_a_request() {
    let api = FakeApi::start().await;
    let settings = settings(&api.url);
    let long = outgoing(&"x".repeat(5001));
    assert!(matches!(
        line::LINE.send(&http(), &settings, &long).await,
        Sent::Permanent { .. }
    ));
    let mut many = outgoing("five pictures follow");
    for index in 0..5 {
        many.media.push(OutgoingMedia {
            url: format!("https://files.example.com/{index}.jpg"),
            content_type: "image/jpeg".into(),
            file_name: None,
        });
    }
    assert!(matches!(
        line::LINE.send(&http(), &settings, &many).await,
        Sent::Permanent { .. }
    ));
    assert!(api.requests().is_empty());
}

// ---------------------------------------------------------------- content

#[tokio::test]
async fn content_is_downloaded_from_the_data_host_with_the_token() {
    let api = FakeApi::start().await;
    api.reply(200, &[("content-type", "image/jpeg")], b"\xff\xd8jpeg");
    let fetcher = Fetcher::new(Duration::from_secs(5), 1 << 20, false).unwrap();
    let media = MediaRef {
        source: MediaSource::Provider {
            id: "468789577898262531".into(),
        },
        content_type: Some("image/jpeg".into()),
        file_name: None,
    };
    let fetched = line::LINE
        .fetch_media(&fetcher, &settings(&api.url), &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"\xff\xd8jpeg");
    let request = &api.requests()[0];
    assert_eq!(request.target, "/v2/bot/message/468789577898262531/content");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn external_content_gets_no_token_and_passes_the_guard() {
    let cdn = FakeApi::start().await;
    cdn.reply(200, &[("content-type", "video/mp4")], b"mp4");
    let api = FakeApi::start().await;
    let media = MediaRef {
        source: MediaSource::Url {
            url: format!("{}/original.mp4", cdn.url),
        },
        content_type: Some("video/mp4".into()),
        file_name: None,
    };
    // With the guard on, a loopback URL from a payload is refused outright.
    let guarded = Fetcher::new(Duration::from_secs(5), 1 << 20, false).unwrap();
    assert!(
        line::LINE
            .fetch_media(&guarded, &settings(&api.url), &media)
            .await
            .is_err()
    );
    let open = Fetcher::new(Duration::from_secs(5), 1 << 20, true).unwrap();
    line::LINE
        .fetch_media(&open, &settings(&api.url), &media)
        .await
        .unwrap();
    assert_eq!(cdn.requests().len(), 1);
    assert_eq!(cdn.requests()[0].header("authorization"), None);
}
