-- Identity resolution, merges and their undo. Mirrors ../postgres/0002_identity.sql.

-- Per-kind identity limits and the blocked values, as a JSON object (see IdentityRules).
ALTER TABLE workspaces ADD COLUMN identity_rules TEXT NOT NULL DEFAULT '{}';

-- Set when the customer was merged into another; cleared when that merge is undone.
ALTER TABLE customers ADD COLUMN merged_into_id TEXT REFERENCES customers (id);

-- The kind of the identity a message came through (`identity` holds its value).
ALTER TABLE messages ADD COLUMN identity_kind TEXT;
CREATE INDEX messages_customer_created_idx ON messages (customer_id, created_at);

-- Where each identity came from: the channel, `identify`, `import`, `agent`, `merge`.
ALTER TABLE identities ADD COLUMN source TEXT NOT NULL DEFAULT '';

-- One row per merge, automatic or manual. `snapshot` is the state before the merge (JSON),
-- which the undo restores.
CREATE TABLE merges (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    survivor_id TEXT NOT NULL REFERENCES customers (id),
    absorbed_id TEXT NOT NULL REFERENCES customers (id),
    actor_user_id TEXT REFERENCES users (id),
    rule TEXT,
    snapshot TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at TEXT,
    undone_by_user_id TEXT REFERENCES users (id)
) STRICT;
CREATE INDEX merges_survivor_idx ON merges (workspace_id, survivor_id, created_at);
CREATE INDEX merges_absorbed_idx ON merges (workspace_id, absorbed_id, created_at);

-- What resolution decided and why: customers created, identities attached, merges made and
-- refused. A `conflict` row waits for an agent's review until `reviewed_at` is set.
CREATE TABLE resolution_log (
    id TEXT NOT NULL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    other_customer_id TEXT REFERENCES customers (id),
    action TEXT NOT NULL,
    identity_kind TEXT,
    identity_value TEXT,
    rule TEXT NOT NULL,
    merge_id TEXT REFERENCES merges (id),
    created_at TEXT NOT NULL,
    reviewed_at TEXT
) STRICT;
CREATE INDEX resolution_log_customer_idx ON resolution_log (workspace_id, customer_id, created_at);
CREATE INDEX resolution_log_other_customer_idx
    ON resolution_log (workspace_id, other_customer_id, created_at);
CREATE INDEX resolution_log_action_idx ON resolution_log (workspace_id, action, created_at);
