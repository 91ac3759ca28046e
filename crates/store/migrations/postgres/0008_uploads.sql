-- Uploads: files agents upload to send with replies. The bytes live in the file store; a reply
-- that names an upload copies it into attachment rows of its message. Mirrors
-- ../sqlite/0008_uploads.sql. Never edit an applied migration.

CREATE TABLE uploads (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    -- Who uploaded it.
    user_id uuid NOT NULL REFERENCES users (id),
    -- Hex SHA-256 of the bytes: the file store's key within the workspace.
    sha256 text NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    created_at timestamptz NOT NULL
);
