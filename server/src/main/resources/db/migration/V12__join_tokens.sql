-- pgfleet catalog, version 12 (issue 11): join tokens, pgEdge's way for a new host to join a fleet.
-- Only a token's SHA-256 is kept; the token itself is shown once, to the admin who asked for it.
create table fleet_join_tokens (
    token_sha256 text primary key,
    created_by   text not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
