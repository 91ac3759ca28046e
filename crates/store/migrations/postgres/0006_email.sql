-- Email: the headers that thread a message, its display HTML and details (one row per email
-- message, inbound or outbound), each conversation's reply token and subject, bouncing email
-- addresses, and the files that came with messages (their bytes live in the file store).
-- Mirrors ../sqlite/0006_email.sql. Never edit an applied migration.

CREATE TABLE message_emails (
    message_id uuid NOT NULL PRIMARY KEY REFERENCES messages (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    -- RFC 5322 Message-ID without angle brackets.
    email_message_id text NOT NULL,
    subject text,
    -- Sanitised for display; NULL for plain-text mail.
    html text,
    -- seam_core::email::EmailDetails less the columns above.
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL
);
CREATE INDEX message_emails_email_message_id_idx ON message_emails (workspace_id, email_message_id);

-- Unguessable: a reply to <address local part>+<token>@<domain> joins the conversation.
ALTER TABLE conversations ADD COLUMN reply_token text;
ALTER TABLE conversations ADD COLUMN subject text;
CREATE UNIQUE INDEX conversations_reply_token_key ON conversations (reply_token);

ALTER TABLE identities ADD COLUMN bounced_at timestamptz;
ALTER TABLE identities ADD COLUMN bounce_reason text;

CREATE TABLE attachments (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    message_id uuid NOT NULL REFERENCES messages (id),
    file_name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    -- Hex SHA-256 of the bytes: the file store's key within the workspace.
    sha256 text NOT NULL,
    content_id text,
    inline boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX attachments_message_idx ON attachments (workspace_id, message_id);
