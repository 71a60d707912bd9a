package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.core.Secret;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.core.UpdatePlan.PortChange;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.PoolerAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.catalog.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The steps of a spec update's {@link UpdatePlan}. The API has already checked it (parameters against
 * pg_settings, ports free), stored the desired spec and passwords and reserved the new ports; here,
 * on every node at once: a node gone from the spec is removed, a new one provisioned, a stopped one
 * gets its configuration for its next start, and a running one goes through EnterModifying,
 * WritePostgresConf and Reload (or RestartOnNewPort), ReconcileRoles (drops included), StartPooler
 * or ReleasePooler, ReadPendingRestart, VerifyRoles, MarkAvailable. A resumed update finds its
 * running nodes {@code modifying} and carries on at their first unfinished step.
 */
@Component
public class UpdateWorkflow {
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final InstanceAgent agent;
    private final PoolerAgent poolers;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final Json json;
    private final TransactionTemplate tx;
    private final UpdateRollback rollback;

    public UpdateWorkflow(
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            InstanceAgent agent,
            PoolerAgent poolers,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            Json json,
            TransactionTemplate tx,
            UpdateRollback rollback) {
        this.instances = instances;
        this.ports = ports;
        this.agent = agent;
        this.poolers = poolers;
        this.runtimes = runtimes;
        this.steps = steps;
        this.json = json;
        this.tx = tx;
        this.rollback = rollback;
    }

    /** When the update's steps failed: every instance goes back to the previous spec (UpdateRollback). */
    RuntimeException rollBack(TaskContext ctx, RuntimeException cause) {
        return rollback.restore(ctx, ctx.task().databaseUuid(), cause);
    }

    /** The plan of a database without replicas (what a test of the steps alone builds). */
    Workflow plan(TaskContext ctx, DatabaseRow db) {
        return plan(ctx, db, ReplicaWorkflows.NONE);
    }

    /**
     * Every instance's lane at once (the first phase), then what replicated nodes need after it
     * ({@link ReplicaWorkflows#afterUpdate}): a removed replica is deleted in the first phase, a new one
     * cloned after it. An update whose steps failed plans its rollback instead.
     */
    Workflow plan(TaskContext ctx, DatabaseRow db, ReplicaWorkflows replicas) {
        if (rollback.isUnderway(ctx)) {
            return rollback.resume(ctx, db); // the update failed: what is left is its rollback
        }
        UpdatePlan plan = ((TaskRequest.Update) ctx.task().request()).plan();
        Map<String, Secret> passwords = steps.passwords(db);
        Workflow.Builder workflow = Workflow.builder();
        for (InstanceRow instance : instances.byDatabase(db.uuid())) {
            String node = instance.nodeName();
            if (db.spec().node(node).isEmpty()) {
                if (instance.state() != InstanceState.DELETING) {
                    ctx.log("node " + node + ": removed from the spec; deleting its instance");
                }
                workflow.addAll(steps.remove(db, instance));
            } else if (isIn(plan.replicasToAdd(), instance)) {
                continue; // cloned from the primary after this phase
            } else if (isIn(plan.replicasToRemove(), instance)) {
                // Said by a step, not as the plan is made: every host running a phase makes the plan again.
                workflow.add(Step.onNode(
                        "DecideRemoval",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        () -> "node " + node + ": host " + instance.hostId()
                                + " removed from its host_ids; deleting its replica there",
                        c -> {}));
                workflow.addAll(steps.remove(db, instance));
            } else if (instance.state() == InstanceState.CREATING) {
                String source = db.spec()
                        .node(node)
                        .map(io.pgfleet.core.NodeSpec::sourceNode)
                        .orElse(null);
                workflow.addAll(
                        source != null && !instance.isReplica()
                                ? steps.provision(db, instance, passwords, replicas.seedFromNode(db, instance, source))
                                : steps.provision(db, instance, passwords));
            } else if (instance.state() == InstanceState.STOPPED) {
                workflow.addAll(stopped(db, instance, plan));
            } else if (instance.state() == InstanceState.AVAILABLE || instance.state() == InstanceState.MODIFYING) {
                workflow.addAll(running(db, instance, plan, passwords));
            } else {
                // A lane of its own all the same: a host planning a later phase (its instance restarting by
                // then) counts the same phases as the coordinator did.
                InstanceState seen = instance.state();
                workflow.add(Step.onNode(
                        "SkipUnstable",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        () -> "node " + node + ": is " + seen.label() + "; skipped, its next start applies the spec",
                        c -> {}));
            }
        }
        workflow.addAll(replicas.afterUpdate(ctx, db, plan));
        return workflow.onNodeFailure(steps.recordFailure(db));
    }

    private static boolean isIn(List<UpdatePlan.ReplicaChange> changes, InstanceRow instance) {
        return changes.stream()
                .anyMatch(
                        r -> r.node().equals(instance.nodeName()) && r.hostId().equals(instance.hostId()));
    }

    private static Optional<PortChange> portChange(UpdatePlan plan, InstanceRow instance) {
        return plan.portChanges().stream()
                .filter(p -> p.node().equals(instance.nodeName()))
                .findFirst();
    }

    /** A stopped instance keeps its state: its configuration is written and applies at its next start. */
    private List<Step> stopped(DatabaseRow db, InstanceRow instance, UpdatePlan plan) {
        String node = instance.nodeName();
        Optional<PortChange> move = portChange(plan, instance);
        InstanceRow target = move.map(m -> instance.withPort(m.to())).orElse(instance);
        List<Step> lane = new ArrayList<>();
        lane.add(steps.writePostgresConf(db, target));
        move.ifPresent(m -> lane.add(movePort(db, instance, m)));
        if (!db.spec().hasPooler()) {
            lane.add(releasePooler(db, instance));
        }
        lane.add(Step.onNode(
                "ClearPendingRestart",
                NodeSteps.lane(db, instance),
                instance.id(),
                () -> "node " + node + ": stopped; its configuration is written and applies at its next start",
                ctx -> instances.setPendingRestart(instance.id(), false)));
        return lane;
    }

    private List<Step> running(DatabaseRow db, InstanceRow instance, UpdatePlan plan, Map<String, Secret> passwords) {
        String node = instance.nodeName();
        List<Step> lane = new ArrayList<>();
        lane.add(steps.enter(db, instance, InstanceState.MODIFYING, "EnterModifying"));
        Optional<PortChange> move = portChange(plan, instance);
        if (move.isPresent()) {
            PortChange m = move.get();
            lane.add(Step.onNode(
                            "RestartOnNewPort",
                            NodeSteps.lane(db, instance),
                            instance.id(),
                            () -> "node " + node + ": moving from port " + m.from() + " to " + m.to()
                                    + " with a restart",
                            ctx -> {
                                InstanceRow now = steps.current(instance);
                                agent.restart(
                                        runtimes.of(db, now).withPort(m.from()),
                                        runtimes.of(db, now).withPort(m.to()),
                                        db.spec());
                                moveReservation(instance, m);
                            })
                    .doneWhen(ctx -> steps.current(instance).port() == m.to()));
        } else {
            lane.add(steps.writePostgresConf(db, instance));
            // A replica added or removed changes the streaming settings and pg_hba.conf: reloaded too.
            if (!plan.parametersToReload().isEmpty()
                    || !plan.parametersNeedingRestart().isEmpty()
                    || plan.changesReplicasOf(node)) {
                lane.add(Step.onNode(
                        "Reload",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        () -> "node " + node + ": reloading " + plan.parametersToReload()
                                + (plan.parametersNeedingRestart().isEmpty()
                                        ? ""
                                        : "; " + plan.parametersNeedingRestart() + " wait for a restart"),
                        ctx -> agent.reload(
                                runtimes.of(db, instance),
                                db.spec(),
                                plan.parametersToReload(),
                                plan.parametersNeedingRestart())));
            }
        }
        String message = "node " + node + ": reconciling users"
                + (plan.usersToDrop().isEmpty()
                        ? ""
                        : "; dropping " + plan.usersToDrop() + " after reassigning what they own");
        lane.add(steps.reconcileRoles(db, instance, passwords, plan.usersToDrop(), message));
        lane.add(db.spec().hasPooler() ? steps.startPooler(db, instance) : releasePooler(db, instance));
        lane.add(steps.readPendingRestart(db, instance));
        lane.add(steps.verifyRoles(db, instance, passwords));
        lane.add(steps.markAvailable(db, instance, false, "node " + node + ": up to date"));
        return lane;
    }

    private Step movePort(DatabaseRow db, InstanceRow instance, PortChange move) {
        return Step.onNode(
                        "MovePort",
                        NodeSteps.lane(db, instance),
                        instance.id(),
                        null,
                        ctx -> moveReservation(instance, move))
                .doneWhen(ctx -> steps.current(instance).port() == move.to());
    }

    private void moveReservation(InstanceRow instance, PortChange move) {
        tx.executeWithoutResult(s -> {
            instances.setPort(instance.id(), move.to());
            ports.release(instance.hostId(), move.from(), instance.id());
        });
    }

    /** StopPooler and free its port, when the spec no longer enables one. */
    private Step releasePooler(DatabaseRow db, InstanceRow instance) {
        return Step.onNode("ReleasePooler", NodeSteps.lane(db, instance), instance.id(), null, ctx -> {
                    InstanceRow now = steps.current(instance);
                    poolers.stop(runtimes.of(db, now));
                    tx.executeWithoutResult(s -> {
                        instances.setPoolerPort(instance.id(), null);
                        ports.release(instance.hostId(), now.poolerPort(), instance.id());
                    });
                    ctx.log("node " + instance.nodeName() + ": pooler stopped; port " + now.poolerPort() + " freed");
                })
                .doneWhen(ctx -> steps.current(instance).poolerPort() == null);
    }
}
