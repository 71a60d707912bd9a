package io.pgfleet.server.ha;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.core.UpdatePlan.ReplicaChange;
import io.pgfleet.core.UpdatePlan.RollingRestart;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.ha.HaRepository.Transition;
import io.pgfleet.server.tasks.InstanceRuntimes;
import io.pgfleet.server.tasks.InstanceStates;
import io.pgfleet.server.tasks.NodeSteps;
import io.pgfleet.server.tasks.Step;
import io.pgfleet.server.tasks.TaskContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;

/**
 * What a spec update does to replicated nodes after its first phase (where every kept instance got
 * the new spec and a removed replica was stopped and deleted): DropReplicaSlots on the primaries, the
 * new replicas cloned like at a create, then, for a node whose settings need a restart, a rolling
 * restart: each replica restarted in turn and seen streaming again, then a switchover, in which the
 * old primary stops and comes back as a replica with the new settings. The node so never lacks a
 * primary for longer than a switchover. Every lane and phase is planned from the update's plan and
 * instance ids recorded at its intake, so a host asked for a later phase plans the same phases.
 */
@Component
public class ReplicaUpdates {
    /** Prefix of the rolling restart's steps: the same steps ran earlier in the update under their own name. */
    static final String ROLLING = "Rolling";

    private final HaRepository repo;
    private final Replication replication;
    private final ReplicationStatus status;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final JdbcInstanceRepository instances;
    private final NodeSteps steps;
    private final ReplicaSteps lanes;

    public ReplicaUpdates(
            HaRepository repo,
            Replication replication,
            ReplicationStatus status,
            InstanceStates states,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            JdbcInstanceRepository instances,
            NodeSteps steps,
            ReplicaSteps lanes) {
        this.repo = repo;
        this.replication = replication;
        this.status = status;
        this.states = states;
        this.agent = agent;
        this.runtimes = runtimes;
        this.instances = instances;
        this.steps = steps;
        this.lanes = lanes;
    }

    /** Whether the spec still places {@code instance}: its node exists and lists its host. */
    static boolean isKept(DatabaseRow db, InstanceRow instance) {
        return db.spec()
                .node(instance.nodeName())
                .map(n -> n.hostIds().isEmpty() || n.hostIds().contains(instance.hostId()))
                .orElse(false);
    }

    List<Step> afterNodes(TaskContext ctx, DatabaseRow db, UpdatePlan plan, HaWorkflows switchovers) {
        List<Step> result = new ArrayList<>();
        if (!plan.replicasToRemove().isEmpty()) {
            result.add(dropSlots(db, plan.replicasToRemove()));
        }
        if (!plan.replicasToAdd().isEmpty()) {
            result.addAll(addReplicas(db, plan.replicasToAdd()));
        }
        for (RollingRestart restart : plan.rollingRestarts()) {
            result.addAll(rollingRestart(ctx, db, plan, restart, switchovers));
        }
        return result;
    }

    // ---- replicas removed ----

    /** DropReplicaSlots: the slot each removed replica had on its node's primary, so WAL is not kept for it. */
    private Step dropSlots(DatabaseRow db, List<ReplicaChange> removed) {
        return Step.of(
                "DropReplicaSlots",
                () -> "dropping the replication slots of the removed replicas on "
                        + removed.stream().map(r -> r.node() + "@" + r.hostId()).toList(),
                c -> {
                    for (ReplicaChange r : removed) {
                        if (r.instanceId() == null) {
                            continue; // the host had no instance of the node
                        }
                        InstanceRow primary = lanes.primaryOf(db, r.node());
                        String slot = InstanceRuntimes.slotName(r.node(), r.instanceId());
                        replication.dropSlot(db, primary, slot);
                        c.log(
                                "node " + r.node() + ": slot " + slot + " of the replica on " + r.hostId()
                                        + " dropped on the primary on " + primary.hostId(),
                                Map.of("node", r.node(), "step", "DropReplicaSlots", "slot", slot));
                    }
                });
    }

    // ---- replicas added ----

    /**
     * PrepareNewReplicas (role and slots on the primaries), a clone lane per new replica, ReportNewReplicas
     * (their lag), then each primary reloads its streaming settings (the new replica may now be waited for).
     */
    private List<Step> addReplicas(DatabaseRow db, List<ReplicaChange> added) {
        List<InstanceRow> rows =
                added.stream().map(r -> row(db, r.instanceId())).toList();
        List<Step> result = new ArrayList<>();
        result.add(Step.of("PrepareNewReplicas", () -> "creating a slot on the primary for each new replica", c -> {
            for (InstanceRow replica : rows) {
                InstanceRow primary = lanes.primaryOf(db, replica.nodeName());
                replication.ensureRole(db, primary);
                replication.ensureSlot(db, primary, replica);
            }
        }));
        for (InstanceRow replica : rows) {
            result.addAll(lanes.cloneLane(db, replica));
        }
        result.add(Step.of("ReportNewReplicas", null, c -> {
            Map<String, ReplicationStatus.ReplicaLag> lags = status.of(repo.allOf(db.uuid()));
            for (InstanceRow replica : rows) {
                ReplicationStatus.ReplicaLag lag = lags.get(replica.id());
                c.log(
                        "node " + replica.nodeName() + ": new replica on " + replica.hostId() + " "
                                + (lag == null ? "cloned" : lag.state() + ", " + lag.lagBytes() + " bytes behind"),
                        Map.of("node", replica.nodeName(), "step", "ReportNewReplicas", "instance", replica.id()));
            }
        }));
        List<String> nodes = rows.stream().map(InstanceRow::nodeName).distinct().toList();
        for (String node : nodes) {
            InstanceRow primary = lanes.primaryOf(db, node);
            result.add(lanes.writeConfAndReload(db, primary, NodeSteps.lane(db, primary), "ReloadStreamingSettings"));
        }
        return result;
    }

    private InstanceRow row(DatabaseRow db, String instanceId) {
        return repo.find(instanceId)
                .orElseThrow(() -> new PgfleetException(
                        ErrorCode.INTERNAL,
                        "database " + db.id() + ": the new replica " + instanceId + " is gone from the catalog"));
    }

    // ---- rolling restart ----

    /**
     * Each replica the node had before the update restarted in turn (RollingEnterRestarting,
     * RollingRestartPostgres, RollingAwaitStreaming, RollingMarkRestarted, then ConfirmRestart), then
     * PlanSwitchover and the switchover's steps (each named Rolling…); every instance ends with
     * RollingReadPendingRestart.
     */
    private List<Step> rollingRestart(
            TaskContext ctx, DatabaseRow db, UpdatePlan plan, RollingRestart restart, HaWorkflows switchovers) {
        String node = restart.node();
        List<InstanceRow> kept =
                repo.node(db.uuid(), node).stream().filter(i -> isKept(db, i)).toList();
        List<Step> result = new ArrayList<>();
        for (InstanceRow replica : kept) {
            boolean added =
                    plan.replicasToAdd().stream().anyMatch(r -> replica.id().equals(r.instanceId()));
            if (replica.id().equals(restart.primaryInstanceId()) || added) {
                continue; // the primary goes through the switchover; a new replica started with the new settings
            }
            String lane = NodeSteps.lane(db, replica);
            result.addAll(restartReplica(db, replica, lane));
            result.add(Step.of(
                    "ConfirmRestart(" + lane + ")",
                    () -> "node " + lane + ": replica restarted with the new settings and streaming again",
                    c -> {}));
        }
        UUID taskId = ctx.task().taskId();
        result.add(Step.of(
                "PlanSwitchover(" + node + ")",
                () -> "node " + node + ": replicas restarted; switching over so the primary restarts as a replica",
                c -> repo.insertTransitionIfAbsent(new Transition(
                        taskId, db.uuid(), node, "switchover", restart.primaryInstanceId(), null, null))));
        for (Step step : switchovers.switchoverSteps(db, node, restart.primaryInstanceId(), taskId)) {
            result.add(
                    step.node() == null
                            ? Step.prefixed(ROLLING, ((Step.Defined) step).named(step.name() + "(" + node + ")"))
                            : Step.prefixed(ROLLING, step));
        }
        for (InstanceRow instance : kept) {
            result.add(readPendingRestart(db, instance));
        }
        return result;
    }

    private List<Step> restartReplica(DatabaseRow db, InstanceRow replica, String lane) {
        List<Step> result = new ArrayList<>();
        // A replica stopped on purpose is left as it is: its next start applies the settings.
        result.add(Step.onNode(
                        ROLLING + "EnterRestarting",
                        lane,
                        replica.id(),
                        null,
                        c -> states.enter(db, replica.id(), InstanceState.RESTARTING))
                .doneWhen(c -> isStoppedOr(replica, InstanceState.RESTARTING)));
        result.add(Step.onNode(
                        ROLLING + "RestartPostgres",
                        lane,
                        replica.id(),
                        () -> "node " + lane + ": restarting the replica for the settings that need a restart",
                        c -> agent.restart(lanes.runtime(db, replica), lanes.runtime(db, replica), db.spec()))
                .doneWhen(c -> isStoppedOr(replica, null)));
        result.add(Step.prefixed(
                ROLLING,
                ((Step.Defined) lanes.awaitStreaming(db, replica, lane)).doneWhen(c -> isStoppedOr(replica, null))));
        result.add(Step.onNode(ROLLING + "MarkRestarted", lane, replica.id(), null, c -> {
                    instances.setPendingRestart(replica.id(), agent.hasPendingRestart(lanes.runtime(db, replica)));
                    states.enter(db, replica.id(), InstanceState.AVAILABLE);
                })
                .doneWhen(c -> isStoppedOr(replica, InstanceState.AVAILABLE)));
        return result;
    }

    private Step readPendingRestart(DatabaseRow db, InstanceRow instance) {
        return Step.onNode(
                        ROLLING + "ReadPendingRestart",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        null,
                        c -> instances.setPendingRestart(
                                instance.id(), agent.hasPendingRestart(runtimes.of(db, lanes.current(instance)))))
                .doneWhen(c -> !agent.isRunning(runtimes.of(db, lanes.current(instance))));
    }

    /** Whether the instance is stopped, or (when {@code state} is given) in {@code state}. */
    private boolean isStoppedOr(InstanceRow instance, InstanceState state) {
        InstanceState now = lanes.current(instance).state();
        return now == InstanceState.STOPPED || (state != null && now == state);
    }
}
