#![allow(clippy::unwrap_used)]
use seam_core::{channel::*, identity::IdentityKind, ids::*, inbound::*, workspace::*};
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe() {
    let t = seam_testkit::sqlite_url();
    let db = seam_store::connect(t.url()).await.unwrap();
    db.migrate().await.unwrap();
    let store = db.store.clone();
    let now = chrono::Utc::now();
    let ws = Workspace::new("A", "US", now);
    let ch = Channel { id: ChannelId::new(), workspace_id: ws.id, kind: ChannelKind::Api, name: "a".into(), config: serde_json::json!({}), secret: "s".into(), created_at: now };
    let mut tx = store.begin().await.unwrap();
    tx.insert_workspace(&ws).await.unwrap();
    tx.insert_channel(&ch).await.unwrap();
    tx.commit().await.unwrap();
    let k = 2000;
    let start = std::time::Instant::now();
    for _ in 0..k { store.get_workspace(ws.id).await.unwrap(); }
    eprintln!("PROBE get_workspace {:?}/op", start.elapsed() / k);
    let start = std::time::Instant::now();
    for _ in 0..k { let tx = store.begin().await.unwrap(); tx.commit().await.unwrap(); }
    eprintln!("PROBE empty tx {:?}/op", start.elapsed() / k);
    let start = std::time::Instant::now();
    let mut tx = store.begin().await.unwrap();
    for _ in 0..k { tx.get_workspace(ws.id).await.unwrap(); }
    tx.commit().await.unwrap();
    eprintln!("PROBE get_workspace in tx {:?}/op", start.elapsed() / k);
    let n = 5000;
    let start = std::time::Instant::now();
    for i in 0..n {
        let m = InboundMessage { channel_id: ch.id, provider_message_id: format!("m{i}"), sender: vec![RawIdentity { kind: IdentityKind::Email, value: format!("c{}@example.com", i % 500), field: "e".into(), verified: false }], sender_name: None, text: "hello".into(), sent_at: None };
        receive(store.as_ref(), &ch, m, chrono::Utc::now()).await.unwrap();
    }
    let el = start.elapsed();
    eprintln!("PROBE {} msgs in {:?}: {:.0}/s", n, el, n as f64 / el.as_secs_f64());
}
