package io.pgfleet.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.pgfleet.core.InstanceState;
import io.pgfleet.server.agent.PoolerFigures;
import io.pgfleet.server.agent.PoolerFigures.Figures;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.PgfleetProperties;
import java.time.Duration;
import java.util.HashMap;
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
 * Per-instance pooler figures of this host, read from each PgBouncer's {@code SHOW POOLS} every
 * {@code pgfleet.metrics-interval} (default 5 s): {@code pgfleet_pooler_clients{database,node,state}}
 * (active, waiting), {@code pgfleet_pooler_servers{database,node,state}} (active, idle, used) and
 * {@code pgfleet_pooler_max_wait_seconds{database,node}}. A pooler that does not answer drops out of
 * the figures until it does (the health monitor restarts it); it is logged at debug level, since the
 * health monitor already reports it.
 */
@Component
public class PoolerMetrics implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(PoolerMetrics.class);

    private final JdbcInstanceRepository instances;
    private final JdbcDatabaseRepository databases;
    private final PoolerFigures figures;
    private final io.pgfleet.server.tasks.InstanceRuntimes runtimes;
    private final PgfleetProperties properties;
    private final Duration interval;
    private final GaugeRows clients;
    private final GaugeRows servers;
    private final GaugeRows maxWait;
    private ScheduledExecutorService timer;

    public PoolerMetrics(
            JdbcInstanceRepository instances,
            JdbcDatabaseRepository databases,
            PoolerFigures figures,
            io.pgfleet.server.tasks.InstanceRuntimes runtimes,
            PgfleetProperties properties,
            MeterRegistry meters,
            @Value("${pgfleet.metrics-interval:5s}") Duration interval) {
        this.instances = instances;
        this.databases = databases;
        this.figures = figures;
        this.runtimes = runtimes;
        this.properties = properties;
        this.interval = interval;
        this.clients = new GaugeRows(MultiGauge.builder("pgfleet.pooler.clients")
                .description("Client connections of an instance's PgBouncer, by state (active, waiting)")
                .register(meters));
        this.servers = new GaugeRows(MultiGauge.builder("pgfleet.pooler.servers")
                .description("Server connections of an instance's PgBouncer, by state (active, idle, used)")
                .register(meters));
        this.maxWait = new GaugeRows(MultiGauge.builder("pgfleet.pooler.max.wait")
                .description("Longest wait of a client of an instance's PgBouncer for a server connection")
                .baseUnit("seconds")
                .register(meters));
    }

    /** Reads every pooler of this host once and replaces the rows of the three gauges. */
    public void refresh() {
        Map<Tags, Number> clientRows = new HashMap<>();
        Map<Tags, Number> serverRows = new HashMap<>();
        Map<Tags, Number> waitRows = new HashMap<>();
        for (InstanceRow instance : instances.byHost(properties.hostId())) {
            if (instance.poolerPort() == null || instance.state() != InstanceState.AVAILABLE) {
                continue;
            }
            DatabaseRow db = databases.findByUuid(instance.databaseUuid()).orElse(null);
            if (db == null || !db.spec().hasPooler()) {
                continue;
            }
            Figures f;
            try {
                f = figures.read(runtimes.of(db, instance), db.spec().databaseName());
            } catch (RuntimeException e) {
                log.debug("pooler of instance {} of {}: no figures: {}", instance.nodeName(), db.id(), e.getMessage());
                continue;
            }
            Tags tags = Tags.of("database", db.id(), "node", instance.nodeName());
            clientRows.put(tags.and("state", "active"), f.clientsActive());
            clientRows.put(tags.and("state", "waiting"), f.clientsWaiting());
            serverRows.put(tags.and("state", "active"), f.serversActive());
            serverRows.put(tags.and("state", "idle"), f.serversIdle());
            serverRows.put(tags.and("state", "used"), f.serversUsed());
            waitRows.put(tags, f.maxWaitSeconds());
        }
        clients.publish(clientRows);
        servers.publish(serverRows);
        maxWait.publish(waitRows);
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // The catalog may be restarting: the previous figures stay until the next round.
            log.warn("pooler metrics: not refreshed: {}", e.getMessage());
        }
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-pooler-metrics");
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
