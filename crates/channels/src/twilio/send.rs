//! Sending through Twilio's Messages API: one form POST per message, Basic auth with the
//! account SID and auth token.

use crate::messaging::{Outgoing, Sender, Sent, Settings, by_status, network_error, retry_after};

use super::{DEFAULT_BASE_URL, inbound::OPTED_OUT};

/// Twilio refuses longer bodies (error 21617).
pub const MAX_BODY_CHARS: usize = 1600;

pub async fn send(http: &Sender, settings: &Settings, message: &Outgoing, whatsapp: bool) -> Sent {
    let (Some(account_sid), Some(auth_token)) = (
        settings.config_str("account_sid"),
        settings.credential("auth_token"),
    ) else {
        return permanent("the channel has no Twilio account SID or auth token");
    };
    let form = match form(settings, message, whatsapp) {
        Ok(form) => form,
        Err(reason) => return permanent(&reason),
    };
    let url = format!(
        "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
        settings.base_url(DEFAULT_BASE_URL)
    );
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    let response = match http
        .post(url)
        .basic_auth(account_sid, Some(auth_token))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) => return network_error(&error),
    };
    let status = response.status();
    let wait = retry_after(response.headers());
    let reply: serde_json::Value = response.json().await.unwrap_or_default();
    if status.is_success() {
        return match reply.get("sid").and_then(|sid| sid.as_str()) {
            Some(sid) => Sent::Accepted {
                provider_message_id: sid.to_string(),
            },
            None => Sent::Retry {
                reason: "Twilio accepted the message without a sid".into(),
                retry_after: wait,
            },
        };
    }
    // Errors: `{"code":21610,"message":"…","more_info":"…","status":400}`.
    let code = reply
        .get("code")
        .and_then(|code| code.as_u64())
        .map(|code| code.to_string());
    let text = reply
        .get("message")
        .and_then(|text| text.as_str())
        .unwrap_or("no message");
    let reason = match &code {
        Some(code) => format!("Twilio error {code}: {text}"),
        None => format!("Twilio answered {}: {text}", status.as_u16()),
    };
    match code.as_deref() {
        Some(OPTED_OUT) => Sent::Permanent {
            reason,
            opted_out: true,
        },
        // Too many concurrent requests: back off and try again.
        Some("20429") => Sent::Retry {
            reason,
            retry_after: wait,
        },
        _ => by_status(status, wait, reason),
    }
}

fn permanent(reason: &str) -> Sent {
    Sent::Permanent {
        reason: reason.to_string(),
        opted_out: false,
    }
}

/// The form fields, in the order Twilio documents them.
fn form(
    settings: &Settings,
    message: &Outgoing,
    whatsapp: bool,
) -> Result<Vec<(&'static str, String)>, String> {
    let address = |number: &str| {
        if whatsapp {
            let number = number.trim_start_matches("whatsapp:");
            if number.starts_with('+') {
                format!("whatsapp:{number}")
            } else {
                // A bare `wa_id` is the number's digits.
                format!("whatsapp:+{number}")
            }
        } else {
            number.to_string()
        }
    };
    let mut form = vec![("To", address(&message.to))];
    match (
        settings.config_str("messaging_service_sid"),
        settings.config_str("from"),
    ) {
        (Some(service), _) => form.push(("MessagingServiceSid", service.to_string())),
        (None, Some(from)) => form.push(("From", address(from))),
        (None, None) => {
            return Err("the channel has neither `from` nor `messaging_service_sid`".into());
        }
    }
    if let Some(template) = &message.template {
        let content_sid = content_sid(settings, &template.name, &template.language)
            .ok_or_else(|| format!("the template {:?} has no content_sid", template.name))?;
        let variables: serde_json::Map<String, serde_json::Value> = template
            .parameters
            .iter()
            .enumerate()
            .map(|(index, value)| ((index + 1).to_string(), value.clone().into()))
            .collect();
        form.push(("ContentSid", content_sid));
        form.push((
            "ContentVariables",
            serde_json::Value::Object(variables).to_string(),
        ));
        return Ok(form);
    }
    let mut body = message.text.clone().unwrap_or_default();
    // Neither SMS nor a free-form WhatsApp message through Twilio has buttons: list the
    // choices so the customer can answer with one.
    for button in &message.buttons {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str("- ");
        body.push_str(&button.title);
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(format!(
            "the text is longer than Twilio's {MAX_BODY_CHARS} characters"
        ));
    }
    if body.is_empty() && message.media.is_empty() {
        return Err("the message has neither text nor media".into());
    }
    if !body.is_empty() {
        form.push(("Body", body));
    }
    for media in &message.media {
        form.push(("MediaUrl", media.url.clone()));
    }
    Ok(form)
}

/// The Content API SID of a configured template, by name (and language when several share
/// the name).
fn content_sid(settings: &Settings, name: &str, language: &str) -> Option<String> {
    let templates = settings.config.get("templates")?.as_array()?;
    let named = |template: &&serde_json::Value| {
        template.get("name").and_then(|value| value.as_str()) == Some(name)
    };
    let sid = |template: &serde_json::Value| {
        template
            .get("content_sid")
            .and_then(|value| value.as_str())
            .map(str::to_string)
    };
    templates
        .iter()
        .filter(named)
        .find(|template| {
            template.get("language").and_then(|value| value.as_str()) == Some(language)
        })
        .or_else(|| templates.iter().find(named))
        .and_then(sid)
}
