-- pgfleet catalog, version 2: tenants, API keys, audit, suspend, a stored database state.

create table tenants (
    id         uuid primary key,
    name       text not null unique,
    created_at timestamptz not null default now()
);
insert into tenants (id, name) values ('00000000-0000-0000-0000-000000000001', 'default');

-- Tenant columns held the name 'default' so far; from now on they hold the tenant's id.
update databases set tenant_id = '00000000-0000-0000-0000-000000000001' where tenant_id = 'default';
update tasks set tenant_id = '00000000-0000-0000-0000-000000000001' where tenant_id = 'default';
update events set tenant_id = '00000000-0000-0000-0000-000000000001' where tenant_id = 'default';
alter table databases alter column tenant_id drop default;
alter table tasks alter column tenant_id drop default;
alter table events alter column tenant_id drop default;

-- Keys are pgf_<id>_<secret>; only SHA-256 of the (random, 256-bit) secret is kept.
create table api_keys (
    id           text primary key,
    tenant_id    uuid not null references tenants (id) on delete cascade,
    name         text not null,
    role         text not null check (role in ('admin', 'operator', 'viewer')),
    secret_hash  bytea not null,
    created_by   text,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index api_keys_by_tenant on api_keys (tenant_id, created_at);

create table audit (
    audit_id   bigserial primary key,
    at         timestamptz not null default clock_timestamp(),
    key_id     text,
    tenant_id  text,
    method     text not null,
    path       text not null,
    action     text not null,
    target     text,
    outcome    text not null,
    status     int not null,
    request_id text not null,
    client     text,
    detail     text
);
create index audit_by_tenant on audit (tenant_id, audit_id);

alter table databases add column suspended_reason text;
-- Derived from the instances in the same transaction as every state change, so lists filter in SQL.
alter table databases add column state text not null default 'creating';
create index databases_by_tenant_id on databases (tenant_id, id);
create index events_by_tenant on events (tenant_id, event_id);
