-- Messaging channels: each channel's provider credentials, sealed with the server's key
-- (empty for kinds without any). Mirrors ../postgres/0007_messaging.sql. Never edit an applied
-- migration.

ALTER TABLE channels ADD COLUMN credentials TEXT NOT NULL DEFAULT '';
