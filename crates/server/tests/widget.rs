//! The website chat widget's WebSocket end to end: a real `seam` process, widgets played by a
//! WebSocket client sending the page's `Origin`, agents using the HTTP API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use futures::{SinkExt, StreamExt};
use harness::{
    Agent, Backend, EVENTUALLY, MailServer, SeamProcess, eventually, send_mail, spawn_seam,
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, client::IntoClientRequest};

on_both_backends!(
    the_widget_script_is_served_for_caching,
    only_the_channels_allowed_origins_may_open_the_widget,
    a_visitors_message_reaches_the_agent_and_the_reply_reaches_the_widget_with_receipts,
    the_same_client_id_twice_stores_one_message,
    a_visitor_token_shows_only_its_own_visitors_conversation,
    a_wrong_user_hash_never_joins_the_existing_customer_and_a_right_one_does,
    too_many_and_too_long_messages_get_error_frames,
    a_reply_to_an_absent_visitor_who_left_an_email_goes_by_email_and_their_answer_comes_back,
    a_reply_to_an_absent_visitor_without_email_waits_for_the_next_visit,
);

const SHOP: &str = "http://shop.example";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct WebchatChannel {
    id: String,
    secret: String,
}

async fn create_webchat_channel(agent: &Agent) -> WebchatChannel {
    let response = agent
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "webchat", "name": "Shop site",
                   "config": {"allowed_origins": [SHOP], "away_after_secs": 0}}),
        )
        .await;
    assert_eq!(response.status, 201, "{response:?}");
    WebchatChannel {
        id: response.json["id"].as_str().unwrap().to_string(),
        secret: response.json["secret"].as_str().unwrap().to_string(),
    }
}

fn socket_url(base_url: &str, channel_id: &str) -> String {
    format!(
        "{}/widget/ws?channel={channel_id}",
        base_url.replacen("http://", "ws://", 1)
    )
}

async fn handshake_status(base_url: &str, channel_id: &str, origin: Option<&str>) -> u16 {
    let mut request = socket_url(base_url, channel_id)
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(error) => panic!("handshake failed without an HTTP answer: {error}"),
    }
}

/// A widget as the page runs it: connected from the shop's origin, past its welcome.
struct Widget {
    socket: Socket,
    welcome: Value,
    seen: Vec<Value>,
}

impl Widget {
    async fn open(seam: &SeamProcess, channel: &WebchatChannel, hello: Value) -> Widget {
        let mut request = socket_url(&seam.base_url, &channel.id)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("Origin", SHOP.parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut widget = Widget {
            socket,
            welcome: Value::Null,
            seen: Vec::new(),
        };
        let mut hello = hello;
        hello["type"] = json!("hello");
        widget.send(hello).await;
        widget.welcome = widget
            .wait_for("the welcome", |frame| frame["type"] == "welcome")
            .await;
        widget
    }

    /// Closes the connection the way a page does when the visitor leaves, and waits until the
    /// server has let it go (its gauge of open widgets is back to zero).
    async fn leave(mut self, agent: &Agent) {
        let _ = self.socket.close(None).await;
        while let Some(Ok(_)) = self.socket.next().await {}
        eventually("the server to let the widget go", || async {
            (metric(agent, "seam_widget_connections").await == 0).then_some(())
        })
        .await;
    }

    fn visitor(&self) -> Value {
        json!({
            "visitor_id": self.welcome["visitor_id"],
            "visitor_token": self.welcome["visitor_token"],
        })
    }

    fn history_texts(&self) -> Vec<String> {
        self.welcome["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message["text"].as_str().unwrap().to_string())
            .collect()
    }

    async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    async fn write(&mut self, client_id: &str, text: &str) -> Value {
        self.send(json!({"type": "message", "client_id": client_id, "text": text}))
            .await;
        self.wait_for(&format!("the answer to {client_id}"), |frame| {
            frame["client_id"] == client_id
        })
        .await
    }

    /// Reads frames until one satisfies `predicate`; returns it (and forgets it, so the same
    /// frame is not found twice).
    async fn wait_for(&mut self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.seen.iter().position(&predicate) {
            return self.seen.remove(index);
        }
        let deadline = tokio::time::Instant::now() + EVENTUALLY;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            let message = match next {
                Err(_) => panic!("no frame {what}; saw {:#?}", self.seen),
                Ok(None) => panic!("widget socket closed before {what}; saw {:#?}", self.seen),
                Ok(Some(message)) => message.unwrap(),
            };
            match message {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                    if predicate(&frame) {
                        return frame;
                    }
                    self.seen.push(frame);
                }
                Message::Ping(payload) => {
                    let _ = self.socket.send(Message::Pong(payload)).await;
                }
                Message::Close(frame) => panic!("widget socket closed before {what}: {frame:?}"),
                _ => {}
            }
        }
    }
}

fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn conversation_of(agent: &Agent, customer_id: &str) -> Value {
    eventually("the visitor's conversation", || async {
        agent
            .conversations()
            .await
            .into_iter()
            .find(|conversation| conversation["customer_id"] == customer_id)
    })
    .await
}

/// The customer holding this visitor id, as agents see it.
async fn customer_of_visitor(agent: &Agent, visitor_id: &str) -> Value {
    let found = agent
        .api
        .get(&format!("/api/v1/customers?q={visitor_id}"))
        .await;
    assert_eq!(found.status, 200, "{found:?}");
    found.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|customer| {
            customer["identities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|identity| identity["kind"] == "visitor" && identity["value"] == visitor_id)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no customer holds visitor {visitor_id}: {found:?}"))
}

async fn the_widget_script_is_served_for_caching(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let client = harness::http_client();

    let first = client.get(seam.url("/widget.js")).send().await.unwrap();
    let status = first.status().as_u16();
    let headers = first.headers().clone();
    let body = first.text().await.unwrap();
    let etag = headers["etag"].to_str().unwrap().to_string();
    let again = client
        .get(seam.url("/widget.js"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();

    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert!(body.starts_with("// @ts-check"));
    assert!(body.contains("/widget/ws?channel="));
    assert_eq!(again.status().as_u16(), 304);
}

async fn only_the_channels_allowed_origins_may_open_the_widget(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;

    let allowed = handshake_status(&seam.base_url, &channel.id, Some(SHOP)).await;
    let foreign = handshake_status(&seam.base_url, &channel.id, Some("http://evil.example")).await;
    let lookalike = handshake_status(
        &seam.base_url,
        &channel.id,
        Some("http://shop.example.evil.example"),
    )
    .await;
    let without = handshake_status(&seam.base_url, &channel.id, None).await;
    let unknown = handshake_status(
        &seam.base_url,
        &uuid::Uuid::now_v7().to_string(),
        Some(SHOP),
    )
    .await;

    assert_eq!(allowed, 101);
    assert_eq!(foreign, 403);
    assert_eq!(lookalike, 403);
    assert_eq!(without, 403);
    assert_eq!(unknown, 404);
    let refused = agent
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "webchat", "name": "No origins", "config": {}}),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_field(), Some("config.allowed_origins"));
}

async fn a_visitors_message_reaches_the_agent_and_the_reply_reaches_the_widget_with_receipts(
    backend: Backend,
) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let mut widget = Widget::open(&seam, &channel, json!({"name": "Layla"})).await;
    assert_eq!(widget.history_texts(), Vec::<String>::new());

    // Act: the visitor writes.
    let ack = widget.write("c-1", "Is the blue lamp in stock?").await;

    // Assert: acknowledged and visible to the agent.
    assert_eq!(ack["type"], "ack", "{ack}");
    let visitor_id = widget.welcome["visitor_id"].as_str().unwrap().to_string();
    let customer = customer_of_visitor(&agent, &visitor_id).await;
    assert_eq!(customer["name"], "Layla");
    let conversation = conversation_of(&agent, customer["id"].as_str().unwrap()).await;
    let conversation_id = conversation["id"].as_str().unwrap();
    let messages = agent.messages(conversation_id).await;
    assert!(
        messages
            .iter()
            .any(|message| message["id"] == ack["message_id"]
                && message["text"] == "Is the blue lamp in stock?"
                && message["channel_id"] == channel.id.as_str()),
        "{messages:#?}"
    );

    // Act: the agent types, then replies through the API.
    let typing = agent
        .api
        .post(
            &format!("/api/v1/conversations/{conversation_id}/typing"),
            json!({"typing": true}),
        )
        .await;
    assert_eq!(typing.status, 202, "{typing:?}");
    widget
        .wait_for("the agent typing", |frame| {
            frame["type"] == "typing" && frame["typing"] == true
        })
        .await;
    let reply = agent.reply(conversation_id, "Yes, two left.").await;
    let reply_id = reply["id"].as_str().unwrap().to_string();

    // Assert: it arrives on the socket, and is then sent, delivered and read.
    let pushed = widget
        .wait_for("the agent's reply", |frame| frame["type"] == "message")
        .await;
    assert_eq!(pushed["message"]["id"], reply_id.as_str());
    assert_eq!(pushed["message"]["author"], "agent");
    assert_eq!(pushed["message"]["text"], "Yes, two left.");
    agent
        .wait_for_delivery_status(conversation_id, &reply_id, "sent")
        .await;
    widget
        .send(json!({"type": "delivered", "message_ids": [reply_id]}))
        .await;
    agent
        .wait_for_delivery_status(conversation_id, &reply_id, "delivered")
        .await;
    widget
        .send(json!({"type": "read", "message_ids": [reply_id]}))
        .await;
    agent
        .wait_for_delivery_status(conversation_id, &reply_id, "read")
        .await;
    // A late "delivered" does not move it back.
    widget
        .send(json!({"type": "delivered", "message_ids": [reply_id]}))
        .await;
    let again = Widget::open(&seam, &channel, widget.visitor()).await;
    assert_eq!(
        again.history_texts(),
        ["Is the blue lamp in stock?", "Yes, two left."]
    );
    assert_eq!(again.welcome["messages"][1]["status"], "read");
}

async fn the_same_client_id_twice_stores_one_message(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let mut widget = Widget::open(&seam, &channel, json!({})).await;

    let first = widget
        .write("offline-1", "Sent while the train was in a tunnel")
        .await;
    // The connection drops before the ack is seen; the widget says hello again and resends.
    let mut again = Widget::open(&seam, &channel, widget.visitor()).await;
    let second = again
        .write("offline-1", "Sent while the train was in a tunnel")
        .await;

    assert_eq!(first["message_id"], second["message_id"]);
    let visitor_id = widget.welcome["visitor_id"].as_str().unwrap();
    let customer = customer_of_visitor(&agent, visitor_id).await;
    let conversation = conversation_of(&agent, customer["id"].as_str().unwrap()).await;
    let messages = agent.messages(conversation["id"].as_str().unwrap()).await;
    let copies = messages
        .iter()
        .filter(|message| message["text"] == "Sent while the train was in a tunnel")
        .count();
    assert_eq!(copies, 1, "{messages:#?}");
}

async fn a_visitor_token_shows_only_its_own_visitors_conversation(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let mut first = Widget::open(&seam, &channel, json!({})).await;
    first.write("a-1", "My order number is 5521").await;
    let second = Widget::open(&seam, &channel, json!({})).await;

    // The second visitor presents the first's id with its own token, then with none.
    let borrowed = Widget::open(
        &seam,
        &channel,
        json!({"visitor_id": first.welcome["visitor_id"],
               "visitor_token": second.welcome["visitor_token"]}),
    )
    .await;
    let bare = Widget::open(
        &seam,
        &channel,
        json!({"visitor_id": first.welcome["visitor_id"]}),
    )
    .await;

    for stranger in [&borrowed, &bare] {
        assert_ne!(
            stranger.welcome["visitor_id"], first.welcome["visitor_id"],
            "an unproven visitor id is replaced by a new one"
        );
        assert_eq!(stranger.history_texts(), Vec::<String>::new());
    }
    let owner = Widget::open(&seam, &channel, first.visitor()).await;
    assert_eq!(owner.history_texts(), ["My order number is 5521"]);
}

async fn a_wrong_user_hash_never_joins_the_existing_customer_and_a_right_one_does(
    backend: Backend,
) {
    // Arrange: the shop's user 42 is a known customer (through the API channel).
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let api_channel = agent.create_api_channel("Shop backend", None).await;
    let known = api_channel
        .receive(
            json!({"message_id": "m-1", "from": {"external_id": "user-42"},
                        "text": "Earlier question about invoices"}),
        )
        .await;
    let channel = create_webchat_channel(&agent).await;

    // Act: a visitor claims to be user 42 with a forged hash, and writes.
    let mut forged = Widget::open(
        &seam,
        &channel,
        json!({"user_id": "user-42", "user_hash": user_hash("not-the-secret", "user-42")}),
    )
    .await;
    forged.write("f-1", "Show me my invoices").await;

    // Assert: not verified, no history, and a customer of its own.
    assert_eq!(forged.welcome["verified"], false);
    assert_eq!(forged.history_texts(), Vec::<String>::new());
    let visitor_id = forged.welcome["visitor_id"].as_str().unwrap();
    let stranger = customer_of_visitor(&agent, visitor_id).await;
    assert_ne!(stranger["id"], known.customer_id.as_str());
    let identities = stranger["identities"].as_array().unwrap();
    assert!(
        identities
            .iter()
            .all(|identity| identity["kind"] != "external_id"),
        "{identities:#?}"
    );

    // Act: the real user 42, with the hash the shop's server computed.
    let mut real = Widget::open(
        &seam,
        &channel,
        json!({"user_id": "user-42", "user_hash": user_hash(&channel.secret, "user-42")}),
    )
    .await;
    assert_eq!(real.welcome["verified"], true);
    assert_eq!(real.history_texts(), ["Earlier question about invoices"]);
    real.write("r-1", "About those invoices").await;
    let visitor_id = real.welcome["visitor_id"].as_str().unwrap();
    let customer = customer_of_visitor(&agent, visitor_id).await;
    assert_eq!(customer["id"], known.customer_id.as_str());
}

async fn too_many_and_too_long_messages_get_error_frames(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let mut widget = Widget::open(&seam, &channel, json!({})).await;

    let too_long = widget.write("long-1", &"x".repeat(5 * 1024)).await;
    assert_eq!(too_long["type"], "error");
    assert_eq!(too_long["code"], "too_long");

    let mut answers = Vec::new();
    for index in 0..15 {
        answers.push(widget.write(&format!("burst-{index}"), "hello?").await);
    }
    let limited: Vec<&Value> = answers
        .iter()
        .filter(|answer| answer["code"] == "rate_limited")
        .collect();
    assert!(!limited.is_empty(), "{answers:#?}");
    assert!(
        limited
            .iter()
            .all(|answer| answer["retry_after_ms"].as_u64() > Some(0))
    );
    let acked = answers
        .iter()
        .filter(|answer| answer["type"] == "ack")
        .count();
    let visitor_id = widget.welcome["visitor_id"].as_str().unwrap();
    let customer = customer_of_visitor(&agent, visitor_id).await;
    let conversation = conversation_of(&agent, customer["id"].as_str().unwrap()).await;
    let stored = agent.messages(conversation["id"].as_str().unwrap()).await;
    assert_eq!(
        stored.len(),
        acked,
        "every acked message is stored, no other"
    );

    widget
        .send(json!({"type": "steal", "visitor_id": "v_1"}))
        .await;
    let bad = widget
        .wait_for("the bad frame's error", |frame| {
            frame["code"] == "bad_frame"
        })
        .await;
    assert_eq!(bad["type"], "error");
}

/// An email channel whose replies go through a relay to the customer's mail server.
async fn add_email_channel(agent: &Agent, relay: &MailServer) -> String {
    let response = agent
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "email", "name": "Support mailbox", "config": {
                "address": "support@shop.example",
                "relay": {"host": relay.host, "port": relay.port, "security": "none"},
            }}),
        )
        .await;
    assert_eq!(response.status, 201, "{response:?}");
    response.json["id"].as_str().unwrap().to_string()
}

async fn a_reply_to_an_absent_visitor_who_left_an_email_goes_by_email_and_their_answer_comes_back(
    backend: Backend,
) {
    // Arrange: a visitor left an email in the pre-chat form, wrote, and left the site.
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let relay = MailServer::start().await;
    let email_channel = add_email_channel(&agent, &relay).await;
    let mut widget = Widget::open(
        &seam,
        &channel,
        json!({"name": "Omid", "email": "Omid@Example.com"}),
    )
    .await;
    widget
        .write("c-1", "Can I change my delivery address?")
        .await;
    let visitor = widget.visitor();
    widget.leave(&agent).await;
    let visitor_id = visitor["visitor_id"].as_str().unwrap();
    let customer = customer_of_visitor(&agent, visitor_id).await;
    let conversation = conversation_of(&agent, customer["id"].as_str().unwrap()).await;
    let conversation_id = conversation["id"].as_str().unwrap();

    // Act: the agent replies on the webchat channel.
    let reply = agent
        .api
        .post(
            &format!("/api/v1/conversations/{conversation_id}/messages"),
            json!({"text": "Yes: reply with the new address.", "channel": channel.id}),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let reply_id = reply.json["id"].as_str().unwrap().to_string();

    // Assert: the reply now goes through the email channel to the address, and says why.
    let rerouted = eventually("the reply re-routed to email", || async {
        agent
            .messages(conversation_id)
            .await
            .into_iter()
            .find(|message| message["id"] == reply_id.as_str())
            .filter(|message| message["channel_id"] == email_channel.as_str())
    })
    .await;
    assert_eq!(rerouted["identity"], "omid@example.com");
    let messages = agent.messages(conversation_id).await;
    assert!(
        messages.iter().any(|message| message["kind"] == "activity"
            && message["text"]
                .as_str()
                .unwrap()
                .contains("omid@example.com")),
        "{messages:#?}"
    );
    // The customer's mail server receives it, threaded, with the conversation's reply address.
    agent
        .wait_for_delivery_status(conversation_id, &reply_id, "sent")
        .await;
    let sent = eventually(
        "the customer's mail server to receive the reply",
        || async { relay.delivered().into_iter().next() },
    )
    .await;
    assert_eq!(sent.recipients, vec!["omid@example.com".to_string()]);
    let message_id = sent.header("Message-ID").unwrap();
    assert!(sent.header("Reply-To").unwrap().contains("support+"));

    // The customer answers that mail: the answer lands in the same conversation.
    let answer = format!(
        "From: Omid <omid@example.com>\r\nTo: support@shop.example\r\n\
         Subject: Re: your question\r\nMessage-ID: <answer-1@example.com>\r\n\
         In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         The new address is 12 Valiasr Street.\r\n"
    );
    send_mail(
        &seam.smtp_addr,
        "omid@example.com",
        &["support@shop.example"],
        answer.as_bytes(),
    )
    .unwrap();
    eventually("the emailed answer in the conversation", || async {
        agent
            .messages(conversation_id)
            .await
            .into_iter()
            .find(|message| message["text"] == "The new address is 12 Valiasr Street.")
    })
    .await;

    // Back on the site, the widget shows the whole thread, the email parts included.
    let back = Widget::open(&seam, &channel, visitor).await;
    let shown = &back.welcome["messages"];
    assert_eq!(shown.as_array().unwrap().len(), 3, "{shown:#?}");
    assert_eq!(shown[1]["text"], "Yes: reply with the new address.");
    assert_eq!(shown[1]["channel"], "email");
    assert_eq!(shown[2]["text"], "The new address is 12 Valiasr Street.");
    assert_eq!(shown[2]["channel"], "email");
}

async fn a_reply_to_an_absent_visitor_without_email_waits_for_the_next_visit(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_webchat_channel(&agent).await;
    let mut widget = Widget::open(&seam, &channel, json!({})).await;
    widget.write("c-1", "Do you ship to Muscat?").await;
    let visitor = widget.visitor();
    widget.leave(&agent).await;
    let customer = customer_of_visitor(&agent, visitor["visitor_id"].as_str().unwrap()).await;
    let conversation = conversation_of(&agent, customer["id"].as_str().unwrap()).await;
    let conversation_id = conversation["id"].as_str().unwrap();

    let reply = agent.reply(conversation_id, "We do, in three days.").await;
    let reply_id = reply["id"].as_str().unwrap().to_string();
    // The delivery job runs and leaves it queued (neither failed nor re-routed).
    eventually("the delivery job to finish", || async {
        let jobs_done = metric(&agent, "seam_jobs_completed_total").await;
        (jobs_done >= 1).then_some(())
    })
    .await;
    let stored = agent.messages(conversation_id).await;
    let waiting = stored
        .iter()
        .find(|m| m["id"] == reply_id.as_str())
        .unwrap();
    assert_eq!(waiting["delivery_status"], "queued", "{waiting:#}");
    assert_eq!(waiting["channel_id"], channel.id.as_str());

    let back = Widget::open(&seam, &channel, visitor).await;
    assert_eq!(
        back.history_texts(),
        ["Do you ship to Muscat?", "We do, in three days."]
    );
    agent
        .wait_for_delivery_status(conversation_id, &reply_id, "sent")
        .await;
}

/// The sum of a metric's series, from the metrics endpoint (0 when absent).
async fn metric(agent: &Agent, name: &str) -> u64 {
    let metrics = harness::http_client()
        .get(format!("{}/metrics", agent.api.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}
