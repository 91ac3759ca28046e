//! Arrange helpers for the conformance suite: a migrated database per test, tenants with a
//! user and an API channel, inbound messages. No assertions live here.

use chrono::{DurationRound, TimeDelta};
use seam_core::{
    Timestamp,
    channel::{Channel, ChannelKind},
    identity::IdentityKind,
    ids::{ChannelId, UserId, WorkspaceId},
    inbound::{InboundMessage, RawIdentity, Received},
    ports::Store,
    user::{Role, User},
    workspace::{Continuity, Workspace},
};
use seam_store::Database;
use seam_testkit::TestDatabase;

pub struct Harness {
    pub database: Database,
    test_database: Option<TestDatabase>,
}

impl Harness {
    pub async fn sqlite() -> Harness {
        Harness::open(seam_testkit::sqlite_url()).await
    }

    pub async fn postgres() -> Option<Harness> {
        Some(Harness::open(seam_testkit::postgres_url().await?).await)
    }

    async fn open(test_database: TestDatabase) -> Harness {
        let database = seam_store::connect(test_database.url()).await.unwrap();
        database.migrate().await.unwrap();
        Harness {
            database,
            test_database: Some(test_database),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.database.store.as_ref()
    }

    /// The database's URL, for scanning it directly.
    pub fn url(&self) -> String {
        self.test_database.as_ref().unwrap().url().to_string()
    }

    /// Closes every connection and opens the same database again.
    pub async fn reconnect(&mut self) {
        self.database.close().await;
        let url = self.test_database.as_ref().unwrap().url().to_string();
        self.database = seam_store::connect(&url).await.unwrap();
        self.database.migrate().await.unwrap();
    }

    pub async fn close(mut self) {
        self.database.close().await;
        if let Some(test_database) = self.test_database.take() {
            test_database.cleanup().await;
        }
    }
}

/// Now, at the microsecond precision both databases keep.
pub fn now() -> Timestamp {
    chrono::Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap()
}

pub fn seconds(count: i64) -> TimeDelta {
    TimeDelta::seconds(count)
}

/// A workspace with an owner and an API channel, as stored.
pub struct Tenant {
    pub workspace: Workspace,
    pub owner: User,
    pub channel: Channel,
}

pub async fn tenant(store: &dyn Store, name: &str, continuity: Continuity) -> Tenant {
    let created_at = now();
    let mut workspace = Workspace::new(name, "US", created_at);
    workspace.continuity = continuity;
    let owner = user(
        workspace.id,
        &format!("owner@{}.example", name.to_lowercase()),
    );
    let channel = api_channel(workspace.id, "API");
    let mut tx = store.begin().await.unwrap();
    tx.insert_workspace(&workspace).await.unwrap();
    tx.insert_user(&owner).await.unwrap();
    tx.insert_channel(&channel).await.unwrap();
    tx.commit().await.unwrap();
    Tenant {
        workspace,
        owner,
        channel,
    }
}

/// A user with a placeholder hash: hashing a real password is slow and beside the point here.
pub fn user(workspace_id: WorkspaceId, email: &str) -> User {
    User {
        id: UserId::new(),
        workspace_id,
        email: email.to_string(),
        name: "Rana Haddad".to_string(),
        role: Role::Owner,
        language: None,
        availability: seam_core::user::Availability::Online,
        password_hash: "$argon2id$placeholder".to_string(),
        failed_logins: 0,
        locked_until: None,
        created_at: now(),
    }
}

pub fn api_channel(workspace_id: WorkspaceId, name: &str) -> Channel {
    Channel {
        id: ChannelId::new(),
        workspace_id,
        kind: ChannelKind::Api,
        name: name.to_string(),
        config: serde_json::json!({ "webhook_url": "https://hooks.example/seam" }),
        secret: format!("secret-{}", uuid::Uuid::now_v7()),
        credentials: String::new(),
        created_at: now(),
    }
}

/// An inbound message from the given sender addresses.
pub fn inbound(
    channel: &Channel,
    provider_id: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> InboundMessage {
    let mut sender = Vec::new();
    if let Some(email) = email {
        sender.push(raw(IdentityKind::Email, email, "from.email"));
    }
    if let Some(phone) = phone {
        sender.push(raw(IdentityKind::Phone, phone, "from.phone"));
    }
    InboundMessage {
        channel_id: channel.id,
        provider_message_id: provider_id.to_string(),
        sender,
        sender_name: Some("Layla Ahmadi".to_string()),
        text: format!("message {provider_id}"),
        sent_at: None,
        email: None,
        attachments: Vec::new(),
    }
}

fn raw(kind: IdentityKind, value: &str, field: &str) -> RawIdentity {
    RawIdentity {
        kind,
        value: value.to_string(),
        field: field.to_string(),
        verified: true,
    }
}

/// Receives one message from `email` through `channel` at `at`.
pub async fn receive(
    store: &dyn Store,
    channel: &Channel,
    provider_id: &str,
    email: &str,
    at: Timestamp,
) -> Received {
    seam_core::inbound::receive(
        store,
        channel,
        inbound(channel, provider_id, Some(email), None),
        at,
    )
    .await
    .unwrap()
}
