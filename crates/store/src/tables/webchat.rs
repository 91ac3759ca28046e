//! Website chat's writes to the messages table: a reply re-routed from the widget to email
//! changes channel and identity. Decides nothing.

use seam_core::{identity::IdentityKind, message::Message};

use crate::driver::{Driver, Sql};

pub(crate) fn update_route<D: Driver>(message: &Message) -> Sql<D> {
    Sql::<D>::new(
        "UPDATE messages SET channel_id = $3, identity = $4, identity_kind = $5
        WHERE workspace_id = $1 AND id = $2",
    )
    .uuid(message.workspace_id.0)
    .uuid(message.id.0)
    .opt_uuid(message.channel_id.map(|id| id.0))
    .opt_text(message.identity.as_deref())
    .opt_text(message.identity_kind.map(IdentityKind::as_str))
}
