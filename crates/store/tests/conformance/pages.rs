//! Keyset pagination: conversations, messages and customers page newest first, each cursor is
//! the last item of its page, and the pages together hold every item once.

use std::collections::HashSet;

use seam_core::{conversation::ConversationFilter, cursor::Cursor, workspace::Continuity};

use crate::fixtures::{Harness, now, receive, seconds, tenant};

crate::on_both_backends!(
    conversation_pages_follow_one_another_without_duplicates_or_gaps,
    message_and_customer_pages_follow_one_another_without_duplicates_or_gaps,
);

/// Walks every page of a list, checking that each cursor belongs to its page's last item.
async fn walk<T, F, Fut>(mut page_after: F, key: impl Fn(&T) -> Cursor) -> Vec<T>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: std::future::Future<Output = seam_core::conversation::Page<T>>,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = page_after(cursor.clone()).await;
        assert!(page.items.len() <= 3);
        match page.next_cursor {
            Some(next) => {
                assert_eq!(page.items.len(), 3);
                assert_eq!(Some(&next), page.items.last().map(&key).as_ref());
                all.extend(page.items);
                cursor = Some(next);
            }
            None => {
                all.extend(page.items);
                return all;
            }
        }
    }
}

async fn conversation_pages_follow_one_another_without_duplicates_or_gaps(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    // Several conversations share a timestamp, so the id must break the ties.
    for index in 0..8 {
        let email = format!("customer{index}@example.com");
        receive(
            store,
            &acme.channel,
            &format!("m-{index}"),
            &email,
            at + seconds(index / 3),
        )
        .await;
    }
    let workspace = acme.workspace.id;
    let filter = ConversationFilter::default();

    let everything = store
        .list_conversations(workspace, &filter, None, 100)
        .await
        .unwrap();
    let paged = walk(
        |cursor| {
            let filter = filter.clone();
            async move {
                store
                    .list_conversations(workspace, &filter, cursor.as_ref(), 3)
                    .await
                    .unwrap()
            }
        },
        |conversation| Cursor {
            at: conversation.last_activity_at,
            id: conversation.id.0,
        },
    )
    .await;

    assert_eq!(everything.items.len(), 8);
    assert_eq!(everything.next_cursor, None);
    assert_eq!(paged, everything.items);
    let mut sorted = paged.clone();
    sorted.sort_by_key(|conversation| {
        std::cmp::Reverse((conversation.last_activity_at, conversation.id))
    });
    assert_eq!(sorted, paged);
}

async fn message_and_customer_pages_follow_one_another_without_duplicates_or_gaps(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let at = now();
    let mut conversation = None;
    for index in 0..7 {
        let received = receive(
            store,
            &acme.channel,
            &format!("m-{index}"),
            "layla@example.com",
            at + seconds(index / 2),
        )
        .await;
        conversation = Some(received.conversation_id);
        let email = format!("customer{index}@example.com");
        receive(store, &acme.channel, &format!("c-{index}"), &email, at).await;
    }
    let (workspace, conversation) = (acme.workspace.id, conversation.unwrap());

    let messages = walk(
        |cursor| async move {
            store
                .list_messages(workspace, conversation, cursor.as_ref(), 3)
                .await
                .unwrap()
        },
        |message| Cursor {
            at: message.created_at,
            id: message.id.0,
        },
    )
    .await;
    let customers = walk(
        |cursor| async move {
            store
                .search_customers(workspace, None, cursor.as_ref(), 3)
                .await
                .unwrap()
        },
        |profile| Cursor {
            at: profile.customer.created_at,
            id: profile.customer.id.0,
        },
    )
    .await;

    let all_messages = store
        .list_messages(workspace, conversation, None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(all_messages.len(), 7);
    assert_eq!(messages, all_messages);
    assert!(
        all_messages
            .windows(2)
            .all(|pair| (pair[0].created_at, pair[0].id) > (pair[1].created_at, pair[1].id))
    );
    let all_customers = store
        .search_customers(workspace, None, None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(all_customers.len(), 8);
    assert_eq!(customers, all_customers);
    let distinct: HashSet<_> = customers
        .iter()
        .map(|profile| profile.customer.id)
        .collect();
    assert_eq!(distinct.len(), 8);
}
