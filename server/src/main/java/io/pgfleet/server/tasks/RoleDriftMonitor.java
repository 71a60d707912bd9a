package io.pgfleet.server.tasks;

import io.pgfleet.core.DatabaseSpec;
import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstanceRuntime;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Verifies, every {@code pgfleet.drift-check-interval}, that the roles of each available instance are
 * what the spec says. What differs (a role changed by hand: password, attributes, memberships, a dropped
 * user) is put back at once, as CloudNativePG does, with an {@code instance.roles_repaired} event saying
 * what; with {@code "drift_policy": "report"} it is only recorded as the instance's {@code drift} until
 * the next reconcile (a spec update, a start). Databases with a task pending or running are skipped, so
 * a half-applied update is neither reported nor undone.
 */
@Component
public class RoleDriftMonitor implements SmartLifecycle {
    /** How the monitor's connections show in pg_stat_activity (the activity chart leaves them out). */
    public static final String APPLICATION_NAME = "pgfleet-drift";

    private static final Logger log = LoggerFactory.getLogger(RoleDriftMonitor.class);
    /**
     * One connection per checked instance, kept between rounds: a check then costs its queries, not a
     * login (a SCRAM exchange of 4,096 HMACs here, a backend forked there). Closed when the instance is
     * not checked in a round (not available, a task on its database, gone) and when it fails.
     */
    private final Map<String, Connection> held = new ConcurrentHashMap<>();

    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcTaskRepository tasks;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final PgfleetProperties properties;
    private final JdbcEventRepository events;
    private final TransactionTemplate tx;
    private ScheduledExecutorService timer;

    public RoleDriftMonitor(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcTaskRepository tasks,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            PgfleetProperties properties,
            JdbcEventRepository events,
            TransactionTemplate tx) {
        this.databases = databases;
        this.instances = instances;
        this.tasks = tasks;
        this.agent = agent;
        this.runtimes = runtimes;
        this.steps = steps;
        this.properties = properties;
        this.events = events;
        this.tx = tx;
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-drift");
            t.setDaemon(true);
            return t;
        });
        long every = properties.driftCheckInterval().toMillis();
        timer.scheduleWithFixedDelay(this::checkAll, every, every, TimeUnit.MILLISECONDS);
    }

    /** One round over every database; a failure on one instance is logged and the round goes on. */
    void checkAll() {
        List<InstanceRow> all;
        try {
            all = instances.byHost(properties.hostId());
        } catch (RuntimeException e) {
            // A catalog outage: an exception would end the schedule for good; the next round retries.
            log.warn("drift check: cannot read the catalog ({}); retrying", e.getMessage());
            return;
        }
        // The round's catalog reads in three queries, whatever the number of instances: their databases,
        // which of those have work in progress, and their users' passwords.
        List<InstanceRow> available =
                all.stream().filter(i -> i.state() == InstanceState.AVAILABLE).toList();
        Set<UUID> uuids = new HashSet<>();
        available.forEach(i -> uuids.add(i.databaseUuid()));
        Map<UUID, DatabaseRow> dbs = new HashMap<>();
        Set<UUID> busy;
        Map<UUID, Map<String, byte[]>> passwords;
        try {
            databases.findByUuids(uuids).forEach(db -> dbs.put(db.uuid(), db));
            busy = tasks.withWorkInProgress(uuids);
            passwords = databases.userPasswordsOf(uuids);
        } catch (RuntimeException e) {
            log.warn("drift check: cannot read the catalog ({}); retrying", e.getMessage());
            return;
        }
        Set<String> checked = new HashSet<>();
        for (InstanceRow instance : available) {
            DatabaseRow db = dbs.get(instance.databaseUuid());
            if (db == null || busy.contains(db.uuid())) {
                continue;
            }
            try {
                checked.add(instance.id());
                List<String> drift = verify(
                        instance,
                        runtimes.of(db, instance),
                        db.spec(),
                        steps.passwords(passwords.getOrDefault(db.uuid(), Map.of())));
                if (!drift.isEmpty() && db.spec().repairsDrift()) {
                    drift = repair(db, instance, drift);
                }
                if (drift.isEmpty() && instance.drift().isEmpty()) {
                    continue; // nothing found, nothing recorded before: the row already says so
                }
                // Re-check: a task that started meanwhile may have changed the roles under the check.
                if (tasks.conflicting(db.uuid(), null, true, null).isEmpty()) {
                    steps.recordDrift(db, instance, drift);
                }
            } catch (RuntimeException e) {
                // The monitor never dies: an instance that went away meanwhile is the self-healing's concern.
                log.warn("instance {}: role verification failed: {}", instance.nodeName(), e.getMessage());
            }
        }
        for (String id : List.copyOf(held.keySet())) {
            if (!checked.contains(id)) {
                release(id);
            }
        }
    }

    /**
     * What differs on the instance, on its held connection; one that fails (the instance was restarted
     * since the last round) is replaced by a fresh one once, so a restart is not reported as a failure.
     */
    private List<String> verify(
            InstanceRow instance, InstanceRuntime runtime, DatabaseSpec spec, Map<String, Secret> passwords) {
        if (runtime.streaming().isStandby()) {
            return List.of(); // a copy of its primary, verified there
        }
        boolean reused = held.containsKey(instance.id());
        try {
            return agent.verifyRoles(connection(instance, runtime), spec, passwords);
        } catch (SQLException first) {
            release(instance.id());
            if (!reused) {
                throw failed(runtime, first);
            }
            try {
                return agent.verifyRoles(connection(instance, runtime), spec, passwords);
            } catch (SQLException again) {
                release(instance.id());
                throw failed(runtime, again);
            }
        }
    }

    private Connection connection(InstanceRow instance, InstanceRuntime runtime) throws SQLException {
        Connection c = held.get(instance.id());
        if (c == null) {
            c = agent.connectHeld(runtime, APPLICATION_NAME);
            held.put(instance.id(), c);
        }
        return c;
    }

    private static PgfleetException failed(InstanceRuntime runtime, SQLException e) {
        return new PgfleetException(
                ErrorCode.INTERNAL, runtime.subject() + ": verifying users failed: " + e.getMessage(), e);
    }

    private void release(String instanceId) {
        Connection c = held.remove(instanceId);
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // Closing a connection whose server went away fails; it is gone either way.
            log.debug("instance {}: closing the drift check's connection: {}", instanceId, e.getMessage());
        }
    }

    /**
     * Reconciles the instance's roles with the stored spec and passwords, then verifies again; returns
     * what still differs. The database row is read again first, so a spec stored meanwhile wins, and a
     * task that started meanwhile (it reconciles itself) is left to do its work.
     */
    private List<String> repair(DatabaseRow seen, InstanceRow instance, List<String> found) {
        DatabaseRow db = databases.findByUuid(seen.uuid()).orElse(null);
        if (db == null
                || !db.spec().repairsDrift()
                || tasks.conflicting(db.uuid(), null, true, null).isPresent()) {
            return found;
        }
        Map<String, Secret> passwords = steps.passwords(db);
        try {
            agent.reconcileRoles(runtimes.of(db, instance), db.spec(), passwords, List.of());
        } catch (PgfleetException e) {
            // Left as drift, so it shows on the instance; the event says why it could not be put back.
            record(
                    db,
                    instance,
                    "instance.roles_repair_failed",
                    "could not put back " + found + ": " + e.getMessage(),
                    Map.of("drift", found));
            return found;
        }
        List<String> after = agent.verifyRoles(runtimes.of(db, instance), db.spec(), passwords);
        List<String> repaired = found.stream().filter(f -> !after.contains(f)).toList();
        if (!repaired.isEmpty()) {
            log.info("instance {} of {}: put back roles changed by hand: {}", instance.nodeName(), db.id(), repaired);
            record(
                    db,
                    instance,
                    "instance.roles_repaired",
                    "repaired " + String.join("; ", repaired),
                    Map.of("repaired", repaired, "remaining", after));
        }
        return after;
    }

    private void record(DatabaseRow db, InstanceRow instance, String type, String what, Map<String, Object> fields) {
        tx.executeWithoutResult(s -> events.record(
                db.tenantId(),
                db.id(),
                db.uuid(),
                instance.id(),
                type,
                "instance " + instance.nodeName() + " of " + db.id() + ": " + what,
                fields));
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (String id : List.copyOf(held.keySet())) {
            release(id);
        }
    }

    @Override
    public boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }
}
