-- The editable customer profile (locale, time zone, tags, custom attributes), the attribute
-- schema per workspace, consent per channel kind, and the keys duplicate suggestions join on.
-- Mirrors ../postgres/0004_profile.sql. Never edit an applied migration.

ALTER TABLE customers ADD COLUMN locale TEXT;
ALTER TABLE customers ADD COLUMN time_zone TEXT;
-- A JSON array of normalised tags.
ALTER TABLE customers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
-- A JSON object: attribute key -> value, checked against attribute_definitions by core.
ALTER TABLE customers ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
-- The name folded for matching (seam_core::text::fold), written with every name. Rows older
-- than this migration get it on their next write.
ALTER TABLE customers ADD COLUMN name_key TEXT;
CREATE INDEX customers_name_key_idx ON customers (workspace_id, name_key);

-- An email's domain, or the last 9 digits of a phone or WhatsApp number
-- (seam_core::duplicates::match_key), written with the identity.
ALTER TABLE identities ADD COLUMN match_key TEXT;
UPDATE identities SET match_key = substr(value, instr(value, '@') + 1)
    WHERE kind = 'email' AND instr(value, '@') > 0;
UPDATE identities SET match_key = substr(value, length(value) - 8)
    WHERE kind IN ('phone', 'whatsapp') AND length(value) >= 9;
CREATE INDEX identities_match_key_idx ON identities (workspace_id, match_key);

CREATE TABLE attribute_definitions (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
) STRICT;

CREATE TABLE customer_consents (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, customer_id, channel_kind)
) STRICT;

-- Pairs an agent said are not one person; customer_a is the smaller id.
CREATE TABLE duplicate_dismissals (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    customer_a TEXT NOT NULL REFERENCES customers (id),
    customer_b TEXT NOT NULL REFERENCES customers (id),
    dismissed_by TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, customer_a, customer_b)
) STRICT;
