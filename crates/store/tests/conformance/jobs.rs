//! The job queue: claiming with a lease, reclaiming after the lease, retries, burial, the
//! dedupe key, and durability across a reconnect.

use seam_core::{
    ids::WorkspaceId,
    jobs::{JobStatus, NewJob},
    ports::Store,
    workspace::Continuity,
};

use crate::fixtures::{Harness, now, seconds, tenant};

crate::on_both_backends!(
    a_due_job_is_claimed_once_with_a_lease_and_a_future_one_waits,
    a_job_whose_lease_expired_is_claimed_again,
    a_retried_job_waits_for_its_time_and_a_buried_one_never_returns,
    a_second_job_with_the_same_dedupe_key_is_not_created,
    queued_jobs_survive_closing_and_reopening_the_database,
    concurrent_claims_never_hand_out_the_same_job_twice,
);

async fn enqueue(store: &dyn Store, job: NewJob) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_job(&job).await.unwrap();
    tx.commit().await.unwrap();
}

fn job(workspace: WorkspaceId, run_in_seconds: i64) -> NewJob {
    let mut job = NewJob::new(
        workspace,
        "deliver_message",
        serde_json::json!({ "n": run_in_seconds }),
        now(),
    );
    job.run_at = now() + seconds(run_in_seconds);
    job
}

async fn a_due_job_is_claimed_once_with_a_lease_and_a_future_one_waits(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let due = job(acme.workspace.id, 0);
    let later = job(acme.workspace.id, 3600);
    enqueue(store, due.clone()).await;
    enqueue(store, later.clone()).await;
    let at = now() + seconds(1);

    let claimed = store.claim_jobs(at, at + seconds(30), 10).await.unwrap();
    let again = store.claim_jobs(at, at + seconds(30), 10).await.unwrap();

    assert_eq!(claimed.len(), 1);
    let claimed = &claimed[0];
    assert_eq!(claimed.id, due.id);
    assert_eq!((claimed.status, claimed.attempts), (JobStatus::Running, 1));
    assert_eq!(claimed.lease_until, Some(at + seconds(30)));
    assert_eq!(claimed.payload, due.payload);
    assert_eq!(claimed.kind, "deliver_message");
    assert!(again.is_empty());
    assert_eq!(store.count_pending_jobs().await.unwrap(), 2);
    store.complete_job(due.id).await.unwrap();
    assert_eq!(store.count_pending_jobs().await.unwrap(), 1);
    assert_eq!(
        store.get_job(due.id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
}

async fn a_job_whose_lease_expired_is_claimed_again(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let due = job(acme.workspace.id, 0);
    enqueue(store, due.clone()).await;
    let at = now() + seconds(1);
    store.claim_jobs(at, at + seconds(30), 10).await.unwrap();

    let before_expiry = store
        .claim_jobs(at + seconds(29), at + seconds(60), 10)
        .await
        .unwrap();
    let after_expiry = store
        .claim_jobs(at + seconds(31), at + seconds(61), 10)
        .await
        .unwrap();

    assert!(before_expiry.is_empty());
    assert_eq!(after_expiry.len(), 1);
    assert_eq!(after_expiry[0].id, due.id);
    assert_eq!(after_expiry[0].attempts, 2);
    assert_eq!(after_expiry[0].lease_until, Some(at + seconds(61)));
}

async fn a_retried_job_waits_for_its_time_and_a_buried_one_never_returns(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let retried = job(acme.workspace.id, 0);
    let buried = job(acme.workspace.id, 0);
    enqueue(store, retried.clone()).await;
    enqueue(store, buried.clone()).await;
    let at = now() + seconds(1);
    assert_eq!(
        store
            .claim_jobs(at, at + seconds(30), 10)
            .await
            .unwrap()
            .len(),
        2
    );

    store
        .retry_job(retried.id, at + seconds(60), "provider answered 503")
        .await
        .unwrap();
    store
        .bury_job(buried.id, "provider answered 400")
        .await
        .unwrap();

    let stored = store.get_job(retried.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Queued);
    assert_eq!(stored.run_at, at + seconds(60));
    assert_eq!(stored.lease_until, None);
    assert_eq!(stored.last_error.as_deref(), Some("provider answered 503"));
    let dead = store.get_job(buried.id).await.unwrap().unwrap();
    assert_eq!(
        (dead.status, dead.last_error.as_deref()),
        (JobStatus::Dead, Some("provider answered 400"))
    );
    assert!(
        store
            .claim_jobs(at + seconds(59), at + seconds(90), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let reclaimed = store
        .claim_jobs(at + seconds(3600), at + seconds(3630), 10)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 1);
    assert_eq!((reclaimed[0].id, reclaimed[0].attempts), (retried.id, 2));
    assert_eq!(store.count_pending_jobs().await.unwrap(), 1);
}

async fn a_second_job_with_the_same_dedupe_key_is_not_created(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let first = job(acme.workspace.id, 0).dedupe("message:1");
    let second = job(acme.workspace.id, 0).dedupe("message:1");

    enqueue(store, first.clone()).await;
    enqueue(store, second.clone()).await;

    assert_eq!(store.count_pending_jobs().await.unwrap(), 1);
    assert!(store.get_job(first.id).await.unwrap().is_some());
    assert!(store.get_job(second.id).await.unwrap().is_none());
}

async fn queued_jobs_survive_closing_and_reopening_the_database(harness: &mut Harness) {
    let acme = tenant(harness.store(), "Acme", Continuity::Customer).await;
    let queued = job(acme.workspace.id, 0);
    enqueue(harness.store(), queued.clone()).await;

    harness.reconnect().await;

    let at = now() + seconds(1);
    let claimed = harness
        .store()
        .claim_jobs(at, at + seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, queued.id);
}

async fn concurrent_claims_never_hand_out_the_same_job_twice(harness: &mut Harness) {
    let store = harness.store();
    let acme = tenant(store, "Acme", Continuity::Customer).await;
    let mut tx = store.begin().await.unwrap();
    for _ in 0..20 {
        tx.insert_job(&job(acme.workspace.id, 0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let at = now() + seconds(1);
    let claim = || store.claim_jobs(at, at + seconds(30), 6);

    let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());

    let mut ids: Vec<_> = [a, b, c, d]
        .into_iter()
        .flat_map(|jobs| jobs.unwrap())
        .map(|job| job.id)
        .collect();
    let claimed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "a job was claimed twice");
    assert_eq!(claimed, 20);
}
