//! Sending through the Messaging API: a reply while a reply token is fresh, otherwise a push
//! made idempotent with `X-Line-Retry-Key`. Up to five message objects go in one request.

use serde_json::{Value, json};

use crate::messaging::{Outgoing, Sender, Sent, Settings, by_status, network_error, retry_after};

use super::DEFAULT_BASE_URL;

/// LINE's limit on a text message, in characters.
pub const MAX_TEXT_CHARS: usize = 5000;
/// Message objects per request.
pub const MAX_MESSAGES: usize = 5;
/// Quick reply buttons per message, and characters in a button's label.
const MAX_QUICK_REPLIES: usize = 13;
const MAX_LABEL_CHARS: usize = 20;

pub async fn send(http: &Sender, settings: &Settings, message: &Outgoing) -> Sent {
    let Some(token) = settings.credential("channel_access_token") else {
        return permanent("the channel has no LINE channel access token".into());
    };
    let messages = match messages(message) {
        Ok(messages) => messages,
        Err(reason) => return permanent(reason),
    };
    let base = settings.base_url(DEFAULT_BASE_URL);
    let sent = Sent::Accepted {
        provider_message_id: format!("sent:{}", message.message_id),
    };
    if let Some(reply_token) = &message.reply_token {
        let response = http
            .post(format!("{base}/v2/bot/message/reply"))
            .bearer_auth(token)
            .json(&json!({"replyToken": reply_token, "messages": messages}))
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => return sent,
            // An expired or used reply token (400): the push below still reaches the user.
            Ok(response) if response.status() == reqwest::StatusCode::BAD_REQUEST => {}
            Ok(response) => return failure(response).await,
            Err(error) => return network_error(&error),
        }
    }
    let response = http
        .post(format!("{base}/v2/bot/message/push"))
        .bearer_auth(token)
        // The same key on every attempt: LINE delivers once and answers 409 to a repeat.
        .header("X-Line-Retry-Key", message.message_id.to_string())
        .json(&json!({"to": message.to, "messages": messages}))
        .send()
        .await;
    match response {
        Ok(response)
            if response.status().is_success()
                || response.status() == reqwest::StatusCode::CONFLICT =>
        {
            sent
        }
        Ok(response) => failure(response).await,
        Err(error) => network_error(&error),
    }
}

fn permanent(reason: String) -> Sent {
    Sent::Permanent {
        reason,
        opted_out: false,
    }
}

/// An error answer: `{"message":"…","details":[{"message","property"}]}`.
async fn failure(response: reqwest::Response) -> Sent {
    let status = response.status();
    let wait = retry_after(response.headers());
    let answer: Value = response.json().await.unwrap_or_default();
    let mut reason = format!(
        "LINE answered {}: {}",
        status.as_u16(),
        answer
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
    );
    if let Some(detail) = answer.pointer("/details/0/message").and_then(Value::as_str) {
        reason.push_str(" (");
        reason.push_str(detail);
        reason.push(')');
    }
    by_status(status, wait, reason)
}

/// The message objects: the text, then each file. LINE sends images and videos only with a
/// preview image, and has no message type for other files, so those go as links.
fn messages(message: &Outgoing) -> Result<Vec<Value>, String> {
    if message.template.is_some() {
        return Err("LINE has no message templates".into());
    }
    let mut messages = Vec::new();
    let mut links = Vec::new();
    for media in &message.media {
        if media.content_type.starts_with("image/") {
            messages.push(json!({
                "type": "image",
                "originalContentUrl": media.url,
                "previewImageUrl": media.url,
            }));
        } else {
            let name = media.file_name.as_deref().unwrap_or("file");
            links.push(format!("{name}: {}", media.url));
        }
    }
    let mut text = message.text.clone().unwrap_or_default();
    for link in links {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&link);
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "the text is longer than LINE's {MAX_TEXT_CHARS} characters"
        ));
    }
    if !text.is_empty() {
        messages.insert(0, json!({"type": "text", "text": text}));
    }
    if messages.is_empty() {
        return Err("the message has neither text nor media".into());
    }
    if messages.len() > MAX_MESSAGES {
        return Err(format!(
            "LINE takes at most {MAX_MESSAGES} messages in one send"
        ));
    }
    if !message.buttons.is_empty() {
        if message.buttons.len() > MAX_QUICK_REPLIES {
            return Err(format!(
                "LINE takes at most {MAX_QUICK_REPLIES} quick replies"
            ));
        }
        // A postback action: the button's id comes back as the postback's data, and the
        // chat shows the label as the user's answer.
        let items: Vec<Value> = message
            .buttons
            .iter()
            .map(|button| {
                let label: String = button.title.chars().take(MAX_LABEL_CHARS).collect();
                json!({
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": label,
                        "data": button.id,
                        "displayText": button.title,
                    },
                })
            })
            .collect();
        if let Some(last) = messages.last_mut() {
            last["quickReply"] = json!({ "items": items });
        }
    }
    Ok(messages)
}
