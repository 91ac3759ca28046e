//! A client of the agent app's WebSocket, `GET /api/v1/realtime`, that keeps what it receives.

use futures::{SinkExt, StreamExt};
use serde_json::Value;

use super::EVENTUALLY;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connection to `GET /api/v1/realtime` that keeps every event it receives.
pub struct Realtime {
    socket: Socket,
    pub seen: Vec<Value>,
}

impl Realtime {
    pub async fn connect(base_url: &str, token: &str) -> Realtime {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "{}/api/v1/realtime",
            base_url.replacen("http://", "ws://", 1)
        );
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|error| panic!("realtime connection refused: {error}"));
        assert_eq!(response.status().as_u16(), 101);
        Realtime {
            socket,
            seen: Vec::new(),
        }
    }

    /// Attempts a handshake with these headers; returns its HTTP status (101 when accepted).
    pub async fn handshake_status(base_url: &str, headers: &[(&str, &str)]) -> u16 {
        use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
        let url = format!(
            "{}/api/v1/realtime",
            base_url.replacen("http://", "ws://", 1)
        );
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((_, response)) => response.status().as_u16(),
            Err(Error::Http(response)) => response.status().as_u16(),
            Err(error) => panic!("realtime handshake failed without an HTTP answer: {error}"),
        }
    }

    /// Reads events until one satisfies `predicate` (or the hang guard passes); returns it.
    pub async fn wait_for(&mut self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|event| predicate(event)) {
            return found.clone();
        }
        let deadline = tokio::time::Instant::now() + EVENTUALLY;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            let message = match next {
                Err(_) => panic!("no realtime event {what}; saw {:#?}", self.seen),
                Ok(None) => panic!("realtime socket closed before {what}; saw {:#?}", self.seen),
                Ok(Some(message)) => message.unwrap(),
            };
            use tokio_tungstenite::tungstenite::Message;
            match message {
                Message::Text(text) => {
                    let event: Value = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|_| panic!("realtime sent non-JSON text: {text}"));
                    self.seen.push(event.clone());
                    if predicate(&event) {
                        return event;
                    }
                }
                Message::Ping(payload) => {
                    let _ = self.socket.send(Message::Pong(payload)).await;
                }
                Message::Close(_) => panic!("realtime socket closed before {what}"),
                _ => {}
            }
        }
    }
}
