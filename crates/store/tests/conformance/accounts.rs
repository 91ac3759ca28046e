//! Workspaces, users, sessions, API tokens and channels read back as written; the email rule.

use seam_core::{
    Error,
    auth::{ApiToken, Session},
    ids::{ApiTokenId, TeamId},
    workspace::Continuity,
};

use crate::fixtures::{Harness, api_channel, now, seconds, tenant, user};

crate::on_both_backends!(
    a_workspace_its_users_and_channels_read_back_as_written,
    a_second_user_with_the_same_email_is_a_conflict_on_email,
    sessions_and_api_tokens_are_found_by_their_hash_until_deleted,
    login_failures_are_recorded_and_a_success_clears_them,
    teams_exist_only_in_their_own_workspace,
);

async fn a_workspace_its_users_and_channels_read_back_as_written(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Channel).await;
    let second_channel = api_channel(acme.workspace.id, "Second");
    store.insert_channel(&second_channel).await.unwrap();

    assert_eq!(
        store.get_workspace(acme.workspace.id).await.unwrap(),
        Some(acme.workspace.clone())
    );
    assert_eq!(
        store.list_workspaces().await.unwrap(),
        vec![acme.workspace.clone()]
    );
    assert_eq!(
        store
            .get_user(acme.workspace.id, acme.owner.id)
            .await
            .unwrap(),
        Some(acme.owner.clone())
    );
    assert_eq!(
        store.find_user_by_email(&acme.owner.email).await.unwrap(),
        Some(acme.owner.clone())
    );
    assert_eq!(
        store.list_users(acme.workspace.id).await.unwrap(),
        vec![acme.owner.clone()]
    );
    assert_eq!(
        store.list_channels(acme.workspace.id).await.unwrap(),
        vec![acme.channel.clone(), second_channel.clone()]
    );
    assert_eq!(
        store.find_channel(acme.channel.id).await.unwrap(),
        Some(acme.channel.clone())
    );
    assert_eq!(
        store
            .get_channel(acme.workspace.id, second_channel.id)
            .await
            .unwrap(),
        Some(second_channel.clone())
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.get_workspace(acme.workspace.id).await.unwrap(),
        Some(acme.workspace.clone())
    );
    assert_eq!(
        tx.get_user(acme.workspace.id, acme.owner.id).await.unwrap(),
        Some(acme.owner.clone())
    );
    assert_eq!(
        tx.get_channel(acme.workspace.id, acme.channel.id)
            .await
            .unwrap(),
        Some(acme.channel)
    );
    tx.rollback().await.unwrap();
    store.ping().await.unwrap();
}

async fn a_second_user_with_the_same_email_is_a_conflict_on_email(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;

    let mut tx = store.begin().await.unwrap();
    let outcome = tx
        .insert_user(&user(other.workspace.id, &acme.owner.email))
        .await;
    drop(tx);

    match outcome {
        Err(Error::Conflict { what }) => assert_eq!(what, "email"),
        other => panic!("expected a conflict on email, got {other:?}"),
    }
    assert_eq!(store.list_users(other.workspace.id).await.unwrap().len(), 1);
}

async fn sessions_and_api_tokens_are_found_by_their_hash_until_deleted(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let session = Session {
        id_hash: "session-hash".into(),
        user_id: acme.owner.id,
        workspace_id: acme.workspace.id,
        csrf_token: "csrf".into(),
        created_at: now(),
        expires_at: now() + seconds(3600),
    };
    let token = ApiToken {
        id: ApiTokenId::new(),
        workspace_id: acme.workspace.id,
        user_id: acme.owner.id,
        name: "ci".into(),
        token_hash: "token-hash".into(),
        created_at: now(),
    };

    store.insert_session(&session).await.unwrap();
    store.insert_api_token(&token).await.unwrap();

    assert_eq!(
        store.find_session("session-hash").await.unwrap(),
        Some(session)
    );
    assert_eq!(
        store.find_api_token("token-hash").await.unwrap(),
        Some(token)
    );
    assert_eq!(store.find_api_token("other").await.unwrap(), None);
    store.delete_session("session-hash").await.unwrap();
    assert_eq!(store.find_session("session-hash").await.unwrap(), None);
}

async fn login_failures_are_recorded_and_a_success_clears_them(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let until = now() + seconds(900);

    store
        .record_login_failure(acme.owner.id, 5, Some(until))
        .await
        .unwrap();
    let locked = store
        .get_user(acme.workspace.id, acme.owner.id)
        .await
        .unwrap()
        .unwrap();
    store.record_login_success(acme.owner.id).await.unwrap();
    let cleared = store
        .get_user(acme.workspace.id, acme.owner.id)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        (locked.failed_logins, locked.locked_until),
        (5, Some(until))
    );
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
}

async fn teams_exist_only_in_their_own_workspace(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let other = tenant(store, "Other", Continuity::Customer).await;
    let team = TeamId::new();

    let mut tx = store.begin().await.unwrap();
    tx.insert_team(acme.workspace.id, team, "Billing")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.team_exists(acme.workspace.id, team).await.unwrap());
    assert!(!tx.team_exists(other.workspace.id, team).await.unwrap());
    assert!(
        !tx.team_exists(acme.workspace.id, TeamId::new())
            .await
            .unwrap()
    );
}
