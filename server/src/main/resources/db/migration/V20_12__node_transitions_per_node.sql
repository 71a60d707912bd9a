-- pgfleet catalog (issue 12): an update restarting several replicated nodes replica first switches
-- each of them over within one task, so a task may move the primary of several nodes: one row per node.
alter table node_transitions drop constraint node_transitions_pkey;
alter table node_transitions add primary key (task_id, node_name);
