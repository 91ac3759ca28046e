//! Pulling mail over IMAP against a small fake server written here (LOGIN, CAPABILITY, SELECT,
//! UID SEARCH/FETCH/STORE/MOVE, IDLE, LOGOUT): messages are stored before they are marked or
//! moved, and `run` waits with IDLE when offered and polls otherwise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use seam_channels::email::imap::{ImapConfig, ImapError, ImapSink, Processed, poll_once, run};
use seam_channels::email::smtp::SinkError;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{Notify, mpsc, watch};

struct FakeMessage {
    uid: u32,
    raw: Vec<u8>,
    seen: bool,
}

#[derive(Default)]
struct MailboxState {
    messages: Vec<FakeMessage>,
    moved: Vec<(u32, String)>,
    /// Commands as the server saw them, and the sink's stores, in order.
    log: Vec<String>,
}

struct FakeServer {
    address: SocketAddr,
    state: Arc<Mutex<MailboxState>>,
    new_mail: Arc<Notify>,
}

impl FakeServer {
    async fn start(idle: bool, messages: Vec<(u32, &str, bool)>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(MailboxState {
            messages: messages
                .into_iter()
                .map(|(uid, raw, seen)| FakeMessage {
                    uid,
                    raw: raw.as_bytes().to_vec(),
                    seen,
                })
                .collect(),
            ..MailboxState::default()
        }));
        let new_mail = Arc::new(Notify::new());
        let capabilities = if idle {
            "IMAP4rev1 IDLE MOVE"
        } else {
            "IMAP4rev1"
        };
        let (server_state, server_notify) = (Arc::clone(&state), Arc::clone(&new_mail));
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let state = Arc::clone(&server_state);
                let notify = Arc::clone(&server_notify);
                tokio::spawn(serve_connection(stream, state, notify, capabilities));
            }
        });
        FakeServer {
            address,
            state,
            new_mail,
        }
    }

    fn deliver(&self, uid: u32, raw: &str) {
        self.state.lock().unwrap().messages.push(FakeMessage {
            uid,
            raw: raw.as_bytes().to_vec(),
            seen: false,
        });
        self.new_mail.notify_one();
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    fn seen(&self, uid: u32) -> bool {
        let state = self.state.lock().unwrap();
        state
            .messages
            .iter()
            .any(|message| message.uid == uid && message.seen)
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    state: Arc<Mutex<MailboxState>>,
    new_mail: Arc<Notify>,
    capabilities: &'static str,
) {
    let (reading, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reading);
    send(&mut writer, b"* OK fake IMAP ready\r\n").await;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_string();
        let mut words = line.splitn(3, ' ');
        let tag = words.next().unwrap_or("").to_string();
        let command = words.next().unwrap_or("").to_ascii_uppercase();
        let rest = words.next().unwrap_or("").to_string();
        let logged = if command == "LOGIN" {
            "LOGIN".to_string()
        } else {
            format!("{command} {rest}").trim().to_string()
        };
        state.lock().unwrap().log.push(logged);
        let reply = match command.as_str() {
            "CAPABILITY" => format!("* CAPABILITY {capabilities}\r\n{tag} OK done\r\n"),
            "LOGIN" if rest.ends_with("\"secret\"") => format!("{tag} OK LOGIN completed\r\n"),
            "LOGIN" => format!("{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
            "SELECT" => {
                let count = state.lock().unwrap().messages.len();
                format!(
                    "* FLAGS (\\Seen \\Deleted)\r\n* {count} EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n\
                     {tag} OK [READ-WRITE] SELECT completed\r\n"
                )
            }
            "UID" => uid_command(&state, &tag, &rest),
            "IDLE" => {
                send(&mut writer, b"+ idling\r\n").await;
                let mut done = String::new();
                loop {
                    tokio::select! {
                        read = reader.read_line(&mut done) => {
                            if read.unwrap_or(0) == 0 {
                                return;
                            }
                            break;
                        }
                        () = new_mail.notified() => {
                            let count = state.lock().unwrap().messages.len();
                            send(&mut writer, format!("* {count} EXISTS\r\n").as_bytes()).await;
                        }
                    }
                }
                state.lock().unwrap().log.push(done.trim_end().to_string());
                format!("{tag} OK IDLE terminated\r\n")
            }
            "LOGOUT" => {
                send(&mut writer, format!("* BYE\r\n{tag} OK\r\n").as_bytes()).await;
                let _ = reader.read_to_end(&mut Vec::new()).await;
                return;
            }
            _ => format!("{tag} BAD unknown command\r\n"),
        };
        send(&mut writer, reply.as_bytes()).await;
    }
}

fn uid_command(state: &Mutex<MailboxState>, tag: &str, rest: &str) -> String {
    let mut state = state.lock().unwrap();
    let mut words = rest.splitn(3, ' ');
    let command = words.next().unwrap_or("").to_ascii_uppercase();
    let argument = words.next().unwrap_or("");
    let tail = words.next().unwrap_or("").to_string();
    let uid: u32 = argument.parse().unwrap_or(0);
    let position = state.messages.iter().position(|message| message.uid == uid);
    match command.as_str() {
        "SEARCH" => {
            let unseen: Vec<String> = state
                .messages
                .iter()
                .filter(|message| !message.seen)
                .map(|message| message.uid.to_string())
                .collect();
            format!("* SEARCH {}\r\n{tag} OK done\r\n", unseen.join(" "))
        }
        "FETCH" => {
            let Some(index) = position else {
                return format!("{tag} OK nothing\r\n");
            };
            let message = &state.messages[index];
            format!(
                "* {} FETCH (UID {uid} BODY[] {{{}}}\r\n{})\r\n{tag} OK done\r\n",
                index + 1,
                message.raw.len(),
                String::from_utf8_lossy(&message.raw)
            )
        }
        "STORE" => {
            if let Some(index) = position
                && tail.contains("\\Seen")
            {
                state.messages[index].seen = true;
            }
            format!("{tag} OK done\r\n")
        }
        "MOVE" => {
            let Some(index) = position else {
                return format!("{tag} NO no such message\r\n");
            };
            state.messages.remove(index);
            state.moved.push((uid, tail.trim_matches('"').to_string()));
            format!("* {} EXPUNGE\r\n{tag} OK done\r\n", index + 1)
        }
        _ => format!("{tag} BAD unknown UID command\r\n"),
    }
}

async fn send(writer: &mut OwnedWriteHalf, bytes: &[u8]) {
    let _ = writer.write_all(bytes).await;
}

/// Stores into memory, logging into the server's log so the order shows; can be told to fail.
struct RecordingSink {
    server_state: Arc<Mutex<MailboxState>>,
    stored: Mutex<Vec<Vec<u8>>>,
    fail_with: Option<SinkError>,
    arrivals: mpsc::UnboundedSender<()>,
}

#[async_trait]
impl ImapSink for RecordingSink {
    async fn store(&self, raw: Vec<u8>) -> Result<(), SinkError> {
        if let Some(error) = &self.fail_with {
            return Err(error.clone());
        }
        let subject = String::from_utf8_lossy(&raw)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        self.server_state
            .lock()
            .unwrap()
            .log
            .push(format!("stored {subject}"));
        self.stored.lock().unwrap().push(raw);
        let _ = self.arrivals.send(());
        Ok(())
    }
}

fn sink_for(
    server: &FakeServer,
    fail_with: Option<SinkError>,
) -> (Arc<RecordingSink>, mpsc::UnboundedReceiver<()>) {
    let (arrivals, received) = mpsc::unbounded_channel();
    let sink = Arc::new(RecordingSink {
        server_state: Arc::clone(&server.state),
        stored: Mutex::new(Vec::new()),
        fail_with,
        arrivals,
    });
    (sink, received)
}

fn config(server: &FakeServer, processed: Processed) -> ImapConfig {
    ImapConfig {
        host: server.address.ip().to_string(),
        port: server.address.port(),
        tls: false,
        username: "support@example.com".to_string(),
        password: "secret".to_string(),
        mailbox: "INBOX".to_string(),
        processed,
        timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
    }
}

const FIRST: &str = "Subject: first\r\n\r\nhello\r\n";
const SECOND: &str = "Subject: second\r\n\r\nمرحبا\r\n";

#[tokio::test]
async fn each_unseen_message_is_stored_before_it_is_marked_seen() {
    let server = FakeServer::start(
        false,
        vec![
            (7, FIRST, false),
            (8, "Subject: old\r\n\r\n", true),
            (9, SECOND, false),
        ],
    )
    .await;
    let (sink, _) = sink_for(&server, None);

    let stored = poll_once(&config(&server, Processed::Seen), sink.as_ref())
        .await
        .unwrap();

    assert_eq!(stored, 2);
    assert_eq!(
        *sink.stored.lock().unwrap(),
        vec![FIRST.as_bytes().to_vec(), SECOND.as_bytes().to_vec()]
    );
    assert!(server.seen(7) && server.seen(9));
    let log = server.log();
    let position = |entry: &str| log.iter().position(|line| line == entry).unwrap();
    assert!(position("UID FETCH 7 BODY.PEEK[]") < position("stored Subject: first"));
    assert!(position("stored Subject: first") < position("UID STORE 7 +FLAGS.SILENT (\\Seen)"));
    assert!(position("stored Subject: second") < position("UID STORE 9 +FLAGS.SILENT (\\Seen)"));
    assert!(!log.iter().any(|line| line.starts_with("UID FETCH 8")));
}

#[tokio::test]
async fn a_message_the_sink_cannot_store_yet_stays_unseen() {
    let server = FakeServer::start(false, vec![(7, FIRST, false)]).await;
    let (sink, _) = sink_for(
        &server,
        Some(SinkError::Temporary("database down".to_string())),
    );

    let outcome = poll_once(&config(&server, Processed::Seen), sink.as_ref()).await;

    assert!(matches!(outcome, Err(ImapError::Sink(_))), "{outcome:?}");
    assert!(!server.seen(7));
    assert!(
        !server
            .log()
            .iter()
            .any(|line| line.starts_with("UID STORE"))
    );
}

#[tokio::test]
async fn stored_messages_are_moved_when_so_configured() {
    let server = FakeServer::start(true, vec![(7, FIRST, false)]).await;
    let (sink, _) = sink_for(&server, None);

    let stored = poll_once(
        &config(&server, Processed::MoveTo("Seam/Done".to_string())),
        sink.as_ref(),
    )
    .await
    .unwrap();

    assert_eq!(stored, 1);
    let state = server.state.lock().unwrap();
    assert!(state.messages.is_empty());
    assert_eq!(state.moved, vec![(7, "Seam/Done".to_string())]);
}

#[tokio::test]
async fn a_refused_login_is_reported_without_the_password() {
    let server = FakeServer::start(false, vec![]).await;
    let (sink, _) = sink_for(&server, None);
    let wrong = ImapConfig {
        password: "not-the-password".to_string(),
        ..config(&server, Processed::Seen)
    };

    let outcome = poll_once(&wrong, sink.as_ref()).await;

    let Err(error) = outcome else {
        panic!("the login should fail");
    };
    assert!(matches!(error, ImapError::Login(_)), "{error:?}");
    assert!(!error.to_string().contains("not-the-password"));
    assert!(!format!("{wrong:?}").contains("not-the-password"));
}

async fn run_until_two_arrive(idle: bool) -> FakeServer {
    let server = FakeServer::start(idle, vec![(7, FIRST, false)]).await;
    let (sink, mut arrivals) = sink_for(&server, None);
    let (stop, shutdown) = watch::channel(false);
    let pulling = tokio::spawn(run(
        config(&server, Processed::Seen),
        sink.clone() as Arc<dyn ImapSink>,
        shutdown,
    ));

    arrivals.recv().await.unwrap();
    server.deliver(9, SECOND);
    arrivals.recv().await.unwrap();
    stop.send(true).unwrap();
    pulling.await.unwrap();

    assert_eq!(
        *sink.stored.lock().unwrap(),
        vec![FIRST.as_bytes().to_vec(), SECOND.as_bytes().to_vec()]
    );
    assert!(server.seen(7) && server.seen(9));
    server
}

#[tokio::test]
async fn run_waits_with_idle_when_offered_and_logs_out_on_shutdown() {
    let server = run_until_two_arrive(true).await;

    let log = server.log();
    assert!(log.iter().any(|line| line == "IDLE"), "{log:?}");
    assert!(log.iter().any(|line| line == "DONE"), "{log:?}");
    assert_eq!(log.last().map(String::as_str), Some("LOGOUT"), "{log:?}");
}

#[tokio::test]
async fn run_polls_when_idle_is_not_offered() {
    let server = run_until_two_arrive(false).await;

    let log = server.log();
    assert!(!log.iter().any(|line| line == "IDLE"), "{log:?}");
    assert!(
        log.iter()
            .filter(|line| line.as_str() == "UID SEARCH UNSEEN")
            .count()
            >= 2,
        "{log:?}"
    );
}
