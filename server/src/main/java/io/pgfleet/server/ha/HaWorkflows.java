package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.ReplicaAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.fleet.JdbcFleetRepository;
import io.pgfleet.server.ha.HaRepository.Transition;
import io.pgfleet.server.tasks.InstanceStates;
import io.pgfleet.server.tasks.NodeSteps;
import io.pgfleet.server.tasks.ReplicaWorkflows;
import io.pgfleet.server.tasks.Step;
import io.pgfleet.server.tasks.TaskContext;
import io.pgfleet.server.tasks.Workflow;
import io.pgfleet.server.tasks.Workflows;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The replication workflows as step lists, run by the StepRunner like every other (a crashed pgfleet
 * resumes them at their first unfinished step). Each instance of a node is a lane of its own
 * ({@link NodeSteps#lane}, {@link ReplicaSteps}), run on its own host; what spans hosts (fencing,
 * roles, slots, promotion) is a step of the whole database, done by the task's coordinator over SQL
 * and in the catalog. A plan depends only on what does not change during the task (the node's
 * instances, the task's request), so a host asked for a later phase plans the same phases.
 */
@Component
public class HaWorkflows implements ReplicaWorkflows {
    private static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(60);
    private final HaRepository repo;
    private final Replication replication;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final ReplicaAgent replicas;
    private final NodeSteps steps;
    private final ReplicaSteps lanes;
    private final JdbcFleetRepository fleet;
    private final TransactionTemplate tx;
    private final HaProperties ha;
    private final ReplicaUpdates updates;
    private final NodeSeeding seeding;

    public HaWorkflows(
            HaRepository repo,
            Replication replication,
            InstanceStates states,
            InstanceAgent agent,
            ReplicaAgent replicas,
            NodeSteps steps,
            ReplicaSteps lanes,
            JdbcFleetRepository fleet,
            TransactionTemplate tx,
            HaProperties ha,
            ReplicaUpdates updates,
            Workflows workflows,
            NodeSeeding seeding) {
        this.updates = updates;
        this.seeding = seeding;
        this.repo = repo;
        this.replication = replication;
        this.states = states;
        this.agent = agent;
        this.replicas = replicas;
        this.steps = steps;
        this.lanes = lanes;
        this.fleet = fleet;
        this.tx = tx;
        this.ha = ha;
        workflows.setReplicaWorkflows(this);
    }

    // ---- create ----

    /**
     * PrepareReplication (role and slots on each primary), a clone lane per replica, then each primary
     * reloads its streaming settings (synchronous_standby_names applies once a replica streams).
     */
    @Override
    public List<Step> cloneReplicas(DatabaseRow db) {
        List<InstanceRow> all = repo.allOf(db.uuid());
        List<Step> result = new ArrayList<>();
        result.add(Step.of("PrepareReplication", () -> "creating the replication role and a slot per replica", ctx -> {
            for (InstanceRow replica : all) {
                if (replica.isReplica()) {
                    InstanceRow primary = lanes.primaryOf(db, replica.nodeName());
                    replication.ensureRole(db, primary);
                    replication.ensureSlot(db, primary, replica);
                }
            }
        }));
        for (InstanceRow replica : all) {
            // A primary a failover fenced while this create was cut off rejoins by its own start (rewound
            // from the new primary), not as a clone: its lane's earlier steps are recorded as done.
            if (replica.isReplica() && !replica.needsRejoin()) {
                result.addAll(lanes.cloneLane(db, replica));
            }
        }
        for (InstanceRow primary : all) {
            if (!primary.isReplica()) {
                result.add(
                        lanes.writeConfAndReload(db, primary, NodeSteps.lane(db, primary), "ReloadStreamingSettings"));
            }
        }
        return result;
    }

    @Override
    public List<Step> afterUpdate(TaskContext ctx, DatabaseRow db, io.pgfleet.core.UpdatePlan plan) {
        return updates.afterNodes(ctx, db, plan, this);
    }

    @Override
    public List<Step> seedFromNode(DatabaseRow db, InstanceRow instance, String sourceNode) {
        return seeding.steps(db, instance, sourceNode);
    }

    /** A start (or automatic restart) of an instance a switchover or failover demoted: it rejoins. */
    @Override
    public Workflow rejoin(DatabaseRow db, InstanceRow instance) {
        String lane = NodeSteps.lane(db, instance);
        List<Step> result = new ArrayList<>();
        result.add(Step.onNode(
                "DecideRejoin",
                lane,
                instance.id(),
                () -> "node " + lane + ": demoted by a switchover or failover; it rejoins as a replica instead"
                        + " of starting as a primary",
                c -> {}));
        result.add(Step.of("CreateSlot", null, c -> {
            InstanceRow primary = lanes.primaryOf(db, instance.nodeName());
            replication.ensureRole(db, primary);
            replication.ensureSlot(db, primary, instance);
        }));
        result.addAll(lanes.followLane(db, instance));
        return Workflow.of(result, steps.recordFailure(db));
    }

    @Override
    public Workflow plan(TaskContext ctx, DatabaseRow db) {
        if (ctx.task().request() instanceof TaskRequest.Switchover request) {
            return switchover(ctx, db, request);
        }
        if (ctx.task().request() instanceof TaskRequest.Failover request) {
            return failover(ctx, db, request);
        }
        throw new PgfleetException(
                ErrorCode.INTERNAL, "task " + ctx.task().taskId() + " is neither a switchover nor a failover");
    }

    // ---- switchover ----

    /**
     * ChooseCandidate, CheckpointOldPrimary (so the stop is short), StopOldPrimary (clean: its
     * walsenders send every commit first),
     * RecordShutdownLsn, AwaitCandidateReplay, Promote, SwapRoles, CreateSlots, then every instance
     * follows the new primary. No acknowledged write is lost: every commit precedes the shutdown
     * checkpoint, which the candidate has replayed before it is promoted.
     */
    private Workflow switchover(TaskContext ctx, DatabaseRow db, TaskRequest.Switchover request) {
        return Workflow.builder()
                .addAll(switchoverSteps(
                        db, request.node(), request.oldPrimaryId(), ctx.task().taskId()))
                .onNodeFailure(steps.recordFailure(db));
    }

    /**
     * The switchover of {@code node} away from {@code oldPrimaryId} as steps, its decisions recorded in the
     * task's transition row of that node (inserted before these steps run).
     */
    List<Step> switchoverSteps(DatabaseRow db, String node, String oldPrimaryId, UUID taskId) {
        InstanceRow old = oldPrimary(db, node, oldPrimaryId);
        String oldLane = NodeSteps.lane(db, old);
        List<Step> workflow = new ArrayList<>();
        workflow.add(Step.of("ChooseCandidate", null, c -> chooseCandidate(c, db, transition(taskId, node), false))
                .doneWhen(c -> transition(taskId, node).candidateId() != null));
        // Dirty pages written while writers go on: the clean stop's own checkpoint, which they wait for,
        // then has little left to write.
        workflow.add(Step.of(
                        "CheckpointOldPrimary",
                        () -> "node " + oldLane + ": a checkpoint before the stop, while writers go on",
                        c -> replication.checkpoint(db, old))
                .doneWhen(c -> !steps.stateIs(old, InstanceState.AVAILABLE)));
        workflow.add(steps.enter(db, old, InstanceState.STOPPING, "EnterStopping"));
        workflow.add(steps.stopPostgres(db, old, false, "node " + oldLane + ": stopping the old primary cleanly"));
        workflow.add(steps.stopPooler(db, old));
        workflow.add(Step.onNode("RecordShutdownLsn", oldLane, old.id(), null, c -> {
                    String lsn = replicas.checkpointLsn(lanes.runtime(db, old));
                    repo.setShutdownLsn(taskId, node, lsn);
                    c.log(
                            "node " + oldLane + ": old primary stopped at " + lsn,
                            Map.of("node", oldLane, "step", "RecordShutdownLsn", "lsn", lsn));
                })
                .doneWhen(c -> transition(taskId, node).shutdownLsn() != null));
        workflow.add(Step.onNode(
                        "MarkStopped", oldLane, old.id(), null, c -> states.enter(db, old.id(), InstanceState.STOPPED))
                .doneWhen(c -> steps.stateIs(old, InstanceState.STOPPED) || !lanes.isPrimary(old)));
        workflow.add(Step.of("AwaitCandidateReplay", null, c -> awaitReplay(c, db, transition(taskId, node)))
                .doneWhen(c -> lanes.isPrimary(candidate(taskId, node))));
        workflow.add(promote(db, node, taskId));
        workflow.add(Step.of(
                        "SwapRoles",
                        () -> "node " + node + ": the catalog names the new primary; the old one can only"
                                + " come back as a replica",
                        c -> tx.executeWithoutResult(s -> {
                            repo.fence(old.id());
                            repo.makePrimary(candidate(taskId, node).id());
                        }))
                .doneWhen(c -> lanes.isPrimary(candidate(taskId, node))));
        workflow.add(createSlots(db, node, taskId));
        for (InstanceRow instance : repo.node(db.uuid(), node)) {
            if (ReplicaUpdates.isKept(db, instance)) {
                workflow.addAll(lanes.followLane(db, instance));
            }
        }
        return workflow;
    }

    // ---- failover ----

    /**
     * ChooseCandidate (the replica that received most WAL; before the fence, so a node with no replica
     * to promote keeps its primary), FenceOldPrimary (in the catalog, with the leader's epoch: a host
     * that returns finds its instance demoted and never starts it as a primary), StopFencedPrimary
     * where its host still answers, Promote, MakePrimary, CreateSlots, then every instance on a host
     * that answers follows the new primary; the old primary's host, when silent, rejoins on its return.
     */
    private Workflow failover(TaskContext ctx, DatabaseRow db, TaskRequest.Failover request) {
        InstanceRow old = oldPrimary(db, request.node(), request.oldPrimaryId());
        String oldLane = NodeSteps.lane(db, old);
        UUID taskId = ctx.task().taskId();
        Duration silent = ha.failoverGrace();
        Workflow.Builder workflow = Workflow.builder();
        String node = request.node();
        workflow.add(Step.of("ChooseCandidate", null, c -> chooseCandidate(c, db, transition(taskId, node), true))
                .doneWhen(c -> transition(taskId, node).candidateId() != null));
        workflow.add(Step.of("FenceOldPrimary", null, c -> fence(c, db, old, request))
                .doneWhen(c -> lanes.current(old).needsRejoin()));
        workflow.add(Step.onNode(
                        "StopFencedPrimary",
                        oldLane,
                        old.id(),
                        () -> "node " + oldLane + ": stopping the fenced old primary",
                        c -> agent.stop(lanes.runtime(db, old)))
                .doneWhen(c -> !agent.isRunning(lanes.runtime(db, old)))
                .unlessHostSilentFor(silent));
        workflow.add(steps.stopPooler(db, old));
        workflow.add(promote(db, request.node(), taskId));
        workflow.add(Step.of(
                        "MakePrimary",
                        null,
                        c -> repo.makePrimary(candidate(taskId, node).id()))
                .doneWhen(c -> lanes.isPrimary(candidate(taskId, node))));
        workflow.add(createSlots(db, request.node(), taskId));
        workflow.add(Step.of("MarkSilentReplicas", null, c -> {
            String promoted = transition(taskId, node).candidateId();
            for (InstanceRow other : repo.node(db.uuid(), node)) {
                if (other.isReplica()
                        && !other.needsRejoin()
                        && !other.id().equals(promoted)
                        && fleet.host(other.hostId())
                                .map(h -> "unreachable".equals(h.state()) || h.millisSinceSeen() >= silent.toMillis())
                                .orElse(true)) {
                    // Its lane below is left for the host's return: it must rejoin then, not stream on
                    // from the old primary.
                    repo.markToRejoin(other.id());
                    c.log(
                            "node " + node + ": the replica on " + other.hostId() + " is on a silent host; it rejoins"
                                    + " the new primary when its host returns",
                            Map.of("node", node, "step", "MarkSilentReplicas", "host", other.hostId()));
                }
            }
        }));
        for (InstanceRow instance : repo.node(db.uuid(), request.node())) {
            List<Step> lane = new ArrayList<>(lanes.followLane(db, instance));
            lane.set(0, ((Step.Defined) lane.get(0)).unlessHostSilentFor(silent));
            workflow.addAll(lane);
        }
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    /** FenceOldPrimary: one transaction; a deposed leader's fence is refused (its failover is void). */
    private void fence(TaskContext ctx, DatabaseRow db, InstanceRow old, TaskRequest.Failover request) {
        tx.executeWithoutResult(s -> {
            if (request.leader() != null
                    && request.epoch() >= 0
                    && !fleet.holdsLease(request.leader(), request.epoch())) {
                throw new PgfleetException(
                        ErrorCode.INVALID_STATE,
                        "leader " + request.leader() + " (epoch " + request.epoch()
                                + ") no longer holds the lease; its failover is void");
            }
            repo.fence(old.id());
        });
        InstanceState now = lanes.current(old).state();
        if (now != InstanceState.FAILED && now.canMoveTo(InstanceState.FAILED)) {
            states.moveFrom(db, old.id(), now, InstanceState.FAILED, "demoted by a failover; it rejoins as a replica");
        }
        ctx.log(
                "node " + old.nodeName() + ": old primary on " + old.hostId() + " fenced in the catalog"
                        + (request.leader() != null
                                ? " (leader " + request.leader() + ", epoch " + request.epoch() + ")"
                                : "")
                        + "; it can only come back as a replica",
                Map.of("node", old.nodeName(), "step", "FenceOldPrimary", "epoch", request.epoch()));
    }

    // ---- shared steps ----

    private Step promote(DatabaseRow db, String node, UUID taskId) {
        return Step.of("Promote", null, c -> {
                    InstanceRow candidate = candidate(taskId, node);
                    long started = System.nanoTime();
                    replication.promote(db, candidate);
                    c.log(
                            "node " + node + ": " + candidate.hostId() + " promoted in "
                                    + (System.nanoTime() - started) / 1_000_000 + " ms",
                            Map.of("node", node, "step", "Promote", "host", candidate.hostId()));
                })
                .doneWhen(c ->
                        Boolean.TRUE.equals(replication.isWritable(candidate(taskId, node), Duration.ofSeconds(10))));
    }

    /** The slot of every other instance of the node on the new primary, before they connect to it. */
    private Step createSlots(DatabaseRow db, String node, UUID taskId) {
        return Step.of("CreateSlots", null, c -> {
            InstanceRow primary = candidate(taskId, node);
            replication.ensureRole(db, primary);
            for (InstanceRow other : repo.node(db.uuid(), node)) {
                if (!other.id().equals(primary.id())) {
                    replication.ensureSlot(db, primary, other);
                }
            }
        });
    }

    private InstanceRow oldPrimary(DatabaseRow db, String node, String id) {
        return repo.node(db.uuid(), node).stream()
                .filter(i -> i.id().equals(id))
                .findFirst()
                .orElseThrow(() -> PgfleetException.notFound("instance " + id + " of database " + db.id()));
    }

    private Transition transition(UUID taskId, String node) {
        return repo.transition(taskId, node)
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INTERNAL, "task " + taskId + " has no transition of node " + node + " recorded"));
    }

    private InstanceRow candidate(UUID taskId, String node) {
        String id = transition(taskId, node).candidateId();
        return repo.find(id).orElseThrow(() -> PgfleetException.notFound("instance " + id));
    }

    /**
     * The requested candidate, or the available replica with the most WAL: received for a failover (it
     * loses least), replayed for a switchover (it promotes soonest).
     */
    private void chooseCandidate(TaskContext ctx, DatabaseRow db, Transition t, boolean received) {
        Map<String, String> positions = new LinkedHashMap<>();
        InstanceRow best = null;
        String bestLsn = null;
        for (InstanceRow r : repo.node(db.uuid(), t.nodeName())) {
            if (r.id().equals(t.oldPrimaryId()) || !r.isReplica() || r.needsRejoin()) {
                continue;
            }
            if (t.candidateId() != null && !r.id().equals(t.candidateId())) {
                continue;
            }
            String lsn = replication.walPosition(r, received);
            positions.put(r.hostId(), lsn == null ? "not answering" : lsn);
            if (lsn != null && (bestLsn == null || Replication.lsnDiff(lsn, bestLsn) > 0)) {
                best = r;
                bestLsn = lsn;
            }
        }
        if (best == null) {
            throw new PgfleetException(
                    ErrorCode.INVALID_STATE,
                    "node " + t.nodeName() + " of " + db.id() + ": no replica answers to be promoted " + positions);
        }
        long ahead = positions.values().stream()
                        .filter(v -> v.contains("/"))
                        .mapToLong(Replication::parseLsn)
                        .max()
                        .orElse(0)
                - Replication.parseLsn(bestLsn);
        repo.setCandidate(t.taskId(), t.nodeName(), best.id());
        ctx.log(
                "node " + t.nodeName() + ": " + t.kind() + " to " + best.hostId() + " ("
                        + (received ? "received" : "replayed") + " " + bestLsn + "; replicas " + positions + ")"
                        + (received
                                ? "; WAL the old primary wrote after " + bestLsn + " is lost unless it comes back"
                                        + " (none that was acknowledged with synchronous_replication)"
                                : ""),
                Map.of(
                        "node",
                        t.nodeName(),
                        "step",
                        "ChooseCandidate",
                        "candidate",
                        best.id(),
                        "candidate_lsn",
                        bestLsn,
                        "replicas",
                        positions,
                        "bytes_behind_most_advanced_replica",
                        ahead));
    }

    /** AwaitCandidateReplay: until the candidate has replayed the old primary's shutdown checkpoint. */
    private void awaitReplay(TaskContext ctx, DatabaseRow db, Transition t) {
        InstanceRow candidate = repo.find(t.candidateId()).orElseThrow();
        long deadline = System.nanoTime() + REPLAY_TIMEOUT.toNanos();
        String replayed = null;
        while (System.nanoTime() < deadline) {
            replayed = replication.walPosition(candidate, false);
            if (replayed != null && Replication.lsnDiff(replayed, t.shutdownLsn()) >= 0) {
                ctx.log(
                        "node " + t.nodeName() + ": candidate on " + candidate.hostId() + " replayed to " + replayed
                                + " (the old primary ended at " + t.shutdownLsn() + ")",
                        Map.of("node", t.nodeName(), "step", "AwaitCandidateReplay", "lsn", replayed));
                return;
            }
            ReplicaSteps.sleep(20);
        }
        throw new PgfleetException(
                ErrorCode.INTERNAL,
                "node " + t.nodeName() + " of " + db.id() + ": candidate on " + candidate.hostId()
                        + " replayed only to "
                        + replayed + " of " + t.shutdownLsn() + " in " + REPLAY_TIMEOUT.toSeconds()
                        + " s; not promoted (the old primary is stopped: start it to undo)");
    }
}
