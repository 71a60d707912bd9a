package io.pgfleet.server.catalog;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Restarts the embedded catalog's Postgres when it dies. Meanwhile the API answers 503
 * {@code catalog_unavailable} ({@link CatalogFailures}); the pool reconnects by itself once the
 * catalog is back, so pgfleet itself never needs a restart. Does nothing with an external catalog.
 */
public final class CatalogWatchdog implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(CatalogWatchdog.class);
    private final EmbeddedCatalog catalog;
    private final Duration interval;
    private ScheduledExecutorService timer;
    private final java.util.concurrent.atomic.AtomicInteger failedRestarts =
            new java.util.concurrent.atomic.AtomicInteger();

    CatalogWatchdog(EmbeddedCatalog catalog, Duration interval) {
        this.catalog = catalog;
        this.interval = interval;
    }

    @Override
    public void start() {
        if (catalog == null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgfleet-catalog-watchdog");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            if (!catalog.isRunning()) {
                catalog.restart();
            }
        } catch (RuntimeException e) {
            failedRestarts.incrementAndGet();
            // Retried at the next tick; an operator must look if this repeats.
            log.error("catalog: could not restart its Postgres: {}", e.getMessage(), e);
        }
    }

    /** Restarts that failed (and were retried at the next tick) since pgfleet started. */
    public int failedRestarts() {
        return failedRestarts.get();
    }

    /** Stops before the catalog does, so a shutdown is not mistaken for a crash. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 1;
    }

    @Override
    public void stop() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(70, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return timer != null && !timer.isShutdown();
    }
}
