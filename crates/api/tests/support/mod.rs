//! Test-only fakes of core's ports: an in-memory store holding just users, sessions, tokens,
//! channels and attribute definitions (everything else answers `Unavailable`), and a bus. Not a
//! storage engine.

// Test support may panic freely: a broken fixture should fail the test that uses it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use axum::{Router, body::Body, http::Request, response::Response};
use seam_api::{ApiConfig, ApiState};
use seam_core::{
    Error, Result, Timestamp,
    attributes::{ATTRIBUTE_KEY_TAKEN, AttributeDefinition},
    auth::{ApiToken, Session},
    channel::{Channel, ChannelKind},
    commerce::CustomerOrders,
    consent::Consent,
    conversation::{Conversation, ConversationFilter, Page},
    cursor::Cursor,
    customer::CustomerProfile,
    duplicates::{Dismissal, DuplicateCursor, DuplicatePage},
    ids::*,
    jobs::Job,
    merge::Merge,
    message::Message,
    outbox::OutboxEvent,
    ports::{Bus, Store, Subscription, Tx},
    privacy::{AuditEntry, CustomerExport},
    realtime::RealtimeEvent,
    resolution::ResolutionEntry,
    stats::CustomerStats,
    timeline::{TimelineFilter, TimelineItem},
    user::{Role, User},
    workspace::{IdentityRules, Workspace},
};
use tower::ServiceExt;

#[derive(Default)]
pub struct FakeStore {
    pub users: Mutex<Vec<User>>,
    pub sessions: Mutex<Vec<Session>>,
    pub tokens: Mutex<Vec<ApiToken>>,
    pub channels: Mutex<Vec<Channel>>,
    pub attributes: Mutex<Vec<AttributeDefinition>>,
    /// `None`: ping succeeds. `Some(d)`: ping takes `d`, then fails.
    pub ping_delay: Option<Duration>,
}

fn absent<T>() -> Result<T> {
    Err(Error::Unavailable("not held by the fake store".into()))
}

fn find<T: Clone>(rows: &Mutex<Vec<T>>, matches: impl Fn(&T) -> bool) -> Result<Option<T>> {
    Ok(rows
        .lock()
        .map_err(Error::internal)?
        .iter()
        .find(|row| matches(row))
        .cloned())
}

fn push<T: Clone>(rows: &Mutex<Vec<T>>, row: &T) -> Result<()> {
    rows.lock().map_err(Error::internal)?.push(row.clone());
    Ok(())
}

#[async_trait]
impl Store for FakeStore {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        absent()
    }
    async fn ping(&self) -> Result<()> {
        match self.ping_delay {
            None => Ok(()),
            Some(delay) => {
                tokio::time::sleep(delay).await;
                Err(Error::Unavailable("database down".into()))
            }
        }
    }
    async fn get_workspace(&self, _: WorkspaceId) -> Result<Option<Workspace>> {
        absent()
    }
    async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        absent()
    }
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        find(&self.users, |user| user.email == email)
    }
    async fn get_user(&self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>> {
        find(&self.users, |user| {
            user.id == id && user.workspace_id == workspace_id
        })
    }
    async fn list_users(&self, _: WorkspaceId) -> Result<Vec<User>> {
        absent()
    }
    async fn record_login_failure(
        &self,
        id: UserId,
        failed: i32,
        until: Option<Timestamp>,
    ) -> Result<()> {
        for user in self
            .users
            .lock()
            .map_err(Error::internal)?
            .iter_mut()
            .filter(|u| u.id == id)
        {
            user.failed_logins = failed;
            user.locked_until = until;
        }
        Ok(())
    }
    async fn record_login_success(&self, id: UserId) -> Result<()> {
        self.record_login_failure(id, 0, None).await
    }
    async fn insert_session(&self, session: &Session) -> Result<()> {
        push(&self.sessions, session)
    }
    async fn find_session(&self, id_hash: &str) -> Result<Option<Session>> {
        find(&self.sessions, |session| session.id_hash == id_hash)
    }
    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.sessions
            .lock()
            .map_err(Error::internal)?
            .retain(|session| session.id_hash != id_hash);
        Ok(())
    }
    async fn insert_api_token(&self, token: &ApiToken) -> Result<()> {
        push(&self.tokens, token)
    }
    async fn find_api_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        find(&self.tokens, |token| token.token_hash == hash)
    }
    async fn insert_channel(&self, channel: &Channel) -> Result<()> {
        push(&self.channels, channel)
    }
    async fn list_channels(&self, workspace_id: WorkspaceId) -> Result<Vec<Channel>> {
        let channels = self.channels.lock().map_err(Error::internal)?;
        Ok(channels
            .iter()
            .filter(|channel| channel.workspace_id == workspace_id)
            .cloned()
            .collect())
    }
    async fn get_channel(&self, _: WorkspaceId, _: ChannelId) -> Result<Option<Channel>> {
        absent()
    }
    async fn find_channel(&self, id: ChannelId) -> Result<Option<Channel>> {
        find(&self.channels, |channel| channel.id == id)
    }
    async fn list_conversations(
        &self,
        _: WorkspaceId,
        _: &ConversationFilter,
        _: Option<&Cursor>,
        _: u32,
    ) -> Result<Page<Conversation>> {
        Ok(Page {
            items: Vec::new(),
            next_cursor: None,
        })
    }
    async fn get_conversation(
        &self,
        _: WorkspaceId,
        _: ConversationId,
    ) -> Result<Option<Conversation>> {
        Ok(None)
    }
    async fn conversation_summaries(
        &self,
        _: WorkspaceId,
        _: UserId,
        _: &[ConversationId],
    ) -> Result<Vec<seam_core::conversation::ConversationSummary>> {
        Ok(Vec::new())
    }
    async fn list_messages(
        &self,
        _: WorkspaceId,
        _: ConversationId,
        _: Option<&Cursor>,
        _: u32,
    ) -> Result<Page<Message>> {
        absent()
    }
    async fn get_message(&self, _: WorkspaceId, _: MessageId) -> Result<Option<Message>> {
        absent()
    }
    async fn get_customer_profile(
        &self,
        _: WorkspaceId,
        _: CustomerId,
    ) -> Result<Option<CustomerProfile>> {
        Ok(None)
    }
    async fn search_customers(
        &self,
        _: WorkspaceId,
        _: Option<&str>,
        _: Option<&Cursor>,
        _: u32,
    ) -> Result<Page<CustomerProfile>> {
        absent()
    }
    async fn claim_jobs(&self, _: Timestamp, _: Timestamp, _: u32) -> Result<Vec<Job>> {
        absent()
    }
    async fn complete_job(&self, _: JobId) -> Result<()> {
        absent()
    }
    async fn retry_job(&self, _: JobId, _: Timestamp, _: &str) -> Result<()> {
        absent()
    }
    async fn bury_job(&self, _: JobId, _: &str) -> Result<()> {
        absent()
    }
    async fn count_pending_jobs(&self) -> Result<i64> {
        absent()
    }
    async fn get_job(&self, _: JobId) -> Result<Option<Job>> {
        absent()
    }
    async fn fetch_outbox(&self, _: u32) -> Result<Vec<OutboxEvent>> {
        absent()
    }
    async fn delete_outbox(&self, _: &[OutboxId]) -> Result<()> {
        absent()
    }

    // Import and privacy.
    /// The fake holds no customers: every export is of an unknown customer.
    async fn export_customer(
        &self,
        _: WorkspaceId,
        _: CustomerId,
    ) -> Result<Option<CustomerExport>> {
        Ok(None)
    }
    async fn list_audit_entries(&self, _: WorkspaceId) -> Result<Vec<AuditEntry>> {
        absent()
    }
    async fn customer_timeline(
        &self,
        _: WorkspaceId,
        _: CustomerId,
        _: &TimelineFilter,
        _: Option<&Cursor>,
        _: u32,
    ) -> Result<Page<TimelineItem>> {
        absent()
    }
    async fn customer_orders(&self, _: WorkspaceId, _: CustomerId) -> Result<CustomerOrders> {
        absent()
    }
    async fn get_customer_stats(&self, _: WorkspaceId, _: CustomerId) -> Result<CustomerStats> {
        absent()
    }

    // Identity resolution and merges.
    async fn resolution_log_of_customer(
        &self,
        _: WorkspaceId,
        _: CustomerId,
        _: u32,
    ) -> Result<Vec<ResolutionEntry>> {
        absent()
    }
    async fn list_open_conflicts(
        &self,
        _: WorkspaceId,
        _: Option<&Cursor>,
        _: u32,
    ) -> Result<Page<ResolutionEntry>> {
        absent()
    }
    async fn mark_conflict_reviewed(
        &self,
        _: WorkspaceId,
        _: ResolutionEntryId,
        _: Timestamp,
    ) -> Result<bool> {
        absent()
    }
    async fn update_identity_rules(&self, _: WorkspaceId, _: &IdentityRules) -> Result<()> {
        absent()
    }
    async fn get_merge(&self, _: WorkspaceId, _: MergeId) -> Result<Option<Merge>> {
        absent()
    }

    // Customer profile: attribute schema, consent, duplicate suggestions.
    async fn list_attribute_definitions(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>> {
        Ok(self
            .attributes
            .lock()
            .map_err(Error::internal)?
            .iter()
            .filter(|definition| definition.workspace_id == workspace_id)
            .cloned()
            .collect())
    }
    async fn insert_attribute_definition(&self, definition: &AttributeDefinition) -> Result<()> {
        let taken = find(&self.attributes, |held| {
            held.workspace_id == definition.workspace_id && held.key == definition.key
        })?;
        if taken.is_some() {
            return Err(Error::conflict(ATTRIBUTE_KEY_TAKEN));
        }
        push(&self.attributes, definition)
    }
    async fn get_consent(
        &self,
        _: WorkspaceId,
        _: CustomerId,
        _: ChannelKind,
    ) -> Result<Option<Consent>> {
        absent()
    }
    async fn list_duplicates(
        &self,
        _: WorkspaceId,
        _: Option<&DuplicateCursor>,
        _: u32,
    ) -> Result<DuplicatePage> {
        Ok(DuplicatePage::from_rows(Vec::new(), 1))
    }
    async fn insert_duplicate_dismissal(&self, _: &Dismissal) -> Result<()> {
        absent()
    }

    async fn list_channels_of_kind(&self, _: ChannelKind) -> Result<Vec<Channel>> {
        absent()
    }

    async fn message_emails(
        &self,
        _: WorkspaceId,
        _: &[MessageId],
    ) -> Result<Vec<seam_core::email::MessageEmail>> {
        Ok(Vec::new())
    }

    async fn attachments_of_messages(
        &self,
        _: WorkspaceId,
        _: &[MessageId],
    ) -> Result<Vec<seam_core::email::Attachment>> {
        Ok(Vec::new())
    }

    async fn get_attachment(
        &self,
        _: WorkspaceId,
        _: AttachmentId,
    ) -> Result<Option<seam_core::email::Attachment>> {
        absent()
    }

    async fn insert_upload(&self, _: &seam_core::uploads::Upload) -> Result<()> {
        absent()
    }

    async fn find_attachment(
        &self,
        _: AttachmentId,
    ) -> Result<Option<seam_core::email::Attachment>> {
        Ok(None)
    }
}

/// A file store that holds nothing.
struct NoFiles;

#[async_trait]
impl seam_core::ports::FileStore for NoFiles {
    async fn put(&self, _: WorkspaceId, _: &str, _: &[u8]) -> Result<()> {
        absent()
    }

    async fn get(&self, _: WorkspaceId, _: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// A bus whose subscriptions replay a fixed list of events, then end.
#[derive(Default)]
pub struct FakeBus {
    pub events: Vec<RealtimeEvent>,
}

struct Replay(std::vec::IntoIter<RealtimeEvent>);

#[async_trait]
impl Subscription for Replay {
    async fn next(&mut self) -> Option<RealtimeEvent> {
        match self.0.next() {
            Some(event) => Some(event),
            // Stay open like a live bus with nothing to say.
            None => std::future::pending().await,
        }
    }
}

#[async_trait]
impl Bus for FakeBus {
    async fn publish(&self, _: RealtimeEvent) -> Result<()> {
        Ok(())
    }
    async fn subscribe(&self, workspace_id: WorkspaceId) -> Result<Box<dyn Subscription>> {
        let events: Vec<RealtimeEvent> = self
            .events
            .iter()
            .filter(|event| event.workspace_id == workspace_id)
            .cloned()
            .collect();
        Ok(Box::new(Replay(events.into_iter())))
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// A store holding one user of the given role; returns it with the user.
pub fn store_with_user(role: Role) -> (Arc<FakeStore>, User) {
    let user = User::new(
        WorkspaceId::new(),
        "agent@example.com",
        "Agent Smith",
        role,
        PASSWORD,
        chrono::Utc::now(),
    )
    .unwrap();
    let store = FakeStore {
        users: Mutex::new(vec![user.clone()]),
        ..Default::default()
    };
    (Arc::new(store), user)
}

pub fn app(store: Arc<FakeStore>) -> Router {
    app_with(store, FakeBus::default(), ApiConfig::default(), None)
}

pub fn app_with(
    store: Arc<FakeStore>,
    bus: FakeBus,
    config: ApiConfig,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> Router {
    seam_api::router(ApiState {
        store: store.clone(),
        bus: Arc::new(bus),
        files: Arc::new(NoFiles),
        metrics,
        config,
        presence: Arc::new(seam_api::widget::WidgetPresence::new()),
        agents: Arc::new(seam_api::AgentPresence::new()),
        messaging: seam_api::hooks::Messaging {
            vault: Arc::new(NoVault),
            public_url: "http://127.0.0.1:8080".into(),
            intake: seam_api::hooks::Intake::start(store),
            channels: Default::default(),
            media_key: Arc::new([7; 32]),
        },
    })
}

/// These tests create no messaging channels: nothing is ever sealed.
struct NoVault;

impl seam_core::ports::Vault for NoVault {
    fn seal(&self, _plain: &[u8]) -> seam_core::Result<String> {
        Err(seam_core::Error::internal("no vault in these tests"))
    }
    fn open(&self, _sealed: &str) -> seam_core::Result<Vec<u8>> {
        Err(seam_core::Error::internal("no vault in these tests"))
    }
}

/// Sends one request through the router; returns status, headers and the body as JSON
/// (`Null` when empty, a string when not JSON).
pub async fn send(
    app: &Router,
    request: Request<Body>,
) -> (u16, axum::http::HeaderMap, serde_json::Value) {
    let response: Response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, headers, body)
}

pub fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri)
}

pub fn post_json(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header("content-type", "application/json")
}

/// Logs in through the API; returns the `Cookie` header value and the CSRF token.
pub async fn log_in(app: &Router) -> (String, String) {
    let body = serde_json::json!({"email": "agent@example.com", "password": PASSWORD}).to_string();
    let (status, headers, json) = send(
        app,
        post_json("/api/v1/auth/login")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let cookies: Vec<String> = headers
        .get_all("set-cookie")
        .iter()
        .map(|value| {
            value
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    (
        cookies.join("; "),
        json["csrf_token"].as_str().unwrap().to_string(),
    )
}
