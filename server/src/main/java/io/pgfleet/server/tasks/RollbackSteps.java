package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.agent.PoolerAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The lane of one instance in an update's rollback, run on the instance's host like any lane: back on
 * its previous port (RestorePort), its previous configuration reloaded, or Postgres restarted, started or
 * stopped as it was (RestorePostgres), then while it runs the previous users and passwords with the
 * failed update's new users dropped (RestoreRoles), the pooler as before (RestorePooler),
 * RestorePendingRestart, RestoreVerifyRoles, and last its previous state (SettleRestored). Each step
 * looks at the instance as it is now, so a rollback cut off by a crash redoes its step harmlessly. The
 * names differ from the update's own steps: the task's ledger already holds those as finished.
 */
@Component
public class RollbackSteps {
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final PortReservations reservations;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final PoolerAgent poolers;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final TransactionTemplate tx;

    public RollbackSteps(
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            PortReservations reservations,
            InstanceStates states,
            InstanceAgent agent,
            PoolerAgent poolers,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            TransactionTemplate tx) {
        this.instances = instances;
        this.ports = ports;
        this.reservations = reservations;
        this.states = states;
        this.agent = agent;
        this.poolers = poolers;
        this.runtimes = runtimes;
        this.steps = steps;
        this.tx = tx;
    }

    /** Where one instance goes back to: its port and whether it ran before the update. */
    record Before(int port, boolean running) {}

    /**
     * The lane that puts {@code instance} back on {@code back}'s spec (the previous one, not yet
     * necessarily stored): {@code added} are the users the failed update created, dropped again.
     */
    List<Step> putBack(
            DatabaseRow back,
            InstanceRow instance,
            Before before,
            Map<String, Secret> passwords,
            List<String> added,
            UpdatePlan plan) {
        String node = instance.nodeName();
        String lane = NodeSteps.lane(back, instance);
        String id = instance.id();
        DatabaseSpec spec = back.spec();
        int port = before.port();
        List<Step> result = new ArrayList<>();
        result.add(Step.onNode("EnterRollBack", lane, id, null, ctx -> {
            InstanceState now = steps.current(instance).state();
            if (now == InstanceState.AVAILABLE || now == InstanceState.STOPPED) {
                states.move(back, id, InstanceState.MODIFYING, null);
            }
        }));
        result.add(Step.onNode("RestorePort", lane, id, null, ctx -> reservePort(back, instance, port))
                .doneWhen(ctx -> steps.current(instance).port() == port
                        || ports.heldBy(instance.hostId(), id).contains(port)));
        result.add(Step.onNode(
                "RestorePostgres", lane, id, null, ctx -> restorePostgres(ctx, back, instance, before, plan)));
        if (before.running()) {
            result.add(Step.onNode(
                    "RestoreRoles",
                    lane,
                    id,
                    () -> "node " + node + ": previous users and passwords"
                            + (added.isEmpty() ? "" : "; dropping " + added),
                    ctx -> agent.reconcileRoles(runtime(back, instance), spec, passwords, added)));
            result.add(Step.onNode("RestorePooler", lane, id, null, ctx -> restorePooler(ctx, back, instance)));
            result.add(Step.onNode(
                    "RestorePendingRestart",
                    lane,
                    id,
                    null,
                    ctx -> instances.setPendingRestart(id, agent.hasPendingRestart(runtime(back, instance)))));
            result.add(Step.onNode("RestoreVerifyRoles", lane, id, null, ctx -> {
                List<String> drift = agent.verifyRoles(runtime(back, instance), spec, passwords);
                steps.recordDrift(back, instance, drift);
                if (!drift.isEmpty()) {
                    throw new PgfleetException(
                            ErrorCode.INTERNAL,
                            "node " + node + ": roles differ from the previous spec after the rollback: " + drift);
                }
            }));
        }
        InstanceState to = before.running() ? InstanceState.AVAILABLE : InstanceState.STOPPED;
        result.add(Step.onNode(
                        "SettleRestored",
                        lane,
                        id,
                        () -> "node " + node + ": back on the previous spec",
                        ctx -> settle(back, id, to))
                .doneWhen(ctx -> steps.stateIs(instance, to)));
        return result;
    }

    /** A node the failed update added: removed again, with step names of the rollback's own. */
    List<Step> removeAdded(DatabaseRow back, InstanceRow instance) {
        List<Step> result = new ArrayList<>();
        for (Step step : steps.remove(back, instance)) {
            result.add(new Renamed("RollBack" + step.name(), step));
        }
        return result;
    }

    private InstanceRuntime runtime(DatabaseRow back, InstanceRow instance) {
        return runtimes.of(back, steps.current(instance));
    }

    private void reservePort(DatabaseRow db, InstanceRow instance, int port) {
        if (!ports.reserve(instance.hostId(), port, instance.id(), "postgres")) {
            throw new PgfleetException(
                    ErrorCode.PORT_CONFLICT,
                    "node " + instance.nodeName() + ": its previous port was taken meanwhile ("
                            + ports.holder(instance.hostId(), port)
                                    .map(h -> h.conflict(db.tenantId(), port, instance.hostId()))
                                    .orElse("port " + port + " is reserved on host " + instance.hostId())
                            + "); it stays on port " + steps.current(instance).port());
        }
    }

    /**
     * Configuration written for the previous spec and port, then Postgres as it was: reloaded, restarted
     * on its previous port, started, or stopped; the catalog's port follows and the update's new port
     * is freed. Run again, it finds Postgres on that port and only reloads.
     */
    private void restorePostgres(
            TaskContext ctx, DatabaseRow back, InstanceRow instance, Before before, UpdatePlan plan) {
        String node = instance.nodeName();
        DatabaseSpec spec = back.spec();
        int port = before.port();
        InstanceRow now = steps.current(instance);
        InstanceRuntime was = runtimes.of(back, now);
        InstanceRuntime target = was.withPort(port);
        boolean up = agent.isRunning(was);
        if (!before.running()) {
            if (up) {
                agent.stop(was);
            }
            agent.prepare(target, spec);
            ctx.log("node " + node + ": stopped as before; the previous configuration is written");
        } else if (up && port != now.port()) {
            ctx.log("node " + node + ": back from port " + now.port() + " to " + port + " with a restart");
            agent.restart(was, target, spec);
        } else if (up) {
            agent.prepare(target, spec);
            ctx.log("node " + node + ": previous settings reloaded");
            agent.reload(target, spec, plan.parametersToReload(), plan.parametersNeedingRestart());
        } else {
            ctx.log("node " + node + ": starting on port " + port + " with the previous configuration");
            agent.prepare(target, spec);
            agent.start(target);
        }
        tx.executeWithoutResult(s -> {
            instances.setPort(instance.id(), port);
            for (Integer held : ports.heldBy(instance.hostId(), instance.id())) {
                if (held != port && !held.equals(now.poolerPort())) {
                    ports.release(instance.hostId(), held, instance.id());
                }
            }
        });
    }

    /** The pooler as the previous spec has it: started (with a port again if the update freed it), or stopped and its port freed. */
    private void restorePooler(TaskContext ctx, DatabaseRow back, InstanceRow instance) {
        InstanceRow now = steps.current(instance);
        if (back.spec().hasPooler()) {
            if (now.poolerPort() == null) {
                InstanceRow unpooled = now;
                tx.executeWithoutResult(s -> reservations.reservePoolerPort(unpooled));
                now = steps.current(instance);
            }
            poolers.start(runtimes.of(back, now), back.spec());
            ctx.log("node " + instance.nodeName() + ": pooler on port " + now.poolerPort() + " as before");
        } else if (now.poolerPort() != null) {
            Integer poolerPort = now.poolerPort();
            poolers.stop(runtimes.of(back, now));
            tx.executeWithoutResult(s -> {
                instances.setPoolerPort(instance.id(), null);
                ports.release(instance.hostId(), poolerPort, instance.id());
            });
            ctx.log("node " + instance.nodeName() + ": no pooler, as before; port " + poolerPort + " freed");
        }
    }

    /** To {@code to} from wherever the failure left it; error reaches stopped through stopping. */
    private void settle(DatabaseRow db, String instanceId, InstanceState to) {
        InstanceState now = instances.find(instanceId).orElseThrow().state();
        if (now == to) {
            return;
        }
        if (!now.canMoveTo(to) && now.canMoveTo(InstanceState.STOPPING) && to == InstanceState.STOPPED) {
            states.move(db, instanceId, InstanceState.STOPPING, null);
        }
        states.move(db, instanceId, to, null);
    }

    /** A shared step under another name: the same work, its own key in the task's ledger. */
    record Renamed(String name, Step inner) implements Step {
        @Override
        public String node() {
            return inner.node();
        }

        @Override
        public String instanceId() {
            return inner.instanceId();
        }

        @Override
        public String message() {
            return inner.message();
        }

        @Override
        public Map<String, Object> fields() {
            return inner.fields();
        }

        @Override
        public boolean isDone(TaskContext ctx) {
            return inner.isDone(ctx);
        }

        @Override
        public void apply(TaskContext ctx) {
            inner.apply(ctx);
        }
    }
}
