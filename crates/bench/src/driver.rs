//! The HTTP side of the benchmark: logs in, creates an API channel, seeds existing customers,
//! then drives the measured run from many concurrent clients.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::{Options, corpus};

/// One message the server accepted, with the ids it answered.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub provider_id: String,
    pub conversation_id: String,
    pub customer_key: String,
}

pub struct Run {
    pub channel_id: String,
    pub accepted: usize,
    pub failed: usize,
    pub elapsed: Duration,
    pub latencies_us: Vec<u64>,
    pub answers: Vec<Accepted>,
    pub clients: usize,
    pub rate: Option<u64>,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[index] as f64 / 1000.0
    }

    pub fn report(&self) -> String {
        format!(
            "end-to-end: {} accepted, {} failed in {:.2} s with {} clients{} -> {:.0} msg/s; latency p50 {:.2} ms, p99 {:.2} ms",
            self.accepted,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.clients,
            self.rate
                .map(|rate| format!(" at {rate}/s"))
                .unwrap_or_default(),
            self.per_second(),
            self.percentile(0.50),
            self.percentile(0.99),
        )
    }
}

pub(crate) struct Session {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) async fn login(
    url: &str,
    email: &str,
    password: &str,
    http: &reqwest::Client,
) -> anyhow::Result<Session> {
    let response = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .context("logging in")?;
    if !response.status().is_success() {
        bail!("login failed: HTTP {}", response.status());
    }
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("seam_session="))
        .and_then(|value| value.split(';').next())
        .context("no session cookie")?
        .to_string();
    let body: Value = response.json().await?;
    let csrf = body["csrf_token"]
        .as_str()
        .context("no csrf token")?
        .to_string();
    Ok(Session {
        http: http.clone(),
        url: url.to_string(),
        cookie,
        csrf,
    })
}

/// An API token for the logged-in user, for the calls a bench makes with `Bearer`.
pub(crate) async fn create_token(session: &Session, name: &str) -> anyhow::Result<String> {
    let response = session
        .http
        .post(format!("{}/api/v1/auth/tokens", session.url))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&json!({ "name": name }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("creating a token failed: HTTP {}", response.status());
    }
    let body: Value = response.json().await?;
    Ok(body["token"].as_str().context("token")?.to_string())
}

pub(crate) async fn create_channel(session: &Session) -> anyhow::Result<(String, String)> {
    let response = session
        .http
        .post(format!("{}/api/v1/channels", session.url))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(
            &json!({ "kind": "api", "name": format!("bench {}", chrono::Utc::now().timestamp()) }),
        )
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("creating the channel failed: HTTP {}", response.status());
    }
    let body: Value = response.json().await?;
    Ok((
        body["id"].as_str().context("channel id")?.to_string(),
        body["secret"]
            .as_str()
            .context("channel secret")?
            .to_string(),
    ))
}

fn payload(provider_id: &str, customer_key: &str, text: String) -> Value {
    json!({
        "message_id": provider_id,
        "from": { "email": format!("{customer_key}@bench.example.com"), "name": customer_key },
        "text": text,
    })
}

pub async fn run(options: &Options) -> anyhow::Result<Run> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients * 2)
        .build()?;
    let session = login(&options.url, &options.email, &options.password, &http).await?;
    let (channel_id, channel_secret) = create_channel(&session).await?;
    let inbound = Arc::new(format!(
        "{}/api/v1/channels/{channel_id}/inbound",
        options.url
    ));
    let run_tag = format!("r{}", chrono::Utc::now().timestamp_millis());

    // Existing customers, created before the measured run.
    let seeded = AtomicUsize::new(0);
    let seed_clients = options.clients.min(32);
    let mut seeders = Vec::new();
    let seeded = Arc::new(seeded);
    for _ in 0..seed_clients {
        let (http, inbound, secret, tag, seeded) = (
            http.clone(),
            inbound.clone(),
            channel_secret.clone(),
            run_tag.clone(),
            seeded.clone(),
        );
        let total = options.existing_customers;
        seeders.push(tokio::spawn(async move {
            let mut rng = StdRng::from_os_rng();
            loop {
                let i = seeded.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                let key = format!("{tag}-c{i}");
                let body = payload(&format!("{tag}-seed-{i}"), &key, corpus::text(&mut rng));
                let response = http
                    .post(inbound.as_str())
                    .bearer_auth(&secret)
                    .json(&body)
                    .send()
                    .await?;
                if response.status().as_u16() != 202 {
                    bail!("seeding failed: HTTP {}", response.status());
                }
            }
        }));
    }
    for seeder in seeders {
        seeder.await??;
    }

    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new((Vec::new(), Vec::new(), 0usize)));
    let started = Instant::now();
    let deadline = started + options.max_duration;
    let per_client_interval = options
        .rate
        .map(|rate| Duration::from_secs_f64(options.clients as f64 / rate.max(1) as f64));
    let mut clients = Vec::new();
    for client in 0..options.clients {
        let (http, inbound, secret, tag, next, results) = (
            http.clone(),
            inbound.clone(),
            channel_secret.clone(),
            run_tag.clone(),
            next.clone(),
            results.clone(),
        );
        let (total, existing) = (options.messages, options.existing_customers.max(1));
        clients.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(client as u64);
            let mut ticker = per_client_interval.map(tokio::time::interval);
            let (mut latencies, mut answers, mut failed) = (Vec::new(), Vec::new(), 0usize);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || Instant::now() >= deadline {
                    break;
                }
                if let Some(ticker) = ticker.as_mut() {
                    ticker.tick().await;
                }
                let customer_key = if rng.random_bool(0.7) {
                    format!("{tag}-c{}", rng.random_range(0..existing))
                } else {
                    format!("{tag}-n{i}")
                };
                let provider_id = format!("{tag}-m{i}");
                let body = payload(&provider_id, &customer_key, corpus::text(&mut rng));
                let sent = Instant::now();
                let response = http
                    .post(inbound.as_str())
                    .bearer_auth(&secret)
                    .json(&body)
                    .send()
                    .await;
                let latency = sent.elapsed().as_micros() as u64;
                match response {
                    Ok(response) if response.status().as_u16() == 202 => {
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        latencies.push(latency);
                        answers.push(Accepted {
                            provider_id,
                            conversation_id: body["conversation_id"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            customer_key,
                        });
                    }
                    _ => failed += 1,
                }
            }
            if let Ok(mut results) = results.lock() {
                results.0.extend(latencies);
                results.1.extend(answers);
                results.2 += failed;
            }
        }));
    }
    for client in clients {
        client.await?;
    }
    let elapsed = started.elapsed();
    let (mut latencies_us, answers, failed) = match Arc::try_unwrap(results) {
        Ok(mutex) => mutex.into_inner().unwrap_or_default(),
        Err(_) => bail!("clients still running"),
    };
    latencies_us.sort_unstable();
    Ok(Run {
        channel_id,
        accepted: answers.len(),
        failed,
        elapsed,
        latencies_us,
        answers,
        clients: options.clients,
        rate: options.rate,
    })
}
