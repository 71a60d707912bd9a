package io.pgfleet.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.ha.ReplicationStatus;
import io.pgfleet.server.ha.ReplicationStatus.ReplicaLag;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * How far each streaming replica is behind, as its primary's {@code pg_stat_replication} says, read every
 * {@code pgfleet.metrics-interval} by the host of the primary (so each replica is reported once in the
 * fleet): {@code pgfleet_replica_lag_bytes{database,node,instance}} (WAL not yet replayed) and {@code
 * pgfleet_replica_lag_seconds{database,node,instance}} (replay_lag; 0 when idle). A replica that does not
 * stream drops out of the figures (alert on its absence, or on {@code pgfleet_databases{state="degraded"}}).
 */
@Component
public class ReplicaLagMetrics implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(ReplicaLagMetrics.class);

    private final JdbcInstanceRepository instances;
    private final JdbcDatabaseRepository databases;
    private final ReplicationStatus status;
    private final PgfleetProperties properties;
    private final Duration interval;
    private final GaugeRows bytes;
    private final GaugeRows seconds;
    private ScheduledExecutorService timer;

    public ReplicaLagMetrics(
            JdbcInstanceRepository instances,
            JdbcDatabaseRepository databases,
            ReplicationStatus status,
            PgfleetProperties properties,
            MeterRegistry meters,
            @Value("${pgfleet.metrics-interval:5s}") Duration interval) {
        this.instances = instances;
        this.databases = databases;
        this.status = status;
        this.properties = properties;
        this.interval = interval;
        this.bytes = new GaugeRows(MultiGauge.builder("pgfleet.replica.lag.bytes")
                .description("WAL a streaming replica has not replayed yet, as its primary sees it")
                .baseUnit("bytes")
                .register(meters));
        this.seconds = new GaugeRows(MultiGauge.builder("pgfleet.replica.lag.seconds")
                .description("How long a streaming replica's replay trails its primary (replay_lag; 0 when idle)")
                .baseUnit("seconds")
                .register(meters));
    }

    /** Reads the replicas of every primary on this host once and replaces the rows of both gauges. */
    public void refresh() {
        Map<Tags, Double> byteRows = new HashMap<>();
        Map<Tags, Double> secondRows = new HashMap<>();
        // One catalog query per round, not one per instance of the host: most nodes have no replica.
        Map<List<Object>, List<InstanceRow>> nodes = new LinkedHashMap<>();
        for (InstanceRow row : instances.ofReplicatedNodesWithPrimaryOn(properties.hostId())) {
            nodes.computeIfAbsent(List.of(row.databaseUuid(), row.nodeName()), k -> new ArrayList<>())
                    .add(row);
        }
        for (List<InstanceRow> node : nodes.values()) {
            DatabaseRow db = databases.findByUuid(node.get(0).databaseUuid()).orElse(null);
            if (db == null) {
                continue;
            }
            Map<String, ReplicaLag> lags = status.of(node);
            for (InstanceRow replica : node) {
                ReplicaLag lag = lags.get(replica.id());
                if (lag == null) {
                    continue;
                }
                Tags tags = Tags.of("database", db.id(), "node", replica.nodeName(), "instance", replica.id());
                if (lag.lagBytes() != null) {
                    byteRows.put(tags, lag.lagBytes().doubleValue());
                }
                if (lag.lagSeconds() != null) {
                    secondRows.put(tags, lag.lagSeconds());
                }
            }
        }
        bytes.publish(byteRows);
        seconds.publish(secondRows);
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // The catalog may be restarting: the previous figures stay until the next round.
            log.warn("replica lag metrics: not refreshed: {}", e.getMessage());
        }
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-replica-lag-metrics");
            t.setDaemon(true);
            return t;
        });
        long every = interval.toMillis();
        timer.scheduleWithFixedDelay(this::refreshQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    @Override
    public boolean isRunning() {
        return timer != null;
    }
}
