//! Pulling mail from an existing mailbox over IMAP (RFC 3501) with async-imap on tokio and
//! rustls (`ring`): new messages are fetched without being marked read (`BODY.PEEK[]`), handed
//! to an [`ImapSink`], and marked `\Seen` or moved only once the sink has stored them. `run`
//! waits with IDLE (RFC 2177) when the server offers it and polls otherwise; the server runs
//! one `run` per mailbox so that many mailboxes never queue behind each other. No database
//! access; the password is never logged nor put in an error.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_trait::async_trait;
use futures::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_rustls::rustls::{self, pki_types};

use super::smtp::SinkError;

/// Servers drop an idle client after 30 minutes (RFC 2177 §3), so IDLE is renewed before.
const IDLE_RENEWAL: Duration = Duration::from_secs(25 * 60);

/// What becomes of a message once it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Flagged `\Seen` and left where it is.
    Seen,
    /// Moved to this mailbox (with MOVE, RFC 6851; otherwise copied and flagged deleted).
    MoveTo(String),
}

#[derive(Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (port 993).
    pub tls: bool,
    pub username: String,
    pub password: String,
    /// Usually `INBOX`.
    pub mailbox: String,
    pub processed: Processed,
    /// For connecting, and for each answer of the server.
    pub timeout: Duration,
    /// In [`run`]: the pause between polls when the server has no IDLE, and before trying
    /// again after a failure.
    pub poll_interval: Duration,
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("mailbox", &self.mailbox)
            .field("processed", &self.processed)
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// Where pulled messages go. Provided by the server, which owns storage.
#[async_trait]
pub trait ImapSink: Send + Sync {
    /// Must store `raw` (an RFC 5322 message) durably before returning Ok: only then is it
    /// marked or moved on the server. `Permanent` also marks it, so that a message that can
    /// never be stored is not fetched again and again.
    async fn store(&self, raw: Vec<u8>) -> Result<(), SinkError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("could not connect to the IMAP server: {0}")]
    Connect(String),
    #[error("TLS with the IMAP server failed: {0}")]
    Tls(String),
    #[error("the IMAP server refused the login: {0}")]
    Login(String),
    #[error("the IMAP server failed: {0}")]
    Protocol(String),
    #[error("the IMAP server did not answer in time")]
    Timeout,
    #[error("a message could not be stored yet: {0}")]
    Sink(String),
}

impl From<async_imap::error::Error> for ImapError {
    fn from(error: async_imap::error::Error) -> Self {
        ImapError::Protocol(error.to_string())
    }
}

type Session = async_imap::Session<Transport>;

/// What the server offers beyond RFC 3501.
#[derive(Debug, Clone, Copy)]
struct Offers {
    idle: bool,
    moves: bool,
}

/// Connects, stores every new message, and logs out. Returns how many messages were stored.
pub async fn poll_once(config: &ImapConfig, sink: &dyn ImapSink) -> Result<usize, ImapError> {
    let (mut session, offers) = open(config).await?;
    let stored = fetch_new(config, &mut session, offers, sink).await;
    let _ = timeout(config.timeout, session.logout()).await;
    stored
}

/// Keeps the mailbox drained until `shutdown` holds `true`: stores what is new, then waits
/// with IDLE when offered, or `poll_interval`, and starts again. Failures are logged and the
/// connection opened again after `poll_interval`.
pub async fn run(config: ImapConfig, sink: Arc<dyn ImapSink>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match connected(&config, &*sink, &mut shutdown).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(host = %config.host, mailbox = %config.mailbox, %error, "IMAP pull failed");
            }
        }
        tokio::select! {
            () = stopped(&mut shutdown) => return,
            () = tokio::time::sleep(config.poll_interval) => {}
        }
    }
}

/// One connection's life in [`run`]; Ok once shutdown is asked for.
async fn connected(
    config: &ImapConfig,
    sink: &dyn ImapSink,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), ImapError> {
    let (mut session, offers) = open(config).await?;
    loop {
        fetch_new(config, &mut session, offers, sink).await?;
        if *shutdown.borrow() {
            let _ = timeout(config.timeout, session.logout()).await;
            return Ok(());
        }
        if !offers.idle {
            let stop = tokio::select! {
                () = stopped(shutdown) => true,
                () = tokio::time::sleep(config.poll_interval) => false,
            };
            if stop {
                let _ = timeout(config.timeout, session.logout()).await;
                return Ok(());
            }
            continue;
        }
        let mut handle = session.idle();
        within(config.timeout, handle.init()).await??;
        let stop = {
            let (wait, interrupt) = handle.wait_with_timeout(IDLE_RENEWAL);
            tokio::pin!(wait);
            tokio::select! {
                response = &mut wait => {
                    if let IdleResponse::NewData(_) = response? {
                        tracing::debug!(mailbox = %config.mailbox, "IMAP IDLE: new data");
                    }
                    false
                }
                () = stopped(shutdown) => {
                    // Dropping the interrupt ends the wait cleanly, without losing a response
                    // half read.
                    drop(interrupt);
                    let _ = wait.await;
                    true
                }
            }
        };
        session = within(config.timeout, handle.done()).await??;
        if stop {
            let _ = timeout(config.timeout, session.logout()).await;
            return Ok(());
        }
    }
}

/// Connects, logs in and selects the mailbox.
async fn open(config: &ImapConfig) -> Result<(Session, Offers), ImapError> {
    let address = (config.host.as_str(), config.port);
    let tcp = within(config.timeout, TcpStream::connect(address))
        .await?
        .map_err(|error| ImapError::Connect(error.to_string()))?;
    let transport = if config.tls {
        let connector = tls_connector()?;
        let name = pki_types::ServerName::try_from(config.host.clone())
            .map_err(|error| ImapError::Tls(error.to_string()))?;
        let stream = within(config.timeout, connector.connect(name, tcp))
            .await?
            .map_err(|error| ImapError::Tls(error.to_string()))?;
        Transport::Tls(Box::new(stream))
    } else {
        Transport::Plain(tcp)
    };
    let mut client = async_imap::Client::new(transport);
    let greeting = within(config.timeout, client.read_response())
        .await?
        .map_err(|error| ImapError::Connect(error.to_string()))?;
    if greeting.is_none() {
        return Err(ImapError::Connect("closed before the greeting".to_string()));
    }
    let login = within(
        config.timeout,
        client.login(&config.username, &config.password),
    )
    .await?;
    let mut session = login.map_err(|(error, _)| match error {
        // The server's own words; never the command, which holds the password.
        async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
            ImapError::Login(text)
        }
        _ => ImapError::Login("the login failed".to_string()),
    })?;
    let capabilities = within(config.timeout, session.capabilities()).await??;
    let offers = Offers {
        idle: capabilities.has_str("IDLE"),
        moves: capabilities.has_str("MOVE"),
    };
    within(config.timeout, session.select(&config.mailbox)).await??;
    Ok((session, offers))
}

/// Stores each new message, oldest first, and marks or moves it once stored.
async fn fetch_new(
    config: &ImapConfig,
    session: &mut Session,
    offers: Offers,
    sink: &dyn ImapSink,
) -> Result<usize, ImapError> {
    let mut uids: Vec<u32> = within(config.timeout, session.uid_search("UNSEEN"))
        .await??
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut stored = 0;
    for uid in uids {
        let Some(raw) = fetch(config, session, uid).await? else {
            continue;
        };
        match sink.store(raw).await {
            Ok(()) => stored += 1,
            Err(SinkError::Temporary(reason)) => return Err(ImapError::Sink(reason)),
            Err(SinkError::Permanent(reason)) => {
                tracing::warn!(mailbox = %config.mailbox, uid, %reason, "IMAP message refused");
            }
        }
        mark(config, session, offers, uid).await?;
    }
    Ok(stored)
}

/// The whole message, without setting `\Seen` (RFC 3501 §6.4.5, `BODY.PEEK`).
async fn fetch(
    config: &ImapConfig,
    session: &mut Session,
    uid: u32,
) -> Result<Option<Vec<u8>>, ImapError> {
    within(config.timeout, async {
        let mut fetches = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
        let mut raw = None;
        while let Some(fetch) = fetches.try_next().await? {
            if fetch.uid == Some(uid)
                && let Some(body) = fetch.body()
            {
                raw = Some(body.to_vec());
            }
        }
        Ok::<_, async_imap::error::Error>(raw)
    })
    .await?
    .map_err(ImapError::from)
}

async fn mark(
    config: &ImapConfig,
    session: &mut Session,
    offers: Offers,
    uid: u32,
) -> Result<(), ImapError> {
    let uid_set = uid.to_string();
    within(config.timeout, async {
        match &config.processed {
            Processed::Seen => {
                let updates = session
                    .uid_store(&uid_set, "+FLAGS.SILENT (\\Seen)")
                    .await?;
                updates.try_collect::<Vec<_>>().await?;
            }
            Processed::MoveTo(target) if offers.moves => {
                session.uid_mv(&uid_set, target).await?;
            }
            Processed::MoveTo(target) => {
                // Without MOVE the copy is made and the original flagged; expunging is left to
                // the mailbox's owner, since a plain EXPUNGE would remove others' deletions.
                session.uid_copy(&uid_set, target).await?;
                let updates = session
                    .uid_store(&uid_set, "+FLAGS.SILENT (\\Seen \\Deleted)")
                    .await?;
                updates.try_collect::<Vec<_>>().await?;
            }
        }
        Ok::<_, async_imap::error::Error>(())
    })
    .await?
    .map_err(ImapError::from)
}

async fn within<T>(limit: Duration, work: impl Future<Output = T>) -> Result<T, ImapError> {
    timeout(limit, work).await.map_err(|_| ImapError::Timeout)
}

/// Resolves once `shutdown` holds `true`; never, if its sender is gone without saying so.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, ImapError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ImapError::Tls(error.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The connection under the IMAP client: plain TCP or TLS.
#[derive(Debug)]
enum Transport {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Transport::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}
