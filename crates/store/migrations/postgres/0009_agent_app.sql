-- What the agent app needs: each user's language and chosen availability, the workspace's
-- time zone and languages, and when each user last read each conversation. Mirrors
-- ../sqlite/0009_agent_app.sql. Never edit an applied migration.

-- `en`, `ar` or `fa`; NULL follows the workspace's first language.
ALTER TABLE users ADD COLUMN language text;
-- `online` or `away`, as the user chose; offline is having no realtime connection.
ALTER TABLE users ADD COLUMN availability text NOT NULL DEFAULT 'online';

-- An IANA time zone name.
ALTER TABLE workspaces ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
-- Comma-separated language codes, the first one the default.
ALTER TABLE workspaces ADD COLUMN languages text NOT NULL DEFAULT 'en';

CREATE TABLE conversation_reads (
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    user_id uuid NOT NULL REFERENCES users (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    read_at timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
