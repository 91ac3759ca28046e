//! `Tx` for either driver: one write transaction on the writer connection. Where the driver
//! joins statements (SQLite), `BEGIN IMMEDIATE` and the writes nobody waits on (no result, no
//! `Conflict` promised by the port) travel with the next statement, and the outbox rows with
//! `COMMIT`, so a typical inbound message costs five round trips instead of eight or more.
//! After a commit that wrote outbox rows or jobs the relay and workers are woken. Delegates all
//! SQL to `tables`; decides nothing.

use std::sync::Arc;

use async_trait::async_trait;
use seam_core::{
    Result, Timestamp,
    attributes::AttributeDefinition,
    channel::{Channel, ChannelKind},
    commerce::{Order, Return},
    consent::Consent,
    conversation::Conversation,
    customer::{Customer, CustomerIdentity},
    event::Event,
    identity::Identity,
    ids::{
        ChannelId, ConversationId, CustomerId, EventId, MergeId, MessageId, TeamId, UserId,
        WorkspaceId,
    },
    jobs::{JobStatus, NewJob},
    merge::Merge,
    message::Message,
    outbox::OutboxEvent,
    ports::Tx,
    privacy::AuditEntry,
    resolution::ResolutionEntry,
    user::User,
    workspace::Workspace,
};
use sqlx::pool::PoolConnection;
use tokio::sync::Notify;

use crate::{
    driver::{Driver, Select, Sql},
    tables::{
        channels, commerce, conversations, customers, events, jobs, merges, messages, outbox,
        privacy, profile, stats, users, workspaces,
    },
};

pub(crate) struct SqlTx<D: Driver> {
    conn: PoolConnection<D::Db>,
    /// `BEGIN` may have run and neither `COMMIT` nor `ROLLBACK` has: if the transaction is
    /// dropped like this, its connection is closed rather than pooled, which rolls it back.
    open: bool,
    /// Statements not sent yet; they go out ahead of the next statement that is sent.
    pending: Option<Sql<D>>,
    /// Outbox rows, written with the commit.
    outbox: Vec<OutboxEvent>,
    /// Whether a job was enqueued, so the workers must be woken after commit.
    enqueued_job: bool,
    notify: Arc<Notify>,
}

impl<D: Driver> SqlTx<D> {
    pub(crate) async fn begin(conn: PoolConnection<D::Db>, notify: Arc<Notify>) -> Result<Self> {
        Self::begin_with(conn, notify, D::BEGIN).await
    }

    /// A transaction on a read connection: a consistent snapshot; writing through it fails.
    pub(crate) async fn begin_read(
        conn: PoolConnection<D::Db>,
        notify: Arc<Notify>,
    ) -> Result<Self> {
        Self::begin_with(conn, notify, D::BEGIN_READ).await
    }

    async fn begin_with(
        conn: PoolConnection<D::Db>,
        notify: Arc<Notify>,
        begin: &'static str,
    ) -> Result<Self> {
        let mut tx = SqlTx {
            conn,
            open: false,
            pending: None,
            outbox: Vec::new(),
            enqueued_job: false,
            notify,
        };
        if D::JOINS_STATEMENTS {
            tx.pending = Some(Sql::new(begin));
        } else {
            tx.open = true;
            Sql::<D>::new(begin).execute(&mut tx.conn).await?;
        }
        Ok(tx)
    }

    /// `statement`, preceded by whatever is pending.
    fn after_pending(&mut self, statement: Sql<D>) -> Sql<D> {
        match self.pending.take() {
            Some(pending) => {
                self.open = true;
                pending.then(statement)
            }
            None => statement,
        }
    }

    async fn execute(&mut self, statement: Sql<D>) -> Result<u64> {
        let statement = self.after_pending(statement);
        statement.execute(&mut self.conn).await
    }

    /// Sends `statement` with the next one where the driver allows, now otherwise.
    async fn defer(&mut self, statement: Sql<D>) -> Result<()> {
        if D::JOINS_STATEMENTS {
            self.pending = Some(match self.pending.take() {
                Some(pending) => pending.then(statement),
                None => statement,
            });
            Ok(())
        } else {
            self.execute(statement).await.map(drop)
        }
    }

    /// Runs the statements in order: as one where the driver joins statements.
    async fn execute_each(&mut self, statements: impl IntoIterator<Item = Sql<D>>) -> Result<()> {
        if D::JOINS_STATEMENTS {
            let joined = statements
                .into_iter()
                .reduce(|joined, next| joined.then(next));
            if let Some(joined) = joined {
                self.execute(joined).await?;
            }
        } else {
            for statement in statements {
                self.execute(statement).await?;
            }
        }
        Ok(())
    }

    async fn optional<T>(&mut self, select: Select<D, T>) -> Result<Option<T>> {
        let Select { sql, read } = select;
        Select {
            sql: self.after_pending(sql),
            read,
        }
        .optional(&mut self.conn)
        .await
    }

    async fn all<T>(&mut self, select: Select<D, T>) -> Result<Vec<T>> {
        let Select { sql, read } = select;
        Select {
            sql: self.after_pending(sql),
            read,
        }
        .all(&mut self.conn)
        .await
    }
}

impl<D: Driver> Drop for SqlTx<D> {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

#[async_trait]
impl<D: Driver> Tx for SqlTx<D> {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        let rows = std::mem::take(&mut self.outbox);
        let wake = self.enqueued_job || !rows.is_empty();
        let commit = Sql::new("COMMIT");
        match outbox::insert_all::<D>(rows) {
            Some(insert) if D::JOINS_STATEMENTS => self.execute(insert.then(commit)).await?,
            Some(insert) => {
                self.execute(insert).await?;
                self.execute(commit).await?
            }
            None => self.execute(commit).await?,
        };
        self.open = false;
        if wake {
            self.notify.notify_one();
        }
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<()> {
        // Nothing pending was sent, so nothing of it needs undoing.
        self.pending = None;
        if self.open {
            Sql::<D>::new("ROLLBACK").execute(&mut self.conn).await?;
            self.open = false;
        }
        Ok(())
    }

    async fn lock_customer(&mut self, workspace_id: WorkspaceId, id: CustomerId) -> Result<()> {
        match customers::lock::<D>(workspace_id, id) {
            Some(lock) => self.execute(lock).await.map(drop),
            None => Ok(()),
        }
    }

    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<()> {
        self.defer(workspaces::insert(workspace)).await
    }

    async fn get_workspace(&mut self, id: WorkspaceId) -> Result<Option<Workspace>> {
        self.optional(workspaces::get(id)).await
    }

    async fn insert_user(&mut self, user: &User) -> Result<()> {
        self.execute(users::insert(user)).await.map(drop)
    }

    async fn get_user(&mut self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>> {
        self.optional(users::get(workspace_id, id)).await
    }

    async fn list_users(&mut self, workspace_id: WorkspaceId) -> Result<Vec<User>> {
        self.all(users::list(workspace_id)).await
    }

    async fn update_user(&mut self, user: &User) -> Result<()> {
        self.execute(users::update(user)).await.map(drop)
    }

    async fn update_workspace(&mut self, workspace: &Workspace) -> Result<()> {
        self.execute(workspaces::update(workspace)).await.map(drop)
    }

    async fn mark_conversation_read(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        user_id: UserId,
        at: Timestamp,
    ) -> Result<()> {
        self.execute(conversations::mark_read(
            workspace_id,
            conversation_id,
            user_id,
            at,
        ))
        .await
        .map(drop)
    }

    async fn insert_team(
        &mut self,
        workspace_id: WorkspaceId,
        id: TeamId,
        name: &str,
    ) -> Result<()> {
        self.defer(channels::insert_team(workspace_id, id, name))
            .await
    }

    async fn team_exists(&mut self, workspace_id: WorkspaceId, id: TeamId) -> Result<bool> {
        Ok(self
            .optional(channels::team_exists(workspace_id, id))
            .await?
            .is_some())
    }

    async fn insert_channel(&mut self, channel: &Channel) -> Result<()> {
        self.defer(channels::insert(channel)).await
    }

    async fn update_channel(&mut self, channel: &Channel) -> Result<()> {
        self.defer(channels::update(channel)).await
    }

    async fn get_channel(
        &mut self,
        workspace_id: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>> {
        self.optional(channels::get(workspace_id, id)).await
    }

    async fn find_message_by_provider_id(
        &mut self,
        channel_id: ChannelId,
        provider_message_id: &str,
    ) -> Result<Option<Message>> {
        self.optional(messages::find_by_provider_id(
            channel_id,
            provider_message_id,
        ))
        .await
    }

    async fn find_identities(
        &mut self,
        workspace_id: WorkspaceId,
        identities: &[Identity],
    ) -> Result<Vec<CustomerIdentity>> {
        match customers::find_identities(workspace_id, identities) {
            Some(select) => self.all(select).await,
            None => Ok(Vec::new()),
        }
    }

    async fn insert_customer(&mut self, customer: &Customer) -> Result<()> {
        self.defer(customers::insert(customer)).await
    }

    async fn get_customer(
        &mut self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<Customer>> {
        self.optional(customers::get(workspace_id, id)).await
    }

    async fn update_customer(&mut self, customer: &Customer) -> Result<()> {
        self.defer(customers::update(customer)).await
    }

    async fn insert_identity(&mut self, identity: &CustomerIdentity) -> Result<()> {
        self.execute(customers::insert_identity(identity))
            .await
            .map(drop)
    }

    async fn latest_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: Option<ChannelId>,
    ) -> Result<Option<Conversation>> {
        self.optional(conversations::latest(workspace_id, customer_id, channel_id))
            .await
    }

    async fn get_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        self.optional(conversations::get(workspace_id, id)).await
    }

    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        self.defer(conversations::insert(conversation)).await
    }

    async fn update_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        self.defer(conversations::update(conversation)).await
    }

    async fn insert_message(&mut self, message: &Message) -> Result<()> {
        self.execute(messages::insert(message)).await.map(drop)
    }

    async fn get_message(
        &mut self,
        workspace_id: WorkspaceId,
        id: MessageId,
    ) -> Result<Option<Message>> {
        self.optional(messages::get(workspace_id, id)).await
    }

    async fn update_message_delivery(&mut self, message: &Message) -> Result<()> {
        self.execute(messages::update_delivery(message))
            .await
            .map(drop)
    }

    async fn insert_event(&mut self, event: &Event) -> Result<()> {
        self.defer(outbox::insert_event(event)).await
    }

    async fn insert_outbox(&mut self, event: &OutboxEvent) -> Result<()> {
        self.outbox.push(event.clone());
        Ok(())
    }

    async fn complete_job(&mut self, id: seam_core::ids::JobId) -> Result<()> {
        let now = chrono::Utc::now();
        self.defer(jobs::finish::<D>(id, JobStatus::Done, None, None, now))
            .await
    }

    async fn insert_job(&mut self, job: &NewJob) -> Result<()> {
        // With a taken dedupe key nothing is inserted and the wake-up is merely early.
        self.enqueued_job = true;
        self.defer(jobs::insert(job, chrono::Utc::now())).await
    }

    async fn erase_customer(
        &mut self,
        workspace_id: WorkspaceId,
        id: CustomerId,
        erased_text: &str,
        now: Timestamp,
    ) -> Result<bool> {
        // Asked rather than read off the update's row count, which on SQLite would include a
        // stale count when the update travels with `BEGIN`.
        if self
            .optional(customers::get(workspace_id, id))
            .await?
            .is_none()
        {
            return Ok(false);
        }
        for step in privacy::erase_steps::<D>(workspace_id, id, erased_text, now) {
            self.execute(step).await?;
        }
        Ok(true)
    }

    async fn insert_audit_entry(&mut self, entry: &AuditEntry) -> Result<()> {
        self.defer(privacy::insert_audit(entry)).await
    }

    async fn find_events_by_message_ids(
        &mut self,
        workspace_id: WorkspaceId,
        message_ids: &[String],
    ) -> Result<Vec<Event>> {
        match events::find_by_message_ids(workspace_id, message_ids) {
            Some(select) => self.all(select).await,
            None => Ok(Vec::new()),
        }
    }

    async fn insert_events(&mut self, list: &[Event]) -> Result<()> {
        match events::insert_all(list) {
            Some(insert) => self.execute(insert).await.map(drop),
            None => Ok(()),
        }
    }

    async fn get_order(
        &mut self,
        workspace_id: WorkspaceId,
        order_id: &str,
    ) -> Result<Option<Order>> {
        self.optional(commerce::get_order(workspace_id, order_id))
            .await
    }

    async fn save_order(&mut self, order: &Order) -> Result<()> {
        self.defer(commerce::save_order(order)).await
    }

    async fn get_return(
        &mut self,
        workspace_id: WorkspaceId,
        return_id: &str,
    ) -> Result<Option<Return>> {
        self.optional(commerce::get_return(workspace_id, return_id))
            .await
    }

    async fn save_return(&mut self, record: &Return) -> Result<()> {
        self.defer(commerce::save_return(record)).await
    }

    async fn record_customer_activity(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        first: Timestamp,
        last: Timestamp,
        channel_id: Option<ChannelId>,
    ) -> Result<()> {
        let now = chrono::Utc::now();
        self.defer(stats::widen_seen(
            workspace_id,
            customer_id,
            first,
            last,
            now,
        ))
        .await?;
        if let Some(channel_id) = channel_id {
            self.defer(stats::use_channel(
                workspace_id,
                customer_id,
                channel_id,
                last,
            ))
            .await?;
        }
        Ok(())
    }

    async fn identities_of_customers(
        &mut self,
        workspace_id: WorkspaceId,
        customer_ids: &[CustomerId],
    ) -> Result<Vec<CustomerIdentity>> {
        self.all(customers::identities_of::<D>(workspace_id, customer_ids))
            .await
    }

    async fn conversation_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<ConversationId>> {
        self.all(merges::conversation_ids(workspace_id, customer_id))
            .await
    }

    async fn event_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<EventId>> {
        self.all(merges::event_ids(workspace_id, customer_id)).await
    }

    async fn reassign_customer(
        &mut self,
        workspace_id: WorkspaceId,
        from: CustomerId,
        to: CustomerId,
    ) -> Result<()> {
        self.execute_each(merges::reassign(workspace_id, from, to))
            .await
    }

    async fn move_identities(
        &mut self,
        workspace_id: WorkspaceId,
        identities: &[Identity],
        to: CustomerId,
    ) -> Result<()> {
        self.execute_each(merges::move_identities(workspace_id, identities, to))
            .await
    }

    async fn move_conversations(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[ConversationId],
        to: CustomerId,
    ) -> Result<()> {
        self.execute_each(merges::move_conversations(workspace_id, ids, to))
            .await
    }

    async fn move_events(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[EventId],
        to: CustomerId,
    ) -> Result<()> {
        self.execute_each(merges::move_events(workspace_id, ids, to))
            .await
    }

    async fn messages_of_customer_since(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        since: Timestamp,
    ) -> Result<Vec<Message>> {
        self.all(messages::of_customer_since(
            workspace_id,
            customer_id,
            since,
        ))
        .await
    }

    async fn move_messages(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[MessageId],
        customer_id: CustomerId,
        conversation_id: ConversationId,
    ) -> Result<()> {
        self.execute_each(merges::move_messages(
            workspace_id,
            ids,
            customer_id,
            conversation_id,
        ))
        .await
    }

    async fn open_conversations_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<Conversation>> {
        self.all(conversations::open_of_customer(workspace_id, customer_id))
            .await
    }

    async fn message_ids_of_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<Vec<MessageId>> {
        self.all(merges::message_ids(workspace_id, conversation_id))
            .await
    }

    async fn order_and_return_ids_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let orders = self
            .all(merges::keyed_ids(
                "orders",
                "order_id",
                workspace_id,
                customer_id,
            ))
            .await?;
        let returns = self
            .all(merges::keyed_ids(
                "returns",
                "return_id",
                workspace_id,
                customer_id,
            ))
            .await?;
        Ok((orders, returns))
    }

    async fn move_orders_and_returns(
        &mut self,
        workspace_id: WorkspaceId,
        order_ids: &[String],
        return_ids: &[String],
        to: CustomerId,
    ) -> Result<()> {
        let orders = merges::move_keyed("orders", "order_id", workspace_id, order_ids, to);
        let returns = merges::move_keyed("returns", "return_id", workspace_id, return_ids, to);
        self.execute_each(orders.into_iter().chain(returns)).await
    }

    async fn consent_kinds_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Vec<ChannelKind>> {
        self.all(merges::consent_kinds(workspace_id, customer_id))
            .await
    }

    async fn move_consents(
        &mut self,
        workspace_id: WorkspaceId,
        kinds: &[ChannelKind],
        from: CustomerId,
        to: CustomerId,
    ) -> Result<()> {
        self.execute_each(merges::move_consents(workspace_id, kinds, from, to))
            .await
    }

    async fn insert_merge(&mut self, merge: &Merge) -> Result<()> {
        let statement = merges::insert_merge(merge)?;
        self.execute(statement).await.map(drop)
    }

    async fn get_merge(&mut self, workspace_id: WorkspaceId, id: MergeId) -> Result<Option<Merge>> {
        self.optional(merges::get_merge(workspace_id, id)).await
    }

    async fn update_merge_undone(&mut self, merge: &Merge) -> Result<()> {
        self.defer(merges::update_merge_undone(merge)).await
    }

    async fn insert_resolution_entries(&mut self, entries: &[ResolutionEntry]) -> Result<()> {
        match merges::insert_entries(entries) {
            Some(statement) => self.defer(statement).await,
            None => Ok(()),
        }
    }

    async fn list_attribute_definitions(
        &mut self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>> {
        self.all(profile::definitions(workspace_id)).await
    }

    async fn upsert_consent(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        consent: &Consent,
    ) -> Result<()> {
        self.defer(profile::upsert_consent(workspace_id, customer_id, consent))
            .await
    }

    // Website chat.
    async fn update_message_route(&mut self, message: &Message) -> Result<()> {
        self.execute(crate::tables::webchat::update_route(message))
            .await
            .map(drop)
    }

    // messaging: outbound
    async fn last_inbound(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: ChannelId,
    ) -> Result<Option<seam_core::messaging::LastInbound>> {
        self.optional(crate::tables::messaging_out::last_inbound(
            workspace_id,
            customer_id,
            channel_id,
        ))
        .await
    }

    // Email and files.
    async fn insert_message_email(&mut self, email: &seam_core::email::MessageEmail) -> Result<()> {
        let statement = crate::tables::email::insert_message_email(email)?;
        self.defer(statement).await
    }

    async fn find_email_thread(
        &mut self,
        workspace_id: WorkspaceId,
        email_message_ids: &[String],
    ) -> Result<Vec<seam_core::email::ThreadHit>> {
        match crate::tables::email::find_thread(workspace_id, email_message_ids) {
            Some(select) => self.all(select).await,
            None => Ok(Vec::new()),
        }
    }

    async fn find_conversation_by_reply_token(
        &mut self,
        workspace_id: WorkspaceId,
        token: &str,
    ) -> Result<Option<ConversationId>> {
        self.optional(crate::tables::email::find_by_reply_token(
            workspace_id,
            token,
        ))
        .await
    }

    async fn conversation_email(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<seam_core::email::ConversationEmail> {
        Ok(self
            .optional(crate::tables::email::conversation_email(
                workspace_id,
                conversation_id,
            ))
            .await?
            .unwrap_or_default())
    }

    async fn set_conversation_email(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        email: &seam_core::email::ConversationEmail,
    ) -> Result<()> {
        self.defer(crate::tables::email::set_conversation_email(
            workspace_id,
            conversation_id,
            email,
        ))
        .await
    }

    async fn insert_attachments(
        &mut self,
        attachments: &[seam_core::email::Attachment],
    ) -> Result<()> {
        self.execute_each(
            attachments
                .iter()
                .map(crate::tables::email::insert_attachment),
        )
        .await
    }

    async fn mark_identity_bounced(
        &mut self,
        workspace_id: WorkspaceId,
        kind: seam_core::identity::IdentityKind,
        value: &str,
        at: seam_core::Timestamp,
        reason: &str,
    ) -> Result<bool> {
        let changed = self
            .execute(crate::tables::email::mark_bounced(
                workspace_id,
                kind,
                value,
                at,
                reason,
            ))
            .await?;
        Ok(changed > 0)
    }

    async fn latest_email_of_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        except: MessageId,
    ) -> Result<Option<seam_core::email::MessageEmail>> {
        self.optional(crate::tables::email::latest_of_conversation(
            workspace_id,
            conversation_id,
            except,
        ))
        .await
    }

    async fn deliverable_email_of_customer(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<Option<String>> {
        self.optional(crate::tables::email::deliverable_email(
            workspace_id,
            customer_id,
        ))
        .await
    }

    // Uploads.
    async fn uploads(
        &mut self,
        workspace_id: WorkspaceId,
        ids: &[seam_core::ids::UploadId],
    ) -> Result<Vec<seam_core::uploads::Upload>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.all(crate::tables::uploads::of_workspace(workspace_id, ids))
            .await
    }
}
