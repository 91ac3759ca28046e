//! One SMTP connection from greeting to close: bounded reads of command lines and message data,
//! idle and shutdown handling, and replies written out in batches (RFC 2920). What each command
//! does is in `commands`. Generic over the stream so that STARTTLS can swap the TCP stream for
//! a TLS one and start the session over (RFC 3207 §4.2).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::Request;
use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;

use super::{MailSink, SmtpConfig, reply};

/// Bytes read from the client at a time; also what a message may overrun the limit by before
/// the listener notices and starts discarding.
const READ_BUFFER: usize = 8 * 1024;
/// RFC 5321 §4.5.3.1.4 allows 512 octets for a command line, and extensions' parameters make
/// lines longer, so the text-line limit of §4.5.3.1.6 applies: 1000 octets with the CRLF.
const MAX_COMMAND_LINE: usize = 1000;
/// Replies waiting for the client (pipelining, RFC 2920) are written out at this size even
/// while more commands are already buffered.
const MAX_PENDING_REPLIES: usize = 16 * 1024;

pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<SmtpConfig>,
    sink: Arc<dyn MailSink>,
    shutdown: watch::Receiver<bool>,
) {
    let mut session = Session::new(peer, config, sink, shutdown);
    let greeting = format!("{} ESMTP Seam", session.hostname);
    reply::plain(&mut session.out, 220, &greeting);
    let stream = match session.converse(stream).await {
        Ended::Closed => return,
        Ended::StartTls(stream) => stream,
    };
    let Some(acceptor) = session.config.tls.clone() else {
        return;
    };
    match timeout(session.config.idle_timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => {
            session.start_over_in_tls();
            // Already in TLS, the session cannot ask for it again.
            let _ = session.converse(stream).await;
        }
        Ok(Err(error)) => tracing::debug!(%peer, %error, "SMTP TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "SMTP TLS handshake timed out"),
    }
}

pub(super) struct Session {
    pub(super) config: Arc<SmtpConfig>,
    pub(super) sink: Arc<dyn MailSink>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) peer: SocketAddr,
    pub(super) hostname: String,
    pub(super) tls: bool,
    /// The name from EHLO or HELO; no transaction starts before one.
    pub(super) helo: Option<String>,
    /// EHLO rather than HELO.
    pub(super) extended: bool,
    pub(super) transaction: Option<Transaction>,
    pub(super) errors: u32,
    /// The command line being read, at most [`MAX_COMMAND_LINE`] bytes.
    pub(super) line: Vec<u8>,
    /// Replies not yet written.
    pub(super) out: Vec<u8>,
}

pub(super) struct Transaction {
    pub(super) mail_from: String,
    pub(super) recipients: Vec<String>,
    /// The message so far when it comes in BDAT chunks (RFC 3030), trace header first.
    pub(super) chunks: Option<Vec<u8>>,
    /// Bytes the client has announced in chunks so far.
    pub(super) chunked_bytes: usize,
    /// A chunk went over the size limit: the rest is read and dropped.
    pub(super) too_big: bool,
}

pub(super) enum Step {
    Continue,
    Close,
    StartTls,
}

enum Ended<S> {
    Closed,
    StartTls(S),
}

enum Incoming {
    Line,
    TooLong,
    Closed,
    Idle,
    Shutdown,
}

pub(super) enum Body {
    Complete(Vec<u8>),
    TooBig,
    Closed,
    Idle,
}

impl Session {
    fn new(
        peer: SocketAddr,
        config: Arc<SmtpConfig>,
        sink: Arc<dyn MailSink>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let hostname = reply::printable(&config.hostname).replace(' ', "");
        Self {
            config,
            sink,
            shutdown,
            peer,
            hostname,
            tls: false,
            helo: None,
            extended: false,
            transaction: None,
            errors: 0,
            line: Vec::with_capacity(128),
            out: Vec::with_capacity(512),
        }
    }

    fn start_over_in_tls(&mut self) {
        // RFC 3207 §4.2: everything learnt before the handshake is forgotten.
        self.tls = true;
        self.helo = None;
        self.extended = false;
        self.transaction = None;
    }

    pub(super) fn reply(&mut self, code: u16, status: [u8; 3], message: &str) {
        if matches!(code, 500..=504 | 555) {
            self.errors = self.errors.saturating_add(1);
        }
        reply::line(&mut self.out, code, status, message);
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: S) -> Ended<S> {
        let mut reader = BufReader::with_capacity(READ_BUFFER, stream);
        loop {
            let mut step = match self.read_command(&mut reader).await {
                Incoming::Line => {
                    let request = Request::parse(&mut self.line.iter()).map(Request::into_owned);
                    self.handle(request, &mut reader).await
                }
                Incoming::TooLong => {
                    self.reply(500, [5, 5, 2], "Line too long");
                    Step::Continue
                }
                Incoming::Closed => return Ended::Closed,
                Incoming::Idle => {
                    self.idle_timeout_reply();
                    Step::Close
                }
                Incoming::Shutdown => {
                    let message =
                        format!("{} Service shutting down, try again later", self.hostname);
                    self.reply(421, [4, 3, 2], &message);
                    Step::Close
                }
            };
            if matches!(step, Step::Continue)
                && self.errors > 0
                && self.errors >= self.config.max_errors
            {
                let message = format!("{} Too many errors, closing connection", self.hostname);
                self.reply(421, [4, 7, 0], &message);
                step = Step::Close;
            }
            match step {
                Step::Continue => {
                    if self.out.len() >= MAX_PENDING_REPLIES && !self.flush(&mut reader).await {
                        return Ended::Closed;
                    }
                }
                Step::Close => {
                    if self.flush(&mut reader).await {
                        let _ =
                            timeout(self.config.idle_timeout, reader.get_mut().shutdown()).await;
                    }
                    return Ended::Closed;
                }
                Step::StartTls => {
                    if !self.flush(&mut reader).await {
                        return Ended::Closed;
                    }
                    // Whatever the client sent after STARTTLS in the clear is dropped with the
                    // buffer, so it cannot pass for commands inside TLS (RFC 3207 §4.2).
                    return Ended::StartTls(reader.into_inner());
                }
            }
        }
    }

    /// Reads one command line into `self.line`, writing out pending replies first whenever it
    /// would have to wait for the client (RFC 2920 §3.1).
    async fn read_command<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        reader: &mut BufReader<S>,
    ) -> Incoming {
        self.line.clear();
        let mut too_long = false;
        loop {
            if reader.buffer().is_empty() && !self.flush(reader).await {
                return Incoming::Closed;
            }
            let idle = self.config.idle_timeout;
            let filled = tokio::select! {
                biased;
                () = super::stopped(&mut self.shutdown) => return Incoming::Shutdown,
                filled = timeout(idle, reader.fill_buf()) => filled,
            };
            let chunk = match filled {
                Err(_) => return Incoming::Idle,
                Ok(Err(_)) => return Incoming::Closed,
                Ok(Ok(chunk)) => chunk,
            };
            if chunk.is_empty() {
                return Incoming::Closed;
            }
            // Bare LF ends a command too: lenient for commands, never for message data.
            let end = chunk.iter().position(|&byte| byte == b'\n');
            let taken = end.map_or(chunk.len(), |index| index + 1);
            if !too_long && self.line.len() + taken > MAX_COMMAND_LINE {
                too_long = true;
                self.line.clear();
            }
            if !too_long {
                self.line.extend_from_slice(&chunk[..taken]);
            }
            reader.consume(taken);
            if end.is_some() {
                return if too_long {
                    Incoming::TooLong
                } else {
                    Incoming::Line
                };
            }
        }
    }

    pub(super) async fn flush<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        reader: &mut BufReader<S>,
    ) -> bool {
        if self.out.is_empty() {
            return true;
        }
        let stream = reader.get_mut();
        let out = &self.out;
        let written = timeout(self.config.idle_timeout, async {
            stream.write_all(out).await?;
            stream.flush().await
        })
        .await;
        self.out.clear();
        matches!(written, Ok(Ok(())))
    }

    pub(super) fn idle_timeout_reply(&mut self) {
        let message = format!("{} Idle timeout, closing connection", self.hostname);
        self.reply(421, [4, 4, 2], &message);
    }
}

/// Reads message data after `354` up to the lone dot, dot-unstuffed and otherwise byte for
/// byte, appended to `raw`. Past `max` bytes it keeps reading to the end but keeps nothing.
pub(super) async fn read_data<S: AsyncRead + Unpin>(
    reader: &mut BufReader<S>,
    mut raw: Vec<u8>,
    data_line_ended_with_crlf: bool,
    max: usize,
    idle: Duration,
) -> Body {
    let start = raw.len();
    let mut receiver = DataReceiver::new();
    // The CRLF that ended the DATA line also begins the first line of the message, so a lone
    // dot straight away ends an empty message (RFC 5321 §4.1.1.4). After a bare LF it does
    // not: only CRLF.CRLF ends data, whatever the client's line ends.
    if data_line_ended_with_crlf {
        receiver.ingest(&mut b"\r\n".iter(), &mut Vec::new());
    }
    let mut discarding: Option<DummyDataReceiver> = None;
    loop {
        let chunk = match timeout(idle, reader.fill_buf()).await {
            Err(_) => return Body::Idle,
            Ok(Err(_)) => return Body::Closed,
            Ok(Ok(chunk)) => chunk,
        };
        if chunk.is_empty() {
            return Body::Closed;
        }
        let mut bytes = chunk.iter();
        let done = match discarding.as_mut() {
            Some(discard) => discard.ingest(&mut bytes),
            None => receiver.ingest(&mut bytes, &mut raw),
        };
        let used = chunk.len() - bytes.len();
        reader.consume(used);
        if discarding.is_none() && raw.len() - start > max {
            discarding = Some(DummyDataReceiver::new_data(&receiver));
            raw = Vec::new();
        }
        if done {
            return match discarding {
                Some(_) => Body::TooBig,
                None => Body::Complete(raw),
            };
        }
    }
}

/// Reads a BDAT chunk of exactly `size` bytes, into `into` or nowhere.
pub(super) async fn read_chunk<S: AsyncRead + Unpin>(
    reader: &mut BufReader<S>,
    mut size: usize,
    mut into: Option<&mut Vec<u8>>,
    idle: Duration,
) -> Body {
    while size > 0 {
        let chunk = match timeout(idle, reader.fill_buf()).await {
            Err(_) => return Body::Idle,
            Ok(Err(_)) => return Body::Closed,
            Ok(Ok(chunk)) => chunk,
        };
        if chunk.is_empty() {
            return Body::Closed;
        }
        let taken = chunk.len().min(size);
        if let Some(into) = into.as_deref_mut() {
            into.extend_from_slice(&chunk[..taken]);
        }
        reader.consume(taken);
        size -= taken;
    }
    Body::Complete(Vec::new())
}
