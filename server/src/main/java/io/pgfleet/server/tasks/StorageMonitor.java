package io.pgfleet.server.tasks;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.InstanceState;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.InstancePaths;
import io.pgfleet.server.agent.StorageProbe;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.catalog.JdbcStorageRepository;
import io.pgfleet.server.catalog.JdbcStorageRepository.StorageProblemRow;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.config.StorageProperties;
import io.pgfleet.server.events.JdbcEventRepository;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A full disk is a state: every {@code pgfleet.storage-check-interval} each instance of this host has its
 * data and log directories write-probed ({@link StorageProbe}), one probe per file system and round shared
 * by the instances on it (each probed on its own when that one fails). When one cannot be written, the
 * catalog records it (the instance's {@code storage} in the API, for every host of the fleet to see) with
 * one {@code instance.storage_unwritable} event; when it can again, the record goes with one
 * {@code instance.storage_writable} event. The health monitor probes at once when it finds a postmaster
 * dead, and holds the restart policy back while the storage cannot be written: restarting cannot help
 * then, and the instance's status says why it stays down.
 */
@Component
public class StorageMonitor implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(StorageMonitor.class);

    private final JdbcInstanceRepository instances;
    private final JdbcDatabaseRepository databases;
    private final JdbcStorageRepository storage;
    private final JdbcEventRepository events;
    private final TransactionTemplate tx;
    private final HostLayout layout;
    private final PgfleetProperties properties;
    private final Duration interval;
    private final long minFreeBytes;
    /** This host's instances whose last probe failed: what the health monitor asks without any I/O. */
    private final Set<String> unwritable = ConcurrentHashMap.newKeySet();

    private ScheduledExecutorService timer;
    private static final Duration ON_DEMAND_WAIT = Duration.ofSeconds(2);
    private final ExecutorService onDemand = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pgfleet-storage-probe");
        t.setDaemon(true);
        return t;
    });

    public StorageMonitor(
            JdbcInstanceRepository instances,
            JdbcDatabaseRepository databases,
            JdbcStorageRepository storage,
            JdbcEventRepository events,
            TransactionTemplate tx,
            HostLayout layout,
            PgfleetProperties properties,
            StorageProperties storageProperties) {
        this.instances = instances;
        this.databases = databases;
        this.storage = storage;
        this.events = events;
        this.tx = tx;
        this.layout = layout;
        this.properties = properties;
        this.interval = storageProperties.storageCheckInterval();
        this.minFreeBytes = storageProperties.storageMinFree().toBytes();
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-storage");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::checkAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * One round over this host's instances; a failure (a catalog outage, one instance's event) is logged and
     * the round goes on, the next one retries.
     */
    void checkAll() {
        Map<String, StorageProblemRow> recorded;
        List<InstanceRow> all;
        try {
            recorded = storage.byHost(properties.hostId()).stream()
                    .collect(Collectors.toMap(StorageProblemRow::instanceId, Function.identity()));
            all = instances.byHost(properties.hostId());
        } catch (RuntimeException e) {
            log.warn(
                    "storage monitor: cannot read the catalog ({}); retrying in {} ms",
                    e.getMessage(),
                    interval.toMillis());
            return;
        }
        Map<Object, Optional<StorageProbe.Finding>> byFileSystem = new HashMap<>();
        for (InstanceRow instance : all) {
            if (!isProbed(instance)) {
                continue;
            }
            try {
                Optional<StorageProbe.Finding> finding = StorageProbe.probe(
                        new InstancePaths(layout.instanceDir(instance.id())), minFreeBytes, byFileSystem);
                record(instance, recorded.get(instance.id()), null, finding);
            } catch (RuntimeException e) {
                log.warn("instance {}: storage check failed: {}", instance.id(), e.getMessage(), e);
            }
        }
    }

    /** A task may be making or removing the instance's files: a probe file must not be in its way. */
    private static boolean isProbed(InstanceRow instance) {
        return instance.state() != InstanceState.CREATING && instance.state() != InstanceState.DELETING;
    }

    /** Whether the last probe of this host's instance failed (no I/O: for the health monitor's every round). */
    public boolean isUnwritable(String instanceId) {
        return unwritable.contains(instanceId);
    }

    /** Probes the instance now and records what changed; what it found wrong, if anything. */
    public Optional<StorageProbe.Finding> check(DatabaseRow db, InstanceRow instance) {
        Optional<StorageProbe.Finding> finding = probeWithin(instance);
        return record(instance, storage.find(instance.id()).orElse(null), db, finding);
    }

    private Optional<StorageProbe.Finding> probe(InstanceRow instance) {
        return StorageProbe.probe(new InstancePaths(layout.instanceDir(instance.id())), minFreeBytes);
    }

    /**
     * A probe for a caller that must not hang with a hung file system (the health monitor, a request
     * holding a database's row lock): one that has not finished within {@link #ON_DEMAND_WAIT} counts as
     * unwritable. Its thread is left to finish or hang on its own.
     */
    private Optional<StorageProbe.Finding> probeWithin(InstanceRow instance) {
        Future<Optional<StorageProbe.Finding>> probing = onDemand.submit(() -> probe(instance));
        try {
            return probing.get(ON_DEMAND_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Optional.of(new StorageProbe.Finding(
                    "io_error",
                    "the write probe did not finish within " + ON_DEMAND_WAIT.toMillis() + " ms",
                    new InstancePaths(layout.instanceDir(instance.id())).data()));
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing the storage of " + instance.id(), e);
        }
    }

    /**
     * Refuses (409 {@code storage_unwritable}) an update of {@code db} when one of the instances it would
     * write to cannot write its directories: this host's are probed now, another host's are taken from
     * what that host recorded. Nothing has been touched yet, so the catalog stays on the old spec.
     */
    public void refuseIfUnwritable(DatabaseRow db, List<InstanceRow> touched, Predicate<String> isLocalHost) {
        for (InstanceRow instance : touched) {
            Optional<String> problem = isLocalHost.test(instance.hostId())
                    ? probeWithin(instance).map(f -> describe(f.directory(), f.message()))
                    : storage.find(instance.id()).map(r -> describe(Path.of(r.directory()), r.message()));
            if (problem.isPresent()) {
                throw new PgfleetException(
                        ErrorCode.STORAGE_UNWRITABLE,
                        "instance " + instance.nodeName() + " of " + db.id() + " cannot write its " + problem.get()
                                + "; the update would fail writing its configuration, so nothing was changed:"
                                + " free space there (or make it writable) and retry");
            }
        }
    }

    private static String describe(Path directory, String message) {
        return (directory.endsWith("log") ? "log" : "data") + " directory (" + message + ")";
    }

    /** Records what a probe found when it differs from what was recorded; returns the finding. */
    private synchronized Optional<StorageProbe.Finding> record(
            InstanceRow instance,
            StorageProblemRow recorded,
            DatabaseRow knownDb,
            Optional<StorageProbe.Finding> finding) {
        if (finding.isPresent()) {
            unwritable.add(instance.id());
            StorageProbe.Finding f = finding.get();
            if (recorded == null || !recorded.problem().equals(f.problem())) {
                DatabaseRow db = knownDb != null
                        ? knownDb
                        : databases.findByUuid(instance.databaseUuid()).orElse(null);
                if (db != null) {
                    started(db, instance, f);
                }
            }
        } else {
            unwritable.remove(instance.id());
            if (recorded != null) {
                DatabaseRow db = knownDb != null
                        ? knownDb
                        : databases.findByUuid(instance.databaseUuid()).orElse(null);
                if (db != null) {
                    cleared(db, instance);
                }
            }
        }
        return finding;
    }

    private void started(DatabaseRow db, InstanceRow instance, StorageProbe.Finding f) {
        String subject = "instance " + instance.nodeName() + " of " + db.id();
        String what = subject + ": cannot write its " + describe(f.directory(), f.message());
        boolean isNew = Boolean.TRUE.equals(tx.execute(s -> {
            boolean fresh = storage.record(
                    instance.id(), f.problem(), f.message(), f.directory().toString());
            if (fresh) {
                events.record(
                        db.tenantId(),
                        db.id(),
                        db.uuid(),
                        instance.id(),
                        "instance.storage_unwritable",
                        what,
                        Map.of(
                                "problem",
                                f.problem(),
                                "message",
                                f.message(),
                                "directory",
                                f.directory().toString()));
            }
            return fresh;
        }));
        if (isNew) {
            // A person must act: free space, grow the volume, remount read-write.
            log.error("{} ({}); Postgres cannot write there until it is fixed", what, f.directory());
        }
    }

    private void cleared(DatabaseRow db, InstanceRow instance) {
        String subject = "instance " + instance.nodeName() + " of " + db.id();
        tx.executeWithoutResult(s -> storage.clear(instance.id()).ifPresent(was -> {
            long seconds = Duration.between(was.since(), Instant.now()).toSeconds();
            events.record(
                    db.tenantId(),
                    db.id(),
                    db.uuid(),
                    instance.id(),
                    "instance.storage_writable",
                    subject + ": its storage can be written again (was " + was.message() + " for " + seconds + " s)",
                    Map.of("problem_was", was.problem(), "seconds", seconds));
            log.info("{}: its storage can be written again after {} s ({})", subject, seconds, was.message());
        }));
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
        onDemand.shutdownNow();
    }

    @Override
    public boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }
}
