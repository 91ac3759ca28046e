-- What the agent app needs: each user's language and chosen availability, the workspace's
-- time zone and languages, and when each user last read each conversation. Mirrors
-- ../postgres/0009_agent_app.sql. Never edit an applied migration.

-- `en`, `ar` or `fa`; NULL follows the workspace's first language.
ALTER TABLE users ADD COLUMN language TEXT;
-- `online` or `away`, as the user chose; offline is having no realtime connection.
ALTER TABLE users ADD COLUMN availability TEXT NOT NULL DEFAULT 'online';

-- An IANA time zone name.
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- Comma-separated language codes, the first one the default.
ALTER TABLE workspaces ADD COLUMN languages TEXT NOT NULL DEFAULT 'en';

CREATE TABLE conversation_reads (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) STRICT;
