//! Continuity from the widget to email: a reply on a webchat channel whose visitor is not on
//! the site goes out by email when the customer left an address and the workspace has an email
//! channel. The message keeps its id and place in the conversation; its channel and identity
//! change, an activity records why, and a new delivery job sends it.

use crate::{
    Result, Timestamp,
    channel::{Channel, ChannelKind},
    identity::IdentityKind,
    ids::{ChannelId, MessageId},
    jobs::{NewJob, kind},
    message::{DeliveryStatus, Message, MessageKind},
    outbox::OutboxEvent,
    ports::Store,
};

/// The email channel and address a reply would go to instead of the widget, if any: the
/// workspace's first email channel and the address [`Tx::deliverable_email_of_customer`] picks,
/// the one rule for where a customer's mail goes (not bouncing, the one they last wrote from).
///
/// [`Tx::deliverable_email_of_customer`]: crate::ports::Tx::deliverable_email_of_customer
pub fn email_route(address: Option<&str>, channels: &[Channel]) -> Option<(ChannelId, String)> {
    let channel = channels
        .iter()
        .filter(|channel| channel.kind == ChannelKind::Email)
        .min_by_key(|channel| channel.created_at)?;
    Some((channel.id, address?.to_string()))
}

/// Moves a queued webchat reply to email (see [`email_route`]) in one transaction: the
/// message's channel and identity, an activity saying why, and the delivery job. `None` when
/// there is no route, or the message is no longer a queued webchat reply; it then stays
/// queued for the visitor's next visit.
pub async fn reroute_to_email(
    store: &dyn Store,
    message: &Message,
    now: Timestamp,
) -> Result<Option<Message>> {
    let workspace_id = message.workspace_id;
    let channels = store.list_channels(workspace_id).await?;
    let mut tx = store.begin().await?;
    let Some(mut current) = tx.get_message(workspace_id, message.id).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let on_webchat = current.channel_id.is_some_and(|id| {
        channels
            .iter()
            .any(|channel| channel.id == id && channel.kind == ChannelKind::Webchat)
    });
    if current.kind != MessageKind::Outbound
        || current.delivery_status != Some(DeliveryStatus::Queued)
        || !on_webchat
    {
        tx.rollback().await?;
        return Ok(None);
    }
    let address = tx
        .deliverable_email_of_customer(workspace_id, current.customer_id)
        .await?;
    let Some((email_channel, address)) = email_route(address.as_deref(), &channels) else {
        tx.rollback().await?;
        return Ok(None);
    };
    current.channel_id = Some(email_channel);
    current.identity = Some(address.clone());
    current.identity_kind = Some(IdentityKind::Email);
    tx.update_message_route(&current).await?;
    let activity = Message {
        id: MessageId::new(),
        workspace_id,
        conversation_id: current.conversation_id,
        customer_id: current.customer_id,
        kind: MessageKind::Activity,
        channel_id: None,
        identity: None,
        identity_kind: None,
        author_id: None,
        provider_message_id: None,
        text: format!("The visitor was not on the site, so the reply goes to {address} by email."),
        delivery_status: None,
        delivery_error: None,
        sent_at: now,
        created_at: now,
    };
    tx.insert_message(&activity).await?;
    let job = NewJob::new(
        workspace_id,
        kind::DELIVER_MESSAGE,
        serde_json::json!({ "message_id": current.id }),
        now,
    )
    .dedupe(format!("message:{}:email", current.id));
    tx.insert_job(&job).await?;
    tx.insert_outbox(&OutboxEvent::message_updated(&current, now))
        .await?;
    tx.insert_outbox(&OutboxEvent::message_created(&activity, now))
        .await?;
    tx.commit().await?;
    Ok(Some(current))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::WorkspaceId;

    fn channel(kind: ChannelKind, age_secs: i64) -> Channel {
        Channel {
            id: ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            kind,
            name: kind.as_str().into(),
            config: serde_json::json!({}),
            secret: "s".into(),
            credentials: String::new(),
            created_at: chrono::Utc::now() - chrono::Duration::seconds(age_secs),
        }
    }

    #[test]
    fn a_reply_goes_by_email_only_with_an_address_and_an_email_channel() {
        let webchat = channel(ChannelKind::Webchat, 0);
        let email = channel(ChannelKind::Email, 10);
        let newer_email = channel(ChannelKind::Email, 0);
        assert_eq!(
            email_route(
                Some("ana@example.com"),
                &[webchat.clone(), newer_email, email.clone()]
            ),
            Some((email.id, "ana@example.com".to_string()))
        );
        assert_eq!(email_route(None, &[webchat.clone(), email.clone()]), None);
        assert_eq!(email_route(Some("ana@example.com"), &[webchat]), None);
    }
}
