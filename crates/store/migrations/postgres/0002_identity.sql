-- Identity resolution, merges and their undo. Mirrors ../sqlite/0002_identity.sql.

-- Per-kind identity limits and the blocked values, as a JSON object (see IdentityRules).
ALTER TABLE workspaces ADD COLUMN identity_rules jsonb NOT NULL DEFAULT '{}';

-- Set when the customer was merged into another; cleared when that merge is undone.
ALTER TABLE customers ADD COLUMN merged_into_id uuid REFERENCES customers (id);

-- The kind of the identity a message came through (`identity` holds its value).
ALTER TABLE messages ADD COLUMN identity_kind text;
CREATE INDEX messages_customer_created_idx ON messages (customer_id, created_at);

-- Where each identity came from: the channel, `identify`, `import`, `agent`, `merge`.
ALTER TABLE identities ADD COLUMN source text NOT NULL DEFAULT '';

-- One row per merge, automatic or manual. `snapshot` is the state before the merge (JSON),
-- which the undo restores.
CREATE TABLE merges (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    survivor_id uuid NOT NULL REFERENCES customers (id),
    absorbed_id uuid NOT NULL REFERENCES customers (id),
    actor_user_id uuid REFERENCES users (id),
    rule text,
    snapshot jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    undone_at timestamptz,
    undone_by_user_id uuid REFERENCES users (id)
);
CREATE INDEX merges_survivor_idx ON merges (workspace_id, survivor_id, created_at);
CREATE INDEX merges_absorbed_idx ON merges (workspace_id, absorbed_id, created_at);

-- What resolution decided and why: customers created, identities attached, merges made and
-- refused. A `conflict` row waits for an agent's review until `reviewed_at` is set.
CREATE TABLE resolution_log (
    id uuid NOT NULL PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    other_customer_id uuid REFERENCES customers (id),
    action text NOT NULL,
    identity_kind text,
    identity_value text,
    rule text NOT NULL,
    merge_id uuid REFERENCES merges (id),
    created_at timestamptz NOT NULL,
    reviewed_at timestamptz
);
CREATE INDEX resolution_log_customer_idx ON resolution_log (workspace_id, customer_id, created_at);
CREATE INDEX resolution_log_other_customer_idx
    ON resolution_log (workspace_id, other_customer_id, created_at);
CREATE INDEX resolution_log_action_idx ON resolution_log (workspace_id, action, created_at);
