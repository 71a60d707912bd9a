package io.pgfleet.server.tasks;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PoolerAgent;
import io.pgfleet.server.agent.PortProbe;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.security.SecretBox;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The steps of one node that the workflows share, and the lanes they form: provision, start, stop,
 * restart, remove. Every step looks before it acts and re-reads the instance's row where an earlier
 * step may have changed it (a port, the pooler's port).
 */
@Component
public class NodeSteps {
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final PoolerAgent poolers;
    private final InstanceRuntimes runtimes;
    private final SecretBox secrets;
    private final TransactionTemplate tx;

    public NodeSteps(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            PoolerAgent poolers,
            InstanceRuntimes runtimes,
            SecretBox secrets,
            TransactionTemplate tx) {
        this.databases = databases;
        this.instances = instances;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.poolers = poolers;
        this.runtimes = runtimes;
        this.secrets = secrets;
        this.tx = tx;
    }

    /** The users' passwords, decrypted for the statements that set them; never logged. */
    public Map<String, Secret> passwords(DatabaseRow db) {
        return passwords(databases.userPasswords(db.uuid()));
    }

    /** {@link #passwords(DatabaseRow)} from encrypted passwords already read (by user). */
    public Map<String, Secret> passwords(Map<String, byte[]> encryptedByUser) {
        Map<String, Secret> passwords = new LinkedHashMap<>();
        encryptedByUser.forEach((user, encrypted) -> passwords.put(user, secrets.open(encrypted)));
        return passwords;
    }

    /**
     * The name of an instance's lane in a workflow (its steps' {@code node}, their key's prefix): the
     * node's name for the instance on the node's first host, {@code node@host} for a replica's, so the
     * instances of one node run as lanes of their own, each on its host.
     */
    public static String lane(DatabaseRow db, InstanceRow instance) {
        boolean first = db.spec()
                .node(instance.nodeName())
                .map(n -> n.hostIds().isEmpty() || n.hostIds().get(0).equals(instance.hostId()))
                .orElse(true);
        return first ? instance.nodeName() : instance.nodeName() + "@" + instance.hostId();
    }

    // ---- lanes ----

    /** A fresh instance: data directory, configuration, Postgres, roles, pooler; then available. */
    List<Step> provision(DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords) {
        return provision(db, instance, passwords, List.of(initDataDirectory(db, instance)));
    }

    /** The same, with {@code dataDirectory} (a seed from another node) in place of InitDataDirectory. */
    List<Step> provision(
            DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords, List<Step> dataDirectory) {
        String node = instance.nodeName();
        List<Step> lane = new ArrayList<>(dataDirectory);
        lane.addAll(List.of(
                writePostgresConf(db, instance),
                startPostgres(db, instance),
                reconcileRoles(
                        db,
                        instance,
                        passwords,
                        List.of(),
                        "node " + node + ": ready; reconciling users and database "
                                + db.spec().databaseName())));
        if (db.spec().hasPooler()) {
            lane.add(startPooler(db, instance));
        }
        lane.add(verifyRoles(db, instance, passwords));
        lane.add(markAvailable(db, instance, false, "node " + node + ": available"));
        return lane;
    }

    /** Start of a stopped (or failed) instance; its roles catch up with the updates made meanwhile. */
    List<Step> start(DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords) {
        List<Step> lane = new ArrayList<>(List.of(
                checkPortFree(db, instance),
                enter(db, instance, InstanceState.STARTING, "EnterStarting"),
                initDataDirectory(db, instance),
                writePostgresConf(db, instance),
                startPostgres(db, instance),
                reconcileRoles(db, instance, passwords, List.of(), null)));
        if (db.spec().hasPooler()) {
            lane.add(startPooler(db, instance));
        }
        lane.add(verifyRoles(db, instance, passwords));
        lane.add(markAvailable(
                db, instance, true, "node " + instance.nodeName() + ": available on port " + instance.port()));
        return lane;
    }

    /** StopPostgres, then StopPooler: a Postgres that will not stop keeps its pooler in front. */
    List<Step> stop(DatabaseRow db, InstanceRow instance) {
        String node = instance.nodeName();
        return List.of(
                enter(db, instance, InstanceState.STOPPING, "EnterStopping"),
                stopPostgres(db, instance, false, "node " + node + ": stopping PostgreSQL"),
                stopPooler(db, instance),
                Step.onNode(
                                "MarkStopped",
                                lane(db, instance),
                                instance.id(),
                                () -> "node " + node + ": stopped; port " + instance.port() + " stays reserved",
                                ctx -> states.enter(db, instance.id(), InstanceState.STOPPED))
                        .doneWhen(ctx -> stateIs(instance, InstanceState.STOPPED)));
    }

    /** Restart now, behind a paused pooler when one runs, so clients wait instead of failing. */
    List<Step> restart(DatabaseRow db, InstanceRow instance) {
        String node = instance.nodeName();
        List<Step> lane = new ArrayList<>();
        lane.add(enter(db, instance, InstanceState.RESTARTING, "EnterRestarting"));
        lane.add(Step.onNode(
                "RestartPostgres",
                lane(db, instance),
                instance.id(),
                () -> "node " + node + ": restarting"
                        + (db.spec().hasPooler() && poolers.isRunning(runtimes.of(db, instance))
                                ? " behind its paused pooler (clients wait, they are not cut off)"
                                : ""),
                ctx -> agent.restart(runtimes.of(db, instance), runtimes.of(db, instance), db.spec())));
        if (db.spec().hasPooler()) {
            lane.add(startPooler(db, instance));
        }
        lane.add(readPendingRestart(db, instance));
        lane.add(markAvailable(db, instance, false, "node " + node + ": restarted"));
        return lane;
    }

    /** Stops pooler and Postgres, removes the files and the row (which frees its ports). */
    List<Step> remove(DatabaseRow db, InstanceRow instance) {
        String node = instance.nodeName();
        return List.of(
                enter(db, instance, InstanceState.DELETING, "EnterDeleting"),
                stopPostgres(db, instance, true, "node " + node + ": stopping"),
                stopPooler(db, instance),
                Step.onNode(
                                "RemoveFiles",
                                lane(db, instance),
                                instance.id(),
                                () -> "node " + node + ": removing its files",
                                ctx -> agent.removeFiles(runtimes.of(db, instance)))
                        .doneWhen(ctx -> !agent.hasInstanceDirectory(runtimes.of(db, instance))),
                Step.onNode(
                                "ForgetInstance",
                                lane(db, instance),
                                instance.id(),
                                () -> "node " + node + ": deleted; port " + instance.port() + " freed",
                                ctx -> forget(db, instance))
                        .doneWhen(ctx -> instances.find(instance.id()).isEmpty()));
    }

    // ---- steps ----

    /** Moves the instance into a workflow's transient state; done when it is there already (a resumed task). */
    public Step enter(DatabaseRow db, InstanceRow instance, InstanceState state, String name) {
        return Step.onNode(name, lane(db, instance), instance.id(), null, ctx -> states.enter(db, instance.id(), state))
                .doneWhen(ctx -> stateIs(instance, state));
    }

    /** Refuses before any state moves when another process holds the port: the instance stays as it is. */
    Step checkPortFree(DatabaseRow db, InstanceRow instance) {
        return Step.onNode("CheckPortFree", lane(db, instance), instance.id(), null, ctx -> {
            if (!agent.isRunning(runtimes.of(db, instance)) && !PortProbe.isFree(instance.port())) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "instance " + instance.nodeName() + " of " + db.id() + ": port " + instance.port()
                                + " is in use by another process; the instance stays "
                                + current(instance).state().label());
            }
        });
    }

    Step initDataDirectory(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                        "InitDataDirectory",
                        lane(db, instance),
                        instance.id(),
                        () -> "node " + instance.nodeName() + ": initializing the data directory",
                        ctx -> agent.initDataDirectory(runtimes.of(db, instance)))
                .doneWhen(ctx -> agent.hasDataDirectory(runtimes.of(db, instance)));
    }

    /** Writes pgfleet.conf and pg_hba.conf (for {@code instance}'s port); rewrites only what differs. */
    public Step writePostgresConf(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                "WritePostgresConf",
                lane(db, instance),
                instance.id(),
                null,
                ctx -> agent.writeConfiguration(runtimes.of(db, instance), db.spec()));
    }

    /** StartPostgres and AwaitReady; done when the postmaster already answers. */
    public Step startPostgres(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                        "StartPostgres",
                        lane(db, instance),
                        instance.id(),
                        () -> "node " + instance.nodeName() + ": starting PostgreSQL " + instance.postgresVersion()
                                + " on port " + instance.port(),
                        ctx -> agent.start(runtimes.of(db, instance), db.spec()))
                .withFields(Map.of("port", instance.port()))
                .doneWhen(
                        ctx -> agent.isRunning(runtimes.of(db, instance)) && agent.answers(runtimes.of(db, instance)));
    }

    Step reconcileRoles(
            DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords, List<String> drop, String message) {
        return Step.onNode(
                "ReconcileRoles",
                lane(db, instance),
                instance.id(),
                message == null ? null : () -> message,
                ctx -> agent.reconcileRoles(runtimes.of(db, current(instance)), db.spec(), passwords, drop));
    }

    /** WritePoolerConf, StartPooler, AwaitPoolerReady on the port the catalog reserved for it. */
    public Step startPooler(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                "StartPooler",
                lane(db, instance),
                instance.id(),
                () -> "node " + instance.nodeName() + ": starting PgBouncer on port "
                        + current(instance).poolerPort(),
                ctx -> {
                    InstanceRow now = current(instance);
                    if (now.poolerPort() != null) {
                        poolers.start(runtimes.of(db, now), db.spec());
                    }
                });
    }

    public Step stopPostgres(DatabaseRow db, InstanceRow instance, boolean endSessionsFirst, String message) {
        return Step.onNode("StopPostgres", lane(db, instance), instance.id(), () -> message, ctx -> {
                    if (endSessionsFirst && agent.isRunning(runtimes.of(db, instance))) {
                        endSessions(ctx, db, instance);
                    }
                    agent.stop(runtimes.of(db, instance));
                })
                .doneWhen(ctx -> !agent.isRunning(runtimes.of(db, instance)));
    }

    private void endSessions(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        try {
            agent.terminateConnections(runtimes.of(db, instance));
        } catch (PgfleetException e) {
            // The fast shutdown that follows ends sessions too; this only makes it quicker.
            ctx.log("node " + instance.nodeName() + ": could not terminate sessions first (" + e.getMessage()
                    + "); the fast shutdown ends them");
        }
    }

    public Step stopPooler(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                        "StopPooler",
                        lane(db, instance),
                        instance.id(),
                        null,
                        ctx -> poolers.stop(runtimes.of(db, instance)))
                .doneWhen(ctx -> !poolers.isRunning(runtimes.of(db, instance)));
    }

    /** VerifyRoles: records the drift found (none after a successful reconcile) on the instance. */
    Step verifyRoles(DatabaseRow db, InstanceRow instance, Map<String, Secret> passwords) {
        return Step.onNode("VerifyRoles", lane(db, instance), instance.id(), null, ctx -> {
            List<String> drift = agent.verifyRoles(runtimes.of(db, current(instance)), db.spec(), passwords);
            recordDrift(db, instance, drift);
            if (!drift.isEmpty()) {
                ctx.log("node " + instance.nodeName() + ": roles differ from the spec: " + drift);
            }
        });
    }

    /** ReadPendingRestart: whether a setting waits for a restart, as pg_settings says. */
    Step readPendingRestart(DatabaseRow db, InstanceRow instance) {
        return Step.onNode("ReadPendingRestart", lane(db, instance), instance.id(), null, ctx -> {
            InstanceRow now = current(instance);
            boolean pending = agent.hasPendingRestart(runtimes.of(db, now));
            instances.setPendingRestart(instance.id(), pending);
            if (pending && ctx.task().type() == io.pgfleet.core.TaskType.UPDATE) {
                ctx.log("node " + instance.nodeName() + ": a setting waits for a restart (pending_restart)");
            }
        });
    }

    public Step markAvailable(DatabaseRow db, InstanceRow instance, boolean clearPendingRestart, String message) {
        return Step.onNode("MarkAvailable", lane(db, instance), instance.id(), () -> message, ctx -> {
                    if (clearPendingRestart) {
                        instances.setPendingRestart(instance.id(), false);
                    }
                    states.enter(db, instance.id(), InstanceState.AVAILABLE);
                })
                .doneWhen(ctx -> stateIs(instance, InstanceState.AVAILABLE));
    }

    private void forget(DatabaseRow db, InstanceRow instance) {
        tx.executeWithoutResult(s -> {
            if (instances.find(instance.id()).isEmpty()) {
                return; // forgotten already
            }
            instances.delete(instance.id());
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    instance.id(),
                    "instance.deleted",
                    "instance " + instance.nodeName() + " of " + db.id() + " deleted; port " + instance.port()
                            + " freed",
                    Map.of("port", instance.port()));
        });
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

    /**
     * What a failed step leaves on its node's instance: an interrupted start, create or restart is
     * {@code failed} (the restart policy takes it from there), an interrupted stop, delete or
     * modification is {@code error}; a stable instance (a start refused up front) stays as it is.
     */
    public Workflow.NodeFailure recordFailure(DatabaseRow db) {
        return (ctx, step, cause) -> {
            ctx.log(
                    "node " + step.node() + ": " + cause.getMessage(),
                    Map.of("node", step.node(), "error", String.valueOf(cause.getMessage())));
            InstanceState now =
                    instances.find(step.instanceId()).map(InstanceRow::state).orElse(null);
            InstanceState to = now == null
                    ? null
                    : switch (now) {
                        case CREATING, STARTING, RESTARTING -> InstanceState.FAILED;
                        case STOPPING, DELETING, MODIFYING -> InstanceState.ERROR;
                        default -> null;
                    };
            if (to != null && now.canMoveTo(to)) {
                states.move(db, step.instanceId(), to, cause.getMessage());
            }
        };
    }

    public InstanceRow current(InstanceRow instance) {
        return instances
                .find(instance.id())
                .orElseThrow(() -> PgfleetException.notFound("instance " + instance.nodeName()));
    }

    public boolean stateIs(InstanceRow instance, InstanceState state) {
        return instances.find(instance.id()).map(InstanceRow::state).orElse(null) == state;
    }
}
