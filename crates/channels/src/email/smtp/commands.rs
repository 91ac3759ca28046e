//! What each SMTP command does to the session: the checks and replies of RFC 5321 §4.1.1,
//! the limits of the configuration, and the hand-over of a finished message to the sink.

use smtp_proto::{Error as ParseError, MAIL_BODY_BINARYMIME, MailFrom, RcptTo, Request};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};

use super::session::{Body, Session, Step, Transaction, read_chunk, read_data};
use super::{Envelope, RcptVerdict, SinkError, reply};

impl Session {
    pub(super) async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        request: Result<Request<String>, ParseError>,
        reader: &mut BufReader<S>,
    ) -> Step {
        let request = match request {
            Ok(request) => request,
            Err(error) => {
                self.refuse(error);
                return Step::Continue;
            }
        };
        match request {
            Request::Ehlo { host } => self.greet(host, true),
            Request::Helo { host } => self.greet(host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to).await,
            Request::Data => return self.data(reader).await,
            Request::Bdat {
                chunk_size,
                is_last,
            } => return self.bdat(chunk_size, is_last, reader).await,
            Request::Rset => {
                self.transaction = None;
                self.reply(250, [2, 0, 0], "OK");
            }
            Request::Noop { .. } => self.reply(250, [2, 0, 0], "OK"),
            Request::Vrfy { .. } => self.reply(
                252,
                [2, 5, 0],
                "Cannot VRFY user, but will accept message and attempt delivery",
            ),
            Request::Help { .. } => self.reply(
                214,
                [2, 0, 0],
                "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP STARTTLS QUIT",
            ),
            Request::Quit => {
                let message = format!("{} closing connection", self.hostname);
                self.reply(221, [2, 0, 0], &message);
                return Step::Close;
            }
            Request::StartTls => return self.start_tls(),
            Request::Lhlo { .. }
            | Request::Auth { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.reply(502, [5, 5, 1], "Command not implemented"),
        }
        Step::Continue
    }

    fn refuse(&mut self, error: ParseError) {
        match error {
            ParseError::UnknownCommand => self.reply(500, [5, 5, 1], "Command unrecognized"),
            ParseError::InvalidSenderAddress => {
                self.reply(501, [5, 1, 7], "Bad sender address syntax")
            }
            ParseError::InvalidRecipientAddress => {
                self.reply(501, [5, 1, 3], "Bad recipient address syntax")
            }
            ParseError::SyntaxError { syntax } => {
                self.reply(501, [5, 5, 2], &format!("Syntax: {syntax}"))
            }
            ParseError::InvalidParameter { param } => {
                self.reply(501, [5, 5, 4], &format!("Invalid parameter {param}"))
            }
            ParseError::UnsupportedParameter { param } => {
                self.reply(555, [5, 5, 4], &format!("Unsupported parameter {param}"))
            }
            _ => self.reply(500, [5, 5, 2], "Syntax error"),
        }
    }

    fn greet(&mut self, host: String, extended: bool) {
        self.helo = Some(host);
        self.extended = extended;
        self.transaction = None;
        if extended {
            let starttls = self.config.tls.is_some() && !self.tls;
            reply::ehlo(
                &mut self.out,
                &self.hostname,
                self.config.max_message_bytes,
                starttls,
            );
        } else {
            reply::plain(&mut self.out, 250, &self.hostname);
        }
    }

    fn mail(&mut self, from: MailFrom<String>) {
        if self.helo.is_none() {
            return self.reply(503, [5, 5, 1], "Send EHLO or HELO first");
        }
        if self.transaction.is_some() {
            return self.reply(503, [5, 5, 1], "Nested MAIL command");
        }
        if from.size > self.config.max_message_bytes {
            return self.size_exceeded();
        }
        if from.flags & MAIL_BODY_BINARYMIME != 0 {
            return self.reply(555, [5, 5, 4], "BODY=BINARYMIME is not supported");
        }
        self.transaction = Some(Transaction {
            mail_from: from.address,
            recipients: Vec::new(),
            chunks: None,
            chunked_bytes: 0,
            too_big: false,
        });
        self.reply(250, [2, 1, 0], "OK");
    }

    async fn rcpt(&mut self, to: RcptTo<String>) {
        let address = to.address.to_lowercase();
        let Some(transaction) = &self.transaction else {
            return self.reply(503, [5, 5, 1], "Need MAIL command");
        };
        if address.is_empty() {
            return self.reply(501, [5, 1, 3], "Bad recipient address syntax");
        }
        if transaction.recipients.contains(&address) {
            return self.reply(250, [2, 1, 5], "OK");
        }
        if transaction.recipients.len() >= self.config.max_recipients {
            return self.reply(452, [4, 5, 3], "Too many recipients");
        }
        match self.sink.accepts(&address).await {
            RcptVerdict::Accept => {
                if let Some(transaction) = &mut self.transaction {
                    transaction.recipients.push(address);
                }
                self.reply(250, [2, 1, 5], "OK");
            }
            RcptVerdict::Reject(reason) => {
                self.reply(550, [5, 1, 1], or_default(&reason, "No such mailbox"))
            }
            RcptVerdict::TryLater(reason) => {
                self.reply(451, [4, 3, 0], or_default(&reason, "Try again later"))
            }
        }
    }

    fn start_tls(&mut self) -> Step {
        if self.tls {
            self.reply(503, [5, 5, 1], "Already in TLS");
            return Step::Continue;
        }
        if self.config.tls.is_none() {
            self.reply(502, [5, 5, 1], "STARTTLS not available");
            return Step::Continue;
        }
        self.reply(220, [2, 0, 0], "Ready to start TLS");
        Step::StartTls
    }

    /// Whether a transaction with recipients is open; otherwise answers why not.
    fn ready_for_data(&mut self) -> bool {
        match &self.transaction {
            None => self.reply(503, [5, 5, 1], "Need MAIL command"),
            Some(transaction) if transaction.recipients.is_empty() => {
                self.reply(554, [5, 5, 1], "No valid recipients")
            }
            Some(_) => return true,
        }
        false
    }

    async fn data<S: AsyncRead + AsyncWrite + Unpin>(&mut self, reader: &mut BufReader<S>) -> Step {
        if !self.ready_for_data() {
            return Step::Continue;
        }
        if self
            .transaction
            .as_ref()
            .is_some_and(|transaction| transaction.chunks.is_some())
        {
            self.reply(503, [5, 5, 1], "DATA cannot follow BDAT");
            return Step::Continue;
        }
        reply::plain(
            &mut self.out,
            354,
            "Start mail input; end with <CRLF>.<CRLF>",
        );
        if !self.flush(reader).await {
            return Step::Close;
        }
        let received = self.received_header();
        let body = read_data(
            reader,
            received,
            self.line.ends_with(b"\r\n"),
            self.config.max_message_bytes,
            self.config.idle_timeout,
        )
        .await;
        match body {
            Body::Complete(raw) => self.deliver(raw).await,
            Body::TooBig => {
                self.transaction = None;
                self.size_exceeded();
                Step::Continue
            }
            Body::Idle => {
                self.idle_timeout_reply();
                Step::Close
            }
            Body::Closed => Step::Close,
        }
    }

    async fn bdat<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        chunk_size: usize,
        is_last: bool,
        reader: &mut BufReader<S>,
    ) -> Step {
        let idle = self.config.idle_timeout;
        if !self.ready_for_data() {
            // The chunk follows the command whatever the answer, so it is read and dropped
            // (RFC 3030 §2).
            return match read_chunk(reader, chunk_size, None, idle).await {
                Body::Complete(_) => Step::Continue,
                Body::Idle => {
                    self.idle_timeout_reply();
                    Step::Close
                }
                _ => Step::Close,
            };
        }
        let max = self.config.max_message_bytes;
        let received = self.received_header();
        let Some(transaction) = &mut self.transaction else {
            return Step::Continue;
        };
        let chunks = transaction.chunks.get_or_insert(received);
        transaction.chunked_bytes = transaction.chunked_bytes.saturating_add(chunk_size);
        if transaction.chunked_bytes > max && !transaction.too_big {
            transaction.too_big = true;
            *chunks = Vec::new();
        }
        let into = if transaction.too_big {
            None
        } else {
            Some(chunks)
        };
        match read_chunk(reader, chunk_size, into, idle).await {
            Body::Complete(_) => {}
            Body::Idle => {
                self.idle_timeout_reply();
                return Step::Close;
            }
            _ => return Step::Close,
        }
        if !is_last {
            self.reply(250, [2, 0, 0], &format!("{chunk_size} octets received"));
            return Step::Continue;
        }
        let too_big = transaction.too_big;
        let raw = transaction.chunks.take().unwrap_or_default();
        if too_big {
            self.transaction = None;
            self.size_exceeded();
            return Step::Continue;
        }
        self.deliver(raw).await
    }

    async fn deliver(&mut self, raw: Vec<u8>) -> Step {
        let Some(transaction) = self.transaction.take() else {
            return Step::Continue;
        };
        let envelope = Envelope {
            mail_from: transaction.mail_from,
            recipients: transaction.recipients,
            peer: self.peer,
            helo: self.helo.clone().unwrap_or_default(),
            tls: self.tls,
        };
        match self.sink.deliver(&envelope, raw).await {
            Ok(()) => self.reply(250, [2, 0, 0], "OK: message stored"),
            Err(SinkError::Temporary(reason)) => {
                tracing::warn!(peer = %self.peer, %reason, "inbound message not stored, deferred");
                self.reply(451, [4, 3, 0], or_default(&reason, "Try again later"));
            }
            Err(SinkError::Permanent(reason)) => {
                tracing::warn!(peer = %self.peer, %reason, "inbound message refused");
                self.reply(554, [5, 6, 0], or_default(&reason, "Message refused"));
            }
        }
        Step::Continue
    }

    fn size_exceeded(&mut self) {
        let message = format!(
            "Message exceeds the size limit of {} bytes",
            self.config.max_message_bytes
        );
        self.reply(552, [5, 3, 4], &message);
    }

    fn received_header(&self) -> Vec<u8> {
        reply::received_header(
            self.helo.as_deref().unwrap_or("unknown"),
            self.peer.ip(),
            &self.hostname,
            self.extended,
            self.tls,
        )
        .into_bytes()
    }
}

fn or_default<'a>(reason: &'a str, default: &'a str) -> &'a str {
    if reason.trim().is_empty() {
        default
    } else {
        reason
    }
}
