package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcPortReservationRepository;
import io.pgfleet.server.catalog.Json;
import io.pgfleet.server.events.JdbcEventRepository;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Puts a database back on the last spec that worked when an update fails: the spec, labels and the
 * (encrypted) passwords are stored again, and every instance gets that spec's settings, users,
 * passwords, pooler and port back, then is verified. The snapshot to go back to is taken when the
 * update is accepted and travels in the task's request ({@link #snapshot}); the passwords in it are
 * the stored ciphertexts, never clear text. Nodes the failed update added are removed again; a node
 * it had already removed cannot come back (its data is gone), and the log says so.
 */
@Component
public class UpdateRollback {
    static final String REQUEST_KEY = "previous";

    private final JdbcDatabaseRepository databases;
    private final InstanceRuntimes runtimes;
    private final io.pgfleet.server.agent.PoolerAgent poolers;
    private final JdbcInstanceRepository instances;
    private final JdbcPortReservationRepository ports;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final NodeSteps steps;
    private final Json json;
    private final TransactionTemplate tx;

    private final String hostId;

    public UpdateRollback(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcPortReservationRepository ports,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            NodeSteps steps,
            Json json,
            TransactionTemplate tx,
            InstanceRuntimes runtimes,
            io.pgfleet.server.agent.PoolerAgent poolers,
            io.pgfleet.server.config.PgfleetProperties properties) {
        this.hostId = properties.hostId();
        this.runtimes = runtimes;
        this.poolers = poolers;
        this.databases = databases;
        this.instances = instances;
        this.ports = ports;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.steps = steps;
        this.json = json;
        this.tx = tx;
    }

    /**
     * What an update goes back to if it fails, for the task's request: the spec and labels as stored
     * now, the users' encrypted passwords, and each node's port and state. Call it before the update
     * stores anything.
     */
    public static Map<String, Object> snapshot(
            DatabaseRow db, List<InstanceRow> current, Map<String, byte[]> sealedPasswords, Json json) {
        Map<String, Object> passwords = new LinkedHashMap<>();
        sealedPasswords.forEach(
                (user, cipher) -> passwords.put(user, Base64.getEncoder().encodeToString(cipher)));
        Map<String, Object> nodes = new LinkedHashMap<>();
        for (InstanceRow i : current) {
            nodes.put(i.nodeName(), Map.of("port", i.port(), "state", i.state().label()));
        }
        Map<String, Object> previous = new LinkedHashMap<>();
        previous.put("spec", json.toMap(db.spec().redacted()));
        previous.put("labels", db.labels());
        previous.put("passwords", passwords);
        previous.put("nodes", nodes);
        return previous;
    }

    /**
     * After {@code cause} failed the update: restores the previous spec and returns the exception the
     * task fails with, saying whether every instance is back on it.
     */
    RuntimeException restore(TaskContext ctx, java.util.UUID databaseUuid, RuntimeException cause) {
        return databases
                .findByUuid(databaseUuid)
                .map(db -> restore(ctx, db, cause))
                .orElse(cause);
    }

    RuntimeException restore(TaskContext ctx, DatabaseRow failed, RuntimeException cause) {
        Object previous = ctx.task().request() instanceof io.pgfleet.core.TaskRequest.Update u ? u.previous() : null;
        if (!(previous instanceof Map<?, ?> snapshot)) {
            // An update accepted before this version: nothing to go back to.
            return cause;
        }
        List<String> elsewhere = instances.byDatabase(failed.uuid()).stream()
                .filter(i -> !i.hostId().equals(hostId))
                .map(i -> i.nodeName() + "@" + i.hostId())
                .toList();
        if (!elsewhere.isEmpty()) {
            // The rollback runs its steps here, at once; another host's instances are that host's to touch.
            String message = "update failed: " + cause.getMessage() + "; not rolled back: nodes " + elsewhere
                    + " run on other hosts (a rollback across hosts is not built yet); send the previous spec as"
                    + " an update to go back";
            ctx.log(message);
            return new PgfleetException(ErrorCode.INTERNAL, message, cause);
        }
        ctx.log("update failed: " + cause.getMessage() + "; rolling back to the previous spec");
        try {
            restore(ctx, failed, snapshot);
        } catch (RuntimeException e) {
            return new PgfleetException(
                    ErrorCode.INTERNAL,
                    "update failed: " + cause.getMessage() + "; rolling back to the previous spec failed too: "
                            + e.getMessage(),
                    cause);
        }
        String message = "update failed: " + cause.getMessage()
                + "; rolled back: every instance is on the previous spec again (settings, users, passwords, ports)";
        ctx.log(message);
        return new PgfleetException(ErrorCode.INTERNAL, message, cause);
    }

    private void restore(TaskContext ctx, DatabaseRow failed, Map<?, ?> snapshot) {
        List<InstanceRow> all = instances.byDatabase(failed.uuid());
        DatabaseSpec previous = json.convert(snapshot.get("spec"), DatabaseSpec.class);
        List<String> gone = previous.nodes().stream()
                .map(n -> n.name())
                .filter(n -> all.stream().noneMatch(i -> i.nodeName().equals(n)))
                .toList();
        if (!gone.isEmpty()) {
            ctx.log("nodes " + gone + " were removed before the failure; their data is gone, so they stay out");
            previous = previous.withNodes(previous.nodes().stream()
                    .filter(n -> !gone.contains(n.name()))
                    .toList());
        }
        DatabaseRow back = storePrevious(failed, previous, snapshot);
        Map<String, Secret> passwords = steps.passwords(back);
        DatabaseSpec restored = previous;
        List<String> added = failed.spec().databaseUsers().stream()
                .map(DatabaseUserSpec::username)
                .filter(u -> restored.databaseUsers().stream()
                        .noneMatch(p -> p.username().equals(u)))
                .toList();
        UpdatePlan plan = ((io.pgfleet.core.TaskRequest.Update) ctx.task().request()).plan();
        Map<?, ?> nodes = (Map<?, ?>) snapshot.get("nodes");
        List<InstanceRow> keep = new ArrayList<>();
        for (InstanceRow instance : all) {
            if (restored.node(instance.nodeName()).isEmpty()) {
                ctx.log("node " + instance.nodeName() + ": added by the failed update; removing it again");
                runNow(ctx, steps.remove(back, instance));
            } else {
                keep.add(instance);
            }
        }
        List<String> errors = new ArrayList<>();
        for (InstanceRow instance : keep) {
            Map<?, ?> was = (Map<?, ?>) nodes.get(instance.nodeName());
            int port = ((Number) was.get("port")).intValue();
            boolean running = "available".equals(was.get("state"));
            try {
                putBack(ctx, back, instances.find(instance.id()).orElseThrow(), port, running, passwords, added, plan);
            } catch (RuntimeException e) {
                ctx.log("node " + instance.nodeName() + ": could not be put back: " + e.getMessage());
                errors.add("node " + instance.nodeName() + ": " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new PgfleetException(ErrorCode.INTERNAL, String.join("; ", errors));
        }
    }

    /** Runs steps at once, outside the task's ledger: a rollback is not resumed step by step. */
    private static void runNow(TaskContext ctx, List<Step> steps) {
        for (Step step : steps) {
            if (!step.isDone(ctx)) {
                String message = step.message();
                if (message != null) {
                    ctx.log(message);
                }
                step.apply(ctx);
            }
        }
    }

    /** The previous spec, labels and passwords stored again, with an event; returns the row. */
    private DatabaseRow storePrevious(DatabaseRow failed, DatabaseSpec previous, Map<?, ?> snapshot) {
        Map<String, String> labels = new LinkedHashMap<>();
        ((Map<?, ?>) snapshot.get("labels")).forEach((k, v) -> labels.put((String) k, (String) v));
        Map<?, ?> stored = (Map<?, ?>) snapshot.get("passwords");
        tx.executeWithoutResult(s -> {
            databases.update(failed.uuid(), previous, labels);
            for (String user : databases.userPasswords(failed.uuid()).keySet()) {
                if (!stored.containsKey(user)) {
                    databases.deleteUserPassword(failed.uuid(), user);
                }
            }
            stored.forEach((user, value) -> databases.saveUserPassword(
                    failed.uuid(), (String) user, Base64.getDecoder().decode((String) value)));
            events.record(
                    failed.tenantId(),
                    failed.id(),
                    failed.uuid(),
                    null,
                    "database.update_rolled_back",
                    "database " + failed.id() + ": the update failed; the previous spec is stored again",
                    Map.of());
        });
        return databases.findByUuid(failed.uuid()).orElseThrow();
    }

    /**
     * One instance back on the previous spec and port: configuration written, Postgres reloaded,
     * restarted on its old port, or started; roles (passwords included) and pooler as before; the
     * users the failed update created dropped; verified; then in the state it had before the update.
     */
    private void putBack(
            TaskContext ctx,
            DatabaseRow db,
            InstanceRow now,
            int port,
            boolean running,
            Map<String, Secret> passwords,
            List<String> added,
            UpdatePlan plan) {
        String node = now.nodeName();
        DatabaseSpec spec = db.spec();
        if (now.state() == InstanceState.AVAILABLE || now.state() == InstanceState.STOPPED) {
            states.move(db, now.id(), InstanceState.MODIFYING, null);
        }
        InstanceRow target = now.withPort(port);
        if (port != now.port() && !ports.heldBy(now.hostId(), now.id()).contains(port)) {
            if (!ports.reserve(now.hostId(), port, now.id(), "postgres")) {
                throw new PgfleetException(
                        ErrorCode.PORT_CONFLICT,
                        "node " + node + ": its previous port was taken meanwhile ("
                                + ports.holder(now.hostId(), port)
                                        .map(h -> h.conflict(db.tenantId(), port, now.hostId()))
                                        .orElse("port " + port + " is reserved on host " + now.hostId())
                                + "); it stays on port " + now.port());
            }
        }
        io.pgfleet.server.agent.InstanceRuntime was = runtimes.of(db, now);
        io.pgfleet.server.agent.InstanceRuntime back = was.withPort(port);
        boolean up = agent.isRunning(was);
        if (!running) {
            if (up) {
                agent.stop(was);
            }
            agent.prepare(back, spec);
            ctx.log("node " + node + ": stopped as before; the previous configuration is written");
        } else if (up && port != now.port()) {
            ctx.log("node " + node + ": back from port " + now.port() + " to " + port + " with a restart");
            agent.restart(was, back, spec);
        } else if (up) {
            agent.prepare(back, spec);
            ctx.log("node " + node + ": previous settings reloaded");
            agent.reload(back, spec, plan.parametersToReload(), plan.parametersNeedingRestart());
        } else {
            ctx.log("node " + node + ": starting on port " + port + " with the previous configuration");
            agent.prepare(back, spec);
            agent.start(back);
        }
        tx.executeWithoutResult(s -> {
            instances.setPort(now.id(), port);
            Set<Integer> held = ports.heldBy(now.hostId(), now.id());
            for (Integer p : held) {
                if (p != port && !p.equals(now.poolerPort())) {
                    ports.release(now.hostId(), p, now.id());
                }
            }
        });
        if (running) {
            ctx.log("node " + node + ": previous users and passwords" + (added.isEmpty() ? "" : "; dropping " + added));
            agent.reconcileRoles(back, spec, passwords, added);
            if (spec.hasPooler()) {
                InstanceRow pooled = instances.find(now.id()).orElseThrow();
                if (db.spec().hasPooler() && pooled.poolerPort() != null) {
                    runNow(ctx, List.of(steps.startPooler(db, pooled)));
                }
            } else if (now.poolerPort() != null) {
                poolers.stop(back);
                tx.executeWithoutResult(s -> {
                    instances.setPoolerPort(now.id(), null);
                    ports.release(now.hostId(), now.poolerPort(), now.id());
                });
            }
            instances.setPendingRestart(now.id(), agent.hasPendingRestart(back));
            runNow(ctx, List.of(steps.verifyRoles(db, target, passwords)));
        }
        settle(db, now.id(), running ? InstanceState.AVAILABLE : InstanceState.STOPPED);
        ctx.log("node " + node + ": back on the previous spec");
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
}
