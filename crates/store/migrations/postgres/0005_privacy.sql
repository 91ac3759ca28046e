-- Privacy: the audit log (who did what to which subject, by id only: never personal data),
-- and an index that finds a customer's messages for export and erasure.
-- Mirrors ../sqlite/0005_privacy.sql. Never edit an applied migration.

CREATE TABLE audit_log (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    -- `user:<id>` or `operator`.
    actor text NOT NULL,
    action text NOT NULL,
    subject_id uuid NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX audit_log_workspace_created_idx ON audit_log (workspace_id, created_at, id);

-- A customer's messages are found through messages_timeline_idx (0003), which serves the
-- export and the merges too; the narrower index of 0002 is redundant.
DROP INDEX messages_customer_created_idx;
