//! Event tracking through `seam_core::tracking`, as the store makes it hold: `messageId`
//! deduplication, batches that report invalid calls by index, and orders and returns.

use seam_core::{
    Error,
    commerce::{self, Money},
    event::Event,
    ids::{CustomerId, EventId},
    timeline::{TimelineFilter, TimelineItem},
    tracking::{self, Call, EVENT_MESSAGE_ID_TAKEN, Identify, ItemOutcome, Track},
    workspace::Continuity,
};
use serde_json::json;

use crate::{
    fixtures::{Harness, now, seconds, tenant},
    timeline::{all_of_timeline, track},
};

crate::on_both_backends!(
    a_repeated_message_id_stores_one_event_and_answers_the_same_ids,
    a_batch_stores_the_valid_calls_and_reports_the_invalid_ones_by_index,
    orders_and_returns_follow_their_events_and_a_late_older_event_does_not_move_them_back,
);

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
    let ItemOutcome::Tracked(tracked) = outcomes[0].clone() else {
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
