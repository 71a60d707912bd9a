package io.pgfleet.server.catalog;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgfleet.core.InstanceState;
import java.util.EnumMap;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * {@code pgfleet_instances{state=…}}: instances of this catalog by state. One grouped query serves
 * every gauge of a scrape; the counts are at most 5 s old.
 */
@Component
public class CatalogMetrics {
    private static final long MAX_AGE_NANOS = 5_000_000_000L;
    private final JdbcClient jdbc;
    private Map<InstanceState, Long> counts = new EnumMap<>(InstanceState.class);
    private long readAt;

    public CatalogMetrics(JdbcClient jdbc, MeterRegistry meters) {
        this.jdbc = jdbc;
        for (InstanceState state : InstanceState.values()) {
            Gauge.builder("pgfleet.instances", this, m -> m.count(state))
                    .description("Instances by state")
                    .tag("state", state.label())
                    .register(meters);
        }
    }

    private synchronized double count(InstanceState state) {
        if (readAt == 0 || System.nanoTime() - readAt > MAX_AGE_NANOS) {
            Map<InstanceState, Long> fresh = new EnumMap<>(InstanceState.class);
            jdbc.sql("select state, count(*) from instances group by state")
                    .query((rs, n) -> fresh.put(InstanceState.fromLabel(rs.getString(1)), rs.getLong(2)))
                    .list();
            counts = fresh;
            readAt = System.nanoTime();
        }
        return counts.getOrDefault(state, 0L);
    }
}
