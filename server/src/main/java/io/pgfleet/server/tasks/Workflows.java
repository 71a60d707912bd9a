package io.pgfleet.server.tasks;

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
 * The workflows behind each task type. Each is a short checklist of steps that look before they
 * act (InitDataDirectory skips an existing data directory, StartPostgres a running postmaster …),
 * and every state change goes through {@link InstanceStates}.
 */
@Component
public class Workflows implements AutoCloseable {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final SecretBox secrets;
    private final TransactionTemplate tx;
    private final ExecutorService nodes = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pgfleet-node");
        t.setDaemon(true);
        return t;
    });

    public Workflows(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            SecretBox secrets,
            TransactionTemplate tx) {
        this.databases = databases;
        this.instances = instances;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.secrets = secrets;
        this.tx = tx;
    }

    public void run(TaskContext ctx) {
        DatabaseRow db = databases
                .findByUuid(ctx.task().databaseUuid())
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.NOT_FOUND, "database " + ctx.task().databaseId() + " no longer exists"));
        switch (ctx.task().type()) {
            case CREATE -> create(ctx, db);
            case STOP_INSTANCE -> stop(ctx, db, instance(ctx));
            case START_INSTANCE -> start(ctx, db, instance(ctx));
            case RESTART_INSTANCE -> restart(ctx, db, instance(ctx));
            case DELETE -> delete(ctx, db);
            case SUSPEND -> suspend(ctx, db);
            case UNSUSPEND -> unsuspend(ctx, db);
            case UPDATE -> throw new PgfleetException(ErrorCode.INVALID_STATE, "spec updates are not available yet");
        }
    }

    private InstanceRow instance(TaskContext ctx) {
        return instances
                .find(ctx.task().instanceId())
                .orElseThrow(
                        () -> PgfleetException.notFound("instance " + ctx.task().instanceId()));
    }

    private Map<String, Secret> passwords(DatabaseRow db) {
        Map<String, Secret> passwords = new LinkedHashMap<>();
        databases.userPasswords(db.uuid()).forEach((user, encrypted) -> passwords.put(user, secrets.open(encrypted)));
        return passwords;
    }

    private void create(TaskContext ctx, DatabaseRow db) {
        Map<String, Secret> passwords = passwords(db);
        forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() == InstanceState.AVAILABLE) {
                return;
            }
            String node = instance.nodeName();
            try {
                ctx.log(
                        "node " + node + ": initializing the data directory",
                        Map.of("node", node, "step", "InitDataDirectory"));
                agent.prepare(instance, db.id(), db.spec());
                ctx.log(
                        "node " + node + ": starting PostgreSQL " + instance.postgresVersion() + " on port "
                                + instance.port(),
                        Map.of("node", node, "step", "StartPostgres", "port", instance.port()));
                agent.start(instance, db.id());
                ctx.log(
                        "node " + node + ": ready; creating users and database "
                                + db.spec().databaseName(),
                        Map.of("node", node, "step", "CreateRolesAndDatabase"));
                agent.createRolesAndDatabase(instance, db.id(), db.spec(), passwords);
                states.move(db, instance.id(), InstanceState.AVAILABLE, null);
                ctx.log("node " + node + ": available", Map.of("node", node));
            } catch (RuntimeException e) {
                fail(ctx, db, instance, InstanceState.FAILED, e);
                throw e;
            }
        });
    }

    private void stop(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        states.move(db, instance.id(), InstanceState.STOPPING, null);
        try {
            agent.stop(instance, db.id());
            states.move(db, instance.id(), InstanceState.STOPPED, null);
        } catch (RuntimeException e) {
            fail(ctx, db, instance, InstanceState.ERROR, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": stopped; port " + instance.port() + " stays reserved");
    }

    private void start(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        // Checked before the state moves, so a port taken by another process leaves the instance stopped.
        if (!agent.isRunning(instance, db.id()) && !io.pgfleet.server.agent.PortProbe.isFree(instance.port())) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "instance " + instance.nodeName() + " of " + db.id() + ": port " + instance.port()
                            + " is in use by another process; the instance stays "
                            + instance.state().label());
        }
        // A failed instance may never have finished its create (users, database): finish it now.
        boolean reprovision = instance.state() == InstanceState.FAILED || instance.state() == InstanceState.ERROR;
        states.move(db, instance.id(), InstanceState.STARTING, null);
        try {
            agent.prepare(instance, db.id(), db.spec());
            agent.start(instance, db.id());
            if (reprovision) {
                ctx.log("node " + instance.nodeName() + ": making sure its users and database exist");
                agent.createRolesAndDatabase(instance, db.id(), db.spec(), passwords(db));
            }
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
        } catch (RuntimeException e) {
            fail(ctx, db, instance, InstanceState.FAILED, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": available on port " + instance.port());
    }

    private void restart(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (Boolean.TRUE.equals(ctx.task().request().get("only_if_pending"))
                && !agent.hasPendingRestart(instance, db.id())) {
            ctx.log("node " + instance.nodeName() + ": no setting waits for a restart; skipped");
            return;
        }
        states.move(db, instance.id(), InstanceState.RESTARTING, null);
        try {
            ctx.log("node " + instance.nodeName() + ": stopping");
            agent.stop(instance, db.id());
            agent.prepare(instance, db.id(), db.spec());
            ctx.log("node " + instance.nodeName() + ": starting");
            agent.start(instance, db.id());
            instances.setPendingRestart(instance.id(), false);
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
        } catch (RuntimeException e) {
            fail(ctx, db, instance, InstanceState.FAILED, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": restarted");
    }

    /** Stops every instance that runs; the database stays suspended whatever happens here. */
    private void suspend(TaskContext ctx, DatabaseRow db) {
        states.refreshDatabaseState(db);
        forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() == InstanceState.STOPPED) {
                ctx.log("node " + instance.nodeName() + ": already stopped");
            } else if (instance.state().canMoveTo(InstanceState.STOPPING)) {
                stop(ctx, db, instance);
            } else if (agent.isRunning(instance, db.id())) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "instance " + instance.nodeName() + " is "
                                + instance.state().label() + " and still runs; stop it when it settles");
            }
        });
    }

    /** Starts again every instance the suspension stopped. */
    private void unsuspend(TaskContext ctx, DatabaseRow db) {
        states.refreshDatabaseState(db);
        forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() == InstanceState.AVAILABLE) {
                ctx.log("node " + instance.nodeName() + ": already available");
            } else {
                start(ctx, db, instance);
            }
        });
    }

    private void delete(TaskContext ctx, DatabaseRow db) {
        forEachNode(instances.byDatabase(db.uuid()), instance -> {
            String node = instance.nodeName();
            try {
                if (instance.state() != InstanceState.DELETING) {
                    states.move(db, instance.id(), InstanceState.DELETING, null);
                }
                if (agent.isRunning(instance, db.id())) {
                    terminateConnections(ctx, db, instance);
                    ctx.log("node " + node + ": stopping");
                    agent.stop(instance, db.id());
                }
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
        });
        tx.executeWithoutResult(s -> {
            databases.delete(db.uuid());
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    null,
                    "database.deleted",
                    "database " + db.id() + " deleted",
                    Map.of());
        });
        ctx.log("database " + db.id() + " deleted");
    }

    private void terminateConnections(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        try {
            agent.terminateConnections(instance, db.id());
        } catch (PgfleetException e) {
            // The fast shutdown that follows ends sessions too; this only makes it quicker.
            ctx.log("node " + instance.nodeName() + ": could not terminate sessions first (" + e.getMessage()
                    + "); the fast shutdown ends them");
        }
    }

    private void fail(TaskContext ctx, DatabaseRow db, InstanceRow instance, InstanceState to, RuntimeException cause) {
        ctx.log(
                "node " + instance.nodeName() + ": " + cause.getMessage(),
                Map.of("node", instance.nodeName(), "error", String.valueOf(cause.getMessage())));
        InstanceState now =
                instances.find(instance.id()).map(InstanceRow::state).orElse(null);
        if (now != null && now.canMoveTo(to)) {
            states.move(db, instance.id(), to, cause.getMessage());
        }
    }

    /** Runs the step on every node at once; fails with every node's error if any failed. */
    private void forEachNode(List<InstanceRow> rows, Consumer<InstanceRow> step) {
        List<CompletableFuture<Void>> futures = rows.stream()
                .map(row -> CompletableFuture.runAsync(() -> step.accept(row), nodes))
                .toList();
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).join();
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
