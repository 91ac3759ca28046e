//! Durable jobs: what they are, and when a failed one runs again. Claiming, leasing and storage
//! are the store's; the retry schedule is decided here.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::{
    Timestamp,
    ids::{JobId, WorkspaceId},
};

/// Job kinds.
pub mod kind {
    /// Deliver an outbound message through its channel. Payload: `{"message_id"}`.
    pub const DELIVER_MESSAGE: &str = "deliver_message";
    /// POST a conversation event to an API channel's webhook. Payload: `{"channel_id", "event"}`.
    pub const DELIVER_WEBHOOK_EVENT: &str = "deliver_webhook_event";
    /// Apply what a messaging provider's webhook delivered (messages, statuses, blocks).
    /// Payload: `{"channel_id", "events"}` (the adapter's events).
    pub const APPLY_HOOK_EVENTS: &str = "apply_hook_events";
    /// Tell the provider where to deliver (Telegram's `setWebhook`). Payload: `{"channel_id"}`.
    pub const SET_UP_CHANNEL: &str = "set_up_channel";
}

/// Attempts before a job is declared dead, unless the job says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub id: JobId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: Timestamp,
    pub max_attempts: i32,
    /// A second job with the same key is not created.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn new(
        workspace_id: WorkspaceId,
        kind: &str,
        payload: serde_json::Value,
        now: Timestamp,
    ) -> Self {
        NewJob {
            id: JobId::new(),
            workspace_id,
            kind: kind.to_string(),
            payload,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            dedupe_key: None,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "dead" => JobStatus::Dead,
            _ => return None,
        })
    }
}

/// A job claimed by a worker, leased until `lease_until`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub workspace_id: WorkspaceId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// Attempts so far, including the one this claim starts.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: Timestamp,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// What to do with a job whose attempt failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Retry {
    At(Timestamp),
    Dead,
}

/// Exponential backoff with ±25% jitter: 2 s, 4 s, 8 s … capped at one hour, unless the
/// provider asked for a later time (`Retry-After`).
pub fn next_attempt(job: &Job, retry_after: Option<Timestamp>, now: Timestamp) -> Retry {
    if job.attempts >= job.max_attempts {
        return Retry::Dead;
    }
    let exponent = job.attempts.clamp(1, 20) as u32;
    let base_ms = (2_000u64.saturating_mul(1u64 << (exponent - 1))).min(3_600_000);
    let jitter = rand::rng().random_range(0.75..1.25);
    let delay = chrono::Duration::milliseconds((base_ms as f64 * jitter) as i64);
    let at = now + delay;
    Retry::At(match retry_after {
        Some(later) if later > at => later,
        _ => at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempts: i32, max_attempts: i32) -> Job {
        Job {
            id: JobId::new(),
            workspace_id: WorkspaceId::new(),
            kind: kind::DELIVER_MESSAGE.into(),
            payload: serde_json::Value::Null,
            status: JobStatus::Running,
            attempts,
            max_attempts,
            run_at: chrono::Utc::now(),
            lease_until: None,
            last_error: None,
        }
    }

    #[test]
    fn backoff_grows_exponentially_within_its_jitter() {
        let now = chrono::Utc::now();
        for (attempts, base) in [(1, 2_000), (2, 4_000), (3, 8_000), (5, 32_000)] {
            let Retry::At(at) = next_attempt(&job(attempts, 8), None, now) else {
                panic!("dead")
            };
            let delay = (at - now).num_milliseconds();
            assert!(
                delay >= base * 3 / 4 && delay <= base * 5 / 4,
                "{attempts}: {delay}"
            );
        }
    }

    #[test]
    fn a_job_is_dead_after_its_last_attempt() {
        assert_eq!(
            next_attempt(&job(8, 8), None, chrono::Utc::now()),
            Retry::Dead
        );
    }

    #[test]
    fn retry_after_from_the_provider_is_honoured() {
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::minutes(10);
        assert_eq!(next_attempt(&job(1, 8), Some(later), now), Retry::At(later));
    }
}
