//! What the outbound rules of messaging channels read from the messages table: the customer's
//! latest message on a channel. Decides nothing.

use seam_core::{
    identity::{Identity, IdentityKind},
    ids::{ChannelId, CustomerId, WorkspaceId},
    messaging::LastInbound,
};

use crate::driver::{Driver, Select, Sql};

pub(crate) fn last_inbound<D: Driver>(
    workspace_id: WorkspaceId,
    customer_id: CustomerId,
    channel_id: ChannelId,
) -> Select<D, LastInbound> {
    // Served by messages_timeline_idx (workspace, customer, created_at DESC).
    Sql::<D>::new(
        "SELECT sent_at, identity, identity_kind FROM messages
        WHERE workspace_id = $1 AND customer_id = $2 AND channel_id = $3 AND kind = 'inbound'
        ORDER BY created_at DESC, id DESC
        LIMIT 1",
    )
    .uuid(workspace_id.0)
    .uuid(customer_id.0)
    .uuid(channel_id.0)
    .select(|row| {
        let identity = match (
            row.opt_parsed("identity_kind", IdentityKind::parse)?,
            row.opt_text("identity")?,
        ) {
            (Some(kind), Some(value)) => Some(Identity::from_stored(kind, value)),
            _ => None,
        };
        Ok(LastInbound {
            at: row.time("sent_at")?,
            identity,
        })
    })
}
