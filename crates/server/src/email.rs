//! The email channel's server side: the SMTP listener's address book and sink, the mailboxes
//! pulled over IMAP, and sending replies through each channel's relay.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use async_trait::async_trait;
use mail_auth::MessageAuthenticator;
use seam_api::email::{Ingested, ingest};
use seam_channels::{
    api_channel::Delivery,
    email::{
        auth::{self, DnsCache},
        imap::{self, ImapConfig, ImapSink, Processed},
        parse::Address,
        relay::{Relay, RelayConfig, Security},
        render::{self, DkimKey, OutgoingEmail},
        smtp::{self, Envelope, MailSink, RcptVerdict, SinkError, SmtpConfig},
    },
};
use seam_core::{
    Error,
    channel::{Channel, ChannelKind},
    email::{AuthResults, EmailSettings, prepare_outbound},
    ids::ChannelId,
    message::Message,
    ports::{FileStore, Store},
};
use tokio::sync::{Mutex, RwLock, watch};

use crate::config::SmtpSettings;

/// How long the address book is trusted before it is read again.
const BOOK_TTL: Duration = Duration::from_secs(10);
/// On a miss, how soon the book may be read again (a stranger's mail must not hammer the
/// database).
const MISS_REFRESH: Duration = Duration::from_secs(1);

/// Which email channel an address belongs to.
pub struct AddressBook {
    store: Arc<dyn Store>,
    book: RwLock<(Option<Instant>, HashMap<String, Channel>)>,
}

impl AddressBook {
    pub fn new(store: Arc<dyn Store>) -> Self {
        AddressBook {
            store,
            book: RwLock::new((None, HashMap::new())),
        }
    }

    /// The channel for a recipient: its address, or its address with a `+tag`.
    pub async fn channel_for(&self, recipient: &str) -> seam_core::Result<Option<Channel>> {
        let address = base_address(recipient);
        {
            let book = self.book.read().await;
            if let (Some(read_at), channels) = &*book {
                let fresh = read_at.elapsed() < BOOK_TTL;
                match channels.get(&address) {
                    Some(channel) if fresh => return Ok(Some(channel.clone())),
                    None if read_at.elapsed() < MISS_REFRESH => return Ok(None),
                    _ => {}
                }
            }
        }
        let channels = self.store.list_channels_of_kind(ChannelKind::Email).await?;
        let mut book = self.book.write().await;
        book.1 = channels
            .into_iter()
            .filter_map(|channel| {
                let address = EmailSettings::of(&channel).ok()?.address;
                Some((address, channel))
            })
            .collect();
        book.0 = Some(Instant::now());
        Ok(book.1.get(&address).cloned())
    }
}

/// `support+token@example.com` → `support@example.com`, lower-cased.
fn base_address(recipient: &str) -> String {
    let recipient = recipient.trim().trim_matches(['<', '>']).to_lowercase();
    match recipient.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(base, _)| base);
            format!("{local}@{domain}")
        }
        None => recipient,
    }
}

/// SPF, DKIM and DMARC for mail arriving over SMTP, with DNS answers cached between messages.
pub struct SenderChecks {
    authenticator: MessageAuthenticator,
    cache: DnsCache,
    hostname: String,
}

/// The checks never hold a message longer than this; past it, the results say `temperror`.
const CHECKS_TIMEOUT: Duration = Duration::from_secs(10);

impl SenderChecks {
    /// Checks through the system's resolver.
    pub fn system(hostname: &str) -> anyhow::Result<SenderChecks> {
        let authenticator = MessageAuthenticator::new_system_conf()
            .map_err(|error| anyhow::anyhow!("the DNS resolver for sender checks: {error}"))?;
        Ok(SenderChecks {
            authenticator,
            cache: DnsCache::new(),
            hostname: hostname.to_string(),
        })
    }

    async fn check(&self, envelope: &Envelope, raw: &[u8]) -> AuthResults {
        let seen = auth::Envelope {
            client_ip: envelope.peer.ip(),
            helo: &envelope.helo,
            mail_from: &envelope.mail_from,
            host_domain: &self.hostname,
        };
        let checked = auth::authenticate(&self.authenticator, &self.cache, raw, &seen);
        tokio::time::timeout(CHECKS_TIMEOUT, checked)
            .await
            .unwrap_or_else(|_| AuthResults {
                spf: "temperror".into(),
                dkim: "temperror".into(),
                dmarc: "temperror".into(),
            })
    }
}

/// Where the SMTP listener and the mailbox pullers put mail: stored before they acknowledge.
pub struct MailIntake {
    store: Arc<dyn Store>,
    files: Arc<dyn FileStore>,
    book: Arc<AddressBook>,
    checks: Option<SenderChecks>,
}

impl MailIntake {
    pub fn new(
        store: Arc<dyn Store>,
        files: Arc<dyn FileStore>,
        book: Arc<AddressBook>,
        checks: Option<SenderChecks>,
    ) -> Self {
        MailIntake {
            store,
            files,
            book,
            checks,
        }
    }

    async fn take(
        &self,
        channel: &Channel,
        recipients: &[String],
        null_sender: bool,
        auth: Option<AuthResults>,
        raw: &[u8],
    ) -> Result<(), SinkError> {
        match ingest(
            self.store.as_ref(),
            self.files.as_ref(),
            channel,
            recipients,
            null_sender,
            auth,
            raw,
        )
        .await
        {
            Ok(Ingested::Message(received)) => {
                metrics::counter!("seam_email_received_total").increment(1);
                tracing::debug!(
                    channel = %channel.id,
                    message = %received.message_id,
                    duplicate = received.duplicate,
                    "mail stored"
                );
                Ok(())
            }
            Ok(Ingested::Bounce(_)) => {
                metrics::counter!("seam_email_bounces_total").increment(1);
                Ok(())
            }
            Err(error) => Err(sink_error(error)),
        }
    }
}

/// Bad mail is refused for good; anything else (the database away, a conflict) is worth the
/// sender's retry.
fn sink_error(error: Error) -> SinkError {
    match error {
        Error::Invalid { field, reason } => SinkError::Permanent(format!("{field} {reason}")),
        Error::Refused { reason } => SinkError::Permanent(reason),
        other => {
            tracing::error!(error = %other, "storing mail failed");
            SinkError::Temporary("the message could not be stored; try again later".into())
        }
    }
}

#[async_trait]
impl MailSink for MailIntake {
    async fn accepts(&self, recipient: &str) -> RcptVerdict {
        match self.book.channel_for(recipient).await {
            Ok(Some(_)) => RcptVerdict::Accept,
            Ok(None) => RcptVerdict::Reject("no mailbox here by that name".into()),
            Err(error) => {
                tracing::error!(%error, "looking up a recipient failed");
                RcptVerdict::TryLater("the mailbox cannot be looked up now".into())
            }
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), SinkError> {
        let auth = match &self.checks {
            Some(checks) => Some(checks.check(envelope, &raw).await),
            None => None,
        };
        // One copy per channel addressed (normally one), with that channel's recipients.
        let mut routes: Vec<(Channel, Vec<String>)> = Vec::new();
        for recipient in &envelope.recipients {
            let Some(channel) = self.book.channel_for(recipient).await.map_err(sink_error)? else {
                continue;
            };
            match routes.iter_mut().find(|(known, _)| known.id == channel.id) {
                Some((_, mine)) => mine.push(recipient.clone()),
                None => routes.push((channel, vec![recipient.clone()])),
            }
        }
        for (channel, mine) in &routes {
            self.take(
                channel,
                mine,
                envelope.mail_from.is_empty(),
                auth.clone(),
                &raw,
            )
            .await?;
        }
        Ok(())
    }
}

/// One mailbox's intake: everything pulled from it goes to its channel.
struct MailboxIntake {
    intake: Arc<MailIntake>,
    channel: Channel,
    address: String,
}

#[async_trait]
impl ImapSink for MailboxIntake {
    async fn store(&self, raw: Vec<u8>) -> Result<(), SinkError> {
        // The mailbox's provider checked the sender already; its verdict is not ours to read.
        let recipients = std::slice::from_ref(&self.address);
        self.intake
            .take(&self.channel, recipients, false, None, &raw)
            .await
    }
}

/// Starts the SMTP listener. Returns the address it bound.
pub async fn start_listener(
    addr: std::net::SocketAddr,
    settings: &SmtpSettings,
    intake: Arc<MailIntake>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let tls = match &settings.tls {
        Some((cert, key)) => {
            let cert_pem = std::fs::read(cert)
                .with_context(|| format!("reading the SMTP certificate {}", cert.display()))?;
            let key_pem = std::fs::read(key)
                .with_context(|| format!("reading the SMTP key {}", key.display()))?;
            Some(
                smtp::tls_acceptor_from_pem(&cert_pem, &key_pem)
                    .map_err(|error| anyhow::anyhow!("SMTP TLS: {error}"))?,
            )
        }
        None => None,
    };
    let config = SmtpConfig {
        hostname: settings.hostname.clone(),
        max_message_bytes: settings.max_message_bytes,
        tls,
        ..SmtpConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding SMTP on {addr}"))?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(smtp::serve(listener, Arc::new(config), intake, shutdown));
    Ok((bound, task))
}

/// Keeps one puller per email channel with an `imap` setting, following channels as they are
/// created (checked every half minute).
pub async fn run_mailboxes(
    store: Arc<dyn Store>,
    intake: Arc<MailIntake>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut running: HashMap<ChannelId, (serde_json::Value, watch::Sender<bool>)> = HashMap::new();
    loop {
        match store.list_channels_of_kind(ChannelKind::Email).await {
            Ok(channels) => {
                for channel in channels {
                    let Ok(settings) = EmailSettings::of(&channel) else {
                        continue;
                    };
                    let Some(imap) = settings.imap else {
                        continue;
                    };
                    let fingerprint = serde_json::to_value(&imap).unwrap_or_default();
                    if running
                        .get(&channel.id)
                        .is_some_and(|(known, _)| *known == fingerprint)
                    {
                        continue;
                    }
                    let config = ImapConfig {
                        host: imap.host,
                        port: imap.port,
                        tls: imap.tls,
                        username: imap.username,
                        password: imap.password.unwrap_or_default(),
                        mailbox: imap.mailbox,
                        processed: match imap.move_to {
                            Some(folder) => Processed::MoveTo(folder),
                            None => Processed::Seen,
                        },
                        timeout: Duration::from_secs(60),
                        poll_interval: Duration::from_secs(60),
                    };
                    let (stop, stopped) = watch::channel(false);
                    if let Some((_, previous)) = running.insert(channel.id, (fingerprint, stop)) {
                        let _ = previous.send(true);
                    }
                    let sink = Arc::new(MailboxIntake {
                        intake: intake.clone(),
                        channel,
                        address: settings.address,
                    });
                    tokio::spawn(imap::run(config, sink, stopped));
                }
            }
            Err(error) => tracing::error!(%error, "listing mailboxes failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => break,
        }
    }
    for (_, (_, stop)) in running {
        let _ = stop.send(true);
    }
}

/// Sends replies as mail, keeping one pooled relay connection per channel.
pub struct Mailer {
    store: Arc<dyn Store>,
    relays: Mutex<HashMap<ChannelId, (serde_json::Value, Arc<Relay>)>>,
}

impl Mailer {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Mailer {
            store,
            relays: Mutex::new(HashMap::new()),
        }
    }

    async fn relay(
        &self,
        channel: &Channel,
        settings: &EmailSettings,
    ) -> Result<Arc<Relay>, String> {
        let relay = settings
            .relay
            .clone()
            .ok_or_else(|| format!("channel {} has no relay", channel.name))?;
        let fingerprint = serde_json::to_value(&relay).unwrap_or_default();
        let mut relays = self.relays.lock().await;
        if let Some((known, relay)) = relays.get(&channel.id)
            && *known == fingerprint
        {
            return Ok(relay.clone());
        }
        let config = RelayConfig {
            host: relay.host,
            port: relay.port,
            security: match relay.security.as_str() {
                "tls" => Security::Tls,
                "none" => Security::None,
                _ => Security::StartTls,
            },
            username: relay.username,
            password: relay.password,
            accept_invalid_certs: false,
            timeout: Duration::from_secs(30),
        };
        let built = Arc::new(Relay::new(&config).map_err(|error| error.to_string())?);
        relays.insert(channel.id, (fingerprint, built.clone()));
        Ok(built)
    }

    /// Renders and sends one outbound message. A `Delivered` answer means the relay took it.
    pub async fn send(&self, channel: &Channel, message: &Message) -> seam_core::Result<Delivery> {
        let settings = EmailSettings::of(channel)?;
        let now = chrono::Utc::now();
        let prepared = match prepare_outbound(self.store.as_ref(), &settings, message, now).await {
            Ok(prepared) => prepared,
            Err(Error::Refused { reason }) => return Ok(Delivery::Permanent { reason }),
            Err(error) => return Err(error),
        };
        let email = OutgoingEmail {
            from: Address {
                name: settings.from_name.clone(),
                email: settings.address.clone(),
            },
            reply_to: Some(Address {
                name: settings.from_name.clone(),
                email: prepared.reply_to.clone(),
            }),
            to: Address {
                name: None,
                email: prepared.to.clone(),
            },
            subject: prepared.subject.clone(),
            message_id: prepared.message_id.clone(),
            in_reply_to: prepared.in_reply_to.clone(),
            references: prepared.references.clone(),
            markdown: message.text.clone(),
            signature: settings.signature.clone(),
            attachments: Vec::new(),
            auto_submitted: false,
            date: now,
        };
        let dkim = settings.dkim.as_ref().map(|dkim| DkimKey {
            domain: dkim.domain.clone(),
            selector: dkim.selector.clone(),
            private_key_pem: dkim.private_key.clone(),
        });
        let raw = match render::render(&email, dkim.as_ref()) {
            Ok(raw) => raw,
            Err(error) => {
                return Ok(Delivery::Permanent {
                    reason: format!("the reply could not be written as mail: {error}"),
                });
            }
        };
        let relay = match self.relay(channel, &settings).await {
            Ok(relay) => relay,
            Err(reason) => return Ok(Delivery::Permanent { reason }),
        };
        let delivery = relay
            .send(&settings.address, std::slice::from_ref(&prepared.to), &raw)
            .await;
        if matches!(delivery, Delivery::Delivered) {
            metrics::counter!("seam_email_sent_total").increment(1);
        }
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plus_addresses_belong_to_their_base_address() {
        assert_eq!(
            super::base_address("<Support+abc123@Acme.Example>"),
            "support@acme.example"
        );
        assert_eq!(
            super::base_address("sales@acme.example"),
            "sales@acme.example"
        );
    }
}
