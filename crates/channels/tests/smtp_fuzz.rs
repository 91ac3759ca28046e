//! A bounded, deterministic fuzzer for the SMTP listener: valid sessions mutated (random bytes,
//! lost or bare line ends, huge lines, commands out of order, DATA without RCPT, STARTTLS
//! followed by garbage) and plain noise, sent over TCP. The listener must never panic, must
//! answer only with well-formed replies, and must never deliver a message that was not ended
//! with CRLF.CRLF after an accepted RCPT.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use seam_channels::email::smtp::{
    Envelope, MailSink, RcptVerdict, SinkError, SmtpConfig, serve, tls_acceptor_from_pem,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const CASES: usize = 3000;
const SEED: u64 = 0x5EA3_2024_0D0C_F00D;
const MAX_MESSAGE_BYTES: usize = 4096;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Marsaglia's xorshift64: small, seeded, the same sequence on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.next() as u8).collect()
    }
}

#[derive(Default)]
struct RecordingSink {
    messages: Mutex<Vec<(Envelope, Vec<u8>)>>,
}

#[async_trait]
impl MailSink for RecordingSink {
    async fn accepts(&self, recipient: &str) -> RcptVerdict {
        if recipient.ends_with("@support.example") {
            RcptVerdict::Accept
        } else if recipient.starts_with("later@") {
            RcptVerdict::TryLater("busy".to_string())
        } else {
            RcptVerdict::Reject("unknown".to_string())
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), SinkError> {
        if raw.windows(9).any(|window| window == b"TEMPFAIL!") {
            return Err(SinkError::Temporary("try later".to_string()));
        }
        self.messages.lock().unwrap().push((envelope.clone(), raw));
        Ok(())
    }
}

const PIECES: &[&[u8]] = &[
    b"EHLO client.example\r\n",
    b"HELO client.example\r\n",
    b"MAIL FROM:<layla@example.com>\r\n",
    b"MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n",
    b"MAIL FROM:<big@example.com> SIZE=999999\r\n",
    b"RCPT TO:<help@support.example>\r\n",
    b"RCPT TO:<Sales@Support.Example> NOTIFY=NEVER\r\n",
    b"RCPT TO:<nobody@elsewhere.example>\r\n",
    b"RCPT TO:<later@elsewhere.example>\r\n",
    b"DATA\r\n",
    b"Subject: hello\r\n\r\nbody\r\n..stuffed\r\n",
    b"Subject: TEMPFAIL!\r\n\r\nx\r\n",
    b".\r\n",
    b"BDAT 5\r\nhello",
    b"BDAT 3 LAST\r\nabc",
    b"BDAT 99999 LAST\r\n",
    b"RSET\r\n",
    b"NOOP\r\n",
    b"VRFY someone\r\n",
    b"EXPN list\r\n",
    b"HELP\r\n",
    b"AUTH PLAIN AGxheWxhAHNlY3JldA==\r\n",
    b"STARTTLS\r\n",
    b"QUIT\r\n",
];

fn valid_session() -> Vec<u8> {
    [
        &b"EHLO client.example\r\n"[..],
        b"MAIL FROM:<layla@example.com>\r\n",
        b"RCPT TO:<help@support.example>\r\n",
        b"DATA\r\n",
        b"Subject: hello\r\n\r\nbody\r\n",
        b".\r\n",
        b"QUIT\r\n",
    ]
    .concat()
}

fn mutate(rng: &mut XorShift, input: &mut Vec<u8>) {
    let at = rng.below(input.len() + 1);
    match rng.below(10) {
        0 => {
            let count = 1 + rng.below(16);
            let noise = rng.bytes(count);
            input.splice(at..at, noise);
        }
        1 => {
            if let Some(byte) = input.get_mut(at) {
                *byte ^= 1 << rng.below(8);
            }
        }
        2 => {
            let end = (at + rng.below(32)).min(input.len());
            input.drain(at..end);
        }
        3 => {
            // A CRLF becomes a bare LF.
            if let Some(index) = find_from(input, b"\r\n", at) {
                input.remove(index);
            }
        }
        4 => {
            // A line loses its end altogether.
            if let Some(index) = find_from(input, b"\r\n", at) {
                input.drain(index..index + 2);
            }
        }
        5 => {
            let length = 900 + rng.below(5000);
            let line: Vec<u8> = (0..length).map(|_| b'a' + rng.below(26) as u8).collect();
            input.splice(at..at, line);
        }
        6 => {
            let piece = PIECES[rng.below(PIECES.len())];
            input.splice(at..at, piece.iter().copied());
        }
        7 => {
            let body = vec![b'x'; MAX_MESSAGE_BYTES + rng.below(3000)];
            input.splice(at..at, body);
        }
        8 => {
            let mut garbage = b"STARTTLS\r\n".to_vec();
            let count = rng.below(300);
            garbage.extend(rng.bytes(count));
            input.splice(at..at, garbage);
        }
        _ => input.truncate(at),
    }
}

fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|index| index + from)
}

fn case(rng: &mut XorShift) -> Vec<u8> {
    match rng.below(4) {
        0 => {
            // Commands in any order, DATA without RCPT among them.
            let count = 1 + rng.below(12);
            (0..count)
                .flat_map(|_| PIECES[rng.below(PIECES.len())].iter().copied())
                .collect()
        }
        1 => {
            // Noise with line ends sprinkled in.
            let count = rng.below(2000);
            let mut noise = rng.bytes(count);
            for _ in 0..rng.below(20) {
                let at = rng.below(noise.len() + 1);
                noise.splice(at..at, *b"\r\n");
            }
            noise
        }
        _ => {
            let mut input = valid_session();
            for _ in 0..1 + rng.below(6) {
                mutate(rng, &mut input);
            }
            input
        }
    }
}

/// Sends `input`, closes the sending half, and returns everything the listener wrote back.
async fn exchange(address: SocketAddr, input: Vec<u8>) -> Vec<u8> {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reading, mut writing) = stream.into_split();
    let writer = tokio::spawn(async move {
        // The listener may close first, which is fine.
        let _ = writing.write_all(&input).await;
        let _ = writing.shutdown().await;
    });
    let mut output = Vec::new();
    let _ = reading.read_to_end(&mut output).await;
    writer.await.unwrap();
    output
}

/// Checks that the output is a sequence of complete, well-formed reply lines, up to a
/// `220` for STARTTLS after which TLS bytes follow. Returns how many messages were stored.
fn check_replies(output: &[u8], input: &[u8]) -> usize {
    let mut stored = 0;
    let mut rest = output;
    let mut last_was_continuation = false;
    while !rest.is_empty() {
        let end = find_from(rest, b"\r\n", 0).unwrap_or_else(|| {
            panic!(
                "reply without CRLF {:?} for input {:?}",
                String::from_utf8_lossy(rest),
                String::from_utf8_lossy(input)
            )
        });
        let line = &rest[..end];
        let text = String::from_utf8_lossy(line);
        assert!(line.len() >= 5, "short reply line {text:?}");
        assert!(
            line[..3].iter().all(u8::is_ascii_digit) && (b'2'..=b'5').contains(&line[0]),
            "bad reply code {text:?}"
        );
        assert!(line[3] == b' ' || line[3] == b'-', "bad separator {text:?}");
        assert!(
            line.iter().all(|&byte| (0x20..0x7f).contains(&byte)),
            "unprintable reply {text:?}"
        );
        last_was_continuation = line[3] == b'-';
        if line.starts_with(b"250 2.0.0 OK: message stored") {
            stored += 1;
        }
        rest = &rest[end + 2..];
        if line.starts_with(b"220 2.0.0 Ready to start TLS") {
            break;
        }
    }
    assert!(!last_was_continuation, "unfinished multi-line reply");
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_survives_mutated_and_random_sessions() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let config = SmtpConfig {
        hostname: "mx.seam.test".to_string(),
        max_message_bytes: MAX_MESSAGE_BYTES,
        max_recipients: 3,
        max_errors: 20,
        idle_timeout: Duration::from_secs(30),
        tls: Some(
            tls_acceptor_from_pem(
                certified.cert.pem().as_bytes(),
                certified.signing_key.serialize_pem().as_bytes(),
            )
            .unwrap(),
        ),
        ..SmtpConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sink = Arc::new(RecordingSink::default());
    let (stop, shutdown) = watch::channel(false);
    let server = tokio::spawn(serve(
        listener,
        Arc::new(config),
        Arc::clone(&sink) as Arc<dyn MailSink>,
        shutdown,
    ));
    let mut rng = XorShift(SEED);

    let mut delivered_total = 0;
    for _ in 0..CASES {
        let input = case(&mut rng);
        let before = sink.messages.lock().unwrap().len();
        let output = exchange(address, input.clone()).await;
        let delivered: Vec<(Envelope, Vec<u8>)> = sink.messages.lock().unwrap()[before..].to_vec();

        let stored = check_replies(&output, &input);
        assert_eq!(stored, delivered.len(), "replies and deliveries disagree");
        for (envelope, raw) in &delivered {
            assert!(!envelope.recipients.is_empty());
            assert!(
                envelope
                    .recipients
                    .iter()
                    .all(|recipient| recipient.ends_with("@support.example")),
                "{envelope:?}"
            );
            assert!(
                raw.len() <= MAX_MESSAGE_BYTES + 200,
                "a message over the limit"
            );
            let upper = input.to_ascii_uppercase();
            let first_rcpt = find_from(&upper, b"RCPT TO:", 0).expect("no RCPT was sent");
            if find_from(&upper, b"BDAT", 0).is_none() {
                assert!(
                    find_from(&input, b"\r\n.\r\n", first_rcpt).is_some(),
                    "delivered without CRLF.CRLF: {:?}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
        delivered_total += delivered.len();
    }

    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the listener panicked");
    assert!(!server.is_finished(), "the listener stopped");
    assert!(delivered_total > 0, "no case delivered a message at all");
    stop.send(true).unwrap();
    server.await.unwrap();
}
