package io.pgfleet.server.tasks;

import io.pgfleet.core.InstanceState;
import io.pgfleet.server.agent.InstanceAgent;
import io.pgfleet.server.catalog.CatalogRows.DatabaseRow;
import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcDatabaseRepository;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import io.pgfleet.server.fleet.HostLossHandler;
import io.pgfleet.server.fleet.JdbcFleetRepository;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A host lost and returned. The leader declares a silent host {@code unreachable} and its instances
 * {@code unknown} (remembering what each was); the host itself, when its heartbeat finds it was
 * declared lost (or when it starts), looks at what really runs and settles each such instance at
 * {@code available}, {@code stopped} or {@code failed}.
 */
@Component
public class HostLoss implements HostLossHandler {
    private static final Logger log = LoggerFactory.getLogger(HostLoss.class);
    private final JdbcFleetRepository fleet;
    private final JdbcInstanceRepository instances;
    private final JdbcDatabaseRepository databases;
    private final InstanceStates states;
    private final InstanceAgent agent;
    private final InstanceRuntimes runtimes;
    private final TransactionTemplate tx;
    private final String hostId;
    private final Duration timeout;

    public HostLoss(
            JdbcFleetRepository fleet,
            JdbcInstanceRepository instances,
            JdbcDatabaseRepository databases,
            InstanceStates states,
            InstanceAgent agent,
            InstanceRuntimes runtimes,
            TransactionTemplate tx,
            PgfleetProperties properties,
            FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.instances = instances;
        this.databases = databases;
        this.states = states;
        this.agent = agent;
        this.runtimes = runtimes;
        this.tx = tx;
        this.hostId = properties.hostId();
        this.timeout = fleetProperties.hostTimeout();
    }

    /** The leader's round: silent hosts become unreachable, their instances unknown; fenced by the epoch. */
    @Override
    public void sweep(long epoch) {
        tx.executeWithoutResult(s -> {
            if (!fleet.holdsLease(hostId, epoch)) {
                return; // deposed meanwhile: the new leader decides
            }
            for (String lost : fleet.markSilentUnreachable(hostId, timeout, epoch)) {
                log.warn(
                        "host {}: no heartbeat for {} s; declared unreachable (leader {}, epoch {})",
                        lost,
                        timeout.toSeconds(),
                        hostId,
                        epoch);
            }
            for (String lost : fleet.unreachableHosts()) {
                for (InstanceRow instance : instances.byHost(lost)) {
                    markUnknown(lost, instance);
                }
            }
        });
    }

    private void markUnknown(String lost, InstanceRow instance) {
        InstanceState was = instance.state();
        if (was == InstanceState.UNKNOWN || !was.canMoveTo(InstanceState.UNKNOWN)) {
            return; // already unknown, or in the middle of an operation its task will finish or fail
        }
        Optional<DatabaseRow> db = databases.findByUuid(instance.databaseUuid());
        if (db.isEmpty()) {
            return;
        }
        fleet.setUnknownFrom(instance.id(), was.label());
        states.moveFrom(
                db.get(),
                instance.id(),
                was,
                InstanceState.UNKNOWN,
                "host " + lost + " is unreachable (no heartbeat for " + timeout.toSeconds() + " s)");
    }

    /** Whether the instance was made unknown by the leader and waits for its host to settle it. */
    public boolean awaitsSettling(InstanceRow instance) {
        return instance.state() == InstanceState.UNKNOWN
                && fleet.unknownFrom(instance.id()).isPresent();
    }

    /** This host is back (or starting): what really runs decides each lost instance's state. */
    @Override
    public void settle() {
        // Healthy first: a sweep that began earlier holds the host's row until it commits, so every
        // instance it marks is settled below, and a later sweep sees the host back.
        fleet.setState(hostId, "healthy");
        List<InstanceRow> lost =
                instances.byHost(hostId).stream().filter(this::awaitsSettling).toList();
        for (InstanceRow instance : lost) {
            Optional<DatabaseRow> db = databases.findByUuid(instance.databaseUuid());
            if (db.isEmpty()) {
                continue;
            }
            String was = fleet.unknownFrom(instance.id()).orElse("");
            boolean running = agent.isRunning(runtimes.of(db.get(), instance));
            InstanceState target;
            String reason = null;
            if (instance.needsRejoin() && !was.equals(InstanceState.STOPPED.label())) {
                // A failover happened while this host was away: the instance follows the new primary
                // through the restart policy's rejoin (stopped first if it runs), never as it was.
                target = InstanceState.FAILED;
                reason = "a failover of its node happened while host " + hostId + " was away; it rejoins";
            } else if (running && agent.answers(runtimes.of(db.get(), instance))) {
                target = InstanceState.AVAILABLE;
            } else if (!running && was.equals(InstanceState.STOPPED.label())) {
                target = InstanceState.STOPPED;
            } else {
                target = InstanceState.FAILED;
                reason = running
                        ? "running but not answering when host " + hostId + " came back"
                        : "not running when host " + hostId + " came back";
            }
            InstanceState to = target;
            String why = reason;
            tx.executeWithoutResult(s -> {
                fleet.setUnknownFrom(instance.id(), null);
                states.moveFrom(db.get(), instance.id(), InstanceState.UNKNOWN, to, why);
            });
            log.info(
                    "instance {} of {}: host {} is back; {} -> {}",
                    instance.nodeName(),
                    db.get().id(),
                    hostId,
                    was,
                    target.label());
        }
    }
}
