package io.pgfleet.server.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * {@code pgfleet_instances_storage_unwritable}: the fleet's instances whose data or log directory their
 * host's last write probe could not write (a full disk, a read-only mount). Alert on anything above 0.
 */
@Component
public class StorageMetrics {
    public StorageMetrics(JdbcClient jdbc, MeterRegistry meters) {
        // The table holds one row per instance with a problem, usually none: a count per scrape is cheap.
        Gauge.builder(
                        "pgfleet.instances.storage.unwritable",
                        jdbc,
                        j -> j.sql("select count(*) from instance_storage")
                                .query(Long.class)
                                .single())
                .description("Instances whose data or log directory cannot be written (full disk, read-only mount)")
                .register(meters);
    }
}
