package io.pgfleet.server.catalog;

import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.server.catalog.CatalogRows.TaskLogEntry;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Tasks and their logs. Tasks outlive their database; they are found by the database's id. */
@Repository
public class JdbcTaskRepository {
    /** Paging of a task list: up to {@code limit} after {@code afterTaskId}, oldest or newest first. */
    public record Page(int limit, UUID afterTaskId, boolean ascending) {
        public Page withLimit(int newLimit) {
            return new Page(newLimit, afterTaskId, ascending);
        }
    }

    private final JdbcClient jdbc;
    private final Json json;

    public JdbcTaskRepository(JdbcClient jdbc, Json json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void insert(TaskRow task) {
        jdbc.sql("""
                insert into tasks (task_id, tenant_id, database_id, database_uuid, instance_id, type, status, request, scheduled_at)
                values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)""")
                .params(
                        task.taskId(),
                        task.tenantId(),
                        task.databaseId(),
                        task.databaseUuid(),
                        task.instanceId(),
                        task.type().label(),
                        task.status().label(),
                        json.write(task.request()),
                        ts(task.scheduledAt()))
                .update();
    }

    /** A task of one tenant: another tenant's task is simply not found. */
    public Optional<TaskRow> find(String tenantId, UUID taskId) {
        return jdbc.sql("select * from tasks where tenant_id = ? and task_id = ?")
                .params(tenantId, taskId)
                .query(this::map)
                .optional();
    }

    public Optional<TaskRow> find(UUID taskId) {
        return jdbc.sql("select * from tasks where task_id = ?")
                .param(taskId)
                .query(this::map)
                .optional();
    }

    /**
     * Whether a pending or running task holds the slot this one needs: any task of the database when
     * either is database-wide, else a task on the same instance (DESIGN.md §4).
     */
    public Optional<TaskRow> conflicting(UUID databaseUuid, String instanceId, boolean databaseWide, UUID exclude) {
        return conflicting(databaseUuid, instanceId, databaseWide, exclude, false);
    }

    /**
     * The oldest pending or running task in the way of a new one. With {@code pastLostCoordinators}, a
     * task running on a coordinator whose host is declared unreachable is not in the way: a failover does
     * not wait for a host that is gone (that task resumes, re-planned from the catalog, when it returns).
     */
    public Optional<TaskRow> conflicting(
            UUID databaseUuid, String instanceId, boolean databaseWide, UUID exclude, boolean pastLostCoordinators) {
        List<String> wideTypes = java.util.Arrays.stream(TaskType.values())
                .filter(TaskType::isDatabaseWide)
                .map(TaskType::label)
                .toList();
        return jdbc.sql("""
                select * from tasks
                where database_uuid = ? and status in ('pending', 'running') and task_id <> ?
                  and (? or type = any(?) or instance_id = ?)
                  and not (? and status = 'running'
                           and claimed_by in (select host_id from hosts where state = 'unreachable'))
                order by created_at limit 1""")
                .params(
                        databaseUuid,
                        exclude == null ? new UUID(0, 0) : exclude,
                        databaseWide,
                        wideTypes.toArray(String[]::new),
                        instanceId,
                        pastLostCoordinators)
                .query(this::map)
                .optional();
    }

    /** Whether the database has a task of one of {@code types} pending, scheduled or running. */
    public boolean hasActiveOfType(UUID databaseUuid, java.util.Set<TaskType> types) {
        return jdbc.sql("""
                select count(*) from tasks
                where database_uuid = ? and status in ('pending', 'scheduled', 'running') and type = any(?)""")
                        .params(
                                databaseUuid,
                                types.stream().map(TaskType::label).toArray(String[]::new))
                        .query(Long.class)
                        .single()
                > 0;
    }

    /** Whether the instance has a task that is pending, scheduled or running (its own or database-wide). */
    public boolean hasActive(UUID databaseUuid, String instanceId) {
        List<String> wideTypes = java.util.Arrays.stream(TaskType.values())
                .filter(TaskType::isDatabaseWide)
                .map(TaskType::label)
                .toList();
        return jdbc.sql("""
                select count(*) from tasks
                where database_uuid = ? and status in ('pending', 'scheduled', 'running')
                  and (instance_id = ? or type = any(?))""")
                        .params(databaseUuid, instanceId, wideTypes.toArray(String[]::new))
                        .query(Long.class)
                        .single()
                > 0;
    }

    /**
     * Which of these databases have a task pending or running (any type): for each, what {@code
     * conflicting(uuid, null, true, null).isPresent()} says, in one query.
     */
    public java.util.Set<UUID> withWorkInProgress(java.util.Collection<UUID> databaseUuids) {
        if (databaseUuids.isEmpty()) {
            return java.util.Set.of();
        }
        return new java.util.HashSet<>(jdbc.sql("select distinct database_uuid from tasks"
                        + " where database_uuid = any(?) and status in ('pending', 'running')")
                .param(databaseUuids.toArray(UUID[]::new))
                .query(UUID.class)
                .list());
    }

    /** The instance's own tasks created since {@code since}, newest first. */
    public List<TaskRow> recentForInstance(String instanceId, java.time.Instant since) {
        return jdbc.sql("select * from tasks where instance_id = ? and created_at >= ? order by created_at desc")
                .params(instanceId, ts(since))
                .query(this::map)
                .list();
    }

    /** Tasks whose time has come, oldest first. */
    public List<TaskRow> due(int limit) {
        return jdbc.sql("""
                select * from tasks where status in ('pending', 'scheduled') and coalesce(scheduled_at, created_at) <= now()
                order by coalesce(scheduled_at, created_at), created_at limit ?""").param(limit).query(this::map).list();
    }

    /** The earliest time a scheduled task falls due that has not come yet. */
    public Optional<java.time.Instant> nextScheduled() {
        // Only future ones: a due task blocked by a running one waits for that task's wake-up, not a spin.
        return jdbc.sql("select min(scheduled_at) from tasks where status = 'scheduled' and scheduled_at > now()")
                .query((rs, n) -> JdbcDatabaseRepository.instant(rs.getTimestamp(1)))
                .optional()
                .filter(java.util.Objects::nonNull);
    }

    public List<TaskRow> withStatus(TaskStatus status) {
        return jdbc.sql("select * from tasks where status = ? order by created_at")
                .param(status.label())
                .query(this::map)
                .list();
    }

    public boolean compareAndSetStatus(UUID taskId, TaskStatus from, TaskStatus to) {
        String timestamps = to == TaskStatus.RUNNING
                ? ", started_at = clock_timestamp()"
                : to.isFinished() ? ", completed_at = clock_timestamp()" : "";
        return jdbc.sql("update tasks set status = ?" + timestamps + " where task_id = ? and status = ?")
                        .params(to.label(), taskId, from.label())
                        .update()
                == 1;
    }

    public void finish(UUID taskId, TaskStatus status, String error) {
        jdbc.sql(
                        "update tasks set status = ?, error = ?, completed_at = clock_timestamp() where task_id = ? and status = 'running'")
                .params(status.label(), error, taskId)
                .update();
    }

    /** Cancels the scheduled tasks of a database (a delete makes them moot); returns how many. */
    public int cancelScheduled(UUID databaseUuid) {
        return jdbc.sql(
                        "update tasks set status = 'canceled', completed_at = clock_timestamp(), error = 'canceled: the database was deleted' where database_uuid = ? and status = 'scheduled'")
                .param(databaseUuid)
                .update();
    }

    public List<TaskRow> byDatabase(String tenantId, String databaseId, Page page) {
        return list("tenant_id = ? and database_id = ?", List.of(tenantId, databaseId), page);
    }

    public long countByDatabase(String tenantId, String databaseId) {
        return jdbc.sql("select count(*) from tasks where tenant_id = ? and database_id = ?")
                .params(tenantId, databaseId)
                .query(Long.class)
                .single();
    }

    public long countAll(String tenantId, String scope, String entityId) {
        List<Object> params = new ArrayList<>();
        String where = where(tenantId, scope, entityId, params);
        return jdbc.sql("select count(*) from tasks where " + where)
                .params(params)
                .query(Long.class)
                .single();
    }

    public List<TaskRow> all(String tenantId, String scope, String entityId, Page page) {
        List<Object> params = new ArrayList<>();
        String where = where(tenantId, scope, entityId, params);
        return list(where, params, page);
    }

    private static String where(String tenantId, String scope, String entityId, List<Object> params) {
        StringBuilder where = new StringBuilder("tenant_id = ?");
        params.add(tenantId);
        if (entityId != null) {
            where.append("database".equals(scope) ? " and database_id = ?" : " and (instance_id = ? )");
            params.add(entityId);
        } else if ("database".equals(scope)) {
            where.append(" and instance_id is null");
        } else if ("instance".equals(scope)) {
            where.append(" and instance_id is not null");
        }
        return where.toString();
    }

    private List<TaskRow> list(String where, List<Object> params, Page page) {
        List<Object> all = new ArrayList<>(params);
        String cmp = page.ascending() ? ">" : "<";
        String sql = "select * from tasks where " + where;
        if (page.afterTaskId() != null) {
            sql += " and (created_at, task_id) " + cmp + " (select created_at, task_id from tasks where task_id = ?)";
            all.add(page.afterTaskId());
        }
        String dir = page.ascending() ? "asc" : "desc";
        sql += " order by created_at " + dir + ", task_id " + dir + " limit ?";
        all.add(page.limit());
        return jdbc.sql(sql).params(all).query(this::map).list();
    }

    public void appendLog(UUID taskId, String message, Map<String, Object> fields) {
        jdbc.sql("insert into task_log (task_id, message, fields) values (?, ?, ?::jsonb)")
                .params(taskId, message, json.write(fields))
                .update();
    }

    /** Records that a step of the task finished; recording it again changes nothing. */
    public void recordStep(UUID taskId, String step) {
        jdbc.sql("insert into task_steps (task_id, step) values (?, ?) on conflict do nothing")
                .params(taskId, step)
                .update();
    }

    /** The keys of the task's finished steps. */
    public java.util.Set<String> finishedSteps(UUID taskId) {
        return new java.util.HashSet<>(jdbc.sql("select step from task_steps where task_id = ?")
                .param(taskId)
                .query(String.class)
                .list());
    }

    public List<TaskLogEntry> log(UUID taskId, Long afterEntryId, int limit) {
        return jdbc.sql("select * from task_log where task_id = ? and entry_id > ? order by entry_id limit ?")
                .params(taskId, afterEntryId == null ? 0L : afterEntryId, limit)
                .query((rs, n) -> new TaskLogEntry(
                        rs.getLong("entry_id"),
                        JdbcDatabaseRepository.instant(rs.getTimestamp("at")),
                        rs.getString("message"),
                        json.readObject(rs.getString("fields"))))
                .list();
    }

    /** The most recent {@code limit} entries of a task's log, oldest first. */
    public List<TaskLogEntry> logTail(UUID taskId, int limit) {
        return jdbc.sql("select * from (select * from task_log where task_id = ? order by entry_id desc limit ?) t"
                        + " order by entry_id")
                .params(taskId, limit)
                .query((rs, n) -> new TaskLogEntry(
                        rs.getLong("entry_id"),
                        JdbcDatabaseRepository.instant(rs.getTimestamp("at")),
                        rs.getString("message"),
                        json.readObject(rs.getString("fields"))))
                .list();
    }

    private TaskRow map(ResultSet rs, int rowNum) throws SQLException {
        return new TaskRow(
                rs.getObject("task_id", UUID.class),
                rs.getString("tenant_id"),
                rs.getString("database_id"),
                rs.getObject("database_uuid", UUID.class),
                rs.getString("instance_id"),
                TaskType.fromLabel(rs.getString("type")),
                TaskStatus.fromLabel(rs.getString("status")),
                request(TaskType.fromLabel(rs.getString("type")), rs.getString("request")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("scheduled_at")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("created_at")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("started_at")),
                JdbcDatabaseRepository.instant(rs.getTimestamp("completed_at")),
                rs.getString("error"));
    }

    /** The stored request as its record; rows written before it had every field read the same way. */
    private TaskRequest request(TaskType type, String stored) {
        return json.convert(json.readObject(stored), TaskRequest.typeOf(type));
    }

    private static Timestamp ts(java.time.Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
