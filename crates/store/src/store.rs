//! `Store` for either driver: reads go to the read pool, single-row writes and transactions
//! to the writer (on SQLite the one writer connection; on PostgreSQL both are the same pool).
//! Delegates all SQL to `tables`; decides nothing.

use std::sync::Arc;

use async_trait::async_trait;
use seam_core::{
    Result, Timestamp,
    attributes::AttributeDefinition,
    auth::{ApiToken, Session},
    channel::{Channel, ChannelKind},
    commerce::CustomerOrders,
    consent::Consent,
    conversation::{Conversation, ConversationFilter, ConversationSummary, Page},
    cursor::Cursor,
    customer::CustomerProfile,
    duplicates::{Dismissal, DuplicateCursor, DuplicatePage},
    ids::{
        ChannelId, ConversationId, CustomerId, JobId, MergeId, MessageId, OutboxId,
        ResolutionEntryId, UserId, WorkspaceId,
    },
    jobs::{Job, JobStatus},
    merge::Merge,
    message::Message,
    outbox::OutboxEvent,
    ports::{Store, Tx},
    privacy::{AuditEntry, CustomerExport},
    resolution::ResolutionEntry,
    stats::CustomerStats,
    timeline::{TimelineFilter, TimelineItem},
    user::User,
    workspace::{IdentityRules, Workspace},
};
use sqlx::{Pool, pool::PoolConnection};
use tokio::sync::Notify;

use crate::{
    driver::{Driver, Sql},
    error::database_error,
    tables::{
        channels, commerce, conversations, customers, duplicates, events, jobs, merges, messages,
        outbox, privacy, profile, stats, users, workspaces,
    },
    tx::SqlTx,
};

pub(crate) struct SqlStore<D: Driver> {
    writer: Pool<D::Db>,
    reader: Pool<D::Db>,
    notify: Arc<Notify>,
}

impl<D: Driver> SqlStore<D> {
    pub(crate) fn new(writer: Pool<D::Db>, reader: Pool<D::Db>, notify: Arc<Notify>) -> Self {
        SqlStore {
            writer,
            reader,
            notify,
        }
    }

    async fn read(&self) -> Result<PoolConnection<D::Db>> {
        self.reader.acquire().await.map_err(database_error)
    }

    async fn write(&self) -> Result<PoolConnection<D::Db>> {
        self.writer.acquire().await.map_err(database_error)
    }
}

#[async_trait]
impl<D: Driver> Store for SqlStore<D> {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let tx = SqlTx::<D>::begin(self.write().await?, self.notify.clone()).await?;
        Ok(Box::new(tx))
    }

    async fn begin_read(&self) -> Result<Box<dyn Tx>> {
        let tx = SqlTx::<D>::begin_read(self.read().await?, self.notify.clone()).await?;
        Ok(Box::new(tx))
    }

    async fn ping(&self) -> Result<()> {
        Sql::<D>::new("SELECT 1 AS one")
            .execute(&mut *self.read().await?)
            .await?;
        Ok(())
    }

    async fn get_workspace(&self, id: WorkspaceId) -> Result<Option<Workspace>> {
        workspaces::get::<D>(id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        workspaces::list::<D>().all(&mut *self.read().await?).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        users::find_by_email::<D>(email)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn get_user(&self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>> {
        users::get::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn list_users(&self, workspace_id: WorkspaceId) -> Result<Vec<User>> {
        users::list::<D>(workspace_id)
            .all(&mut *self.read().await?)
            .await
    }

    async fn record_login_failure(
        &self,
        id: UserId,
        failed_logins: i32,
        locked_until: Option<Timestamp>,
    ) -> Result<()> {
        users::record_login::<D>(id, failed_logins, locked_until)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn record_login_success(&self, id: UserId) -> Result<()> {
        users::record_login::<D>(id, 0, None)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn insert_session(&self, session: &Session) -> Result<()> {
        users::insert_session::<D>(session)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn find_session(&self, id_hash: &str) -> Result<Option<Session>> {
        users::find_session::<D>(id_hash)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        users::delete_session::<D>(id_hash)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn insert_api_token(&self, token: &ApiToken) -> Result<()> {
        users::insert_token::<D>(token)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn find_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        users::find_token::<D>(token_hash)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn insert_channel(&self, channel: &Channel) -> Result<()> {
        channels::insert::<D>(channel)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn list_channels(&self, workspace_id: WorkspaceId) -> Result<Vec<Channel>> {
        channels::list::<D>(workspace_id)
            .all(&mut *self.read().await?)
            .await
    }

    async fn get_channel(
        &self,
        workspace_id: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>> {
        channels::get::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn find_channel(&self, id: ChannelId) -> Result<Option<Channel>> {
        channels::find::<D>(id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn list_conversations(
        &self,
        workspace_id: WorkspaceId,
        filter: &ConversationFilter,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>> {
        conversations::list::<D>(
            &mut *self.read().await?,
            workspace_id,
            filter,
            cursor,
            limit,
        )
        .await
    }

    async fn get_conversation(
        &self,
        workspace_id: WorkspaceId,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        conversations::get::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn conversation_summaries(
        &self,
        workspace_id: WorkspaceId,
        user_id: UserId,
        ids: &[ConversationId],
    ) -> Result<Vec<ConversationSummary>> {
        conversations::summaries::<D>(&mut *self.read().await?, workspace_id, user_id, ids).await
    }

    async fn list_messages(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>> {
        messages::list::<D>(
            &mut *self.read().await?,
            workspace_id,
            conversation_id,
            cursor,
            limit,
        )
        .await
    }

    async fn get_message(
        &self,
        workspace_id: WorkspaceId,
        id: MessageId,
    ) -> Result<Option<Message>> {
        messages::get::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn get_customer_profile(
        &self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<CustomerProfile>> {
        customers::get_profile::<D>(&mut *self.read().await?, workspace_id, id).await
    }

    async fn search_customers(
        &self,
        workspace_id: WorkspaceId,
        query: Option<&str>,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<CustomerProfile>> {
        customers::search::<D>(&mut *self.read().await?, workspace_id, query, cursor, limit).await
    }

    async fn claim_jobs(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Job>> {
        jobs::claim::<D>(&mut *self.write().await?, now, lease_until, limit).await
    }

    async fn complete_job(&self, id: JobId) -> Result<()> {
        let now = chrono::Utc::now();
        jobs::finish::<D>(id, JobStatus::Done, None, None, now)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn retry_job(&self, id: JobId, run_at: Timestamp, error: &str) -> Result<()> {
        let now = chrono::Utc::now();
        jobs::finish::<D>(id, JobStatus::Queued, Some(run_at), Some(error), now)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn bury_job(&self, id: JobId, error: &str) -> Result<()> {
        let now = chrono::Utc::now();
        jobs::finish::<D>(id, JobStatus::Dead, None, Some(error), now)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn count_pending_jobs(&self) -> Result<i64> {
        jobs::count_pending::<D>(&mut *self.read().await?).await
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>> {
        jobs::get::<D>(id).optional(&mut *self.read().await?).await
    }

    async fn fetch_outbox(&self, limit: u32) -> Result<Vec<OutboxEvent>> {
        outbox::fetch::<D>(&mut *self.read().await?, limit).await
    }

    async fn delete_outbox(&self, ids: &[OutboxId]) -> Result<()> {
        outbox::delete::<D>(&mut *self.write().await?, ids).await
    }

    async fn export_customer(
        &self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<CustomerExport>> {
        privacy::export::<D>(&mut *self.read().await?, workspace_id, id).await
    }

    async fn list_audit_entries(&self, workspace_id: WorkspaceId) -> Result<Vec<AuditEntry>> {
        privacy::list_audit::<D>(workspace_id)
            .all(&mut *self.read().await?)
            .await
    }

    async fn customer_timeline(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        filter: &TimelineFilter,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<TimelineItem>> {
        events::timeline::<D>(
            &mut *self.read().await?,
            workspace_id,
            customer_id,
            filter,
            cursor,
            limit,
        )
        .await
    }

    async fn customer_orders(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<CustomerOrders> {
        let mut conn = self.read().await?;
        Ok(CustomerOrders {
            orders: commerce::orders_of::<D>(workspace_id, customer_id)
                .all(&mut conn)
                .await?,
            returns: commerce::returns_of::<D>(workspace_id, customer_id)
                .all(&mut conn)
                .await?,
        })
    }

    async fn get_customer_stats(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
    ) -> Result<CustomerStats> {
        stats::get::<D>(&mut *self.read().await?, workspace_id, customer_id).await
    }

    async fn resolution_log_of_customer(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        limit: u32,
    ) -> Result<Vec<ResolutionEntry>> {
        merges::log_of_customer::<D>(workspace_id, customer_id, limit)
            .all(&mut *self.read().await?)
            .await
    }

    async fn list_open_conflicts(
        &self,
        workspace_id: WorkspaceId,
        cursor: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<ResolutionEntry>> {
        merges::open_conflicts::<D>(&mut *self.read().await?, workspace_id, cursor, limit).await
    }

    async fn mark_conflict_reviewed(
        &self,
        workspace_id: WorkspaceId,
        id: ResolutionEntryId,
        now: Timestamp,
    ) -> Result<bool> {
        let changed = merges::mark_reviewed::<D>(workspace_id, id, now)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(changed > 0)
    }

    async fn update_identity_rules(
        &self,
        workspace_id: WorkspaceId,
        rules: &IdentityRules,
    ) -> Result<()> {
        workspaces::update_identity_rules::<D>(workspace_id, rules)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn get_merge(&self, workspace_id: WorkspaceId, id: MergeId) -> Result<Option<Merge>> {
        merges::get_merge::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn list_attribute_definitions(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<Vec<AttributeDefinition>> {
        profile::definitions::<D>(workspace_id)
            .all(&mut *self.read().await?)
            .await
    }

    async fn insert_attribute_definition(&self, definition: &AttributeDefinition) -> Result<()> {
        profile::insert_definition::<D>(definition)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn get_consent(
        &self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_kind: ChannelKind,
    ) -> Result<Option<Consent>> {
        profile::consent::<D>(workspace_id, customer_id, channel_kind)
            .optional(&mut *self.read().await?)
            .await
    }

    async fn list_duplicates(
        &self,
        workspace_id: WorkspaceId,
        cursor: Option<&DuplicateCursor>,
        limit: u32,
    ) -> Result<DuplicatePage> {
        let rows = duplicates::list::<D>(workspace_id, cursor, limit)
            .all(&mut *self.read().await?)
            .await?;
        Ok(DuplicatePage::from_rows(rows, limit))
    }

    async fn insert_duplicate_dismissal(&self, dismissal: &Dismissal) -> Result<()> {
        duplicates::insert_dismissal::<D>(dismissal)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    // Email and files.
    async fn list_channels_of_kind(&self, kind: ChannelKind) -> Result<Vec<Channel>> {
        crate::tables::email::channels_of_kind::<D>(kind)
            .all(&mut *self.read().await?)
            .await
    }

    async fn message_emails(
        &self,
        workspace_id: WorkspaceId,
        message_ids: &[MessageId],
    ) -> Result<Vec<seam_core::email::MessageEmail>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        crate::tables::email::message_emails::<D>(workspace_id, message_ids)
            .all(&mut *self.read().await?)
            .await
    }

    async fn attachments_of_messages(
        &self,
        workspace_id: WorkspaceId,
        message_ids: &[MessageId],
    ) -> Result<Vec<seam_core::email::Attachment>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        crate::tables::email::attachments_of_messages::<D>(workspace_id, message_ids)
            .all(&mut *self.read().await?)
            .await
    }

    async fn get_attachment(
        &self,
        workspace_id: WorkspaceId,
        id: seam_core::ids::AttachmentId,
    ) -> Result<Option<seam_core::email::Attachment>> {
        crate::tables::email::get_attachment::<D>(workspace_id, id)
            .optional(&mut *self.read().await?)
            .await
    }

    // Uploads and media links.
    async fn insert_upload(&self, upload: &seam_core::uploads::Upload) -> Result<()> {
        crate::tables::uploads::insert::<D>(upload)
            .execute(&mut *self.write().await?)
            .await
            .map(drop)
    }

    async fn find_attachment(
        &self,
        id: seam_core::ids::AttachmentId,
    ) -> Result<Option<seam_core::email::Attachment>> {
        crate::tables::email::find_attachment::<D>(id)
            .optional(&mut *self.read().await?)
            .await
    }
}
