-- Uploads: files agents upload to send with replies. The bytes live in the file store; a reply
-- that names an upload copies it into attachment rows of its message. Mirrors
-- ../postgres/0008_uploads.sql. Never edit an applied migration.

CREATE TABLE uploads (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    -- Who uploaded it.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Hex SHA-256 of the bytes: the file store's key within the workspace.
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
