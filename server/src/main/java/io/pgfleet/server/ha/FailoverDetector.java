package io.pgfleet.server.ha;

import io.pgfleet.core.InstanceState;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.LeaderLease;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The leader's watch over replicated nodes. A primary is lost when it has not answered for
 * {@code pgfleet.failover-grace} and either its host is silent as long (no heartbeat) or its host
 * reports it failed or unknown (the restart policy did not bring it back). Then the leader records a
 * failover fenced with its epoch. A primary stopped on purpose (stopping, stopped, restarting) is
 * never failed over.
 */
@Component
public class FailoverDetector implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(FailoverDetector.class);
    private static final Set<InstanceState> WATCHED =
            EnumSet.of(InstanceState.AVAILABLE, InstanceState.FAILED, InstanceState.UNKNOWN);
    private final HaRepository repo;
    private final JdbcDatabaseRepository databases;
    private final Replication replication;
    private final io.pgfleet.server.fleet.JdbcFleetRepository fleet;
    private final HaOperations operations;
    private final LeaderLease lease;
    private final PgfleetProperties properties;
    private final HaProperties ha;
    private final Map<String, Long> silentSince = new ConcurrentHashMap<>();
    /** Primaries lost with no replica to promote, said once each (until one answers again). */
    private final Set<String> noCandidate = ConcurrentHashMap.newKeySet();

    private ScheduledExecutorService timer;

    public FailoverDetector(
            HaRepository repo,
            JdbcDatabaseRepository databases,
            Replication replication,
            io.pgfleet.server.fleet.JdbcFleetRepository fleet,
            HaOperations operations,
            LeaderLease lease,
            PgfleetProperties properties,
            HaProperties ha) {
        this.repo = repo;
        this.databases = databases;
        this.replication = replication;
        this.fleet = fleet;
        this.operations = operations;
        this.lease = lease;
        this.properties = properties;
        this.ha = ha;
    }

    @Override
    public void start() {
        if (properties.migrateOnly()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-failover");
            t.setDaemon(true);
            return t;
        });
        long every = ha.failoverCheckInterval().toMillis();
        timer.scheduleWithFixedDelay(this::round, every, every, TimeUnit.MILLISECONDS);
    }

    void round() {
        try {
            long epoch = lease.epoch();
            if (!lease.isLeader() || epoch < 0) {
                silentSince.clear();
                return;
            }
            List<InstanceRow> primaries = repo.replicatedPrimaries();
            Set<String> seen = new HashSet<>();
            for (InstanceRow primary : primaries) {
                seen.add(primary.id());
                check(primary, epoch);
            }
            silentSince.keySet().retainAll(seen);
            noCandidate.retainAll(seen);
        } catch (RuntimeException e) {
            // The catalog may be down: nothing is decided then; the next round looks again.
            log.warn("failover watch: {}; retrying", e.getMessage());
        }
    }

    private void check(InstanceRow primary, long epoch) {
        if (!WATCHED.contains(primary.state())) {
            silentSince.remove(primary.id());
            return; // stopped or restarted on purpose, or a task works on it
        }
        Boolean writable = replication.isWritable(primary, Duration.ofSeconds(1));
        if (Boolean.TRUE.equals(writable)) {
            silentSince.remove(primary.id());
            noCandidate.remove(primary.id());
            return;
        }
        long now = System.nanoTime();
        long since = silentSince.computeIfAbsent(primary.id(), id -> now);
        long silentMs = (now - since) / 1_000_000;
        boolean hostSilent = hostSilentFor(primary.hostId(), ha.failoverGrace());
        boolean reportedDown = primary.state() != InstanceState.AVAILABLE;
        if (silentMs < ha.failoverGrace().toMillis() || !(hostSilent || reportedDown)) {
            return;
        }
        DatabaseRow db = databases.findByUuid(primary.databaseUuid()).orElse(null);
        if (db == null || db.suspended()) {
            return;
        }
        String why = "the primary on " + primary.hostId() + " has not answered for " + silentMs + " ms and "
                + (hostSilent
                        ? "its host is silent"
                        : "its host reports it " + primary.state().label());
        HaOperations.AutomaticFailover outcome =
                operations.automaticFailover(db, primary, properties.hostId(), epoch, why);
        if (outcome == HaOperations.AutomaticFailover.RECORDED) {
            log.warn(
                    "node {} of {}: {}; failing over (leader {}, epoch {})",
                    primary.nodeName(),
                    db.id(),
                    why,
                    properties.hostId(),
                    epoch);
            silentSince.remove(primary.id());
            noCandidate.remove(primary.id());
        } else if (outcome == HaOperations.AutomaticFailover.NO_CANDIDATE && noCandidate.add(primary.id())) {
            log.error(
                    "node {} of {}: {}, but no replica of it is available to be promoted; the node has no"
                            + " primary until one is (or the old primary returns)",
                    primary.nodeName(),
                    db.id(),
                    why);
        }
    }

    /** Whether a host's heartbeat is older than {@code grace} (or it is declared unreachable). */
    private boolean hostSilentFor(String host, Duration grace) {
        if (host.equals(properties.hostId())) {
            return false;
        }
        return fleet.host(host)
                .map(h -> "unreachable".equals(h.state()) || h.millisSinceSeen() > grace.toMillis())
                .orElse(true);
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
