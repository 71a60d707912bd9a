package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Transactions per second and client connections of the instances someone is looking at, for the
 * console's small charts. Kept cheap on purpose: only instances of this host whose samples were asked
 * for in the last {@link #WATCH} are sampled, every {@link #INTERVAL} with one short query, and only
 * the last {@link #KEPT} samples are held in memory (10 minutes); nothing is written anywhere.
 */
@Component
public class ActivitySampler implements SmartLifecycle {
    public static final Duration INTERVAL = Duration.ofSeconds(5);
    static final Duration WATCH = Duration.ofMinutes(2);
    static final int KEPT = 120;
    private static final Logger log = LoggerFactory.getLogger(ActivitySampler.class);
    private static final String QUERY = "select (select sum(xact_commit + xact_rollback) from pg_stat_database),"
            + " (select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"
            + " and application_name <> '" + RoleDriftMonitor.APPLICATION_NAME + "')";

    private final JdbcInstanceRepository instances;
    private final InstanceAgent agent;
    private final PgfleetProperties properties;
    private final InstanceRuntimes runtimes;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, Series> watched = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    /** One point of a chart; {@code tps} is null for the first sample (no earlier counter to compare). */
    public record Sample(Instant at, Double tps, long connections) {}

    private static final class Series {
        final ArrayDeque<Sample> samples = new ArrayDeque<>();
        volatile Instant watchedAt;
        long lastTransactions = -1;
        long lastNanos;

        Series(Instant watchedAt) {
            this.watchedAt = watchedAt;
        }
    }

    public ActivitySampler(
            JdbcInstanceRepository instances,
            InstanceAgent agent,
            PgfleetProperties properties,
            InstanceRuntimes runtimes) {
        this.instances = instances;
        this.runtimes = runtimes;
        this.agent = agent;
        this.properties = properties;
    }

    /** The samples kept for {@code instance}; asking makes it watched, so sampling starts or goes on. */
    public List<Sample> samples(InstanceRow instance) {
        Series series = watched.computeIfAbsent(instance.id(), id -> new Series(clock.instant()));
        series.watchedAt = clock.instant();
        synchronized (series) {
            return List.copyOf(series.samples);
        }
    }

    void sampleAll() {
        Instant now = clock.instant();
        watched.entrySet().removeIf(e -> e.getValue().watchedAt.isBefore(now.minus(WATCH)));
        for (Map.Entry<String, Series> entry : watched.entrySet()) {
            InstanceRow instance = instances.find(entry.getKey()).orElse(null);
            if (instance == null) {
                watched.remove(entry.getKey());
                continue;
            }
            if (!instance.hostId().equals(properties.hostId()) || instance.state() != InstanceState.AVAILABLE) {
                continue;
            }
            try {
                sample(instance, entry.getValue());
            } catch (SQLException | RuntimeException e) {
                // A stopping or restarting instance cannot answer; the chart shows a gap, the next round retries.
                log.debug("instance {}: activity sample failed: {}", instance.nodeName(), e.getMessage());
            }
        }
    }

    private void sample(InstanceRow instance, Series series) throws SQLException {
        long transactions;
        long connections;
        try (Connection c = agent.connect(runtimes.of("", instance), "postgres");
                Statement s = c.createStatement()) {
            s.setQueryTimeout(2);
            try (ResultSet rs = s.executeQuery(QUERY)) {
                rs.next();
                transactions = rs.getLong(1);
                connections = rs.getLong(2);
            }
        }
        long nanos = System.nanoTime();
        synchronized (series) {
            Double tps = null;
            if (series.lastTransactions >= 0 && transactions >= series.lastTransactions) {
                double seconds = (nanos - series.lastNanos) / 1e9;
                tps = Math.round((transactions - series.lastTransactions) / seconds * 10) / 10.0;
            }
            series.lastTransactions = transactions;
            series.lastNanos = nanos;
            series.samples.addLast(new Sample(clock.instant(), tps, connections));
            while (series.samples.size() > KEPT) {
                series.samples.removeFirst();
            }
        }
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-sampler");
            t.setDaemon(true);
            return t;
        });
        long every = INTERVAL.toMillis();
        timer.scheduleWithFixedDelay(this::sampleAll, 1000, every, TimeUnit.MILLISECONDS);
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
