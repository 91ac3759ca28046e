//! Meta's adapters — WhatsApp Cloud API, Messenger and Instagram — against webhook bodies
//! shaped as Meta documents them (`providers/meta/*.json`), the published and computed
//! signature vectors (T3, T7), and a fake Graph API on 127.0.0.1 written here that records
//! every request: sends arrive with the documented URL, auth and body, throttling is retried,
//! other errors are permanent with their code, and media comes down in two steps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use seam_channels::messaging::{
    Adapter, Button, Check, Content, Direction, Event, FetchError, Fetcher, Hook, HookError,
    Incoming, MediaRef, MediaSource, Outgoing, OutgoingMedia, Sent, Settings, StatusReport,
    TemplateMessage, adapter,
};
use seam_channels::meta;
use seam_core::channel::ChannelKind;
use seam_core::identity::IdentityKind;
use seam_core::message::DeliveryStatus;
use serde_json::{Value, json};

const APP_SECRET: &str = "app_secret";
const TOKEN: &str = "EAAB-token";
/// T7: hex HMAC-SHA256("app_secret", "EAAB-token").
const T7_PROOF: &str = "d5503592ed9effbf7f97bcd8a592fa7a151e7390cb008e13307cc0aac1eb2181";
const PHONE_NUMBER_ID: &str = "106540352242922";
const PAGE_ID: &str = "108800000000001";
const IG_ACCOUNT_ID: &str = "17841400000000001";
const OWN_APP_ID: &str = "1517776481860111";
const PSID: &str = "7350000000000001";

// ---------------------------------------------------------------------------------------------
// Settings, fixtures and hooks

fn whatsapp_settings(base_url: &str) -> Settings {
    Settings {
        config: json!({
            "phone_number_id": PHONE_NUMBER_ID,
            "business_account_id": "102290129340398",
            "base_url": base_url,
            "verify_token": "meatyhamhock",
        }),
        credentials: json!({ "access_token": TOKEN, "app_secret": APP_SECRET }),
        hook_url: "https://seam.example.com/hooks/ch_1".into(),
    }
}

fn messenger_settings(base_url: &str) -> Settings {
    Settings {
        config: json!({
            "page_id": PAGE_ID,
            "app_id": OWN_APP_ID,
            "base_url": base_url,
            "verify_token": "meatyhamhock",
        }),
        credentials: json!({ "page_access_token": TOKEN, "app_secret": APP_SECRET }),
        hook_url: "https://seam.example.com/hooks/ch_2".into(),
    }
}

fn instagram_settings(base_url: &str) -> Settings {
    Settings {
        config: json!({
            "instagram_account_id": IG_ACCOUNT_ID,
            "page_id": PAGE_ID,
            "app_id": OWN_APP_ID,
            "base_url": base_url,
            "verify_token": "meatyhamhock",
        }),
        credentials: json!({ "page_access_token": TOKEN, "app_secret": APP_SECRET }),
        hook_url: "https://seam.example.com/hooks/ch_3".into(),
    }
}

fn adapter_for(kind: ChannelKind, settings: &Settings) -> &'static dyn Adapter {
    adapter(kind, &settings.config).expect("a Meta adapter")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/providers/meta/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn signed(secret: &str, body: &[u8]) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-hub-signature-256",
        meta::hub_signature(secret, body).parse().unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    headers
}

fn post<'a>(headers: &'a reqwest::header::HeaderMap, body: &'a [u8]) -> Hook<'a> {
    Hook {
        method: "POST",
        query: "",
        headers,
        body,
    }
}

/// Verifies a delivery signed with the app secret, then parses it.
fn deliver(kind: ChannelKind, settings: &Settings, fixture_name: &str) -> Vec<Event> {
    let body = fixture(fixture_name);
    let headers = signed(APP_SECRET, &body);
    let hook = post(&headers, &body);
    let adapter = adapter_for(kind, settings);
    assert_eq!(adapter.verify(settings, &hook), Ok(Check::Accepted));
    adapter.parse(settings, &hook).expect("a parsed delivery")
}

fn message(event: &Event) -> &Incoming {
    match event {
        Event::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn status(event: &Event) -> &StatusReport {
    match event {
        Event::Status(status) => status,
        other => panic!("expected a status, got {other:?}"),
    }
}

fn whatsapp_party(wa_id: &str) -> Vec<(IdentityKind, String)> {
    vec![
        (IdentityKind::Phone, format!("+{wa_id}")),
        (IdentityKind::Whatsapp, wa_id.to_string()),
    ]
}

// ---------------------------------------------------------------------------------------------
// The registry

#[test]
fn the_registry_gives_meta_adapters_for_their_kinds() {
    let name = |kind, config: Value| adapter(kind, &config).map(|adapter| adapter.name());
    assert_eq!(
        name(ChannelKind::Whatsapp, json!({})),
        Some("whatsapp_cloud")
    );
    assert_eq!(
        name(ChannelKind::Whatsapp, json!({ "provider": "cloud" })),
        Some("whatsapp_cloud")
    );
    assert_ne!(
        name(ChannelKind::Whatsapp, json!({ "provider": "twilio" })),
        Some("whatsapp_cloud")
    );
    assert_eq!(name(ChannelKind::Messenger, json!({})), Some("messenger"));
    assert_eq!(name(ChannelKind::Instagram, json!({})), Some("instagram"));
}

// ---------------------------------------------------------------------------------------------
// Handshake and signatures

#[test]
fn the_handshake_answers_the_challenge_only_for_the_channel_verify_token() {
    let headers = reqwest::header::HeaderMap::new();
    for (kind, settings) in [
        (
            ChannelKind::Whatsapp,
            whatsapp_settings("http://127.0.0.1:9"),
        ),
        (
            ChannelKind::Messenger,
            messenger_settings("http://127.0.0.1:9"),
        ),
        (
            ChannelKind::Instagram,
            instagram_settings("http://127.0.0.1:9"),
        ),
    ] {
        let adapter = adapter_for(kind, &settings);
        let get = |query: &'static str| Hook {
            method: "GET",
            query,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            adapter.verify(
                &settings,
                &get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock")
            ),
            Ok(Check::Challenge("1158201444".into()))
        );
        for query in [
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhocks",
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=",
            "hub.mode=subscribe&hub.challenge=1158201444",
            "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            "",
        ] {
            assert!(
                matches!(
                    adapter.verify(&settings, &get(query)),
                    Err(HookError::Unauthorized(_))
                ),
                "{kind:?} {query}"
            );
        }
    }
}

#[test]
fn a_channel_without_a_verify_token_refuses_every_handshake() {
    let mut settings = whatsapp_settings("http://127.0.0.1:9");
    settings.config["verify_token"] = json!("");
    let headers = reqwest::header::HeaderMap::new();
    let hook = Hook {
        method: "GET",
        query: "hub.mode=subscribe&hub.challenge=1&hub.verify_token=",
        headers: &headers,
        body: b"",
    };
    assert!(matches!(
        adapter_for(ChannelKind::Whatsapp, &settings).verify(&settings, &hook),
        Err(HookError::Unauthorized(_))
    ));
}

#[test]
fn signature_vectors_t3_and_t7() {
    // T3, published: HMAC-SHA256("secret", "test").
    assert_eq!(
        meta::hub_signature("secret", b"test"),
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    );
    // T3, computed.
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    assert_eq!(
        meta::hub_signature("app_secret", body),
        "sha256=c236c758c9b2bd40b388a550eeca09eaca72384dd0aa5e7c31d19cddac5bba46"
    );
    // T7.
    assert_eq!(meta::appsecret_proof("app_secret", "EAAB-token"), T7_PROOF);
}

#[test]
fn the_t3_vectors_verify_as_deliveries() {
    let mut settings = whatsapp_settings("http://127.0.0.1:9");
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);

    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "X-Hub-Signature-256",
        "sha256=c236c758c9b2bd40b388a550eeca09eaca72384dd0aa5e7c31d19cddac5bba46"
            .parse()
            .unwrap(),
    );
    let hook = post(&headers, body);
    assert_eq!(adapter.verify(&settings, &hook), Ok(Check::Accepted));
    assert_eq!(adapter.parse(&settings, &hook), Ok(Vec::new()));

    settings.credentials["app_secret"] = json!("secret");
    headers.insert(
        "X-Hub-Signature-256",
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
            .parse()
            .unwrap(),
    );
    assert_eq!(
        adapter.verify(&settings, &post(&headers, b"test")),
        Ok(Check::Accepted)
    );
}

#[test]
fn tampered_bodies_wrong_secrets_and_missing_headers_are_refused() {
    for (kind, settings, name) in [
        (
            ChannelKind::Whatsapp,
            whatsapp_settings("http://127.0.0.1:9"),
            "whatsapp_text.json",
        ),
        (
            ChannelKind::Messenger,
            messenger_settings("http://127.0.0.1:9"),
            "messenger_messages.json",
        ),
        (
            ChannelKind::Instagram,
            instagram_settings("http://127.0.0.1:9"),
            "instagram_messages.json",
        ),
    ] {
        let adapter = adapter_for(kind, &settings);
        let body = fixture(name);
        let refused = |headers: &reqwest::header::HeaderMap, body: &[u8]| {
            matches!(
                adapter.verify(&settings, &post(headers, body)),
                Err(HookError::Unauthorized(_))
            )
        };

        let good = signed(APP_SECRET, &body);
        assert_eq!(
            adapter.verify(&settings, &post(&good, &body)),
            Ok(Check::Accepted)
        );

        let mut tampered = body.clone();
        let last = tampered.iter().rposition(|byte| *byte == b'}').unwrap();
        tampered.insert(last, b' ');
        assert!(refused(&good, &tampered), "{kind:?}: tampered body");

        assert!(
            refused(&signed("another_secret", &body), &body),
            "{kind:?}: wrong secret"
        );

        let mut missing = good.clone();
        missing.remove("x-hub-signature-256");
        assert!(refused(&missing, &body), "{kind:?}: missing header");

        for value in [
            "",
            "sha256=",
            "sha256=zz",
            "sha1=0329a06b62cd16b33eb6792be8c60b158d89a2ee",
        ] {
            let mut broken = good.clone();
            broken.insert("x-hub-signature-256", value.parse().unwrap());
            assert!(refused(&broken, &body), "{kind:?}: header {value:?}");
        }

        let mut no_secret = settings.clone();
        no_secret.credentials = json!({});
        assert!(matches!(
            adapter.verify(&no_secret, &post(&good, &body)),
            Err(HookError::Unauthorized(_))
        ));
    }
}

#[test]
fn bodies_that_are_not_meta_webhooks_are_malformed() {
    let whatsapp = whatsapp_settings("http://127.0.0.1:9");
    let messenger = messenger_settings("http://127.0.0.1:9");
    for (kind, settings, body) in [
        (ChannelKind::Whatsapp, &whatsapp, &b"{\"object\":"[..]),
        (
            ChannelKind::Whatsapp,
            &whatsapp,
            br#"{"object":"page","entry":[]}"#,
        ),
        (ChannelKind::Messenger, &messenger, b"not json"),
        (
            ChannelKind::Messenger,
            &messenger,
            br#"{"object":"instagram","entry":[]}"#,
        ),
        (
            ChannelKind::Instagram,
            &instagram_settings("x"),
            br#"{"object":"page","entry":[]}"#,
        ),
    ] {
        let headers = signed(APP_SECRET, body);
        let result = adapter_for(kind, settings).parse(settings, &post(&headers, body));
        assert!(
            matches!(result, Err(HookError::Malformed(_))),
            "{kind:?}: {result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// WhatsApp payloads

#[test]
fn a_whatsapp_text_message_names_its_sender_by_phone_and_wa_id() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_text.json",
    );
    assert_eq!(events.len(), 1);
    let message = message(&events[0]);
    assert_eq!(
        message.provider_message_id,
        "wamid.HBgLMTY1MDI1MzAwMDAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(message.direction, Direction::Inbound);
    assert_eq!(message.sender.identities, whatsapp_party("16502530000"));
    assert_eq!(message.sender.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(message.text, "Does it come in another color?");
    assert_eq!(message.content, Content::Text);
    assert!(message.media.is_empty());
    assert_eq!(message.reply_to, None);
    assert_eq!(message.sent_at, DateTime::from_timestamp(1_749_416_383, 0));
    assert!(!message.redelivery);
}

#[test]
fn whatsapp_media_are_provider_ids_with_type_caption_and_file_name() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_media.json",
    );
    let files: Vec<(&str, &str, Option<&str>, Option<&str>)> = events
        .iter()
        .map(|event| {
            let message = message(event);
            assert_eq!(message.content, Content::Media);
            assert_eq!(message.media.len(), 1);
            let media = &message.media[0];
            let MediaSource::Provider { id } = &media.source else {
                panic!("WhatsApp media come by id: {media:?}");
            };
            (
                id.as_str(),
                message.text.as_str(),
                media.content_type.as_deref(),
                media.file_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            (
                "1003383421387256",
                "Here is the damaged box",
                Some("image/jpeg"),
                None
            ),
            (
                "1235417664868491",
                "",
                Some("application/pdf"),
                Some("invoice-4711.pdf")
            ),
            ("1296432215103404", "", Some("audio/ogg; codecs=opus"), None),
            ("1087523749856329", "", Some("image/webp"), None),
        ]
    );
    assert_eq!(
        message(&events[0]).reply_to.as_deref(),
        Some("wamid.HBgLMTY1MDI1MzAwMDAVAgARGBI3QjM4OUMyNkNGNUE3MjJDN0EA")
    );
}

#[test]
fn a_failed_whatsapp_status_carries_its_first_error() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_status_failed.json",
    );
    assert_eq!(
        events,
        vec![Event::Status(StatusReport {
            provider_message_id: "wamid.HBgLMTY1MDI1MzAwMDAVAgARGBIzMkI2QjQ2RkQ3QjNGMEYwNzYA"
                .into(),
            status: DeliveryStatus::Failed,
            error: Some("131047: Re-engagement message".into()),
            at: DateTime::from_timestamp(1_750_263_773, 0),
            opted_out: false,
            recipient: None,
        })]
    );
}

#[test]
fn a_batched_whatsapp_delivery_yields_every_entry_and_change_for_this_number() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_batch.json",
    );
    assert_eq!(events.len(), 6, "{events:#?}");

    let first = message(&events[0]);
    assert_eq!(first.text, "Is my order on its way?");
    assert_eq!(first.sender.name.as_deref(), Some("Sheena Nelson"));
    let second = message(&events[1]);
    assert_eq!(second.text, "مرحبا، أحتاج مساعدة");
    assert_eq!(second.sender.identities, whatsapp_party("966501234567"));
    assert_eq!(second.sender.name.as_deref(), Some("Omar Al-Farsi"));
    assert_eq!(status(&events[2]).status, DeliveryStatus::Delivered);

    let reaction = message(&events[3]);
    assert_eq!(
        reaction.content,
        Content::Reaction {
            to: "wamid.HBgLMTY1MDI1MzAwMDAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into(),
            emoji: "👍".into(),
        }
    );
    assert_eq!(reaction.text, "👍");
    let read = status(&events[4]);
    assert_eq!(read.status, DeliveryStatus::Read);
    assert_eq!(
        read.provider_message_id,
        status(&events[2]).provider_message_id
    );
    assert_eq!(status(&events[5]).status, DeliveryStatus::Sent);

    // The change for another phone number and the template status change are left out.
    assert!(events.iter().all(|event| match event {
        Event::Message(message) => !message.text.contains("another number"),
        _ => true,
    }));
}

#[test]
fn whatsapp_button_and_list_replies_are_choices_that_reply_to_the_prompt() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_interactive.json",
    );
    let choices: Vec<(Content, &str, Option<&str>)> = events
        .iter()
        .map(|event| {
            let message = message(event);
            (
                message.content.clone(),
                message.text.as_str(),
                message.reply_to.as_deref(),
            )
        })
        .collect();
    let choice = |id: &str, title: &str| Content::Choice {
        id: Some(id.into()),
        title: title.into(),
    };
    assert_eq!(
        choices,
        vec![
            (
                choice("change-address", "Change address"),
                "Change address",
                Some("wamid.HBgLMTY1MDI1MzAwMDAVAgARGBJBQkNERUYwMTIzNDU2Nzg5QUIA")
            ),
            (
                choice("priority-express", "Express shipping"),
                "Express shipping",
                Some("wamid.HBgLMTY1MDI1MzAwMDAVAgARGBJGRURDQkEwOTg3NjU0MzIxRkUA")
            ),
            (
                choice("track-order", "Track my order"),
                "Track my order",
                Some("wamid.HBgLMTY1MDI1MzAwMDAVAgARGBIxMjM0NTY3ODlBQkNERUYwMTIA")
            ),
        ]
    );
}

#[test]
fn whatsapp_locations_contacts_and_unsupported_messages_are_read() {
    let events = deliver(
        ChannelKind::Whatsapp,
        &whatsapp_settings("http://127.0.0.1:9"),
        "whatsapp_location_contacts.json",
    );
    assert_eq!(events.len(), 3);
    let location = message(&events[0]);
    assert_eq!(location.sender.identities, whatsapp_party("989121234567"));
    assert_eq!(
        location.content,
        Content::Location {
            latitude: 40.782910059774,
            longitude: -73.959075808525,
            name: Some("Solomon R. Guggenheim Museum".into()),
            address: Some("1071 5th Ave, New York, NY 10128".into()),
        }
    );
    assert!(location.text.contains("Solomon R. Guggenheim Museum"));

    let contacts = message(&events[1]);
    let Content::Contacts { contacts: cards } = &contacts.content else {
        panic!("{contacts:?}");
    };
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].name, "Barbara J. Johnson");
    assert_eq!(cards[0].phones, vec!["+1 (415) 555-2671".to_string()]);
    assert_eq!(cards[0].emails, vec!["bjohnson@example.com".to_string()]);
    assert!(contacts.text.contains("Barbara J. Johnson"));

    assert_eq!(
        message(&events[2]).content,
        Content::Unsupported {
            what: "131051: Message type unknown".into()
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Messenger and Instagram payloads

#[test]
fn messenger_messages_postbacks_reactions_and_receipts_are_read() {
    let events = deliver(
        ChannelKind::Messenger,
        &messenger_settings("http://127.0.0.1:9"),
        "messenger_messages.json",
    );
    assert_eq!(events.len(), 8, "{events:#?}");
    let party = vec![(IdentityKind::Messenger, PSID.to_string())];

    let text = message(&events[0]);
    assert_eq!(text.sender.identities, party);
    assert_eq!(text.direction, Direction::Inbound);
    assert_eq!(text.text, "hello, world!");
    assert_eq!(text.content, Content::Text);
    assert_eq!(
        text.reply_to.as_deref(),
        Some(
            "m_1Gh6hsb9nXjkuP0Ap9LjkAy-YP2dI6lnRzZs9h5hC9RM7IYpNxFFZtMO8tLGTxcnGfKOUSATjM8sgeqS7ZrBBw"
        )
    );
    assert_eq!(
        text.sent_at,
        DateTime::from_timestamp_millis(1_750_092_000_001)
    );

    let files = message(&events[1]);
    assert_eq!(files.content, Content::Media);
    let urls: Vec<&str> = files
        .media
        .iter()
        .map(|media| match &media.source {
            MediaSource::Url { url } => url.as_str(),
            other => panic!("Messenger files are CDN URLs: {other:?}"),
        })
        .collect();
    assert_eq!(urls.len(), 2);
    assert!(urls[0].starts_with("https://scontent.xx.fbcdn.net/"));
    assert!(urls[1].starts_with("https://cdn.fbsbx.com/"));

    assert_eq!(
        message(&events[2]).content,
        Content::Choice {
            id: Some("TRACK_ORDER".into()),
            title: "Track my order".into()
        }
    );
    let postback = message(&events[3]);
    assert_eq!(
        postback.content,
        Content::Postback {
            payload: "AGENT".into(),
            title: Some("Talk to an agent".into())
        }
    );
    assert!(postback.provider_message_id.starts_with("m_D1Su5"));

    let reaction = message(&events[4]);
    assert_eq!(
        reaction.content,
        Content::Reaction {
            to: "m_1Gh6hsb9nXjkuP0Ap9LjkAy-YP2dI6lnRzZs9h5hC9RM7IYpNxFFZtMO8tLGTxcnGfKOUSATjM8sgeqS7ZrBBw".into(),
            emoji: "❤️".into()
        }
    );
    assert_eq!(reaction.sender.identities, party);

    for (event, mid) in events[5..7].iter().zip(["m_1Gh6", "m_2Hi7"]) {
        let delivered = status(event);
        assert_eq!(delivered.status, DeliveryStatus::Delivered);
        assert!(delivered.provider_message_id.starts_with(mid));
    }
    // A read watermark: every earlier outbound message to this customer is read.
    let read = status(&events[7]);
    assert_eq!(read.status, DeliveryStatus::Read);
    assert_eq!(read.provider_message_id, "watermark:1750092000000");
    assert_eq!(read.recipient.as_deref(), Some(PSID));
    assert_eq!(read.at, DateTime::from_timestamp_millis(1_750_092_000_007));
}

#[test]
fn echoes_of_our_own_app_are_dropped_and_others_are_outbound_to_the_customer() {
    let settings = messenger_settings("http://127.0.0.1:9");
    let events = deliver(ChannelKind::Messenger, &settings, "messenger_echoes.json");
    assert_eq!(events.len(), 1, "{events:#?}");
    let echo = message(&events[0]);
    assert_eq!(echo.direction, Direction::Outbound);
    assert_eq!(echo.text, "Answered from the Page inbox");
    assert_eq!(
        echo.sender.identities,
        vec![(IdentityKind::Messenger, PSID.to_string())]
    );

    // Without a configured app id no echo can be told apart: all are imported.
    let mut without_app = settings.clone();
    without_app.config["app_id"] = json!(null);
    let events = deliver(
        ChannelKind::Messenger,
        &without_app,
        "messenger_echoes.json",
    );
    assert_eq!(events.len(), 2);
}

#[test]
fn standby_events_of_threads_another_app_owns_are_left_out() {
    let events = deliver(
        ChannelKind::Messenger,
        &messenger_settings("http://127.0.0.1:9"),
        "messenger_standby.json",
    );
    assert_eq!(events, Vec::new());
}

#[test]
fn instagram_messages_name_the_igsid_and_reads_name_the_message() {
    let events = deliver(
        ChannelKind::Instagram,
        &instagram_settings("http://127.0.0.1:9"),
        "instagram_messages.json",
    );
    // The unsent message (`is_deleted`) is left out.
    assert_eq!(events.len(), 3, "{events:#?}");
    let text = message(&events[0]);
    assert_eq!(
        text.sender.identities,
        vec![(IdentityKind::Instagram, "6500000000000001".to_string())]
    );
    assert_eq!(text.text, "Do you ship to Riyadh?");
    let image = message(&events[1]);
    assert!(matches!(
        &image.media[0].source,
        MediaSource::Url { url } if url.starts_with("https://lookaside.fbsbx.com/ig_messaging_cdn/")
    ));
    let read = status(&events[2]);
    assert_eq!(read.status, DeliveryStatus::Read);
    assert_eq!(
        read.provider_message_id,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2NjQxNjcxNjA"
    );
}

#[test]
fn entries_for_another_page_are_left_out() {
    let mut settings = messenger_settings("http://127.0.0.1:9");
    settings.config["page_id"] = json!("999999999999999");
    let events = deliver(ChannelKind::Messenger, &settings, "messenger_messages.json");
    assert_eq!(events, Vec::new());
}

// ---------------------------------------------------------------------------------------------
// A fake Graph API

/// What the fake received.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    body: Value,
}

/// An answer the fake gives instead of its default success.
struct Scripted {
    status: u16,
    retry_after: Option<&'static str>,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    requests: Vec<Recorded>,
    /// Answers for the next requests in order; `None` is the default success.
    scripted: VecDeque<Option<Scripted>>,
    sent: u32,
    /// Where media URLs point (a second listener, as Meta's CDN is another host).
    cdn: String,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn requests(&self) -> Vec<Recorded> {
        self.0.lock().unwrap().requests.clone()
    }

    fn script(&self, status: u16, retry_after: Option<&'static str>, body: Value) {
        self.0.lock().unwrap().scripted.push_back(Some(Scripted {
            status,
            retry_after,
            body,
        }));
    }

    /// The next request gets the default success.
    fn pass(&self) {
        self.0.lock().unwrap().scripted.push_back(None);
    }
}

const MEDIA_BYTES: &[u8] = b"\xff\xd8\xff\xe0 a small jpeg";

async fn graph(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = fake.0.lock().unwrap();
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
        authorization: headers
            .get("authorization")
            .map(|value| value.to_str().unwrap().to_string()),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    state.requests.push(recorded.clone());
    if let Some(Some(scripted)) = state.scripted.pop_front() {
        let mut response = (
            StatusCode::from_u16(scripted.status).unwrap(),
            axum::Json(scripted.body),
        )
            .into_response();
        if let Some(seconds) = scripted.retry_after {
            response
                .headers_mut()
                .insert("retry-after", seconds.parse().unwrap());
        }
        return response;
    }
    state.sent += 1;
    let sent = state.sent;
    let path = recorded.path.as_str();
    if method == Method::GET && path == "/v21.0/1003383421387256" {
        let url = format!(
            "{}/whatsapp_business/attachments/?mid=1003383421387256&ext=1750090702&hash=ATtv",
            state.cdn
        );
        return axum::Json(json!({
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": "image/jpeg",
            "sha256": "Ibbh2pf/bnt6+LHK+2zaFPHrBwk0Bs8WrzhbyPvLUxU=",
            "file_size": MEDIA_BYTES.len(),
            "id": "1003383421387256",
        }))
        .into_response();
    }
    if method == Method::GET && path.starts_with("/whatsapp_business/attachments") {
        return ([("content-type", "image/jpeg")], MEDIA_BYTES).into_response();
    }
    if method == Method::GET && path == "/cdn/returns.pdf" {
        return ([("content-type", "application/pdf")], &b"%PDF-1.7"[..]).into_response();
    }
    if path == "/v21.0/me/messages" {
        let recipient = recorded.body["recipient"]["id"].clone();
        return axum::Json(
            json!({ "recipient_id": recipient, "message_id": format!("m_sent_{sent}") }),
        )
        .into_response();
    }
    if path.ends_with("/messages") {
        let to = recorded.body["to"].clone();
        return axum::Json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": to, "wa_id": to }],
            "messages": [{ "id": format!("wamid.sent.{sent}") }],
        }))
        .into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn listen(fake: Fake) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(graph).with_state(fake);
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{address}")
}

/// The fake Graph API and its CDN (a second listener sharing the same record).
async fn spawn_graph() -> (Fake, String, String) {
    let fake = Fake::default();
    let base = listen(fake.clone()).await;
    let cdn = listen(fake.clone()).await;
    fake.0.lock().unwrap().cdn = cdn.clone();
    (fake, base, cdn)
}

fn http() -> reqwest::Client {
    seam_channels::http::client(Duration::from_secs(5)).unwrap()
}

fn outgoing(to: &str) -> Outgoing {
    Outgoing {
        message_id: uuid::Uuid::now_v7(),
        to: to.into(),
        text: None,
        media: Vec::new(),
        buttons: Vec::new(),
        template: None,
        tag: None,
        reply_token: None,
        reply_to: None,
    }
}

fn accepted(id: &str) -> Sent {
    Sent::Accepted {
        provider_message_id: id.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// WhatsApp sends

#[tokio::test]
async fn a_whatsapp_text_reply_is_posted_to_the_phone_number_with_the_bearer_token() {
    let (fake, base, _) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let mut message = outgoing("16502530000");
    message.text = Some("It comes in blue and green.".into());
    message.reply_to =
        Some("wamid.HBgLMTY1MDI1MzAwMDAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into());

    let sent = adapter_for(ChannelKind::Whatsapp, &settings)
        .send(&http(), &settings, &message)
        .await;

    assert_eq!(sent, accepted("wamid.sent.1"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v21.0/106540352242922/messages");
    assert!(request.query.is_empty());
    assert_eq!(request.authorization.as_deref(), Some("Bearer EAAB-token"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16502530000",
            "type": "text",
            "text": { "body": "It comes in blue and green.", "preview_url": false },
            "context": { "message_id": "wamid.HBgLMTY1MDI1MzAwMDAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=" },
        })
    );
}

#[tokio::test]
async fn a_whatsapp_template_fills_its_body_parameters_in_order() {
    let (fake, base, _) = spawn_graph().await;
    let mut settings = whatsapp_settings(&base);
    settings.config["api_version"] = json!("v22.0");
    let mut message = outgoing("+966501234567");
    message.template = Some(TemplateMessage {
        name: "order_update".into(),
        language: "en_US".into(),
        parameters: vec!["Omar".into(), "12345".into()],
        content_sid: None,
    });

    let sent = adapter_for(ChannelKind::Whatsapp, &settings)
        .send(&http(), &settings, &message)
        .await;

    assert_eq!(sent, accepted("wamid.sent.1"));
    let request = &fake.requests()[0];
    assert_eq!(request.path, "/v22.0/106540352242922/messages");
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "966501234567",
            "type": "template",
            "template": {
                "name": "order_update",
                "language": { "code": "en_US" },
                "components": [{
                    "type": "body",
                    "parameters": [
                        { "type": "text", "text": "Omar" },
                        { "type": "text", "text": "12345" },
                    ],
                }],
            },
        })
    );
}

#[tokio::test]
async fn whatsapp_buttons_become_an_interactive_message_within_meta_limits() {
    let (fake, base, _) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);
    let button = |id: &str, title: &str| Button {
        id: id.into(),
        title: title.into(),
    };
    let mut message = outgoing("16502530000");
    message.text = Some("Was your question answered?".into());
    message.buttons = vec![button("yes", "Yes, thanks"), button("no", "No")];

    assert_eq!(
        adapter.send(&http(), &settings, &message).await,
        accepted("wamid.sent.1")
    );
    assert_eq!(
        fake.requests()[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "16502530000",
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": { "text": "Was your question answered?" },
                "action": { "buttons": [
                    { "type": "reply", "reply": { "id": "yes", "title": "Yes, thanks" } },
                    { "type": "reply", "reply": { "id": "no", "title": "No" } },
                ] },
            },
        })
    );

    let mut four = message.clone();
    four.buttons = (0..4).map(|n| button(&n.to_string(), "Pick")).collect();
    let mut long_title = message.clone();
    long_title.buttons = vec![button("long", "A title over twenty chars")];
    let mut long_text = outgoing("16502530000");
    long_text.text = Some("x".repeat(4097));
    for refused in [four, long_title, long_text, outgoing("16502530000")] {
        let sent = adapter.send(&http(), &settings, &refused).await;
        assert!(matches!(sent, Sent::Permanent { .. }), "{sent:?}");
    }
    assert_eq!(
        fake.requests().len(),
        1,
        "refused messages never reach Meta"
    );
}

#[tokio::test]
async fn whatsapp_files_go_by_link_and_a_document_carries_its_file_name() {
    let (fake, base, _) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);

    let mut single = outgoing("16502530000");
    single.text = Some("Your label".into());
    single.media = vec![OutgoingMedia {
        url: "https://files.example.com/label.png".into(),
        content_type: "image/png".into(),
        file_name: None,
    }];
    assert_eq!(
        adapter.send(&http(), &settings, &single).await,
        accepted("wamid.sent.1")
    );

    let mut several = outgoing("16502530000");
    several.text = Some("Your invoice and the receipt".into());
    several.media = vec![
        OutgoingMedia {
            url: "https://files.example.com/f/8d1e/invoice.pdf".into(),
            content_type: "application/pdf".into(),
            file_name: None,
        },
        OutgoingMedia {
            url: "https://files.example.com/receipt.jpg".into(),
            content_type: "image/jpeg".into(),
            file_name: None,
        },
    ];
    assert_eq!(
        adapter.send(&http(), &settings, &several).await,
        accepted("wamid.sent.2")
    );

    let bodies: Vec<Value> = fake
        .requests()
        .into_iter()
        .map(|request| {
            let mut body = request.body;
            body.as_object_mut().unwrap().remove("messaging_product");
            body.as_object_mut().unwrap().remove("recipient_type");
            body.as_object_mut().unwrap().remove("to");
            body
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            json!({ "type": "image", "image": { "link": "https://files.example.com/label.png", "caption": "Your label" } }),
            json!({ "type": "document", "document": { "link": "https://files.example.com/f/8d1e/invoice.pdf", "filename": "invoice.pdf" } }),
            json!({ "type": "image", "image": { "link": "https://files.example.com/receipt.jpg" } }),
            json!({ "type": "text", "text": { "body": "Your invoice and the receipt", "preview_url": false } }),
        ]
    );
}

#[tokio::test]
async fn whatsapp_throttling_is_retried_after_the_time_meta_asks_then_succeeds() {
    let (fake, base, _) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);
    let mut message = outgoing("16502530000");
    message.text = Some("hello".into());

    fake.script(
        429,
        Some("7"),
        json!({ "error": {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": { "messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached." },
            "fbtrace_id": "AbCdEf123",
        } }),
    );
    let first = adapter.send(&http(), &settings, &message).await;
    let Sent::Retry {
        reason,
        retry_after,
    } = first
    else {
        panic!("{first:?}");
    };
    assert!(reason.starts_with("130429: "), "{reason}");
    assert_eq!(retry_after, Some(Duration::from_secs(7)));

    // The pair rate limit comes as a 400 but is worth retrying; so is a 5xx.
    fake.script(
        400,
        None,
        json!({ "error": { "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit", "code": 131056 } }),
    );
    assert!(matches!(
        adapter.send(&http(), &settings, &message).await,
        Sent::Retry { .. }
    ));
    fake.script(503, None, json!({}));
    assert!(matches!(
        adapter.send(&http(), &settings, &message).await,
        Sent::Retry { .. }
    ));

    assert_eq!(
        adapter.send(&http(), &settings, &message).await,
        accepted("wamid.sent.1")
    );
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn a_permanent_whatsapp_error_names_its_code_and_never_the_token() {
    let (fake, base, _) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);
    let mut message = outgoing("16502530000");
    message.text = Some("hello".into());

    fake.script(
        400,
        None,
        json!({ "error": {
            "message": "(#131047) Re-engagement message",
            "type": "OAuthException",
            "code": 131047,
            "error_data": {
                "messaging_product": "whatsapp",
                "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
            },
            "fbtrace_id": "AbCdEf124",
        } }),
    );
    let Sent::Permanent { reason, opted_out } = adapter.send(&http(), &settings, &message).await
    else {
        panic!("131047 is permanent");
    };
    assert!(
        reason.starts_with("131047: (#131047) Re-engagement message"),
        "{reason}"
    );
    assert!(!opted_out);

    fake.script(
        401,
        None,
        json!({ "error": {
            "message": "Invalid OAuth access token - Cannot parse access token EAAB-token",
            "type": "OAuthException",
            "code": 190,
            "fbtrace_id": "AbCdEf125",
        } }),
    );
    let Sent::Permanent { reason, .. } = adapter.send(&http(), &settings, &message).await else {
        panic!("190 is permanent");
    };
    assert!(reason.starts_with("190: "), "{reason}");
    assert!(!reason.contains(TOKEN), "{reason}");
}

// ---------------------------------------------------------------------------------------------
// Messenger and Instagram sends

#[tokio::test]
async fn messenger_sends_each_file_then_the_text_with_quick_replies_and_the_proof() {
    let (fake, base, _) = spawn_graph().await;
    let settings = messenger_settings(&base);
    let mut message = outgoing(PSID);
    message.text = Some("Which size?".into());
    message.buttons = vec![
        Button {
            id: "SIZE_M".into(),
            title: "Medium".into(),
        },
        Button {
            id: "SIZE_L".into(),
            title: "Large".into(),
        },
    ];
    message.media = vec![OutgoingMedia {
        url: "https://files.example.com/sizes.png".into(),
        content_type: "image/png".into(),
        file_name: None,
    }];

    let sent = adapter_for(ChannelKind::Messenger, &settings)
        .send(&http(), &settings, &message)
        .await;

    assert_eq!(sent, accepted("m_sent_1"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v21.0/me/messages");
        assert_eq!(
            request.query,
            vec![
                ("access_token".to_string(), TOKEN.to_string()),
                ("appsecret_proof".to_string(), T7_PROOF.to_string()),
            ]
        );
        assert_eq!(request.authorization, None);
    }
    assert_eq!(
        requests[0].body,
        json!({
            "recipient": { "id": PSID },
            "messaging_type": "RESPONSE",
            "message": { "attachment": { "type": "image", "payload": { "url": "https://files.example.com/sizes.png", "is_reusable": false } } },
        })
    );
    assert_eq!(
        requests[1].body,
        json!({
            "recipient": { "id": PSID },
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Which size?",
                "quick_replies": [
                    { "content_type": "text", "title": "Medium", "payload": "SIZE_M" },
                    { "content_type": "text", "title": "Large", "payload": "SIZE_L" },
                ],
            },
        })
    );
}

#[tokio::test]
async fn an_instagram_reply_outside_the_window_carries_the_human_agent_tag() {
    let (fake, base, _) = spawn_graph().await;
    let settings = instagram_settings(&base);
    let mut message = outgoing("6500000000000001");
    message.text = Some("Sorry for the wait: yes, we ship to Riyadh.".into());
    message.tag = Some("HUMAN_AGENT".into());

    let sent = adapter_for(ChannelKind::Instagram, &settings)
        .send(&http(), &settings, &message)
        .await;

    assert_eq!(sent, accepted("m_sent_1"));
    let request = &fake.requests()[0];
    assert_eq!(request.path, "/v21.0/me/messages");
    assert_eq!(
        request.body,
        json!({
            "recipient": { "id": "6500000000000001" },
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": { "text": "Sorry for the wait: yes, we ship to Riyadh." },
        })
    );
}

#[tokio::test]
async fn messenger_errors_follow_graph_codes_and_a_partial_send_is_not_repeated() {
    let (fake, base, _) = spawn_graph().await;
    let settings = messenger_settings(&base);
    let adapter = adapter_for(ChannelKind::Messenger, &settings);
    let mut message = outgoing(PSID);
    message.text = Some("hello".into());

    fake.script(
        400,
        None,
        json!({ "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "type": "OAuthException",
            "code": 10,
            "error_subcode": 2018278,
            "fbtrace_id": "AbCdEf126",
        } }),
    );
    let sent = adapter.send(&http(), &settings, &message).await;
    assert!(
        matches!(&sent, Sent::Permanent { reason, .. } if reason.starts_with("10: ")),
        "{sent:?}"
    );

    fake.script(429, Some("30"), json!({ "error": { "message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613 } }));
    assert_eq!(
        adapter.send(&http(), &settings, &message).await,
        Sent::Retry {
            reason: "613: (#613) Calls to this api have exceeded the rate limit.".into(),
            retry_after: Some(Duration::from_secs(30)),
        }
    );

    // The attachment went out, the text failed: retrying would send the attachment twice.
    message.media = vec![OutgoingMedia {
        url: "https://files.example.com/a.pdf".into(),
        content_type: "application/pdf".into(),
        file_name: None,
    }];
    fake.pass();
    fake.script(
        500,
        None,
        json!({ "error": { "message": "An unknown error occurred", "code": 1 } }),
    );
    let sent = adapter.send(&http(), &settings, &message).await;
    assert!(
        matches!(&sent, Sent::Permanent { reason, .. } if reason.starts_with("1 of 2 parts were sent")),
        "{sent:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Media

#[tokio::test]
async fn whatsapp_media_is_downloaded_in_two_steps_and_the_token_goes_only_to_meta() {
    let (fake, base, cdn) = spawn_graph().await;
    let settings = whatsapp_settings(&base);
    let media = MediaRef {
        source: MediaSource::Provider {
            id: "1003383421387256".into(),
        },
        content_type: Some("image/jpeg".into()),
        file_name: None,
    };
    let adapter = adapter_for(ChannelKind::Whatsapp, &settings);

    // The guard stays on: the lookup goes to the configured base URL with the token; the file
    // URL it answers is neither that base nor one of Meta's media hosts, so it is fetched like
    // any other URL: without the token, and not at all when it is a local address.
    let guarded = Fetcher::new(Duration::from_secs(5), 1 << 20, false).unwrap();
    let error = adapter
        .fetch_media(&guarded, &settings, &media)
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Refused(_)), "{error:?}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "/v21.0/1003383421387256");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some("Bearer EAAB-token")
    );

    let private_allowed = Fetcher::new(Duration::from_secs(5), 1 << 20, true).unwrap();
    let fetched = adapter
        .fetch_media(&private_allowed, &settings, &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, MEDIA_BYTES);
    assert_eq!(fetched.content_type.as_deref(), Some("image/jpeg"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].path, "/whatsapp_business/attachments/");
    assert!(
        requests[2]
            .query
            .contains(&("mid".into(), "1003383421387256".into()))
    );
    assert_eq!(
        requests[2].authorization, None,
        "the token never reaches a host that is not Meta's"
    );
    assert_ne!(base, cdn);
}

#[tokio::test]
async fn a_whatsapp_media_id_that_is_not_an_id_is_refused() {
    let settings = whatsapp_settings("http://127.0.0.1:9");
    let fetcher = Fetcher::new(Duration::from_secs(2), 1024, true).unwrap();
    for id in ["../me/accounts", "123?fields=access_token", ""] {
        let media = MediaRef {
            source: MediaSource::Provider { id: id.into() },
            content_type: None,
            file_name: None,
        };
        let error = adapter_for(ChannelKind::Whatsapp, &settings)
            .fetch_media(&fetcher, &settings, &media)
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Refused(_)), "{id}: {error:?}");
    }
}

#[tokio::test]
async fn messenger_files_are_fetched_without_credentials_through_the_guard() {
    let (fake, base, cdn) = spawn_graph().await;
    let settings = messenger_settings(&base);
    let adapter = adapter_for(ChannelKind::Messenger, &settings);
    let media = MediaRef {
        source: MediaSource::Url {
            url: format!("{cdn}/cdn/returns.pdf"),
        },
        content_type: None,
        file_name: None,
    };

    let guarded = Fetcher::new(Duration::from_secs(2), 1 << 20, false).unwrap();
    let error = adapter
        .fetch_media(&guarded, &settings, &media)
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Refused(_)), "{error:?}");
    assert!(fake.requests().is_empty());

    let private_allowed = Fetcher::new(Duration::from_secs(2), 1 << 20, true).unwrap();
    let fetched = adapter
        .fetch_media(&private_allowed, &settings, &media)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"%PDF-1.7");
    assert_eq!(fetched.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(fake.requests()[0].authorization, None);
}
