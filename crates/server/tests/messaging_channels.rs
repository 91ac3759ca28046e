//! Messaging channels as an admin manages them through the API: settings a provider does not
//! read are refused by name, credentials never come back, and a rotated token is put to use
//! at once — Telegram's webhook is registered again with it — while agents may not change
//! channels and other workspaces cannot see them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{
    Backend,
    messaging::{FakeProvider, Reply, create_channel},
    spawn_seam_with,
};
use serde_json::json;

on_both_backends!(
    a_rotated_telegram_token_is_registered_again_and_never_shown,
    settings_a_provider_does_not_read_are_refused_by_name,
    telegram_is_told_a_changed_public_url_when_seam_starts,
);

const OLD_TOKEN: &str = "7123456789:AAH-old-bot-token";
const NEW_TOKEN: &str = "7123456789:AAH-new-bot-token";

async fn a_rotated_telegram_token_is_registered_again_and_never_shown(backend: Backend) {
    let seam = spawn_seam_with(backend, &["--allow-private-fetch", "true"], &[]).await;
    let owner = seam.owner_of("Acme").await;
    let telegram = FakeProvider::start().await;
    for token in [OLD_TOKEN, NEW_TOKEN] {
        telegram.on(
            "POST",
            &format!("/bot{token}/setWebhook"),
            Reply::json(200, json!({"ok": true, "result": true})),
        );
    }
    let channel = create_channel(
        &owner,
        "telegram",
        json!({"base_url": telegram.url}),
        json!({"bot_token": OLD_TOKEN}),
    )
    .await;
    let id = channel["id"].as_str().unwrap();
    let first = telegram
        .wait_for("POST", &format!("/bot{OLD_TOKEN}/setWebhook"))
        .await
        .json();

    let renamed = owner
        .api
        .patch(
            &format!("/api/v1/channels/{id}"),
            json!({"name": "Support bot", "credentials": {"bot_token": NEW_TOKEN}}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{renamed:?}");
    assert_eq!(renamed.json["name"], "Support bot");
    assert_eq!(
        renamed.json["credential_names"],
        json!(["bot_token", "webhook_secret"])
    );
    assert!(
        !renamed.json.to_string().contains("AAH-"),
        "{}",
        renamed.json
    );

    let again = telegram
        .wait_for("POST", &format!("/bot{NEW_TOKEN}/setWebhook"))
        .await
        .json();
    assert_eq!(again["url"], first["url"]);
    assert_eq!(
        again["secret_token"], first["secret_token"],
        "credentials not named in the change are kept"
    );
    let listed = owner.api.list_all("/api/v1/channels").await;
    let listed = listed.iter().find(|listed| listed["id"] == id).unwrap();
    assert_eq!(listed["name"], "Support bot");
    assert!(!listed.to_string().contains("AAH-"), "{listed}");

    // An agent may not change channels; another workspace does not find this one.
    let password = "correct horse battery staple";
    seam.create_user("Acme", "agent@acme.example", password, "agent");
    let agent = seam.login("agent@acme.example", password).await;
    let refused = agent
        .api()
        .patch(
            &format!("/api/v1/channels/{id}"),
            json!({"credentials": {"bot_token": "7123456789:AAH-stolen"}}),
        )
        .await;
    refused.assert_error(403);
    let intruder = seam.owner_of("Globex").await;
    let hidden = intruder
        .api
        .patch(&format!("/api/v1/channels/{id}"), json!({"name": "Mine"}))
        .await;
    hidden.assert_error(404);
    assert!(
        telegram
            .requests_to("POST", "/bot7123456789:AAH-stolen/setWebhook")
            .is_empty()
    );
}

async fn settings_a_provider_does_not_read_are_refused_by_name(backend: Backend) {
    let seam = spawn_seam_with(backend, &[], &[]).await;
    let owner = seam.owner_of("Acme").await;
    let refused = owner
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "whatsapp", "name": "WhatsApp",
                "config": {"phone_number_id": "106540352242922", "access_token": "EAAB"},
                "credentials": {"access_token": "EAAB", "app_secret": "s"}}),
        )
        .await;
    refused.assert_error(422);
    assert_eq!(refused.error_field(), Some("config.access_token"));

    let missing = owner
        .api
        .post(
            "/api/v1/channels",
            json!({"kind": "sms", "name": "SMS",
                "config": {"account_sid": "AC1", "from": "+14155552671"}, "credentials": {}}),
        )
        .await;
    missing.assert_error(422);
    assert_eq!(missing.error_field(), Some("credentials.auth_token"));

    let created = create_channel(
        &owner,
        "whatsapp",
        json!({"phone_number_id": "106540352242922"}),
        json!({"access_token": "EAAB-secret", "app_secret": "app-secret"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let changed = owner
        .api
        .patch(
            &format!("/api/v1/channels/{id}"),
            json!({"config": {"phone_number_id": null}}),
        )
        .await;
    changed.assert_error(422);
    assert_eq!(changed.error_field(), Some("config.phone_number_id"));
    let listed = owner.api.list_all("/api/v1/channels").await;
    let listed = listed.iter().find(|listed| listed["id"] == id).unwrap();
    assert_eq!(
        listed["config"]["phone_number_id"], "106540352242922",
        "a refused change leaves the channel as it was"
    );
    let shown = listed.to_string();
    assert!(
        !shown.contains("EAAB-secret") && !shown.contains("app-secret"),
        "{shown}"
    );
    assert_eq!(
        listed["credential_names"],
        json!(["access_token", "app_secret"])
    );
}

async fn telegram_is_told_a_changed_public_url_when_seam_starts(backend: Backend) {
    let mut seam = spawn_seam_with(backend, &["--public-url", "https://first.example"], &[]).await;
    let owner = seam.owner_of("Acme").await;
    let telegram = FakeProvider::start().await;
    let set_webhook = format!("/bot{OLD_TOKEN}/setWebhook");
    telegram.on(
        "POST",
        &set_webhook,
        Reply::json(200, json!({"ok": true, "result": true})),
    );
    let channel = create_channel(
        &owner,
        "telegram",
        json!({"base_url": telegram.url}),
        json!({"bot_token": OLD_TOKEN}),
    )
    .await;
    let id = channel["id"].as_str().unwrap();
    assert_eq!(
        channel["hook_url"],
        format!("https://first.example/hooks/{id}")
    );
    let first = telegram.wait_for("POST", &set_webhook).await.json();
    assert_eq!(first["url"], format!("https://first.example/hooks/{id}"));

    let registered_at = |url: &str| {
        telegram
            .requests_to("POST", &set_webhook)
            .iter()
            .filter(|request| request.json()["url"] == url)
            .count()
    };
    let moved = format!("https://support.example/hooks/{id}");
    seam.terminate();
    seam.set_args(&["--public-url", "https://support.example"]);
    seam.restart();
    harness::eventually("setWebhook with the new public URL", || async {
        (registered_at(&moved) == 1).then_some(())
    })
    .await;
    let secret = telegram.requests_to("POST", &set_webhook)[1].json()["secret_token"].clone();
    assert_eq!(secret, first["secret_token"], "the webhook secret is kept");

    // A start with the same URL tells Telegram nothing new.
    seam.terminate();
    seam.restart();
    let owner = seam.owner_of("Acme").await;
    let listed = owner.api.list_all("/api/v1/channels").await;
    assert_eq!(listed[0]["hook_url"], moved.as_str());
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(registered_at(&moved), 1);
    assert_eq!(telegram.requests_to("POST", &set_webhook).len(), 2);
}
