package io.pgfleet.server.tasks;

import io.pgfleet.core.CreateDatabaseRequest;
import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PortRange;
import io.pgfleet.core.Secret;
import io.pgfleet.core.SpecValidator;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.core.UpdateDatabaseRequest;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PortProbe;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.agent.VersionSettings;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcHostRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.catalog.Json;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.security.SecretBox;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Accepts operations: validates, takes the database's row lock, enforces one update at a time
 * (a conflict is a 409 at once), reserves ports, and records the task, all in one transaction.
 * The {@link TaskRunner} does the work afterwards.
 */
@Service
public class DatabaseOperations {

    /** What {@code POST /v1/databases} returns. */
    public record Created(DatabaseRow database, TaskRow task) {}

    /** What {@code POST /v1/databases/{id}} returns: the task and the plan it applies. */
    public record Updated(TaskRow task, UpdatePlan plan) {}

    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final JdbcTaskRepository tasks;
    private final JdbcHostRepository hosts;
    private final JdbcEventRepository events;
    private final PostgresDistribution distribution;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final SecretBox secrets;
    private final TransactionTemplate tx;
    private final TaskRunner runner;
    private final PgfleetProperties properties;
    private final PortRange portRange;
    private final PortReservations reservations;
    private final Intake intake;
    private final SpecUpdates specUpdates;
    private final Json json;
    private final VersionSettings versionSettings;
    private final io.pgfleet.server.fleet.Placement placement;

    public DatabaseOperations(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            JdbcTaskRepository tasks,
            JdbcHostRepository hosts,
            JdbcEventRepository events,
            PostgresDistribution distribution,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            SecretBox secrets,
            TransactionTemplate tx,
            TaskRunner runner,
            PgfleetProperties properties,
            Json json,
            PortReservations reservations,
            Intake intake,
            SpecUpdates specUpdates,
            VersionSettings versionSettings,
            io.pgfleet.server.fleet.Placement placement) {
        this.reservations = reservations;
        this.intake = intake;
        this.specUpdates = specUpdates;
        this.versionSettings = versionSettings;
        this.placement = placement;
        this.json = json;
        this.databases = databases;
        this.instances = instances;
        this.ports = ports;
        this.tasks = tasks;
        this.hosts = hosts;
        this.events = events;
        this.distribution = distribution;
        this.agent = agent;
        this.runtimes = runtimes;
        this.secrets = secrets;
        this.tx = tx;
        this.runner = runner;
        this.properties = properties;
        this.portRange = reservations.range();
        hosts.upsert(properties.hostId(), portRange);
    }

    public Created create(String tenant, CreateDatabaseRequest request) {
        new SpecValidator(distribution.offeredVersions(), new HashSet<>(hosts.ids())).validateCreate(request);
        intake.refuseWithoutPgBouncer(request.spec());
        DatabaseSpec spec = complete(request.spec());
        // Checked before any work, as an update's are: a bad value never reaches a file Postgres must load.
        List<io.pgfleet.core.FieldError> confErrors = new java.util.ArrayList<>();
        for (NodeSpec node : spec.nodes()) {
            Map<String, String> conf = spec.effectiveConf(node.name());
            if (!conf.isEmpty()) {
                SpecValidator.checkParameters(conf, versionSettings.of(spec.nodeVersion(node))).stream()
                        .filter(e -> !confErrors.contains(e))
                        .forEach(confErrors::add);
            }
        }
        if (!confErrors.isEmpty()) {
            throw PgfleetException.invalidSpec(confErrors);
        }
        Created created = tx.execute(status -> {
            if (databases.exists(tenant, request.id())) {
                throw new PgfleetException(
                        ErrorCode.ALREADY_EXISTS,
                        "database " + request.id() + " already exists; choose another id or delete it first");
            }
            UUID uuid = UUID.randomUUID();
            DatabaseRow row = new DatabaseRow(
                    uuid, tenant, request.id(), request.labels(), spec, false, Instant.now(), Instant.now());
            try {
                databases.insert(row);
            } catch (org.springframework.dao.DuplicateKeyException e) {
                // A concurrent request with the same id committed first (the unique key decided).
                throw new PgfleetException(
                        ErrorCode.ALREADY_EXISTS,
                        "database " + request.id() + " already exists; choose another id or delete it first");
            }
            for (DatabaseUserSpec user : spec.databaseUsers()) {
                databases.saveUserPassword(uuid, user.username(), secrets.seal(new Secret(user.password())));
            }
            placement.lockOrder(spec.nodes()).forEach(ports::lockHost);
            // Nodes that name a port reserve first, so an auto-assigned node cannot take a port another node asked for.
            List<NodeSpec> ordered = new ArrayList<>(spec.nodes());
            ordered.sort(Comparator.comparing(n -> spec.requestedPort(n) == null));
            List<InstanceRow> reserved = new ArrayList<>();
            for (NodeSpec node : ordered) {
                reserved.addAll(reservations.reserveInstances(row, spec, node));
            }
            if (spec.hasPooler()) {
                // After every instance, so a pooler never takes a port a later node asked for.
                reserved.forEach(reservations::reservePoolerPort);
            }
            events.record(
                    tenant,
                    row.id(),
                    uuid,
                    null,
                    "database.created",
                    "database " + row.id() + " accepted",
                    Map.of("nodes", spec.nodes().size()));
            TaskRow task = newTask(row, null, TaskType.CREATE, TaskStatus.PENDING, null, new TaskRequest.Create());
            return new Created(row, task);
        });
        runner.wake();
        return created;
    }

    /** Fills in what the spec leaves open: version, hosts, generated passwords. */
    private DatabaseSpec complete(DatabaseSpec spec) {
        DatabaseSpec withVersion =
                spec.postgresVersion() == null ? spec.withPostgresVersion(distribution.defaultVersion()) : spec;
        List<NodeSpec> nodes = placement.place(withVersion.nodes(), List.of());
        List<DatabaseUserSpec> users = withVersion.databaseUsers().stream()
                .map(u ->
                        u.password() == null ? u.withPassword(Secret.generate().value()) : u)
                .toList();
        // with*: every other field of the spec (resources, drift_policy …) is kept as given.
        return withVersion.withNodes(nodes).withDatabaseUsers(users);
    }

    /** Accepts a spec update: see {@link SpecUpdates}. */
    public Updated update(String tenant, String databaseId, UpdateDatabaseRequest request) {
        return specUpdates.accept(tenant, databaseId, request);
    }

    public TaskRow stop(String tenant, String databaseId, String instanceRef) {
        return instanceTask(
                tenant,
                databaseId,
                instanceRef,
                TaskType.STOP_INSTANCE,
                InstanceState.STOPPING,
                null,
                new TaskRequest.StopInstance());
    }

    public TaskRow start(String tenant, String databaseId, String instanceRef) {
        return instanceTask(
                tenant,
                databaseId,
                instanceRef,
                TaskType.START_INSTANCE,
                InstanceState.STARTING,
                null,
                new TaskRequest.StartInstance());
    }

    public TaskRow restart(
            String tenant, String databaseId, String instanceRef, Instant scheduledAt, boolean onlyIfPending) {
        if (scheduledAt != null && scheduledAt.isBefore(Instant.now().minusSeconds(60))) {
            throw PgfleetException.invalid(
                    "scheduled_at", scheduledAt + " is in the past; give a future time, or none to restart now");
        }
        return instanceTask(
                tenant,
                databaseId,
                instanceRef,
                TaskType.RESTART_INSTANCE,
                InstanceState.RESTARTING,
                scheduledAt,
                new TaskRequest.RestartInstance(onlyIfPending));
    }

    private TaskRow instanceTask(
            String tenant,
            String databaseId,
            String instanceRef,
            TaskType type,
            InstanceState next,
            Instant scheduledAt,
            TaskRequest request) {
        TaskRow task = tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            InstanceRow instance = resolve(db, instanceRef);
            String subject = "instance " + instance.nodeName() + " of " + db.id();
            placement.requireReachable(List.of(instance), subject);
            if (db.suspended() && type != TaskType.STOP_INSTANCE) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "database " + db.id() + " is suspended (" + databases.suspendedReason(db.uuid())
                                + "); unsuspend it first");
            }
            if (scheduledAt != null) {
                return newTask(db, instance.id(), type, TaskStatus.SCHEDULED, scheduledAt, request);
            }
            refuseIfBusy(db, instance.id(), false);
            if (!instance.state().isStable() || !instance.state().canMoveTo(next)) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        subject + " is " + instance.state().label() + "; it cannot be " + pastTense(type) + " now");
            }
            // Another host's instance is checked there, by its start step (the port is that host's).
            boolean local = placement.isLocal(instance.hostId());
            if (type == TaskType.START_INSTANCE
                    && local
                    && !agent.isRunning(runtimes.of(db, instance))
                    && !PortProbe.isFree(instance.port())) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        subject + ": port " + instance.port() + " is in use by another process; the instance stays "
                                + instance.state().label());
            }
            if (request instanceof TaskRequest.RestartInstance r
                    && r.onlyIfPending()
                    && local
                    && !agent.hasPendingRestart(runtimes.of(db, instance))) {
                throw new PgfleetException(ErrorCode.NOTHING_PENDING, subject + ": no setting waits for a restart");
            }
            return newTask(db, instance.id(), type, TaskStatus.PENDING, null, request);
        });
        runner.wake();
        return task;
    }

    private static String pastTense(TaskType type) {
        return switch (type) {
            case STOP_INSTANCE -> "stopped";
            case START_INSTANCE -> "started";
            case RESTART_INSTANCE -> "restarted";
            default -> type.label();
        };
    }

    public TaskRow delete(String tenant, String databaseId) {
        TaskRow task = tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            refuseIfBusy(db, null, true);
            placement.requireReachable(instances.byDatabase(db.uuid()), "database " + db.id());
            int canceled = tasks.cancelScheduled(db.uuid());
            TaskRow t = newTask(db, null, TaskType.DELETE, TaskStatus.PENDING, null, new TaskRequest.Delete(canceled));
            return t;
        });
        runner.wake();
        return task;
    }

    /** Cancels a scheduled task; a task that has started or finished cannot be canceled. */
    public TaskRow cancel(String tenant, String databaseId, UUID taskId) {
        return tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            TaskRow task = tasks.find(taskId)
                    .filter(t -> t.databaseUuid().equals(db.uuid()))
                    .orElseThrow(() -> PgfleetException.notFound("task " + taskId + " of database " + databaseId));
            if (task.status() != TaskStatus.SCHEDULED
                    || !tasks.compareAndSetStatus(taskId, TaskStatus.SCHEDULED, TaskStatus.CANCELED)) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "task " + taskId + " is " + task.status().label() + "; only scheduled tasks can be canceled");
            }
            tasks.appendLog(taskId, "canceled", Map.of());
            return tasks.find(taskId).orElseThrow();
        });
    }

    /**
     * Suspends the database: scheduled tasks are canceled, a task stops every running instance, and
     * start and restart are refused until {@link #unsuspend}.
     */
    public TaskRow suspend(String tenant, String databaseId, String reason) {
        if (reason == null || reason.isBlank() || reason.length() > 1024) {
            throw PgfleetException.invalid("reason", "is required: 1-1024 characters saying why");
        }
        TaskRow task = tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            if (db.suspended()) {
                throw new PgfleetException(ErrorCode.INVALID_STATE, "database " + db.id() + " is already suspended");
            }
            refuseIfBusy(db, null, true);
            placement.requireReachable(instances.byDatabase(db.uuid()), "database " + db.id());
            int canceled = tasks.cancelScheduled(db.uuid());
            databases.setSuspended(db.uuid(), reason);
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    null,
                    "database.suspended",
                    "database " + db.id() + " suspended: " + reason,
                    Map.of("reason", reason, "canceled_scheduled_tasks", canceled));
            return newTask(
                    db, null, TaskType.SUSPEND, TaskStatus.PENDING, null, new TaskRequest.Suspend(reason, canceled));
        });
        runner.wake();
        return task;
    }

    public TaskRow unsuspend(String tenant, String databaseId) {
        TaskRow task = tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            if (!db.suspended()) {
                throw new PgfleetException(ErrorCode.INVALID_STATE, "database " + db.id() + " is not suspended");
            }
            refuseIfBusy(db, null, true);
            placement.requireReachable(instances.byDatabase(db.uuid()), "database " + db.id());
            databases.setSuspended(db.uuid(), null);
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    null,
                    "database.unsuspended",
                    "database " + db.id() + " unsuspended",
                    Map.of());
            return newTask(db, null, TaskType.UNSUSPEND, TaskStatus.PENDING, null, new TaskRequest.Unsuspend());
        });
        runner.wake();
        return task;
    }

    private DatabaseRow lock(String tenant, String databaseId) {
        return intake.lock(tenant, databaseId);
    }

    /** The instance by id or by node name (DESIGN.md §1 accepts the node name as an alias). */
    public InstanceRow resolve(DatabaseRow db, String ref) {
        return intake.resolve(db, ref);
    }

    private void refuseIfBusy(DatabaseRow db, String instanceId, boolean databaseWide) {
        intake.refuseIfBusy(db, instanceId, databaseWide);
    }

    private TaskRow newTask(
            DatabaseRow db,
            String instanceId,
            TaskType type,
            TaskStatus status,
            Instant scheduledAt,
            TaskRequest request) {
        return intake.newTask(db, instanceId, type, status, scheduledAt, request);
    }
}
