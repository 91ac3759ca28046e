//! `seam demo`: the README's first command. It seeds a workspace whose owner can log in, with
//! customers writing in English, Arabic and Persian across channels, then serves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::collections::HashSet;

use harness::{Backend, SeamProcess, Storage, has_arabic_script};

on_both_backends!(
    the_demo_owner_logs_in_and_finds_conversations_in_english_arabic_and_persian,
    without_an_admin_password_the_demo_prints_one_that_works,
);

const PASSWORD: &str = "demo password for tests";

/// Letters only Arabic uses among the two (teh marbuta, Arabic yeh and kaf).
fn is_arabic(text: &str) -> bool {
    text.chars().any(|c| matches!(c, 'ة' | 'ي' | 'ك'))
}

/// Letters only Persian uses among the two (peh, tcheh, zheh, gaf, Farsi yeh, keheh).
fn is_persian(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, 'پ' | 'چ' | 'ژ' | 'گ' | 'ی' | 'ک'))
}

async fn the_demo_owner_logs_in_and_finds_conversations_in_english_arabic_and_persian(
    backend: Backend,
) {
    // Arrange + Act
    let storage = Storage::fresh(backend).await;
    let mut seam = SeamProcess::start(storage, "demo", &[], &[("SEAM_ADMIN_PASSWORD", PASSWORD)]);
    let session = seam.login("admin@example.com", PASSWORD).await;
    let api = session.api();

    // Assert: the owner sees about fifty customers and their conversations.
    assert_eq!(session.user["role"], "owner");
    let workspace = api.get("/api/v1/workspace").await.json;
    assert_eq!(
        workspace["languages"],
        serde_json::json!(["en", "ar", "fa"])
    );
    assert_eq!(workspace["time_zone"], "Asia/Riyadh");
    let customers = api.list_all("/api/v1/customers").await;
    assert!(customers.len() >= 40, "only {} customers", customers.len());
    let conversations = api.list_all("/api/v1/conversations").await;
    assert!(!conversations.is_empty());
    let mut texts = Vec::new();
    let mut crosses_channels = false;
    for conversation in &conversations {
        let id = conversation["id"].as_str().unwrap();
        let messages = api
            .list_all(&format!("/api/v1/conversations/{id}/messages"))
            .await;
        let channels: HashSet<&str> = messages
            .iter()
            .filter_map(|message| message["channel_id"].as_str())
            .collect();
        crosses_channels |= channels.len() > 1;
        texts.extend(
            messages
                .iter()
                .filter_map(|m| m["text"].as_str().map(str::to_string)),
        );
    }
    assert!(
        texts.iter().any(|text| is_arabic(text)),
        "no Arabic text in the demo"
    );
    assert!(
        texts.iter().any(|text| is_persian(text)),
        "no Persian text in the demo"
    );
    assert!(
        texts
            .iter()
            .any(|text| !has_arabic_script(text) && text.contains(' ')),
        "no English text in the demo"
    );
    assert!(crosses_channels, "no demo conversation crosses channels");
    let channels = api.get("/api/v1/channels").await;
    let channels = channels.json["items"].as_array().unwrap();
    assert!(
        channels.iter().any(|channel| channel["kind"] == "api"),
        "{channels:#?}"
    );

    // Act + Assert: a second start on the same data seeds nothing twice.
    seam.kill_hard();
    seam.restart();
    let session = seam.login("admin@example.com", PASSWORD).await;
    let again = session.api().list_all("/api/v1/customers").await;
    assert_eq!(again.len(), customers.len());
}

async fn without_an_admin_password_the_demo_prints_one_that_works(backend: Backend) {
    // Arrange + Act
    let storage = Storage::fresh(backend).await;
    let seam = SeamProcess::start(storage, "demo", &[], &[]);
    let line = seam.printed_line("generated password: ").await;

    // Assert
    let password = line
        .trim_start_matches("generated password: ")
        .split_whitespace()
        .next()
        .unwrap();
    let session = seam.login("admin@example.com", password).await;
    assert_eq!(session.user["email"], "admin@example.com");
}
