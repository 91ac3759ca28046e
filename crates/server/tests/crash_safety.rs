//! Crash safety: `kill -9` in the middle of work loses nothing that was acknowledged and
//! duplicates nothing. Every inbound message that got a 2xx is stored exactly once after a
//! restart, and a reply queued before the crash is delivered after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::{
    collections::HashMap,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use harness::{Backend, Received, WebhookReceiver, eventually_within, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    every_acknowledged_inbound_message_survives_kill_9_exactly_once,
    a_reply_queued_before_kill_9_is_delivered_after_restart,
);

const BURST: usize = 3_000;
const CLIENTS: usize = 16;
const KNOWN_CUSTOMERS: usize = 20;
/// The server is killed once this many requests were acknowledged.
const KILL_AFTER_ACKNOWLEDGED: usize = 150;

fn burst_message(index: usize) -> Value {
    let greeting = [
        "Where is my parcel?",
        "طلبي لم يصل بعد",
        "بسته‌ام هنوز نرسیده",
    ][index % 3];
    let from = if index.is_multiple_of(5) {
        json!({ "email": format!("new{index}@example.com") })
    } else {
        json!({ "email": format!("known{}@example.com", index % KNOWN_CUSTOMERS) })
    };
    json!({
        "message_id": format!("burst-{index}"),
        "from": from,
        "text": format!("{greeting} [burst {index}]"),
    })
}

async fn every_acknowledged_inbound_message_survives_kill_9_exactly_once(backend: Backend) {
    // Arrange: customers the burst will write as.
    let mut seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    for n in 0..KNOWN_CUSTOMERS {
        channel
            .receive(json!({
                "message_id": format!("known-{n}"),
                "from": { "email": format!("known{n}@example.com") },
                "text": "hello",
            }))
            .await;
    }

    // Act: a burst of concurrent inbound requests, and `kill -9` in the middle of it.
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::<(usize, Received)>::new()));
    let unanswered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, acknowledged, unanswered, channel) = (
            next.clone(),
            acknowledged.clone(),
            unanswered.clone(),
            channel.clone(),
        );
        clients.push(tokio::spawn(async move {
            let client = harness::http_client();
            let url = format!(
                "{}/api/v1/channels/{}/inbound",
                channel.base_url, channel.id
            );
            loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                if index >= BURST {
                    return;
                }
                let response = client
                    .post(&url)
                    .bearer_auth(&channel.secret)
                    .json(&burst_message(index))
                    .send()
                    .await;
                let accepted = match response {
                    Ok(response) if response.status().is_success() => {
                        response.json::<Value>().await.ok()
                    }
                    _ => None,
                };
                match accepted {
                    Some(json) => acknowledged
                        .lock()
                        .unwrap()
                        .push((index, Received::from_json(&json))),
                    None => {
                        unanswered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    let pid = seam.pid().to_string();
    let killed = Arc::new(AtomicBool::new(false));
    let killer = {
        let (acknowledged, killed) = (acknowledged.clone(), killed.clone());
        tokio::spawn(async move {
            while acknowledged.lock().unwrap().len() < KILL_AFTER_ACKNOWLEDGED {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let status = Command::new("kill").args(["-9", &pid]).status().unwrap();
            assert!(status.success());
            killed.store(true, Ordering::SeqCst);
        })
    };
    for client in clients {
        client.await.unwrap();
    }
    killer.await.unwrap();
    seam.kill_hard();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(killed.load(Ordering::SeqCst));
    assert!(
        unanswered.load(Ordering::SeqCst) > 0,
        "the kill came after the burst ended; it proves nothing"
    );
    eprintln!(
        "burst: {} acknowledged, {} unanswered around the kill",
        acknowledged.len(),
        unanswered.load(Ordering::SeqCst)
    );
    seam.restart();
    let agent = agent.on(&seam.base_url);
    let channel = channel.on(&seam.base_url);

    // Assert: every acknowledged message is stored once, where its 202 said.
    let mut stored_by_text: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for conversation in agent.conversations().await {
        let conversation_id = conversation["id"].as_str().unwrap().to_string();
        for message in agent.messages(&conversation_id).await {
            stored_by_text
                .entry(message["text"].as_str().unwrap().to_string())
                .or_default()
                .push((
                    message["id"].as_str().unwrap().to_string(),
                    conversation_id.clone(),
                ));
        }
    }
    for (index, received) in &acknowledged {
        let text = burst_message(*index)["text"].as_str().unwrap().to_string();
        let stored = stored_by_text.get(&text).cloned().unwrap_or_default();
        assert_eq!(
            stored,
            vec![(
                received.message_id.clone(),
                received.conversation_id.clone()
            )],
            "acknowledged message {index} is not stored exactly once"
        );
    }
    for (text, stored) in &stored_by_text {
        if text.contains("[burst ") {
            assert_eq!(stored.len(), 1, "{text} stored {} times", stored.len());
        }
    }

    // Assert: the provider retrying acknowledged messages after the crash gets the same ids.
    for (index, received) in acknowledged.iter().take(50) {
        let again = channel.receive(burst_message(*index)).await;
        assert_eq!(&again, received, "retry of message {index} after the crash");
    }
}

async fn a_reply_queued_before_kill_9_is_delivered_after_restart(backend: Backend) {
    // Arrange: the integrator's endpoint is failing when the agent answers.
    let mut seam = spawn_seam(backend).await;
    let receiver = WebhookReceiver::start().await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent
        .create_api_channel("Shop backend", Some(&receiver.url))
        .await;
    let received = channel
        .receive(json!({
            "message_id": "before-crash",
            "from": { "email": "customer@example.com" },
            "text": "Is anyone there?",
        }))
        .await;
    receiver.fail_always("answer queued before the crash");
    let reply = agent
        .reply(&received.conversation_id, "answer queued before the crash")
        .await;
    let reply_id = reply["id"].as_str().unwrap().to_string();
    receiver
        .wait_for("a first, failed attempt", |request| {
            request.delivers(&reply_id)
        })
        .await;

    // Act: crash, the endpoint recovers, restart.
    seam.kill_hard();
    receiver.succeed();
    seam.restart();
    let agent = agent.on(&seam.base_url);

    // Assert: delivered once, after the restart, and marked sent.
    // The guard allows for the retry backoff and, should the kill have landed mid-attempt,
    // for the job's lease to expire.
    let delivered = eventually_within(Duration::from_secs(150), "the reply delivered", || async {
        receiver
            .deliveries_of(&reply_id)
            .into_iter()
            .find(|request| request.answered == 200)
    })
    .await;
    assert_eq!(
        harness::signature_problem(&delivered, &channel.secret),
        None
    );
    let sent = eventually_within(Duration::from_secs(30), "the reply marked sent", || async {
        agent
            .messages(&received.conversation_id)
            .await
            .into_iter()
            .find(|message| {
                message["id"] == reply_id.as_str() && message["delivery_status"] == "sent"
            })
    })
    .await;
    assert!(sent["delivery_error"].is_null());
    let successes = receiver
        .deliveries_of(&reply_id)
        .iter()
        .filter(|request| request.answered == 200)
        .count();
    assert_eq!(successes, 1);
}
