package io.pgfleet.server.api;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseState;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskLogEntry;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The API's response shapes (DESIGN.md §6); serialized in snake_case. */
public final class Views {
    private Views() {}

    /** An instance: pgfleet's fields, and pgEdge's {@code postgres} and {@code connection_info} beside them. */
    public record InstanceView(
            String id,
            String nodeName,
            String hostId,
            String role,
            String postgresVersion,
            int port,
            Integer poolerPort,
            String state,
            boolean pendingRestart,
            String error,
            List<String> drift,
            StorageView storage,
            Instant createdAt,
            Instant updatedAt,
            PgEdgeCompat.PostgresStatus postgres,
            PgEdgeCompat.ConnectionInfo connectionInfo,
            io.pgfleet.server.ha.ReplicationStatus.ReplicaLag replication) {
        static InstanceView of(InstanceRow row, PgEdgeCompat.InstanceFacts facts) {
            return of(row, facts, null);
        }

        /** With a replica's lag as its primary reports it (null for a primary, or when it did not answer). */
        static InstanceView of(
                InstanceRow row,
                PgEdgeCompat.InstanceFacts facts,
                io.pgfleet.server.ha.ReplicationStatus.ReplicaLag lag) {
            return new InstanceView(
                    row.id(),
                    row.nodeName(),
                    row.hostId(),
                    row.role(),
                    row.postgresVersion(),
                    row.port(),
                    row.poolerPort(),
                    row.state().label(),
                    row.pendingRestart(),
                    row.error(),
                    row.drift(),
                    facts.storage(row.id()),
                    row.createdAt(),
                    row.updatedAt(),
                    new PgEdgeCompat.PostgresStatus(
                            facts.fullVersion(row.postgresVersion()), row.pendingRestart(), row.role()),
                    PgEdgeCompat.ConnectionInfo.of(facts.hostname(), row.port()),
                    lag);
        }
    }

    /**
     * Whether the instance can write its data and log directories, as its host's last write probe found:
     * {@code {"writable": true}}, or the problem ({@code no_space}, {@code quota_exceeded}, {@code read_only},
     * {@code permission_denied}, {@code io_error}), what the system said, where, and since when.
     */
    public record StorageView(boolean writable, String problem, String message, String directory, Instant since) {
        static final StorageView WRITABLE = new StorageView(true, null, null, null, null);
    }

    public record DatabaseView(
            String id,
            String state,
            Map<String, String> labels,
            DatabaseSpec spec,
            Instant createdAt,
            Instant updatedAt,
            List<InstanceView> instances) {
        static DatabaseView of(DatabaseRow row, List<InstanceRow> instances, PgEdgeCompat.InstanceFacts facts) {
            return of(row, instances, facts, Map.of());
        }

        /** With each replica's lag as its primary reports it. */
        static DatabaseView of(
                DatabaseRow row,
                List<InstanceRow> instances,
                PgEdgeCompat.InstanceFacts facts,
                Map<String, io.pgfleet.server.ha.ReplicationStatus.ReplicaLag> lags) {
            return new DatabaseView(
                    row.id(),
                    state(row, instances).label(),
                    row.labels(),
                    row.spec().redacted(),
                    row.createdAt(),
                    row.updatedAt(),
                    instances.stream()
                            .map(i -> InstanceView.of(i, facts, lags.get(i.id())))
                            .toList());
        }

        static DatabaseState state(DatabaseRow row, List<InstanceRow> instances) {
            return DatabaseState.derive(
                    instances.stream().map(InstanceRow::state).toList(), row.suspended());
        }
    }

    /** A task; {@code scope}, {@code entity_id}, {@code node_name} and {@code host_id} are pgEdge's. */
    public record TaskView(
            String taskId,
            String scope,
            String entityId,
            String databaseId,
            String nodeName,
            String instanceId,
            String hostId,
            String type,
            String status,
            Instant scheduledAt,
            Instant createdAt,
            Instant startedAt,
            Instant completedAt,
            String error) {
        static TaskView of(TaskRow row, String nodeName, String hostId) {
            return new TaskView(
                    row.taskId().toString(),
                    PgEdgeCompat.DATABASE_SCOPE,
                    row.databaseId(),
                    row.databaseId(),
                    nodeName,
                    row.instanceId(),
                    hostId,
                    row.type().label(),
                    row.status().label(),
                    row.scheduledAt(),
                    row.createdAt(),
                    row.startedAt(),
                    row.completedAt(),
                    row.error());
        }
    }

    public record TaskEnvelope(TaskView task) {}

    /** A canceled task: its fields at the top (pgEdge's shape) and under {@code task} (pgfleet's). */
    public record CanceledTask(
            @com.fasterxml.jackson.annotation.JsonUnwrapped TaskView fields, TaskView task) {}

    /** An accepted spec update: its task, the database (pgEdge's shape) and the plan the task applies. */
    public record UpdateEnvelope(TaskView task, DatabaseView database, io.pgfleet.core.UpdatePlan plan) {}

    public record CreatedEnvelope(DatabaseView database, TaskView task) {}

    public record DatabaseList(List<DatabaseView> databases, String nextCursor, long total) {}

    public record TaskList(List<TaskView> tasks, String nextCursor, long total) {}

    public record SuspendRequest(String reason) {}

    public record LogEntryView(long entryId, Instant timestamp, String message, Map<String, Object> fields) {
        static LogEntryView of(TaskLogEntry e) {
            return new LogEntryView(e.entryId(), e.timestamp(), e.message(), e.fields());
        }
    }

    /**
     * A task's log. {@code last_entry_id} (a string, as pgEdge gives it) is what a client passes back as
     * {@code after_entry_id} to get only newer entries.
     */
    public record TaskLogView(
            String scope,
            String entityId,
            String databaseId,
            String taskId,
            String taskStatus,
            String lastEntryId,
            List<LogEntryView> entries) {}

    public record ServerLogView(String instanceId, String nodeName, String file, List<String> lines) {}

    public record ConnectionInstance(
            String instanceId,
            String nodeName,
            String state,
            String host,
            int port,
            Integer poolerPort,
            String user,
            String database,
            String directUrl,
            String pooledUrl,
            String jdbcUrl,
            String pooledJdbcUrl) {}

    /**
     * A replicated node's multi-host URLs: libpq picks the writable (or a read-only) instance itself, so
     * clients follow a switchover without a virtual IP. JDBC spells it targetServerType.
     */
    public record ConnectionNode(
            String nodeName,
            String primaryUrl,
            String readOnlyUrl,
            String pooledPrimaryUrl,
            String primaryJdbcUrl,
            String readOnlyJdbcUrl) {}

    public record ConnectionView(String databaseId, List<ConnectionInstance> instances, List<ConnectionNode> nodes) {}

    public record RestartRequest(Instant scheduledAt, Boolean onlyIfPending) {}
}
