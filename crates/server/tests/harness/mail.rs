//! Mail from the outside world: a customer's mail client (Python's smtplib, a real SMTP
//! client) sending to Seam's listener, and the customer's mail server (an SMTP listener on
//! 127.0.0.1 that records what it is given) receiving what Seam sends through its relay.

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use seam_channels::email::smtp::{self, Envelope, MailSink, RcptVerdict, SinkError, SmtpConfig};
use tokio::sync::watch;

/// Sends `raw` from `from` to `to` through the SMTP server at `addr` with smtplib. `Err` holds
/// the server's refusal (code and text) as smtplib reported it.
pub fn send_mail(addr: &str, from: &str, to: &[&str], raw: &[u8]) -> Result<(), String> {
    let (host, port) = addr.rsplit_once(':').expect("host:port");
    let script = r#"
import smtplib, sys
host, port, sender = sys.argv[1], int(sys.argv[2]), sys.argv[3]
recipients = sys.argv[4:]
raw = sys.stdin.buffer.read()
try:
    with smtplib.SMTP(host, port, timeout=60) as client:
        client.ehlo("client.example")
        refused = client.sendmail(sender, recipients, raw)
        if refused:
            print("refused", refused)
            sys.exit(3)
except smtplib.SMTPRecipientsRefused as error:
    print("recipients refused", error.recipients)
    sys.exit(4)
except smtplib.SMTPResponseException as error:
    print("smtp error", error.smtp_code, error.smtp_error)
    sys.exit(5)
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(host)
        .arg(port)
        .arg(from)
        .args(to)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// One message the customer's mail server was given.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub raw: String,
}

impl Delivered {
    /// The first value of a header (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(current) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    current.push(' ');
                    current.push_str(line.trim());
                    continue;
                }
                return value;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_string());
            }
        }
        value
    }
}

#[derive(Default)]
struct Recording {
    delivered: Mutex<Vec<Delivered>>,
}

#[async_trait]
impl MailSink for Recording {
    async fn accepts(&self, _: &str) -> RcptVerdict {
        RcptVerdict::Accept
    }

    async fn deliver(&self, envelope: &Envelope, raw: Vec<u8>) -> Result<(), SinkError> {
        self.delivered.lock().unwrap().push(Delivered {
            mail_from: envelope.mail_from.clone(),
            recipients: envelope.recipients.clone(),
            raw: String::from_utf8_lossy(&raw).into_owned(),
        });
        Ok(())
    }
}

/// The customer's mail server: takes every message and remembers it.
pub struct MailServer {
    pub host: String,
    pub port: u16,
    recording: Arc<Recording>,
    _stop: watch::Sender<bool>,
}

impl MailServer {
    pub async fn start() -> MailServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let recording = Arc::new(Recording::default());
        let (stop, stopped) = watch::channel(false);
        let config = SmtpConfig {
            hostname: "mx.customer.example".into(),
            ..SmtpConfig::default()
        };
        tokio::spawn(smtp::serve(
            listener,
            Arc::new(config),
            recording.clone(),
            stopped,
        ));
        MailServer {
            host: addr.ip().to_string(),
            port: addr.port(),
            recording,
            _stop: stop,
        }
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.recording.delivered.lock().unwrap().clone()
    }
}
