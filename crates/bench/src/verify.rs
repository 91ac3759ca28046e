//! The end-state check: every accepted message is stored exactly once, in the conversation the
//! server answered, read straight from the database.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::Row;

use crate::driver::Run;

pub struct Verified {
    pub accepted: usize,
    pub stored: usize,
    pub missing: usize,
    pub duplicated: usize,
    pub misplaced: usize,
    /// Accepted messages of one customer that landed in more than one conversation.
    pub split_customers: usize,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.missing == 0
            && self.duplicated == 0
            && self.misplaced == 0
            && self.split_customers == 0
    }
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "end state: {} accepted, {} stored, {} missing, {} duplicated, {} in the wrong conversation, {} customers split -> {}",
            self.accepted,
            self.stored,
            self.missing,
            self.duplicated,
            self.misplaced,
            self.split_customers,
            if self.ok() { "OK" } else { "FAILED" }
        )
    }
}

pub async fn check(database_url: &str, run: &Run) -> anyhow::Result<Verified> {
    let rows: Vec<(String, String)> = if database_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(database_url)
            .await
            .context("connecting to PostgreSQL")?;
        let channel: uuid::Uuid = run.channel_id.parse()?;
        sqlx::query("SELECT provider_message_id, conversation_id::text AS conversation_id FROM messages WHERE channel_id = $1")
            .bind(channel)
            .fetch_all(&pool)
            .await?
            .into_iter()
            .map(|row| (row.get::<String, _>(0), row.get::<String, _>(1)))
            .collect()
    } else {
        let pool = sqlx::SqlitePool::connect(database_url)
            .await
            .context("opening SQLite")?;
        sqlx::query(
            "SELECT provider_message_id, conversation_id FROM messages WHERE channel_id = $1",
        )
        .bind(&run.channel_id)
        .fetch_all(&pool)
        .await?
        .into_iter()
        .map(|row| (row.get::<String, _>(0), row.get::<String, _>(1)))
        .collect()
    };
    let mut stored: HashMap<&str, Vec<&str>> = HashMap::new();
    for (provider_id, conversation_id) in &rows {
        stored
            .entry(provider_id.as_str())
            .or_default()
            .push(conversation_id.as_str());
    }
    let (mut missing, mut duplicated, mut misplaced) = (0, 0, 0);
    let mut conversations_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for answer in &run.answers {
        match stored.get(answer.provider_id.as_str()) {
            None => missing += 1,
            Some(found) if found.len() > 1 => duplicated += 1,
            Some(found) if found[0] != answer.conversation_id => misplaced += 1,
            Some(_) => {}
        }
        let seen = conversations_of
            .entry(answer.customer_key.as_str())
            .or_default();
        if !seen.contains(&answer.conversation_id.as_str()) {
            seen.push(answer.conversation_id.as_str());
        }
    }
    let split_customers = conversations_of
        .values()
        .filter(|ids| ids.len() > 1)
        .count();
    Ok(Verified {
        accepted: run.answers.len(),
        stored: rows.len(),
        missing,
        duplicated,
        misplaced,
        split_customers,
    })
}
