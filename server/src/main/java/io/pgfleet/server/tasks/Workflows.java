package io.pgfleet.server.tasks;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PortProbe;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.security.Secret;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The workflows behind each task type. Each is a short checklist of steps that look before they
 * act (InitDataDirectory skips an existing data directory, StartPostgres a running postmaster …),
 * and every state change goes through {@link InstanceStates}. Spec updates are {@link UpdateWorkflow}.
 */
@Component
public class Workflows {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final NodeSteps steps;
    private final UpdateWorkflow update;
    private final TransactionTemplate tx;

    public Workflows(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            NodeSteps steps,
            UpdateWorkflow update,
            TransactionTemplate tx) {
        this.databases = databases;
        this.instances = instances;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.steps = steps;
        this.update = update;
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
            case HEAL_INSTANCE -> heal(ctx, db, instance(ctx));
            case DELETE -> delete(ctx, db);
            case UPDATE -> update.run(ctx, db);
            case SUSPEND -> suspend(ctx, db);
            case UNSUSPEND -> unsuspend(ctx, db);
        }
    }

    private InstanceRow instance(TaskContext ctx) {
        return instances
                .find(ctx.task().instanceId())
                .orElseThrow(
                        () -> PgfleetException.notFound("instance " + ctx.task().instanceId()));
    }

    private void create(TaskContext ctx, DatabaseRow db) {
        Map<String, Secret> passwords = steps.passwords(db);
        steps.forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() != InstanceState.AVAILABLE) {
                steps.provision(ctx, db, instance, passwords);
            }
        });
    }

    /** StopPostgres, then StopPooler: a Postgres that will not stop keeps its pooler in front. */
    private void stop(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        states.enter(db, instance.id(), InstanceState.STOPPING);
        try {
            ctx.log(
                    "node " + instance.nodeName() + ": stopping PostgreSQL",
                    Map.of("node", instance.nodeName(), "step", "StopPostgres"));
            agent.stop(instance, db.id());
            agent.stopPooler(instance, db.id());
            states.move(db, instance.id(), InstanceState.STOPPED, null);
        } catch (RuntimeException e) {
            steps.fail(ctx, db, instance, InstanceState.ERROR, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": stopped; port " + instance.port() + " stays reserved");
    }

    private void start(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        // Checked before the state moves, so a port taken by another process leaves the instance stopped.
        if (!agent.isRunning(instance, db.id()) && !PortProbe.isFree(instance.port())) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "instance " + instance.nodeName() + " of " + db.id() + ": port " + instance.port()
                            + " is in use by another process; the instance stays "
                            + instance.state().label());
        }
        states.enter(db, instance.id(), InstanceState.STARTING);
        try {
            agent.prepare(instance, db.id(), db.spec());
            ctx.log(
                    "node " + instance.nodeName() + ": starting PostgreSQL on port " + instance.port(),
                    Map.of("node", instance.nodeName(), "step", "StartPostgres", "port", instance.port()));
            agent.start(instance, db.id());
            // A stopped instance skipped the spec updates made meanwhile: bring its roles up to date.
            Map<String, Secret> passwords = steps.passwords(db);
            agent.reconcileRoles(instance, db.id(), db.spec(), passwords, List.of());
            steps.startPoolerIfEnabled(ctx, db, instance);
            steps.verify(ctx, db, instance, passwords);
            instances.setPendingRestart(instance.id(), false);
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
        } catch (RuntimeException e) {
            steps.fail(ctx, db, instance, InstanceState.FAILED, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": available on port " + instance.port());
    }

    private void restart(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (Boolean.TRUE.equals(ctx.task().request().get("only_if_pending"))
                && instance.state() != InstanceState.RESTARTING // resumed after a crash: it decided already
                && !agent.hasPendingRestart(instance, db.id())) {
            ctx.log("node " + instance.nodeName() + ": no setting waits for a restart; skipped");
            return;
        }
        states.enter(db, instance.id(), InstanceState.RESTARTING);
        try {
            boolean pooled = db.spec().hasPooler() && agent.isPoolerRunning(instance, db.id());
            ctx.log("node " + instance.nodeName() + ": restarting"
                    + (pooled ? " behind its paused pooler (clients wait, they are not cut off)" : ""));
            agent.restart(instance, instance, db.id(), db.spec());
            steps.startPoolerIfEnabled(ctx, db, instance);
            instances.setPendingRestart(instance.id(), agent.hasPendingRestart(instance, db.id()));
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
        } catch (RuntimeException e) {
            steps.fail(ctx, db, instance, InstanceState.FAILED, e);
            throw e;
        }
        ctx.log("node " + instance.nodeName() + ": restarted");
    }

    /**
     * An automatic restart under {@code restart_policy: always}: a start of a failed instance. Skipped
     * when the instance is no longer failed (a person started, stopped or deleted it meanwhile).
     */
    private void heal(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (instance.state() != InstanceState.FAILED && instance.state() != InstanceState.STARTING) {
            ctx.log("node " + instance.nodeName() + " is " + instance.state().label() + " now; nothing to heal");
            return;
        }
        if (db.suspended()) {
            ctx.log("database " + db.id() + " is suspended; node " + instance.nodeName() + " stays failed");
            return;
        }
        ctx.log(
                "node " + instance.nodeName() + ": restart_policy always, automatic restart "
                        + ctx.task().request().get("attempt") + "; it had failed: " + instance.error(),
                Map.of(
                        "node",
                        instance.nodeName(),
                        "attempt",
                        ctx.task().request().getOrDefault("attempt", 0)));
        start(ctx, db, instance);
    }

    /** Stops every instance that runs; the database stays suspended whatever happens here. */
    private void suspend(TaskContext ctx, DatabaseRow db) {
        states.refreshDatabaseState(db);
        steps.forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() == InstanceState.STOPPED) {
                ctx.log("node " + instance.nodeName() + ": already stopped");
            } else if (instance.state() == InstanceState.STOPPING
                    || instance.state().canMoveTo(InstanceState.STOPPING)) {
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
        steps.forEachNode(instances.byDatabase(db.uuid()), instance -> {
            if (instance.state() == InstanceState.AVAILABLE) {
                ctx.log("node " + instance.nodeName() + ": already available");
            } else {
                start(ctx, db, instance);
            }
        });
    }

    private void delete(TaskContext ctx, DatabaseRow db) {
        steps.forEachNode(instances.byDatabase(db.uuid()), instance -> steps.remove(ctx, db, instance));
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
}
