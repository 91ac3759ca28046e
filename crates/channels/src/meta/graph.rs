//! Calls to Meta's Graph API and what its answers mean for a send: the message id on
//! success, and for errors (`{"error":{"code","message"}}`) whether trying again can help.
//! Reasons never carry the access token or the app secret proof.

use serde_json::Value;

use crate::messaging::{Sender, Sent, by_status, network_error, retry_after};

/// Graph error codes worth retrying whatever the HTTP status: throttling (`4`, `17`, `32`,
/// `613`, `80006`, `80007`, WhatsApp `130429` throughput and `131056` pair rate), and the
/// platform's own temporary failures (`1`, `2`, `1200`, WhatsApp `131000`, `131016`,
/// `133004`). Every other code is permanent: `190` bad token, `100` bad parameter, `10`/`200`
/// permissions, WhatsApp `131047` window closed, `131026` undeliverable, Messenger `551`.
const RETRIED_CODES: &[i64] = &[
    1, 2, 4, 17, 32, 613, 1200, 80006, 80007, 130429, 131000, 131016, 131056, 133004,
];

/// Longest reason kept from a provider's error message.
const MAX_REASON: usize = 300;

/// A Graph API call: the URL (without secrets), the query (which may hold the token), an
/// optional bearer token and the JSON body. `secrets` are scrubbed from any reason.
pub struct Call<'a> {
    pub url: String,
    pub query: Vec<(&'a str, String)>,
    pub bearer: Option<&'a str>,
    pub body: Value,
    pub secrets: Vec<&'a str>,
}

/// POSTs a call and returns the JSON answer on success, or the [`Sent`] a failure means.
pub async fn post(http: &Sender, call: Call<'_>) -> Result<Value, Sent> {
    let mut url = url::Url::parse(&call.url).map_err(|_| Sent::Permanent {
        reason: "the channel's base_url is not a URL".into(),
        opted_out: false,
    })?;
    if !call.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&call.query);
    }
    let mut request = http.post(url).json(&call.body);
    if let Some(token) = call.bearer {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|error| network_error(&error))?;
    let status = response.status();
    let wait = retry_after(response.headers());
    let text = response.text().await.unwrap_or_default();
    let answer: Option<Value> = serde_json::from_str(&text).ok();
    if status.is_success() {
        return answer.ok_or_else(|| Sent::Permanent {
            reason: "the provider accepted the message but its answer is not JSON".into(),
            opted_out: false,
        });
    }
    let error = answer.as_ref().and_then(|answer| answer.get("error"));
    let code = error
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64);
    let reason = scrub(&describe(status, error), &call.secrets);
    match code {
        Some(code) if RETRIED_CODES.contains(&code) => Err(Sent::Retry {
            reason,
            retry_after: wait,
        }),
        _ => Err(by_status(status, wait, reason)),
    }
}

/// `"<code>: <message> (<details>)"`, or the HTTP status when the body says nothing.
fn describe(status: reqwest::StatusCode, error: Option<&Value>) -> String {
    let Some(error) = error else {
        return format!("the provider answered {status}");
    };
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
    let message = text(error.get("message"))
        .or_else(|| text(error.get("error_user_msg")))
        .unwrap_or_else(|| format!("the provider answered {status}"));
    let mut reason = match error.get("code").and_then(Value::as_i64) {
        Some(code) => format!("{code}: {message}"),
        None => message,
    };
    if let Some(details) = text(error.get("error_data").and_then(|data| data.get("details"))) {
        reason.push_str(&format!(" ({details})"));
    }
    reason
}

/// Replaces every secret in `reason` and bounds its length.
pub fn scrub(reason: &str, secrets: &[&str]) -> String {
    let mut reason = reason.to_string();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        reason = reason.replace(secret, "********");
    }
    if reason.chars().count() > MAX_REASON {
        reason = reason.chars().take(MAX_REASON).collect::<String>() + "…";
    }
    reason
}

/// The message id in a successful answer: WhatsApp's `messages[0].id`, Messenger's
/// `message_id`.
pub fn accepted(id: Option<&str>) -> Result<String, Sent> {
    id.filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Sent::Permanent {
            reason: "the provider accepted the message but returned no message id".into(),
            opted_out: false,
        })
}

/// Several calls make one message (each attachment is its own call). A failure after an
/// earlier part went out is permanent: retrying would send that part twice.
pub fn after_parts(failure: Sent, delivered: usize, total: usize) -> Sent {
    if delivered == 0 {
        return failure;
    }
    let reason = match failure {
        Sent::Retry { reason, .. } | Sent::Permanent { reason, .. } => reason,
        Sent::Accepted { .. } => String::new(),
    };
    Sent::Permanent {
        reason: format!("{delivered} of {total} parts were sent, then: {reason}"),
        opted_out: false,
    }
}
