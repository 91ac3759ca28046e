//! `/api/v1/conversations/{id}/messages`: read a conversation's messages and send a reply or an
//! internal note. Channel choice and delivery rules are core's (`outbound`).

use std::{collections::HashMap, sync::Arc};

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use chrono::{DateTime, Utc};
use seam_core::{
    Error, Result,
    email::{Attachment, MessageEmail},
    ids::{ChannelId, ConversationId, MessageId, UploadId},
    message::Message,
    outbound::{self, ChannelChoice, Reply},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    ApiState,
    authenticate::Authenticated,
    error::{ApiError, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery},
    page::{self, List},
};

pub fn router() -> Router<Arc<ApiState>> {
    Router::new().route("/api/v1/conversations/{id}/messages", get(list).post(send))
}

/// A message as clients see it (the same fields realtime events carry).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    pub customer_id: Uuid,
    /// `inbound`, `outbound`, `note` or `activity`.
    pub kind: String,
    pub channel_id: Option<Uuid>,
    /// The address it came from or went to, when known.
    pub identity: Option<String>,
    pub author_id: Option<Uuid>,
    pub provider_message_id: Option<String>,
    pub text: String,
    /// `queued`, `sent`, `delivered`, `read` or `failed`; outbound messages only.
    pub delivery_status: Option<String>,
    pub delivery_error: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// For email: subject, sanitised HTML, the full text with quotes, authentication results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Box<EmailView>>,
    /// Files that came with the message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
}

/// The email part of a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailView {
    pub message_id: String,
    pub subject: Option<String>,
    /// Sanitised HTML. Remote images are blocked: their URL is in `data-seam-src`, to restore
    /// when the agent allows it. Inline images point at `/api/v1/attachments/{id}`.
    pub html: Option<String>,
    pub remote_images: bool,
    /// The whole text, quoted history included (`text` is the new part).
    pub full_text: String,
    /// Why it looks machine-sent, when it does.
    pub automated: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub auth: Option<seam_core::email::AuthResults>,
    /// Shown beside the message, e.g. when the sender's address could not be verified.
    pub warning: Option<String>,
}

/// A file of a message; its bytes at `url`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub inline: bool,
    pub url: String,
}

impl From<&Attachment> for AttachmentView {
    fn from(attachment: &Attachment) -> Self {
        AttachmentView {
            id: attachment.id.0,
            file_name: attachment.file_name.clone(),
            content_type: attachment.content_type.clone(),
            size_bytes: attachment.size_bytes,
            inline: attachment.inline,
            url: format!("/api/v1/attachments/{}", attachment.id.0),
        }
    }
}

impl MessageView {
    /// Adds the email parts and files of a page of messages.
    pub fn decorate(views: &mut [MessageView], emails: Vec<MessageEmail>, files: &[Attachment]) {
        let mut emails: HashMap<Uuid, MessageEmail> = emails
            .into_iter()
            .map(|email| (email.message_id.0, email))
            .collect();
        for view in views {
            let own: Vec<&Attachment> = files
                .iter()
                .filter(|file| file.message_id.0 == view.id)
                .collect();
            view.attachments = own.iter().map(|file| AttachmentView::from(*file)).collect();
            if let Some(email) = emails.remove(&view.id) {
                view.email = Some(Box::new(EmailView::new(email, &own, &view.text)));
            }
        }
    }
}

impl EmailView {
    fn new(email: MessageEmail, files: &[&Attachment], text: &str) -> Self {
        let mut details = email.details;
        if details.full_text.is_empty() {
            details.full_text = text.to_string();
        }
        // `cid:` links of inline images point at their stored files.
        let html = details.html.map(|mut html| {
            for file in files {
                if let Some(content_id) = &file.content_id {
                    html = html.replace(
                        &format!("cid:{content_id}"),
                        &format!("/api/v1/attachments/{}", file.id.0),
                    );
                }
            }
            html
        });
        let warning = details
            .auth
            .as_ref()
            .filter(|auth| auth.dmarc_failed())
            .map(|_| {
                "The sender's address could not be verified (DMARC failed): this may not be \
                 from the customer."
                    .to_string()
            });
        EmailView {
            message_id: email.email_message_id,
            subject: details.subject,
            html,
            remote_images: details.remote_images,
            full_text: details.full_text,
            automated: details.automated,
            auth: details.auth,
            warning,
        }
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id.0,
            workspace_id: m.workspace_id.0,
            conversation_id: m.conversation_id.0,
            customer_id: m.customer_id.0,
            kind: m.kind.as_str().to_string(),
            channel_id: m.channel_id.map(|id| id.0),
            identity: m.identity,
            author_id: m.author_id.map(|id| id.0),
            provider_message_id: m.provider_message_id,
            text: m.text,
            delivery_status: m.delivery_status.map(|status| status.as_str().to_string()),
            delivery_error: m.delivery_error,
            sent_at: m.sent_at,
            created_at: m.created_at,
            email: None,
            attachments: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 25.
    pub limit: Option<String>,
}

/// Lists a conversation's messages, newest first.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id"), ListQuery),
    responses(
        (status = 200, description = "One page", body = List<MessageView>),
        (status = 404, description = "No such conversation", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<List<MessageView>>, ApiError> {
    let cursor = page::parse_cursor(query.cursor.as_deref())?;
    let limit = page::parse_limit(query.limit.as_deref())?;
    let page =
        outbound::list_messages(state.store.as_ref(), &actor, id, cursor.as_ref(), limit).await?;
    let ids: Vec<MessageId> = page.items.iter().map(|message| message.id).collect();
    let (emails, files) =
        seam_core::email::decorations(state.store.as_ref(), actor.workspace_id, &ids).await?;
    let mut list = List::from_page(page, MessageView::from);
    MessageView::decorate(&mut list.items, emails, &files);
    Ok(Json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendRequest {
    /// May be empty when `template` or `attachments` are given.
    #[serde(default)]
    pub text: String,
    /// A channel id, or `auto` (the default): the channel the customer last wrote on.
    pub channel: Option<String>,
    /// An internal note: shown to agents, never delivered.
    #[serde(default)]
    pub private: bool,
    /// An approved WhatsApp template of the channel, by name, sent instead of `text` (which
    /// may then be empty). Its language follows the customer's locale and its parameters are
    /// filled from their profile. Outside WhatsApp's 24-hour window only templates can go.
    pub template: Option<String>,
    /// Reply buttons (WhatsApp: at most 3) or quick replies (Messenger, Instagram, Telegram,
    /// LINE).
    #[serde(default)]
    pub buttons: Vec<ButtonRequest>,
    /// Files to send, in order: ids from `POST /api/v1/uploads`, at most 10. Messaging channels
    /// carry them (within each provider's limits), a note stores them; email, API and website
    /// chat replies refuse them.
    #[serde(default)]
    #[schema(value_type = Vec<Uuid>)]
    pub attachments: Vec<String>,
}

/// A reply button: `id` comes back when the customer taps it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ButtonRequest {
    pub id: String,
    pub title: String,
}

impl SendRequest {
    pub fn into_reply(self) -> Result<Reply> {
        let channel = match self.channel.as_deref().map(str::trim) {
            None | Some("auto") => ChannelChoice::Auto,
            Some(raw) => ChannelChoice::Explicit(
                ChannelId::parse(raw)
                    .ok_or_else(|| Error::invalid("channel", "must be a channel id or auto"))?,
            ),
        };
        let attachments = self
            .attachments
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                UploadId::parse(raw.trim()).ok_or_else(|| {
                    Error::invalid(format!("attachments[{index}]"), "must be an upload id")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Reply {
            text: self.text,
            channel,
            private: self.private,
            template: self
                .template
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty()),
            buttons: self
                .buttons
                .into_iter()
                .map(|button| seam_core::messaging::Choice {
                    id: button.id,
                    title: button.title,
                })
                .collect(),
            attachments,
        })
    }
}

/// Sends a reply (queued for delivery) or, with `private`, stores an internal note.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/messages", tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = SendRequest,
    responses(
        (status = 201, description = "Stored (and queued, for replies)", body = MessageView),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "Invalid input, or a channel that cannot deliver it now \
            (code `undeliverable`: the reason and the channels and templates that can)", body = ErrorBody),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub(crate) async fn send(
    State(state): State<Arc<ApiState>>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(request): ApiJson<SendRequest>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let reply = request.into_reply()?;
    let with_files = !reply.attachments.is_empty();
    let message =
        outbound::send_reply(state.store.as_ref(), &actor, id, reply, chrono::Utc::now()).await?;
    let ids = [message.id];
    let mut views = [MessageView::from(message)];
    // The reply is committed: a failure to read its files back must not look like a failed
    // send (the agent would send it again), so the answer then goes without them.
    if with_files {
        match seam_core::email::decorations(state.store.as_ref(), actor.workspace_id, &ids).await {
            Ok((emails, files)) => MessageView::decorate(&mut views, emails, &files),
            Err(error) => tracing::warn!(%error, "reading a reply's files back failed"),
        }
    }
    let [view] = views;
    Ok((StatusCode::CREATED, Json(view)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    #[test]
    fn a_reply_goes_out_on_the_last_channel_unless_one_is_named() {
        let request: SendRequest = parse_json(br#"{"text": "hi"}"#).unwrap();
        let reply = request.into_reply().unwrap();
        assert_eq!(reply.channel, ChannelChoice::Auto);
        assert!(!reply.private);
        let request: SendRequest = parse_json(br#"{"text": "hi", "channel": "auto"}"#).unwrap();
        assert_eq!(request.into_reply().unwrap().channel, ChannelChoice::Auto);
        let id = ChannelId::new();
        let body = format!(r#"{{"text": "hi", "channel": "{id}", "private": true}}"#);
        let reply = parse_json::<SendRequest>(body.as_bytes())
            .unwrap()
            .into_reply()
            .unwrap();
        assert_eq!(reply.channel, ChannelChoice::Explicit(id));
        assert!(reply.private);
    }

    #[test]
    fn attachments_are_upload_ids_and_the_text_may_be_left_out() {
        let id = UploadId::new();
        let body = format!(r#"{{"attachments": ["{id}"]}}"#);
        let reply = parse_json::<SendRequest>(body.as_bytes())
            .unwrap()
            .into_reply()
            .unwrap();
        assert_eq!(reply.attachments, vec![id]);
        assert_eq!(reply.text, "");
        let body = format!(r#"{{"text": "hi", "attachments": ["{id}", "invoice.pdf"]}}"#);
        let error = parse_json::<SendRequest>(body.as_bytes())
            .unwrap()
            .into_reply()
            .unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "attachments[1]"),
            "{error:?}"
        );
    }

    #[test]
    fn a_channel_that_is_neither_an_id_nor_auto_is_invalid() {
        let request: SendRequest = parse_json(br#"{"text": "hi", "channel": "email"}"#).unwrap();
        let error = request.into_reply().unwrap_err();
        assert!(
            matches!(error, Error::Invalid { ref field, .. } if field == "channel"),
            "{error:?}"
        );
    }
}
