//! The frames of `/widget/ws`, as JSON text with a `type` field (docs/widget-protocol.md).
//! Parsing and encoding only.

use axum::extract::ws::Message as Frame;
use seam_core::{
    ids::MessageId,
    message::DeliveryStatus,
    webchat::{Hello, Visitor, WebchatConfig, WidgetMessage, WidgetPush},
};
use serde::{Deserialize, Serialize};

/// What a widget sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum ClientFrame {
    Hello {
        /// The channel id; when given, it must be the one in the URL.
        channel: Option<String>,
        visitor_id: Option<String>,
        visitor_token: Option<String>,
        user_id: Option<String>,
        user_hash: Option<String>,
        name: Option<String>,
        email: Option<String>,
        /// The newest message id the widget holds: the welcome carries only newer ones.
        last_event_id: Option<MessageId>,
    },
    Message {
        client_id: String,
        text: String,
    },
    Typing {
        typing: bool,
    },
    Delivered {
        message_ids: Vec<MessageId>,
    },
    Read {
        message_ids: Vec<MessageId>,
    },
}

impl ClientFrame {
    pub(crate) fn parse(text: &str) -> Result<ClientFrame, String> {
        serde_json::from_str(text).map_err(|error| {
            let reason = error.to_string();
            // serde's messages name fields and types, never the input's content.
            reason
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string()
        })
    }

    pub(crate) fn into_hello(self) -> Option<(Option<String>, Hello, Option<MessageId>)> {
        match self {
            ClientFrame::Hello {
                channel,
                visitor_id,
                visitor_token,
                user_id,
                user_hash,
                name,
                email,
                last_event_id,
            } => Some((
                channel,
                Hello {
                    visitor_id,
                    visitor_token,
                    user_id,
                    user_hash,
                    name,
                    email,
                },
                last_event_id,
            )),
            _ => None,
        }
    }
}

/// The channel settings a widget needs to draw itself.
#[derive(Debug, Serialize)]
pub(crate) struct ChannelView {
    pub name: String,
    pub greeting: Option<String>,
    pub locale: Option<String>,
    pub pre_chat_form: bool,
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ServerFrame<'a> {
    Welcome {
        visitor_id: &'a str,
        visitor_token: &'a str,
        /// Whether the page's `user_id` was accepted (its `user_hash` was right).
        verified: bool,
        channel: ChannelView,
        messages: &'a [WidgetMessage],
    },
    Ack {
        client_id: &'a str,
        message_id: MessageId,
        created_at: seam_core::Timestamp,
    },
    Status {
        message_id: MessageId,
        status: DeliveryStatus,
    },
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

impl ServerFrame<'_> {
    pub(crate) fn encode(&self) -> Frame {
        Frame::Text(
            serde_json::to_string(self)
                .unwrap_or_else(|_| {
                    r#"{"type":"error","code":"internal","message":"internal"}"#.into()
                })
                .into(),
        )
    }

    pub(crate) fn error(code: &'static str, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            client_id: None,
            retry_after_ms: None,
        }
    }
}

pub(crate) fn welcome<'a>(visitor: &'a Visitor, messages: &'a [WidgetMessage]) -> ServerFrame<'a> {
    let config = WebchatConfig::of(&visitor.channel);
    ServerFrame::Welcome {
        visitor_id: &visitor.visitor_id,
        visitor_token: &visitor.visitor_token,
        verified: visitor.verified_user_id.is_some(),
        channel: ChannelView {
            name: visitor.channel.name.clone(),
            greeting: config.greeting,
            locale: config.locale,
            pre_chat_form: config.pre_chat_form,
        },
        messages,
    }
}

/// A push from the presence registry as a frame.
pub(crate) fn encode_push(push: &WidgetPush) -> Frame {
    Frame::Text(
        serde_json::to_string(push)
            .unwrap_or_else(|_| r#"{"type":"error","code":"internal","message":"internal"}"#.into())
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_by_their_type() {
        let frame =
            ClientFrame::parse(r#"{"type":"message","client_id":"c-1","text":"hi"}"#).unwrap();
        assert!(matches!(frame, ClientFrame::Message { ref client_id, .. } if client_id == "c-1"));
        let frame = ClientFrame::parse(r#"{"type":"hello","visitor_id":"v_1"}"#).unwrap();
        let (_, hello, _) = frame.into_hello().unwrap();
        assert_eq!(hello.visitor_id.as_deref(), Some("v_1"));
    }

    #[test]
    fn an_unknown_frame_is_refused_with_a_reason_that_does_not_echo_it() {
        let reason = ClientFrame::parse(r#"{"type":"steal","secret":"abc"}"#).unwrap_err();
        assert!(reason.contains("unknown variant"), "{reason}");
        assert!(!reason.contains("abc"));
        assert!(ClientFrame::parse("not json").is_err());
    }
}
