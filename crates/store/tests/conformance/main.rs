//! The storage conformance suite: every test is written once against `&dyn Store` and runs on
//! SQLite and on PostgreSQL. Tests only; no test reaches past the `Store`/`Tx` ports except to
//! reconnect.

// A test crate: an unwrap here is an assertion, as clippy.toml allows inside `#[test]`s.
#![allow(clippy::unwrap_used)]

mod accounts;
mod email;
mod filters;
mod fixtures;
mod import;
mod inbound;
mod isolation;
mod jobs;
mod messaging_out;
mod outbound;
mod pages;
mod privacy;
mod profile;
mod regroup;
mod resolution;
mod resolution_properties;
mod search;
mod timeline;
mod tracking;
mod transactions;
mod uploads;

/// Generates, for each named test function, a `sqlite::name` and a `postgres::name` test.
/// The PostgreSQL variant needs `SEAM_TEST_DATABASE_URL` (see `seam_testkit::postgres_url`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let mut harness = $crate::fixtures::Harness::sqlite().await;
                    super::$name(&mut harness).await;
                    harness.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(mut harness) = $crate::fixtures::Harness::postgres().await {
                        super::$name(&mut harness).await;
                        harness.close().await;
                    }
                }
            )*
        }
    };
}
