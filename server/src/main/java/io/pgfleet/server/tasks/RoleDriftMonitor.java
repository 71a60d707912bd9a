package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Verifies, every {@code pgfleet.drift-check-interval}, that the roles of each available instance are
 * what the spec says, and records what differs (a role changed by hand) as the instance's
 * {@code drift}. It only reports; the next reconcile (a spec update, a start) repairs. Databases with
 * a task pending or running are skipped, so a half-applied update is never reported as drift.
 */
@Component
public class RoleDriftMonitor implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(RoleDriftMonitor.class);
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcTaskRepository tasks;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final NodeSteps steps;
    private final PgfleetProperties properties;
    private ScheduledExecutorService timer;

    public RoleDriftMonitor(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcTaskRepository tasks,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            NodeSteps steps,
            PgfleetProperties properties) {
        this.databases = databases;
        this.instances = instances;
        this.tasks = tasks;
        this.agent = agent;
        this.runtimes = runtimes;
        this.steps = steps;
        this.properties = properties;
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
        List<InstanceRow> all = instances.byHost(properties.hostId());
        for (InstanceRow instance : all) {
            if (instance.state() != InstanceState.AVAILABLE) {
                continue;
            }
            try {
                DatabaseRow db = databases.findByUuid(instance.databaseUuid()).orElse(null);
                if (db == null || tasks.conflicting(db.uuid(), null, true, null).isPresent()) {
                    continue;
                }
                List<String> drift = agent.verifyRoles(runtimes.of(db, instance), db.spec(), steps.passwords(db));
                // Re-check: a task that started meanwhile may have changed the roles under the check.
                if (tasks.conflicting(db.uuid(), null, true, null).isEmpty()) {
                    steps.recordDrift(db, instance, drift);
                }
            } catch (RuntimeException e) {
                // The monitor never dies: an instance that went away meanwhile is the self-healing's concern.
                log.warn("instance {}: role verification failed: {}", instance.nodeName(), e.getMessage());
            }
        }
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }
}
