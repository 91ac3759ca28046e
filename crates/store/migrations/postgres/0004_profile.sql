-- The editable customer profile (locale, time zone, tags, custom attributes), the attribute
-- schema per workspace, consent per channel kind, and the keys duplicate suggestions join on.
-- Mirrors ../sqlite/0004_profile.sql. Never edit an applied migration.

ALTER TABLE customers ADD COLUMN locale text;
ALTER TABLE customers ADD COLUMN time_zone text;
ALTER TABLE customers ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
-- Attribute key -> value, checked against attribute_definitions by core.
ALTER TABLE customers ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
-- The name folded for matching (seam_core::text::fold), written with every name. Rows older
-- than this migration get it on their next write.
ALTER TABLE customers ADD COLUMN name_key text;
CREATE INDEX customers_name_key_idx ON customers (workspace_id, name_key);

-- An email's domain, or the last 9 digits of a phone or WhatsApp number
-- (seam_core::duplicates::match_key), written with the identity.
ALTER TABLE identities ADD COLUMN match_key text;
UPDATE identities SET match_key = substr(value, position('@' in value) + 1)
    WHERE kind = 'email' AND position('@' in value) > 0;
UPDATE identities SET match_key = right(value, 9)
    WHERE kind IN ('phone', 'whatsapp') AND length(value) >= 9;
CREATE INDEX identities_match_key_idx ON identities (workspace_id, match_key);

CREATE TABLE attribute_definitions (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    key text NOT NULL,
    kind text NOT NULL,
    label text NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT attribute_definitions_pkey PRIMARY KEY (workspace_id, key)
);

CREATE TABLE customer_consents (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_id uuid NOT NULL REFERENCES customers (id),
    channel_kind text NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT customer_consents_pkey PRIMARY KEY (workspace_id, customer_id, channel_kind)
);

-- Pairs an agent said are not one person; customer_a is the smaller id.
CREATE TABLE duplicate_dismissals (
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    customer_a uuid NOT NULL REFERENCES customers (id),
    customer_b uuid NOT NULL REFERENCES customers (id),
    dismissed_by uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    CONSTRAINT duplicate_dismissals_pkey PRIMARY KEY (workspace_id, customer_a, customer_b)
);
