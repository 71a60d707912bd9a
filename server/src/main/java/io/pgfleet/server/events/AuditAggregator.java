package io.pgfleet.server.events;

import io.pgfleet.server.events.JdbcAuditRepository.AuditRow;
import java.time.Clock;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Audits refused calls (401, 403) in aggregate: one row per caller (its key id, else its address),
 * status and minute, carrying the first call's details, the {@code count} and the last call's time. A
 * refusal only counts in memory, so a flood of bad keys costs no catalog write on the request path;
 * every second (and before the audit is read, and at shutdown) new buckets are inserted and counts
 * written. The number of callers tracked per minute is bounded; beyond it refusals of that minute and
 * status share one bucket, so a flood from many addresses cannot exhaust memory either.
 */
@Component
public class AuditAggregator implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(AuditAggregator.class);
    static final int MAX_CALLERS_PER_MINUTE = 10_000;
    private static final long FLUSH_MILLIS = 1000;

    /** Who was refused, how, in which minute: the identity of one aggregate row. */
    record Bucket(long minute, int status, String caller, String tenantId) {}

    /** A bucket's first call and its count; {@code auditId} is 0 until its row is inserted. */
    private static final class Pending {
        final AuditRow first;
        final AtomicLong count = new AtomicLong();
        volatile Instant lastAt;
        long auditId;
        long written;

        Pending(AuditRow first) {
            this.first = first;
            this.lastAt = first.at();
        }
    }

    private final JdbcAuditRepository audit;
    private final Clock clock;
    private final Map<Bucket, Pending> buckets = new ConcurrentHashMap<>();
    private ScheduledExecutorService timer;

    public AuditAggregator(JdbcAuditRepository audit) {
        this.audit = audit;
        this.clock = Clock.systemUTC();
    }

    /** Counts one refused call; its row appears within a second (at once for a reader of the audit). */
    public void refused(AuditRow call) {
        Instant now = clock.instant();
        long minute = now.getEpochSecond() / 60;
        String caller = call.keyId() != null ? "key " + call.keyId() : "address " + call.client();
        Bucket bucket = new Bucket(minute, call.status(), caller, call.tenantId());
        if (buckets.size() >= MAX_CALLERS_PER_MINUTE && !buckets.containsKey(bucket)) {
            bucket = new Bucket(minute, call.status(), "many callers", null);
            call = new AuditRow(
                    0,
                    null,
                    null,
                    null,
                    call.method(),
                    call.path(),
                    call.action(),
                    call.target(),
                    call.outcome(),
                    call.status(),
                    call.requestId(),
                    "many callers",
                    "more than " + MAX_CALLERS_PER_MINUTE + " refused callers this minute; counted together");
        }
        AuditRow first = withTime(call, now);
        Pending pending = buckets.computeIfAbsent(bucket, b -> new Pending(first));
        pending.count.incrementAndGet();
        pending.lastAt = now;
    }

    /**
     * Writes what was counted since the last flush. Synchronized: the timer and a reader of the audit
     * may both call it. A bucket of a past minute is dropped once its row holds its whole count.
     */
    public synchronized void flush() {
        long currentMinute = clock.instant().getEpochSecond() / 60;
        for (Iterator<Map.Entry<Bucket, Pending>> it = buckets.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Bucket, Pending> entry = it.next();
            Pending p = entry.getValue();
            long count = p.count.get();
            if (p.auditId == 0) {
                p.auditId = audit.insertAggregate(withCount(p.first, count, p.lastAt));
                p.written = count;
            } else if (count > p.written) {
                audit.updateAggregate(p.auditId, count, p.lastAt);
                p.written = count;
            }
            if (entry.getKey().minute() < currentMinute && p.count.get() == p.written) {
                it.remove();
            }
        }
    }

    /** How many refused calls wait to be written (for tests and metrics). */
    public long pending() {
        return buckets.values().stream()
                .mapToLong(p -> p.count.get() - p.written)
                .sum();
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            // Kept in memory and written on the next tick: the catalog may be restarting.
            log.warn("audit: {} refused calls not written yet: {}", pending(), e.getMessage());
        }
    }

    private static AuditRow withTime(AuditRow r, Instant at) {
        return new AuditRow(
                r.auditId(),
                at,
                r.keyId(),
                r.tenantId(),
                r.method(),
                r.path(),
                r.action(),
                r.target(),
                r.outcome(),
                r.status(),
                r.requestId(),
                r.client(),
                r.detail(),
                1,
                at);
    }

    private static AuditRow withCount(AuditRow r, long count, Instant lastAt) {
        return new AuditRow(
                r.auditId(),
                r.at(),
                r.keyId(),
                r.tenantId(),
                r.method(),
                r.path(),
                r.action(),
                r.target(),
                r.outcome(),
                r.status(),
                r.requestId(),
                r.client(),
                r.detail(),
                count,
                lastAt);
    }

    @Override
    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-audit-flush");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::flushQuietly, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
        flushQuietly();
    }

    @Override
    public boolean isRunning() {
        return timer != null;
    }

    /**
     * Higher phases stop first: this one stops after the web server (DEFAULT_PHASE - 2048), so the last
     * refusals are counted before the final flush, and before the catalog's pool closes (a bean destroy).
     */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }
}
