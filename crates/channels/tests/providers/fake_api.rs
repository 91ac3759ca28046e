//! A local stand-in for a provider's HTTP API in the adapter tests: listens on 127.0.0.1,
//! records every request and answers with the replies a test scripted, in order.

// Each test file uses the part of it its provider needs.
#![allow(dead_code)]

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    /// Path and query, as received.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    requests: Vec<Recorded>,
    replies: VecDeque<Reply>,
}

#[derive(Clone)]
pub struct FakeApi {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeApi {
    pub async fn start() -> FakeApi {
        let script = Arc::new(Mutex::new(Script::default()));
        let router = axum::Router::new()
            .fallback(answer)
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeApi { url, script }
    }

    /// Queues a JSON answer.
    pub fn reply_json(&self, status: u16, body: serde_json::Value) -> &Self {
        self.reply(
            status,
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// Queues an answer; requests past the script get a 599.
    pub fn reply(&self, status: u16, headers: &[(&str, &str)], body: &[u8]) -> &Self {
        self.script.lock().unwrap().replies.push_back(Reply {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: body.to_vec(),
        });
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut script = script.lock().unwrap();
    script.requests.push(Recorded {
        method,
        target: uri
            .path_and_query()
            .map(|target| target.to_string())
            .unwrap_or_default(),
        headers,
        body: body.to_vec(),
    });
    let Some(reply) = script.replies.pop_front() else {
        return (StatusCode::from_u16(599).unwrap(), "no reply scripted").into_response();
    };
    let mut response = Response::builder().status(reply.status);
    for (name, value) in reply.headers {
        response = response.header(name, value);
    }
    response.body(reply.body.into()).unwrap()
}
