//! Error mapping at the edges of the store: a database that cannot be reached is
//! `Unavailable` (readiness turns red, callers may retry), and a bad URL is `Invalid`.

// A test crate: an unwrap here is an assertion, as clippy.toml allows inside `#[test]`s.
#![allow(clippy::unwrap_used)]

use seam_core::Error;

#[tokio::test]
async fn a_postgres_server_that_does_not_answer_is_unavailable() {
    let outcome = seam_store::connect("postgres://postgres@127.0.0.1:1/seam").await;

    assert!(
        matches!(outcome, Err(Error::Unavailable(_))),
        "got {:?}",
        outcome.err()
    );
}

#[tokio::test]
async fn a_closed_database_is_unavailable_to_reads_and_transactions() {
    let test_database = seam_testkit::sqlite_url();
    let database = seam_store::connect(test_database.url()).await.unwrap();
    database.migrate().await.unwrap();

    database.close().await;

    assert!(matches!(
        database.store.ping().await,
        Err(Error::Unavailable(_))
    ));
    assert!(matches!(
        database.store.begin().await.err(),
        Some(Error::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_url_of_another_database_is_refused_as_invalid() {
    let outcome = seam_store::connect("mysql://localhost/seam").await;

    assert!(
        matches!(outcome, Err(Error::Invalid { .. })),
        "got {:?}",
        outcome.err()
    );
}
