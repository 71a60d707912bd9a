package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.DatabaseUserSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.UpdatePlan;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskLogEntry;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.catalog.Json;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.fleet.FleetNodes;
import io.pgfleet.server.fleet.TaskScope;
import io.pgfleet.server.security.SecretBox;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Puts a database back on the last spec that worked when an update fails. The snapshot to go back to
 * is taken when the update is accepted and travels in the task's request ({@link #snapshot}); the
 * passwords in it are the stored ciphertexts, never clear text. The rollback is a workflow of its own,
 * run by the update's coordinator after the failure: StorePreviousSpec (spec, labels and passwords
 * stored again, once), then one lane per instance on the instance's host, all hosts at once, as any
 * fan-out ({@link RollbackSteps}): nodes the failed update added are removed again, the others get
 * the previous settings, users, passwords, port and pooler back and are verified. A node the update had
 * already removed cannot come back (its data is gone), and the log says so.
 *
 * <p>The rollback resumes like any workflow: the step {@value #MARK} in the task's ledger says the
 * update failed and is being rolled back, so a coordinator started again (and every host asked for
 * its part) plans the rollback, not the update; its finished steps are skipped.
 */
@Component
public class UpdateRollback implements DisposableBean {
    static final String REQUEST_KEY = "previous";
    /** The ledger's mark of an update that failed and is rolled back; its log entry keeps the cause. */
    static final String MARK = "RollBack";
    /** The rollback's fan-outs are numbered from here, apart from the failed update's own phases. */
    static final int FIRST_PHASE = 1000;

    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcTaskRepository tasks;
    private final JdbcEventRepository events;
    private final RollbackSteps rollbackSteps;
    private final NodeSteps steps;
    private final SecretBox secrets;
    private final Json json;
    private final TransactionTemplate tx;
    private final StepRunner runner;

    public UpdateRollback(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcTaskRepository tasks,
            JdbcEventRepository events,
            RollbackSteps rollbackSteps,
            NodeSteps steps,
            SecretBox secrets,
            Json json,
            TransactionTemplate tx,
            FleetFanout fanout) {
        this.databases = databases;
        this.instances = instances;
        this.tasks = tasks;
        this.events = events;
        this.rollbackSteps = rollbackSteps;
        this.steps = steps;
        this.secrets = secrets;
        this.json = json;
        this.tx = tx;
        this.runner = new StepRunner(StepRunner.ledger(tasks), fanout);
    }

    /**
     * What an update goes back to if it fails, for the task's request: the spec and labels as stored
     * now, the users' encrypted passwords, and each instance's port and state (by instance id, and by
     * node for a request written before). Call it before the update stores anything.
     */
    public static Map<String, Object> snapshot(
            DatabaseRow db, List<InstanceRow> current, Map<String, byte[]> sealedPasswords, Json json) {
        Map<String, Object> passwords = new LinkedHashMap<>();
        sealedPasswords.forEach(
                (user, cipher) -> passwords.put(user, Base64.getEncoder().encodeToString(cipher)));
        Map<String, Object> nodes = new LinkedHashMap<>();
        Map<String, Object> byInstance = new LinkedHashMap<>();
        for (InstanceRow i : current) {
            nodes.put(i.nodeName(), Map.of("port", i.port(), "state", i.state().label()));
            byInstance.put(i.id(), Map.of("port", i.port(), "state", i.state().label()));
        }
        Map<String, Object> previous = new LinkedHashMap<>();
        previous.put("spec", json.toMap(db.spec().redacted()));
        previous.put("labels", db.labels());
        previous.put("passwords", passwords);
        previous.put("nodes", nodes);
        previous.put("instances", byInstance);
        return previous;
    }

    /**
     * After {@code cause} failed the update: rolls every instance back on its host and returns the
     * exception the task fails with, saying whether every instance is back on the previous spec.
     */
    RuntimeException restore(TaskContext ctx, UUID databaseUuid, RuntimeException cause) {
        Map<?, ?> snapshot = snapshotOf(ctx);
        DatabaseRow failed = databases.findByUuid(databaseUuid).orElse(null);
        if (snapshot == null || failed == null) {
            return cause; // an update accepted before this version, or its database is gone: nothing to go back to
        }
        String reason;
        if (cause instanceof Resumed resumed) {
            reason = resumed.reason;
        } else {
            reason = cause.getMessage();
            ctx.log(
                    "update failed: " + reason + "; rolling back to the previous spec on every host",
                    Map.of("step", MARK, "cause", String.valueOf(reason)));
            tasks.recordStep(ctx.task().taskId(), MARK);
        }
        TreeSet<String> hosts = new TreeSet<>();
        instances.byDatabase(databaseUuid).forEach(i -> hosts.add(i.hostId()));
        try {
            runner.run(ctx, workflow(ctx, failed, snapshot));
        } catch (RuntimeException e) {
            String message =
                    "update failed: " + reason + "; rolling back to the previous spec failed too: " + e.getMessage();
            ctx.log(message);
            return new PgfleetException(ErrorCode.INTERNAL, message, cause);
        }
        String message = "update failed: " + reason
                + "; rolled back: every instance is on the previous spec again (settings, users, passwords, ports)"
                + " on " + (hosts.size() == 1 ? "host " + hosts.first() : "hosts " + String.join(", ", hosts));
        ctx.log(message);
        return new PgfleetException(ErrorCode.INTERNAL, message, cause);
    }

    /** Whether the task is an update that failed and is being rolled back (its ledger holds {@value #MARK}). */
    boolean isUnderway(TaskContext ctx) {
        return tasks.finishedSteps(ctx.task().taskId()).contains(MARK);
    }

    /**
     * An update task planned again while its rollback is underway: a host asked for its part gets the
     * rollback's workflow; the coordinator (started again after a crash) fails the update at once with
     * its first cause, so that {@link #restore} carries the rollback on.
     */
    Workflow resume(TaskContext ctx, DatabaseRow db) {
        Map<?, ?> snapshot = snapshotOf(ctx);
        if (FleetNodes.inPart()) {
            return workflow(ctx, db, snapshot);
        }
        String reason = tasks.log(ctx.task().taskId(), null, 10_000).stream()
                .filter(e -> MARK.equals(e.fields().get("step")))
                .map(TaskLogEntry::fields)
                .map(f -> String.valueOf(f.get("cause")))
                .findFirst()
                .orElse("(cause in the task log)");
        ctx.log("the rollback of this update was interrupted; carrying it on");
        throw new Resumed(reason);
    }

    /** The update's first failure, carried from a resumed plan to {@link #restore}. */
    static final class Resumed extends PgfleetException {
        private final String reason;

        Resumed(String reason) {
            super(ErrorCode.INTERNAL, "update failed: " + reason);
            this.reason = reason;
        }
    }

    private static Map<?, ?> snapshotOf(TaskContext ctx) {
        return ctx.task().request() instanceof TaskRequest.Update u ? u.previous() : null;
    }

    /**
     * The rollback's steps, from the snapshot and the instances as they are: the same on the
     * coordinator and on every host asked for its part, before and after the previous spec is stored.
     */
    private Workflow workflow(TaskContext ctx, DatabaseRow current, Map<?, ?> snapshot) {
        TaskScope.startPhasesAt(FIRST_PHASE);
        List<InstanceRow> all = instances.byDatabase(current.uuid());
        DatabaseSpec previous = json.convert(snapshot.get("spec"), DatabaseSpec.class);
        List<String> gone = previous.nodes().stream()
                .map(n -> n.name())
                .filter(n -> all.stream().noneMatch(i -> i.nodeName().equals(n)))
                .toList();
        if (!gone.isEmpty()) {
            if (!FleetNodes.inPart()) {
                ctx.log("nodes " + gone + " were removed before the failure; their data is gone, so they stay out");
            }
            previous = previous.withNodes(previous.nodes().stream()
                    .filter(n -> !gone.contains(n.name()))
                    .toList());
        }
        DatabaseSpec restored = previous;
        Map<String, String> labels = new LinkedHashMap<>();
        ((Map<?, ?>) snapshot.get("labels")).forEach((k, v) -> labels.put((String) k, (String) v));
        DatabaseRow back = new DatabaseRow(
                current.uuid(),
                current.tenantId(),
                current.id(),
                labels,
                restored,
                current.suspended(),
                current.createdAt(),
                current.updatedAt());
        Map<String, Secret> passwords = new LinkedHashMap<>();
        ((Map<?, ?>) snapshot.get("passwords"))
                .forEach((user, cipher) -> passwords.put(
                        (String) user, secrets.open(Base64.getDecoder().decode((String) cipher))));
        UpdatePlan plan = ((TaskRequest.Update) ctx.task().request()).plan();
        List<String> added = plan.usersToCreate().stream()
                .filter(u -> restored.databaseUsers().stream()
                        .map(DatabaseUserSpec::username)
                        .noneMatch(u::equals))
                .toList();
        Workflow.Builder workflow = Workflow.builder()
                .add(Step.of(
                        "StorePreviousSpec",
                        () -> "database " + current.id() + ": the previous spec, labels and passwords stored again",
                        c -> storePrevious(current, restored, labels, snapshot)));
        for (InstanceRow instance : all) {
            if (restored.node(instance.nodeName()).isEmpty()) {
                if (!FleetNodes.inPart()) {
                    ctx.log("node " + instance.nodeName() + ": added by the failed update; removing it again");
                }
                workflow.addAll(rollbackSteps.removeAdded(back, instance));
            } else {
                workflow.addAll(
                        rollbackSteps.putBack(back, instance, before(snapshot, instance), passwords, added, plan));
            }
        }
        return workflow.onNodeFailure(steps.recordFailure(back));
    }

    /** The instance's port and state in the snapshot: by its id, else (an older request) by its node. */
    private static RollbackSteps.Before before(Map<?, ?> snapshot, InstanceRow instance) {
        Object byInstance = snapshot.get("instances") instanceof Map<?, ?> m ? m.get(instance.id()) : null;
        Map<?, ?> was = (Map<?, ?>)
                (byInstance != null ? byInstance : ((Map<?, ?>) snapshot.get("nodes")).get(instance.nodeName()));
        return new RollbackSteps.Before(((Number) was.get("port")).intValue(), "available".equals(was.get("state")));
    }

    /** The previous spec, labels and passwords stored again, with an event. */
    private void storePrevious(
            DatabaseRow failed, DatabaseSpec previous, Map<String, String> labels, Map<?, ?> snapshot) {
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
    }

    @Override
    public void destroy() {
        runner.close();
    }
}
