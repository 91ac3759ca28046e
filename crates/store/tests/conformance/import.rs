//! Customer import through `seam_core::import`: batches of many rows per transaction, rows
//! rejected alone, idempotent re-runs, and the counts of the report.

use seam_core::{
    identity::Identity,
    import::{BATCH_ROWS, ImportRow, ParsedFile, RejectedRow, import_rows},
    ports::Store,
    workspace::{Continuity, Workspace},
};

use crate::fixtures::{Harness, now, tenant};

crate::on_both_backends!(
    an_import_of_several_batches_lands_every_valid_row_and_reports_each_bad_one,
    re_running_the_same_rows_creates_nothing_and_reports_them_unchanged,
    a_row_that_adds_an_address_or_a_missing_name_to_a_known_customer_counts_as_updated,
    rows_sharing_an_address_resolve_to_one_customer,
);

fn row(line: u64, name: &str, email: &str, phone: Option<&str>) -> ImportRow {
    ImportRow {
        line,
        name: Some(name.to_string()),
        external_id: None,
        emails: vec![email.to_string()],
        phones: phone.map(str::to_string).into_iter().collect(),
    }
}

fn file(rows: Vec<ImportRow>) -> ParsedFile {
    ParsedFile {
        rows,
        rejected: Vec::new(),
    }
}

/// The customer holding `email`, if any.
async fn holder(store: &dyn Store, workspace: &Workspace, email: &str) -> Option<uuid::Uuid> {
    let identity = Identity::parse_email("email", email).unwrap();
    let mut tx = store.begin().await.unwrap();
    let held = tx.find_identities(workspace.id, &[identity]).await.unwrap();
    tx.rollback().await.unwrap();
    held.first().map(|held| held.customer_id.0)
}

async fn an_import_of_several_batches_lands_every_valid_row_and_reports_each_bad_one(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let total = BATCH_ROWS * 2 + 500;
    let mut rows: Vec<ImportRow> = (0..total)
        .map(|index| {
            row(
                index as u64 + 2,
                &format!("Customer {index}"),
                &format!("customer{index}@example.com"),
                None,
            )
        })
        .collect();
    // Bad rows in the middle of the first and of the last batch.
    rows[10].emails = vec!["not-an-email".into()];
    rows[BATCH_ROWS * 2 + 7].phones = vec!["12345".into()];
    rows[BATCH_ROWS + 3].emails.clear();
    let mut parsed = file(rows);
    parsed.rejected.push(RejectedRow {
        line: 5000,
        field: "row".into(),
        reason: "is not a JSON object".into(),
    });
    let mut progress = Vec::new();

    let report = import_rows(store, acme.workspace.id, parsed, now(), &mut |handled| {
        progress.push(handled)
    })
    .await
    .unwrap();

    assert_eq!(report.created, total as u64 - 3);
    assert_eq!((report.updated, report.unchanged), (0, 0));
    let rejected: Vec<(u64, &str)> = report
        .rejected
        .iter()
        .map(|row| (row.line, row.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (12, "emails"),
            (BATCH_ROWS as u64 + 5, "row"),
            (BATCH_ROWS as u64 * 2 + 9, "phones"),
            (5000, "row"),
        ]
    );
    assert_eq!(
        progress,
        vec![BATCH_ROWS as u64, BATCH_ROWS as u64 * 2, total as u64]
    );
    assert!(
        holder(store, &acme.workspace, "customer11@example.com")
            .await
            .is_some()
    );
    assert!(
        holder(store, &acme.workspace, "customer2006@example.com")
            .await
            .is_some()
    );
    assert!(
        holder(store, &acme.workspace, "customer2007@example.com")
            .await
            .is_none()
    );
}

async fn re_running_the_same_rows_creates_nothing_and_reports_them_unchanged(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let rows = vec![
        row(
            2,
            "Layla Ahmadi",
            "layla@example.com",
            Some("+1 650 253 0000"),
        ),
        ImportRow {
            external_id: Some("crm-7".into()),
            ..row(3, "Omid Karimi", "omid@example.com", None)
        },
    ];
    let first = import_rows(
        store,
        acme.workspace.id,
        file(rows.clone()),
        now(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let layla = holder(store, &acme.workspace, "layla@example.com").await;

    let again = import_rows(store, acme.workspace.id, file(rows), now(), &mut |_| {})
        .await
        .unwrap();

    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert!(again.rejected.is_empty());
    assert_eq!(
        holder(store, &acme.workspace, "layla@example.com").await,
        layla
    );
    let page = store
        .search_customers(acme.workspace.id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    let identities: usize = page.items.iter().map(|p| p.identities.len()).sum();
    assert_eq!(identities, 4);
}

async fn a_row_that_adds_an_address_or_a_missing_name_to_a_known_customer_counts_as_updated(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let nameless = ImportRow {
        name: None,
        ..row(2, "", "sara@example.com", None)
    };
    import_rows(
        store,
        acme.workspace.id,
        file(vec![row(2, "Layla", "layla@example.com", None), nameless]),
        now(),
        &mut |_| {},
    )
    .await
    .unwrap();

    let report = import_rows(
        store,
        acme.workspace.id,
        file(vec![
            row(2, "Layla", "layla@example.com", Some("+16502530000")),
            row(3, "Sara Rahimi", "sara@example.com", None),
        ]),
        now(),
        &mut |_| {},
    )
    .await
    .unwrap();

    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 2, 0)
    );
    let sara = store
        .search_customers(acme.workspace.id, Some("sara@"), None, 10)
        .await
        .unwrap();
    assert_eq!(sara.items[0].customer.name.as_deref(), Some("Sara Rahimi"));
    let layla = store
        .search_customers(acme.workspace.id, Some("layla@"), None, 10)
        .await
        .unwrap();
    assert_eq!(layla.items[0].identities.len(), 2);
}

async fn rows_sharing_an_address_resolve_to_one_customer(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;

    let report = import_rows(
        store,
        acme.workspace.id,
        file(vec![
            row(2, "Layla", "layla@example.com", None),
            row(3, "Layla", "LAYLA@example.com", Some("+16502530000")),
        ]),
        now(),
        &mut |_| {},
    )
    .await
    .unwrap();

    assert_eq!((report.created, report.updated), (1, 1));
    let page = store
        .search_customers(acme.workspace.id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].identities.len(), 2);
}
