//! Sending through the Bot API: `sendMessage` for text (with an inline keyboard for buttons
//! and `reply_parameters` for a quoted message), `sendPhoto`/`sendDocument` by URL for files.

use std::time::Duration;

use serde_json::{Value, json};

use crate::messaging::{Outgoing, Sender, Sent, network_error};

use super::{Bot, description};

/// Telegram refuses longer texts; Seam does not split a message behind the writer's back.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Telegram's limit on a button's `callback_data`, in bytes.
const MAX_CALLBACK_BYTES: usize = 64;

pub(super) async fn send(http: &Sender, bot: &Bot<'_>, message: &Outgoing) -> Sent {
    let calls = match calls(message) {
        Ok(calls) => calls,
        Err(reason) => {
            return Sent::Permanent {
                reason,
                opted_out: false,
            };
        }
    };
    let mut first = None;
    for (method, body) in calls {
        match call(http, bot, method, &body).await {
            Ok(id) => {
                first.get_or_insert(id);
            }
            Err(failure) => return failure,
        }
    }
    match first {
        Some(provider_message_id) => Sent::Accepted {
            provider_message_id,
        },
        None => Sent::Permanent {
            reason: "the message has neither text nor media".into(),
            opted_out: false,
        },
    }
}

/// The Bot API calls for one message: the text first, then each file. The buttons and the
/// quote go on the first call; with no text, the buttons go on the last file.
fn calls(message: &Outgoing) -> Result<Vec<(&'static str, Value)>, String> {
    if message.template.is_some() {
        return Err("Telegram has no message templates".into());
    }
    let chat_id: Value = message
        .to
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(message.to.clone()));
    let mut calls = Vec::new();
    if let Some(text) = message.text.as_deref().filter(|text| !text.is_empty()) {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(format!(
                "the text is longer than Telegram's {MAX_TEXT_CHARS} characters"
            ));
        }
        calls.push(("sendMessage", json!({"chat_id": chat_id, "text": text})));
    }
    for media in &message.media {
        let photo = media.content_type.starts_with("image/") && media.content_type != "image/gif";
        let (method, field) = if photo {
            ("sendPhoto", "photo")
        } else {
            ("sendDocument", "document")
        };
        calls.push((method, json!({"chat_id": chat_id, field: media.url})));
    }
    if let Some(message_id) = message.reply_to.as_deref().and_then(message_id)
        && let Some((_, body)) = calls.first_mut()
    {
        body["reply_parameters"] =
            json!({"message_id": message_id, "allow_sending_without_reply": true});
    }
    if !message.buttons.is_empty() {
        let mut rows = Vec::new();
        for button in &message.buttons {
            if button.id.len() > MAX_CALLBACK_BYTES {
                return Err(format!(
                    "a button id is longer than Telegram's {MAX_CALLBACK_BYTES} bytes"
                ));
            }
            rows.push(json!([{"text": button.title, "callback_data": button.id}]));
        }
        let target = if message.text.as_deref().is_some_and(|text| !text.is_empty()) {
            calls.first_mut()
        } else {
            calls.last_mut()
        };
        if let Some((_, body)) = target {
            body["reply_markup"] = json!({"inline_keyboard": rows});
        }
    }
    Ok(calls)
}

/// The message id in Seam's `<chat>:<message_id>[:edit:<date>]` form.
fn message_id(provider_id: &str) -> Option<i64> {
    let mut parts = provider_id.split(':');
    match (parts.next(), parts.next()) {
        (Some(_), Some(id)) => id.parse().ok(),
        (Some(id), None) => id.parse().ok(),
        _ => None,
    }
}

/// One Bot API call: the new message's id as `<chat>:<message_id>`, or how it failed.
async fn call(http: &Sender, bot: &Bot<'_>, method: &str, body: &Value) -> Result<String, Sent> {
    let response = http
        .post(bot.method(method))
        .json(body)
        .send()
        .await
        .map_err(|error| network_error(&error))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    if answer.get("ok").and_then(Value::as_bool) == Some(true) {
        let chat = answer
            .pointer("/result/chat/id")
            .and_then(Value::as_i64)
            .map(|chat| chat.to_string())
            .unwrap_or_else(|| body["chat_id"].to_string());
        let id = answer
            .pointer("/result/message_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Sent::Retry {
                reason: format!("Telegram accepted {method} without a message_id"),
                retry_after: None,
            })?;
        return Ok(format!("{chat}:{id}"));
    }
    // `{"ok":false,"error_code":429,"description":"…","parameters":{"retry_after":N}}`
    let code = answer
        .get("error_code")
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(status.as_u16()));
    let reason = format!(
        "Telegram refused {method} ({code}): {}",
        bot.scrub(description(&answer))
    );
    let retry_after = answer
        .pointer("/parameters/retry_after")
        .and_then(Value::as_u64)
        .map(Duration::from_secs);
    Err(match code {
        429 => Sent::Retry {
            reason,
            retry_after,
        },
        code if code >= 500 => Sent::Retry {
            reason,
            retry_after,
        },
        // "Forbidden: bot was blocked by the user" (or the user is deactivated).
        403 => Sent::Permanent {
            reason,
            opted_out: true,
        },
        // A wrong token: the API answers 401 Unauthorized or 404 Not Found.
        _ => Sent::Permanent {
            reason,
            opted_out: false,
        },
    })
}
