//! Seam's inbound SMTP listener (RFC 5321) on tokio, built on the sans-IO `smtp-proto` parser:
//! limits, STARTTLS (RFC 3207) and the mail transaction. It stores nothing itself: recipients
//! are checked with, and finished messages handed to, a [`MailSink`] the server provides, and
//! `250` is answered only once the sink has stored the message. No database access.

mod commands;
mod reply;
mod session;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// How the listener behaves. `Default` gives the documented limits and no TLS.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The name the listener gives itself in its greeting, replies and `Received:` headers.
    pub hostname: String,
    /// The largest message accepted, counted as received after dot-unstuffing (25 MiB).
    pub max_message_bytes: usize,
    /// The most recipients one transaction may name (100).
    pub max_recipients: usize,
    /// Connections served at once; the next one is answered `421` and closed (1000).
    pub max_connections: usize,
    /// Silence from the client after which the connection is closed with `421` (5 minutes).
    pub idle_timeout: Duration,
    /// Refused commands after which the connection is closed with `421` (10).
    pub max_errors: u32,
    /// Offered as STARTTLS when set.
    pub tls: Option<TlsAcceptor>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            hostname: "localhost".to_string(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 1000,
            idle_timeout: Duration::from_secs(5 * 60),
            max_errors: 10,
            tls: None,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("hostname", &self.hostname)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_recipients", &self.max_recipients)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_errors", &self.max_errors)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Why the listener's TLS or the outbound relay could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("the certificate chain could not be read: {0}")]
    Certificate(String),
    #[error("the private key could not be read: {0}")]
    PrivateKey(String),
    #[error("the TLS configuration was refused: {0}")]
    Tls(String),
    #[error("the relay could not be set up: {0}")]
    Relay(String),
}

/// A TLS acceptor for STARTTLS from a PEM certificate chain (leaf first) and a PEM private key
/// (PKCS#8, PKCS#1 or SEC1), with rustls's `ring` provider.
pub fn tls_acceptor_from_pem(
    cert_chain_pem: &[u8],
    private_key_pem: &[u8],
) -> Result<TlsAcceptor, SmtpError> {
    use pki_types::pem::PemObject;

    let certificates = pki_types::CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| SmtpError::Certificate(error.to_string()))?;
    if certificates.is_empty() {
        return Err(SmtpError::Certificate(
            "no PEM certificate found".to_string(),
        ));
    }
    // The parser's error can quote a line of the file, so it is not repeated: a key must never
    // reach a log.
    let private_key = pki_types::PrivateKeyDer::from_pem_slice(private_key_pem).map_err(|_| {
        SmtpError::PrivateKey("no PEM private key (PKCS#8, PKCS#1 or SEC1) found".to_string())
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| SmtpError::Tls(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certificates, private_key)
        .map_err(|error| SmtpError::Tls(error.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The SMTP envelope of one accepted message, kept apart from its headers (RFC 5321 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path; `""` for the null sender `<>` of bounces and auto-replies.
    pub mail_from: String,
    /// The accepted forward-paths, lower-cased, each once.
    pub recipients: Vec<String>,
    pub peer: SocketAddr,
    /// The name the client gave in EHLO or HELO.
    pub helo: String,
    /// Whether the message came over TLS (after STARTTLS).
    pub tls: bool,
}

/// The sink's answer to `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptVerdict {
    Accept,
    /// No such mailbox here: answered `550 5.1.1` with the reason.
    Reject(String),
    /// Cannot tell now: answered `451 4.3.0` with the reason.
    TryLater(String),
}

/// Why the sink did not store a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Answered `451 4.3.0`: the sending server tries again later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Answered `554 5.6.0`: the sending server bounces the message.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// Where the listener's messages go. Provided by the server, which owns storage.
#[async_trait]
pub trait MailSink: Send + Sync + 'static {
    /// Whether mail for `recipient` (lower-cased) is taken here.
    async fn accepts(&self, recipient: &str) -> RcptVerdict;

    /// Must store the message durably before returning Ok: the listener answers 250 only then.
    /// `raw` is the message as received, dot-unstuffed, with the listener's `Received:` header
    /// first.
    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), SinkError>;
}

/// Accepts connections on `listener` until `shutdown` holds `true` (dropping its sender does
/// not stop the listener), one task per connection. On shutdown it stops accepting; sessions
/// receiving a message finish it, the others are answered `421`; it returns when all have
/// ended.
pub async fn serve(
    listener: TcpListener,
    config: Arc<SmtpConfig>,
    sink: Arc<dyn MailSink>,
    mut shutdown: watch::Receiver<bool>,
) {
    let limit = config.max_connections.min(u32::MAX as usize);
    let sessions = Arc::new(Semaphore::new(limit));
    loop {
        let accepted = tokio::select! {
            biased;
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Usually out of file descriptors: pause rather than spin.
                tracing::warn!(%error, "the SMTP listener could not accept a connection");
                tokio::select! {
                    () = stopped(&mut shutdown) => break,
                    () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let Ok(permit) = Arc::clone(&sessions).try_acquire_owned() else {
            // Never waits: a full socket buffer just loses the courtesy line.
            let line = format!(
                "421 4.3.2 {} Too many connections, try again later\r\n",
                reply::printable(&config.hostname)
            );
            let _ = stream.try_write(line.as_bytes());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let config = Arc::clone(&config);
        let sink = Arc::clone(&sink);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            session::run(stream, peer, config, sink, shutdown).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every session holds a permit: having them all back means every session has ended.
    let _ = sessions.acquire_many(limit as u32).await;
}

/// Resolves once `shutdown` holds `true`; never, if its sender is gone without saying so.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}
