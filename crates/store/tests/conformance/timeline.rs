//! The customer timeline and the computed profile fields, as the store makes them hold: one
//! query interleaving messages and events with its filters and pages, and the stats kept by
//! both write paths (inbound messages and tracked events).

use seam_core::{
    Error, Timestamp,
    ids::{ChannelId, CustomerId},
    timeline::{self, TimelineFilter, TimelineItem, TimelineKind},
    tracking::{self, Call, Identify, Track},
    user::Actor,
    workspace::Continuity,
};
use serde_json::json;

use crate::fixtures::{Harness, api_channel, now, receive, seconds, tenant};

crate::on_both_backends!(
    the_timeline_interleaves_messages_and_events_newest_first_across_pages,
    the_timeline_filters_by_kind_and_by_channel,
    computed_fields_follow_messages_events_and_orders,
);

/// A track call from `user_id` at `at`.
pub fn track(user_id: &str, event: &str, properties: serde_json::Value, at: Timestamp) -> Call {
    Call::Track(Track {
        user_id: Some(user_id.to_string()),
        event: event.to_string(),
        properties: properties.as_object().cloned(),
        timestamp: Some(at.to_rfc3339()),
        ..Track::default()
    })
}

/// Every item of the timeline, following the cursor page by page.
pub async fn all_of_timeline(
    harness: &Harness,
    actor: &Actor,
    customer: CustomerId,
    filter: &TimelineFilter,
    limit: u32,
) -> Vec<TimelineItem> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = timeline::customer_timeline(
            harness.store(),
            actor,
            customer,
            filter,
            cursor.as_ref(),
            Some(limit),
        )
        .await
        .unwrap();
        assert!(page.items.len() <= limit as usize);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

fn event_names(items: &[TimelineItem]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            TimelineItem::Message(message) => format!("message {}", message.text),
            TimelineItem::Event(event) => format!("event {}", event.name),
        })
        .collect()
}

async fn the_timeline_interleaves_messages_and_events_newest_first_across_pages(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let at = now();
    let first = receive(store, &acme.channel, "w-1", "sara@example.com", at).await;
    tracking::identify(
        store,
        &actor,
        Call::Identify(Identify {
            user_id: Some("u-s".into()),
            traits: json!({"email": "sara@example.com"}).as_object().cloned(),
            timestamp: Some((at + seconds(1)).to_rfc3339()),
            ..Identify::default()
        }),
        at + seconds(1),
    )
    .await
    .unwrap();
    for (index, offset) in [2, 4].into_iter().enumerate() {
        tracking::track(
            store,
            &actor,
            track(
                "u-s",
                &format!("viewed_{index}"),
                json!({}),
                at + seconds(offset),
            ),
            at,
        )
        .await
        .unwrap();
    }
    receive(
        store,
        &acme.channel,
        "w-2",
        "sara@example.com",
        at + seconds(3),
    )
    .await;
    receive(
        store,
        &acme.channel,
        "w-3",
        "sara@example.com",
        at + seconds(5),
    )
    .await;

    let items = all_of_timeline(
        harness,
        &actor,
        first.customer_id,
        &TimelineFilter::default(),
        2,
    )
    .await;

    assert_eq!(
        event_names(&items),
        [
            "message message w-3",
            "event viewed_1",
            "message message w-2",
            "event viewed_0",
            "event identify",
            "message message w-1",
        ]
    );
}

async fn the_timeline_filters_by_kind_and_by_channel(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let second = api_channel(acme.workspace.id, "Shop backend");
    let mut tx = store.begin().await.unwrap();
    tx.insert_channel(&second).await.unwrap();
    tx.commit().await.unwrap();
    let at = now();
    let first = receive(store, &acme.channel, "w-1", "omar@example.com", at).await;
    receive(store, &second, "s-1", "omar@example.com", at + seconds(1)).await;
    tracking::identify(
        store,
        &actor,
        Call::Identify(Identify {
            anonymous_id: Some("v-1".into()),
            traits: json!({"email": "omar@example.com"}).as_object().cloned(),
            ..Identify::default()
        }),
        at + seconds(2),
    )
    .await
    .unwrap();
    let customer = first.customer_id;

    let filter = |kind, channel_id: Option<ChannelId>| TimelineFilter { kind, channel_id };
    let messages = all_of_timeline(
        harness,
        &actor,
        customer,
        &filter(Some(TimelineKind::Message), None),
        10,
    )
    .await;
    let events = all_of_timeline(
        harness,
        &actor,
        customer,
        &filter(Some(TimelineKind::Event), None),
        10,
    )
    .await;
    let on_second = all_of_timeline(
        harness,
        &actor,
        customer,
        &filter(None, Some(second.id)),
        10,
    )
    .await;
    let other_workspace = tenant(store, "Other", Continuity::Customer).await;
    let stranger = timeline::customer_timeline(
        store,
        &other_workspace.owner.actor(),
        customer,
        &TimelineFilter::default(),
        None,
        None,
    )
    .await;

    assert_eq!(
        event_names(&messages),
        ["message message s-1", "message message w-1"]
    );
    assert_eq!(event_names(&events), ["event identify"]);
    assert_eq!(event_names(&on_second), ["message message s-1"]);
    assert!(matches!(stranger, Err(Error::NotFound)));
}

async fn computed_fields_follow_messages_events_and_orders(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let at = now();
    let first = receive(store, &acme.channel, "w-1", "lina@example.com", at).await;
    tracking::identify(
        store,
        &actor,
        Call::Identify(Identify {
            user_id: Some("u-l".into()),
            traits: json!({"email": "lina@example.com"}).as_object().cloned(),
            timestamp: Some((at - seconds(60)).to_rfc3339()),
            ..Identify::default()
        }),
        at,
    )
    .await
    .unwrap();
    let calls = vec![
        Ok(track(
            "u-l",
            "order_placed",
            json!({"order_id": "1", "total": "10.50", "currency": "EUR"}),
            at + seconds(1),
        )),
        Ok(track(
            "u-l",
            "order_placed",
            json!({"order_id": "2", "total": 4.5, "currency": "EUR"}),
            at + seconds(2),
        )),
        Ok(track(
            "u-l",
            "order_placed",
            json!({"order_id": "3", "total": 7, "currency": "USD"}),
            at + seconds(3),
        )),
        Ok(track(
            "u-l",
            "order_shipped",
            json!({"order_id": "1"}),
            at + seconds(4),
        )),
    ];
    tracking::batch(store, &actor, calls, at).await.unwrap();

    let (_, stats) = seam_core::stats::get_customer_with_stats(store, &actor, first.customer_id)
        .await
        .unwrap();

    assert_eq!(stats.first_seen_at, Some(at - seconds(60)));
    assert_eq!(stats.last_seen_at, Some(at + seconds(4)));
    assert_eq!(stats.last_channel_id, Some(acme.channel.id));
    assert_eq!(stats.channels_used, [acme.channel.id]);
    assert_eq!(
        (stats.conversations_open, stats.conversations_total),
        (1, 1)
    );
    assert_eq!(stats.orders_count, 3);
    let spent: Vec<(Option<&str>, String)> = stats
        .total_spent
        .iter()
        .map(|spent| (spent.currency.as_deref(), spent.total.to_decimal()))
        .collect();
    assert_eq!(
        spent,
        [
            (Some("EUR"), "15".to_string()),
            (Some("USD"), "7".to_string())
        ]
    );
    assert_eq!(stats.average_csat(), None);
}
