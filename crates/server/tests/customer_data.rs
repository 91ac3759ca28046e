//! Customer data end to end: `seam import customers` on a CSV with malformed rows (the real
//! binary), the same file again, the bulk import endpoint, the export of a customer who wrote
//! in, and an erasure after which no table of the database holds any of the person's values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::path::Path;

use harness::{Backend, SeamProcess, seam_command, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    an_imported_customer_who_wrote_in_is_exported_then_erased_without_a_trace,
    the_bulk_import_endpoint_answers_the_same_report_as_the_command_line,
);

const CSV: &str = "\
name,email,phone,external_id
Layla Ahmadi,layla.ahmadi@example.com;l.ahmadi@work.example,+1 650 253 0000,crm-1001
Omid Karimi,omid@example.com,,crm-1002
Broken Email,not-an-email,,
Broken Phone,bp@example.com,12345,
Too Many Fields,tm@example.com,,crm-1003,surplus
Nobody,,,
Sara Rahimi,,+44 20 7031 3000,
";

/// Runs `seam <args>` on the server's storage; returns (success, stdout, stderr).
fn seam(seam: &SeamProcess, args: &[&str]) -> (bool, String, String) {
    let output = seam_command()
        .args(args)
        .args(seam.storage.args())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn import(process: &SeamProcess, file: &Path, report: &Path) -> Value {
    let (ok, stdout, stderr) = seam(
        process,
        &[
            "import",
            "customers",
            file.to_str().unwrap(),
            "--workspace",
            "Acme",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert!(ok, "import failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("created"), "{stdout}");
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

fn database_url(process: &SeamProcess) -> String {
    process.storage.database_url().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            process.storage.data_dir.path().join("seam.db").display()
        )
    })
}

async fn an_imported_customer_who_wrote_in_is_exported_then_erased_without_a_trace(
    backend: Backend,
) {
    // Arrange: a server, a CSV with three good rows and four malformed ones.
    let process = spawn_seam(backend).await;
    let owner = process.owner_of("Acme").await;
    let files = tempfile::tempdir().unwrap();
    let csv = files.path().join("customers.csv");
    std::fs::write(&csv, CSV).unwrap();
    let report_path = files.path().join("report.json");

    // Act: import, then import the same file again.
    let first = import(&process, &csv, &report_path);
    let again = import(&process, &csv, &report_path);

    // Assert: the good rows landed, each bad one is reported by line and field.
    assert_eq!(first["created"], 3, "{first}");
    let rejected: Vec<(u64, String)> = first["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["line"].as_u64().unwrap(),
                row["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        vec![
            (4, "emails".to_string()),
            (5, "phones".to_string()),
            (6, "row".to_string()),
            (7, "row".to_string()),
        ]
    );
    assert_eq!(
        (&again["created"], &again["updated"], &again["unchanged"]),
        (&json!(0), &json!(0), &json!(3)),
        "{again}"
    );
    let customers = owner.customers().await;
    assert_eq!(customers.len(), 3, "{customers:?}");
    let layla = customers
        .iter()
        .find(|customer| customer["name"] == "Layla Ahmadi")
        .expect("Layla was imported");
    assert_eq!(layla["identities"].as_array().unwrap().len(), 4, "{layla}");
    let layla_id = layla["id"].as_str().unwrap().to_string();

    // Act: Layla writes in; the message joins her imported profile. Then export and erase.
    let channel = owner.create_api_channel("Shop", None).await;
    let received = channel
        .receive(json!({
            "message_id": "order-question-1",
            "from": { "email": "Layla.Ahmadi@example.com", "name": "Layla Ahmadi" },
            "text": "Parcel 4417 never reached 12 Cedar Street",
        }))
        .await;
    assert_eq!(received.customer_id, layla_id);
    let export = owner
        .api
        .get(&format!("/api/v1/customers/{layla_id}/export"))
        .await;
    assert_eq!(export.status, 200, "{export:?}");
    assert_eq!(export.json["customer"]["name"], "Layla Ahmadi");
    assert_eq!(
        export.json["conversations"][0]["messages"][0]["text"],
        "Parcel 4417 never reached 12 Cedar Street"
    );
    let (ok, stdout, stderr) = seam(
        &process,
        &["customer", "erase", &layla_id, "--workspace", "Acme"],
    );
    assert!(ok, "erase failed:\n{stdout}\n{stderr}");

    // Assert: no table holds any of her values; the shell and its conversation remain.
    let needles = [
        "Layla",
        "Ahmadi",
        "layla.ahmadi@example.com",
        "l.ahmadi@work.example",
        "6502530000",
        "crm-1001",
        "Cedar Street",
    ];
    let findings = seam_testkit::find_values(&database_url(&process), &needles)
        .await
        .unwrap();
    assert!(findings.is_empty(), "still stored in {findings:?}");
    let shell = owner
        .api
        .get(&format!("/api/v1/customers/{layla_id}"))
        .await;
    assert_eq!(shell.status, 200);
    assert_eq!(shell.json["name"], Value::Null);
    assert_eq!(owner.conversations().await.len(), 1);
    let omid = seam_testkit::find_values(&database_url(&process), &["omid@example.com"])
        .await
        .unwrap();
    assert!(!omid.is_empty(), "someone else's data must stay");
    assert!(
        !process.log_tail().to_lowercase().contains("ahmadi"),
        "personal data in the log"
    );

    // Act and assert: her address now makes a new customer.
    let later = channel
        .receive(json!({
            "message_id": "order-question-2",
            "from": { "email": "layla.ahmadi@example.com" },
            "text": "Hello again",
        }))
        .await;
    assert_ne!(later.customer_id, layla_id);
}

async fn the_bulk_import_endpoint_answers_the_same_report_as_the_command_line(backend: Backend) {
    // Arrange
    let process = spawn_seam(backend).await;
    let owner = process.owner_of("Acme").await;
    let ndjson = "{\"name\":\"Layla\",\"emails\":[\"layla@example.com\"],\"external_id\":\"crm-1\"}\n\
                  {\"name\":\"Broken\",\"emails\":[\"nope\"]}\n";

    // Act
    let first = owner
        .api
        .post_raw(
            "/api/v1/customers/import",
            "application/x-ndjson",
            ndjson.as_bytes().to_vec(),
        )
        .await;
    let again = owner
        .api
        .post_raw(
            "/api/v1/customers/import",
            "application/x-ndjson",
            ndjson.as_bytes().to_vec(),
        )
        .await;
    let unknown_column = owner
        .api
        .post_raw(
            "/api/v1/customers/import",
            "text/csv",
            b"name,email,plan\nA,a@example.com,gold\n".to_vec(),
        )
        .await;

    // Assert
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(
        first.json,
        json!({
            "created": 1, "updated": 0, "unchanged": 0,
            "rejected": [{ "line": 2, "field": "emails", "reason": "has no @" }],
        })
    );
    assert_eq!(again.json["unchanged"], 1, "{again:?}");
    assert_eq!(again.json["created"], 0);
    unknown_column.assert_error(422);
    assert!(
        unknown_column.error_message().contains("plan"),
        "{unknown_column:?}"
    );
    assert_eq!(owner.customers().await.len(), 1);
}
