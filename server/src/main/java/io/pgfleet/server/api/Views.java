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

    public record InstanceView(
            String id,
            String nodeName,
            String hostId,
            String postgresVersion,
            int port,
            Integer poolerPort,
            String state,
            boolean pendingRestart,
            String error,
            List<String> drift,
            Instant createdAt,
            Instant updatedAt) {
        static InstanceView of(InstanceRow row) {
            return new InstanceView(
                    row.id(),
                    row.nodeName(),
                    row.hostId(),
                    row.postgresVersion(),
                    row.port(),
                    row.poolerPort(),
                    row.state().label(),
                    row.pendingRestart(),
                    row.error(),
                    row.drift(),
                    row.createdAt(),
                    row.updatedAt());
        }
    }

    public record DatabaseView(
            String id,
            String state,
            Map<String, String> labels,
            DatabaseSpec spec,
            Instant createdAt,
            Instant updatedAt,
            List<InstanceView> instances) {
        static DatabaseView of(DatabaseRow row, List<InstanceRow> instances) {
            return new DatabaseView(
                    row.id(),
                    state(row, instances).label(),
                    row.labels(),
                    row.spec().redacted(),
                    row.createdAt(),
                    row.updatedAt(),
                    instances.stream().map(InstanceView::of).toList());
        }

        static DatabaseState state(DatabaseRow row, List<InstanceRow> instances) {
            return DatabaseState.derive(
                    instances.stream().map(InstanceRow::state).toList(), row.suspended());
        }
    }

    public record TaskView(
            String taskId,
            String databaseId,
            String instanceId,
            String type,
            String status,
            Instant scheduledAt,
            Instant createdAt,
            Instant startedAt,
            Instant completedAt,
            String error) {
        static TaskView of(TaskRow row) {
            return new TaskView(
                    row.taskId().toString(),
                    row.databaseId(),
                    row.instanceId(),
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

    /** An accepted spec update: its task and the plan the task applies. */
    public record UpdateEnvelope(TaskView task, io.pgfleet.core.UpdatePlan plan) {}

    public record CreatedEnvelope(DatabaseView database, TaskView task) {}

    public record DatabaseList(List<DatabaseView> databases, String nextCursor, long total) {}

    public record TaskList(List<TaskView> tasks, String nextCursor, long total) {}

    public record SuspendRequest(String reason) {}

    public record LogEntryView(long entryId, Instant timestamp, String message, Map<String, Object> fields) {
        static LogEntryView of(TaskLogEntry e) {
            return new LogEntryView(e.entryId(), e.timestamp(), e.message(), e.fields());
        }
    }

    public record TaskLogView(String taskId, String taskStatus, List<LogEntryView> entries) {}

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
            String pooledUrl) {}

    public record ConnectionView(String databaseId, List<ConnectionInstance> instances) {}

    public record RestartRequest(Instant scheduledAt, Boolean onlyIfPending) {}
}
