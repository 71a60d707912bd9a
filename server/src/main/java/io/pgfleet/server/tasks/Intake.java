package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.server.agent.PoolerAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;

/**
 * The moves every accepted operation makes inside its transaction: lock the database's row, refuse
 * with 409 when another task holds the slot (one update at a time), and record the task.
 */
@Component
public class Intake {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcTaskRepository tasks;
    private final PoolerAgent poolers;

    public Intake(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcTaskRepository tasks,
            PoolerAgent poolers) {
        this.poolers = poolers;
        this.databases = databases;
        this.instances = instances;
        this.tasks = tasks;
    }

    public DatabaseRow lock(String tenant, String databaseId) {
        return databases
                .findForUpdate(tenant, databaseId)
                .orElseThrow(() -> PgfleetException.notFound("database " + databaseId));
    }

    /** The instance by id or by node name (DESIGN.md §1 accepts the node name as an alias). */
    public InstanceRow resolve(DatabaseRow db, String ref) {
        return instances.byDatabase(db.uuid()).stream()
                .filter(i -> i.id().equals(ref) || i.nodeName().equals(ref))
                .findFirst()
                .orElseThrow(() -> PgfleetException.notFound("instance " + ref + " of database " + db.id()));
    }

    public void refuseIfBusy(DatabaseRow db, String instanceId, boolean databaseWide) {
        tasks.conflicting(db.uuid(), instanceId, databaseWide, null).ifPresent(busy -> {
            throw new PgfleetException(
                    ErrorCode.OPERATION_IN_PROGRESS,
                    "database " + db.id() + " has a " + busy.type().label() + " task in progress (" + busy.taskId()
                            + "); wait for it to finish");
        });
    }

    public TaskRow newTask(
            DatabaseRow db,
            String instanceId,
            TaskType type,
            TaskStatus status,
            Instant scheduledAt,
            TaskRequest request) {
        TaskRow task = new TaskRow(
                UUID.randomUUID(),
                db.tenantId(),
                db.id(),
                db.uuid(),
                instanceId,
                type,
                status,
                request,
                scheduledAt,
                Instant.now(),
                null,
                null,
                null);
        tasks.insert(task);
        tasks.appendLog(
                task.taskId(), status == TaskStatus.SCHEDULED ? "scheduled for " + scheduledAt : "accepted", Map.of());
        return tasks.find(task.taskId()).orElseThrow();
    }

    /** A pooler in the spec needs pgbouncer on this host: 422 naming the field and the fix. */
    public void refuseWithoutPgBouncer(DatabaseSpec spec) {
        if (spec != null && spec.hasPooler() && poolers.executable().isEmpty()) {
            throw PgfleetException.invalid(
                    "spec.pooler.enabled",
                    "pgbouncer is not installed on this host: install it (apt-get install pgbouncer) or start pgfleet"
                            + " with --pgbouncer-bin PATH");
        }
    }
}
