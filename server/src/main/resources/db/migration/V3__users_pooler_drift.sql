-- pgfleet catalog, version 3 (issue 3): role drift per instance and the pooler's auth_user password.
-- (V2 is taken by concurrent work on tenants and API keys.)

-- What the last verification found different from the spec on this instance: one message per finding.
alter table instances add column drift jsonb not null default '[]';
alter table instances add column drift_checked_at timestamptz;

-- Password of the instance's PgBouncer auth_user (pgfleet_pooler), AES-GCM encrypted like users'.
alter table instances add column pooler_password_enc bytea;
