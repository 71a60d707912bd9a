-- pgfleet catalog, version 20 (issue 12): read replicas and switchover (DESIGN.md §5b).
-- (A distinct high version, so concurrent work adding V11.. does not clash.)

-- A node with several host_ids has one instance per host: the primary on the first, replicas on the others.
alter table instances add column role text not null default 'primary' check (role in ('primary', 'replica'));
-- A primary demoted by a switchover or failover: it must come back as a replica, never as a primary.
alter table instances add column needs_rejoin boolean not null default false;
alter table instances drop constraint instances_database_uuid_node_name_key;
alter table instances add constraint instances_node_host unique (database_uuid, node_name, host_id);
-- The catalog itself refuses two primaries of one node.
create unique index instances_one_primary on instances (database_uuid, node_name) where role = 'primary';

-- The password of the reserved replication role (pgfleet_replication), encrypted like users' passwords.
alter table databases add column replication_password_enc bytea;

-- What a switchover decided, so every host running a part of it sees the same instances.
create table node_transitions (
    task_id        uuid primary key references tasks (task_id) on delete cascade,
    database_uuid  uuid not null,
    node_name      text not null,
    kind           text not null check (kind in ('switchover', 'failover')),
    old_primary_id text not null,
    candidate_id   text,
    shutdown_lsn   text,
    created_at     timestamptz not null default now()
);
