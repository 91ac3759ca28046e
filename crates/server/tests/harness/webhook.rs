//! A stand-in for an integrator's webhook endpoint: records every request, answers 200 or,
//! when told to, 500; and the check of the `Seam-Signature` header.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::eventually;

/// One request the receiver got, and what it answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether this request delivers the outbound message with this id (rather than being an
    /// event about something else).
    pub fn delivers(&self, message_id: &str) -> bool {
        self.body_text().contains(message_id)
    }
}

#[derive(Default)]
struct ReceiverRules {
    /// Requests whose body contains this text are subject to `failures_left`/`always_fail`.
    matching: Option<String>,
    failures_left: usize,
    always_fail: bool,
}

#[derive(Default)]
struct ReceiverState {
    requests: Mutex<Vec<Recorded>>,
    rules: Mutex<ReceiverRules>,
}

/// A tiny HTTP server on 127.0.0.1:0 that records every request and answers 200, or 500 when
/// told to fail.
pub struct WebhookReceiver {
    pub url: String,
    state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start() -> WebhookReceiver {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new().fallback({
            let state = Arc::clone(&state);
            move |request: axum::extract::Request| {
                let state = Arc::clone(&state);
                async move { record(&state, request).await }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver {
            url: format!("http://{address}/webhook"),
            state,
            task,
        }
    }

    /// Answers 500 to the next `count` requests whose body contains `matching`.
    pub fn fail_next(&self, count: usize, matching: &str) {
        let mut rules = self.state.rules.lock().unwrap();
        rules.matching = Some(matching.to_string());
        rules.failures_left = count;
        rules.always_fail = false;
    }

    /// Answers 500 to every request whose body contains `matching`.
    pub fn fail_always(&self, matching: &str) {
        let mut rules = self.state.rules.lock().unwrap();
        rules.matching = Some(matching.to_string());
        rules.always_fail = true;
    }

    /// Answers 200 to everything from now on.
    pub fn succeed(&self) {
        *self.state.rules.lock().unwrap() = ReceiverRules::default();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Every request that delivered the message with this id, in arrival order.
    pub fn deliveries_of(&self, message_id: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.delivers(message_id))
            .collect()
    }

    /// Waits until some recorded request satisfies `predicate`; returns it.
    pub async fn wait_for(&self, what: &str, predicate: impl Fn(&Recorded) -> bool) -> Recorded {
        eventually(what, || async {
            self.requests()
                .into_iter()
                .find(|request| predicate(request))
        })
        .await
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    state: &ReceiverState,
    request: axum::extract::Request,
) -> (axum::http::StatusCode, &'static str) {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default()
        .to_vec();
    let text = String::from_utf8_lossy(&body).into_owned();
    let fail = {
        let mut rules = state.rules.lock().unwrap();
        let applies = rules
            .matching
            .as_deref()
            .is_some_and(|matching| text.contains(matching));
        if applies && rules.always_fail {
            true
        } else if applies && rules.failures_left > 0 {
            rules.failures_left -= 1;
            true
        } else {
            false
        }
    };
    let status = if fail {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    } else {
        axum::http::StatusCode::OK
    };
    let headers = parts
        .headers
        .iter()
        .map(|(key, value)| {
            (
                key.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    state.requests.lock().unwrap().push(Recorded {
        headers,
        body,
        answered: status.as_u16(),
    });
    (status, if fail { "receiver told to fail" } else { "ok" })
}

/// Checks `Seam-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
/// Returns the problem, if any.
pub fn signature_problem(request: &Recorded, secret: &str) -> Option<String> {
    let Some(header) = request.header("Seam-Signature") else {
        return Some("no Seam-Signature header".into());
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.to_string()),
            Some(("v1", value)) => signatures.push(value.to_string()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return Some(format!("no t= in {header}"));
    };
    let Ok(seconds) = timestamp.parse::<i64>() else {
        return Some(format!("t={timestamp} is not unix seconds"));
    };
    if (chrono::Utc::now().timestamp() - seconds).abs() > 600 {
        return Some(format!("t={seconds} is not a current time"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = hex::encode(mac.finalize().into_bytes());
    if signatures.contains(&expected) {
        None
    } else {
        Some(format!(
            "v1 in {header} is not HMAC-SHA256(secret, t.body) = {expected}"
        ))
    }
}
