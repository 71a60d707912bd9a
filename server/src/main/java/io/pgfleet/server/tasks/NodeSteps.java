package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.security.Secret;
import io.pgfleet.server.security.SecretBox;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The per-instance steps the workflows share: provision a node, reconcile and verify its roles,
 * remove it, record a failure, and run a step on every node at once.
 */
@Component
public class NodeSteps implements AutoCloseable {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final SecretBox secrets;
    private final TransactionTemplate tx;
    private final io.pgfleet.server.fleet.FleetNodes fleetNodes;
    private final ExecutorService nodes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pgfleet-node");
        t.setDaemon(true);
        return t;
    });

    public NodeSteps(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            SecretBox secrets,
            TransactionTemplate tx,
            io.pgfleet.server.fleet.FleetNodes fleetNodes) {
        this.fleetNodes = fleetNodes;
        this.databases = databases;
        this.instances = instances;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.secrets = secrets;
        this.tx = tx;
    }

    /** The users' passwords, decrypted for the statements that set them; never logged. */
    public Map<String, Secret> passwords(DatabaseRow db) {
        Map<String, Secret> passwords = new LinkedHashMap<>();
        databases.userPasswords(db.uuid()).forEach((user, encrypted) -> passwords.put(user, secrets.open(encrypted)));
        return passwords;
    }

    /** A fresh instance: data directory, configuration, Postgres, roles, pooler; then available. */
    void provision(TaskContext ctx, DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords) {
        String node = instance.nodeName();
        DatabaseSpec spec = db.spec();
        try {
            ctx.log(
                    "node " + node + ": initializing the data directory",
                    Map.of("node", node, "step", "InitDataDirectory"));
            agent.prepare(instance, db.id(), spec);
            ctx.log(
                    "node " + node + ": starting PostgreSQL " + instance.postgresVersion() + " on port "
                            + instance.port(),
                    Map.of("node", node, "step", "StartPostgres", "port", instance.port()));
            agent.start(instance, db.id());
            ctx.log(
                    "node " + node + ": ready; reconciling users and database " + spec.databaseName(),
                    Map.of("node", node, "step", "ReconcileRoles"));
            agent.reconcileRoles(instance, db.id(), spec, passwords, List.of());
            startPoolerIfEnabled(ctx, db, instance);
            verify(ctx, db, instance, passwords);
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
            ctx.log("node " + node + ": available", Map.of("node", node));
        } catch (RuntimeException e) {
            fail(ctx, db, instance, InstanceState.FAILED, e);
            throw e;
        }
    }

    /** StartPooler after Postgres is ready, when the spec enables it. */
    void startPoolerIfEnabled(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (!db.spec().hasPooler() || instance.poolerPort() == null) {
            return;
        }
        ctx.log(
                "node " + instance.nodeName() + ": starting PgBouncer on port " + instance.poolerPort(),
                Map.of("node", instance.nodeName(), "step", "StartPooler", "port", instance.poolerPort()));
        agent.startPooler(instance, db.id(), db.spec());
    }

    /** VerifyRoles: records the drift found (none after a successful reconcile) on the instance. */
    List<String> verify(TaskContext ctx, DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords) {
        List<String> drift = agent.verifyRoles(instance, db.id(), db.spec(), passwords);
        recordDrift(db, instance, drift);
        if (!drift.isEmpty() && ctx != null) {
            ctx.log("node " + instance.nodeName() + ": roles differ from the spec: " + drift);
        }
        return drift;
    }

    /** Stores the drift on the instance; a change is an event. */
    public void recordDrift(DatabaseRow db, InstanceRow instance, List<String> drift) {
        tx.executeWithoutResult(s -> {
            if (instances.setDrift(instance.id(), drift)) {
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        drift.isEmpty() ? "instance.drift_repaired" : "instance.drift_detected",
                        "instance " + instance.nodeName() + " of " + db.id() + ": "
                                + (drift.isEmpty() ? "roles match the spec" : String.join("; ", drift)),
                        Map.of("drift", drift));
            }
        });
    }

    /** Stops pooler and Postgres, removes the files and the row (which frees its ports). */
    void remove(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        String node = instance.nodeName();
        try {
            if (instance.state() != InstanceState.DELETING) {
                states.move(db, instance.id(), InstanceState.DELETING, null);
            }
            if (agent.isRunning(instance, db.id())) {
                try {
                    agent.terminateConnections(instance, db.id());
                } catch (PgfleetException e) {
                    // The fast shutdown that follows ends sessions too; this only makes it quicker.
                    ctx.log("node " + node + ": could not terminate sessions first (" + e.getMessage()
                            + "); the fast shutdown ends them");
                }
                ctx.log("node " + node + ": stopping", Map.of("node", node, "step", "StopPostgres"));
                agent.stop(instance, db.id());
            }
            agent.stopPooler(instance, db.id());
            ctx.log("node " + node + ": removing its files", Map.of("node", node, "step", "RemoveFiles"));
            agent.removeFiles(instance);
            tx.executeWithoutResult(s -> {
                instances.delete(instance.id());
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        "instance.deleted",
                        "instance " + node + " of " + db.id() + " deleted; port " + instance.port() + " freed",
                        Map.of("port", instance.port()));
            });
            ctx.log("node " + node + ": deleted; port " + instance.port() + " freed");
        } catch (RuntimeException e) {
            fail(ctx, db, instance, InstanceState.ERROR, e);
            throw e;
        }
    }

    void fail(TaskContext ctx, DatabaseRow db, InstanceRow instance, InstanceState to, RuntimeException cause) {
        ctx.log(
                "node " + instance.nodeName() + ": " + cause.getMessage(),
                Map.of("node", instance.nodeName(), "error", String.valueOf(cause.getMessage())));
        InstanceState now =
                instances.find(instance.id()).map(InstanceRow::state).orElse(null);
        if (now != null && now.canMoveTo(to)) {
            states.move(db, instance.id(), to, cause.getMessage());
        }
    }

    /**
     * Runs the step on every node at once, each on its own host (FleetNodes hands other hosts' nodes
     * to them); fails with every node's error if any failed.
     */
    void forEachNode(List<InstanceRow> rows, Consumer<InstanceRow> step) {
        fleetNodes.forEachNode(rows, here -> runInParallel(here, step));
    }

    private void runInParallel(List<InstanceRow> rows, Consumer<InstanceRow> step) {
        List<CompletableFuture<Void>> futures = rows.stream()
                .map(row -> CompletableFuture.runAsync(() -> step.accept(row), nodes))
                .toList();
        List<String> errors = new ArrayList<>();
        for (CompletableFuture<Void> future : futures) {
            try {
                future.join();
            } catch (CompletionException e) {
                errors.add(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new PgfleetException(ErrorCode.INTERNAL, String.join("; ", errors));
        }
    }

    @Override
    public void close() {
        nodes.shutdownNow();
    }
}
