//! Replies on messaging channels: the providers' windows, templates filled from the profile,
//! consent, and the refusal that names what can be sent instead.

use seam_core::{
    Error,
    channel::{Channel, ChannelKind},
    consent::{self, ConsentStatus},
    identity::IdentityKind,
    ids::ChannelId,
    inbound::{InboundMessage, RawIdentity, Received},
    jobs::kind,
    message::{DeliveryStatus, MessageKind},
    outbound::{ChannelChoice, Reply, record_sent, send_reply},
    ports::Store,
    workspace::Continuity,
};

use crate::fixtures::{Harness, Tenant, api_channel, now, seconds, tenant};

crate::on_both_backends!(
    a_whatsapp_reply_outside_24_hours_is_refused_with_the_channels_and_templates_that_can_go,
    a_template_is_filled_from_the_profile_in_the_customers_language,
    a_messenger_reply_after_24_hours_carries_the_human_agent_tag,
    an_sms_opt_out_refuses_replies_until_the_customer_opts_back_in,
    an_accepted_send_records_the_providers_id_and_never_moves_a_later_status_back,
    many_replies_at_once_are_all_queued,
);

const PHONE: &str = "+16502530000";

fn channel(tenant: &Tenant, kind: ChannelKind, name: &str, config: serde_json::Value) -> Channel {
    Channel {
        id: ChannelId::new(),
        kind,
        name: name.into(),
        config,
        ..api_channel(tenant.workspace.id, name)
    }
}

async fn add(store: &dyn Store, channels: &[&Channel]) {
    let mut tx = store.begin().await.unwrap();
    for channel in channels {
        tx.insert_channel(channel).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn whatsapp(tenant: &Tenant) -> Channel {
    channel(
        tenant,
        ChannelKind::Whatsapp,
        "WhatsApp",
        serde_json::json!({
            "phone_number_id": "106540352242922",
            "templates": [
                {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, order {{2}} has shipped",
                 "parameters": ["customer.name", "customer.attributes.order_id"]},
                {"name": "order_update", "language": "fa", "body": "سلام {{1}}، سفارش {{2}} ارسال شد",
                 "parameters": ["customer.name", "customer.attributes.order_id"]}
            ]
        }),
    )
}

/// A message from `identities` on `channel`, sent `hours_ago`.
async fn receive_from(
    store: &dyn Store,
    channel: &Channel,
    provider_id: &str,
    identities: &[(IdentityKind, &str)],
    hours_ago: i64,
) -> Received {
    let at = now();
    let message = InboundMessage {
        channel_id: channel.id,
        provider_message_id: provider_id.into(),
        sender: identities
            .iter()
            .map(|(kind, value)| RawIdentity {
                kind: *kind,
                value: value.to_string(),
                field: "from".into(),
                verified: true,
            })
            .collect(),
        sender_name: Some("Layla".into()),
        text: "Where is my order?".into(),
        sent_at: Some(at - chrono::Duration::hours(hours_ago)),
        email: None,
        attachments: Vec::new(),
    };
    seam_core::inbound::receive(store, channel, message, at)
        .await
        .unwrap()
}

fn on(channel: &Channel, text: &str) -> Reply {
    Reply {
        channel: ChannelChoice::Explicit(channel.id),
        ..Reply::text(text)
    }
}

async fn a_whatsapp_reply_outside_24_hours_is_refused_with_the_channels_and_templates_that_can_go(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let whatsapp = whatsapp(&acme);
    let sms = channel(
        &acme,
        ChannelKind::Sms,
        "SMS",
        serde_json::json!({"from": "+14155552671"}),
    );
    add(store, &[&whatsapp, &sms]).await;
    let wa_id = PHONE.trim_start_matches('+');
    let received = receive_from(
        store,
        &whatsapp,
        "wamid.1",
        &[
            (IdentityKind::Phone, PHONE),
            (IdentityKind::Whatsapp, wa_id),
        ],
        25,
    )
    .await;

    let refused = send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        Reply::text("It left the warehouse today."),
        now(),
    )
    .await
    .unwrap_err();

    let Error::Undeliverable {
        reason,
        alternatives,
    } = refused
    else {
        panic!("expected a refusal with alternatives, got {refused:?}");
    };
    assert!(reason.contains("24-hour"), "{reason}");
    let by_sms = alternatives
        .iter()
        .find(|alternative| alternative.channel_id == sms.id)
        .unwrap_or_else(|| panic!("SMS reaches the same number: {alternatives:?}"));
    assert!(by_sms.free_form);
    let by_template = alternatives
        .iter()
        .find(|alternative| alternative.channel_id == whatsapp.id)
        .unwrap_or_else(|| panic!("the WhatsApp templates can go: {alternatives:?}"));
    assert!(!by_template.free_form);
    assert_eq!(by_template.templates, vec!["order_update".to_string()]);
    assert!(
        alternatives
            .iter()
            .all(|alternative| alternative.channel_id != acme.channel.id),
        "an API channel is an integration, not a way to reach the customer"
    );

    // The customer writes again: the window is open and free text goes, to their wa_id.
    receive_from(
        store,
        &whatsapp,
        "wamid.2",
        &[(IdentityKind::Whatsapp, wa_id)],
        1,
    )
    .await;
    let at = now();
    let reply = send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        Reply::text("It left the warehouse today."),
        at,
    )
    .await
    .unwrap();
    assert_eq!(reply.channel_id, Some(whatsapp.id));
    let jobs = store
        .claim_jobs(at + seconds(1), at + seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, kind::DELIVER_MESSAGE);
    assert_eq!(
        jobs[0].payload,
        serde_json::json!({"message_id": reply.id, "to": wa_id})
    );
}

async fn a_template_is_filled_from_the_profile_in_the_customers_language(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let whatsapp = whatsapp(&acme);
    add(store, &[&whatsapp]).await;
    let received = receive_from(
        store,
        &whatsapp,
        "wamid.1",
        &[(IdentityKind::Whatsapp, "989121234567")],
        48,
    )
    .await;
    let owner = acme.owner.actor();
    let template = Reply {
        template: Some("order_update".into()),
        ..on(&whatsapp, "")
    };

    // Without the order id the template cannot be filled: refused, nothing queued.
    let missing = send_reply(
        store,
        &owner,
        received.conversation_id,
        template.clone(),
        now(),
    )
    .await
    .unwrap_err();
    assert!(missing.to_string().contains("order_id"), "{missing}");

    let mut tx = store.begin().await.unwrap();
    let mut customer = tx
        .get_customer(acme.workspace.id, received.customer_id)
        .await
        .unwrap()
        .unwrap();
    customer.locale = Some(seam_core::profile::Locale::parse("locale", "fa-IR").unwrap());
    customer
        .attributes
        .insert("order_id".into(), serde_json::json!("A-1042"));
    tx.update_customer(&customer).await.unwrap();
    tx.commit().await.unwrap();
    let at = now();
    let sent = send_reply(store, &owner, received.conversation_id, template, at)
        .await
        .unwrap();

    assert_eq!(sent.text, "سلام Layla، سفارش A-1042 ارسال شد");
    let jobs = store
        .claim_jobs(at + seconds(1), at + seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        jobs[0].payload["template"],
        serde_json::json!({
            "name": "order_update", "language": "fa",
            "parameters": ["Layla", "A-1042"], "content_sid": null
        })
    );
    assert_eq!(jobs[0].payload["to"], "989121234567");

    // A template a channel does not have is refused.
    let unknown = Reply {
        template: Some("promo".into()),
        ..on(&whatsapp, "")
    };
    assert!(
        send_reply(store, &owner, received.conversation_id, unknown, now())
            .await
            .is_err()
    );
}

async fn a_messenger_reply_after_24_hours_carries_the_human_agent_tag(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let messenger = channel(
        &acme,
        ChannelKind::Messenger,
        "Messenger",
        serde_json::json!({"page_id": "1"}),
    );
    add(store, &[&messenger]).await;
    let received = receive_from(
        store,
        &messenger,
        "m_1",
        &[(IdentityKind::Messenger, "6254849711")],
        30,
    )
    .await;
    let at = now();

    send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        Reply::text("Sorry for the wait."),
        at,
    )
    .await
    .unwrap();

    let jobs = store
        .claim_jobs(at + seconds(1), at + seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(jobs[0].payload["tag"], "HUMAN_AGENT");
    assert_eq!(jobs[0].payload["to"], "6254849711");
}

async fn an_sms_opt_out_refuses_replies_until_the_customer_opts_back_in(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let sms = channel(
        &acme,
        ChannelKind::Sms,
        "SMS",
        serde_json::json!({"from": "+14155552671"}),
    );
    add(store, &[&sms]).await;
    let received = receive_from(store, &sms, "SM1", &[(IdentityKind::Phone, PHONE)], 0).await;
    let owner = acme.owner.actor();
    let opt = |status| {
        consent::record_from_channel(
            store,
            acme.workspace.id,
            received.customer_id,
            ChannelKind::Sms,
            status,
            "sms:keyword",
            now(),
        )
    };

    opt(ConsentStatus::OptedOut).await.unwrap();
    let refused = send_reply(
        store,
        &owner,
        received.conversation_id,
        on(&sms, "Hello?"),
        now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, Error::Undeliverable { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("opted out"), "{refused}");

    opt(ConsentStatus::OptedIn).await.unwrap();
    let sent = send_reply(
        store,
        &owner,
        received.conversation_id,
        on(&sms, "Hello?"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(sent.identity.as_deref(), Some(PHONE));
    assert_eq!(sent.identity_kind, Some(IdentityKind::Phone));
}

async fn an_accepted_send_records_the_providers_id_and_never_moves_a_later_status_back(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let telegram = channel(
        &acme,
        ChannelKind::Telegram,
        "Telegram",
        serde_json::json!({}),
    );
    add(store, &[&telegram]).await;
    let received = receive_from(
        store,
        &telegram,
        "1:1",
        &[(IdentityKind::Telegram, "1111111")],
        0,
    )
    .await;
    let reply = send_reply(
        store,
        &acme.owner.actor(),
        received.conversation_id,
        Reply::text("Hi"),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(reply.kind, MessageKind::Outbound);

    let sent = record_sent(store, acme.workspace.id, reply.id, "1111111:77", now())
        .await
        .unwrap();
    assert_eq!(sent.delivery_status, Some(DeliveryStatus::Sent));
    assert_eq!(sent.provider_message_id.as_deref(), Some("1111111:77"));

    seam_core::outbound::record_delivery(
        store,
        acme.workspace.id,
        reply.id,
        DeliveryStatus::Read,
        None,
        now(),
    )
    .await
    .unwrap();
    let again = record_sent(store, acme.workspace.id, reply.id, "1111111:77", now())
        .await
        .unwrap();
    assert_eq!(again.delivery_status, Some(DeliveryStatus::Read));
}

/// Deciding a reply reads on connections of its own while other replies write: many at once,
/// more than there are read connections, all go through.
async fn many_replies_at_once_are_all_queued(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let sms = channel(
        &acme,
        ChannelKind::Sms,
        "SMS",
        serde_json::json!({"from": "+14155552671"}),
    );
    add(store, &[&sms]).await;
    let received = receive_from(store, &sms, "SM1", &[(IdentityKind::Phone, PHONE)], 0).await;
    let owner = acme.owner.actor();
    let replies = (0..24).map(|n| {
        let (owner, sms) = (owner.clone(), sms.clone());
        async move {
            send_reply(
                store,
                &owner,
                received.conversation_id,
                on(&sms, &format!("Reply {n}")),
                now(),
            )
            .await
        }
    });
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        futures::future::join_all(replies),
    )
    .await
    .unwrap_or_else(|_| panic!("replies at once never finished: a connection waits on itself"));
    assert!(sent.iter().all(Result::is_ok), "{sent:?}");
    let messages = store
        .list_messages(acme.workspace.id, received.conversation_id, None, 100)
        .await
        .unwrap();
    let outbound = messages
        .items
        .iter()
        .filter(|message| message.kind == MessageKind::Outbound)
        .count();
    assert_eq!(outbound, 24);
}
