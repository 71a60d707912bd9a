package io.pgfleet.server.tasks;

import io.pgfleet.core.HealPolicy;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.RestartPolicy;
import io.pgfleet.core.TaskRequest;
import io.pgfleet.core.TaskStatus;
import io.pgfleet.core.TaskType;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.agent.InstancePaths;
import io.pgfleet.server.agent.PoolerAgent;
import io.pgfleet.server.agent.PostmasterProbe;
import io.pgfleet.server.agent.Processes;
import io.pgfleet.server.agent.ServerLog;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.CatalogRows.TaskRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcTaskRepository;
import io.pgfleet.server.config.HealingProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import io.pgfleet.server.fleet.CatalogSignals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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
 * Watches every instance of this host, every {@code pgfleet.health-interval}. An instance that should
 * run ({@code available}) and whose postmaster is gone becomes {@code failed} with the end of its
 * server log; one whose directory cannot be read becomes {@code unknown}; a pooler that died is
 * started again. A {@code failed} instance whose spec says {@code restart_policy: always} gets a
 * {@code heal_instance} task, scheduled after an exponential backoff, until
 * {@code heal-max-failures} automatic restarts within {@code heal-window} have not kept it up; none is
 * scheduled while its storage cannot be written ({@link StorageMonitor}), since a restart cannot help then.
 *
 * <p>The monitor only observes: an instance a task is working on is left alone, and every change is
 * a compare-and-set from the state it saw, so it never overrules a workflow. The rows it looks at
 * are kept in memory ({@link HostInstanceView}): a quiet round costs no catalog query.
 */
@Component
public class HealthMonitor implements SmartLifecycle {
    static final String GAVE_UP = "restart policy gave up: ";
    private static final Logger log = LoggerFactory.getLogger(HealthMonitor.class);
    private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);
    private static final int NOT_ANSWERING_REPORT_AFTER = 3;
    /** Log sizes are looked at every this many rounds, not every round: a log grows slowly. */
    private static final int LOG_CHECK_EVERY_ROUNDS = 10;

    private final JdbcDatabaseRepository databases;
    private final JdbcInstanceRepository instances;
    private final JdbcTaskRepository tasks;
    private final JdbcEventRepository events;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final PoolerAgent poolers;
    private final InstanceRuntimes runtimes;
    private final HostLayout layout;
    private final PgfleetProperties properties;
    private final HealingProperties healing;
    private final TaskRunner runner;
    private final TransactionTemplate tx;
    private final HostLoss hostLoss;
    private final StorageMonitor storage;
    private final Map<String, Integer> silentRounds = new ConcurrentHashMap<>();
    private final Set<String> reportedSilent = ConcurrentHashMap.newKeySet();
    /** When each instance last answered a probe (System.nanoTime). */
    private final Map<String, Long> lastAnswer = new ConcurrentHashMap<>();
    /**
     * Postmasters a full check identified (pid file, process, start time), by instance: the next rounds
     * check them with one read of /proc/PID/stat, until that fails once.
     */
    private final Map<String, Postmaster> identified = new ConcurrentHashMap<>();

    private long rounds;
    private final HostInstanceView view;

    /** A postmaster as its pid and start time (clock ticks since boot): a recycled pid does not match. */
    private record Postmaster(long pid, long startTicks) {}

    private ScheduledExecutorService timer;

    public HealthMonitor(
            JdbcDatabaseRepository databases,
            JdbcInstanceRepository instances,
            JdbcTaskRepository tasks,
            JdbcEventRepository events,
            InstanceStates states,
            InstanceAgent agent,
            PoolerAgent poolers,
            InstanceRuntimes runtimes,
            HostLayout layout,
            PgfleetProperties properties,
            HealingProperties healing,
            TaskRunner runner,
            TransactionTemplate tx,
            HostLoss hostLoss,
            StorageMonitor storage,
            CatalogSignals signals) {
        this.view = new HostInstanceView(instances, signals, properties.hostId());
        this.hostLoss = hostLoss;
        this.storage = storage;
        this.databases = databases;
        this.instances = instances;
        this.tasks = tasks;
        this.events = events;
        this.states = states;
        this.agent = agent;
        this.poolers = poolers;
        this.runtimes = runtimes;
        this.layout = layout;
        this.properties = properties;
        this.healing = healing;
        this.runner = runner;
        this.tx = tx;
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-health");
            t.setDaemon(true);
            return t;
        });
        long every = healing.healthInterval().toMillis();
        // Fixed rate: a round that took a while (many instances) does not push the next one further out.
        timer.scheduleAtFixedRate(this::checkAll, every, every, TimeUnit.MILLISECONDS);
    }

    /** Runs after the task runner has recovered what a previous run left behind. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1;
    }

    /** One round over the host; a failure on one instance (or a catalog outage) is logged, the next round retries. */
    void checkAll() {
        List<InstanceRow> all;
        try {
            all = view.rows();
        } catch (RuntimeException e) {
            log.warn("health monitor: cannot read the catalog ({}); retrying", e.getMessage());
            return;
        }
        boolean rotateLogs = rounds++ % LOG_CHECK_EVERY_ROUNDS == 0;
        identified.keySet().retainAll(all.stream().map(InstanceRow::id).toList());
        for (InstanceRow instance : all) {
            try {
                check(instance, rotateLogs);
            } catch (RuntimeException e) {
                log.warn("instance {}: health check failed: {}", instance.nodeName(), e.getMessage(), e);
            }
        }
    }

    private void check(InstanceRow instance, boolean rotateLogs) {
        InstancePaths paths = new InstancePaths(layout.instanceDir(instance.id()));
        long maxLog = healing.logMaxSize().toBytes();
        if (rotateLogs
                && (ServerLog.rotateIfLarger(paths.logFile(), maxLog)
                        | ServerLog.rotateIfLarger(paths.pgbouncerDir().resolve("pgbouncer.log"), maxLog))) {
            log.info("instance {}: rotated a log larger than {} bytes", instance.id(), maxLog);
        }
        InstanceState state = instance.state();
        if (state != InstanceState.AVAILABLE && state != InstanceState.UNKNOWN && state != InstanceState.FAILED) {
            return;
        }
        // The common case costs no catalog query: observable, alive, answering, pooler (if any) alive.
        if (state == InstanceState.AVAILABLE
                && Files.isReadable(paths.data().resolve("PG_VERSION"))
                && isRunning(instance)
                && answeredLately(instance)
                && (instance.poolerPort() == null || poolers.isRunning(runtimes.observing(instance)))) {
            silentRounds.remove(instance.id());
            reportedSilent.remove(instance.id());
            return;
        }
        if (state == InstanceState.UNKNOWN && hostLoss.awaitsSettling(instance)) {
            return; // the fleet lost this host a while; HostLoss settles it from what it was
        }
        DatabaseRow db = databases.findByUuid(instance.databaseUuid()).orElse(null);
        if (db == null) {
            return;
        }
        if (instance.needsRejoin()
                && agent.isRunning(runtimes.of(db, instance))
                && tasks.conflicting(db.uuid(), instance.id(), false, null).isEmpty()) {
            // Demoted by a failover while this host was away: never let it serve as a second primary.
            log.warn("instance {} of {}: demoted by a failover but running; stopping it", instance.nodeName(), db.id());
            agent.stop(runtimes.of(db, instance));
        }
        if (state == InstanceState.FAILED) {
            heal(db, instance);
            return;
        }
        if (tasks.conflicting(db.uuid(), instance.id(), false, null).isPresent()) {
            return; // a task owns the instance now; its workflow decides its state
        }
        observe(db, instance, paths);
    }

    /**
     * Whether the instance's postmaster runs: one read of /proc/PID/stat for a postmaster identified
     * before; else the full check (pid file, process, its start time), whose answer is remembered.
     */
    private boolean isRunning(InstanceRow instance) {
        Postmaster known = identified.get(instance.id());
        if (known != null && Processes.isStillRunning(known.pid(), known.startTicks())) {
            return true;
        }
        identified.remove(instance.id());
        Optional<Long> pid = agent.runningPid(runtimes.observing(instance));
        if (pid.isEmpty()) {
            return false;
        }
        OptionalLong ticks = Processes.startTicks(pid.get());
        if (ticks.isPresent()) {
            identified.put(instance.id(), new Postmaster(pid.get(), ticks.getAsLong()));
        }
        return true;
    }

    /**
     * Whether the instance answered a probe within {@code probe-interval}, probing it when the last
     * answer is older. Liveness (the postmaster's pid) is checked every round; the probe, which makes
     * Postgres fork a backend, only this often.
     */
    private boolean answeredLately(InstanceRow instance) {
        Long last = lastAnswer.get(instance.id());
        long now = System.nanoTime();
        if (last != null && now - last < healing.probeInterval().toNanos()) {
            return true;
        }
        if (!PostmasterProbe.answers(instance.port(), PROBE_TIMEOUT)) {
            lastAnswer.remove(instance.id());
            return false;
        }
        lastAnswer.put(instance.id(), now);
        return true;
    }

    private void observe(DatabaseRow db, InstanceRow instance, InstancePaths paths) {
        String subject = "instance " + instance.nodeName() + " of " + db.id();
        String unobservable = unobservable(paths);
        if (unobservable != null) {
            if (states.moveFrom(db, instance.id(), instance.state(), InstanceState.UNKNOWN, unobservable)) {
                view.markStale();
                log.warn("{}: {}; its state is unknown", subject, unobservable);
            }
            return;
        }
        if (!agent.isRunning(runtimes.of(db, instance))) {
            List<String> logTail = ServerLog.tail(paths.logFile(), 20);
            // A full disk is the likely cause of a crash (a PANIC on WAL): probe now, so the status says so.
            String cause = storage.check(db, instance)
                    .map(f -> "; its storage cannot be written (" + f.message() + " in " + f.directory() + ")")
                    .orElse("");
            String reason = "the postmaster is not running (killed or crashed)" + cause + "; server log: "
                    + String.join(" | ", logTail.subList(Math.max(0, logTail.size() - 5), logTail.size()));
            if (states.moveFrom(db, instance.id(), instance.state(), InstanceState.FAILED, reason)) {
                view.markStale();
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        "instance.postmaster_died",
                        subject + ": the postmaster is gone",
                        Map.of("server_log", logTail));
                log.warn("{}: {}", subject, reason);
            }
            return;
        }
        if (!PostmasterProbe.answers(instance.port(), PROBE_TIMEOUT)) {
            int rounds = silentRounds.merge(instance.id(), 1, Integer::sum);
            if (rounds >= NOT_ANSWERING_REPORT_AFTER && reportedSilent.add(instance.id())) {
                // Alive but silent (overloaded, out of connections slots, stopped by SIGSTOP): reported, not restarted.
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        "instance.not_answering",
                        subject + ": the postmaster runs but has not answered on port " + instance.port() + " for "
                                + rounds + " checks",
                        Map.of("port", instance.port()));
                log.warn("{}: runs but does not answer on port {}", subject, instance.port());
            }
            return;
        }
        silentRounds.remove(instance.id());
        reportedSilent.remove(instance.id());
        if (instance.state() == InstanceState.UNKNOWN
                && states.moveFrom(db, instance.id(), InstanceState.UNKNOWN, InstanceState.AVAILABLE, null)) {
            view.markStale();
            log.info("{}: observable again and answering", subject);
        }
        if (instance.state() == InstanceState.AVAILABLE
                && db.spec().hasPooler()
                && instance.poolerPort() != null
                && !poolers.isRunning(runtimes.of(db, instance))) {
            restartPooler(db, instance, subject);
        }
    }

    /** Why the instance cannot be observed, or null when its data directory is there and readable. */
    private static String unobservable(InstancePaths paths) {
        if (!Files.isDirectory(paths.dir())) {
            return "its directory " + paths.dir() + " is missing";
        }
        Path version = paths.data().resolve("PG_VERSION");
        if (!Files.isReadable(version)) {
            return "its data directory " + paths.data() + " is missing or unreadable";
        }
        return null;
    }

    private void restartPooler(DatabaseRow db, InstanceRow instance, String subject) {
        Path poolerLog = new InstancePaths(layout.instanceDir(instance.id()))
                .pgbouncerDir()
                .resolve("pgbouncer.log");
        List<String> logTail = ServerLog.tail(poolerLog, 10);
        log.warn("{}: its PgBouncer is not running; starting it again", subject);
        String outcome;
        try {
            poolers.start(runtimes.of(db, instance), db.spec());
            outcome = "restarted";
        } catch (RuntimeException e) {
            outcome = "could not be restarted: " + e.getMessage();
            log.error("{}: PgBouncer {}", subject, outcome);
        }
        events.record(
                db.tenantId(),
                db.id(),
                db.uuid(),
                instance.id(),
                "pooler.restarted",
                subject + ": PgBouncer on port " + instance.poolerPort() + " had died; " + outcome,
                Map.of("pooler_port", instance.poolerPort(), "pooler_log", logTail, "outcome", outcome));
    }

    /**
     * restart_policy {@code always}: schedules the next automatic restart after the backoff, or gives
     * up when the recent ones did not keep the instance up. A task of any other type (a user's start,
     * stop …) ends the streak, so a person who intervenes gets a fresh budget.
     */
    private void heal(DatabaseRow db, InstanceRow instance) {
        boolean gaveUp = instance.error() != null && instance.error().startsWith(GAVE_UP);
        if (db.spec().effectiveRestartPolicy() != RestartPolicy.ALWAYS || db.suspended() || gaveUp) {
            return; // decided without a catalog query
        }
        if (storage.isUnwritable(instance.id())) {
            return; // a restart cannot help while its disk is full; it resumes once the storage is writable
        }
        List<TaskRow> recent =
                tasks.recentForInstance(instance.id(), Instant.now().minus(healing.healWindow()));
        int count = 0;
        while (count < recent.size() && recent.get(count).type() == TaskType.HEAL_INSTANCE) {
            count++;
        }
        HealPolicy.Decision decision = healing.healPolicy()
                .decide(new HealPolicy.Facts(
                        db.spec().effectiveRestartPolicy(),
                        db.suspended(),
                        gaveUp,
                        tasks.hasActive(db.uuid(), instance.id()),
                        count));
        if (decision instanceof HealPolicy.Leave) {
            return;
        }
        int streak = count;
        String subject = "instance " + instance.nodeName() + " of " + db.id();
        if (decision instanceof HealPolicy.GiveUp) {
            String reason = GAVE_UP + streak + " automatic restarts within "
                    + healing.healWindow().toMinutes()
                    + " min did not keep it running; start it when the cause is fixed; last error: " + instance.error();
            view.markStale();
            tx.executeWithoutResult(s -> {
                instances.setError(instance.id(), reason);
                tasks.appendLog(recent.get(0).taskId(), reason, Map.of("node", instance.nodeName()));
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        "instance.restart_gave_up",
                        subject + ": " + reason,
                        Map.of("attempts", streak));
            });
            log.error("{}: {}", subject, reason);
            return;
        }
        if (!(decision instanceof HealPolicy.RestartAfter restart)) {
            throw new AssertionError("unknown heal decision " + decision);
        }
        Duration wait = restart.backoff();
        Instant at = Instant.now().plus(wait);
        TaskRow task = new TaskRow(
                UUID.randomUUID(),
                db.tenantId(),
                db.id(),
                db.uuid(),
                instance.id(),
                TaskType.HEAL_INSTANCE,
                TaskStatus.SCHEDULED,
                new TaskRequest.HealInstance(streak + 1, String.valueOf(instance.error())),
                at,
                Instant.now(),
                null,
                null,
                null);
        tx.executeWithoutResult(s -> {
            tasks.insert(task);
            tasks.appendLog(
                    task.taskId(),
                    "restart_policy always: automatic restart " + (streak + 1) + " of at most "
                            + healing.healMaxFailures() + ", in " + wait.toMillis() + " ms; it failed: "
                            + instance.error(),
                    Map.of("node", instance.nodeName(), "attempt", streak + 1, "backoff_ms", wait.toMillis()));
        });
        log.info("{}: failed; automatic restart {} scheduled in {} ms", subject, streak + 1, wait.toMillis());
        runner.wake();
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
    }

    @Override
    public boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }
}
