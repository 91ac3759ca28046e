//! Ports: what the domain needs from the outside world. `store` implements [`Store`] and
//! [`Tx`] for SQLite and PostgreSQL; `bus` implements [`Bus`]. Every method that reads or
//! writes tenant data takes the workspace id and must filter on it.

use async_trait::async_trait;

use crate::{
    Result, Timestamp,
    attributes::AttributeDefinition,
    auth::{ApiToken, Session},
    channel::{Channel, ChannelKind},
    commerce::{CustomerOrders, Order, Return},
    consent::Consent,
    conversation::{Conversation, ConversationFilter, ConversationSummary, Page},
    cursor::Cursor,
    customer::{Customer, CustomerIdentity, CustomerProfile},
    duplicates::{Dismissal, DuplicateCursor, DuplicatePage},
    email::{Attachment, ConversationEmail, MessageEmail, ThreadHit},
    event::Event,
    identity::{Identity, IdentityKind},
    ids::{
        AttachmentId, ChannelId, ConversationId, CustomerId, EventId, JobId, MergeId, MessageId,
        OutboxId, ResolutionEntryId, TeamId, UploadId, UserId, WorkspaceId,
    },
    jobs::{Job, NewJob},
    merge::Merge,
    message::Message,
    outbox::OutboxEvent,
    privacy::{AuditEntry, CustomerExport},
    realtime::RealtimeEvent,
    resolution::ResolutionEntry,
    stats::CustomerStats,
    timeline::{TimelineFilter, TimelineItem},
    uploads::Upload,
    user::User,
    workspace::{IdentityRules, Workspace},
};

/// The `Conflict` name a store reports when an identity is already held.
pub const IDENTITY_TAKEN: &str = "identity";
/// The `Conflict` name a store reports when the database aborted the transaction to break a
/// deadlock or a serialization failure; running the use case again is safe.
pub const TRANSACTION_CONFLICT: &str = "transaction";

/// Storage outside a transaction: reads, and single-row writes that need no other row.
#[async_trait]
pub trait Store: Send + Sync {
    /// Starts a write transaction (on SQLite: `BEGIN IMMEDIATE` on the one writer connection).
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// A transaction that only reads: a consistent snapshot that does not hold the writer (on
    /// SQLite, a read connection). Use cases decide on it, then write in a short [`begin`].
    /// Writing through it fails.
    async fn begin_read(&self) -> Result<Box<dyn Tx>> {
        self.begin().await
    }
    /// [`Tx::last_inbound`] on a snapshot of its own.
    async fn last_inbound(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: ChannelId,
    ) -> Result<Option<crate::messaging::LastInbound>> {
        let mut read = self.begin_read().await?;
        let found = read
            .last_inbound(workspace_id, customer_id, channel_id)
            .await;
        read.rollback().await?;
        found
    }
    /// [`Tx::identities_of_customers`] on a snapshot of its own.
    async fn identities_of_customers(
        &self,
        workspace_id: WorkspaceId,
        customer_ids: &[CustomerId],
    ) -> Result<Vec<CustomerIdentity>> {
        let mut read = self.begin_read().await?;
        let found = read
            .identities_of_customers(workspace_id, customer_ids)
            .await;
        read.rollback().await?;
        found
    }
    /// [`Tx::deliverable_email_of_customer`] on a snapshot of its own.
    async fn deliverable_email_of_customer(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Option<String>> {
        let mut read = self.begin_read().await?;
        let found = read
            .deliverable_email_of_customer(workspace_id, customer_id)
            .await;
        read.rollback().await?;
        found
    }
    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<()>;

    async fn get_workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>>;
    async fn list_workspaces(&self) -> Result<Vec<Workspace>>;

    // Users, sessions, tokens.
    /// By normalised email, across workspaces (login names no workspace).
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn get_user(&self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>>;
    async fn list_users(&self, workspace_id: WorkspaceId) -> Result<Vec<User>>;
    async fn record_login_failure(
        &self,
        id: UserId,
        failed_logins: i32,
        locked_until: Option<Timestamp>,
    ) -> Result<()>;
    /// Resets the failure count and any lock.
    async fn record_login_success(&self, id: UserId) -> Result<()>;
    async fn insert_session(&self, session: &Session) -> Result<()>;
    async fn find_session(&self, id_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    async fn insert_api_token(&self, token: &ApiToken) -> Result<()>;
    async fn find_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>>;

    // Channels.
    async fn insert_channel(&self, channel: &Channel) -> Result<()>;
    async fn list_channels(&self, workspace_id: WorkspaceId) -> Result<Vec<Channel>>;
    async fn get_channel(
        &self,
        workspace_id: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>>;
    /// For inbound endpoints, where the workspace is learnt from the channel itself; the
    /// caller must then prove it holds the channel's secret.
    async fn find_channel(&self, id: ChannelId) -> Result<Option<Channel>>;

    // Conversations, messages, customers.
    /// Newest activity first; `cursor` is the (last_activity_at, id) of the previous page's
    /// last item.
    async fn list_conversations(
        &self,
        workspace_id: WorkspaceId,
        filter: &ConversationFilter,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>>;
    async fn get_conversation(
        &self,
        workspace_id: WorkspaceId,
        id: ConversationId,
    ) -> Result<Option<Conversation>>;
    /// The inbox's extras for each listed conversation, read for `user_id`, in no order.
    async fn conversation_summaries(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        ids: &[ConversationId],
    ) -> Result<Vec<ConversationSummary>>;
    /// Newest first; `cursor` is the (created_at, id) of the previous page's last item.
    async fn list_messages(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>>;
    async fn get_message(
        &self,
        workspace_id: WorkspaceId,
        id: MessageId,
    ) -> Result<Option<Message>>;
    async fn get_customer_profile(
        &self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<CustomerProfile>>;
    /// Name or any identity value containing `query` (case-insensitive); all when `None`.
    /// Newest customers first; `cursor` is the (created_at, id) of the previous page's last.
    async fn search_customers(
        &self,
        workspace_id: WorkspaceId,
        query: Option<&str>,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<CustomerProfile>>;

    // Jobs.
    /// Claims up to `limit` jobs that are due (queued with `run_at <= now`, or running with an
    /// expired lease), marks them running with `lease_until`, increments `attempts`.
    /// PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so several nodes never claim the same job.
    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Job>>;
    async fn complete_job(&self, id: JobId) -> Result<()>;
    /// Back to queued at `run_at`, with the error recorded.
    async fn retry_job(&self, id: JobId, run_at: Timestamp, error: &str) -> Result<()>;
    /// Terminal: no more attempts.
    async fn bury_job(&self, id: JobId, error: &str) -> Result<()>;
    /// Queued or running jobs (the queue depth metric).
    async fn count_pending_jobs(&self) -> Result<i64>;
    async fn get_job(&self, id: JobId) -> Result<Option<Job>>;

    // Outbox.
    /// Oldest first.
    async fn fetch_outbox(&self, limit: u32) -> Result<Vec<OutboxEvent>>;
    async fn delete_outbox(&self, ids: &[OutboxId]) -> Result<()>;

    // Import and privacy.
    /// The customer with its identities, conversations and their messages, and events;
    /// `None` when the workspace holds no such customer.
    async fn export_customer(
        &self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<CustomerExport>>;
    /// The workspace's audit entries, oldest first.
    async fn list_audit_entries(&self, workspace_id: WorkspaceId) -> Result<Vec<AuditEntry>>;

    // Events and timeline.
    /// Messages (by `created_at`) and events (by `occurred_at`) of the customer, newest first;
    /// `cursor` is the (time, id) of the previous page's last item.
    async fn customer_timeline(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        filter: &TimelineFilter,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<TimelineItem>>;
    /// The customer's orders and returns, most recently created first.
    async fn customer_orders(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<CustomerOrders>;
    /// The stored stats with what is counted at read time (conversations, orders, spending).
    async fn get_customer_stats(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<CustomerStats>;

    // Identity resolution and merges.
    /// Entries about the customer (as subject or as the other party), newest first.
    async fn resolution_log_of_customer(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        limit: u32,
    ) -> Result<Vec<ResolutionEntry>>;
    /// Conflict entries not reviewed yet, newest first; `cursor` is the (created_at, id) of the
    /// previous page's last item.
    async fn list_open_conflicts(
        &self,
        workspace_id: WorkspaceId,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<ResolutionEntry>>;
    /// Whether an open conflict with this id existed (it is now reviewed).
    async fn mark_conflict_reviewed(
        &self,
        workspace_id: WorkspaceId,
        id: ResolutionEntryId,
        now: Timestamp,
    ) -> Result<bool>;
    async fn update_identity_rules(
        &self,
        workspace_id: WorkspaceId,
        rules: &IdentityRules,
    ) -> Result<()>;
    async fn get_merge(&self, workspace_id: WorkspaceId, id: MergeId) -> Result<Option<Merge>>;
    // Customer profile: attribute schema, consent, duplicate suggestions.
    /// Oldest first.
    async fn list_attribute_definitions(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>>;
    /// Fails with `Conflict { what: ATTRIBUTE_KEY_TAKEN }` when the key is defined already.
    async fn insert_attribute_definition(&self, definition: &AttributeDefinition) -> Result<()>;
    /// The consent recorded for the customer on `channel_kind`, if any.
    async fn get_consent(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_kind: ChannelKind,
    ) -> Result<Option<Consent>>;
    /// Pairs of customers that are probably one person, by joins on `customers.name_key` and
    /// `identities.match_key`, without dismissed pairs; ordered by (rank, customer_a,
    /// customer_b), starting after `cursor`.
    async fn list_duplicates(
        &self,
        workspace_id: WorkspaceId,
        cursor: Option<&DuplicateCursor>,
        limit: u32,
    ) -> Result<DuplicatePage>;
    /// Does nothing when the pair is dismissed already.
    async fn insert_duplicate_dismissal(&self, dismissal: &Dismissal) -> Result<()>;

    // Email and files.
    /// Every channel of `kind` across workspaces: the SMTP listener's address book.
    async fn list_channels_of_kind(&self, kind: ChannelKind) -> Result<Vec<Channel>>;
    /// The email parts of these messages (messages without one are left out).
    async fn message_emails(
        &self,
        workspace_id: WorkspaceId,
        message_ids: &[MessageId],
    ) -> Result<Vec<MessageEmail>>;
    /// The files of these messages, in the order they came.
    async fn attachments_of_messages(
        &self,
        workspace_id: WorkspaceId,
        message_ids: &[MessageId],
    ) -> Result<Vec<Attachment>>;
    async fn get_attachment(
        &self,
        workspace_id: WorkspaceId,
        id: AttachmentId,
    ) -> Result<Option<Attachment>>;

    // Uploads and media links.
    async fn insert_upload(&self, upload: &Upload) -> Result<()>;
    /// An attachment by its id alone, for a media link whose signature the caller has checked:
    /// the signed link, made by Seam for this one attachment, establishes the workspace.
    async fn find_attachment(&self, id: AttachmentId) -> Result<Option<Attachment>>;
}

/// One write transaction. Dropping it without `commit` rolls it back.
#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;

    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<()>;
    async fn get_workspace(&mut self, id: WorkspaceId) -> Result<Option<Workspace>>;
    /// Fails with `Conflict` when the email is taken.
    async fn insert_user(&mut self, user: &User) -> Result<()>;
    async fn get_user(&mut self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>>;
    async fn list_users(&mut self, workspace_id: WorkspaceId) -> Result<Vec<User>>;
    /// Saves name, role, language and availability.
    async fn update_user(&mut self, user: &User) -> Result<()>;
    /// Saves name, region, time zone, languages, continuity and reopen window.
    async fn update_workspace(&mut self, workspace: &Workspace) -> Result<()>;
    /// Records that `user_id` read the conversation at `at` (later reads replace earlier ones).
    async fn mark_conversation_read(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        user_id: UserId,
        at: Timestamp,
    ) -> Result<()>;
    async fn insert_team(
        &mut self,
        workspace_id: WorkspaceId,
        id: TeamId,
        name: &str,
    ) -> Result<()>;
    async fn team_exists(&mut self, workspace_id: WorkspaceId, id: TeamId) -> Result<bool>;
    async fn insert_channel(&mut self, channel: &Channel) -> Result<()>;
    /// Saves a channel's name, config and credentials (its kind and secret never change).
    async fn update_channel(&mut self, channel: &Channel) -> Result<()>;
    async fn get_channel(
        &mut self,
        workspace_id: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>>;

    /// The message already stored for this (channel, provider id), if any.
    async fn find_message_by_provider_id(
        &mut self,
        channel_id: ChannelId,
        provider_message_id: &str,
    ) -> Result<Option<Message>>;
    /// Every stored identity equal to one of `identities`.
    async fn find_identities(
        &mut self,
        workspace_id: WorkspaceId,
        identities: &[Identity],
    ) -> Result<Vec<CustomerIdentity>>;
    async fn insert_customer(&mut self, customer: &Customer) -> Result<()>;
    async fn get_customer(
        &mut self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<Customer>>;
    /// Saves every profile field (name, locale, time zone, tags, attributes) and the name key
    /// derived from the name.
    async fn update_customer(&mut self, customer: &Customer) -> Result<()>;
    /// Holds the customer until the transaction ends, so that two use cases on one customer
    /// (two first messages at once) run one after the other and see each other's writes.
    async fn lock_customer(&mut self, workspace_id: WorkspaceId, id: CustomerId) -> Result<()>;
    /// Fails with `Conflict { what: IDENTITY_TAKEN }` when the identity belongs to someone
    /// already.
    async fn insert_identity(&mut self, identity: &CustomerIdentity) -> Result<()>;

    /// The customer's conversation with the newest `last_activity_at`; with `channel_id`, only
    /// among conversations whose `last_channel_id` is that channel.
    async fn latest_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: Option<ChannelId>,
    ) -> Result<Option<Conversation>>;
    async fn get_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        id: ConversationId,
    ) -> Result<Option<Conversation>>;
    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()>;
    /// Saves every field, labels included.
    async fn update_conversation(&mut self, conversation: &Conversation) -> Result<()>;

    /// Fails with `Conflict` on a duplicate (channel, provider id).
    async fn insert_message(&mut self, message: &Message) -> Result<()>;
    async fn get_message(
        &mut self,
        workspace_id: WorkspaceId,
        id: MessageId,
    ) -> Result<Option<Message>>;
    /// Saves delivery status, delivery error and provider message id.
    async fn update_message_delivery(&mut self, message: &Message) -> Result<()>;

    async fn insert_event(&mut self, event: &Event) -> Result<()>;
    async fn insert_outbox(&mut self, event: &OutboxEvent) -> Result<()>;
    /// Does nothing when a job with the same dedupe key exists.
    async fn insert_job(&mut self, job: &NewJob) -> Result<()>;
    /// Marks a job done with the rest of the transaction.
    async fn complete_job(&mut self, id: JobId) -> Result<()>;

    // Import and privacy.
    /// Removes the customer's personal data, table by table, keeping the customer row as an
    /// anonymous shell: name cleared, identities deleted, message texts set to `erased_text`
    /// and their identity cleared, event properties emptied, pending outbox rows about the
    /// customer deleted and job payloads about it scrubbed (pending ones buried). `false`
    /// when the workspace holds no such customer.
    async fn erase_customer(
        &mut self,
        workspace_id: WorkspaceId,
        id: CustomerId,
        erased_text: &str,
        now: Timestamp,
    ) -> Result<bool>;
    async fn insert_audit_entry(&mut self, entry: &AuditEntry) -> Result<()>;

    // Events and timeline.
    /// The stored events carrying one of these `messageId`s.
    async fn find_events_by_message_ids(
        &mut self,
        workspace_id: WorkspaceId,
        message_ids: &[String],
    ) -> Result<Vec<Event>>;
    /// All in one statement. Fails with `Conflict { what: EVENT_MESSAGE_ID_TAKEN }` when a
    /// `messageId` is already stored.
    async fn insert_events(&mut self, events: &[Event]) -> Result<()>;
    async fn get_order(
        &mut self,
        workspace_id: WorkspaceId,
        order_id: &str,
    ) -> Result<Option<Order>>;
    /// Inserts or replaces the order (keyed by workspace and order id).
    async fn save_order(&mut self, order: &Order) -> Result<()>;
    async fn get_return(
        &mut self,
        workspace_id: WorkspaceId,
        return_id: &str,
    ) -> Result<Option<Return>>;
    /// Inserts or replaces the return (keyed by workspace and return id).
    async fn save_return(&mut self, record: &Return) -> Result<()>;
    /// Widens the customer's first/last seen to include `[first, last]`, and records the
    /// channel as used at `last` when there is one.
    async fn record_customer_activity(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        first: Timestamp,
        last: Timestamp,
        channel_id: Option<ChannelId>,
    ) -> Result<()>;

    // Identity resolution and merges.
    /// Every identity of these customers.
    async fn identities_of_customers(
        &mut self,
        workspace_id: WorkspaceId,
        customer_ids: &[CustomerId],
    ) -> Result<Vec<CustomerIdentity>>;
    async fn conversation_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<ConversationId>>;
    async fn event_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<EventId>>;
    /// Moves every identity, conversation, message, event, order and return of `from` to
    /// `to`, and folds `from`'s stored computed fields into `to`'s.
    async fn reassign_customer(
        &mut self,
        workspace_id: WorkspaceId,
        from: CustomerId,
        to: CustomerId,
    ) -> Result<()>;
    async fn move_identities(
        &mut self,
        workspace_id: WorkspaceId,
        identities: &[Identity],
        to: CustomerId,
    ) -> Result<()>;
    /// Moves the conversations and all their messages.
    async fn move_conversations(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[ConversationId],
        to: CustomerId,
    ) -> Result<()>;
    async fn move_events(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[EventId],
        to: CustomerId,
    ) -> Result<()>;
    /// The customer's messages created at or after `since`, oldest first.
    async fn messages_of_customer_since(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        since: Timestamp,
    ) -> Result<Vec<Message>>;
    async fn move_messages(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[MessageId],
        customer_id: CustomerId,
        conversation_id: ConversationId,
    ) -> Result<()>;
    /// The customer's conversations that are not resolved, newest activity first.
    async fn open_conversations_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<Conversation>>;
    async fn message_ids_of_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<Vec<MessageId>>;
    /// The ids of the customer's orders and of its returns.
    async fn order_and_return_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<(Vec<String>, Vec<String>)>;
    async fn move_orders_and_returns(
        &mut self,
        workspace_id: WorkspaceId,
        order_ids: &[String],
        return_ids: &[String],
        to: CustomerId,
    ) -> Result<()>;
    /// The channel kinds the customer has a consent record for.
    async fn consent_kinds_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<ChannelKind>>;
    /// Moves the consent records of these kinds from one customer to another.
    async fn move_consents(
        &mut self,
        workspace_id: WorkspaceId,
        kinds: &[ChannelKind],
        from: CustomerId,
        to: CustomerId,
    ) -> Result<()>;
    async fn insert_merge(&mut self, merge: &Merge) -> Result<()>;
    async fn get_merge(&mut self, workspace_id: WorkspaceId, id: MergeId) -> Result<Option<Merge>>;
    /// Saves `undone_at` and `undone_by_user_id`.
    async fn update_merge_undone(&mut self, merge: &Merge) -> Result<()>;
    async fn insert_resolution_entries(&mut self, entries: &[ResolutionEntry]) -> Result<()>;
    // Customer profile: attribute schema, consent, duplicate suggestions.
    async fn list_attribute_definitions(
        &mut self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>>;
    /// Inserts or replaces the customer's consent on `consent.channel_kind`.
    async fn upsert_consent(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        consent: &Consent,
    ) -> Result<()>;

    // Website chat.
    /// Saves the message's channel, identity and identity kind (a reply re-routed from the
    /// widget to email).
    async fn update_message_route(&mut self, message: &Message) -> Result<()>;

    // messaging: outbound
    /// The customer's latest inbound message on a channel: when they sent it and the address
    /// it came from (the window and the recipient of a reply).
    async fn last_inbound(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: ChannelId,
    ) -> Result<Option<crate::messaging::LastInbound>>;

    // Email and files.
    async fn insert_message_email(&mut self, email: &MessageEmail) -> Result<()>;
    /// Messages whose Message-ID is one of `email_message_ids`.
    async fn find_email_thread(
        &mut self,
        workspace_id: WorkspaceId,
        email_message_ids: &[String],
    ) -> Result<Vec<ThreadHit>>;
    async fn find_conversation_by_reply_token(
        &mut self,
        workspace_id: WorkspaceId,
        token: &str,
    ) -> Result<Option<ConversationId>>;
    async fn conversation_email(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<ConversationEmail>;
    async fn set_conversation_email(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        email: &ConversationEmail,
    ) -> Result<()>;
    async fn insert_attachments(&mut self, attachments: &[Attachment]) -> Result<()>;
    /// Flags an identity as bouncing; whether the workspace holds it.
    async fn mark_identity_bounced(
        &mut self,
        workspace_id: WorkspaceId,
        kind: IdentityKind,
        value: &str,
        at: Timestamp,
        reason: &str,
    ) -> Result<bool>;
    /// The newest email message of a conversation other than `except`, inbound or outbound.
    async fn latest_email_of_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        except: MessageId,
    ) -> Result<Option<MessageEmail>>;
    /// The email address of a customer to write to: of those not bouncing, the one they last
    /// wrote from, else a verified one before a claim, else the newest.
    async fn deliverable_email_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Option<String>>;

    // Uploads.
    /// The workspace's uploads among `ids` (ids of other workspaces are left out), in no
    /// particular order.
    async fn uploads(&mut self, workspace_id: WorkspaceId, ids: &[UploadId])
    -> Result<Vec<Upload>>;
}

/// Where the bytes of attachments live: a directory, or object storage in a cluster. Content
/// addressed by (workspace, hex SHA-256), so storing the same file twice stores it once.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores the bytes durably before returning.
    async fn put(&self, workspace_id: WorkspaceId, sha256: &str, bytes: &[u8]) -> Result<()>;
    async fn get(&self, workspace_id: WorkspaceId, sha256: &str) -> Result<Option<Vec<u8>>>;
}

/// Realtime fan-out. Subjects are per workspace; delivery is at most once.
#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, event: RealtimeEvent) -> Result<()>;
    async fn subscribe(&self, workspace_id: WorkspaceId) -> Result<Box<dyn Subscription>>;
}

#[async_trait]
pub trait Subscription: Send {
    /// The next event, or `None` when the bus has shut down. A subscriber that falls too far
    /// behind skips the events it missed (it catches up through the list APIs).
    async fn next(&mut self) -> Option<RealtimeEvent>;
}

/// Seals channel credentials at rest. `seal` returns printable text for the database; `open`
/// fails on text that was not sealed with this key (or was altered).
pub trait Vault: Send + Sync {
    fn seal(&self, plain: &[u8]) -> Result<String>;
    fn open(&self, sealed: &str) -> Result<Vec<u8>>;
}
