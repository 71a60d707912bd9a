-- pgfleet catalog, version 21.11: tell hosts when an instance row of theirs changed.
-- The health monitor keeps this host's instance rows in memory and checks its postmasters every second
-- from that view; it reads the rows again when this notification names its host (a state written by a
-- workflow, by the leader marking the host's instances unknown, by another host's API …), when its
-- LISTEN connection comes back, and every 30 s. The payload is the host id; a row moved between hosts
-- names both. Updates that change nothing notify nobody; Postgres sends one notification per channel
-- and payload per transaction however many rows fire.
create function pgfleet_notify_instances() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        perform pg_notify('pgfleet_instances', old.host_id);
    else
        perform pg_notify('pgfleet_instances', new.host_id);
        if tg_op = 'UPDATE' and old.host_id is distinct from new.host_id then
            perform pg_notify('pgfleet_instances', old.host_id);
        end if;
    end if;
    return null;
end $$;
create trigger instances_notify_insert_delete after insert or delete on instances
    for each row execute function pgfleet_notify_instances();
create trigger instances_notify_update after update on instances
    for each row when (old.* is distinct from new.*) execute function pgfleet_notify_instances();
