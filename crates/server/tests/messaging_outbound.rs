//! Messaging channels outbound, end to end: an agent's reply leaves through the job queue to
//! a local fake of the provider's API, exactly as the provider documents the request; a 429 is
//! retried and the customer gets one message, a permanent error marks the message failed with
//! the provider's reason and is not retried; WhatsApp's 24-hour window refuses free text with
//! the alternatives and lets an approved template through; an SMS STOP refuses replies until
//! START.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::IntoResponse,
};
use harness::{
    Agent, Backend, eventually,
    messaging::{call_hook, create_channel, form, meta_signature, twilio_signature},
    spawn_seam_with,
};
use serde_json::{Value, json};

on_both_backends!(
    a_whatsapp_reply_is_retried_once_after_429_failed_for_good_and_outside_the_window_only_a_template_goes,
    an_sms_stop_refuses_replies_until_the_customer_sends_start,
);

const APP_SECRET: &str = "outbound-app-secret";
const AUTH_TOKEN: &str = "outbound-auth-token";

#[derive(Clone, Debug)]
struct Sent {
    path: String,
    authorization: Option<String>,
    body: String,
}

/// A provider's send endpoint: answers the first call 429, a text containing `PERMANENT` with
/// a permanent error, everything else with a new message id.
#[derive(Clone, Default)]
struct FakeSender {
    calls: Arc<Mutex<Vec<Sent>>>,
}

impl FakeSender {
    async fn start() -> (FakeSender, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeSender::default();
        let app = Router::new().fallback(answer).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (fake, base_url)
    }

    fn calls_containing(&self, text: &str) -> Vec<Sent> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|call| call.body.contains(text))
            .cloned()
            .collect()
    }
}

async fn answer(
    State(fake): State<FakeSender>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let count = {
        let mut calls = fake.calls.lock().unwrap();
        calls.push(Sent {
            path: uri.path().to_string(),
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string),
            body: body.clone(),
        });
        calls.len()
    };
    let twilio = uri.path().ends_with("/Messages.json");
    if count == 1 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            axum::Json(json!({"error": {"code": 130429, "message": "Rate limit hit"}})),
        )
            .into_response();
    }
    if body.contains("PERMANENT") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": {"code": 131026, "message": "Message undeliverable",
                "type": "OAuthException"}}),
            ),
        )
            .into_response();
    }
    if twilio {
        (
            StatusCode::CREATED,
            axum::Json(json!({"sid": format!("SM{count:032}"), "status": "queued"})),
        )
            .into_response()
    } else {
        axum::Json(json!({"messaging_product": "whatsapp",
            "contacts": [{"input": "16502530000", "wa_id": "16502530000"}],
            "messages": [{"id": format!("wamid.sent-{count}")}]}))
        .into_response()
    }
}

fn whatsapp_text(wamid: &str, wa_id: &str, text: &str, seconds_ago: i64) -> Vec<u8> {
    let timestamp = chrono::Utc::now().timestamp() - seconds_ago;
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Layla"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": timestamp.to_string(),
                "type": "text", "text": {"body": text}}]}}]}]}))
    .unwrap()
}

fn whatsapp_status(wamid: &str, status: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": wamid, "status": status,
                "timestamp": chrono::Utc::now().timestamp().to_string(),
                "recipient_id": "16502530000"}]}}]}]}))
    .unwrap()
}

async fn deliver_to_whatsapp(hook: &str, body: Vec<u8>) {
    let signature = meta_signature(APP_SECRET, &body);
    let answered = call_hook(
        "POST",
        hook,
        &[("x-hub-signature-256", &signature)],
        "application/json",
        body,
    )
    .await;
    assert_eq!(answered.status, 200, "{}", answered.body);
}

/// The conversation whose messages include one saying `text`.
async fn conversation_with(agent: &Agent, text: &str) -> String {
    eventually(&format!("a conversation with {text:?}"), || async {
        for conversation in agent.conversations().await {
            let id = conversation["id"].as_str().unwrap().to_string();
            if agent
                .messages(&id)
                .await
                .iter()
                .any(|message| message["text"] == text)
            {
                return Some(id);
            }
        }
        None
    })
    .await
}

async fn message(agent: &Agent, conversation: &str, id: &str) -> Value {
    agent
        .messages(conversation)
        .await
        .into_iter()
        .find(|message| message["id"] == id)
        .unwrap()
}

async fn wait_for_status(agent: &Agent, conversation: &str, id: &str, status: &str) -> Value {
    eventually(&format!("message {id} {status}"), || async {
        let message = message(agent, conversation, id).await;
        (message["delivery_status"] == status).then_some(message)
    })
    .await
}

async fn a_whatsapp_reply_is_retried_once_after_429_failed_for_good_and_outside_the_window_only_a_template_goes(
    backend: Backend,
) {
    let seam = spawn_seam_with(backend, &[], &[]).await;
    let agent = seam.owner_of("Acme").await;
    let (fake, base_url) = FakeSender::start().await;
    let channel = create_channel(
        &agent,
        "whatsapp",
        json!({"phone_number_id": "106540352242922", "base_url": base_url,
            "templates": [{"name": "order_update", "language": "en_US",
                "body": "Hi {{1}}, your order has shipped", "parameters": ["customer.name"]}]}),
        json!({"access_token": "EAAB-outbound", "app_secret": APP_SECRET}),
    )
    .await;
    let hook = seam.url(&format!("/hooks/{}", channel["id"].as_str().unwrap()));

    // A customer writes; the agent answers at once. The provider answers the first send 429.
    deliver_to_whatsapp(
        &hook,
        whatsapp_text("wamid.in-1", "16502530000", "Is it in stock?", 5),
    )
    .await;
    let conversation = conversation_with(&agent, "Is it in stock?").await;
    let reply = agent.reply(&conversation, "Yes, in blue and green.").await;
    let id = reply["id"].as_str().unwrap();
    let sent = wait_for_status(&agent, &conversation, id, "sent").await;

    let calls = fake.calls_containing("Yes, in blue and green.");
    assert_eq!(calls.len(), 2, "one 429, then one accepted send: {calls:?}");
    let request: Value = serde_json::from_str(&calls[1].body).unwrap();
    assert_eq!(calls[1].path, "/v21.0/106540352242922/messages");
    assert_eq!(
        calls[1].authorization.as_deref(),
        Some("Bearer EAAB-outbound")
    );
    assert_eq!(request["messaging_product"], "whatsapp");
    assert_eq!(request["to"], "16502530000");
    assert_eq!(request["type"], "text");
    assert_eq!(request["text"]["body"], "Yes, in blue and green.");
    let wamid = sent["provider_message_id"]
        .as_str()
        .unwrap_or("wamid.sent-2");

    // Status reports move it forward only: delivered, then a late "sent" changes nothing.
    deliver_to_whatsapp(&hook, whatsapp_status(wamid, "delivered")).await;
    wait_for_status(&agent, &conversation, id, "delivered").await;
    deliver_to_whatsapp(&hook, whatsapp_status(wamid, "sent")).await;
    deliver_to_whatsapp(&hook, whatsapp_status(wamid, "read")).await;
    wait_for_status(&agent, &conversation, id, "read").await;

    // A permanent error: failed with the provider's reason, tried once.
    let doomed = agent.reply(&conversation, "PERMANENT failure ahead").await;
    let failed = wait_for_status(
        &agent,
        &conversation,
        doomed["id"].as_str().unwrap(),
        "failed",
    )
    .await;
    assert!(
        failed["delivery_error"]
            .as_str()
            .unwrap()
            .contains("131026"),
        "{failed}"
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        fake.calls_containing("PERMANENT").len(),
        1,
        "no retry of a permanent error"
    );

    // Another customer wrote 25 hours ago: free text is refused with the window's reason and
    // the alternatives; the approved template goes.
    deliver_to_whatsapp(
        &hook,
        whatsapp_text("wamid.in-2", "16502530001", "Any news?", 25 * 3600),
    )
    .await;
    let late = conversation_with(&agent, "Any news?").await;
    let refused = agent
        .api
        .post(
            &format!("/api/v1/conversations/{late}/messages"),
            json!({"text": "It shipped yesterday."}),
        )
        .await;
    assert_eq!(refused.status, 422, "{refused:?}");
    assert_eq!(refused.error_code(), "undeliverable");
    assert!(refused.error_message().contains("24-hour"), "{refused:?}");
    let alternatives = refused.json["error"]["alternatives"].as_array().unwrap();
    assert!(
        alternatives
            .iter()
            .any(|alternative| alternative["templates"] == json!(["order_update"])),
        "{alternatives:?}"
    );
    assert!(fake.calls_containing("It shipped yesterday.").is_empty());

    let template = agent
        .api
        .post(
            &format!("/api/v1/conversations/{late}/messages"),
            json!({"text": "", "template": "order_update"}),
        )
        .await;
    assert_eq!(template.status, 201, "{template:?}");
    assert_eq!(template.json["text"], "Hi Layla, your order has shipped");
    wait_for_status(&agent, &late, template.json["id"].as_str().unwrap(), "sent").await;
    let calls = fake.calls_containing("order_update");
    assert_eq!(calls.len(), 1, "{calls:?}");
    let request: Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(request["type"], "template");
    assert_eq!(request["to"], "16502530001");
    assert_eq!(request["template"]["language"]["code"], "en_US");
    assert_eq!(
        request["template"]["components"][0]["parameters"][0]["text"],
        "Layla"
    );
}

async fn an_sms_stop_refuses_replies_until_the_customer_sends_start(backend: Backend) {
    let seam = spawn_seam_with(backend, &[], &[]).await;
    let agent = seam.owner_of("Acme").await;
    let (fake, base_url) = FakeSender::start().await;
    let channel = create_channel(
        &agent,
        "sms",
        json!({"account_sid": "ACoutbound", "from": "+14155552671", "base_url": base_url}),
        json!({"auth_token": AUTH_TOKEN}),
    )
    .await;
    let hook = seam.url(&format!("/hooks/{}", channel["id"].as_str().unwrap()));
    let text = |sid: &str, body: &str| {
        vec![
            ("MessageSid", sid.to_string()),
            ("AccountSid", "ACoutbound".to_string()),
            ("From", "+16502530000".to_string()),
            ("To", "+14155552671".to_string()),
            ("Body", body.to_string()),
            ("NumMedia", "0".to_string()),
        ]
    };
    let send = |params: Vec<(&'static str, String)>| {
        let hook = hook.clone();
        async move {
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let signature = twilio_signature(AUTH_TOKEN, &hook, &pairs);
            let answered = call_hook(
                "POST",
                &hook,
                &[("x-twilio-signature", &signature)],
                "application/x-www-form-urlencoded",
                form(&pairs),
            )
            .await;
            assert_eq!(answered.status, 200, "{}", answered.body);
        }
    };

    send(text("SM1", "Do you deliver to Riyadh?")).await;
    let conversation = conversation_with(&agent, "Do you deliver to Riyadh?").await;
    send(text("SM2", "STOP")).await;
    conversation_with(&agent, "STOP").await;
    let refused = eventually("the STOP to take effect", || async {
        let response = agent
            .api
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                json!({"text": "We do!"}),
            )
            .await;
        (response.status == 422).then_some(response)
    })
    .await;
    assert_eq!(refused.error_code(), "undeliverable");
    assert!(refused.error_message().contains("START"), "{refused:?}");

    send(text("SM3", "START")).await;
    conversation_with(&agent, "START").await;
    let reply = eventually("START to take effect", || async {
        let response = agent
            .api
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                json!({"text": "We do, in two days."}),
            )
            .await;
        (response.status == 201).then_some(response.json)
    })
    .await;
    wait_for_status(&agent, &conversation, reply["id"].as_str().unwrap(), "sent").await;
    // The fake answers its first call 429: this reply is that call, then one accepted send.
    let calls = fake.calls_containing("two+days");
    assert_eq!(calls.len(), 2, "{calls:?}");
    let accepted = &calls[1];
    assert_eq!(
        accepted.path,
        "/2010-04-01/Accounts/ACoutbound/Messages.json"
    );
    assert!(
        accepted.body.contains("To=%2B16502530000"),
        "{}",
        accepted.body
    );
    assert!(
        accepted.body.contains("From=%2B14155552671"),
        "{}",
        accepted.body
    );
    assert!(
        accepted
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        2,
        "STOP and START send nothing back: the provider confirms them itself"
    );
}
