package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
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
    private final Workflows workflows;
    private final TransactionTemplate tx;
    private final PgfleetProperties properties;
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
            Workflows workflows,
            TransactionTemplate tx,
            PgfleetProperties properties) {
        this.tasks = tasks;
        this.databases = databases;
        this.instances = instances;
        this.states = states;
        this.agent = agent;
        this.workflows = workflows;
        this.tx = tx;
        this.properties = properties;
    }

    /** Called after a task is committed, so it starts without waiting for the next poll. */
    public void wake() {
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
     * Tasks that were running when pgfleet stopped are failed with that reason, and their instances
     * are set to what the host shows (self-healing proper is a later capability).
     */
    private void recoverInterrupted() {
        for (TaskRow task : tasks.withStatus(TaskStatus.RUNNING)) {
            tx.executeWithoutResult(s -> tasks.finish(
                    task.taskId(), TaskStatus.FAILED, "interrupted: pgfleet stopped while this task ran; retry it"));
            log.warn(
                    "task {} ({} of {}) was interrupted by a pgfleet restart; marked failed",
                    task.taskId(),
                    task.type().label(),
                    task.databaseId());
            Optional<DatabaseRow> db = databases.findByUuid(task.databaseUuid());
            if (db.isEmpty()) {
                continue;
            }
            for (InstanceRow instance : instances.byDatabase(task.databaseUuid())) {
                if (instance.state().isStable()) {
                    continue;
                }
                boolean up = agent.isRunning(instance, db.get().id());
                InstanceState target = instance.state() == InstanceState.STOPPING && !up
                        ? InstanceState.STOPPED
                        : up && instance.state().canMoveTo(InstanceState.AVAILABLE)
                                ? InstanceState.AVAILABLE
                                : instance.state().canMoveTo(InstanceState.FAILED)
                                        ? InstanceState.FAILED
                                        : InstanceState.ERROR;
                states.move(
                        db.get(),
                        instance.id(),
                        target,
                        target == InstanceState.AVAILABLE || target == InstanceState.STOPPED
                                ? null
                                : "interrupted by a pgfleet restart");
            }
        }
    }

    private void dispatchLoop() {
        while (running) {
            try {
                for (TaskRow task : tasks.due(50)) {
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
        long waitMs = IDLE_POLL.toMillis();
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
        Boolean claimed = tx.execute(s -> {
            Optional<DatabaseRow> db = databases.lockByUuid(task.databaseUuid());
            if (db.isEmpty()) {
                tasks.compareAndSetStatus(task.taskId(), task.status(), TaskStatus.CANCELED);
                return false;
            }
            if (tasks.conflicting(
                            task.databaseUuid(), task.instanceId(), task.type().isDatabaseWide(), task.taskId())
                    .isPresent()) {
                return false; // its slot is busy; it stays due and is tried again
            }
            return tasks.compareAndSetStatus(task.taskId(), task.status(), TaskStatus.RUNNING);
        });
        return Boolean.TRUE.equals(claimed);
    }

    private void execute(TaskRow task) {
        MDC.put("task", task.taskId().toString());
        long started = System.nanoTime();
        TaskContext ctx = new TaskContext(task, tasks);
        try {
            ctx.log(task.type().label() + " started");
            workflows.run(ctx);
            tasks.finish(task.taskId(), TaskStatus.COMPLETED, null);
            ctx.log(task.type().label() + " completed in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        } catch (PgfleetException e) {
            finishFailed(ctx, e.getMessage());
        } catch (RuntimeException e) {
            log.error(
                    "task {} ({} of {}) failed unexpectedly",
                    task.taskId(),
                    task.type().label(),
                    task.databaseId(),
                    e);
            finishFailed(ctx, "internal error: " + e.getMessage());
        } finally {
            inFlight.remove(task.taskId());
            MDC.remove("task");
            wake();
        }
    }

    private void finishFailed(TaskContext ctx, String error) {
        try {
            ctx.log("failed: " + error);
        } finally {
            tasks.finish(ctx.task().taskId(), TaskStatus.FAILED, error);
        }
    }

    @Override
    public void stop() {
        running = false;
        if (dispatcher == null) {
            return;
        }
        dispatcher.interrupt();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("tasks still running after 60 s at shutdown; they will be marked interrupted at next start");
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
