package io.pgfleet.server.fleet;

import java.time.Instant;
import java.util.List;

/**
 * A host as the catalog knows it. {@code state} is what is stored ({@code healthy}, {@code degraded},
 * {@code unreachable}); {@link #observedState} also calls a host unreachable whose heartbeat is older
 * than the timeout, even before the leader has said so.
 */
public record HostRecord(
        String hostId,
        String advertiseHost,
        String apiUrl,
        int portRangeFirst,
        int portRangeLast,
        List<String> postgresVersions,
        Integer cores,
        Long memoryBytes,
        Integer maxInstances,
        String state,
        String problem,
        boolean draining,
        Instant createdAt,
        Instant startedAt,
        Instant lastSeenAt,
        long millisSinceSeen,
        int instances) {

    public HostRecord {
        postgresVersions = postgresVersions == null ? List.of() : List.copyOf(postgresVersions);
    }

    public String observedState(java.time.Duration timeout) {
        if ("unreachable".equals(state) || millisSinceSeen > timeout.toMillis()) {
            return "unreachable";
        }
        return problem != null ? "degraded" : "healthy";
    }

    public boolean isReachable(java.time.Duration timeout) {
        return !"unreachable".equals(observedState(timeout));
    }
}
