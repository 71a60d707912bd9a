package io.pgfleet.server.tasks;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.events.JdbcEventRepository;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The workflow behind each task type, as a list of steps built from what the catalog holds when the
 * task starts (or resumes: the steps recorded as finished are then skipped). The node lanes come from
 * {@link NodeSteps}; spec updates are {@link UpdateWorkflow}.
 */
@Component
public class Workflows {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final UpdateWorkflow update;
    private final TransactionTemplate tx;
    private volatile ReplicaWorkflows replicas = ReplicaWorkflows.NONE;

    /** Set by the ha package at start-up. */
    public void setReplicaWorkflows(ReplicaWorkflows replicas) {
        this.replicas = replicas;
    }

    public Workflows(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            UpdateWorkflow update,
            TransactionTemplate tx) {
        this.databases = databases;
        this.instances = instances;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.runtimes = runtimes;
        this.steps = steps;
        this.update = update;
        this.tx = tx;
    }

    /** The steps of the task, from the catalog as it is now. */
    public Workflow plan(TaskContext ctx) {
        DatabaseRow db = databases
                .findByUuid(ctx.task().databaseUuid())
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.NOT_FOUND, "database " + ctx.task().databaseId() + " no longer exists"));
        return switch (ctx.task().type()) {
            case CREATE -> create(db);
            case STOP_INSTANCE -> Workflow.of(steps.stop(db, instance(ctx)), steps.recordFailure(db));
            case START_INSTANCE ->
                instance(ctx).needsRejoin()
                        ? replicas.rejoin(db, instance(ctx))
                        : Workflow.of(steps.start(db, instance(ctx), steps.passwords(db)), steps.recordFailure(db));
            case RESTART_INSTANCE -> restart(ctx, db, instance(ctx));
            case HEAL_INSTANCE ->
                instance(ctx).needsRejoin() ? replicas.rejoin(db, instance(ctx)) : heal(ctx, db, instance(ctx));
            case DELETE -> delete(db);
            case UPDATE -> update.plan(ctx, db, replicas);
            case SUSPEND -> suspend(ctx, db);
            case UNSUSPEND -> unsuspend(ctx, db);
            case SWITCHOVER, FAILOVER -> replicas.plan(ctx, db);
        };
    }

    /**
     * What a failed task leaves behind: a failed update puts every instance back on the previous spec
     * and answers the exception the task fails with; other tasks fail as they are.
     */
    public RuntimeException afterFailure(TaskContext ctx, RuntimeException cause) {
        return ctx.task().type() == io.pgfleet.core.TaskType.UPDATE ? update.rollBack(ctx, cause) : cause;
    }

    private InstanceRow instance(TaskContext ctx) {
        return instances
                .find(ctx.task().instanceId())
                .orElseThrow(
                        () -> PgfleetException.notFound("instance " + ctx.task().instanceId()));
    }

    /**
     * Every primary provisioned, then (with replicas) the replicas cloned from them. With replicas the
     * plan lists every instance whatever its state (the steps skip what is done), so a host asked for a
     * later phase plans the same phases as the coordinator did.
     */
    private Workflow create(DatabaseRow db) {
        Map<String, Secret> passwords = steps.passwords(db);
        List<InstanceRow> all = instances.byDatabase(db.uuid());
        boolean replicated = all.stream().anyMatch(InstanceRow::isReplica);
        Workflow.Builder workflow = Workflow.builder();
        for (InstanceRow instance : all) {
            if (!instance.isReplica() && (replicated || instance.state() != InstanceState.AVAILABLE)) {
                workflow.addAll(steps.provision(db, instance, passwords));
            }
        }
        if (replicated) {
            workflow.addAll(replicas.cloneReplicas(db));
        }
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    private Workflow restart(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (ctx.task().request() instanceof TaskRequest.RestartInstance r
                && r.onlyIfPending()
                && instance.state() != InstanceState.RESTARTING // resumed after a crash: it decided already
                && !agent.hasPendingRestart(runtimes.of(db, instance))) {
            return Workflow.nothingToDo(
                    "SkipRestart", "node " + instance.nodeName() + ": no setting waits for a restart; skipped");
        }
        return Workflow.of(steps.restart(db, instance), steps.recordFailure(db));
    }

    /**
     * An automatic restart under {@code restart_policy: always}: a start of a failed instance. Nothing
     * to do when the instance is no longer failed (a person started, stopped or deleted it meanwhile).
     */
    private Workflow heal(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        String node = instance.nodeName();
        if (instance.state() != InstanceState.FAILED && instance.state() != InstanceState.STARTING) {
            return Workflow.nothingToDo(
                    "SkipHeal", "node " + node + " is " + instance.state().label() + " now; nothing to heal");
        }
        if (db.suspended()) {
            return Workflow.nothingToDo(
                    "SkipHeal", "database " + db.id() + " is suspended; node " + node + " stays failed");
        }
        int attempt = ctx.task().request() instanceof TaskRequest.HealInstance h ? h.attempt() : 0;
        Step decide = Step.onNode(
                        "DecideRestart",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        () -> "node " + node + ": restart_policy always, automatic restart " + attempt
                                + "; it had failed: " + instance.error(),
                        c -> {})
                .withFields(Map.of("attempt", attempt));
        return Workflow.builder()
                .add(decide)
                .addAll(steps.start(db, instance, steps.passwords(db)))
                .onNodeFailure(steps.recordFailure(db));
    }

    /** Stops every instance that runs; the database stays suspended whatever happens here. */
    private Workflow suspend(TaskContext ctx, DatabaseRow db) {
        Workflow.Builder workflow = Workflow.builder().add(storeDatabaseState(db));
        for (InstanceRow instance : instances.byDatabase(db.uuid())) {
            if (instance.state() == InstanceState.STOPPED) {
                ctx.log("node " + instance.nodeName() + ": already stopped");
            } else if (instance.state() == InstanceState.STOPPING
                    || instance.state().canMoveTo(InstanceState.STOPPING)) {
                workflow.addAll(steps.stop(db, instance));
            } else if (agent.isRunning(runtimes.of(db, instance))) {
                workflow.add(Step.onNode("StopPostgres", NodeSteps.lane(db, instance), instance.id(), null, c -> {
                    throw new PgfleetException(
                            ErrorCode.INVALID_STATE,
                            "instance " + instance.nodeName() + " is "
                                    + instance.state().label() + " and still runs; stop it when it settles");
                }));
            }
        }
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    /** Starts again every instance the suspension stopped. */
    private Workflow unsuspend(TaskContext ctx, DatabaseRow db) {
        Map<String, Secret> passwords = steps.passwords(db);
        Workflow.Builder workflow = Workflow.builder().add(storeDatabaseState(db));
        for (InstanceRow instance : instances.byDatabase(db.uuid())) {
            if (instance.state() == InstanceState.AVAILABLE) {
                ctx.log("node " + instance.nodeName() + ": already available");
            } else {
                workflow.addAll(steps.start(db, instance, passwords));
            }
        }
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    private Step storeDatabaseState(DatabaseRow db) {
        return Step.of("StoreDatabaseState", null, ctx -> states.refreshDatabaseState(db));
    }

    private Workflow delete(DatabaseRow db) {
        Workflow.Builder workflow = Workflow.builder();
        for (InstanceRow instance : instances.byDatabase(db.uuid())) {
            workflow.addAll(steps.remove(db, instance));
        }
        workflow.add(Step.of(
                        "DeleteDatabase",
                        () -> "database " + db.id() + " deleted",
                        ctx -> tx.executeWithoutResult(s -> {
                            databases.delete(db.uuid());
                            events.record(
                                    db.tenantId(),
                                    db.id(),
                                    db.uuid(),
                                    null,
                                    "database.deleted",
                                    "database " + db.id() + " deleted",
                                    Map.of());
                        }))
                .doneWhen(ctx -> databases.findByUuid(db.uuid()).isEmpty()));
        return workflow.onNodeFailure(steps.recordFailure(db));
    }
}
