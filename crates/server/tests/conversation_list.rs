//! The agent's view of the inbox: conversations listed newest first with filters (status,
//! assignee including `me` and `none`, team, channel, label), cursor pagination, and updates
//! that are pushed to connected agents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod harness;

use std::collections::HashSet;

use harness::{Backend, Realtime, Received, spawn_seam};
use serde_json::{Value, json};

on_both_backends!(
    filters_narrow_the_conversation_list_and_pages_cover_it_exactly_once,
    an_update_is_stored_and_pushed_to_connected_agents,
);

fn ids(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

async fn filters_narrow_the_conversation_list_and_pages_cover_it_exactly_once(backend: Backend) {
    // Arrange: five customers; one conversation assigned to me, one labelled, one resolved.
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let shop = agent.create_api_channel("Shop backend", None).await;
    let app = agent.create_api_channel("Mobile app", None).await;
    let mut received: Vec<Received> = Vec::new();
    for n in 0..5 {
        let channel = if n == 4 { &app } else { &shop };
        received.push(
            channel
                .receive(json!({
                    "message_id": format!("m-{n}"),
                    "from": { "email": format!("customer{n}@example.com") },
                    "text": format!("question {n}"),
                }))
                .await,
        );
    }
    let path = |n: usize| format!("/api/v1/conversations/{}", received[n].conversation_id);
    for (n, update) in [
        (0, json!({ "assignee_id": agent.user_id })),
        (
            1,
            json!({ "labels": ["VIP", "refund"], "priority": "high" }),
        ),
        (2, json!({ "status": "resolved" })),
    ] {
        let response = agent.api.patch(&path(n), update).await;
        assert_eq!(response.status, 200, "{response:?}");
    }
    let conversation = |n: usize| received[n].conversation_id.clone();

    // Act
    let list = |query: &'static str| {
        let api = agent.api.clone();
        async move { ids(&api.list_all(&format!("/api/v1/conversations{query}")).await) }
    };
    let mine = list("?assignee=me").await;
    let unassigned = list("?assignee=none").await;
    let vip = list("?label=vip").await;
    let resolved = list("?status=resolved").await;
    let open = list("?status=open").await;
    let by_app = agent
        .api
        .list_all(&format!("/api/v1/conversations?channel={}", app.id))
        .await;
    let by_unknown_team = agent
        .api
        .list_all(&format!(
            "/api/v1/conversations?team={}",
            uuid::Uuid::now_v7()
        ))
        .await;
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("/api/v1/conversations?limit=2&cursor={cursor}"),
            None => "/api/v1/conversations?limit=2".to_string(),
        };
        let page = agent.api.get(&query).await;
        assert_eq!(page.status, 200, "{page:?}");
        let items = page.json["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(
            items
                .iter()
                .map(|item| item["id"].as_str().unwrap().to_string()),
        );
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(paged.len() <= 5, "pagination does not end: {paged:?}");
    }

    // Assert
    assert_eq!(mine, HashSet::from([conversation(0)]));
    assert_eq!(
        unassigned,
        HashSet::from([
            conversation(1),
            conversation(2),
            conversation(3),
            conversation(4)
        ])
    );
    assert_eq!(vip, HashSet::from([conversation(1)]));
    assert_eq!(resolved, HashSet::from([conversation(2)]));
    assert_eq!(open.len(), 4);
    assert!(!open.contains(&conversation(2)));
    assert_eq!(ids(&by_app), HashSet::from([conversation(4)]));
    assert!(by_unknown_team.is_empty());
    assert_eq!(paged.len(), 5, "{paged:?}");
    assert_eq!(
        paged.iter().collect::<HashSet<_>>().len(),
        5,
        "a page repeated a row"
    );
    let labelled = agent.api.get(&path(1)).await;
    assert_eq!(labelled.json["labels"], json!(["refund", "vip"]));
    assert_eq!(labelled.json["priority"], "high");
}

async fn an_update_is_stored_and_pushed_to_connected_agents(backend: Backend) {
    // Arrange
    let seam = spawn_seam(backend).await;
    let agent = seam.owner_of("Acme").await;
    let channel = agent.create_api_channel("Shop backend", None).await;
    let received = channel
        .receive(json!({
            "message_id": "m-1",
            "from": { "email": "customer@example.com" },
            "text": "hello",
        }))
        .await;
    let mut realtime = Realtime::connect(&seam.base_url, &agent.token).await;

    // Act
    let updated = agent
        .api
        .patch(
            &format!("/api/v1/conversations/{}", received.conversation_id),
            json!({ "status": "pending", "assignee_id": agent.user_id }),
        )
        .await;

    // Assert
    assert_eq!(updated.status, 200, "{updated:?}");
    assert_eq!(updated.json["status"], "pending");
    let pushed = realtime
        .wait_for("conversation.updated with the new status", |event| {
            event["type"] == "conversation.updated"
                && event["data"]["id"] == received.conversation_id.as_str()
                && event["data"]["status"] == "pending"
        })
        .await;
    assert_eq!(pushed["data"]["assignee_id"], agent.user_id.as_str());
    let stored = agent
        .api
        .get(&format!(
            "/api/v1/conversations/{}",
            received.conversation_id
        ))
        .await;
    assert_eq!(stored.json["status"], "pending");
    assert_eq!(stored.json["assignee_id"], agent.user_id.as_str());
}
