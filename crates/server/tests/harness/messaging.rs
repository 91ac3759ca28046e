//! Messaging providers from the outside: creating a provider channel, calling its
//! `/hooks/{id}` endpoint as WhatsApp, Messenger, Telegram, LINE or Twilio would (signed as each
//! documents it), and a local fake of a provider's API that records every request Seam makes.

use std::sync::{Arc, Mutex};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use ring::hmac;
use serde_json::{Value, json};

use super::{Agent, eventually, http_client};

/// `POST /api/v1/channels` for a provider channel; expects 201 and returns the channel as
/// shown (`id`, `kind`, `config`, `hook_url`, `credential_names`).
pub async fn create_channel(agent: &Agent, kind: &str, config: Value, credentials: Value) -> Value {
    let response = agent
        .api
        .post(
            "/api/v1/channels",
            json!({
                "kind": kind,
                "name": format!("Acme on {kind}"),
                "config": config,
                "credentials": credentials,
            }),
        )
        .await;
    assert_eq!(
        response.status, 201,
        "creating a {kind} channel failed: {response:?}"
    );
    response.json
}

/// The URL the provider is told to call for this channel.
pub fn hook_url(channel: &Value) -> String {
    channel["hook_url"]
        .as_str()
        .unwrap_or_else(|| panic!("a provider channel shows its hook_url: {channel}"))
        .to_string()
}

/// What a webhook call was answered with.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
}

/// Calls a hook URL as a provider does: `method`, extra `headers`, the body sent byte for byte.
/// An empty `content_type` sends no `Content-Type` header.
pub async fn call_hook(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http_client().request(method, url);
    if !content_type.is_empty() {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        body,
        content_type,
    }
}

/// An `application/x-www-form-urlencoded` body, as Twilio posts its webhooks.
pub fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// The WHATWG form encoding: alphanumerics and `*-._` as they are, space as `+`, everything
/// else as `%XX` of its UTF-8 bytes.
fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                encoded.push(byte as char);
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// The pairs of a form-encoded body, decoded.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], escaped) {
            (_, Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (b'+', None) => {
                decoded.push(b' ');
                index += 1;
            }
            (other, None) => {
                decoded.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Meta's `X-Hub-Signature-256`: `sha256=` and the lowercase hex HMAC-SHA256 of the raw body,
/// keyed with the app secret (WhatsApp Cloud, Messenger, Instagram).
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body)))
}

/// Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, over the URL
/// Twilio called followed by every form parameter, sorted by name, as name then value.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut signed = url.to_string();
    for (name, value) in sorted {
        signed.push_str(name);
        signed.push_str(value);
    }
    // Twilio's webhook signature is still HMAC-SHA1.
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, auth_token.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, signed.as_bytes()))
}

/// LINE's `X-Line-Signature`: base64 HMAC-SHA256 of the raw body, keyed with the channel
/// secret.
pub fn line_signature(channel_secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, channel_secret.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, body))
}

/// One request Seam made to a fake provider.
#[derive(Clone)]
pub struct ProviderRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for ProviderRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &self.headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl ProviderRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The value of a form field of the body (the first, when the name repeats).
    pub fn form_value(&self, name: &str) -> Option<String> {
        form_pairs(&self.body)
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    fn is(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path == path
    }
}

/// What a fake provider answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            content_type: "application/json".into(),
            body: body.to_string().into_bytes(),
        }
    }

    /// A file, answered 200.
    pub fn file(content_type: &str, bytes: &[u8]) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.into(),
            body: bytes.to_vec(),
        }
    }
}

type Rule = Box<dyn Fn(&ProviderRequest) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct ProviderState {
    requests: Mutex<Vec<ProviderRequest>>,
    rules: Mutex<Vec<Rule>>,
}

/// A provider's HTTP API on 127.0.0.1: records every request and answers with the first rule
/// that matches it, or 404 when none does. Point a channel's `base_url` at [`FakeProvider::url`].
#[derive(Clone)]
pub struct FakeProvider {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    state: Arc<ProviderState>,
}

impl FakeProvider {
    pub async fn start() -> FakeProvider {
        let state = Arc::new(ProviderState::default());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProvider { url, state }
    }

    /// Answers every `method` request to `path` (the query is not compared) with `reply`.
    pub fn on(&self, method: &str, path: &str, reply: Reply) -> &Self {
        let (method, path) = (method.to_string(), path.to_string());
        self.answer(move |request| request.is(&method, &path).then(|| reply.clone()))
    }

    /// Adds a rule: the answer for the requests it returns `Some` for. Rules are tried in the
    /// order they were added.
    pub fn answer(
        &self,
        rule: impl Fn(&ProviderRequest) -> Option<Reply> + Send + Sync + 'static,
    ) -> &Self {
        self.state.rules.lock().unwrap().push(Box::new(rule));
        self
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests made with `method` to `path`, in arrival order.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<ProviderRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.is(method, path))
            .collect()
    }

    /// Waits until a request with `method` to `path` has arrived; returns the first.
    pub async fn wait_for(&self, method: &str, path: &str) -> ProviderRequest {
        eventually(&format!("Seam to call {method} {path}"), || async {
            self.requests_to(method, path).into_iter().next()
        })
        .await
    }
}

async fn answer(
    State(state): State<Arc<ProviderState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = ProviderRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    };
    state.requests.lock().unwrap().push(request.clone());
    let reply = state
        .rules
        .lock()
        .unwrap()
        .iter()
        .find_map(|rule| rule(&request));
    match reply {
        Some(reply) => (
            StatusCode::from_u16(reply.status).unwrap(),
            [(axum::http::header::CONTENT_TYPE, reply.content_type)],
            reply.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({
                "error": format!("the fake provider has no answer for {} {}", request.method, request.path),
            })),
        )
            .into_response(),
    }
}
