package io.pgfleet.server.fleet;

import io.pgfleet.server.config.FleetProperties;
import io.pgfleet.server.config.PgfleetProperties;
import java.time.Duration;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The fleet's leader lease: one row in the catalog (holder, epoch, expiry). Every host tries each
 * heartbeat; the holder renews, an expired lease goes to whoever asks first with the epoch bumped.
 * Decisions are written with {@link JdbcFleetRepository#holdsLease} in the same transaction, so a
 * leader that was paused past its lease (and replaced) cannot write one.
 */
@Component
public class LeaderLease {
    private static final Logger log = LoggerFactory.getLogger(LeaderLease.class);
    private final JdbcFleetRepository fleet;
    private final String hostId;
    private final Duration lease;
    private volatile long epoch = -1;
    private volatile long reachableSinceNanos = -1;

    public LeaderLease(JdbcFleetRepository fleet, PgfleetProperties properties, FleetProperties fleetProperties) {
        this.fleet = fleet;
        this.hostId = properties.hostId();
        this.lease = fleetProperties.leaseDuration();
    }

    /** One round: renew or take the lease; the epoch held, or empty when another host leads. */
    OptionalLong tick() {
        var held = fleet.acquireOrRenew(hostId, lease);
        if (held.isPresent()) {
            if (held.get() != epoch) {
                log.info("host {}: leader of the fleet (epoch {})", hostId, held.get());
            }
            epoch = held.get();
            return OptionalLong.of(epoch);
        }
        if (epoch != -1) {
            log.info("host {}: no longer the leader", hostId);
        }
        epoch = -1;
        return OptionalLong.empty();
    }

    /** The catalog answered this round: the clock of "how long have I seen the catalog" keeps running. */
    void catalogReachable() {
        if (reachableSinceNanos < 0) {
            reachableSinceNanos = System.nanoTime();
        }
    }

    /** The catalog did not answer: what the leader saw before is stale. */
    void catalogLost() {
        reachableSinceNanos = -1;
        epoch = -1;
    }

    /**
     * Whether this host has seen the catalog long enough to judge heartbeats: after an outage (its own
     * or the catalog's) every host's last heartbeat is old, and nothing may be decided on that.
     */
    boolean mayJudge(Duration hostTimeout) {
        return reachableSinceNanos >= 0 && System.nanoTime() - reachableSinceNanos >= hostTimeout.toNanos();
    }

    public boolean isLeader() {
        return epoch >= 0;
    }

    /** The epoch this host holds the lease with, or -1: written with a fenced decision (a failover). */
    public long epoch() {
        return epoch;
    }
}
