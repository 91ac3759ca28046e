//! Identity resolution, merges and their undo, through core's use cases on a real store:
//! one customer across channels, the rules that stop a merge, and an undo that restores the
//! state before.

use std::collections::BTreeSet;

use seam_core::{
    Error,
    channel::{Channel, ChannelKind},
    consent::{Consent, ConsentStatus, consent_for},
    identity::IdentityKind,
    ids::CustomerId,
    inbound::{InboundMessage, RawIdentity, Received, receive},
    merge::{merge_customers, undo_merge},
    ports::Store,
    resolution::{self, ResolutionAction},
    user::Actor,
    workspace::{Continuity, IdentityRules},
};

use crate::fixtures::{Harness, Tenant, api_channel, now, seconds, tenant};

crate::on_both_backends!(
    a_customer_on_whatsapp_then_email_then_the_website_with_both_is_one_customer_in_one_conversation,
    two_external_ids_sharing_an_email_never_merge_and_the_conflict_is_listed_for_review,
    an_unverified_claim_never_pulls_an_identified_customer_into_another,
    a_merge_over_a_kind_limit_is_not_made_and_the_identity_stays_with_its_holder,
    junk_identities_are_ignored_with_a_reason_and_the_rest_resolve,
    undo_restores_both_customers_even_after_new_messages_arrived,
    a_merge_is_undone_once_and_a_merged_away_customer_cannot_merge_again,
    a_manual_merge_of_two_external_ids_is_refused,
    a_merge_fills_the_survivors_gaps_and_its_undo_takes_them_back,
    erasing_a_merged_customer_leaves_no_address_in_merges_or_the_resolution_log,
);

fn owner(tenant: &Tenant) -> Actor {
    Actor {
        user_id: tenant.owner.id,
        workspace_id: tenant.workspace.id,
        role: tenant.owner.role,
    }
}

fn address(kind: IdentityKind, value: &str, verified: bool) -> RawIdentity {
    RawIdentity {
        kind,
        value: value.to_string(),
        field: format!("from.{}", kind.as_str()),
        verified,
    }
}

async fn message(
    store: &dyn Store,
    channel: &Channel,
    id: &str,
    sender: Vec<RawIdentity>,
    at: seam_core::Timestamp,
) -> Received {
    receive(
        store,
        channel,
        InboundMessage {
            channel_id: channel.id,
            provider_message_id: id.to_string(),
            sender,
            sender_name: None,
            text: format!("text of {id}"),
            sent_at: None,
            email: None,
            attachments: Vec::new(),
        },
        at,
    )
    .await
    .unwrap()
}

async fn add_channel(store: &dyn Store, tenant: &Tenant, name: &str) -> Channel {
    let channel = api_channel(tenant.workspace.id, name);
    store.insert_channel(&channel).await.unwrap();
    channel
}

async fn identities_of(store: &dyn Store, tenant: &Tenant, id: CustomerId) -> BTreeSet<String> {
    store
        .get_customer_profile(tenant.workspace.id, id)
        .await
        .unwrap()
        .unwrap()
        .identities
        .into_iter()
        .map(|held| format!("{}:{}", held.identity.kind.as_str(), held.identity.value))
        .collect()
}

async fn a_customer_on_whatsapp_then_email_then_the_website_with_both_is_one_customer_in_one_conversation(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let whatsapp = add_channel(store, &acme, "WhatsApp").await;
    let email = add_channel(store, &acme, "Email").await;
    let website = add_channel(store, &acme, "Website").await;
    let at = now();

    let on_whatsapp = message(
        store,
        &whatsapp,
        "wamid.1",
        vec![address(IdentityKind::Whatsapp, "16502530000", true)],
        at,
    )
    .await;
    let by_email = message(
        store,
        &email,
        "<m1@mail.example>",
        vec![address(IdentityKind::Email, "Layla@Example.com", true)],
        at + seconds(60),
    )
    .await;
    let on_website = message(
        store,
        &website,
        "chat-1",
        vec![
            address(IdentityKind::Visitor, "v-42", true),
            address(IdentityKind::Email, "layla@example.com", true),
            address(IdentityKind::Phone, "+1 650 253 0000", true),
        ],
        at + seconds(120),
    )
    .await;

    assert_ne!(on_whatsapp.customer_id, by_email.customer_id);
    let customer = on_website.customer_id;
    assert_eq!(
        identities_of(store, &acme, customer).await,
        BTreeSet::from([
            "email:layla@example.com".to_string(),
            "phone:+16502530000".to_string(),
            "visitor:v-42".to_string(),
        ])
    );
    let absorbed = if customer == by_email.customer_id {
        on_whatsapp.customer_id
    } else {
        by_email.customer_id
    };
    let gone = store
        .get_customer_profile(acme.workspace.id, absorbed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.customer.merged_into_id, Some(customer));
    let thread = store
        .list_messages(acme.workspace.id, on_website.conversation_id, None, 10)
        .await
        .unwrap();
    let channels: BTreeSet<_> = thread.items.iter().filter_map(|m| m.channel_id).collect();
    assert_eq!(
        thread.items.len(),
        3,
        "one conversation holds all three messages"
    );
    assert_eq!(
        channels,
        BTreeSet::from([whatsapp.id, email.id, website.id])
    );
    let log = store
        .resolution_log_of_customer(acme.workspace.id, customer, 50)
        .await
        .unwrap();
    let merged = log
        .iter()
        .find(|entry| entry.action == ResolutionAction::Merged)
        .unwrap();
    assert_eq!(merged.rule, "shared_identity");
    assert_eq!(merged.other_customer_id, Some(absorbed));
}

async fn two_external_ids_sharing_an_email_never_merge_and_the_conflict_is_listed_for_review(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let first = message(
        store,
        &acme.channel,
        "m-1",
        vec![
            address(IdentityKind::ExternalId, "user-1", true),
            address(IdentityKind::Email, "shared@example.com", true),
        ],
        now(),
    )
    .await;

    let second = message(
        store,
        &acme.channel,
        "m-2",
        vec![
            address(IdentityKind::ExternalId, "user-2", true),
            address(IdentityKind::Email, "shared@example.com", true),
        ],
        now() + seconds(1),
    )
    .await;

    assert_ne!(first.customer_id, second.customer_id);
    assert_eq!(
        identities_of(store, &acme, first.customer_id).await,
        BTreeSet::from([
            "email:shared@example.com".to_string(),
            "external_id:user-1".to_string()
        ])
    );
    assert_eq!(
        identities_of(store, &acme, second.customer_id).await,
        BTreeSet::from(["external_id:user-2".to_string()])
    );
    let conflicts = resolution::list_conflicts(store, &owner(&acme), None, None)
        .await
        .unwrap();
    assert_eq!(conflicts.items.len(), 1);
    let conflict = &conflicts.items[0];
    assert_eq!(conflict.rule, "external_id_mismatch");
    assert_eq!(conflict.customer_id, second.customer_id);
    assert_eq!(conflict.other_customer_id, Some(first.customer_id));
    assert_eq!(
        conflict.identity.as_ref().map(|i| i.value.as_str()),
        Some("shared@example.com")
    );

    resolution::review_conflict(store, &owner(&acme), conflict.id, now())
        .await
        .unwrap();
    let after = resolution::list_conflicts(store, &owner(&acme), None, None)
        .await
        .unwrap();
    assert!(after.items.is_empty());
}

async fn an_unverified_claim_never_pulls_an_identified_customer_into_another(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let known = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::Email, "rana@example.com", true)],
        now(),
    )
    .await;

    // A website visitor types someone else's address into a pre-chat form.
    let visitor = message(
        store,
        &acme.channel,
        "chat-1",
        vec![
            address(IdentityKind::Visitor, "v-9", true),
            address(IdentityKind::Email, "rana@example.com", false),
        ],
        now() + seconds(1),
    )
    .await;

    assert_ne!(visitor.customer_id, known.customer_id);
    assert_eq!(
        identities_of(store, &acme, known.customer_id).await,
        BTreeSet::from(["email:rana@example.com".to_string()])
    );
    assert_eq!(
        identities_of(store, &acme, visitor.customer_id).await,
        BTreeSet::from(["visitor:v-9".to_string()])
    );
    let conflicts = store
        .list_open_conflicts(acme.workspace.id, None, 10)
        .await
        .unwrap();
    assert_eq!(conflicts.items[0].rule, "unverified_claim");

    // An unverified address nobody holds attaches to the anonymous visitor.
    let again = message(
        store,
        &acme.channel,
        "chat-2",
        vec![
            address(IdentityKind::Visitor, "v-9", true),
            address(IdentityKind::Email, "visitor@example.com", false),
        ],
        now() + seconds(2),
    )
    .await;
    assert_eq!(again.customer_id, visitor.customer_id);
    assert!(
        identities_of(store, &acme, visitor.customer_id)
            .await
            .contains("email:visitor@example.com")
    );
}

async fn a_merge_over_a_kind_limit_is_not_made_and_the_identity_stays_with_its_holder(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let mut rules = IdentityRules::default();
    rules.limits.insert(IdentityKind::Email, 1);
    resolution::set_identity_rules(store, &owner(&acme), rules)
        .await
        .unwrap();
    let a = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::Email, "a@example.com", true)],
        now(),
    )
    .await;
    let b = message(
        store,
        &acme.channel,
        "m-2",
        vec![address(IdentityKind::Email, "b@example.com", true)],
        now() + seconds(1),
    )
    .await;

    let both = message(
        store,
        &acme.channel,
        "m-3",
        vec![
            address(IdentityKind::Email, "a@example.com", true),
            address(IdentityKind::Email, "b@example.com", true),
        ],
        now() + seconds(2),
    )
    .await;

    assert_eq!(both.customer_id, a.customer_id);
    assert_eq!(
        identities_of(store, &acme, b.customer_id).await,
        BTreeSet::from(["email:b@example.com".to_string()])
    );
    let conflicts = store
        .list_open_conflicts(acme.workspace.id, None, 10)
        .await
        .unwrap();
    assert_eq!(conflicts.items.len(), 1);
    assert_eq!(conflicts.items[0].rule, "limit");
    assert_eq!(conflicts.items[0].other_customer_id, Some(b.customer_id));
}

async fn junk_identities_are_ignored_with_a_reason_and_the_rest_resolve(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;

    let received = message(
        store,
        &acme.channel,
        "m-1",
        vec![
            address(IdentityKind::Email, "test@test.com", true),
            address(IdentityKind::ExternalId, "undefined", true),
            address(IdentityKind::Phone, "+16502530000", true),
        ],
        now(),
    )
    .await;
    let only_junk = receive(
        store,
        &acme.channel,
        InboundMessage {
            channel_id: acme.channel.id,
            provider_message_id: "m-2".to_string(),
            sender: vec![address(IdentityKind::Email, "null", true)],
            sender_name: None,
            text: "hello".to_string(),
            sent_at: None,
            email: None,
            attachments: Vec::new(),
        },
        now(),
    )
    .await;

    let fields: Vec<&str> = received.ignored.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["from.email", "from.external_id"]);
    assert_eq!(
        identities_of(store, &acme, received.customer_id).await,
        BTreeSet::from(["phone:+16502530000".to_string()])
    );
    assert!(
        matches!(&only_junk, Err(Error::Invalid { field, .. }) if field == "from"),
        "got {only_junk:?}"
    );
}

async fn undo_restores_both_customers_even_after_new_messages_arrived(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = owner(&acme);
    let at = now();
    let survivor = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::Email, "omar@example.com", true)],
        at,
    )
    .await;
    let absorbed = message(
        store,
        &acme.channel,
        "m-2",
        vec![
            address(IdentityKind::Phone, "+16502530000", true),
            address(IdentityKind::Visitor, "v-1", true),
        ],
        at + seconds(1),
    )
    .await;
    let survivor_before = identities_of(store, &acme, survivor.customer_id).await;
    let absorbed_before = identities_of(store, &acme, absorbed.customer_id).await;

    let merge = merge_customers(
        store,
        &actor,
        survivor.customer_id,
        absorbed.customer_id,
        at + seconds(2),
    )
    .await
    .unwrap();
    let after_merge = identities_of(store, &acme, survivor.customer_id).await;
    // A message through the absorbed customer's phone arrives while merged.
    let later = message(
        store,
        &acme.channel,
        "m-3",
        vec![address(IdentityKind::Phone, "+16502530000", true)],
        at + seconds(3),
    )
    .await;
    let undone = undo_merge(store, &actor, merge.id, at + seconds(4))
        .await
        .unwrap();

    assert_eq!(after_merge.len(), 3);
    assert_eq!(later.customer_id, survivor.customer_id);
    assert!(undone.undone_at.is_some());
    assert_eq!(
        identities_of(store, &acme, survivor.customer_id).await,
        survivor_before
    );
    assert_eq!(
        identities_of(store, &acme, absorbed.customer_id).await,
        absorbed_before
    );
    let restored = store
        .get_customer_profile(acme.workspace.id, absorbed.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.customer.merged_into_id, None);
    let moved_back = store
        .get_message(acme.workspace.id, later.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved_back.customer_id, absorbed.customer_id);
    assert_eq!(moved_back.conversation_id, absorbed.conversation_id);
    let absorbed_thread = store
        .list_messages(acme.workspace.id, absorbed.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(absorbed_thread.items.len(), 2);
    let survivor_thread = store
        .list_messages(acme.workspace.id, survivor.conversation_id, None, 10)
        .await
        .unwrap();
    assert_eq!(survivor_thread.items.len(), 1);
    let conversation = store
        .get_conversation(acme.workspace.id, absorbed.conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.customer_id, absorbed.customer_id);
}

async fn a_merge_is_undone_once_and_a_merged_away_customer_cannot_merge_again(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = owner(&acme);
    let a = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::Email, "a@example.com", true)],
        now(),
    )
    .await;
    let b = message(
        store,
        &acme.channel,
        "m-2",
        vec![address(IdentityKind::Email, "b@example.com", true)],
        now(),
    )
    .await;
    let c = message(
        store,
        &acme.channel,
        "m-3",
        vec![address(IdentityKind::Email, "c@example.com", true)],
        now(),
    )
    .await;
    let merge = merge_customers(store, &actor, a.customer_id, b.customer_id, now())
        .await
        .unwrap();

    let again = merge_customers(store, &actor, c.customer_id, b.customer_id, now()).await;
    let second_merge = merge_customers(store, &actor, c.customer_id, a.customer_id, now())
        .await
        .unwrap();
    let blocked_undo = undo_merge(store, &actor, merge.id, now()).await;
    undo_merge(store, &actor, second_merge.id, now())
        .await
        .unwrap();
    undo_merge(store, &actor, merge.id, now()).await.unwrap();
    let twice = undo_merge(store, &actor, merge.id, now()).await;

    assert!(matches!(again, Err(Error::Refused { .. })), "got {again:?}");
    assert!(
        matches!(blocked_undo, Err(Error::Refused { .. })),
        "got {blocked_undo:?}"
    );
    assert!(
        matches!(twice, Err(Error::Conflict { .. })),
        "got {twice:?}"
    );
    for (customer, email) in [
        (a.customer_id, "a@example.com"),
        (b.customer_id, "b@example.com"),
        (c.customer_id, "c@example.com"),
    ] {
        assert_eq!(
            identities_of(store, &acme, customer).await,
            BTreeSet::from([format!("email:{email}")])
        );
    }
}

async fn a_manual_merge_of_two_external_ids_is_refused(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let one = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::ExternalId, "u-1", true)],
        now(),
    )
    .await;
    let two = message(
        store,
        &acme.channel,
        "m-2",
        vec![address(IdentityKind::ExternalId, "u-2", true)],
        now(),
    )
    .await;

    let outcome = merge_customers(
        store,
        &owner(&acme),
        one.customer_id,
        two.customer_id,
        now(),
    )
    .await;

    assert!(
        matches!(&outcome, Err(Error::Refused { reason }) if reason.contains("external id")),
        "got {outcome:?}"
    );
    assert_eq!(
        identities_of(store, &acme, two.customer_id).await,
        BTreeSet::from(["external_id:u-2".to_string()])
    );
}

async fn a_merge_fills_the_survivors_gaps_and_its_undo_takes_them_back(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = owner(&acme);
    let survivor = message(
        store,
        &acme.channel,
        "m-1",
        vec![address(IdentityKind::Email, "hana@example.com", true)],
        now(),
    )
    .await;
    let absorbed = message(
        store,
        &acme.channel,
        "m-2",
        vec![address(IdentityKind::Phone, "+16502530000", true)],
        now(),
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    let mut kept = tx
        .get_customer(acme.workspace.id, survivor.customer_id)
        .await
        .unwrap()
        .unwrap();
    kept.attributes
        .insert("plan".into(), serde_json::json!("gold"));
    kept.tags = vec!["vip".into()];
    tx.update_customer(&kept).await.unwrap();
    let mut other = tx
        .get_customer(acme.workspace.id, absorbed.customer_id)
        .await
        .unwrap()
        .unwrap();
    other.name = Some("Hana".into());
    other
        .attributes
        .insert("plan".into(), serde_json::json!("free"));
    other
        .attributes
        .insert("city".into(), serde_json::json!("Shiraz"));
    other.tags = vec!["returns".into()];
    tx.update_customer(&other).await.unwrap();
    tx.upsert_consent(
        acme.workspace.id,
        absorbed.customer_id,
        &Consent {
            channel_kind: ChannelKind::Sms,
            status: ConsentStatus::OptedOut,
            source: Some("import".into()),
            updated_at: Some(now()),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let merge = merge_customers(
        store,
        &actor,
        survivor.customer_id,
        absorbed.customer_id,
        now(),
    )
    .await
    .unwrap();
    let merged = store
        .get_customer_profile(acme.workspace.id, survivor.customer_id)
        .await
        .unwrap()
        .unwrap()
        .customer;
    let sms_while_merged = consent_for(
        store,
        acme.workspace.id,
        survivor.customer_id,
        ChannelKind::Sms,
    )
    .await
    .unwrap();
    undo_merge(store, &actor, merge.id, now()).await.unwrap();

    assert_eq!(merged.name.as_deref(), Some("Hana"));
    assert_eq!(
        merged.attributes["plan"], "gold",
        "the survivor's value wins"
    );
    assert_eq!(
        merged.attributes["city"], "Shiraz",
        "the other's fills the gap"
    );
    assert_eq!(merged.tags, ["vip", "returns"]);
    assert_eq!(sms_while_merged.status, ConsentStatus::OptedOut);
    let after = store
        .get_customer_profile(acme.workspace.id, survivor.customer_id)
        .await
        .unwrap()
        .unwrap()
        .customer;
    assert_eq!(after.name, None);
    assert_eq!(after.attributes, kept.attributes);
    assert_eq!(after.tags, ["vip"]);
    let back = store
        .get_customer_profile(acme.workspace.id, absorbed.customer_id)
        .await
        .unwrap()
        .unwrap()
        .customer;
    assert_eq!(back.attributes, other.attributes);
    assert_eq!(back.tags, ["returns"]);
    let sms_after = consent_for(
        store,
        acme.workspace.id,
        absorbed.customer_id,
        ChannelKind::Sms,
    )
    .await
    .unwrap();
    assert_eq!(sms_after.status, ConsentStatus::OptedOut);
}

async fn erasing_a_merged_customer_leaves_no_address_in_merges_or_the_resolution_log(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let actor = owner(&acme);
    // Two customers merged automatically, a conflict naming one address, and a manual merge.
    message(
        store,
        &acme.channel,
        "m-1",
        vec![address(
            IdentityKind::Email,
            "mina.private@example.com",
            true,
        )],
        now(),
    )
    .await;
    message(
        store,
        &acme.channel,
        "m-2",
        vec![address(IdentityKind::Phone, "+16502530042", true)],
        now(),
    )
    .await;
    let both = message(
        store,
        &acme.channel,
        "m-3",
        vec![
            address(IdentityKind::Email, "mina.private@example.com", true),
            address(IdentityKind::Phone, "+16502530042", true),
            address(IdentityKind::ExternalId, "mina-account-1", true),
        ],
        now(),
    )
    .await;
    message(
        store,
        &acme.channel,
        "m-4",
        vec![
            address(IdentityKind::ExternalId, "someone-else", true),
            address(IdentityKind::Email, "mina.private@example.com", true),
        ],
        now(),
    )
    .await;
    let other = message(
        store,
        &acme.channel,
        "m-5",
        vec![address(IdentityKind::Visitor, "visitor-mina-7", true)],
        now(),
    )
    .await;
    merge_customers(store, &actor, both.customer_id, other.customer_id, now())
        .await
        .unwrap();
    let needles = [
        "mina.private@example.com",
        "+16502530042",
        "mina-account-1",
        "visitor-mina-7",
    ];
    let before = seam_testkit::find_values(&harness.url(), &needles)
        .await
        .unwrap();
    assert!(
        before.iter().any(|found| found.starts_with("merges.")),
        "the scan finds the snapshot before the erasure: {before:?}"
    );

    seam_core::privacy::erase_customer(store, &actor, both.customer_id, now())
        .await
        .unwrap();

    let after = seam_testkit::find_values(&harness.url(), &needles)
        .await
        .unwrap();
    assert!(after.is_empty(), "still stored: {after:?}");
}
