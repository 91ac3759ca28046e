//! The people and systems that use Seam in a scenario: a browser session, an agent holding an
//! API token, an integrator posting to an API channel.

use serde_json::{Value, json};

use super::{Api, Response, eventually};

/// A cookie session as a browser holds it.
#[derive(Debug)]
pub struct Session {
    pub base_url: String,
    /// `seam_session=…; seam_csrf=…`, as a browser would send them back.
    pub cookie: String,
    pub csrf_token: String,
    pub user: Value,
    pub set_cookies: Vec<String>,
}

impl Session {
    pub fn from_login(base_url: &str, response: &Response) -> Session {
        let set_cookies = response.set_cookies();
        let cookie = set_cookies
            .iter()
            .filter_map(|header| header.split(';').next())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; ");
        assert!(
            cookie.contains("seam_session="),
            "login set no seam_session cookie: {response:?}"
        );
        let csrf_token = response.json["csrf_token"]
            .as_str()
            .expect("login returns csrf_token");
        Session {
            base_url: base_url.to_string(),
            cookie,
            csrf_token: csrf_token.to_string(),
            user: response.json["user"].clone(),
            set_cookies,
        }
    }

    /// The session as a browser uses it, sending the CSRF header on writes.
    pub fn api(&self) -> Api {
        Api::cookie(&self.base_url, &self.cookie, Some(&self.csrf_token))
    }

    /// The session cookie without the CSRF header, as a forged cross-site request would carry it.
    pub fn api_without_csrf(&self) -> Api {
        Api::cookie(&self.base_url, &self.cookie, None)
    }

    pub async fn create_token(&self, name: &str) -> String {
        let response = self
            .api()
            .post("/api/v1/auth/tokens", json!({ "name": name }))
            .await;
        assert_eq!(response.status, 201, "token creation failed: {response:?}");
        assert!(
            response.json["id"].is_string(),
            "token without id: {response:?}"
        );
        response.json["token"]
            .as_str()
            .expect("token is shown once")
            .to_string()
    }
}

/// A user with an API token: how scenarios act as an agent.
#[derive(Clone, Debug)]
pub struct Agent {
    pub api: Api,
    pub user_id: String,
    pub email: String,
    pub workspace_id: String,
    pub token: String,
}

/// An API channel as its creator sees it once: id and secret.
#[derive(Clone, Debug)]
pub struct ApiChannel {
    pub id: String,
    pub secret: String,
    pub base_url: String,
}

impl Agent {
    /// The same agent talking to a restarted server (a new port, the same storage).
    pub fn on(&self, base_url: &str) -> Agent {
        Agent {
            api: Api::bearer(base_url, &self.token),
            ..self.clone()
        }
    }

    pub async fn create_api_channel(&self, name: &str, webhook_url: Option<&str>) -> ApiChannel {
        let config = match webhook_url {
            Some(url) => json!({ "webhook_url": url }),
            None => json!({}),
        };
        let response = self
            .api
            .post(
                "/api/v1/channels",
                json!({ "kind": "api", "name": name, "config": config }),
            )
            .await;
        assert_eq!(
            response.status, 201,
            "channel creation failed: {response:?}"
        );
        ApiChannel {
            id: response.json["id"]
                .as_str()
                .expect("channel id")
                .to_string(),
            secret: response.json["secret"]
                .as_str()
                .expect("api channel secret")
                .to_string(),
            base_url: self.api.base_url.clone(),
        }
    }

    pub async fn conversations(&self) -> Vec<Value> {
        self.api.list_all("/api/v1/conversations").await
    }

    pub async fn customers(&self) -> Vec<Value> {
        self.api.list_all("/api/v1/customers").await
    }

    pub async fn messages(&self, conversation_id: &str) -> Vec<Value> {
        self.api
            .list_all(&format!("/api/v1/conversations/{conversation_id}/messages"))
            .await
    }

    /// Replies on the conversation; expects 201 and returns the stored message.
    pub async fn reply(&self, conversation_id: &str, text: &str) -> Value {
        let response = self
            .api
            .post(
                &format!("/api/v1/conversations/{conversation_id}/messages"),
                json!({ "text": text }),
            )
            .await;
        assert_eq!(response.status, 201, "reply failed: {response:?}");
        response.json
    }

    /// Polls the conversation until the message reaches `status`; returns the message.
    pub async fn wait_for_delivery_status(
        &self,
        conversation_id: &str,
        message_id: &str,
        status: &str,
    ) -> Value {
        eventually(
            &format!("message {message_id} to become {status}"),
            || async {
                self.messages(conversation_id)
                    .await
                    .into_iter()
                    .find(|message| message["id"] == message_id)
                    .filter(|message| message["delivery_status"] == status)
            },
        )
        .await
    }
}

impl ApiChannel {
    /// The same channel on a restarted server.
    pub fn on(&self, base_url: &str) -> ApiChannel {
        ApiChannel {
            base_url: base_url.to_string(),
            ..self.clone()
        }
    }

    /// `POST /api/v1/channels/{id}/inbound` with this channel's secret.
    pub async fn post_inbound(&self, body: Value) -> Response {
        Api::bearer(&self.base_url, &self.secret)
            .post(&format!("/api/v1/channels/{}/inbound", self.id), body)
            .await
    }

    /// Posts an inbound message and expects it accepted (202).
    pub async fn receive(&self, body: Value) -> Received {
        let response = self.post_inbound(body).await;
        assert_eq!(response.status, 202, "inbound refused: {response:?}");
        Received::from_json(&response.json)
    }
}

/// The ids an accepted inbound message landed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub customer_id: String,
    pub conversation_id: String,
    pub message_id: String,
}

impl Received {
    pub fn from_json(json: &Value) -> Received {
        let field = |name: &str| {
            json[name]
                .as_str()
                .unwrap_or_else(|| panic!("202 without {name}: {json}"))
                .to_string()
        };
        Received {
            customer_id: field("customer_id"),
            conversation_id: field("conversation_id"),
            message_id: field("message_id"),
        }
    }
}
