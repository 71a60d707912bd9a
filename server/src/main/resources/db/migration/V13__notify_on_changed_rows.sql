-- pgfleet catalog, version 13: wake hosts only when work really changed.
-- A statement trigger "after update of status" fires for every UPDATE naming the column, even one that
-- changes no row: a host's claim query (which finds nothing most of the time) then woke every host,
-- which claimed again. Row triggers fire only for inserted rows and rows whose status changed;
-- Postgres sends one notification per channel and payload per transaction however many rows fire.
drop trigger tasks_notify_work on tasks;
drop trigger task_parts_notify_work on task_parts;
create trigger tasks_notify_insert after insert on tasks
    for each row execute function pgfleet_notify_work();
create trigger tasks_notify_status after update of status on tasks
    for each row when (old.status is distinct from new.status) execute function pgfleet_notify_work();
create trigger task_parts_notify_insert after insert on task_parts
    for each row execute function pgfleet_notify_work();
create trigger task_parts_notify_status after update of status on task_parts
    for each row when (old.status is distinct from new.status) execute function pgfleet_notify_work();
