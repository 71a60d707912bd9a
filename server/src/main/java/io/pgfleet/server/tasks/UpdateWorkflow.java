package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.core.UpdatePlan.PortChange;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.catalog.Json;
import io.pgfleet.server.security.Secret;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a spec update's {@link UpdatePlan}. The API has already checked it (parameters against
 * pg_settings, ports free), stored the desired spec and reserved the new ports; here, in order:
 * RemoveNodes, AddNodes, then on every other instance at once WritePostgresConf, Reload (or Restart
 * for a port change), ReconcileRoles (drops included), ConfigurePooler, ReadPendingRestart, VerifyRoles.
 */
@Component
public class UpdateWorkflow {
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final NodeSteps steps;
    private final Json json;
    private final TransactionTemplate tx;

    public UpdateWorkflow(
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            InstanceStates states,
            InstanceAgent agent,
            NodeSteps steps,
            Json json,
            TransactionTemplate tx) {
        this.instances = instances;
        this.ports = ports;
        this.states = states;
        this.agent = agent;
        this.steps = steps;
        this.json = json;
        this.tx = tx;
    }

    void run(TaskContext ctx, DatabaseRow db) {
        UpdatePlan plan = json.convert(ctx.task().request().get("plan"), UpdatePlan.class);
        Map<String, Secret> passwords = steps.passwords(db);
        List<InstanceRow> all = instances.byDatabase(db.uuid());
        // A fan-out of its own (each dropped node is removed on its host), even when nothing is dropped:
        // the hosts of a fleet number the fan-outs of a workflow alike.
        steps.forEachNode(
                all.stream().filter(i -> db.spec().node(i.nodeName()).isEmpty()).toList(), instance -> {
                    ctx.log("node " + instance.nodeName() + ": removed from the spec; deleting its instance");
                    steps.remove(ctx, db, instance);
                });
        steps.forEachNode(
                all.stream()
                        .filter(i -> db.spec().node(i.nodeName()).isPresent())
                        .toList(),
                instance -> {
                    if (instance.state() == InstanceState.CREATING) {
                        steps.provision(ctx, db, instance, passwords);
                    } else {
                        modify(ctx, db, instance, plan, passwords);
                    }
                });
    }

    private void modify(
            TaskContext ctx, DatabaseRow db, InstanceRow instance, UpdatePlan plan, Map<String, Secret> passwords) {
        String node = instance.nodeName();
        InstanceState was = instance.state();
        if (was != InstanceState.AVAILABLE && was != InstanceState.STOPPED) {
            ctx.log("node " + node + ": is " + was.label() + "; skipped, its next start applies the spec");
            return;
        }
        states.move(db, instance.id(), InstanceState.MODIFYING, null);
        try {
            Optional<PortChange> move = plan.portChanges().stream()
                    .filter(p -> p.node().equals(node))
                    .findFirst();
            InstanceRow current = instance;
            InstanceRow target = move.map(m -> instance.withPort(m.to())).orElse(instance);
            if (was == InstanceState.STOPPED) {
                agent.prepare(target, db.id(), db.spec());
                move.ifPresent(m -> movePort(instance, m));
                if (!db.spec().hasPooler()) {
                    releasePooler(ctx, db, instance);
                }
                instances.setPendingRestart(instance.id(), false);
                states.move(db, instance.id(), InstanceState.STOPPED, null);
                ctx.log("node " + node + ": stopped; its configuration is written and applies at its next start");
                return;
            }
            if (move.isPresent()) {
                ctx.log(
                        "node " + node + ": moving from port " + move.get().from() + " to "
                                + move.get().to() + " with a restart",
                        Map.of("node", node, "step", "RestartOnNewPort"));
                agent.restart(current, target, db.id(), db.spec());
                movePort(instance, move.get());
                current = target;
            } else {
                agent.prepare(current, db.id(), db.spec());
                if (!plan.parametersToReload().isEmpty()
                        || !plan.parametersNeedingRestart().isEmpty()) {
                    ctx.log(
                            "node " + node + ": reloading " + plan.parametersToReload()
                                    + (plan.parametersNeedingRestart().isEmpty()
                                            ? ""
                                            : "; " + plan.parametersNeedingRestart() + " wait for a restart"),
                            Map.of("node", node, "step", "Reload"));
                    agent.reload(
                            current, db.id(), db.spec(), plan.parametersToReload(), plan.parametersNeedingRestart());
                }
            }
            ctx.log(
                    "node " + node + ": reconciling users"
                            + (plan.usersToDrop().isEmpty()
                                    ? ""
                                    : "; dropping " + plan.usersToDrop() + " after reassigning what they own"),
                    Map.of("node", node, "step", "ReconcileRoles"));
            agent.reconcileRoles(current, db.id(), db.spec(), passwords, plan.usersToDrop());
            if (db.spec().hasPooler()) {
                steps.startPoolerIfEnabled(
                        ctx, db, instances.find(instance.id()).orElseThrow());
            } else {
                releasePooler(ctx, db, instance);
            }
            boolean pending = agent.hasPendingRestart(current, db.id());
            instances.setPendingRestart(instance.id(), pending);
            if (pending) {
                ctx.log("node " + node + ": a setting waits for a restart (pending_restart)");
            }
            steps.verify(ctx, db, current, passwords);
            states.move(db, instance.id(), InstanceState.AVAILABLE, null);
            ctx.log("node " + node + ": up to date");
        } catch (RuntimeException e) {
            steps.fail(ctx, db, instance, InstanceState.ERROR, e);
            throw e;
        }
    }

    private void movePort(InstanceRow instance, PortChange move) {
        tx.executeWithoutResult(s -> {
            instances.setPort(instance.id(), move.to());
            ports.release(instance.hostId(), move.from(), instance.id());
        });
    }

    /** StopPooler and free its port, when the spec no longer enables one. */
    private void releasePooler(TaskContext ctx, DatabaseRow db, InstanceRow instance) {
        if (instance.poolerPort() == null) {
            return;
        }
        agent.stopPooler(instance, db.id());
        tx.executeWithoutResult(s -> {
            instances.setPoolerPort(instance.id(), null);
            ports.release(instance.hostId(), instance.poolerPort(), instance.id());
        });
        ctx.log("node " + instance.nodeName() + ": pooler stopped; port " + instance.poolerPort() + " freed");
    }
}
