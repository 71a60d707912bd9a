package io.pgfleet.server.fleet;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.PortRange;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.catalog.CatalogFailures;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.JdbcFleetRepository.Registration;
import io.pgfleet.server.security.SecretBox;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * This host in the fleet: checks it holds the fleet's secret key, registers (address, API URL, port
 * range, versions, capacity), then every {@code pgfleet.heartbeat-interval} sends one heartbeat (a
 * single UPDATE) and takes its turn at the leader lease; the leader declares silent hosts lost.
 * Runs after the web server started, so the API URL carries the real port.
 */
@Component
public class HostRegistry implements SmartLifecycle {
    /** Before the health monitor and the task runner: they must not act before the key is checked. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 2;
    }

    private static final Logger log = LoggerFactory.getLogger(HostRegistry.class);
    private final JdbcFleetRepository fleet;
    private final LeaderLease lease;
    private final HostLossHandler loss;
    private final SecretBox secrets;
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final PgfleetProperties properties;
    private final FleetProperties fleetProperties;
    private final Environment environment;
    private ScheduledExecutorService timer;
    private volatile boolean catalogDown;
    private volatile boolean running;

    public HostRegistry(
            JdbcFleetRepository fleet,
            LeaderLease lease,
            HostLossHandler loss,
            SecretBox secrets,
            HostLayout layout,
            PostgresDistribution distribution,
            PgfleetProperties properties,
            FleetProperties fleetProperties,
            Environment environment) {
        this.fleet = fleet;
        this.lease = lease;
        this.loss = loss;
        this.secrets = secrets;
        this.layout = layout;
        this.distribution = distribution;
        this.properties = properties;
        this.fleetProperties = fleetProperties;
        this.environment = environment;
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        checkFleetKey();
        fleet.register(registration());
        loss.settle();
        log.info("host {}: registered at {} ({})", properties.hostId(), apiUrl(), properties.advertiseHost());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = fleetProperties.heartbeatInterval().toMillis();
        timer.scheduleWithFixedDelay(this::round, every, every, TimeUnit.MILLISECONDS);
        running = true;
    }

    /**
     * Every host of a fleet decrypts what any other encrypted (users' and instances' passwords), so all
     * must hold the same {@code secrets/secret.key}. The first host records the key's fingerprint.
     */
    private void checkFleetKey() {
        String mine = secrets.fingerprint();
        String fleets = fleet.fleetFingerprint(mine, properties.hostId());
        if (!fleets.equals(mine)) {
            throw new PgfleetException(
                    ErrorCode.BAD_REQUEST,
                    "host " + properties.hostId() + ": " + layout.secretsDir().resolve("secret.key")
                            + " is not the fleet's key (fingerprint " + mine + ", the fleet's is " + fleets
                            + "); copy secrets/secret.key (and admin.key) from a host of the fleet into "
                            + layout.secretsDir() + " and start again");
        }
    }

    private void round() {
        try {
            Optional<String> state = fleet.heartbeat(properties.hostId(), problem());
            if (catalogDown) {
                log.info("host {}: the catalog answers again; heartbeats resumed", properties.hostId());
                catalogDown = false;
            }
            lease.catalogReachable();
            if (state.isEmpty()) {
                fleet.register(registration()); // removed while running: register again
            } else if ("unreachable".equals(state.get())) {
                log.warn(
                        "host {}: the fleet declared this host unreachable; settling its instances",
                        properties.hostId());
                loss.settle();
            }
            OptionalLong epoch = lease.tick();
            if (epoch.isPresent() && lease.mayJudge(fleetProperties.hostTimeout())) {
                loss.sweep(epoch.getAsLong());
            }
        } catch (RuntimeException e) {
            lease.catalogLost();
            if (CatalogFailures.isUnavailable(e)) {
                if (!catalogDown) {
                    log.warn(
                            "host {}: the catalog is unavailable ({}); running instances keep running, retrying",
                            properties.hostId(),
                            e.getMessage());
                    catalogDown = true;
                }
                return;
            }
            // The timer must keep beating: a bug here is logged and the next round tries again.
            log.error("host {}: heartbeat round failed: {}", properties.hostId(), e.getMessage(), e);
        }
    }

    /** Something of this host's own that fails (degraded): a home with under 2 % or 512 MiB free. */
    private String problem() {
        try {
            FileStore store = Files.getFileStore(layout.home());
            long free = store.getUsableSpace();
            long total = store.getTotalSpace();
            if (total > 0 && (free * 50 < total || free < 512L << 20)) {
                return "home " + layout.home() + " has " + (free >> 20) + " MiB free of " + (total >> 20) + " MiB";
            }
            return null;
        } catch (IOException e) {
            return "home " + layout.home() + " cannot be examined: " + e.getMessage();
        }
    }

    Registration registration() {
        PortRange range = PortRange.parse(properties.portRange());
        long memory = 0;
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            memory = os.getTotalMemorySize();
        }
        return new Registration(
                properties.hostId(),
                properties.advertiseHost(),
                apiUrl(),
                range.first(),
                range.last(),
                new ArrayList<>(distribution.versions()),
                Runtime.getRuntime().availableProcessors(),
                memory,
                fleetProperties.maxInstances());
    }

    /** Where other hosts reach this API: --api-url, else the bound address (or the advertised one). */
    public String apiUrl() {
        if (fleetProperties.apiUrl() != null) {
            return fleetProperties.apiUrl();
        }
        String port = environment.getProperty("local.server.port", environment.getProperty("server.port", "3000"));
        String bind = environment.getProperty("server.address", "127.0.0.1");
        String host = List.of("0.0.0.0", "::", "").contains(bind) ? properties.advertiseHost() : bind;
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public void stop() {
        running = false;
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
