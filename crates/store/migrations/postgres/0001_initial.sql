-- Seam's schema on PostgreSQL. Mirrors ../sqlite/0001_initial.sql: same tables, columns,
-- nullability, index and trigger names (a test in crates/store/tests checks it).
-- Ids are uuid, timestamps timestamptz (UTC). Never edit an applied migration.

CREATE TABLE workspaces (
    id uuid NOT NULL PRIMARY KEY,
    name text NOT NULL,
    default_region text NOT NULL,
    continuity text NOT NULL,
    reopen_window_secs bigint NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE users (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    email text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    password_hash text NOT NULL,
    failed_logins integer NOT NULL,
    locked_until timestamptz,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_workspace_id_idx ON users (workspace_id, created_at);

CREATE TABLE sessions (
    id_hash text NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE api_tokens (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    user_id uuid NOT NULL REFERENCES users (id),
    name text NOT NULL,
    token_hash text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

CREATE TABLE teams (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    name text NOT NULL
);

CREATE TABLE channels (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    kind text NOT NULL,
    name text NOT NULL,
    config jsonb NOT NULL,
    secret text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX channels_workspace_id_idx ON channels (workspace_id, created_at);

CREATE TABLE customers (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    name text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX customers_workspace_created_idx ON customers (workspace_id, created_at DESC, id DESC);

CREATE TABLE identities (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    kind text NOT NULL,
    value text NOT NULL,
    verified boolean NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT identities_pkey PRIMARY KEY (workspace_id, kind, value)
);
CREATE INDEX identities_customer_id_idx ON identities (customer_id);

CREATE TABLE conversations (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    priority text NOT NULL,
    assignee_id uuid REFERENCES users (id),
    team_id uuid REFERENCES teams (id),
    -- What reads return; conversation_labels indexes them.
    labels text[] NOT NULL,
    last_channel_id uuid REFERENCES channels (id),
    previous_conversation_id uuid REFERENCES conversations (id),
    last_activity_at timestamptz NOT NULL,
    waiting_since timestamptz,
    snoozed_until timestamptz,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX conversations_activity_idx
    ON conversations (workspace_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_status_activity_idx
    ON conversations (workspace_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_customer_activity_idx
    ON conversations (workspace_id, customer_id, last_activity_at DESC, id DESC);

-- One row per label of a conversation, kept by the triggers below, for the label filter.
CREATE TABLE conversation_labels (
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    label text NOT NULL,
    PRIMARY KEY (conversation_id, label)
);
CREATE INDEX conversation_labels_label_idx ON conversation_labels (workspace_id, label);

CREATE FUNCTION conversations_sync_labels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM conversation_labels WHERE conversation_id = NEW.id;
    END IF;
    INSERT INTO conversation_labels (conversation_id, workspace_id, label)
    SELECT NEW.id, NEW.workspace_id, label FROM unnest(NEW.labels) AS label
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER conversations_labels_on_insert AFTER INSERT ON conversations
FOR EACH ROW WHEN (cardinality(NEW.labels) > 0)
EXECUTE FUNCTION conversations_sync_labels();

CREATE TRIGGER conversations_labels_on_update AFTER UPDATE OF labels ON conversations
FOR EACH ROW WHEN (NEW.labels IS DISTINCT FROM OLD.labels)
EXECUTE FUNCTION conversations_sync_labels();

CREATE TABLE messages (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    kind text NOT NULL,
    channel_id uuid REFERENCES channels (id),
    identity text,
    author_id uuid REFERENCES users (id),
    provider_message_id text,
    text text NOT NULL,
    delivery_status text,
    delivery_error text,
    sent_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
-- The deduplication of provider retries.
CREATE UNIQUE INDEX messages_channel_id_provider_message_id_key
    ON messages (channel_id, provider_message_id);
CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at, id);

CREATE TABLE events (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    name text NOT NULL,
    properties jsonb NOT NULL,
    occurred_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX events_customer_occurred_idx ON events (customer_id, occurred_at);

CREATE TABLE outbox (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    topic text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX outbox_created_idx ON outbox (created_at, id);

CREATE TABLE jobs (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    kind text NOT NULL,
    payload jsonb NOT NULL,
    status text NOT NULL,
    run_at timestamptz NOT NULL,
    attempts integer NOT NULL,
    max_attempts integer NOT NULL,
    dedupe_key text,
    lease_until timestamptz,
    last_error text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX jobs_dedupe_key_key ON jobs (dedupe_key);
CREATE INDEX jobs_status_run_at_idx ON jobs (status, run_at);
