package io.pgfleet.server.tasks;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Recovery;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.HealingProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The durable task queue's runner. One dispatcher thread claims due tasks (pending ones at once,
 * scheduled ones at their time) and hands them to workers. Claiming locks the database row and
 * re-checks the one-update-at-a-time rule, so a scheduled task whose slot is busy waits its turn.
 * Everything lives in the catalog, so scheduled tasks survive a restart of pgfleet.
 */
@Component
public class TaskRunner implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(TaskRunner.class);
    private static final Duration IDLE_POLL = Duration.ofMillis(500);

    private final JdbcTaskRepository tasks;
    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final Workflows workflows;
    private final TransactionTemplate tx;
    private final PgfleetProperties properties;
    private final JdbcEventRepository events;
    private final MeterRegistry meters;
    private final HealingProperties healing;
    private final StepRunner stepRunner;
    private final io.pgfleet.server.fleet.JdbcFleetRepository fleet;
    private final io.pgfleet.server.fleet.CatalogSignals signals;
    private final io.pgfleet.server.config.FleetProperties fleetProperties;
    private final Object wakeup = new Object();
    private final java.util.Set<java.util.UUID> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private ExecutorService workers;
    private Thread dispatcher;
    private volatile boolean running;
    private boolean signaled;

    public TaskRunner(
            JdbcTaskRepository tasks,
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            InstanceStates states,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            Workflows workflows,
            TransactionTemplate tx,
            PgfleetProperties properties,
            JdbcEventRepository events,
            MeterRegistry meters,
            HealingProperties healing,
            io.pgfleet.server.fleet.JdbcFleetRepository fleet,
            io.pgfleet.server.fleet.CatalogSignals signals,
            io.pgfleet.server.config.FleetProperties fleetProperties,
            FleetFanout fanout) {
        this.fleet = fleet;
        this.signals = signals;
        this.fleetProperties = fleetProperties;
        // Another host's API may have accepted work for this host: NOTIFY on the catalog wakes the dispatcher.
        signals.onWork(this::signal);
        this.healing = healing;
        this.events = events;
        this.meters = meters;
        this.tasks = tasks;
        this.databases = databases;
        this.instances = instances;
        this.states = states;
        this.agent = agent;
        this.runtimes = runtimes;
        this.workflows = workflows;
        this.tx = tx;
        this.properties = properties;
        this.stepRunner = new StepRunner(StepRunner.ledger(tasks), fanout);
    }

    /**
     * Called after a task is written, so it starts without waiting for the next poll. Inside a
     * transaction the wake-up waits for the commit: before it, the dispatcher could not see the task.
     */
    public void wake() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    signal();
                }
            });
            return;
        }
        signal();
    }

    private void signal() {
        synchronized (wakeup) {
            signaled = true;
            wakeup.notifyAll();
        }
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        recoverInterrupted();
        workers = Executors.newFixedThreadPool(properties.workers(), r -> {
            Thread t = new Thread(r, "pgfleet-task");
            t.setDaemon(true);
            return t;
        });
        running = true;
        dispatcher = new Thread(this::dispatchLoop, "pgfleet-dispatcher");
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    /**
     * Tasks that were running when pgfleet stopped (killed, or a shutdown that outlasted them) go back
     * to {@code pending}: their workflow is a list of idempotent steps and the catalog records each
     * finished one, so the resumed task skips those and redoes the one that was cut off. An update
     * resumes too: the spec, passwords and ports it applies were stored when it was accepted, and its
     * plan is in the task's request. Then every instance caught in a transient state that no resumed
     * task owns is set to what the host shows: never {@code available} without a probe, and an
     * interrupted operation becomes {@code failed} (the restart policy takes it from there) or {@code error}.
     */
    private void recoverInterrupted() {
        java.util.Set<java.util.UUID> resumedDatabases = new java.util.HashSet<>();
        java.util.Set<String> resumedInstances = new java.util.HashSet<>();
        for (TaskRow task : tasks.withStatus(TaskStatus.RUNNING).stream()
                .filter(t -> fleet.claimedBy(t.taskId(), properties.hostId())) // other hosts' tasks run on
                .toList()) {
            tx.executeWithoutResult(s -> {
                tasks.compareAndSetStatus(task.taskId(), TaskStatus.RUNNING, TaskStatus.PENDING);
                tasks.appendLog(
                        task.taskId(),
                        "interrupted: pgfleet stopped while this task ran; resuming it at its first unfinished step",
                        Map.of());
                taskEvent(task, "task.resumed", task.type().label() + " resumed after a pgfleet restart", Map.of());
            });
            if (task.type().isDatabaseWide()) {
                resumedDatabases.add(task.databaseUuid());
            } else {
                resumedInstances.add(task.instanceId());
            }
            log.warn(
                    "task {} ({} of {}) was interrupted by a pgfleet restart; resuming it",
                    task.taskId(),
                    task.type().label(),
                    task.databaseId());
        }
        for (InstanceRow instance : instances.byHost(properties.hostId()).stream()
                .filter(i -> TRANSIENT.contains(i.state()))
                .filter(i -> !resumedDatabases.contains(i.databaseUuid()) && !resumedInstances.contains(i.id()))
                .toList()) {
            Optional<DatabaseRow> db = databases.findByUuid(instance.databaseUuid());
            if (db.isEmpty()) {
                continue;
            }
            try {
                recover(db.get(), instance);
            } catch (RuntimeException e) {
                // One instance that cannot be examined must not keep pgfleet from starting.
                log.error(
                        "instance {} of {}: cannot recover its state at start-up: {}",
                        instance.nodeName(),
                        db.get().id(),
                        e.getMessage(),
                        e);
            }
        }
    }

    private static final java.util.Set<InstanceState> TRANSIENT = java.util.EnumSet.of(
            InstanceState.CREATING,
            InstanceState.STARTING,
            InstanceState.STOPPING,
            InstanceState.RESTARTING,
            InstanceState.MODIFYING,
            InstanceState.DELETING);

    private void recover(DatabaseRow db, InstanceRow instance) {
        io.pgfleet.server.agent.InstanceRuntime runtime = runtimes.of(db, instance);
        boolean up = agent.isRunning(runtime);
        Recovery.Outcome outcome =
                Recovery.afterPgfleetRestart(instance.state(), new Recovery.Observed(up, up && agent.answers(runtime)));
        states.move(db, instance.id(), outcome.state(), outcome.error());
        log.info(
                "instance {} of {}: was {}, now {}",
                instance.nodeName(),
                db.id(),
                instance.state().label(),
                outcome.state().label());
    }

    private void dispatchLoop() {
        while (running) {
            try {
                for (TaskRow task : fleet.due(properties.hostId(), 50)) {
                    if (!inFlight.contains(task.taskId()) && claim(task)) {
                        inFlight.add(task.taskId());
                        workers.submit(() -> execute(task));
                    }
                }
                waitForWork();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // The dispatcher never dies: a catalog hiccup is logged and retried after a pause.
                log.error("task dispatcher: {}; retrying", e.getMessage(), e);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void waitForWork() throws InterruptedException {
        // With LISTEN working, the poll is only a fallback; without it, the old quick poll.
        long waitMs = signals.isListening() ? fleetProperties.workPoll().toMillis() : IDLE_POLL.toMillis();
        Optional<Instant> next = tasks.nextScheduled();
        if (next.isPresent()) {
            waitMs = Math.max(
                    1,
                    Math.min(waitMs, Duration.between(Instant.now(), next.get()).toMillis()));
        }
        synchronized (wakeup) {
            if (!signaled) {
                wakeup.wait(waitMs);
            }
            signaled = false;
        }
    }

    private boolean claim(TaskRow task) {
        // The row is read again after the due query: another host may have claimed it in between, and a
        // compare-and-set from 'running' to 'running' would let two hosts run one task at once.
        if (task.status() != TaskStatus.PENDING && task.status() != TaskStatus.SCHEDULED) {
            return false;
        }
        Boolean claimed = tx.execute(s -> {
            Optional<DatabaseRow> db = databases.lockByUuid(task.databaseUuid());
            if (db.isEmpty()) {
                tasks.compareAndSetStatus(task.taskId(), task.status(), TaskStatus.CANCELED);
                return false;
            }
            // A failover goes past a task whose coordinator's host is lost: the node must not wait for it.
            if (tasks.conflicting(
                            task.databaseUuid(),
                            task.instanceId(),
                            task.type().isDatabaseWide(),
                            task.taskId(),
                            task.type() == io.pgfleet.core.TaskType.FAILOVER)
                    .isPresent()) {
                return false; // its slot is busy; it stays due and is tried again
            }
            boolean won = tasks.compareAndSetStatus(task.taskId(), task.status(), TaskStatus.RUNNING);
            if (won) {
                fleet.stampClaim(task.taskId(), properties.hostId());
                taskEvent(task, "task.started", task.type().label() + " started", Map.of());
            }
            return won;
        });
        return Boolean.TRUE.equals(claimed);
    }

    private void execute(TaskRow task) {
        MDC.put("task", task.taskId().toString());
        long started = System.nanoTime();
        TaskContext ctx = new TaskContext(task, tasks::appendLog, healing.testPauseAtStep());
        String outcome = "failed";
        try {
            ctx.log(task.type().label() + " started");
            io.pgfleet.server.fleet.TaskScope.coordinate(task.taskId(), () -> {
                try {
                    stepRunner.run(ctx, workflows.plan(ctx));
                } catch (RuntimeException e) {
                    throw workflows.afterFailure(ctx, e);
                }
            });
            tx.executeWithoutResult(s -> {
                tasks.finish(task.taskId(), TaskStatus.COMPLETED, null);
                taskEvent(task, "task.completed", task.type().label() + " completed", Map.of());
            });
            ctx.log(task.type().label() + " completed in " + (System.nanoTime() - started) / 1_000_000 + " ms");
            outcome = "completed";
        } catch (PgfleetException e) {
            finishFailed(ctx, e.getMessage());
        } catch (RuntimeException | Error e) {
            // Catch everything: a task left 'running' would block its database with 409s until a restart.
            log.error(
                    "task {} ({} of {}) failed unexpectedly",
                    task.taskId(),
                    task.type().label(),
                    task.databaseId(),
                    e);
            finishFailed(ctx, "internal error: " + e.getMessage());
        } finally {
            Timer.builder("pgfleet.tasks")
                    .description("Task durations by type and outcome")
                    .tag("type", task.type().label())
                    .tag("outcome", outcome)
                    .register(meters)
                    .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            inFlight.remove(task.taskId());
            MDC.remove("task");
            wake();
        }
    }

    private void taskEvent(TaskRow task, String type, String message, Map<String, Object> fields) {
        Map<String, Object> all = new java.util.LinkedHashMap<>(fields);
        all.put("task_id", task.taskId().toString());
        all.put("task_type", task.type().label());
        events.record(task.tenantId(), task.databaseId(), task.databaseUuid(), task.instanceId(), type, message, all);
    }

    private void finishFailed(TaskContext ctx, String error) {
        try {
            ctx.log("failed: " + error);
        } finally {
            try {
                tx.executeWithoutResult(s -> {
                    tasks.finish(ctx.task().taskId(), TaskStatus.FAILED, error);
                    taskEvent(ctx.task(), "task.failed", ctx.task().type().label() + " failed: " + error, Map.of());
                });
            } catch (RuntimeException e) {
                // The catalog refused even this: the next start of pgfleet marks the task interrupted.
                log.error(
                        "task {}: could not record its failure ({}): {}",
                        ctx.task().taskId(),
                        error,
                        e.getMessage(),
                        e);
            }
        }
    }

    @Override
    public void stop() {
        running = false;
        if (dispatcher == null) {
            return;
        }
        dispatcher.interrupt();
        try {
            // Let the dispatcher finish handing over the task it claimed before the pool closes.
            dispatcher.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("tasks still running after 60 s at shutdown; they resume at the next start");
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stepRunner.close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
