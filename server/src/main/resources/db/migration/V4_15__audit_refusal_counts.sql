-- Refused calls (401, 403) are recorded as one row per caller (key id, else client address), status and
-- minute, with how many there were and when the last came: a flood of bad keys adds a row a minute,
-- not a row a call. Every other row has count 1.
alter table audit add column count bigint not null default 1;
alter table audit add column last_at timestamptz;
