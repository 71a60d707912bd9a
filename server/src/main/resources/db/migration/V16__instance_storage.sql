-- pgfleet catalog, version 16 (issue 16, "a full disk is a state"): an instance whose data or log
-- directory cannot be written. One row while the problem lasts; no row means its last probe wrote fine.
-- (A table of its own, so concurrent work on the instances table does not clash; V16 for the issue.)
create table instance_storage (
    instance_id text primary key references instances (id) on delete cascade,
    -- 'no_space' | 'quota_exceeded' | 'read_only' | 'permission_denied' | 'io_error'
    problem     text not null,
    message     text not null,
    directory   text not null,
    since       timestamptz not null default now()
);
