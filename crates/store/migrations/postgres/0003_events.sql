-- Event tracking, orders and returns, the stored part of the computed profile fields, and
-- the indexes of the unified timeline. Mirrors ../sqlite/0003_events.sql. Never edit an
-- applied migration.

-- Segment's messageId: the idempotency key of a tracked call, unique per workspace.
ALTER TABLE events ADD COLUMN message_id text;
CREATE UNIQUE INDEX events_message_id_key ON events (workspace_id, message_id);

-- The timeline reads each side newest first, per customer.
CREATE INDEX events_timeline_idx ON events (workspace_id, customer_id, occurred_at DESC, id DESC);
CREATE INDEX messages_timeline_idx
    ON messages (workspace_id, customer_id, created_at DESC, id DESC);

-- An order as its events left it; the integrator's order id is the key.
CREATE TABLE orders (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    order_id text NOT NULL,
    customer_id uuid NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    -- Millionths of the currency's unit.
    total_micros bigint,
    currency text,
    placed_at timestamptz,
    status_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT orders_pkey PRIMARY KEY (workspace_id, order_id)
);
CREATE INDEX orders_customer_idx ON orders (workspace_id, customer_id, created_at DESC);

CREATE TABLE returns (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    return_id text NOT NULL,
    customer_id uuid NOT NULL REFERENCES customers (id),
    order_id text,
    status text NOT NULL,
    status_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT returns_pkey PRIMARY KEY (workspace_id, return_id)
);
CREATE INDEX returns_customer_idx ON returns (workspace_id, customer_id, created_at DESC);

-- What cannot be counted cheaply at read time, kept current by the writes that change it.
CREATE TABLE customer_stats (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    csat_total bigint NOT NULL,
    csat_count bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT customer_stats_pkey PRIMARY KEY (workspace_id, customer_id)
);

-- Every channel a customer has written on, with when they last did.
CREATE TABLE customer_channels (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    channel_id uuid NOT NULL REFERENCES channels (id),
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    CONSTRAINT customer_channels_pkey PRIMARY KEY (workspace_id, customer_id, channel_id)
);
