//! Twilio's inbound webhooks, read: a message (SMS, MMS, WhatsApp) or a status callback, both
//! form-encoded. Pure functions over the body.

use seam_core::{identity::IdentityKind, message::DeliveryStatus};

use crate::messaging::{
    Content, Direction, Event, HookError, Incoming, MediaRef, MediaSource, Party, StatusReport,
};

/// Twilio's error for a recipient who replied STOP: further sends to them fail.
pub const OPTED_OUT: &str = "21610";

/// The form parameters in order of arrival; a repeated name keeps every value.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }
}

pub fn parse(body: &[u8]) -> Result<Vec<Event>, HookError> {
    let form = Form(form_pairs(body));
    let Some(sid) = form
        .get("MessageSid")
        .or_else(|| form.get("SmsMessageSid"))
        .or_else(|| form.get("SmsSid"))
    else {
        return Err(HookError::Malformed(
            "a Twilio message webhook carries a MessageSid".into(),
        ));
    };
    // Status callbacks carry `MessageStatus`; inbound messages `SmsStatus=received` (and,
    // on some accounts, `MessageStatus=received` too).
    match form.get("MessageStatus") {
        Some(status) if !matches!(status, "received" | "receiving") => {
            Ok(status_report(&form, sid, status).into_iter().collect())
        }
        _ => message(&form, sid),
    }
}

fn status_report(form: &Form, sid: &str, status: &str) -> Option<Event> {
    let status = match status {
        "accepted" | "scheduled" | "queued" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "undelivered" | "failed" | "canceled" => DeliveryStatus::Failed,
        _ => return None,
    };
    let code = form.get("ErrorCode").filter(|code| *code != "0");
    let error = code.map(|code| {
        let title = form
            .get("ErrorMessage")
            .or_else(|| error_title(code))
            .unwrap_or("Twilio error");
        format!("{code}: {title}")
    });
    Some(Event::Status(StatusReport {
        provider_message_id: sid.to_string(),
        status,
        error,
        // Twilio's callbacks carry no time: the moment of arrival stands for it.
        at: None,
        opted_out: code == Some(OPTED_OUT),
        recipient: None,
    }))
}

/// Titles of the delivery errors status callbacks carry without an `ErrorMessage`.
fn error_title(code: &str) -> Option<&'static str> {
    Some(match code {
        "21610" => "Attempt to send to unsubscribed recipient",
        "21211" => "Invalid 'To' Phone Number",
        "30003" => "Unreachable destination handset",
        "30004" => "Message blocked",
        "30005" => "Unknown destination handset",
        "30006" => "Landline or unreachable carrier",
        "30007" => "Message filtered",
        "30008" => "Unknown error",
        "63016" => "Outside the WhatsApp 24-hour window",
        _ => return None,
    })
}

fn message(form: &Form, sid: &str) -> Result<Vec<Event>, HookError> {
    let Some(from) = form.get("From") else {
        return Err(HookError::Malformed(
            "a Twilio message webhook carries From".into(),
        ));
    };
    let sender = party(form, from);
    let count = form
        .get("NumMedia")
        .and_then(|count| count.parse::<usize>().ok())
        .unwrap_or(0);
    let media: Vec<MediaRef> = (0..count.min(10))
        .filter_map(|index| {
            let url = form.get(&format!("MediaUrl{index}"))?;
            Some(MediaRef {
                source: MediaSource::Provider { id: url.into() },
                content_type: form
                    .get(&format!("MediaContentType{index}"))
                    .map(str::to_string),
                file_name: None,
            })
        })
        .collect();
    let text = form.get("Body").unwrap_or_default().to_string();
    let location = match (form.get("Latitude"), form.get("Longitude")) {
        (Some(latitude), Some(longitude)) => latitude
            .parse::<f64>()
            .ok()
            .zip(longitude.parse::<f64>().ok()),
        _ => None,
    };
    let content = if let Some((latitude, longitude)) = location {
        Content::Location {
            latitude,
            longitude,
            name: form.get("Label").map(str::to_string),
            address: form.get("Address").map(str::to_string),
        }
    } else if let Some(payload) = form.get("ButtonPayload") {
        Content::Choice {
            id: Some(payload.to_string()),
            title: form.get("ButtonText").unwrap_or(text.as_str()).to_string(),
        }
    } else if media.is_empty() {
        Content::Text
    } else {
        Content::Media
    };
    let mut events = vec![Event::Message(Incoming {
        provider_message_id: sid.to_string(),
        direction: Direction::Inbound,
        sender: sender.clone(),
        text,
        content,
        media,
        reply_to: form.get("OriginalRepliedMessageSid").map(str::to_string),
        sent_at: None,
        reply_token: None,
        redelivery: false,
    })];
    // With Advanced Opt-Out, Twilio has already matched the account's own keywords (which
    // may differ from the channel's) and blocks or unblocks the number itself; the consent
    // follows it. HELP needs nothing here: the keyword rule sees the same text.
    match form.get("OptOutType") {
        Some("STOP") => events.push(Event::Blocked { sender, at: None }),
        Some("START") => events.push(Event::Unblocked { sender, at: None }),
        _ => {}
    }
    Ok(events)
}

/// SMS: `(Phone, From)`. WhatsApp: `From=whatsapp:+E164` gives `(Phone, +E164)` and
/// `(Whatsapp, WaId)`. Short codes and alphanumeric senders are kept as received.
fn party(form: &Form, from: &str) -> Party {
    let mut identities = Vec::new();
    match from.strip_prefix("whatsapp:") {
        Some(number) => {
            identities.push((IdentityKind::Phone, number.to_string()));
            let wa_id = form
                .get("WaId")
                .map(str::to_string)
                .unwrap_or_else(|| number.trim_start_matches('+').to_string());
            identities.push((IdentityKind::Whatsapp, wa_id));
        }
        None => identities.push((IdentityKind::Phone, from.to_string())),
    }
    Party {
        identities,
        name: form.get("ProfileName").map(str::to_string),
        locale: None,
    }
}
