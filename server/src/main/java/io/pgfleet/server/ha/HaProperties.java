package io.pgfleet.server.ha;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param failoverGrace how long a replicated node's primary may not answer (its host silent, or its
 *     Postgres failed and not restarted) before the fleet leader promotes a replica
 * @param failoverCheckInterval how often the leader looks at the primaries
 */
@ConfigurationProperties("pgfleet")
public record HaProperties(Duration failoverGrace, Duration failoverCheckInterval) {
    public HaProperties {
        failoverGrace = failoverGrace == null ? Duration.ofSeconds(3) : failoverGrace;
        failoverCheckInterval = failoverCheckInterval == null ? Duration.ofMillis(500) : failoverCheckInterval;
    }
}
