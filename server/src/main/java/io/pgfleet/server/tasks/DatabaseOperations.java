package io.pgfleet.server.tasks;

import io.pgfleet.core.CreateDatabaseRequest;
import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceIds;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PortRange;
import io.pgfleet.core.ServerParameter;
import io.pgfleet.core.SpecValidator;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.core.UpdateDatabaseRequest;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PortProbe;
import io.pgfleet.server.agent.PostgresDistribution;
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
import io.pgfleet.server.security.Secret;
import io.pgfleet.server.security.SecretBox;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
    private final SecretBox secrets;
    private final TransactionTemplate tx;
    private final TaskRunner runner;
    private final PgfleetProperties properties;
    private final PortRange portRange;
    private final Json json;
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
            SecretBox secrets,
            TransactionTemplate tx,
            TaskRunner runner,
            PgfleetProperties properties,
            Json json,
            io.pgfleet.server.fleet.Placement placement) {
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
        this.secrets = secrets;
        this.tx = tx;
        this.runner = runner;
        this.properties = properties;
        this.portRange = PortRange.parse(properties.portRange());
        hosts.upsert(properties.hostId(), portRange);
    }

    public Created create(String tenant, CreateDatabaseRequest request) {
        new SpecValidator(distribution.versions(), new HashSet<>(hosts.ids())).validateCreate(request);
        refuseWithoutPgBouncer(request.spec());
        DatabaseSpec spec = complete(request.spec());
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
                reserved.add(reserveInstance(row, spec, node));
            }
            if (spec.hasPooler()) {
                // After every instance, so a pooler never takes a port a later node asked for.
                reserved.forEach(this::reservePoolerPort);
            }
            events.record(
                    tenant,
                    row.id(),
                    uuid,
                    null,
                    "database.created",
                    "database " + row.id() + " accepted",
                    Map.of("nodes", spec.nodes().size()));
            TaskRow task = newTask(row, null, TaskType.CREATE, TaskStatus.PENDING, null, Map.of());
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
        return new DatabaseSpec(
                withVersion.databaseName(),
                withVersion.postgresVersion(),
                withVersion.port(),
                nodes,
                users,
                withVersion.postgresqlConf(),
                withVersion.pooler(),
                withVersion.restartPolicy(),
                withVersion.resources());
    }

    private InstanceRow reserveInstance(DatabaseRow db, DatabaseSpec spec, NodeSpec node) {
        String hostId = node.hostIds().get(0);
        String instanceId = InstanceIds.newInstanceId(db.uuid(), node.name());
        Integer requested = spec.requestedPort(node);
        int port;
        if (requested != null) {
            ports.holder(hostId, requested).ifPresent(holder -> {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "port " + requested + " on " + hostId + " is reserved by the " + holder.describe());
            });
            if (!placement.portProbe(hostId).test(requested)) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "port " + requested + " on " + hostId
                                + " is in use by another process; choose another port or leave it out to auto-assign");
            }
            port = requested;
        } else {
            PortRange range = placement.portRange(hostId);
            port = range.firstFree(ports.reservedPorts(hostId), placement.portProbe(hostId))
                    .orElseThrow(() -> new PgfleetException(
                            ErrorCode.PORT_CONFLICT, "no free port left in " + hostId + "'s range " + range));
        }
        instances.insert(new InstanceRow(
                instanceId,
                db.uuid(),
                node.name(),
                hostId,
                spec.postgresVersion(),
                port,
                null,
                InstanceState.CREATING,
                false,
                null,
                secrets.seal(Secret.generate()),
                null,
                null,
                List.of(),
                secrets.seal(Secret.generate())));
        if (!ports.reserve(hostId, port, instanceId, "postgres")) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "port " + port + " on " + hostId + " was just reserved by another request; retry");
        }
        return instances.find(instanceId).orElseThrow();
    }

    /** A pooler port from the same host range and table as the instances' (DESIGN.md §4, Ports). */
    private void reservePoolerPort(InstanceRow instance) {
        if (instance.poolerPort() != null) {
            return;
        }
        PortRange range = placement.portRange(instance.hostId());
        int port = range.firstFree(ports.reservedPorts(instance.hostId()), placement.portProbe(instance.hostId()))
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "no free port left in " + instance.hostId() + "'s range " + range + " for a pooler"));
        if (!ports.reserve(instance.hostId(), port, instance.id(), "pooler")) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "port " + port + " on " + instance.hostId() + " was just reserved by another request; retry");
        }
        instances.setPoolerPort(instance.id(), port);
        if (instance.poolerPasswordEnc() == null) {
            instances.setPoolerPassword(instance.id(), secrets.seal(Secret.generate()));
        }
    }

    private void refuseWithoutPgBouncer(DatabaseSpec spec) {
        if (spec != null && spec.hasPooler() && agent.pgbouncerExecutable().isEmpty()) {
            throw PgfleetException.invalid(
                    "spec.pooler.enabled",
                    "pgbouncer is not installed on this host: install it (apt-get install pgbouncer) or start pgfleet"
                            + " with --pgbouncer-bin PATH");
        }
    }

    /**
     * Accepts a spec update: validates it (parameters against a running instance's pg_settings), computes
     * the plan, checks and reserves new ports, stores the desired spec and passwords, and records the
     * task, all in one transaction, so a refused update (422, 409) changes nothing.
     */
    public Updated update(String tenant, String databaseId, UpdateDatabaseRequest request) {
        Updated updated = tx.execute(status -> {
            DatabaseRow db = lock(tenant, databaseId);
            new SpecValidator(distribution.versions(), new HashSet<>(hosts.ids()))
                    .validateUpdate(databaseId, db.spec(), request);
            refuseWithoutPgBouncer(request.spec());
            refuseIfBusy(db, null, true);
            List<InstanceRow> current = instances.byDatabase(db.uuid());
            placement.requireReachable(current, "database " + db.id());
            for (InstanceRow i : current) {
                if (!i.state().isStable()) {
                    throw new PgfleetException(
                            ErrorCode.INVALID_STATE,
                            "instance " + i.nodeName() + " of " + db.id() + " is "
                                    + i.state().label() + "; update the spec when it is stable");
                }
            }
            DatabaseSpec desired = completeUpdate(db.spec(), request.spec());
            Map<String, ServerParameter> settings = Map.of();
            if (!desired.effectiveConf().equals(db.spec().effectiveConf())) {
                InstanceRow running = current.stream()
                        .filter(i -> i.state() == InstanceState.AVAILABLE
                                && placement.isLocal(i.hostId())
                                && agent.isRunning(i, db.id()))
                        .findFirst()
                        .orElseThrow(() -> new PgfleetException(
                                ErrorCode.INVALID_STATE,
                                "database " + db.id() + ": postgresql_conf changes are checked against a running"
                                        + " instance's pg_settings on the host that takes the call; start one, or"
                                        + " send the update to the API of a host that runs one ("
                                        + current.stream()
                                                .map(i -> i.nodeName() + "@" + i.hostId())
                                                .toList()
                                        + ")"));
                settings = agent.serverParameters(running, db.id());
                List<io.pgfleet.core.FieldError> errors =
                        SpecValidator.checkParameters(desired.effectiveConf(), settings);
                if (!errors.isEmpty()) {
                    throw PgfleetException.invalidSpec(errors);
                }
            }
            Set<String> restartParameters = new HashSet<>();
            settings.values().stream()
                    .filter(ServerParameter::needsRestart)
                    .forEach(p -> restartParameters.add(p.name()));
            Map<String, Integer> currentPorts = new HashMap<>();
            current.forEach(i -> currentPorts.put(i.nodeName(), i.port()));
            UpdatePlan plan = UpdatePlan.between(db.spec(), desired, currentPorts, restartParameters);

            placement.lockOrder(desired.nodes()).forEach(ports::lockHost);
            for (UpdatePlan.PortChange change : plan.portChanges()) {
                InstanceRow instance = current.stream()
                        .filter(i -> i.nodeName().equals(change.node()))
                        .findFirst()
                        .orElseThrow();
                reserveMovedPort(db, instance, change);
            }
            DatabaseRow updatedRow = new DatabaseRow(
                    db.uuid(),
                    db.tenantId(),
                    db.id(),
                    request.labels() == null ? db.labels() : request.labels(),
                    desired,
                    db.suspended(),
                    db.createdAt(),
                    Instant.now());
            List<NodeSpec> added = desired.nodes().stream()
                    .filter(n -> plan.nodesToAdd().contains(n.name()))
                    .sorted(Comparator.comparing(n -> desired.requestedPort(n) == null))
                    .toList();
            List<InstanceRow> withPoolers = new ArrayList<>(current.stream()
                    .filter(i -> desired.node(i.nodeName()).isPresent())
                    .toList());
            for (NodeSpec node : added) {
                withPoolers.add(reserveInstance(updatedRow, desired, node));
            }
            if (desired.hasPooler()) {
                withPoolers.forEach(this::reservePoolerPort);
            }
            databases.update(db.uuid(), desired, updatedRow.labels());
            for (DatabaseUserSpec user : desired.databaseUsers()) {
                if (user.password() != null) {
                    databases.saveUserPassword(db.uuid(), user.username(), secrets.seal(new Secret(user.password())));
                }
            }
            for (String dropped : plan.usersToDrop()) {
                databases.deleteUserPassword(db.uuid(), dropped);
            }
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    null,
                    "database.updated",
                    "database " + db.id() + ": spec update accepted",
                    Map.of("plan", json.toMap(plan)));
            TaskRow task =
                    newTask(db, null, TaskType.UPDATE, TaskStatus.PENDING, null, Map.of("plan", json.toMap(plan)));
            return new Updated(task, plan);
        });
        runner.wake();
        return updated;
    }

    /** A port change is checked before anything changes: reserved by another, or bound, is a 409. */
    private void reserveMovedPort(DatabaseRow db, InstanceRow instance, UpdatePlan.PortChange change) {
        String subject = "instance " + instance.nodeName() + " of " + db.id();
        ports.holder(instance.hostId(), change.to()).ifPresent(holder -> {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    subject + ": port " + change.to() + " is reserved by the " + holder.describe()
                            + "; the instance stays on port " + change.from());
        });
        if (!placement.portProbe(instance.hostId()).test(change.to())) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    subject + ": port " + change.to() + " is in use by another process on " + instance.hostId()
                            + "; the instance stays on port " + change.from() + " and the spec is unchanged");
        }
        if (!ports.reserve(instance.hostId(), change.to(), instance.id(), "postgres")) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT, subject + ": port " + change.to() + " was just reserved; retry");
        }
    }

    /**
     * Fills in an update's open fields: the version and hosts it has, a generated password for a new
     * user without one. Existing users without a password keep theirs (null here: nothing to store).
     */
    private DatabaseSpec completeUpdate(DatabaseSpec current, DatabaseSpec desired) {
        List<NodeSpec> kept = desired.nodes().stream()
                .map(n -> n.hostIds().isEmpty()
                        ? current.node(n.name())
                                .map(NodeSpec::hostIds)
                                .filter(h -> !h.isEmpty())
                                .map(n::withHostIds)
                                .orElse(n)
                        : n)
                .toList();
        List<String> existing =
                current.nodes().stream().flatMap(n -> n.hostIds().stream()).toList();
        List<NodeSpec> nodes = placement.place(kept, existing);
        List<DatabaseUserSpec> users = desired.databaseUsers().stream()
                .map(u -> u.password() == null
                                && current.databaseUsers().stream()
                                        .noneMatch(c -> c.username().equals(u.username()))
                        ? u.withPassword(Secret.generate().value())
                        : u)
                .toList();
        return new DatabaseSpec(
                desired.databaseName(),
                current.postgresVersion(),
                desired.port(),
                nodes,
                users,
                desired.postgresqlConf(),
                desired.pooler(),
                desired.restartPolicy(),
                desired.resources());
    }

    public TaskRow stop(String tenant, String databaseId, String instanceRef) {
        return instanceTask(
                tenant, databaseId, instanceRef, TaskType.STOP_INSTANCE, InstanceState.STOPPING, null, Map.of());
    }

    public TaskRow start(String tenant, String databaseId, String instanceRef) {
        return instanceTask(
                tenant, databaseId, instanceRef, TaskType.START_INSTANCE, InstanceState.STARTING, null, Map.of());
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
                Map.of("only_if_pending", onlyIfPending));
    }

    private TaskRow instanceTask(
            String tenant,
            String databaseId,
            String instanceRef,
            TaskType type,
            InstanceState next,
            Instant scheduledAt,
            Map<String, Object> request) {
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
                    && !agent.isRunning(instance, db.id())
                    && !PortProbe.isFree(instance.port())) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        subject + ": port " + instance.port() + " is in use by another process; the instance stays "
                                + instance.state().label());
            }
            if (Boolean.TRUE.equals(request.get("only_if_pending"))
                    && local
                    && !agent.hasPendingRestart(instance, db.id())) {
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
            TaskRow t = newTask(
                    db, null, TaskType.DELETE, TaskStatus.PENDING, null, Map.of("canceled_scheduled_tasks", canceled));
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
                    db,
                    null,
                    TaskType.SUSPEND,
                    TaskStatus.PENDING,
                    null,
                    Map.of("reason", reason, "canceled_scheduled_tasks", canceled));
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
            return newTask(db, null, TaskType.UNSUSPEND, TaskStatus.PENDING, null, Map.of());
        });
        runner.wake();
        return task;
    }

    private DatabaseRow lock(String tenant, String databaseId) {
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

    private void refuseIfBusy(DatabaseRow db, String instanceId, boolean databaseWide) {
        tasks.conflicting(db.uuid(), instanceId, databaseWide, null).ifPresent(busy -> {
            throw new PgfleetException(
                    ErrorCode.OPERATION_IN_PROGRESS,
                    "database " + db.id() + " has a " + busy.type().label() + " task in progress (" + busy.taskId()
                            + "); wait for it to finish");
        });
    }

    private TaskRow newTask(
            DatabaseRow db,
            String instanceId,
            TaskType type,
            TaskStatus status,
            Instant scheduledAt,
            Map<String, Object> request) {
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
}
