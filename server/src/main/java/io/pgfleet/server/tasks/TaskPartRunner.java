package io.pgfleet.server.tasks;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.CatalogSignals;
import io.pgfleet.server.fleet.JdbcFleetRepository;
import io.pgfleet.server.fleet.JdbcFleetRepository.Part;
import io.pgfleet.server.fleet.TaskScope;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Runs this host's parts of database-wide tasks that another host coordinates (see
 * {@link io.pgfleet.server.fleet.FleetNodes}): claims them from the catalog when NOTIFY wakes it (or at
 * the slow poll), runs the task's workflow as that part, and records the outcome the coordinator waits for.
 */
@Component
public class TaskPartRunner implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(TaskPartRunner.class);
    private final JdbcFleetRepository fleet;
    private final JdbcTaskRepository tasks;
    private final Workflows workflows;
    private final CatalogSignals signals;
    private final PgfleetProperties properties;
    private final FleetProperties fleetProperties;
    private final StepRunner stepRunner;
    private final io.pgfleet.server.config.HealingProperties healing;
    private ExecutorService workers;
    private Thread dispatcher;
    private volatile boolean running;

    public TaskPartRunner(
            JdbcFleetRepository fleet,
            JdbcTaskRepository tasks,
            Workflows workflows,
            CatalogSignals signals,
            PgfleetProperties properties,
            FleetProperties fleetProperties,
            FleetFanout fanout,
            io.pgfleet.server.config.HealingProperties healing) {
        this.healing = healing;
        this.stepRunner = new StepRunner(StepRunner.ledger(tasks), fanout);
        this.fleet = fleet;
        this.tasks = tasks;
        this.workflows = workflows;
        this.signals = signals;
        this.properties = properties;
        this.fleetProperties = fleetProperties;
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        int requeued = fleet.requeueRunningParts(properties.hostId());
        if (requeued > 0) {
            log.warn(
                    "host {}: {} task part(s) were cut off by a restart; running them again",
                    properties.hostId(),
                    requeued);
        }
        workers = Executors.newFixedThreadPool(properties.workers(), r -> {
            Thread t = new Thread(r, "pgfleet-part");
            t.setDaemon(true);
            return t;
        });
        running = true;
        dispatcher = new Thread(this::loop, "pgfleet-part-dispatcher");
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    private void loop() {
        while (running) {
            try {
                for (Part part : fleet.claimParts(properties.hostId(), properties.workers())) {
                    workers.submit(() -> run(part));
                }
                signals.awaitSignal(
                        signals.isListening() ? fleetProperties.workPoll().toMillis() : 500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // Never dies: a catalog outage is retried after a pause.
                log.warn("task parts: {}; retrying", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void run(Part part) {
        MDC.put("task", part.taskId().toString());
        try {
            Optional<TaskRow> task = tasks.find(part.taskId());
            if (task.isEmpty()) {
                fleet.finishPart(part, "canceled", "the task no longer exists");
                return;
            }
            TaskContext ctx = new TaskContext(task.get(), tasks::appendLog, healing.testPauseAtStep());
            TaskScope.part(part.taskId(), part.phase(), () -> stepRunner.run(ctx, workflows.plan(ctx)));
            fleet.finishPart(part, "completed", null);
        } catch (PgfleetException e) {
            fleet.finishPart(part, "failed", "host " + part.hostId() + ": " + e.getMessage());
        } catch (RuntimeException | Error e) {
            log.error("task {}: part on host {} failed unexpectedly", part.taskId(), part.hostId(), e);
            fleet.finishPart(part, "failed", "host " + part.hostId() + ": internal error: " + e.getMessage());
        } finally {
            MDC.remove("task");
        }
    }

    @Override
    public void stop() {
        running = false;
        if (dispatcher != null) {
            dispatcher.interrupt();
        }
        if (workers != null) {
            workers.shutdown();
            try {
                workers.awaitTermination(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stepRunner.close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
