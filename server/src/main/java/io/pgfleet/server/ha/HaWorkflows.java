package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.ReplicaAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.ha.HaRepository.Transition;
import io.pgfleet.server.tasks.InstanceRuntimes;
import io.pgfleet.server.tasks.InstanceStates;
import io.pgfleet.server.tasks.NodeSteps;
import io.pgfleet.server.tasks.ReplicaWorkflows;
import io.pgfleet.server.tasks.Step;
import io.pgfleet.server.tasks.TaskContext;
import io.pgfleet.server.tasks.Workflow;
import io.pgfleet.server.tasks.Workflows;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.springframework.stereotype.Component;

/**
 * The replication workflows as step lists, run by the StepRunner like every other (a crashed pgfleet
 * resumes them at their first unfinished step). Each instance of a node is a lane of its own
 * ({@link NodeSteps#lane}), run on its own host; what spans hosts (roles, slots, promotion) is a step
 * of the whole database, done by the task's coordinator over SQL. A plan depends only on what does
 * not change during the task (the node's instances, the task's request), so a host asked for a later
 * phase plans the same phases; each step decides from the catalog as it runs.
 */
@Component
public class HaWorkflows implements ReplicaWorkflows {
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);
    private final HaRepository repo;
    private final Replication replication;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final ReplicaAgent replicas;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;

    public HaWorkflows(
            HaRepository repo,
            Replication replication,
            InstanceStates states,
            InstanceAgent agent,
            ReplicaAgent replicas,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            Workflows workflows) {
        this.repo = repo;
        this.replication = replication;
        this.states = states;
        this.agent = agent;
        this.replicas = replicas;
        this.runtimes = runtimes;
        this.steps = steps;
        workflows.setReplicaWorkflows(this);
    }

    // ---- create ----

    @Override
    public List<Step> cloneReplicas(DatabaseRow db) {
        List<InstanceRow> all = repo.allOf(db.uuid());
        List<Step> result = new ArrayList<>();
        result.add(Step.of("PrepareReplication", () -> "creating the replication role and a slot per replica", ctx -> {
            for (InstanceRow replica : all) {
                if (replica.isReplica()) {
                    InstanceRow primary = primaryOf(db, replica.nodeName());
                    replication.ensureRole(db, primary);
                    replication.ensureSlot(db, primary, replica);
                }
            }
        }));
        for (InstanceRow replica : all) {
            if (replica.isReplica()) {
                result.addAll(cloneLane(db, replica));
            }
        }
        return result;
    }

    /** CloneFromPrimary, MarkStandby, WritePostgresConf, StartPostgres, AwaitStreaming, StartPooler, MarkAvailable. */
    private List<Step> cloneLane(DatabaseRow db, InstanceRow replica) {
        String lane = NodeSteps.lane(db, replica);
        List<Step> result = new ArrayList<>();
        result.add(Step.onNode(
                        "CloneFromPrimary",
                        lane,
                        replica.id(),
                        () -> "node " + lane + ": cloning the replica from the primary on "
                                + primaryOf(db, replica.nodeName()).hostId() + " (pg_basebackup)",
                        ctx -> {
                            InstanceRow primary = primaryOf(db, replica.nodeName());
                            long started = System.nanoTime();
                            replicas.baseBackup(
                                    runtime(db, replica),
                                    replication.replicationPassword(db),
                                    replication.address(primary.hostId()),
                                    primary.port());
                            ctx.log(
                                    "node " + lane + ": cloned in " + (System.nanoTime() - started) / 1_000_000 + " ms",
                                    Map.of("node", lane, "step", "CloneFromPrimary"));
                        })
                .doneWhen(ctx -> replicas.hasData(runtime(db, replica))));
        result.add(markStandby(db, replica, lane));
        result.add(writeConfAndReload(db, replica, lane));
        result.add(steps.startPostgres(db, replica));
        result.add(awaitStreaming(db, replica, lane));
        if (db.spec().hasPooler()) {
            result.add(steps.startPooler(db, replica));
        }
        result.add(steps.markAvailable(db, replica, false, "node " + lane + ": replica streaming and available"));
        return result;
    }

    // ---- switchover ----

    @Override
    public Workflow plan(TaskContext ctx, DatabaseRow db) {
        if (!(ctx.task().request() instanceof TaskRequest.Switchover request)) {
            throw new PgfleetException(ErrorCode.INTERNAL, "task " + ctx.task().taskId() + " is no switchover");
        }
        List<InstanceRow> node = repo.node(db.uuid(), request.node());
        InstanceRow old = node.stream()
                .filter(i -> i.id().equals(request.oldPrimaryId()))
                .findFirst()
                .orElseThrow(() -> PgfleetException.notFound("instance " + request.oldPrimaryId()));
        String oldLane = NodeSteps.lane(db, old);
        java.util.UUID taskId = ctx.task().taskId();
        Workflow.Builder workflow = Workflow.builder();
        workflow.add(Step.of("ChooseCandidate", null, c -> chooseCandidate(c, db, transition(taskId)))
                .doneWhen(c -> transition(taskId).candidateId() != null));
        // StopOldPrimary: a clean shutdown, so its walsenders send every commit before it ends.
        workflow.add(steps.enter(db, old, InstanceState.STOPPING, "EnterStopping"));
        workflow.add(steps.stopPostgres(db, old, false, "node " + oldLane + ": stopping the old primary cleanly"));
        workflow.add(steps.stopPooler(db, old));
        workflow.add(Step.onNode("RecordShutdownLsn", oldLane, old.id(), null, c -> {
                    String lsn = replicas.checkpointLsn(runtime(db, old));
                    repo.setShutdownLsn(taskId, lsn);
                    c.log(
                            "node " + oldLane + ": old primary stopped at " + lsn,
                            Map.of("node", oldLane, "step", "RecordShutdownLsn", "lsn", lsn));
                })
                .doneWhen(c -> transition(taskId).shutdownLsn() != null));
        workflow.add(Step.onNode(
                        "MarkStopped", oldLane, old.id(), null, c -> states.enter(db, old.id(), InstanceState.STOPPED))
                .doneWhen(c -> steps.stateIs(old, InstanceState.STOPPED) || !isPrimary(old)));
        workflow.add(Step.of("AwaitCandidateReplay", null, c -> awaitReplay(c, db, transition(taskId))));
        workflow.add(Step.of("Promote", null, c -> {
                    InstanceRow candidate = candidate(taskId);
                    long started = System.nanoTime();
                    replication.promote(db, candidate);
                    c.log(
                            "node " + request.node() + ": " + candidate.hostId() + " promoted in "
                                    + (System.nanoTime() - started) / 1_000_000 + " ms",
                            Map.of("node", request.node(), "step", "Promote", "host", candidate.hostId()));
                })
                .doneWhen(c -> Boolean.TRUE.equals(replication.isWritable(candidate(taskId), Duration.ofSeconds(10)))));
        workflow.add(Step.of(
                        "SwapRoles",
                        () -> "node " + request.node() + ": the catalog names the new primary; the old one can only"
                                + " come back as a replica",
                        c -> repo.swapRoles(old.id(), candidate(taskId).id()))
                .doneWhen(c -> isPrimary(candidate(taskId))));
        workflow.add(Step.of("CreateSlots", null, c -> {
            InstanceRow primary = candidate(taskId);
            replication.ensureRole(db, primary);
            for (InstanceRow other : repo.node(db.uuid(), request.node())) {
                if (!other.id().equals(primary.id())) {
                    replication.ensureSlot(db, primary, other);
                }
            }
        }));
        for (InstanceRow instance : node) {
            workflow.addAll(followLane(db, instance));
        }
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    private Transition transition(java.util.UUID taskId) {
        return repo.transition(taskId)
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INTERNAL, "task " + taskId + " has no node transition recorded"));
    }

    private InstanceRow candidate(java.util.UUID taskId) {
        String id = transition(taskId).candidateId();
        return repo.find(id).orElseThrow(() -> PgfleetException.notFound("instance " + id));
    }

    /** The given candidate, or the available replica that replayed most. */
    private void chooseCandidate(TaskContext ctx, DatabaseRow db, Transition t) {
        Map<String, String> positions = new LinkedHashMap<>();
        InstanceRow best = null;
        String bestLsn = null;
        for (InstanceRow r : repo.node(db.uuid(), t.nodeName())) {
            if (r.id().equals(t.oldPrimaryId()) || !r.isReplica() || r.needsRejoin()) {
                continue;
            }
            String lsn = r.state() == InstanceState.AVAILABLE ? replication.replayedPosition(r) : null;
            positions.put(r.hostId(), lsn == null ? "not answering" : lsn);
            if (lsn != null && (bestLsn == null || Replication.lsnDiff(lsn, bestLsn) > 0)) {
                best = r;
                bestLsn = lsn;
            }
        }
        if (best == null) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "node " + t.nodeName() + " of " + db.id() + ": no available replica to promote " + positions);
        }
        repo.setCandidate(t.taskId(), best.id());
        ctx.log(
                "node " + t.nodeName() + ": switchover to " + best.hostId() + " (replayed " + bestLsn + "; replicas "
                        + positions + ")",
                Map.of("node", t.nodeName(), "step", "ChooseCandidate", "candidate", best.id(), "replicas", positions));
    }

    /** AwaitCandidateReplay: until the candidate has replayed the old primary's shutdown checkpoint. */
    private void awaitReplay(TaskContext ctx, DatabaseRow db, Transition t) {
        InstanceRow candidate = repo.find(t.candidateId()).orElseThrow();
        long deadline = System.nanoTime() + REPLAY_TIMEOUT.toNanos();
        String replayed = null;
        while (System.nanoTime() < deadline) {
            replayed = replication.replayedPosition(candidate);
            if (replayed != null && Replication.lsnDiff(replayed, t.shutdownLsn()) >= 0) {
                ctx.log(
                        "node " + t.nodeName() + ": candidate on " + candidate.hostId() + " replayed to " + replayed
                                + " (the old primary ended at " + t.shutdownLsn() + ")",
                        Map.of("node", t.nodeName(), "step", "AwaitCandidateReplay", "lsn", replayed));
                return;
            }
            sleep(20);
        }
        throw new PgfleetException(
                ErrorCode.INTERNAL,
                "node " + t.nodeName() + " of " + db.id() + ": candidate on " + candidate.hostId()
                        + " replayed only to "
                        + replayed + " of " + t.shutdownLsn() + " in " + REPLAY_TIMEOUT.toSeconds()
                        + " s; not promoted (the old primary is stopped: start it to undo)");
    }

    // ---- following the primary ----

    /**
     * The lane of every instance of a node after its primary moved: the demoted one is rewound
     * (pg_rewind, or cloned again when that fails) and started as a replica; the other replicas follow
     * the new primary (primary_conninfo reloaded); the new primary's steps are all done already.
     */
    private List<Step> followLane(DatabaseRow db, InstanceRow instance) {
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
        result.add(writeConfAndReload(db, instance, lane));
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
                            repo.rejoined(instance.id());
                            states.enter(db, instance.id(), InstanceState.STARTING);
                            states.enter(db, instance.id(), InstanceState.AVAILABLE);
                        })
                .doneWhen(c -> rejoined.test(c) && steps.stateIs(instance, InstanceState.AVAILABLE)));
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
            String said = replicas.rewind(rt, replication.superuserPassword(primary), host, primary.port());
            ctx.log("node " + lane + ": rewound: " + said, Map.of("node", lane, "step", "RewindToPrimary"));
        } catch (PgfleetException e) {
            ctx.log("node " + lane + ": " + e.getMessage() + "; cloning it again from the primary");
            replicas.baseBackup(rt, replication.replicationPassword(db), host, primary.port());
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
    private Step writeConfAndReload(DatabaseRow db, InstanceRow instance, String lane) {
        return Step.onNode("WritePostgresConf", lane, instance.id(), null, c -> {
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
    private Step awaitStreaming(DatabaseRow db, InstanceRow replica, String lane) {
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

    private InstanceRow current(InstanceRow instance) {
        return steps.current(instance);
    }

    private boolean isPrimary(InstanceRow instance) {
        return !current(instance).isReplica();
    }

    private InstanceRuntime runtime(DatabaseRow db, InstanceRow instance) {
        return runtimes.of(db, current(instance));
    }

    private InstanceRow primaryOf(DatabaseRow db, String node) {
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
