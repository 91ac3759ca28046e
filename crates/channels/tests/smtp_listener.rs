//! The SMTP listener and the outbound relay on 127.0.0.1: real clients (lettre, and a raw socket
//! where the exact bytes matter) talk to the listener, and the recording sink shows what arrived.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use seam_channels::api_channel::Delivery;
use seam_channels::email::relay::{Relay, RelayConfig, Security};
use seam_channels::email::smtp::{
    Envelope, MailSink, RcptVerdict, SinkError, SmtpConfig, serve, tls_acceptor_from_pem,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Takes mail for `@support.example`, asks to try `later@…` again later, refuses the rest.
#[derive(Default)]
struct RecordingSink {
    messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
    fail_with: Option<SinkError>,
}

#[async_trait]
impl MailSink for RecordingSink {
    async fn accepts(&self, recipient: &str) -> RcptVerdict {
        if recipient.starts_with("later@") {
            RcptVerdict::TryLater("Mailbox busy".to_string())
        } else if recipient.ends_with("@support.example") {
            RcptVerdict::Accept
        } else {
            RcptVerdict::Reject("No such mailbox here".to_string())
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), SinkError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        self.messages.lock().unwrap().push((envelope.clone(), raw));
        Ok(())
    }
}

impl RecordingSink {
    fn received(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.messages.lock().unwrap().clone()
    }
}

struct Listener {
    address: SocketAddr,
    sink: Arc<RecordingSink>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

async fn start(config: SmtpConfig, sink: RecordingSink) -> Listener {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sink = Arc::new(sink);
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(serve(
        listener,
        Arc::new(config),
        Arc::clone(&sink) as Arc<dyn MailSink>,
        shutdown,
    ));
    Listener {
        address,
        sink,
        stop,
        task,
    }
}

fn config() -> SmtpConfig {
    SmtpConfig {
        hostname: "mx.seam.test".to_string(),
        ..SmtpConfig::default()
    }
}

fn tls_config() -> SmtpConfig {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let acceptor = tls_acceptor_from_pem(
        certified.cert.pem().as_bytes(),
        certified.signing_key.serialize_pem().as_bytes(),
    )
    .unwrap();
    SmtpConfig {
        tls: Some(acceptor),
        ..config()
    }
}

fn client(address: SocketAddr, starttls: bool) -> AsyncSmtpTransport<Tokio1Executor> {
    let tls = if starttls {
        Tls::Required(
            TlsParameters::builder("localhost".to_string())
                .dangerous_accept_invalid_certs(true)
                .build_rustls()
                .unwrap(),
        )
    } else {
        Tls::None
    };
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
        .port(address.port())
        .hello_name(ClientId::Domain("client.example".to_string()))
        .tls(tls)
        .build()
}

fn lettre_envelope(from: &str, to: &[&str]) -> LettreEnvelope {
    LettreEnvelope::new(
        Some(from.parse().unwrap()),
        to.iter().map(|address| address.parse().unwrap()).collect(),
    )
    .unwrap()
}

const MESSAGE: &str = "From: Layla <Layla@Example.com>\r\n\
To: help@support.example\r\n\
Subject: =?UTF-8?B?2YXYsdit2KjYpw==?=\r\n\
Message-ID: <1@example.com>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
مرحبا، my order has not arrived.\r\n\
.a line that starts with a dot\r\n\
.\r\n\
..\r\n\
  trailing spaces  \r\n";

/// Splits what the sink stored into the listener's trace header and the rest.
fn split_received(raw: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8_lossy(raw);
    assert!(text.starts_with("Received: from "), "{text}");
    // The header's continuation lines start with a tab; the message starts after them.
    let mut end = 0;
    for line in raw.split_inclusive(|&byte| byte == b'\n') {
        if end > 0 && line.first() != Some(&b'\t') {
            break;
        }
        end += line.len();
    }
    (
        String::from_utf8_lossy(&raw[..end]).into_owned(),
        raw[end..].to_vec(),
    )
}

struct RawClient {
    reader: BufReader<TcpStream>,
}

impl RawClient {
    async fn connect(address: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(address).await.unwrap();
        RawClient {
            reader: BufReader::new(stream),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.unwrap();
    }

    /// One whole reply, every line of a multi-line one; `None` once the server has closed.
    async fn reply(&mut self) -> Option<String> {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return if reply.is_empty() { None } else { Some(reply) };
            }
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            reply.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return Some(reply);
            }
        }
    }

    async fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await.unwrap()
    }

    /// Greeting, EHLO, MAIL and one accepted RCPT, ready for DATA.
    async fn open_transaction(address: SocketAddr) -> RawClient {
        let mut client = RawClient::connect(address).await;
        assert!(client.reply().await.unwrap().starts_with("220 "));
        assert!(
            client
                .command("EHLO client.example")
                .await
                .starts_with("250")
        );
        assert!(
            client
                .command("MAIL FROM:<layla@example.com>")
                .await
                .starts_with("250 ")
        );
        assert!(
            client
                .command("RCPT TO:<help@support.example>")
                .await
                .starts_with("250 ")
        );
        client
    }
}

#[tokio::test]
async fn a_message_sent_with_lettre_reaches_the_sink_byte_for_byte_after_a_trace_header() {
    let listener = start(config(), RecordingSink::default()).await;

    client(listener.address, false)
        .send_raw(
            &lettre_envelope("Layla@Example.com", &["Help@Support.Example"]),
            MESSAGE.as_bytes(),
        )
        .await
        .unwrap();

    let received = listener.sink.received();
    assert_eq!(received.len(), 1);
    let (envelope, raw) = &received[0];
    assert_eq!(envelope.mail_from, "Layla@Example.com");
    assert_eq!(
        envelope.recipients,
        vec!["help@support.example".to_string()]
    );
    assert_eq!(envelope.helo, "client.example");
    assert_eq!(envelope.peer.ip(), listener.address.ip());
    assert!(!envelope.tls);
    let (trace, message) = split_received(raw);
    assert!(
        trace.starts_with(
            "Received: from client.example ([127.0.0.1])\r\n\tby mx.seam.test with ESMTP;"
        ),
        "{trace}"
    );
    // lettre always ends the data with CRLF.CRLF, so a message ending in CRLF gains an empty
    // last line; every other byte, the 8-bit text and the dots included, is as sent.
    assert_eq!(message, format!("{MESSAGE}\r\n").into_bytes());
}

#[tokio::test]
async fn starttls_upgrades_the_session_and_the_envelope_says_so() {
    let listener = start(tls_config(), RecordingSink::default()).await;

    client(listener.address, true)
        .send_raw(
            &lettre_envelope("layla@example.com", &["help@support.example"]),
            MESSAGE.as_bytes(),
        )
        .await
        .unwrap();

    let received = listener.sink.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].0.tls);
    let (trace, _) = split_received(&received[0].1);
    assert!(trace.contains("with ESMTPS;"), "{trace}");
}

#[tokio::test]
async fn starttls_is_offered_only_when_configured_and_only_before_the_upgrade() {
    let plain = start(config(), RecordingSink::default()).await;
    let with_tls = start(tls_config(), RecordingSink::default()).await;

    let mut client = RawClient::connect(plain.address).await;
    client.reply().await.unwrap();
    let ehlo = client.command("EHLO client.example").await;
    let refused = client.command("STARTTLS").await;
    let mut tls_client = RawClient::connect(with_tls.address).await;
    tls_client.reply().await.unwrap();
    let tls_ehlo = tls_client.command("EHLO client.example").await;

    for capability in [
        "SIZE 26214400",
        "8BITMIME",
        "SMTPUTF8",
        "PIPELINING",
        "ENHANCEDSTATUSCODES",
    ] {
        assert!(ehlo.contains(capability), "{ehlo}");
    }
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(refused.starts_with("502 5.5.1"), "{refused}");
    assert!(tls_ehlo.contains("250 STARTTLS\r\n"), "{tls_ehlo}");
}

#[tokio::test]
async fn an_unknown_recipient_is_refused_with_550_and_nothing_is_delivered() {
    let listener = start(config(), RecordingSink::default()).await;

    let error = client(listener.address, false)
        .send_raw(
            &lettre_envelope("layla@example.com", &["someone@elsewhere.example"]),
            MESSAGE.as_bytes(),
        )
        .await
        .unwrap_err();
    let mut raw = RawClient::connect(listener.address).await;
    raw.reply().await.unwrap();
    raw.command("EHLO client.example").await;
    raw.command("MAIL FROM:<layla@example.com>").await;
    let refusal = raw.command("RCPT TO:<someone@elsewhere.example>").await;

    assert!(error.is_permanent(), "{error}");
    assert_eq!(error.status().unwrap().to_string(), "550");
    assert_eq!(refusal, "550 5.1.1 No such mailbox here\r\n");
    assert!(listener.sink.received().is_empty());
}

#[tokio::test]
async fn a_declared_size_over_the_limit_is_refused_at_mail_from() {
    let listener = start(
        SmtpConfig {
            max_message_bytes: 1000,
            ..config()
        },
        RecordingSink::default(),
    )
    .await;
    let mut client = RawClient::connect(listener.address).await;
    client.reply().await.unwrap();
    client.command("EHLO client.example").await;

    let refusal = client
        .command("MAIL FROM:<layla@example.com> SIZE=1001")
        .await;
    let within = client
        .command("MAIL FROM:<layla@example.com> SIZE=1000")
        .await;

    assert!(refusal.starts_with("552 5.3.4 "), "{refusal}");
    assert!(within.starts_with("250 2.1.0"), "{within}");
}

#[tokio::test]
async fn a_message_over_the_limit_is_read_to_its_end_refused_and_not_delivered() {
    let listener = start(
        SmtpConfig {
            max_message_bytes: 1000,
            ..config()
        },
        RecordingSink::default(),
    )
    .await;

    let error = client(listener.address, false)
        .send_raw(
            &lettre_envelope("layla@example.com", &["help@support.example"]),
            "x".repeat(20_000).as_bytes(),
        )
        .await
        .unwrap_err();
    let mut raw = RawClient::open_transaction(listener.address).await;
    raw.command("DATA").await;
    let big = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "y\r\n".repeat(1000));
    let refusal = raw.command(big.trim_end_matches("\r\n")).await;
    // The session goes on: the next, small message is taken.
    raw.command("MAIL FROM:<layla@example.com>").await;
    raw.command("RCPT TO:<help@support.example>").await;
    raw.command("DATA").await;
    let accepted = raw.command("Subject: small\r\n\r\nhello\r\n.").await;

    assert!(error.is_permanent(), "{error}");
    assert_eq!(error.status().unwrap().to_string(), "552");
    assert!(refusal.starts_with("552 5.3.4 "), "{refusal}");
    assert!(accepted.starts_with("250 2.0.0"), "{accepted}");
    let received = listener.sink.received();
    assert_eq!(received.len(), 1);
    assert!(
        split_received(&received[0].1)
            .1
            .starts_with(b"Subject: small")
    );
}

#[tokio::test]
async fn a_sink_that_cannot_store_now_gives_451_and_the_client_a_transient_error() {
    let listener = start(
        config(),
        RecordingSink {
            fail_with: Some(SinkError::Temporary("Storage unavailable".to_string())),
            ..RecordingSink::default()
        },
    )
    .await;
    let mut raw = RawClient::open_transaction(listener.address).await;
    raw.command("DATA").await;

    let reply = raw.command("Subject: hi\r\n\r\nhello\r\n.").await;
    let error = client(listener.address, false)
        .send_raw(
            &lettre_envelope("layla@example.com", &["help@support.example"]),
            MESSAGE.as_bytes(),
        )
        .await
        .unwrap_err();

    assert_eq!(reply, "451 4.3.0 Storage unavailable\r\n");
    assert!(error.is_transient(), "{error}");
    assert!(listener.sink.received().is_empty());
}

#[tokio::test]
async fn a_sink_that_refuses_the_message_gives_554() {
    let listener = start(
        config(),
        RecordingSink {
            fail_with: Some(SinkError::Permanent("Message rejected".to_string())),
            ..RecordingSink::default()
        },
    )
    .await;
    let mut raw = RawClient::open_transaction(listener.address).await;
    raw.command("DATA").await;

    let reply = raw.command("Subject: hi\r\n\r\nhello\r\n.").await;

    assert_eq!(reply, "554 5.6.0 Message rejected\r\n");
}

#[tokio::test]
async fn dot_stuffed_lines_round_trip_and_only_crlf_dot_crlf_ends_the_data() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut client = RawClient::open_transaction(listener.address).await;
    let go_ahead = client.command("DATA").await;

    // A bare LF before or after the dot must not end the message (SMTP smuggling).
    client
        .send(
            b"Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nsmuggle\n.\nMAIL FROM:<x@y.example>\r\n\
              tail\r.\r\nend\r\n.\r\n",
        )
        .await;
    let stored = client.reply().await.unwrap();
    let empty = {
        client.command("MAIL FROM:<>").await;
        client.command("RCPT TO:<help@support.example>").await;
        client.command("DATA").await;
        client.command(".").await
    };

    assert!(go_ahead.starts_with("354 "), "{go_ahead}");
    assert!(stored.starts_with("250 2.0.0"), "{stored}");
    assert!(empty.starts_with("250 2.0.0"), "{empty}");
    let received = listener.sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        split_received(&received[0].1).1,
        b"Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nsmuggle\n.\nMAIL FROM:<x@y.example>\r\n\
          tail\r.\r\nend\r\n"
            .to_vec()
    );
    assert_eq!(received[1].0.mail_from, "");
    assert!(split_received(&received[1].1).1.is_empty());
}

#[tokio::test]
async fn after_a_data_line_ended_by_a_bare_lf_a_lone_dot_does_not_end_the_message() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut client = RawClient::open_transaction(listener.address).await;

    client.send(b"DATA\n").await;
    let go_ahead = client.reply().await.unwrap();
    client.send(b".\r\nQUIT\r\n\r\n.\r\n").await;
    let stored = client.reply().await.unwrap();

    assert!(go_ahead.starts_with("354 "), "{go_ahead}");
    assert!(stored.starts_with("250 2.0.0"), "{stored}");
    let received = listener.sink.received();
    assert_eq!(
        split_received(&received[0].1).1,
        b".\r\nQUIT\r\n\r\n".to_vec()
    );
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut client = RawClient::connect(listener.address).await;
    client.reply().await.unwrap();

    client
        .send(
            b"EHLO client.example\r\nMAIL FROM:<layla@example.com>\r\n\
              RCPT TO:<help@support.example>\r\nRCPT TO:<nobody@elsewhere.example>\r\n\
              RCPT TO:<later@support.example>\r\nDATA\r\n",
        )
        .await;
    let mut replies = Vec::new();
    for _ in 0..6 {
        replies.push(client.reply().await.unwrap());
    }
    client
        .send(b"Subject: piped\r\n\r\nhello\r\n.\r\nNOOP\r\nQUIT\r\n")
        .await;
    for _ in 0..3 {
        replies.push(client.reply().await.unwrap());
    }
    let after_quit = client.reply().await;

    let codes: Vec<&str> = replies.iter().map(|reply| &reply[..3]).collect();
    assert_eq!(
        codes,
        [
            "250", "250", "250", "550", "451", "354", "250", "250", "221"
        ]
    );
    assert!(
        replies[0].starts_with("250-mx.seam.test\r\n"),
        "{}",
        replies[0]
    );
    assert_eq!(after_quit, None);
    let received = listener.sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].0.recipients,
        vec!["help@support.example".to_string()]
    );
}

#[tokio::test]
async fn commands_out_of_order_are_refused_with_503() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut client = RawClient::connect(listener.address).await;
    client.reply().await.unwrap();

    let mail_before_ehlo = client.command("MAIL FROM:<layla@example.com>").await;
    client.command("HELO client.example").await;
    let rcpt_before_mail = client.command("RCPT TO:<help@support.example>").await;
    let data_before_mail = client.command("DATA").await;
    client.command("MAIL FROM:<layla@example.com>").await;
    let nested = client.command("MAIL FROM:<layla@example.com>").await;
    let data_without_rcpt = client.command("DATA").await;
    let vrfy = client.command("VRFY help").await;

    assert!(
        mail_before_ehlo.starts_with("503 5.5.1"),
        "{mail_before_ehlo}"
    );
    assert!(
        rcpt_before_mail.starts_with("503 5.5.1"),
        "{rcpt_before_mail}"
    );
    assert!(
        data_before_mail.starts_with("503 5.5.1"),
        "{data_before_mail}"
    );
    assert!(nested.starts_with("503 5.5.1"), "{nested}");
    assert!(
        data_without_rcpt.starts_with("554 5.5.1"),
        "{data_without_rcpt}"
    );
    assert!(vrfy.starts_with("252 "), "{vrfy}");
}

#[tokio::test]
async fn too_many_recipients_get_452() {
    let listener = start(
        SmtpConfig {
            max_recipients: 2,
            ..config()
        },
        RecordingSink::default(),
    )
    .await;
    let mut client = RawClient::open_transaction(listener.address).await;

    let second = client.command("RCPT TO:<sales@support.example>").await;
    let third = client.command("RCPT TO:<billing@support.example>").await;

    assert!(second.starts_with("250 "), "{second}");
    assert!(third.starts_with("452 4.5.3"), "{third}");
}

#[tokio::test]
async fn a_long_command_line_is_refused_and_repeated_errors_close_the_connection() {
    let listener = start(
        SmtpConfig {
            max_errors: 3,
            ..config()
        },
        RecordingSink::default(),
    )
    .await;
    let mut client = RawClient::connect(listener.address).await;
    client.reply().await.unwrap();

    let too_long = client.command(&format!("NOOP {}", "a".repeat(2000))).await;
    let unknown = client.command("HELLO there").await;
    let last = client.command("FOO").await;
    let after = client.reply().await;

    assert!(too_long.starts_with("500 5.5.2"), "{too_long}");
    assert!(unknown.starts_with("500 5.5.1"), "{unknown}");
    assert!(last.starts_with("500 5.5.1"), "{last}");
    assert!(after.unwrap().starts_with("421 4.7.0"));
    assert_eq!(client.reply().await, None);
}

#[tokio::test]
async fn a_silent_client_is_closed_with_421_after_the_idle_timeout() {
    let listener = start(
        SmtpConfig {
            idle_timeout: Duration::from_millis(200),
            ..config()
        },
        RecordingSink::default(),
    )
    .await;
    let mut client = RawClient::connect(listener.address).await;
    client.reply().await.unwrap();

    let reply = client.reply().await.unwrap();

    assert!(reply.starts_with("421 4.4.2 mx.seam.test"), "{reply}");
    assert_eq!(client.reply().await, None);
}

#[tokio::test]
async fn a_connection_over_the_limit_is_answered_421_at_once() {
    let listener = start(
        SmtpConfig {
            max_connections: 1,
            ..config()
        },
        RecordingSink::default(),
    )
    .await;
    let mut first = RawClient::connect(listener.address).await;
    assert!(first.reply().await.unwrap().starts_with("220 "));

    let mut second = RawClient::connect(listener.address).await;
    let refusal = second.reply().await.unwrap();

    assert!(refusal.starts_with("421 4.3.2"), "{refusal}");
    assert_eq!(second.reply().await, None);
    assert!(first.command("NOOP").await.starts_with("250 "));
}

#[tokio::test]
async fn shutdown_lets_a_message_in_progress_finish_and_closes_the_other_sessions() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut sending = RawClient::open_transaction(listener.address).await;
    assert!(sending.command("DATA").await.starts_with("354 "));
    sending.send(b"Subject: last one\r\n\r\nhalf").await;
    let mut waiting = RawClient::connect(listener.address).await;
    waiting.reply().await.unwrap();
    waiting.command("EHLO client.example").await;

    listener.stop.send(true).unwrap();
    let closed = waiting.reply().await.unwrap();
    sending.send(b" of it\r\n.\r\n").await;
    let stored = sending.reply().await.unwrap();
    let closing = sending.reply().await.unwrap();
    listener.task.await.unwrap();

    assert!(closed.starts_with("421 4.3.2"), "{closed}");
    assert!(stored.starts_with("250 2.0.0"), "{stored}");
    assert!(closing.starts_with("421 4.3.2"), "{closing}");
    assert_eq!(listener.sink.received().len(), 1);
    assert!(TcpStream::connect(listener.address).await.is_err());
}

#[tokio::test]
async fn bdat_chunks_are_joined_into_one_message() {
    let listener = start(config(), RecordingSink::default()).await;
    let mut client = RawClient::open_transaction(listener.address).await;

    client.send(b"BDAT 18\r\nSubject: chunk\r\n\r\n").await;
    let first = client.reply().await.unwrap();
    client.send(b"BDAT 7 LAST\r\n.hello\n").await;
    let last = client.reply().await.unwrap();

    assert!(first.starts_with("250 2.0.0"), "{first}");
    assert!(last.starts_with("250 2.0.0"), "{last}");
    let received = listener.sink.received();
    assert_eq!(
        split_received(&received[0].1).1,
        b"Subject: chunk\r\n\r\n.hello\n".to_vec()
    );
}

fn relay_config(address: SocketAddr, security: Security) -> RelayConfig {
    RelayConfig {
        host: address.ip().to_string(),
        port: address.port(),
        security,
        username: None,
        password: None,
        accept_invalid_certs: true,
        timeout: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn the_relay_delivers_through_our_listener_in_clear_and_over_starttls() {
    let plain = start(config(), RecordingSink::default()).await;
    let with_tls = start(tls_config(), RecordingSink::default()).await;
    let plain_relay = Relay::new(&relay_config(plain.address, Security::None)).unwrap();
    let tls_relay = Relay::new(&relay_config(with_tls.address, Security::StartTls)).unwrap();
    let recipients = vec!["help@support.example".to_string()];

    let in_clear = plain_relay.send("", &recipients, MESSAGE.as_bytes()).await;
    let over_tls = tls_relay
        .send("bounce+1@seam.test", &recipients, MESSAGE.as_bytes())
        .await;

    assert_eq!(in_clear, Delivery::Delivered);
    assert_eq!(over_tls, Delivery::Delivered);
    let clear_received = plain.sink.received();
    assert_eq!(clear_received[0].0.mail_from, "");
    assert!(!clear_received[0].0.tls);
    let tls_received = with_tls.sink.received();
    assert_eq!(tls_received[0].0.mail_from, "bounce+1@seam.test");
    assert!(tls_received[0].0.tls);
    assert_eq!(
        split_received(&tls_received[0].1).1,
        format!("{MESSAGE}\r\n").into_bytes()
    );
}

/// A TLS terminator in front of a plain listener, as for SMTPS on port 465 (RFC 8314).
async fn implicit_tls_front(behind: SocketAddr) -> SocketAddr {
    let acceptor = tls_config().tls.unwrap();
    let front = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = front.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (client, _) = front.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let mut client = acceptor.accept(client).await.unwrap();
                let mut server = TcpStream::connect(behind).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn the_relay_delivers_over_implicit_tls() {
    let listener = start(config(), RecordingSink::default()).await;
    let front = implicit_tls_front(listener.address).await;
    let relay = Relay::new(&relay_config(front, Security::Tls)).unwrap();

    let outcome = relay
        .send(
            "agent@seam.test",
            &["help@support.example".to_string()],
            MESSAGE.as_bytes(),
        )
        .await;

    assert_eq!(outcome, Delivery::Delivered);
    assert_eq!(listener.sink.received().len(), 1);
}

#[tokio::test]
async fn the_relay_maps_550_to_permanent_and_451_to_retry() {
    let refusing = start(config(), RecordingSink::default()).await;
    let deferring = start(
        config(),
        RecordingSink {
            fail_with: Some(SinkError::Temporary("Storage unavailable".to_string())),
            ..RecordingSink::default()
        },
    )
    .await;
    let refusing_relay = Relay::new(&relay_config(refusing.address, Security::None)).unwrap();
    let deferring_relay = Relay::new(&relay_config(deferring.address, Security::None)).unwrap();

    let refused = refusing_relay
        .send(
            "agent@seam.test",
            &["someone@elsewhere.example".to_string()],
            MESSAGE.as_bytes(),
        )
        .await;
    let deferred = deferring_relay
        .send(
            "agent@seam.test",
            &["help@support.example".to_string()],
            MESSAGE.as_bytes(),
        )
        .await;

    let Delivery::Permanent { reason } = refused else {
        panic!("expected a permanent failure, got {refused:?}");
    };
    assert!(reason.contains("550"), "{reason}");
    assert!(reason.contains("No such mailbox here"), "{reason}");
    let Delivery::Retry { reason, .. } = deferred else {
        panic!("expected a retry, got {deferred:?}");
    };
    assert!(reason.contains("451"), "{reason}");
    assert!(reason.contains("Storage unavailable"), "{reason}");
}

#[tokio::test]
async fn the_relay_asks_for_a_retry_when_nothing_listens() {
    let unused = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = unused.local_addr().unwrap();
    drop(unused);
    let relay = Relay::new(&relay_config(address, Security::None)).unwrap();

    let outcome = relay
        .send(
            "agent@seam.test",
            &["help@support.example".to_string()],
            MESSAGE.as_bytes(),
        )
        .await;

    assert!(matches!(outcome, Delivery::Retry { .. }), "{outcome:?}");
}

#[test]
fn the_relay_configuration_never_shows_its_password() {
    let config = RelayConfig {
        username: Some("seam".to_string()),
        password: Some("hunter2-secret".to_string()),
        ..relay_config("127.0.0.1:25".parse().unwrap(), Security::StartTls)
    };

    let shown = format!("{config:?}");

    assert!(!shown.contains("hunter2-secret"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}
