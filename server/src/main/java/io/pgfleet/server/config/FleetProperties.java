package io.pgfleet.server.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The settings of a fleet of hosts ({@code pgfleet.*}, beside {@link PgfleetProperties}); the README's
 * fleet section lists them.
 *
 * @param hostTimeout a host without a heartbeat for this long is {@code unreachable}
 * @param heartbeatInterval how often a host reports itself (one UPDATE of its row)
 * @param leaseDuration how long the leader's lease lasts without a renewal
 * @param apiUrl the URL other hosts reach this host's API at; null means http://BIND:PORT, or
 *     http://ADVERTISE-HOST:PORT when the API listens on every address
 * @param maxInstances the instances this host accepts (its capacity for placement)
 * @param workPoll how often a host looks for work when LISTEN/NOTIFY is not available (the fallback)
 */
@ConfigurationProperties("pgfleet")
public record FleetProperties(
        Duration hostTimeout,
        Duration heartbeatInterval,
        Duration leaseDuration,
        String apiUrl,
        int maxInstances,
        Duration workPoll) {

    public FleetProperties {
        hostTimeout = hostTimeout == null ? Duration.ofSeconds(5) : hostTimeout;
        heartbeatInterval = heartbeatInterval == null ? Duration.ofSeconds(1) : heartbeatInterval;
        leaseDuration = leaseDuration == null ? Duration.ofSeconds(3) : leaseDuration;
        apiUrl = apiUrl == null || apiUrl.isBlank() ? null : apiUrl.replaceAll("/+$", "");
        maxInstances = maxInstances <= 0 ? 100 : maxInstances;
        workPoll = workPoll == null ? Duration.ofSeconds(5) : workPoll;
    }
}
