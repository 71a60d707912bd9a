-- pgfleet catalog, version 4 (issue 10): the steps of a task that finished, so a task interrupted
-- by a crash of pgfleet resumes at its first unfinished step. The key is the step's name, prefixed
-- with its node for a node's step ("n1/StartPostgres").
create table task_steps (
    task_id     uuid not null references tasks (task_id) on delete cascade,
    step        text not null,
    finished_at timestamptz not null default clock_timestamp(),
    primary key (task_id, step)
);
