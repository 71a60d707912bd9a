package io.pgfleet.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgfleet.core.DatabaseState;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Fleet-wide figures from the catalog: {@code pgfleet_databases{state}}, {@code
 * pgfleet_heal_restarts_total{outcome}}, {@code pgfleet_heal_give_ups_total}, {@code
 * pgfleet_task_queue_depth}, {@code pgfleet_task_queue_oldest_age_seconds} and {@code
 * pgfleet_tasks_running}. One set of grouped queries serves a whole scrape; the figures are at most 5 s
 * old. The counters count rows that are never deleted (heal tasks, give-up events), so they only grow.
 */
@Component
public class FleetMetrics {
    private static final long MAX_AGE_NANOS = 5_000_000_000L;
    private static final String GAVE_UP = "instance.restart_gave_up";

    /** One reading of the catalog. */
    private record Snapshot(
            Map<String, Long> databases,
            Map<String, Long> heals,
            long gaveUp,
            long queued,
            double oldestQueuedSeconds,
            long running) {}

    private final JdbcClient jdbc;
    private Snapshot snapshot;
    private long readAt;

    public FleetMetrics(JdbcClient jdbc, MeterRegistry meters) {
        this.jdbc = jdbc;
        for (DatabaseState state : DatabaseState.values()) {
            String label = state.name().toLowerCase(Locale.ROOT);
            Gauge.builder("pgfleet.databases", this, m -> m.read().databases().getOrDefault(label, 0L))
                    .description("Databases by state")
                    .tag("state", label)
                    .register(meters);
        }
        for (String outcome : new String[] {"completed", "failed"}) {
            FunctionCounter.builder(
                            "pgfleet.heal.restarts", this, m -> m.read().heals().getOrDefault(outcome, 0L))
                    .description("Automatic restarts of failed instances (heal_instance tasks) by outcome")
                    .tag("outcome", outcome)
                    .register(meters);
        }
        FunctionCounter.builder("pgfleet.heal.give.ups", this, m -> m.read().gaveUp())
                .description("Times pgfleet gave up restarting a failed instance (restart policy limit reached)")
                .register(meters);
        Gauge.builder("pgfleet.task.queue.depth", this, m -> m.read().queued())
                .description("Tasks due to run and not started yet (pending, or scheduled for a past time)")
                .register(meters);
        Gauge.builder("pgfleet.task.queue.oldest.age", this, m -> m.read().oldestQueuedSeconds())
                .description("How long the oldest task due to run has waited; 0 when none waits")
                .baseUnit("seconds")
                .register(meters);
        Gauge.builder("pgfleet.tasks.running", this, m -> m.read().running())
                .description("Tasks running now")
                .register(meters);
    }

    private synchronized Snapshot read() {
        if (snapshot != null && System.nanoTime() - readAt < MAX_AGE_NANOS) {
            return snapshot;
        }
        Map<String, Long> databases = new HashMap<>();
        jdbc.sql("select state, count(*) from databases group by state")
                .query((rs, n) -> databases.put(rs.getString(1), rs.getLong(2)))
                .list();
        Map<String, Long> heals = new HashMap<>();
        jdbc.sql("select status, count(*) from tasks where type = 'heal_instance'"
                        + " and status in ('completed', 'failed') group by status")
                .query((rs, n) -> heals.put(rs.getString(1), rs.getLong(2)))
                .list();
        long gaveUp = jdbc.sql("select count(*) from events where type = ?")
                .param(GAVE_UP)
                .query(Long.class)
                .single();
        Instant now = Instant.now();
        long[] queue = new long[2];
        double[] oldest = new double[1];
        jdbc.sql("""
                        select count(*) filter (where status in ('pending', 'scheduled')
                                                and coalesce(scheduled_at, created_at) <= now()),
                               extract(epoch from now() - min(coalesce(scheduled_at, created_at))
                                       filter (where status in ('pending', 'scheduled')
                                               and coalesce(scheduled_at, created_at) <= now())),
                               count(*) filter (where status = 'running')
                        from tasks where status in ('pending', 'scheduled', 'running')""").query(rs -> {
            queue[0] = rs.getLong(1);
            oldest[0] = rs.getObject(2) == null ? 0 : Math.max(0, rs.getDouble(2));
            queue[1] = rs.getLong(3);
        });
        snapshot = new Snapshot(databases, heals, gaveUp, queue[0], oldest[0], queue[1]);
        readAt = System.nanoTime();
        return snapshot;
    }
}
