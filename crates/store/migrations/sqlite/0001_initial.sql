-- Seam's schema on SQLite. Mirrors ../postgres/0001_initial.sql: same tables, columns,
-- nullability, index and trigger names (a test in crates/store/tests checks it).
-- Ids are UUID text, timestamps are UTC text with exactly six fractional digits
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is time order. Never edit an applied migration.

CREATE TABLE workspaces (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    default_region TEXT NOT NULL,
    continuity TEXT NOT NULL,
    reopen_window_secs INTEGER NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_workspace_id_idx ON users (workspace_id, created_at);

CREATE TABLE sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

CREATE TABLE teams (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL
) STRICT;

CREATE TABLE channels (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX channels_workspace_id_idx ON channels (workspace_id, created_at);

CREATE TABLE customers (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX customers_workspace_created_idx ON customers (workspace_id, created_at DESC, id DESC);

CREATE TABLE identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    verified INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind, value)
) STRICT;
CREATE INDEX identities_customer_id_idx ON identities (customer_id);

CREATE TABLE conversations (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    assignee_id TEXT REFERENCES users (id),
    team_id TEXT REFERENCES teams (id),
    -- The labels as a JSON array: what reads return. conversation_labels indexes them.
    labels TEXT NOT NULL,
    last_channel_id TEXT REFERENCES channels (id),
    previous_conversation_id TEXT REFERENCES conversations (id),
    last_activity_at TEXT NOT NULL,
    waiting_since TEXT,
    snoozed_until TEXT,
    resolved_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX conversations_activity_idx
    ON conversations (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_status_activity_idx
    ON conversations (workspace_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_customer_activity_idx
    ON conversations (workspace_id, customer_id, last_activity_at DESC, id DESC);

-- One row per label of a conversation, kept by the triggers below, for the label filter.
CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    label TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
) STRICT;
CREATE INDEX conversation_labels_label_idx ON conversation_labels (workspace_id, label);

CREATE TRIGGER conversations_labels_on_insert AFTER INSERT ON conversations
WHEN NEW.labels <> '[]'
BEGIN
    INSERT OR IGNORE INTO conversation_labels (conversation_id, workspace_id, label)
    SELECT NEW.id, NEW.workspace_id, value FROM json_each(NEW.labels);
END;

CREATE TRIGGER conversations_labels_on_update AFTER UPDATE OF labels ON conversations
WHEN NEW.labels IS NOT OLD.labels
BEGIN
    DELETE FROM conversation_labels WHERE conversation_id = NEW.id;
    INSERT OR IGNORE INTO conversation_labels (conversation_id, workspace_id, label)
    SELECT NEW.id, NEW.workspace_id, value FROM json_each(NEW.labels);
END;

CREATE TABLE messages (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,
    channel_id TEXT REFERENCES channels (id),
    identity TEXT,
    author_id TEXT REFERENCES users (id),
    provider_message_id TEXT,
    text TEXT NOT NULL,
    delivery_status TEXT,
    delivery_error TEXT,
    sent_at TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
-- The deduplication of provider retries.
CREATE UNIQUE INDEX messages_channel_id_provider_message_id_key
    ON messages (channel_id, provider_message_id);
CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at, id);

CREATE TABLE events (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    properties TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX events_customer_occurred_idx ON events (customer_id, occurred_at);

CREATE TABLE outbox (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_created_idx ON outbox (created_at, id);

CREATE TABLE jobs (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    run_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    dedupe_key TEXT,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX jobs_dedupe_key_key ON jobs (dedupe_key);
CREATE INDEX jobs_status_run_at_idx ON jobs (status, run_at);
