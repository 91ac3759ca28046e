//! Customer search: a case-insensitive substring of the name or of any identity, with the
//! `LIKE` wildcards taken literally.

use seam_core::workspace::Continuity;

use crate::fixtures::{Harness, now, receive, tenant};

crate::on_both_backends!(
    customer_search_matches_names_and_identities_case_insensitively_and_literally
);

async fn customer_search_matches_names_and_identities_case_insensitively_and_literally(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let layla = receive(store, &acme.channel, "m-1", "layla@example.com", at).await;
    let percent = receive(store, &acme.channel, "m-2", "100%_sure@example.com", at).await;
    receive(store, &acme.channel, "m-3", "omar@example.org", at).await;
    let found = |query: &'static str| async move {
        let page = store
            .search_customers(acme.workspace.id, Some(query), None, 10)
            .await
            .unwrap();
        let mut ids: Vec<_> = page
            .items
            .iter()
            .map(|profile| profile.customer.id)
            .collect();
        ids.sort();
        ids
    };

    assert_eq!(found("LAYLA@").await, vec![layla.customer_id]);
    assert_eq!(found("%_s").await, vec![percent.customer_id]);
    assert_eq!(found("_").await, vec![percent.customer_id]);
    assert_eq!(found("example.org").await.len(), 1);
    assert_eq!(
        found("ahmadi").await.len(),
        3,
        "the sender name matches every customer"
    );
    assert!(found("nobody").await.is_empty());
    let page = store
        .search_customers(acme.workspace.id, Some("layla@"), None, 10)
        .await
        .unwrap();
    assert_eq!(page.items[0].identities.len(), 1);
    assert_eq!(
        page.items[0].identities[0].identity.value,
        "layla@example.com"
    );
}
