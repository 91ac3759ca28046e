//! Messaging channels inbound, end to end: providers call `/hooks/{channel}` exactly as they
//! document it, and what an agent then sees. A signed message becomes one message of the
//! customer's conversation however often it is delivered; anything unsigned, forged or
//! tampered with is refused and leaves no trace; media is fetched from the provider at once;
//! the same phone number on SMS and WhatsApp is one customer; Telegram is registered on
//! creation; LINE redeliveries are dropped; an SMS HELP is answered with the channel's text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::time::Duration;

use base64::Engine as _;
use harness::{
    Agent, Backend, eventually,
    messaging::{
        Answer, FakeProvider, Reply, call_hook, create_channel, form, hook_url, line_signature,
        meta_signature, twilio_signature,
    },
    spawn_seam_with,
};
use serde_json::{Value, json};

on_both_backends!(
    a_whatsapp_webhook_handshake_answers_the_challenge_only_with_the_verify_token,
    a_signed_whatsapp_text_is_one_message_from_one_customer_however_often_it_is_delivered,
    a_whatsapp_delivery_without_a_valid_signature_is_refused_and_changes_nothing,
    a_whatsapp_image_is_fetched_from_the_graph_api_and_attached_to_its_message,
    the_same_number_on_sms_and_whatsapp_is_one_customer_in_one_conversation,
    a_telegram_channel_registers_its_webhook_and_accepts_only_updates_carrying_its_secret,
    a_line_redelivery_of_a_message_is_not_stored_twice,
    an_sms_help_is_answered_with_the_channels_help_text_through_twilio,
);

const PHONE: &str = "+16502530000";
const WA_ID: &str = "16502530000";
const PHONE_NUMBER_ID: &str = "106540352242922";
const ACCESS_TOKEN: &str = "EAAB-inbound-access-token";
const APP_SECRET: &str = "inbound-app-secret";
const VERIFY_TOKEN: &str = "seam-verify-4711";
const ACCOUNT_SID: &str = "AC5ef8732a3c49700934481addd5ce1659";
const AUTH_TOKEN: &str = "inbound-auth-token";
const TWILIO_NUMBER: &str = "+14155552671";

/// A server whose media downloads may reach the fake providers on 127.0.0.1.
async fn seam_and_agent(backend: Backend) -> (harness::SeamProcess, Agent) {
    let seam = spawn_seam_with(backend, &["--allow-private-fetch", "true"], &[]).await;
    let agent = seam.owner_of("Acme").await;
    (seam, agent)
}

/// A WhatsApp Cloud API channel whose Graph API is at `graph` (Meta's own when `None`).
async fn whatsapp_channel(agent: &Agent, graph: Option<&str>) -> Value {
    let mut config = json!({"phone_number_id": PHONE_NUMBER_ID, "verify_token": VERIFY_TOKEN});
    if let Some(graph) = graph {
        config["base_url"] = json!(graph);
    }
    create_channel(
        agent,
        "whatsapp",
        config,
        json!({"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET}),
    )
    .await
}

async fn sms_channel(agent: &Agent, twilio: &FakeProvider, help_text: Option<&str>) -> Value {
    let mut config =
        json!({"account_sid": ACCOUNT_SID, "from": TWILIO_NUMBER, "base_url": twilio.url});
    if let Some(help_text) = help_text {
        config["help_text"] = json!(help_text);
    }
    create_channel(agent, "sms", config, json!({"auth_token": AUTH_TOKEN})).await
}

/// A WhatsApp Cloud API webhook body carrying one message from `wa_id`, as Meta sends it.
fn whatsapp_message(wamid: &str, wa_id: &str, message: Value) -> Vec<u8> {
    let mut message = message;
    message["from"] = json!(wa_id);
    message["id"] = json!(wamid);
    message["timestamp"] = json!(chrono::Utc::now().timestamp().to_string());
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": wa_id}],
            "messages": [message]}}]}]}))
    .unwrap()
}

fn whatsapp_text(wamid: &str, text: &str) -> Vec<u8> {
    whatsapp_message(
        wamid,
        WA_ID,
        json!({"type": "text", "text": {"body": text}}),
    )
}

async fn deliver_to_whatsapp(hook: &str, body: Vec<u8>) {
    let signature = meta_signature(APP_SECRET, &body);
    let answered = post_to_meta(hook, Some(&signature), body).await;
    assert_eq!(
        answered.status, 200,
        "a signed delivery is accepted: {answered:?}"
    );
}

async fn post_to_meta(hook: &str, signature: Option<&str>, body: Vec<u8>) -> Answer {
    let headers: Vec<(&str, &str)> = signature
        .map(|signature| ("X-Hub-Signature-256", signature))
        .into_iter()
        .collect();
    call_hook("POST", hook, &headers, "application/json", body).await
}

/// Posts a Twilio message webhook signed with the channel's auth token over its hook URL.
async fn post_to_twilio(hook: &str, params: &[(&str, &str)]) -> Answer {
    let signature = twilio_signature(AUTH_TOKEN, hook, params);
    call_hook(
        "POST",
        hook,
        &[("X-Twilio-Signature", &signature)],
        "application/x-www-form-urlencoded",
        form(params),
    )
    .await
}

/// The fields of an inbound SMS as Twilio posts them.
fn sms<'a>(sid: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", TWILIO_NUMBER),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", PHONE),
        ("ApiVersion", "2010-04-01"),
    ]
}

/// Every message of every conversation the agent can see.
async fn all_messages(agent: &Agent) -> Vec<Value> {
    let mut messages = Vec::new();
    for conversation in agent.conversations().await {
        messages.extend(agent.messages(conversation["id"].as_str().unwrap()).await);
    }
    messages
}

/// Waits for a message saying `text`; returns it.
async fn message_saying(agent: &Agent, text: &str) -> Value {
    eventually(&format!("a message saying {text:?}"), || async {
        all_messages(agent)
            .await
            .into_iter()
            .find(|message| message["text"] == text)
    })
    .await
}

/// Waits for a message whose text contains `part`; returns it.
async fn message_containing(agent: &Agent, part: &str) -> Value {
    eventually(&format!("a message containing {part:?}"), || async {
        all_messages(agent).await.into_iter().find(|message| {
            message["text"]
                .as_str()
                .is_some_and(|text| text.contains(part))
        })
    })
    .await
}

/// The texts of `messages`, sorted: messages sent in the same second have no set order.
fn texts(messages: &[Value]) -> Vec<&str> {
    let mut texts: Vec<&str> = messages
        .iter()
        .map(|message| message["text"].as_str().unwrap_or_default())
        .collect();
    texts.sort_unstable();
    texts
}

fn has_identity(customer: &Value, kind: &str, value: &str) -> bool {
    customer["identities"].as_array().is_some_and(|identities| {
        identities
            .iter()
            .any(|identity| identity["kind"] == kind && identity["value"] == value)
    })
}

/// Events are applied after the provider has its 200: a short wait in which nothing more
/// may happen before counting what was stored.
async fn nothing_more_happens() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}

async fn a_whatsapp_webhook_handshake_answers_the_challenge_only_with_the_verify_token(
    backend: Backend,
) {
    let (seam, agent) = seam_and_agent(backend).await;
    let channel = whatsapp_channel(&agent, None).await;
    let id = channel["id"].as_str().unwrap();
    let hook = hook_url(&channel);
    assert_eq!(hook, seam.url(&format!("/hooks/{id}")), "{channel}");
    let shown = channel.to_string();
    assert!(
        !shown.contains(ACCESS_TOKEN) && !shown.contains(APP_SECRET),
        "credentials are never shown: {shown}"
    );
    let mut names: Vec<&str> = channel["credential_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["access_token", "app_secret"], "{channel}");

    let subscribe = |token: &str| {
        format!("{hook}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    };
    let answered = call_hook("GET", &subscribe(VERIFY_TOKEN), &[], "", Vec::new()).await;
    assert_eq!(answered.status, 200, "{answered:?}");
    assert_eq!(
        answered.body, "1158201444",
        "the challenge comes back as it was"
    );
    assert!(
        answered
            .content_type
            .as_deref()
            .is_some_and(|content_type| content_type.starts_with("text/plain")),
        "{answered:?}"
    );

    let refused = call_hook("GET", &subscribe("guessed-token"), &[], "", Vec::new()).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(!refused.body.contains("1158201444"), "{refused:?}");
}

async fn a_signed_whatsapp_text_is_one_message_from_one_customer_however_often_it_is_delivered(
    backend: Backend,
) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let channel = whatsapp_channel(&agent, None).await;
    let hook = hook_url(&channel);

    // Meta retries a delivery it thinks failed: the same body, twice.
    let delivery = whatsapp_text("wamid.colour-1", "Does it come in another color?");
    deliver_to_whatsapp(&hook, delivery.clone()).await;
    deliver_to_whatsapp(&hook, delivery).await;
    let message = message_saying(&agent, "Does it come in another color?").await;
    deliver_to_whatsapp(
        &hook,
        whatsapp_text("wamid.colour-2", "Blue would be perfect."),
    )
    .await;
    message_saying(&agent, "Blue would be perfect.").await;
    nothing_more_happens().await;

    assert_eq!(message["kind"], "inbound");
    assert_eq!(message["channel_id"], channel["id"]);
    assert_eq!(message["provider_message_id"], "wamid.colour-1");
    let messages = all_messages(&agent).await;
    assert_eq!(
        texts(&messages),
        ["Blue would be perfect.", "Does it come in another color?"],
        "the redelivered message is stored once"
    );
    assert_eq!(agent.conversations().await.len(), 1);
    let customers = agent.customers().await;
    assert_eq!(customers.len(), 1, "{customers:#?}");
    let customer = &customers[0];
    assert_eq!(customer["id"], message["customer_id"]);
    assert_eq!(
        customer["name"], "Sheena Nelson",
        "the WhatsApp profile name"
    );
    let identities = customer["identities"].as_array().unwrap();
    assert_eq!(
        identities.len(),
        1,
        "the wa_id is the phone number: {customer:#}"
    );
    assert!(has_identity(customer, "phone", PHONE), "{customer:#}");
}

async fn a_whatsapp_delivery_without_a_valid_signature_is_refused_and_changes_nothing(
    backend: Backend,
) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let channel = whatsapp_channel(&agent, None).await;
    let hook = hook_url(&channel);
    deliver_to_whatsapp(&hook, whatsapp_text("wamid.genuine", "Where is my parcel?")).await;
    message_saying(&agent, "Where is my parcel?").await;

    let signed = whatsapp_text("wamid.forged", "Please refund 50 dollars");
    let signature = meta_signature(APP_SECRET, &signed);
    let tampered = String::from_utf8(signed.clone())
        .unwrap()
        .replace("50 dollars", "5000 dollars")
        .into_bytes();
    let answered = post_to_meta(&hook, Some(&signature), tampered).await;
    assert_eq!(answered.status, 401, "a tampered body: {answered:?}");
    let other_secret = meta_signature("not-the-app-secret", &signed);
    let answered = post_to_meta(&hook, Some(&other_secret), signed.clone()).await;
    assert_eq!(
        answered.status, 401,
        "signed with another secret: {answered:?}"
    );
    let answered = post_to_meta(&hook, None, signed).await;
    assert_eq!(answered.status, 401, "no signature header: {answered:?}");
    let malformed = br#"{"object": "whatsapp_business_account", "entry": ["#.to_vec();
    let signature = meta_signature(APP_SECRET, &malformed);
    let answered = post_to_meta(&hook, Some(&signature), malformed).await;
    assert_eq!(answered.status, 400, "signed but not JSON: {answered:?}");
    nothing_more_happens().await;

    let messages = all_messages(&agent).await;
    assert_eq!(
        texts(&messages),
        ["Where is my parcel?"],
        "nothing refused was stored"
    );
    assert_eq!(agent.customers().await.len(), 1);
    assert_eq!(agent.conversations().await.len(), 1);
}

async fn a_whatsapp_image_is_fetched_from_the_graph_api_and_attached_to_its_message(
    backend: Backend,
) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let graph = FakeProvider::start().await;
    // A JPEG's magic bytes and end marker around some content.
    let mut photo = vec![0xFF_u8, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    photo.extend_from_slice(b"JFIF\0 the damaged box");
    photo.extend_from_slice(&[0xFF, 0xD9]);
    let file_path = "/whatsapp_business/attachments/";
    graph
        .on(
            "GET",
            "/v21.0/1003383421387256",
            Reply::json(
                200,
                json!({"messaging_product": "whatsapp", "id": "1003383421387256",
                    "url": format!("{}{file_path}?mid=1003383421387256&ext=1750090702&hash=ATu", graph.url),
                    "mime_type": "image/jpeg", "file_size": photo.len(),
                    "sha256": "Ibbh2pf/bnt6+LHK+2zaFPHrBwk0Bs8WrzhbyPvLUxU="}),
            ),
        )
        .on("GET", file_path, Reply::file("image/jpeg", &photo));
    let channel = whatsapp_channel(&agent, Some(&graph.url)).await;

    let image = json!({"type": "image", "image": {"caption": "Here is the damaged box",
        "mime_type": "image/jpeg", "sha256": "Ibbh2pf/bnt6+LHK+2zaFPHrBwk0Bs8WrzhbyPvLUxU=",
        "id": "1003383421387256"}});
    deliver_to_whatsapp(
        &hook_url(&channel),
        whatsapp_message("wamid.photo", WA_ID, image),
    )
    .await;
    let message = eventually("the image attached to its message", || async {
        all_messages(&agent).await.into_iter().find(|message| {
            message["text"] == "Here is the damaged box"
                && message["attachments"]
                    .as_array()
                    .is_some_and(|files| !files.is_empty())
        })
    })
    .await;

    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{message:#}");
    assert_eq!(attachments[0]["content_type"], "image/jpeg", "{message:#}");
    assert_eq!(attachments[0]["size_bytes"], photo.len(), "{message:#}");
    let download = harness::http_client()
        .get(agent.api.base_url.clone() + attachments[0]["url"].as_str().unwrap())
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.bytes().await.unwrap().to_vec(),
        photo,
        "the bytes Meta served"
    );

    let requests = graph.requests();
    let paths: Vec<&str> = requests
        .iter()
        .map(|request| request.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["/v21.0/1003383421387256", file_path],
        "the media id's URL, then the file"
    );
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str()),
            "Meta's media URLs want the access token: {request:?}"
        );
    }
}

async fn the_same_number_on_sms_and_whatsapp_is_one_customer_in_one_conversation(backend: Backend) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let twilio = FakeProvider::start().await;
    let sms_channel = sms_channel(&agent, &twilio, None).await;
    let whatsapp = whatsapp_channel(&agent, None).await;

    let answered = post_to_twilio(
        &hook_url(&sms_channel),
        &sms(
            "SM1f0e8ae6ade43cb3c0ce4525424e404f",
            "Hi, is my order on its way?",
        ),
    )
    .await;
    assert_eq!(answered.status, 200, "{answered:?}");
    assert!(
        answered
            .content_type
            .as_deref()
            .is_some_and(|value| value.starts_with("text/xml"))
            && answered.body.contains("<Response"),
        "Twilio is answered with TwiML that sends nothing: {answered:?}"
    );
    let by_sms = message_saying(&agent, "Hi, is my order on its way?").await;
    deliver_to_whatsapp(
        &hook_url(&whatsapp),
        whatsapp_text("wamid.same-number", "Writing from WhatsApp now."),
    )
    .await;
    let by_whatsapp = message_saying(&agent, "Writing from WhatsApp now.").await;

    assert_eq!(by_sms["channel_id"], sms_channel["id"]);
    assert_eq!(by_whatsapp["channel_id"], whatsapp["id"]);
    assert_eq!(
        by_sms["customer_id"], by_whatsapp["customer_id"],
        "one customer"
    );
    assert_eq!(
        by_sms["conversation_id"], by_whatsapp["conversation_id"],
        "one conversation"
    );
    assert_eq!(agent.conversations().await.len(), 1);
    let customers = agent.customers().await;
    assert_eq!(customers.len(), 1, "{customers:#?}");
    let phones: Vec<&Value> = customers[0]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|identity| identity["kind"] == "phone")
        .collect();
    assert_eq!(phones.len(), 1, "{customers:#?}");
    assert_eq!(phones[0]["value"], PHONE);
    let messages = all_messages(&agent).await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages.iter().all(|message| message["kind"] == "inbound"));
}

async fn a_telegram_channel_registers_its_webhook_and_accepts_only_updates_carrying_its_secret(
    backend: Backend,
) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let telegram = FakeProvider::start().await;
    let bot_token = "7123456789:AAH-inbound-bot-token";
    let set_webhook = format!("/bot{bot_token}/setWebhook");
    telegram.on(
        "POST",
        &set_webhook,
        Reply::json(
            200,
            json!({"ok": true, "result": true, "description": "Webhook was set"}),
        ),
    );
    let channel = create_channel(
        &agent,
        "telegram",
        json!({"base_url": telegram.url}),
        json!({"bot_token": bot_token}),
    )
    .await;
    let hook = hook_url(&channel);

    let registration = telegram.wait_for("POST", &set_webhook).await.json();
    assert_eq!(registration["url"], hook.as_str(), "{registration}");
    let secret = registration["secret_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        (1..=256).contains(&secret.len())
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "Telegram takes 1-256 characters of A-Z, a-z, 0-9, _ and -: {secret:?}"
    );
    let shown = channel.to_string();
    assert!(
        !shown.contains(bot_token) && !shown.contains(&secret),
        "{shown}"
    );

    let update = |update_id: i64, kind: &str, text: &str, edit_date: Option<i64>| {
        let mut message = json!({"message_id": 1365,
            "from": {"id": 1111111, "is_bot": false, "first_name": "Ann", "last_name": "Lee",
                "language_code": "en"},
            "chat": {"id": 1111111, "first_name": "Ann", "last_name": "Lee", "type": "private"},
            "date": 1441645532, "text": text});
        if let Some(edit_date) = edit_date {
            message["edit_date"] = json!(edit_date);
        }
        serde_json::to_vec(&json!({"update_id": update_id, kind: message})).unwrap()
    };
    let post = |secret: Option<&str>, body: Vec<u8>| {
        let hook = hook.clone();
        let secret = secret.map(str::to_string);
        async move {
            let headers: Vec<(&str, &str)> = secret
                .as_deref()
                .map(|secret| ("X-Telegram-Bot-Api-Secret-Token", secret))
                .into_iter()
                .collect();
            call_hook("POST", &hook, &headers, "application/json", body).await
        }
    };

    let answered = post(
        Some(&secret),
        update(10000, "message", "Where is my order?", None),
    )
    .await;
    assert_eq!(answered.status, 200, "{answered:?}");
    let original = message_saying(&agent, "Where is my order?").await;
    let forged = update(10001, "message", "Send the refund elsewhere", None);
    let answered = post(Some("a-guessed-secret"), forged.clone()).await;
    assert_eq!(answered.status, 401, "a wrong secret: {answered:?}");
    let answered = post(None, forged).await;
    assert_eq!(answered.status, 401, "no secret: {answered:?}");
    let edit = update(
        10002,
        "edited_message",
        "Where is my order A-1042?",
        Some(1441645700),
    );
    let answered = post(Some(&secret), edit).await;
    assert_eq!(answered.status, 200, "{answered:?}");
    // The edit is a message of its own, beside the original (it may be marked as an edit).
    let edited = message_containing(&agent, "Where is my order A-1042?").await;
    nothing_more_happens().await;

    assert_ne!(edited["id"], original["id"]);
    assert_eq!(edited["conversation_id"], original["conversation_id"]);
    let messages = all_messages(&agent).await;
    assert_eq!(
        messages.len(),
        2,
        "nothing refused was stored: {messages:#?}"
    );
    assert_eq!(
        original["text"], "Where is my order?",
        "the original is kept as it was"
    );
    let customers = agent.customers().await;
    assert_eq!(customers.len(), 1, "{customers:#?}");
    assert_eq!(customers[0]["name"], "Ann Lee");
    assert!(
        has_identity(&customers[0], "telegram", "1111111"),
        "{customers:#?}"
    );
}

async fn a_line_redelivery_of_a_message_is_not_stored_twice(backend: Backend) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let line = FakeProvider::start().await;
    let channel_secret = "inbound-line-channel-secret";
    let channel = create_channel(
        &agent,
        "line",
        json!({"base_url": line.url, "data_base_url": line.url}),
        json!({"channel_access_token": "inbound-line-token", "channel_secret": channel_secret}),
    )
    .await;
    let hook = hook_url(&channel);
    let user = "U4af4980629be1b7ecb67e06a1d2b4f4a";
    let delivery = |event_id: &str, message_id: &str, text: &str, redelivery: bool| {
        serde_json::to_vec(&json!({"destination": "U8e742f61d673b39c7fff3cecb7536ef0",
            "events": [{"type": "message", "mode": "active", "timestamp": 1692251666727_i64,
                "webhookEventId": event_id, "deliveryContext": {"isRedelivery": redelivery},
                "source": {"type": "user", "userId": user},
                "replyToken": "38ef843bde154d9b91c21320ffd17a0f",
                "message": {"type": "text", "id": message_id, "quoteToken": "q3Plxr4AgKd",
                    "text": text}}]}))
        .unwrap()
    };
    let post = |body: Vec<u8>| {
        let hook = hook.clone();
        async move {
            let signature = line_signature(channel_secret, &body);
            let answered = call_hook(
                "POST",
                &hook,
                &[("X-Line-Signature", &signature)],
                "application/json",
                body,
            )
            .await;
            assert_eq!(answered.status, 200, "a signed LINE delivery: {answered:?}");
        }
    };

    let first = "01H810YECXQQZ37VAXPF6H9E6T";
    post(delivery(
        first,
        "468789577898262530",
        "I need help with my order",
        false,
    ))
    .await;
    message_saying(&agent, "I need help with my order").await;
    post(delivery(
        first,
        "468789577898262530",
        "I need help with my order",
        true,
    ))
    .await;
    post(delivery(
        "01H810YECXQQZ37VAXPF6H9E6U",
        "468789577898262531",
        "It is A-1042",
        false,
    ))
    .await;
    message_saying(&agent, "It is A-1042").await;
    nothing_more_happens().await;

    let messages = all_messages(&agent).await;
    assert_eq!(
        texts(&messages),
        ["I need help with my order", "It is A-1042"],
        "the redelivery is dropped"
    );
    let customers = agent.customers().await;
    assert_eq!(customers.len(), 1, "{customers:#?}");
    assert!(has_identity(&customers[0], "line", user), "{customers:#?}");
}

async fn an_sms_help_is_answered_with_the_channels_help_text_through_twilio(backend: Backend) {
    let (_seam, agent) = seam_and_agent(backend).await;
    let twilio = FakeProvider::start().await;
    let messages_api = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json");
    twilio.on(
        "POST",
        &messages_api,
        Reply::json(
            201,
            json!({"sid": "SM9c4a6e1c3b2f4d5e8a7b6c5d4e3f2a1b", "status": "queued"}),
        ),
    );
    let help_text = "Acme Support: answers within a day. Reply STOP to opt out.";
    let channel = sms_channel(&agent, &twilio, Some(help_text)).await;

    let answered = post_to_twilio(
        &hook_url(&channel),
        &sms("SM5a1c0d1e2f3a4b5c6d7e8f9a0b1c2d3e", "HELP"),
    )
    .await;
    assert_eq!(answered.status, 200, "{answered:?}");

    let sent = twilio.wait_for("POST", &messages_api).await;
    assert_eq!(
        sent.form_value("Body").as_deref(),
        Some(help_text),
        "{sent:?}"
    );
    assert_eq!(sent.form_value("To").as_deref(), Some(PHONE));
    assert_eq!(sent.form_value("From").as_deref(), Some(TWILIO_NUMBER));
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    let answer = message_saying(&agent, help_text).await;
    let help = message_saying(&agent, "HELP").await;
    assert_eq!(answer["kind"], "outbound", "{answer:#}");
    assert_eq!(help["kind"], "inbound", "{help:#}");
    assert_eq!(answer["conversation_id"], help["conversation_id"]);
    nothing_more_happens().await;
    assert_eq!(
        twilio.requests_to("POST", &messages_api).len(),
        1,
        "the help text goes once"
    );
}
