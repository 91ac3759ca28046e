//! Event tracking through `seam_core::tracking`, the customer timeline and the computed profile
//! fields, as the store makes them hold: `messageId` deduplication, orders and returns, the
//! one-query timeline with its filters and pages, and the stats kept by both write paths.

use seam_core::{
    Error, Timestamp,
    commerce::{self, Money},
    event::Event,
    ids::{ChannelId, CustomerId, EventId},
    timeline::{self, TimelineFilter, TimelineItem, TimelineKind},
    tracking::{self, Call, EVENT_MESSAGE_ID_TAKEN, Identify, ItemOutcome, Track},
    user::Actor,
    workspace::Continuity,
};
use serde_json::json;

use crate::fixtures::{Harness, api_channel, now, receive, seconds, tenant};

crate::on_both_backends!(
    a_repeated_message_id_stores_one_event_and_answers_the_same_ids,
    a_batch_stores_the_valid_calls_and_reports_the_invalid_ones_by_index,
    orders_and_returns_follow_their_events_and_a_late_older_event_does_not_move_them_back,
    the_timeline_interleaves_messages_and_events_newest_first_across_pages,
    the_timeline_filters_by_kind_and_by_channel,
    computed_fields_follow_messages_events_and_orders,
);

fn track(user_id: &str, event: &str, properties: serde_json::Value, at: Timestamp) -> Call {
    Call::Track(Track {
        user_id: Some(user_id.to_string()),
        event: event.to_string(),
        properties: properties.as_object().cloned(),
        timestamp: Some(at.to_rfc3339()),
        ..Track::default()
    })
}

fn with_message_id(call: Call, message_id: &str) -> Call {
    match call {
        Call::Track(mut track) => {
            track.message_id = Some(message_id.to_string());
            Call::Track(track)
        }
        Call::Identify(mut identify) => {
            identify.message_id = Some(message_id.to_string());
            Call::Identify(identify)
        }
    }
}

async fn all_of_timeline(
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

async fn a_repeated_message_id_stores_one_event_and_answers_the_same_ids(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let at = now();
    let call = || with_message_id(track("u-1", "page_viewed", json!({"path": "/"}), at), "m-1");

    let first = tracking::track(store, &actor, call(), at).await.unwrap();
    let retry = tracking::track(store, &actor, call(), at + seconds(5))
        .await
        .unwrap();
    let in_batch = tracking::batch(store, &actor, vec![Ok(call()), Ok(call())], at)
        .await
        .unwrap();

    assert!(!first.duplicate);
    assert!(retry.duplicate);
    assert_eq!(
        (retry.customer_id, retry.event_id),
        (first.customer_id, first.event_id)
    );
    assert!(in_batch.iter().all(|outcome| matches!(outcome,
        ItemOutcome::Tracked(tracked) if tracked.duplicate && tracked.event_id == first.event_id)));
    let events = all_of_timeline(
        harness,
        &actor,
        first.customer_id,
        &TimelineFilter::default(),
        10,
    )
    .await;
    assert_eq!(events.len(), 1);

    // The unique constraint stands behind the lookup.
    let mut tx = store.begin().await.unwrap();
    let again = Event {
        id: EventId::new(),
        workspace_id: acme.workspace.id,
        customer_id: first.customer_id,
        name: "page_viewed".into(),
        properties: json!({}),
        occurred_at: at,
        created_at: at,
        message_id: Some("m-1".into()),
    };
    let error = tx.insert_events(&[again]).await.unwrap_err();
    assert!(
        matches!(error, Error::Conflict { ref what } if what == EVENT_MESSAGE_ID_TAKEN),
        "{error:?}"
    );
}

async fn a_batch_stores_the_valid_calls_and_reports_the_invalid_ones_by_index(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let at = now();
    let identify = Call::Identify(Identify {
        user_id: Some("u-7".into()),
        traits: json!({"email": "Noor@Example.com", "name": "Noor", "plan": "gold"})
            .as_object()
            .cloned(),
        ..Identify::default()
    });
    let nameless = Call::Track(Track {
        user_id: Some("u-7".into()),
        event: String::new(),
        ..Track::default()
    });

    let outcomes = tracking::batch(
        store,
        &actor,
        vec![
            Ok(identify),
            Ok(nameless),
            Err(Error::invalid("type", "unknown variant `page`")),
            Ok(track("u-7", "order_placed", json!({}), at)),
            Ok(track("u-7", "page_viewed", json!({}), at)),
        ],
        at,
    )
    .await
    .unwrap();

    let fields: Vec<Option<&str>> = outcomes
        .iter()
        .map(|outcome| match outcome {
            ItemOutcome::Tracked(_) => None,
            ItemOutcome::Rejected { field, .. } => Some(field.as_str()),
        })
        .collect();
    assert_eq!(
        fields,
        [
            None,
            Some("event"),
            Some("type"),
            Some("properties.order_id"),
            None
        ]
    );
    let (ItemOutcome::Tracked(first), ItemOutcome::Tracked(last)) = (&outcomes[0], &outcomes[4])
    else {
        panic!("{outcomes:?}");
    };
    assert_eq!(first.customer_id, last.customer_id);
    let profile = store
        .get_customer_profile(acme.workspace.id, first.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.customer.name.as_deref(), Some("Noor"));
    let values: Vec<&str> = profile
        .identities
        .iter()
        .map(|held| held.identity.value.as_str())
        .collect();
    assert!(
        values.contains(&"u-7") && values.contains(&"noor@example.com"),
        "{values:?}"
    );
    let items = all_of_timeline(
        harness,
        &actor,
        first.customer_id,
        &TimelineFilter::default(),
        10,
    )
    .await;
    let identify_event = items
        .iter()
        .find_map(|item| match item {
            TimelineItem::Event(event) if event.name == "identify" => Some(event),
            _ => None,
        })
        .unwrap();
    assert_eq!(identify_event.properties, json!({"plan": "gold"}));

    let too_many = (0..501)
        .map(|_| Ok(track("u-7", "x", json!({}), at)))
        .collect();
    let error = tracking::batch(store, &actor, too_many, at)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Invalid { ref field, .. } if field == "batch"));
}

async fn orders_and_returns_follow_their_events_and_a_late_older_event_does_not_move_them_back(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = acme.owner.actor();
    let at = now();
    let calls = vec![
        Ok(track(
            "u-1",
            "order_placed",
            json!({"order_id": "A-1", "total": 59.9, "currency": "eur"}),
            at,
        )),
        Ok(track(
            "u-1",
            "order_delivered",
            json!({"order_id": "A-1"}),
            at + seconds(20),
        )),
        Ok(track(
            "u-1",
            "return_requested",
            json!({"return_id": "R-1", "order_id": "A-1"}),
            at + seconds(30),
        )),
    ];
    let outcomes = tracking::batch(store, &actor, calls, at).await.unwrap();
    let ItemOutcome::Tracked(tracked) = outcomes[0] else {
        panic!("{outcomes:?}")
    };

    // A late, older shipping report arrives after the delivery.
    tracking::track(
        store,
        &actor,
        track(
            "u-1",
            "order_shipped",
            json!({"order_id": "A-1"}),
            at + seconds(10),
        ),
        at,
    )
    .await
    .unwrap();
    tracking::track(
        store,
        &actor,
        track(
            "u-1",
            "return_received",
            json!({"return_id": "R-1"}),
            at + seconds(40),
        ),
        at,
    )
    .await
    .unwrap();

    let held = commerce::customer_orders(store, &actor, tracked.customer_id)
        .await
        .unwrap();
    assert_eq!(held.orders.len(), 1);
    let order = &held.orders[0];
    assert_eq!(
        (order.order_id.as_str(), order.status.as_str()),
        ("A-1", "delivered")
    );
    assert_eq!(
        (order.total, order.currency.as_deref()),
        (Some(Money(59_900_000)), Some("EUR"))
    );
    assert_eq!(order.placed_at, Some(at));
    assert_eq!(order.status_at, at + seconds(20));
    assert_eq!(held.returns.len(), 1);
    let record = &held.returns[0];
    assert_eq!(
        (
            record.return_id.as_str(),
            record.order_id.as_deref(),
            record.status.as_str()
        ),
        ("R-1", Some("A-1"), "received")
    );
    let stranger = commerce::customer_orders(store, &actor, CustomerId::new())
        .await
        .unwrap_err();
    assert!(matches!(stranger, Error::NotFound));
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
