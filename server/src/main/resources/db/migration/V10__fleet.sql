-- pgfleet catalog, version 10 (issue 11): a fleet of hosts on one catalog.
-- (A distinct high version, so concurrent work adding V4.. does not clash.)

-- What a host registers and reports with each heartbeat (DESIGN.md §5b).
alter table hosts add column advertise_host    text;
alter table hosts add column api_url           text;
alter table hosts add column postgres_versions text[] not null default '{}';
alter table hosts add column cores             int;
alter table hosts add column memory_bytes      bigint;
alter table hosts add column max_instances     int;
alter table hosts add column started_at        timestamptz;
-- 'healthy' | 'degraded' (its heartbeat reports a problem) | 'unreachable' (declared by the leader).
alter table hosts add column state             text not null default 'healthy';
alter table hosts add column problem           text;
alter table hosts add column draining          boolean not null default false;
-- The leader epoch that declared the host unreachable (fenced decision).
alter table hosts add column unreachable_epoch bigint;

-- One row per fleet: the fingerprint of the key that encrypts secrets, so a host with another key
-- refuses to start instead of failing on the first password it cannot decrypt.
create table fleet (
    id              int primary key check (id = 1),
    key_fingerprint text not null,
    created_by      text not null,
    created_at      timestamptz not null default now()
);

-- The leader lease: one row; a new holder bumps the epoch, so a deposed leader's writes are refused.
create table fleet_leader (
    id         int primary key check (id = 1),
    host_id    text,
    epoch      bigint not null default 0,
    expires_at timestamptz not null default '-infinity'
);
insert into fleet_leader (id) values (1);

-- The state an instance had when the leader made it 'unknown' (its host went silent).
alter table instances add column unknown_from text;

-- Which host runs a task (claimed it); a restarted host resumes only its own.
alter table tasks add column claimed_by text;

-- The per-host parts of a database-wide task: the n-th fan-out (phase) of its workflow on one host.
create table task_parts (
    task_id      uuid not null references tasks (task_id) on delete cascade,
    host_id      text not null,
    phase        int not null,
    status       text not null check (status in ('pending', 'running', 'completed', 'failed', 'canceled')),
    error        text,
    created_at   timestamptz not null default now(),
    started_at   timestamptz,
    completed_at timestamptz,
    primary key (task_id, host_id, phase)
);
create index task_parts_pending on task_parts (host_id) where status = 'pending';

-- Hosts wait for work with LISTEN pgfleet_work; every new task or part, and every status change, wakes them.
create function pgfleet_notify_work() returns trigger language plpgsql as $$
begin
    perform pg_notify('pgfleet_work', tg_table_name);
    return null;
end $$;
create trigger tasks_notify_work after insert or update of status on tasks
    for each statement execute function pgfleet_notify_work();
create trigger task_parts_notify_work after insert or update of status on task_parts
    for each statement execute function pgfleet_notify_work();
