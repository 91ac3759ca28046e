//! The editable profile: locale, time zone, tags and attributes round trips, the attribute
//! schema, consent per channel kind, the folded name key and the duplicate suggestions, each
//! kept inside its workspace.

use seam_core::{
    Error,
    attributes::{ATTRIBUTE_KEY_TAKEN, AttributeDefinition, AttributeType},
    channel::ChannelKind,
    consent::{self, ConsentStatus},
    customer::{self, Customer, CustomerIdentity},
    duplicates::{Dismissal, DuplicatePair, DuplicateReason},
    identity::{Identity, IdentityKind},
    ids::{CustomerId, WorkspaceId},
    ports::Store,
    profile::{self, CustomerUpdate},
    user::Actor,
    workspace::Continuity,
};
use serde_json::json;

use crate::fixtures::{Harness, Tenant, now, tenant};

crate::on_both_backends!(
    profile_fields_and_attributes_round_trip_and_stay_in_their_workspace,
    a_duplicate_attribute_key_is_a_conflict_only_within_one_workspace,
    consent_is_recorded_per_channel_kind_replaced_and_unknown_elsewhere,
    duplicates_are_found_by_folded_name_shared_domain_and_phone_digits,
    the_name_key_follows_every_rename_and_dismissed_pairs_are_not_suggested,
);

fn owner(tenant: &Tenant) -> Actor {
    tenant.owner.actor()
}

/// A customer with a name and identities, stored directly.
async fn customer_with(
    store: &dyn Store,
    workspace_id: WorkspaceId,
    name: &str,
    identities: &[(IdentityKind, &str)],
) -> CustomerId {
    let customer = Customer::new(workspace_id, Some(name.to_string()), now());
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&customer).await.unwrap();
    for (kind, value) in identities {
        tx.insert_identity(&CustomerIdentity {
            workspace_id,
            customer_id: customer.id,
            identity: Identity::from_stored(*kind, value.to_string()),
            verified: false,
            source: "import".to_string(),
            created_at: now(),
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    customer.id
}

async fn define(store: &dyn Store, workspace_id: WorkspaceId, key: &str, kind: AttributeType) {
    store
        .insert_attribute_definition(&AttributeDefinition {
            workspace_id,
            key: key.to_string(),
            kind,
            label: key.to_string(),
            created_at: now(),
        })
        .await
        .unwrap();
}

/// Every suggested pair, walking the pages one pair at a time.
async fn all_pairs(store: &dyn Store, workspace_id: WorkspaceId) -> Vec<DuplicatePair> {
    let mut pairs = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_duplicates(workspace_id, cursor.as_ref(), 1)
            .await
            .unwrap();
        pairs.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pairs,
        }
    }
}

fn pair(first: CustomerId, second: CustomerId, reason: DuplicateReason) -> DuplicatePair {
    DuplicatePair {
        customer_a: first.min(second),
        customer_b: first.max(second),
        reason,
    }
}

async fn profile_fields_and_attributes_round_trip_and_stay_in_their_workspace(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;
    define(store, acme.workspace.id, "plan", AttributeType::String).await;
    define(store, acme.workspace.id, "seats", AttributeType::Number).await;
    define(store, acme.workspace.id, "interests", AttributeType::List).await;
    let id = customer_with(store, acme.workspace.id, "Layla", &[]).await;

    let first = CustomerUpdate {
        name: Some(Some("  Layla Ahmadi ".into())),
        locale: Some(Some("fa_ir".into())),
        time_zone: Some(Some("Asia/Tehran".into())),
        tags: Some(vec!["VIP".into(), " vip ".into(), "Late Payer".into()]),
        attributes: json!({"plan": "gold", "seats": 3, "interests": ["tea", "شعر"]})
            .as_object()
            .cloned(),
    };
    profile::update_customer(store, &owner(&acme), id, first, now())
        .await
        .unwrap();
    let second = CustomerUpdate {
        attributes: json!({"plan": null, "seats": 4}).as_object().cloned(),
        ..CustomerUpdate::default()
    };
    let updated = profile::update_customer(store, &owner(&acme), id, second, now())
        .await
        .unwrap();

    let stored = store
        .get_customer_profile(acme.workspace.id, id)
        .await
        .unwrap()
        .unwrap()
        .customer;
    assert_eq!(stored, updated.customer);
    assert_eq!(stored.name.as_deref(), Some("Layla Ahmadi"));
    assert_eq!(stored.locale.as_ref().map(|l| l.as_str()), Some("fa-IR"));
    assert_eq!(
        stored.time_zone.as_ref().map(|z| z.as_str()),
        Some("Asia/Tehran")
    );
    assert_eq!(stored.tags, vec!["vip".to_string(), "late payer".into()]);
    assert_eq!(
        serde_json::Value::Object(stored.attributes.clone()),
        json!({"seats": 4, "interests": ["tea", "شعر"]})
    );
    assert_eq!(updated.consents.len(), 9, "every channel kind is listed");

    assert_eq!(
        store
            .get_customer_profile(other.workspace.id, id)
            .await
            .unwrap(),
        None
    );
    let from_other = profile::update_customer(
        store,
        &owner(&other),
        id,
        CustomerUpdate {
            tags: Some(vec!["stolen".into()]),
            ..CustomerUpdate::default()
        },
        now(),
    )
    .await;
    assert!(matches!(from_other, Err(Error::NotFound)));
    let unknown_key = profile::update_customer(
        store,
        &owner(&acme),
        id,
        CustomerUpdate {
            attributes: json!({"colour": "red"}).as_object().cloned(),
            ..CustomerUpdate::default()
        },
        now(),
    )
    .await;
    assert!(
        matches!(unknown_key, Err(Error::Invalid { field, .. }) if field == "attributes.colour")
    );
    let after = store
        .get_customer_profile(acme.workspace.id, id)
        .await
        .unwrap()
        .unwrap()
        .customer;
    assert_eq!(after, stored, "refused edits store nothing");
}

async fn a_duplicate_attribute_key_is_a_conflict_only_within_one_workspace(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;
    define(store, acme.workspace.id, "plan", AttributeType::String).await;
    define(store, acme.workspace.id, "renews_on", AttributeType::Date).await;

    let again = store
        .insert_attribute_definition(&AttributeDefinition {
            workspace_id: acme.workspace.id,
            key: "plan".into(),
            kind: AttributeType::Number,
            label: "Plan".into(),
            created_at: now(),
        })
        .await;
    assert!(matches!(again, Err(Error::Conflict { what }) if what == ATTRIBUTE_KEY_TAKEN));
    define(store, other.workspace.id, "plan", AttributeType::Boolean).await;

    let listed = store
        .list_attribute_definitions(acme.workspace.id)
        .await
        .unwrap();
    let keys: Vec<_> = listed.iter().map(|d| (d.key.as_str(), d.kind)).collect();
    assert_eq!(
        keys,
        vec![
            ("plan", AttributeType::String),
            ("renews_on", AttributeType::Date)
        ]
    );
    assert_eq!(
        store
            .list_attribute_definitions(other.workspace.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn consent_is_recorded_per_channel_kind_replaced_and_unknown_elsewhere(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;
    let id = customer_with(store, acme.workspace.id, "Omar", &[]).await;
    let actor = owner(&acme);

    consent::set_consent(store, &actor, id, "sms", "opted_in", Some("import"), now())
        .await
        .unwrap();
    consent::set_consent(store, &actor, id, "whatsapp", "opted_in", None, now())
        .await
        .unwrap();
    let later = now();
    let profile =
        consent::set_consent(store, &actor, id, "sms", "opted_out", Some("widget"), later)
            .await
            .unwrap();

    let sms = consent::consent_for(store, acme.workspace.id, id, ChannelKind::Sms)
        .await
        .unwrap();
    assert_eq!(sms.status, ConsentStatus::OptedOut);
    assert_eq!(sms.source.as_deref(), Some("widget"));
    assert_eq!(sms.updated_at, Some(later));
    let whatsapp = consent::consent_for(store, acme.workspace.id, id, ChannelKind::Whatsapp)
        .await
        .unwrap();
    assert_eq!(whatsapp.source, Some(format!("agent:{}", acme.owner.id)));
    let email = consent::consent_for(store, acme.workspace.id, id, ChannelKind::Email)
        .await
        .unwrap();
    assert_eq!(email.status, ConsentStatus::Unknown);
    assert_eq!(email.updated_at, None);
    let recorded: Vec<_> = profile
        .consents
        .iter()
        .filter(|consent| consent.status != ConsentStatus::Unknown)
        .map(|consent| (consent.channel_kind, consent.status))
        .collect();
    assert_eq!(
        recorded,
        vec![
            (ChannelKind::Sms, ConsentStatus::OptedOut),
            (ChannelKind::Whatsapp, ConsentStatus::OptedIn)
        ]
    );

    let elsewhere = consent::consent_for(store, other.workspace.id, id, ChannelKind::Sms)
        .await
        .unwrap();
    assert_eq!(elsewhere.status, ConsentStatus::Unknown);
    let from_other =
        consent::set_consent(store, &owner(&other), id, "sms", "opted_in", None, now()).await;
    assert!(matches!(from_other, Err(Error::NotFound)));
    let api = consent::set_consent(store, &actor, id, "api", "opted_in", None, now()).await;
    assert!(matches!(api, Err(Error::Invalid { field, .. }) if field == "channel_kind"));
}

async fn duplicates_are_found_by_folded_name_shared_domain_and_phone_digits(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;
    let ws = acme.workspace.id;
    use IdentityKind::{Email, Phone, Whatsapp};

    // Arabic and Persian spellings of one name, at one company.
    let fatima_ar = customer_with(store, ws, "فاطمة علي", &[(Email, "fatima@acme.example")]).await;
    let fatima_fa = customer_with(store, ws, "فاطمه علی", &[(Email, "f.ali@acme.example")]).await;
    // One name, phones ending in the same 7 digits.
    let karim_1 = customer_with(store, ws, "كريم", &[(Phone, "+989121234567")]).await;
    let karim_2 = customer_with(store, ws, "کریم", &[(Phone, "+989351234567")]).await;
    // One number stored with two regions: the last 9 digits agree.
    let wrong_region = customer_with(store, ws, "Sara", &[(Phone, "+14155550123")]).await;
    let right_region = customer_with(store, ws, "Sarah K", &[(Whatsapp, "+4414155550123")]).await;
    // One name and nothing else: free-mail domains say nothing.
    let mohammad_1 = customer_with(store, ws, "محمّد", &[(Email, "m1@gmail.com")]).await;
    let mohammad_2 = customer_with(store, ws, "محمد", &[(Email, "m2@gmail.com")]).await;
    // Unrelated.
    customer_with(store, ws, "Omar", &[(Email, "omar@acme.example")]).await;
    customer_with(store, ws, "Nobody", &[(Phone, "+12125550199")]).await;
    // The same name in another workspace pairs with nobody here.
    let elsewhere = customer_with(store, other.workspace.id, "فاطمة علي", &[]).await;

    let pairs = all_pairs(store, ws).await;

    assert_eq!(
        pairs,
        vec![
            pair(
                fatima_ar,
                fatima_fa,
                DuplicateReason::SameNameAndEmailDomain
            ),
            pair(karim_1, karim_2, DuplicateReason::SameNameAndPhoneSuffix),
            pair(wrong_region, right_region, DuplicateReason::SamePhoneDigits),
            pair(mohammad_1, mohammad_2, DuplicateReason::SameName),
        ]
    );
    assert!(all_pairs(store, other.workspace.id).await.is_empty());
    assert!(
        !pairs
            .iter()
            .any(|p| p.customer_a == elsewhere || p.customer_b == elsewhere)
    );
}

async fn the_name_key_follows_every_rename_and_dismissed_pairs_are_not_suggested(
    harness: &mut Harness,
) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let ws = acme.workspace.id;
    let ali = customer_with(store, ws, "علي", &[]).await;
    let omar = customer_with(store, ws, "Omar", &[]).await;
    let reza = customer_with(store, ws, "Reza", &[]).await;
    assert!(all_pairs(store, ws).await.is_empty());

    let rename = |name: &str| CustomerUpdate {
        name: Some(Some(name.to_string())),
        ..CustomerUpdate::default()
    };
    profile::update_customer(store, &owner(&acme), omar, rename("علی"), now())
        .await
        .unwrap();
    assert_eq!(
        all_pairs(store, ws).await,
        vec![pair(ali, omar, DuplicateReason::SameName)]
    );
    profile::update_customer(store, &owner(&acme), reza, rename(" عـلـى "), now())
        .await
        .unwrap();
    assert_eq!(
        all_pairs(store, ws).await.len(),
        3,
        "three spellings, three pairs"
    );

    store
        .insert_duplicate_dismissal(&Dismissal {
            workspace_id: ws,
            customer_a: ali.min(omar),
            customer_b: ali.max(omar),
            dismissed_by: acme.owner.id,
            created_at: now(),
        })
        .await
        .unwrap();
    seam_core::duplicates::dismiss_duplicate(store, &owner(&acme), &[omar, ali], now())
        .await
        .unwrap();
    let left = all_pairs(store, ws).await;
    assert_eq!(left.len(), 2);
    assert!(!left.contains(&pair(ali, omar, DuplicateReason::SameName)));

    profile::update_customer(store, &owner(&acme), reza, rename("Reza"), now())
        .await
        .unwrap();
    assert!(
        all_pairs(store, ws).await.is_empty(),
        "the old name key is gone"
    );
    let read = customer::get_customer(store, &owner(&acme), reza)
        .await
        .unwrap();
    assert_eq!(read.customer.name.as_deref(), Some("Reza"));
}
