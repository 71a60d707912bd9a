-- pgfleet catalog, version 1: hosts, databases, instances, port reservations, tasks, events.

create table hosts (
    host_id          text primary key,
    port_range_first int not null,
    port_range_last  int not null,
    created_at       timestamptz not null default now(),
    last_seen_at     timestamptz not null default now()
);

create table databases (
    uuid        uuid primary key,
    tenant_id   text not null default 'default',
    id          text not null,
    labels      jsonb not null default '{}',
    spec        jsonb not null,          -- passwords are never here; see database_users
    suspended   boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    unique (tenant_id, id)
);
create index databases_labels on databases using gin (labels);

-- Passwords of the spec's users, AES-GCM encrypted with <home>/secrets/secret.key.
create table database_users (
    database_uuid uuid not null references databases (uuid) on delete cascade,
    username      text not null,
    password_enc  bytea not null,
    primary key (database_uuid, username)
);

create table instances (
    id                     text primary key,
    database_uuid          uuid not null references databases (uuid) on delete cascade,
    node_name              text not null,
    host_id                text not null references hosts (host_id),
    postgres_version       text not null,
    port                   int not null,
    pooler_port            int,
    state                  text not null,
    pending_restart        boolean not null default false,
    error                  text,
    superuser_password_enc bytea not null,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    unique (database_uuid, node_name)
);

-- One row per port an instance or pooler holds: unique per host, stopped instances included.
create table port_reservations (
    host_id     text not null references hosts (host_id),
    port        int not null check (port between 1024 and 65535),
    instance_id text not null references instances (id) on delete cascade,
    purpose     text not null check (purpose in ('postgres', 'pooler')),
    primary key (host_id, port)
);

-- Tasks and events outlive their database: no foreign key to databases.
create table tasks (
    task_id       uuid primary key,
    tenant_id     text not null default 'default',
    database_id   text not null,
    database_uuid uuid not null,
    instance_id   text,
    type          text not null,
    status        text not null,
    request       jsonb not null default '{}',
    scheduled_at  timestamptz,
    created_at    timestamptz not null default now(),
    started_at    timestamptz,
    completed_at  timestamptz,
    error         text
);
create index tasks_active on tasks (status, scheduled_at) where status in ('pending', 'scheduled', 'running');
create index tasks_by_database on tasks (database_uuid, created_at);
create index tasks_by_database_id on tasks (tenant_id, database_id, created_at);

create table task_log (
    entry_id  bigserial primary key,
    task_id   uuid not null references tasks (task_id) on delete cascade,
    at        timestamptz not null default clock_timestamp(),
    message   text not null,
    fields    jsonb not null default '{}'
);
create index task_log_by_task on task_log (task_id, entry_id);

create table events (
    event_id      bigserial primary key,
    at            timestamptz not null default clock_timestamp(),
    tenant_id     text not null default 'default',
    database_id   text,
    database_uuid uuid,
    instance_id   text,
    type          text not null,
    message       text not null,
    fields        jsonb not null default '{}'
);
create index events_by_database on events (database_uuid, event_id);
