//! `seam-bench smtp`: mail ingest through Seam's SMTP listener. Creates an email channel, then
//! concurrent SMTP connections send messages as an MTA does (PIPELINING for the envelope, the
//! message in one buffered write, Nagle off) — messages of
//! about `--size` bytes (multipart text + HTML, as mail clients write them): 70% from a pool
//! of returning senders, a third of those replying to their previous message with
//! In-Reply-To. Each message is acknowledged only once stored and threaded, so throughput is
//! messages answered `250` per second. Reports that and the latency of one SMTP transaction.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use anyhow::bail;
use clap::Parser;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

use crate::driver::login;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "seam-bench smtp",
    about = "Mail ingest through the SMTP listener"
)]
pub struct SmtpOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The SMTP listener.
    #[arg(long, default_value = "127.0.0.1:2525")]
    pub smtp: String,
    #[arg(long, default_value = "admin@example.com")]
    pub email: String,
    #[arg(long, env = "SEAM_ADMIN_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Concurrent SMTP connections.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Approximate size of each message in bytes.
    #[arg(long, default_value_t = 20_000)]
    pub size: usize,
    /// Returning senders.
    #[arg(long, default_value_t = 2_000)]
    pub senders: usize,
}

async fn create_channel(options: &SmtpOptions, address: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let response = http
        .post(format!("{}/api/v1/channels", options.url))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&json!({"kind": "email", "name": "seam-bench smtp", "config": {"address": address}}))
        .send()
        .await?;
    if !response.status().is_success() {
        let body: Value = response.json().await.unwrap_or_default();
        bail!("creating the email channel failed: {body}");
    }
    Ok(())
}

/// A mail of about `size` bytes: a text part and an HTML part with the same paragraphs.
fn message(from: &str, to: &str, id: &str, in_reply_to: Option<&str>, size: usize) -> Vec<u8> {
    const PARAGRAPH: &str = "Hello, I ordered a jacket last week and it has not arrived yet. \
        The tracking page says it left the warehouse but nothing changed since. Could you \
        check where it is and tell me when it will arrive? Thank you very much. ";
    let paragraphs = (size / 2 / PARAGRAPH.len()).max(1);
    let text = PARAGRAPH.repeat(paragraphs);
    let html = format!(
        "<html><body><p>{}</p></body></html>",
        PARAGRAPH.repeat(paragraphs)
    );
    let threading = in_reply_to
        .map(|parent| format!("In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: Customer <{from}>\r\nTo: {to}\r\nSubject: Where is my jacket?\r\n\
         Message-ID: <{id}>\r\n{threading}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    )
    .into_bytes()
}

/// One SMTP connection, used as an MTA uses it.
struct Connection {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Connection {
    async fn open(addr: &str) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        let mut connection = Connection {
            reader: BufReader::new(read),
            writer,
        };
        connection.expect(220).await?;
        connection
            .writer
            .write_all(b"EHLO bench.example\r\n")
            .await?;
        connection.expect(250).await?;
        Ok(connection)
    }

    /// Reads one (possibly multi-line) reply; fails unless its code is `code`.
    async fn expect(&mut self, code: u16) -> anyhow::Result<()> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).await? == 0 {
                bail!("the server closed the connection");
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        if !line.starts_with(&code.to_string()) {
            bail!("expected {code}, got {}", line.trim_end());
        }
        Ok(())
    }

    async fn send(&mut self, from: &str, to: &str, raw: &[u8]) -> anyhow::Result<()> {
        let envelope = format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
        self.writer.write_all(envelope.as_bytes()).await?;
        self.expect(250).await?;
        self.expect(250).await?;
        self.expect(354).await?;
        // Dot-stuffing: the generated bodies have no line starting with a dot.
        let mut data = Vec::with_capacity(raw.len() + 5);
        data.extend_from_slice(raw);
        data.extend_from_slice(b".\r\n");
        self.writer.write_all(&data).await?;
        self.expect(250).await
    }
}

pub async fn run(options: &SmtpOptions) -> anyhow::Result<()> {
    let run_id = chrono::Utc::now().timestamp_millis();
    let address = format!("bench-{run_id}@bench.example");
    create_channel(options, &address).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for client in 0..options.clients {
        let (next, address, smtp) = (next.clone(), address.clone(), options.smtp.clone());
        let (messages, size, senders) = (options.messages, options.size, options.senders.max(1));
        clients.push(tokio::spawn(async move {
            let mut connection = Connection::open(&smtp).await?;
            let mut rng = StdRng::seed_from_u64(client as u64);
            let mut latencies = Vec::new();
            let mut last_of: std::collections::HashMap<usize, String> = Default::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= messages {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let (from, parent) = if rng.random_range(0..10) < 7 {
                    let sender = rng.random_range(0..senders);
                    let parent = if rng.random_range(0..3) == 0 {
                        last_of.get(&sender).cloned()
                    } else {
                        None
                    };
                    (
                        format!("customer-{run_id}-{sender}@mail.example"),
                        parent.map(|p| (sender, p)),
                    )
                } else {
                    (format!("new-{run_id}-{n}@mail.example"), None)
                };
                let id = format!("bench-{run_id}-{n}@mail.example");
                let raw = message(
                    &from,
                    &address,
                    &id,
                    parent.as_ref().map(|(_, p)| p.as_str()),
                    size,
                );
                let sent = Instant::now();
                connection.send(&from, &address, &raw).await?;
                latencies.push(sent.elapsed());
                if let Some((sender, _)) = parent {
                    last_of.insert(sender, id);
                } else if let Some(sender) = from
                    .strip_prefix(&format!("customer-{run_id}-"))
                    .and_then(|rest| rest.split('@').next())
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    last_of.insert(sender, id);
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for client in clients {
        latencies.extend(client.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or_default()
    };
    println!(
        "smtp: {} messages of ~{} bytes by {} connections in {:.2} s -> {:.0} msg/s ({:.1} MB/s); transaction p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        options.size,
        options.clients,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        (latencies.len() * options.size) as f64 / elapsed.as_secs_f64() / 1e6,
        at(0.5),
        at(0.99)
    );
    Ok(())
}
