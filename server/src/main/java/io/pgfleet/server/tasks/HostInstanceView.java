package io.pgfleet.server.tasks;

import io.pgfleet.server.catalog.CatalogRows.InstanceRow;
import io.pgfleet.server.catalog.JdbcInstanceRepository;
import io.pgfleet.server.fleet.CatalogSignals;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * This host's instance rows kept in memory for a loop that looks at them every second ({@link
 * HealthMonitor}), so a quiet round costs no catalog query. They are read again when the catalog
 * notifies a change of one of them ({@link CatalogSignals#onInstanceChange}: a workflow's state change,
 * the leader marking them unknown, a row added or removed through any host's API), when the owner says
 * it changed one itself ({@link #markStale}), every {@value #FULL_READ_SECONDS} s whatever happens, and
 * on every call while the LISTEN connection is down. Used by one thread.
 */
final class HostInstanceView {
    /** The rows are read in full at least this often, even when no notification came. */
    static final int FULL_READ_SECONDS = 30;

    private final JdbcInstanceRepository instances;
    private final CatalogSignals signals;
    private final String hostId;
    private final AtomicBoolean stale = new AtomicBoolean(true);
    private List<InstanceRow> rows = List.of();
    private long readAt;

    HostInstanceView(JdbcInstanceRepository instances, CatalogSignals signals, String hostId) {
        this.instances = instances;
        this.signals = signals;
        this.hostId = hostId;
        signals.onInstanceChange(host -> {
            if (host == null || host.equals(hostId)) {
                stale.set(true);
            }
        });
    }

    /** The rows, read again first when they may be out of date; a failed read throws (and the next call reads). */
    List<InstanceRow> rows() {
        long now = System.nanoTime();
        // Cleared before the read: a change committed during it notifies again, so the next call reads again.
        boolean notified = stale.getAndSet(false);
        if (notified || !signals.isListening() || now - readAt >= TimeUnit.SECONDS.toNanos(FULL_READ_SECONDS)) {
            try {
                rows = instances.byHost(hostId);
            } catch (RuntimeException e) {
                stale.set(true);
                throw e;
            }
            readAt = now;
        }
        return rows;
    }

    /** The owner changed a row: the next call reads again, without waiting for the notification. */
    void markStale() {
        stale.set(true);
    }
}
