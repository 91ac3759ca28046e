//! Running Seam: liveness, readiness, metrics, the OpenAPI document, migrations on their own,
//! and a graceful exit on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use harness::{Api, Backend, Storage, seam_command, spawn_seam};
use serde_json::json;

on_both_backends!(
    health_readiness_metrics_and_the_openapi_document_are_served,
    sigterm_stops_the_server_gracefully_with_exit_code_zero,
    migrate_brings_a_fresh_database_up_to_date_and_can_run_again,
    environment_variables_and_a_configuration_file_configure_every_command,
);

async fn health_readiness_metrics_and_the_openapi_document_are_served(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let anonymous = Api::anonymous(&seam.base_url);
    let agent = seam.owner_of("Acme").await;
    agent.api.get("/api/v1/conversations").await;

    // Act
    let health = anonymous.get("/healthz").await;
    let ready = anonymous.get("/readyz").await;
    let metrics = anonymous.get("/metrics").await;
    let openapi = anonymous.get("/api/openapi.json").await;

    // Assert
    assert_eq!(health.status, 200, "{health:?}");
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(metrics.status, 200, "{metrics:?}");
    let content_type = metrics
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(
        metrics.text.contains("http_requests_total"),
        "{}",
        metrics.text
    );
    assert_eq!(openapi.status, 200);
    let paths = openapi.json["paths"]
        .as_object()
        .expect("an OpenAPI document with paths");
    for path in [
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/customers",
        "/api/v1/channels",
        "/api/v1/channels/{id}/inbound",
        "/api/v1/auth/login",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
}

async fn sigterm_stops_the_server_gracefully_with_exit_code_zero(backend: Backend) {
    // Arrange: a server that has done some work.
    let mut seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let received = channel
        .receive(json!({ "message_id": "m-1", "from": { "email": "c@example.com" }, "text": "hi" }))
        .await;

    // Act
    let status = seam.terminate();

    // Assert: exit 0, and the work is there on the next start.
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        seam.log_tail()
    );
    seam.restart();
    let agent = agent.on(&seam.base_url);
    let messages = agent.messages(&received.conversation_id).await;
    assert_eq!(messages.len(), 1);
}

async fn migrate_brings_a_fresh_database_up_to_date_and_can_run_again(backend: Backend) {
    // Arrange
    let storage = Storage::fresh(backend).await;

    // Act
    let first = seam_command()
        .arg("migrate")
        .args(storage.args())
        .output()
        .unwrap();
    let second = seam_command()
        .arg("migrate")
        .args(storage.args())
        .output()
        .unwrap();

    // Assert: both succeed, and a server then starts on the migrated database.
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let seam = harness::SeamProcess::start(storage, "serve", &[], &[]);
    assert_eq!(
        Api::anonymous(&seam.base_url).get("/readyz").await.status,
        200
    );
}

async fn environment_variables_and_a_configuration_file_configure_every_command(backend: Backend) {
    // Arrange: addresses in a TOML file, storage in SEAM_* variables, no flags at all.
    let storage = Storage::fresh(backend).await;
    let config_file = storage.data_dir.path().join("seam.toml");
    std::fs::write(
        &config_file,
        "http_addr = \"127.0.0.1:0\"\nsmtp_addr = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let data_dir = storage.data_dir.path().join("not-yet-created");
    let mut env = vec![
        ("SEAM_DATA_DIR".to_string(), data_dir.display().to_string()),
        ("SEAM_CONFIG".to_string(), config_file.display().to_string()),
    ];
    if let Some(url) = storage.database_url() {
        env.push(("SEAM_DATABASE_URL".to_string(), url));
    }
    let env_refs: Vec<(&str, &str)> = env
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();

    // Act
    let seam = harness::SeamProcess::start_configured_by(storage, "serve", &[], &env_refs);
    let created = seam_command()
        .args([
            "user",
            "create",
            "--email",
            "env@example.com",
            "--role",
            "owner",
        ])
        .env("SEAM_USER_PASSWORD", "a password from the environment")
        .envs(env.iter().map(|(key, value)| (key, value)))
        .output()
        .unwrap();

    // Assert: the user the command created is the server's user; the data dir was created.
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let session = seam
        .login("env@example.com", "a password from the environment")
        .await;
    assert_eq!(session.user["role"], "owner");
    if backend == Backend::Sqlite {
        // On PostgreSQL this version keeps nothing in the data directory yet.
        assert!(data_dir.is_dir(), "SEAM_DATA_DIR was not used");
        let entries: Vec<_> = std::fs::read_dir(&data_dir).unwrap().collect();
        assert!(
            !entries.is_empty(),
            "the SQLite database is not in SEAM_DATA_DIR"
        );
    }
}
