//! `Tx` for either driver: one write transaction on the writer connection. Outbox rows are held
//! back and written in one statement at commit; after a commit that wrote outbox rows or jobs
//! the relay and workers are woken. Delegates all SQL to `tables`; decides nothing.

use std::sync::Arc;

use async_trait::async_trait;
use seam_core::{
    Result,
    channel::Channel,
    conversation::Conversation,
    customer::{Customer, CustomerIdentity},
    event::Event,
    identity::Identity,
    ids::{ChannelId, ConversationId, CustomerId, MessageId, TeamId, UserId, WorkspaceId},
    jobs::NewJob,
    message::Message,
    outbox::OutboxEvent,
    ports::Tx,
    user::User,
    workspace::Workspace,
};
use sqlx::Transaction;
use tokio::sync::Notify;

use crate::{
    driver::Driver,
    error::database_error,
    tables::{channels, conversations, customers, jobs, messages, outbox, users, workspaces},
};

pub(crate) struct SqlTx<D: Driver> {
    tx: Transaction<'static, D::Db>,
    /// Outbox rows to write at commit.
    outbox: Vec<OutboxEvent>,
    /// Whether a job was enqueued, so the workers must be woken after commit.
    enqueued_job: bool,
    notify: Arc<Notify>,
}

impl<D: Driver> SqlTx<D> {
    pub(crate) fn new(tx: Transaction<'static, D::Db>, notify: Arc<Notify>) -> Self {
        SqlTx {
            tx,
            outbox: Vec::new(),
            enqueued_job: false,
            notify,
        }
    }
}

#[async_trait]
impl<D: Driver> Tx for SqlTx<D> {
    async fn commit(self: Box<Self>) -> Result<()> {
        let SqlTx {
            mut tx,
            outbox: pending,
            enqueued_job,
            notify,
        } = *self;
        outbox::insert_all::<D>(&mut *tx, &pending).await?;
        tx.commit().await.map_err(database_error)?;
        if enqueued_job || !pending.is_empty() {
            notify.notify_one();
        }
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await.map_err(database_error)
    }

    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<()> {
        workspaces::insert::<D>(&mut *self.tx, workspace).await
    }

    async fn get_workspace(&mut self, id: WorkspaceId) -> Result<Option<Workspace>> {
        workspaces::get::<D>(&mut *self.tx, id).await
    }

    async fn insert_user(&mut self, user: &User) -> Result<()> {
        users::insert::<D>(&mut *self.tx, user).await
    }

    async fn get_user(&mut self, workspace_id: WorkspaceId, id: UserId) -> Result<Option<User>> {
        users::get::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn insert_team(
        &mut self,
        workspace_id: WorkspaceId,
        id: TeamId,
        name: &str,
    ) -> Result<()> {
        channels::insert_team::<D>(&mut *self.tx, workspace_id, id, name).await
    }

    async fn team_exists(&mut self, workspace_id: WorkspaceId, id: TeamId) -> Result<bool> {
        channels::team_exists::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn insert_channel(&mut self, channel: &Channel) -> Result<()> {
        channels::insert::<D>(&mut *self.tx, channel).await
    }

    async fn get_channel(
        &mut self,
        workspace_id: WorkspaceId,
        id: ChannelId,
    ) -> Result<Option<Channel>> {
        channels::get::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn find_message_by_provider_id(
        &mut self,
        channel_id: ChannelId,
        provider_message_id: &str,
    ) -> Result<Option<Message>> {
        messages::find_by_provider_id::<D>(&mut *self.tx, channel_id, provider_message_id).await
    }

    async fn find_identities(
        &mut self,
        workspace_id: WorkspaceId,
        identities: &[Identity],
    ) -> Result<Vec<CustomerIdentity>> {
        customers::find_identities::<D>(&mut *self.tx, workspace_id, identities).await
    }

    async fn insert_customer(&mut self, customer: &Customer) -> Result<()> {
        customers::insert::<D>(&mut *self.tx, customer).await
    }

    async fn get_customer(
        &mut self,
        workspace_id: WorkspaceId,
        id: CustomerId,
    ) -> Result<Option<Customer>> {
        customers::get::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn update_customer(&mut self, customer: &Customer) -> Result<()> {
        customers::update::<D>(&mut *self.tx, customer).await
    }

    async fn insert_identity(&mut self, identity: &CustomerIdentity) -> Result<()> {
        customers::insert_identity::<D>(&mut *self.tx, identity).await
    }

    async fn latest_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        customer_id: CustomerId,
        channel_id: Option<ChannelId>,
    ) -> Result<Option<Conversation>> {
        conversations::latest::<D>(&mut *self.tx, workspace_id, customer_id, channel_id).await
    }

    async fn get_conversation(
        &mut self,
        workspace_id: WorkspaceId,
        id: ConversationId,
    ) -> Result<Option<Conversation>> {
        conversations::get::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        conversations::insert::<D>(&mut *self.tx, conversation).await
    }

    async fn update_conversation(&mut self, conversation: &Conversation) -> Result<()> {
        conversations::update::<D>(&mut *self.tx, conversation).await
    }

    async fn insert_message(&mut self, message: &Message) -> Result<()> {
        messages::insert::<D>(&mut *self.tx, message).await
    }

    async fn get_message(
        &mut self,
        workspace_id: WorkspaceId,
        id: MessageId,
    ) -> Result<Option<Message>> {
        messages::get::<D>(&mut *self.tx, workspace_id, id).await
    }

    async fn update_message_delivery(&mut self, message: &Message) -> Result<()> {
        messages::update_delivery::<D>(&mut *self.tx, message).await
    }

    async fn insert_event(&mut self, event: &Event) -> Result<()> {
        outbox::insert_event::<D>(&mut *self.tx, event).await
    }

    async fn insert_outbox(&mut self, event: &OutboxEvent) -> Result<()> {
        self.outbox.push(event.clone());
        Ok(())
    }

    async fn insert_job(&mut self, job: &NewJob) -> Result<()> {
        if jobs::insert::<D>(&mut *self.tx, job, chrono::Utc::now()).await? {
            self.enqueued_job = true;
        }
        Ok(())
    }
}
