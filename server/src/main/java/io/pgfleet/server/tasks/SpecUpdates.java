package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.NodeSpec;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.ServerParameter;
import io.pgfleet.core.SpecValidator;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.core.UpdateDatabaseRequest;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.agent.VersionSettings;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcHostRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.catalog.Json;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.security.SecretBox;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The intake of a spec update ({@code POST /v1/databases/{id}}): validates it, computes the
 * {@link UpdatePlan}, reserves the new ports, stores the desired spec and passwords and records the
 * task, all in one transaction, so a refused update (422, 409) changes nothing. {@link UpdateWorkflow}
 * applies it.
 */
@Component
public class SpecUpdates {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final JdbcHostRepository hosts;
    private final JdbcEventRepository events;
    private final PostgresDistribution distribution;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final VersionSettings versionSettings;
    private final SecretBox secrets;
    private final TransactionTemplate tx;
    private final TaskRunner runner;
    private final PgfleetProperties properties;
    private final PortReservations reservations;
    private final Intake intake;
    private final Json json;
    private final io.pgfleet.server.fleet.Placement placement;
    private final StorageMonitor storageMonitor;

    public SpecUpdates(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            JdbcHostRepository hosts,
            JdbcEventRepository events,
            PostgresDistribution distribution,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            SecretBox secrets,
            TransactionTemplate tx,
            TaskRunner runner,
            PgfleetProperties properties,
            PortReservations reservations,
            Intake intake,
            Json json,
            VersionSettings versionSettings,
            io.pgfleet.server.fleet.Placement placement,
            StorageMonitor storageMonitor) {
        this.placement = placement;
        this.storageMonitor = storageMonitor;
        this.versionSettings = versionSettings;
        this.databases = databases;
        this.instances = instances;
        this.ports = ports;
        this.hosts = hosts;
        this.events = events;
        this.distribution = distribution;
        this.agent = agent;
        this.runtimes = runtimes;
        this.secrets = secrets;
        this.tx = tx;
        this.runner = runner;
        this.properties = properties;
        this.reservations = reservations;
        this.intake = intake;
        this.json = json;
    }

    /**
     * Accepts a spec update: validates it (parameters against a running instance's pg_settings), computes
     * the plan, checks and reserves new ports, stores the desired spec and passwords, and records the
     * task, all in one transaction, so a refused update (422, 409) changes nothing.
     */
    public DatabaseOperations.Updated accept(String tenant, String databaseId, UpdateDatabaseRequest request) {
        DatabaseOperations.Updated updated = tx.execute(status -> {
            DatabaseRow db = intake.lock(tenant, databaseId);
            new SpecValidator(distribution.offeredVersions(), new HashSet<>(hosts.ids()))
                    .validateUpdate(databaseId, db.spec(), request);
            intake.refuseWithoutPgBouncer(request.spec());
            intake.refuseIfBusy(db, null, true);
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
            // Taken before anything is stored: what a failed update goes back to.
            Map<String, Object> previous =
                    UpdateRollback.snapshot(db, current, databases.userPasswords(db.uuid()), json);
            DatabaseSpec desired = completeUpdate(db.spec(), request.spec());
            // Every kept instance gets its configuration written and its roles reconciled: a full disk refuses.
            storageMonitor.refuseIfUnwritable(
                    db,
                    current.stream()
                            .filter(i -> desired.node(i.nodeName()).isPresent())
                            .toList(),
                    placement::isLocal);
            Map<String, ServerParameter> settings = Map.of();
            if (!desired.effectiveConfs().equals(db.spec().effectiveConfs())) {
                // A running instance's own pg_settings; with none running (a Postgres that will not start
                // because of a setting), its version's, so an update can always repair the settings. Only this
                // host's instances can be asked (another host's pg_settings are that host's).
                settings = current.stream()
                        .filter(i -> i.state() == InstanceState.AVAILABLE
                                && placement.isLocal(i.hostId())
                                && agent.isRunning(runtimes.of(db, i)))
                        .findFirst()
                        .map(running -> agent.serverParameters(runtimes.of(db, running)))
                        .orElseGet(() -> versionSettings.of(db.spec().postgresVersion()));
                List<io.pgfleet.core.FieldError> errors = new ArrayList<>();
                for (Map<String, String> conf : desired.effectiveConfs().values()) {
                    SpecValidator.checkParameters(conf, settings).stream()
                            .filter(e -> !errors.contains(e))
                            .forEach(errors::add);
                }
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
                withPoolers.addAll(reservations.reserveInstances(updatedRow, desired, node));
            }
            UpdatePlan planned = replicaChanges(db, updatedRow, desired, plan, current, withPoolers);
            if (desired.hasPooler()) {
                withPoolers.forEach(reservations::reservePoolerPort);
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
                    Map.of("plan", json.toMap(planned)));
            TaskRow task = intake.newTask(
                    db, null, TaskType.UPDATE, TaskStatus.PENDING, null, new TaskRequest.Update(planned, previous));
            return new DatabaseOperations.Updated(task, planned);
        });
        runner.wake();
        return updated;
    }

    /**
     * The replicas the plan adds (their rows and ports reserved here, each added to {@code withPoolers})
     * and removes (found among {@code current}), and the replicated nodes restarted replica first. The
     * host of a node's primary cannot be removed by an update: a 409 says to switch over first.
     */
    private UpdatePlan replicaChanges(
            DatabaseRow db,
            DatabaseRow updatedRow,
            DatabaseSpec desired,
            UpdatePlan plan,
            List<InstanceRow> current,
            List<InstanceRow> withPoolers) {
        List<UpdatePlan.ReplicaChange> removed = new ArrayList<>();
        for (UpdatePlan.ReplicaChange change : plan.replicasToRemove()) {
            InstanceRow instance = on(current, change).orElse(null);
            if (instance == null) {
                continue; // nothing runs there
            }
            if (!instance.isReplica()) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "node " + change.node() + " of " + db.id() + ": " + change.hostId()
                                + " holds its primary and cannot be removed from host_ids; switch over first"
                                + " (POST /v1/databases/" + db.id() + "/switchover {\"node\": \"" + change.node()
                                + "\"}), then remove " + change.hostId());
            }
            removed.add(change.withInstanceId(instance.id()));
        }
        List<UpdatePlan.ReplicaChange> addedReplicas = new ArrayList<>();
        for (UpdatePlan.ReplicaChange change : plan.replicasToAdd()) {
            NodeSpec node = desired.node(change.node()).orElseThrow();
            InstanceRow primary = current.stream()
                    .filter(i -> i.nodeName().equals(change.node()) && !i.isReplica())
                    .findFirst()
                    .orElseThrow(() -> new PgfleetException(
                            ErrorCode.INVALID_STATE,
                            "node " + change.node() + " of " + db.id() + " has no primary to clone a replica from"));
            InstanceRow replica = reservations.reserveReplica(updatedRow, desired, node, change.hostId(), primary);
            withPoolers.add(replica);
            addedReplicas.add(change.withInstanceId(replica.id()));
        }
        List<UpdatePlan.RollingRestart> rolling = new ArrayList<>();
        for (String node : UpdatePlan.nodesChanging(db.spec(), desired, plan.parametersNeedingRestart())) {
            List<InstanceRow> kept = current.stream()
                    .filter(i -> i.nodeName().equals(node))
                    .filter(i -> removed.stream().noneMatch(r -> i.id().equals(r.instanceId())))
                    .toList();
            InstanceRow primary =
                    kept.stream().filter(i -> !i.isReplica()).findFirst().orElse(null);
            boolean replicaUp = kept.stream()
                    .anyMatch(i -> i.isReplica() && !i.needsRejoin() && i.state() == InstanceState.AVAILABLE);
            // A node with a running primary and a running replica restarts without losing its primary for
            // longer than a switchover; any other keeps pending_restart until a restart of its own.
            if (primary != null && primary.state() == InstanceState.AVAILABLE && replicaUp) {
                rolling.add(new UpdatePlan.RollingRestart(node, primary.id()));
            }
        }
        return plan.withReplicas(addedReplicas, removed, rolling);
    }

    private static java.util.Optional<InstanceRow> on(List<InstanceRow> current, UpdatePlan.ReplicaChange change) {
        return current.stream()
                .filter(i -> i.nodeName().equals(change.node()) && i.hostId().equals(change.hostId()))
                .findFirst();
    }

    /** A port change is checked before anything changes: reserved by another, or bound, is a 409. */
    private void reserveMovedPort(DatabaseRow db, InstanceRow instance, UpdatePlan.PortChange change) {
        reservations.reserveRequested(
                db.tenantId(),
                instance.hostId(),
                change.to(),
                instance.id(),
                "postgres",
                "instance " + instance.nodeName() + " of " + db.id(),
                "the instance stays on port " + change.from());
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
        // The major stays the current one (validateUpdate refused a change); pgEdge's cpus and memory come along.
        return desired.withPostgresVersion(current.postgresVersion())
                .withNodes(nodes)
                .withDatabaseUsers(users);
    }
}
