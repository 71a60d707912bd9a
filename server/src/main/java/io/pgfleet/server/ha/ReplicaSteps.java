package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.ReplicaAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.tasks.InstanceRuntimes;
import io.pgfleet.server.tasks.InstanceStates;
import io.pgfleet.server.tasks.NodeSteps;
import io.pgfleet.server.tasks.Step;
import io.pgfleet.server.tasks.TaskContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.springframework.stereotype.Component;

/**
 * The lanes of one instance of a replicated node, run on the instance's own host: the clone of a new
 * replica, and following the node's primary after it moved (the demoted one rewound and started as
 * a replica, the others repointed). Each step decides from the catalog as it runs, so a lane planned
 * before the move does the right thing after it.
 */
@Component
public class ReplicaSteps {
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);
    private final HaRepository repo;
    private final Replication replication;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final ReplicaAgent replicas;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final ReplicaClone clones;

    public ReplicaSteps(
            HaRepository repo,
            Replication replication,
            InstanceStates states,
            InstanceAgent agent,
            ReplicaAgent replicas,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            ReplicaClone clones) {
        this.clones = clones;
        this.repo = repo;
        this.replication = replication;
        this.states = states;
        this.agent = agent;
        this.replicas = replicas;
        this.runtimes = runtimes;
        this.steps = steps;
    }

    /** CloneFromPrimary, MarkStandby, WritePostgresConf, StartPostgres, AwaitStreaming, StartPooler, MarkAvailable. */
    List<Step> cloneLane(DatabaseRow db, InstanceRow replica) {
        String lane = NodeSteps.lane(db, replica);
        List<Step> result = new ArrayList<>();
        result.add(Step.onNode(
                        "CloneFromPrimary",
                        lane,
                        replica.id(),
                        () -> "node " + lane + ": cloning the replica from the primary on "
                                + primaryOf(db, replica.nodeName()).hostId()
                                + (clones.usesPgBaseBackup(replica.postgresVersion())
                                        ? " (pg_basebackup)"
                                        : " (low-level backup API, streamed host to host)"),
                        ctx -> {
                            InstanceRow primary = primaryOf(db, replica.nodeName());
                            InstanceRuntime rt = runtime(db, replica);
                            String how = clones.copy(db, primary, rt, clones.usesPgBaseBackup(rt.postgresVersion()));
                            ctx.log(
                                    "node " + lane + ": cloned " + how,
                                    Map.of("node", lane, "step", "CloneFromPrimary"));
                        })
                .doneWhen(ctx -> clones.isCopied(runtime(db, replica))));
        result.add(markStandby(db, replica, lane));
        result.add(writeConfAndReload(db, replica, lane, "WritePostgresConf"));
        result.add(steps.startPostgres(db, replica));
        result.add(awaitStreaming(db, replica, lane));
        if (db.spec().hasPooler()) {
            result.add(steps.startPooler(db, replica));
        }
        result.add(steps.markAvailable(db, replica, false, "node " + lane + ": replica streaming and available"));
        return result;
    }

    // ---- following the primary ----

    /**
     * The lane of every instance of a node after its primary moved: the demoted one is rewound
     * (pg_rewind, or cloned again when that fails) and started as a replica; the other replicas follow
     * the new primary (primary_conninfo reloaded); the new primary's steps are all done already.
     */
    List<Step> followLane(DatabaseRow db, InstanceRow instance) {
        String lane = NodeSteps.lane(db, instance);
        Predicate<TaskContext> rejoined = c -> !current(instance).needsRejoin();
        List<Step> result = new ArrayList<>();
        result.add(Step.onNode(
                        "RewindToPrimary",
                        lane,
                        instance.id(),
                        () -> "node " + lane + ": rewinding to the new primary on "
                                + primaryOf(db, instance.nodeName()).hostId(),
                        c -> rewind(c, db, instance, lane))
                .doneWhen(rejoined));
        result.add(markStandby(db, instance, lane));
        result.add(writeConfAndReload(db, instance, lane, "WritePostgresConf"));
        result.add(steps.startPostgres(db, instance));
        result.add(awaitStreaming(db, instance, lane));
        if (db.spec().hasPooler()) {
            result.add(steps.startPooler(db, instance));
        }
        result.add(Step.onNode(
                        "MarkRejoined",
                        lane,
                        instance.id(),
                        () -> "node " + lane + ": streaming from the new primary; available as a replica",
                        c -> {
                            // The state first, the catalog's demotion mark last: a task resumed in between
                            // finds the mark and finishes. Only the demoted instance changes here; a replica
                            // that only followed, and the new primary, keep the state they have.
                            if (!steps.stateIs(instance, InstanceState.AVAILABLE)) {
                                states.enter(db, instance.id(), InstanceState.STARTING);
                                states.enter(db, instance.id(), InstanceState.AVAILABLE);
                            }
                            repo.rejoined(instance.id());
                        })
                .doneWhen(rejoined));
        return result;
    }

    private void rewind(TaskContext ctx, DatabaseRow db, InstanceRow instance, String lane) {
        InstanceRuntime rt = runtime(db, instance);
        if (agent.isRunning(rt)) {
            agent.stop(rt);
        }
        InstanceRow primary = primaryOf(db, instance.nodeName());
        String host = replication.address(primary.hostId());
        try {
            if (replicas.has(rt.postgresVersion(), "pg_rewind")) {
                replication.checkpoint(db, primary);
            }
            String said = replicas.rewind(rt, replication.superuserPassword(primary), host, primary.port());
            ctx.log("node " + lane + ": rewound: " + said, Map.of("node", lane, "step", "RewindToPrimary"));
        } catch (PgfleetException e) {
            ctx.log("node " + lane + ": " + e.getMessage() + "; cloning it again from the primary");
            ctx.log("node " + lane + ": cloned again "
                    + clones.copy(db, primary, rt, clones.usesPgBaseBackup(rt.postgresVersion())));
        }
    }

    private Step markStandby(DatabaseRow db, InstanceRow instance, String lane) {
        return Step.onNode("MarkStandby", lane, instance.id(), null, c -> {
                    InstanceRuntime rt = runtime(db, instance);
                    replicas.writePassfile(rt, replication.replicationPassword(db));
                    replicas.markStandby(rt);
                })
                .doneWhen(c -> isPrimary(instance));
    }

    /** WritePostgresConf; a running server reloads it (primary_conninfo follows the new primary). */
    Step writeConfAndReload(DatabaseRow db, InstanceRow instance, String lane, String name) {
        return Step.onNode(name, lane, instance.id(), null, c -> {
            InstanceRuntime rt = runtime(db, instance);
            if (agent.writeConfiguration(rt, db.spec()) && agent.isRunning(rt)) {
                try (Connection conn = agent.connect(rt, "postgres");
                        Statement st = conn.createStatement()) {
                    st.execute("SELECT pg_reload_conf()");
                } catch (SQLException e) {
                    throw Replication.failure(instance, db.id(), "reloading the configuration", e);
                }
            }
        });
    }

    /** AwaitStreaming: the replica's walreceiver streams from the node's primary. */
    Step awaitStreaming(DatabaseRow db, InstanceRow replica, String lane) {
        return Step.onNode("AwaitStreaming", lane, replica.id(), null, c -> {
                    InstanceRow primary = primaryOf(db, replica.nodeName());
                    String expected = replication.address(primary.hostId());
                    InstanceRuntime rt = runtime(db, replica);
                    long deadline = System.nanoTime() + STREAMING_TIMEOUT.toNanos();
                    String last = "no walreceiver";
                    while (System.nanoTime() < deadline) {
                        try (Connection conn = agent.connect(rt, "postgres");
                                PreparedStatement ps = conn.prepareStatement(
                                        "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver");
                                ResultSet rs = ps.executeQuery()) {
                            if (rs.next()) {
                                last = rs.getString(1) + " from " + rs.getString(2) + ":" + rs.getInt(3);
                                if ("streaming".equals(rs.getString(1))
                                        && expected.equals(rs.getString(2))
                                        && rs.getInt(3) == primary.port()) {
                                    return;
                                }
                            }
                        } catch (SQLException e) {
                            last = e.getMessage();
                        }
                        sleep(100);
                    }
                    throw new PgfleetException(
                            ErrorCode.INTERNAL,
                            "node " + lane + " of " + db.id() + ": not streaming from the primary on "
                                    + primary.hostId() + " after " + STREAMING_TIMEOUT.toSeconds() + " s (" + last
                                    + ")");
                })
                .doneWhen(c -> isPrimary(replica));
    }

    // ---- helpers ----

    InstanceRow current(InstanceRow instance) {
        return steps.current(instance);
    }

    boolean isPrimary(InstanceRow instance) {
        return !current(instance).isReplica();
    }

    InstanceRuntime runtime(DatabaseRow db, InstanceRow instance) {
        return runtimes.of(db, current(instance));
    }

    InstanceRow primaryOf(DatabaseRow db, String node) {
        return repo.primaryOf(db.uuid(), node)
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INVALID_STATE, "node " + node + " of " + db.id() + " has no primary now"));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgfleetException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
