//! Files in replies, end to end: an agent uploads a PDF and answers a WhatsApp customer with it
//! and a caption; the provider (a local fake of the Graph API) receives a `document` whose
//! `link` is a signed, expiring URL on Seam; fetching that link returns the exact bytes with
//! their content type, while the same link with another signature or a past expiry is refused;
//! the thread lists the file; another workspace's upload cannot be attached.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{
    Agent, Backend, eventually, http_client,
    messaging::{FakeProvider, Reply, call_hook, create_channel, meta_signature},
    spawn_seam_with,
};
use ring::hmac;
use serde_json::{Value, json};

on_both_backends!(
    a_pdf_sent_on_whatsapp_is_fetched_by_the_provider_through_a_signed_expiring_link,
    an_upload_of_another_workspace_cannot_be_attached,
);

const APP_SECRET: &str = "media-app-secret";
/// The server's secret key, given on the command line so that the scenario can sign a link
/// itself and show that a genuine signature past its expiry is still refused.
const SECRET_KEY: &str = "4f6d6564696120736563726574206b657920666f72207468652074657374732e";
const PHONE_NUMBER_ID: &str = "106540352242922";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
    2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A WhatsApp channel whose Graph API is a local fake accepting every message.
async fn whatsapp_channel(agent: &Agent) -> (Value, FakeProvider) {
    let provider = FakeProvider::start().await;
    provider.on(
        "POST",
        &format!("/v21.0/{PHONE_NUMBER_ID}/messages"),
        Reply::json(
            200,
            json!({"messaging_product": "whatsapp",
                "contacts": [{"input": "16502530000", "wa_id": "16502530000"}],
                "messages": [{"id": "wamid.invoice-sent"}]}),
        ),
    );
    let channel = create_channel(
        agent,
        "whatsapp",
        json!({"phone_number_id": PHONE_NUMBER_ID, "base_url": provider.url}),
        json!({"access_token": "EAAB-media", "app_secret": APP_SECRET}),
    )
    .await;
    (channel, provider)
}

/// The customer writes on WhatsApp (opening the 24-hour window); returns the conversation.
async fn customer_writes(agent: &Agent, hook: &str, text: &str) -> String {
    let body = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Layla"}, "wa_id": "16502530000"}],
            "messages": [{"from": "16502530000", "id": "wamid.asks-invoice",
                "timestamp": chrono::Utc::now().timestamp().to_string(),
                "type": "text", "text": {"body": text}}]}}]}]}))
    .unwrap();
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

async fn upload_pdf(agent: &Agent, file_name: &str) -> Value {
    let uploaded = agent
        .api
        .post_raw(
            &format!("/api/v1/uploads?file_name={file_name}"),
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(uploaded.status, 201, "{uploaded:?}");
    uploaded.json
}

/// GET without any credential, as a provider fetches: status, content type, headers, bytes.
async fn fetch(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = http_client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

/// The same link with one query parameter replaced.
fn with_param(link: &str, name: &str, value: &str) -> String {
    let (base, query) = link.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key == name => format!("{key}={value}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param<'a>(link: &'a str, name: &str) -> &'a str {
    let (_, query) = link.split_once('?').unwrap();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap()
}

async fn assert_refused(url: &str) {
    let (status, _, body) = fetch(url).await;
    assert_eq!(status, 403, "{url}: {}", String::from_utf8_lossy(&body));
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "forbidden", "{error}");
}

async fn a_pdf_sent_on_whatsapp_is_fetched_by_the_provider_through_a_signed_expiring_link(
    backend: Backend,
) {
    // Arrange: a WhatsApp channel, a customer who asked for their invoice, the uploaded PDF.
    let seam = spawn_seam_with(backend, &["--secret-key", SECRET_KEY], &[]).await;
    let agent = seam.owner_of("Acme").await;
    let (channel, provider) = whatsapp_channel(&agent).await;
    let hook = seam.url(&format!("/hooks/{}", channel["id"].as_str().unwrap()));
    let conversation = customer_writes(&agent, &hook, "Can you send my invoice?").await;
    let upload = upload_pdf(&agent, "invoice-1042.pdf").await;
    assert_eq!(upload["file_name"], "invoice-1042.pdf");
    assert_eq!(upload["content_type"], "application/pdf");
    assert_eq!(upload["size_bytes"], PDF.len());

    // Act: reply with the file and a caption.
    let sent = agent
        .api
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"text": "Here is your invoice", "attachments": [upload["id"]]}),
        )
        .await;

    // Assert: stored with its file, sent to the provider as a document fetched by link.
    assert_eq!(sent.status, 201, "{sent:?}");
    assert_eq!(sent.json["attachments"][0]["file_name"], "invoice-1042.pdf");
    let request = provider
        .wait_for("POST", &format!("/v21.0/{PHONE_NUMBER_ID}/messages"))
        .await
        .json();
    assert_eq!(request["type"], "document", "{request}");
    assert_eq!(request["to"], "16502530000");
    let document = &request["document"];
    assert_eq!(document["caption"], "Here is your invoice");
    assert_eq!(document["filename"], "invoice-1042.pdf");
    let link = document["link"].as_str().unwrap().to_string();
    let attachment_id = sent.json["attachments"][0]["id"].as_str().unwrap();
    assert!(
        link.starts_with(&seam.url(&format!("/media/{attachment_id}?expires="))),
        "{link}"
    );
    let expires: i64 = param(&link, "expires").parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        expires > now && expires <= now + 3600,
        "valid for at most an hour: {expires} vs {now}"
    );

    // The provider fetches the link without any login: the exact bytes and their type.
    let (status, headers, bytes) = fetch(&link).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, PDF);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["cache-control"], "private, max-age=3600");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains("invoice-1042.pdf"), "{disposition}");

    // Another signature, or a genuine signature past its expiry: refused.
    let signature = param(&link, "signature");
    let flipped = if signature.ends_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}", &signature[..signature.len() - 1]);
    assert_refused(&with_param(&link, "signature", &tampered)).await;
    assert_refused(&with_param(&link, "expires", &(expires + 3600).to_string())).await;
    let past = now - 60;
    let media_key = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &hex::decode(SECRET_KEY).unwrap()),
        b"seam media urls v1",
    );
    let past_signature = hex::encode(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, media_key.as_ref()),
        format!("{attachment_id}.{past}").as_bytes(),
    ));
    let expired = with_param(
        &with_param(&link, "expires", &past.to_string()),
        "signature",
        &past_signature,
    );
    assert_refused(&expired).await;
    let renewed = (now + 600).to_string();
    let renewed_signature = hex::encode(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, media_key.as_ref()),
        format!("{attachment_id}.{renewed}").as_bytes(),
    ));
    let (status, _, _) = fetch(&with_param(
        &with_param(&link, "expires", &renewed),
        "signature",
        &renewed_signature,
    ))
    .await;
    assert_eq!(status, 200, "the same key signs a link that is still valid");

    // The thread shows the file on the reply, downloadable by the agent.
    let message = agent
        .messages(&conversation)
        .await
        .into_iter()
        .find(|message| message["id"] == sent.json["id"])
        .unwrap();
    let attachments = message["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{message}");
    assert_eq!(attachments[0]["file_name"], "invoice-1042.pdf");
    assert_eq!(attachments[0]["content_type"], "application/pdf");
    let download = agent.api.get(attachments[0]["url"].as_str().unwrap()).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.text.as_bytes(), PDF);
}

async fn an_upload_of_another_workspace_cannot_be_attached(backend: Backend) {
    let seam = spawn_seam_with(backend, &[], &[]).await;
    let acme = seam.owner_of("Acme").await;
    let globex = seam.owner_of("Globex").await;
    let (channel, provider) = whatsapp_channel(&acme).await;
    let hook = seam.url(&format!("/hooks/{}", channel["id"].as_str().unwrap()));
    let conversation = customer_writes(&acme, &hook, "Where is the invoice?").await;
    let foreign = upload_pdf(&globex, "globex-secret.pdf").await;

    let refused = acme
        .api
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({"text": "Here it is", "attachments": [foreign["id"]]}),
        )
        .await;

    refused.assert_error(422);
    assert_eq!(refused.error_field(), Some("attachments[0]"), "{refused:?}");
    assert_eq!(
        acme.messages(&conversation).await.len(),
        1,
        "nothing stored"
    );
    let sends = provider.requests_to("POST", &format!("/v21.0/{PHONE_NUMBER_ID}/messages"));
    assert!(sends.is_empty(), "nothing sent: {sends:?}");
}
