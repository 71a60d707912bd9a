package io.pgfleet.server.catalog;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** The rows of the catalog as values. */
public final class CatalogRows {
    private CatalogRows() {}

    public record DatabaseRow(
            UUID uuid,
            String tenantId,
            String id,
            Map<String, String> labels,
            DatabaseSpec spec,
            boolean suspended,
            Instant createdAt,
            Instant updatedAt) {}

    public record InstanceRow(
            String id,
            UUID databaseUuid,
            String nodeName,
            String hostId,
            String postgresVersion,
            int port,
            Integer poolerPort,
            InstanceState state,
            boolean pendingRestart,
            String error,
            byte[] superuserPasswordEnc,
            Instant createdAt,
            Instant updatedAt,
            java.util.List<String> drift,
            byte[] poolerPasswordEnc,
            String role,
            boolean needsRejoin) {
        public static final String PRIMARY = "primary";
        public static final String REPLICA = "replica";

        public InstanceRow {
            drift = drift == null ? java.util.List.of() : java.util.List.copyOf(drift);
            role = role == null ? PRIMARY : role;
        }

        /** A primary that needs no rejoin: the row of a node with one host. */
        public InstanceRow(
                String id,
                UUID databaseUuid,
                String nodeName,
                String hostId,
                String postgresVersion,
                int port,
                Integer poolerPort,
                InstanceState state,
                boolean pendingRestart,
                String error,
                byte[] superuserPasswordEnc,
                Instant createdAt,
                Instant updatedAt,
                java.util.List<String> drift,
                byte[] poolerPasswordEnc) {
            this(
                    id,
                    databaseUuid,
                    nodeName,
                    hostId,
                    postgresVersion,
                    port,
                    poolerPort,
                    state,
                    pendingRestart,
                    error,
                    superuserPasswordEnc,
                    createdAt,
                    updatedAt,
                    drift,
                    poolerPasswordEnc,
                    PRIMARY,
                    false);
        }

        /** A streaming replica of its node's primary (DESIGN.md §5b). */
        public boolean isReplica() {
            return REPLICA.equals(role);
        }

        public InstanceRow withPort(int newPort) {
            return new InstanceRow(
                    id,
                    databaseUuid,
                    nodeName,
                    hostId,
                    postgresVersion,
                    newPort,
                    poolerPort,
                    state,
                    pendingRestart,
                    error,
                    superuserPasswordEnc,
                    createdAt,
                    updatedAt,
                    drift,
                    poolerPasswordEnc,
                    role,
                    needsRejoin);
        }
    }

    public record TaskRow(
            UUID taskId,
            String tenantId,
            String databaseId,
            UUID databaseUuid,
            String instanceId,
            TaskType type,
            TaskStatus status,
            TaskRequest request,
            Instant scheduledAt,
            Instant createdAt,
            Instant startedAt,
            Instant completedAt,
            String error) {}

    public record TaskLogEntry(long entryId, Instant timestamp, String message, Map<String, Object> fields) {}

    public record HostRow(
            String hostId, int portRangeFirst, int portRangeLast, Instant createdAt, Instant lastSeenAt) {}
}
