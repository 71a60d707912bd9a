package io.pgfleet.server.fleet;

import io.pgfleet.server.config.PgfleetProperties;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * LISTEN pgfleet_work on the catalog: a trigger notifies on every new task or task part and on every
 * status change, so a host wakes when another host's API accepts work for it. LISTEN pgfleet_instances
 * too: a trigger names the host of every instance row inserted, changed or deleted, so a host that keeps
 * its instance rows in memory knows when to read them again. While the connection is down the
 * listeners fall back to their slow poll; {@link #isListening} tells them which applies, and when it
 * comes back every listener is called once (anything may have changed meanwhile).
 */
@Component
public class CatalogSignals implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(CatalogSignals.class);
    private final DataSource dataSource;
    private final boolean migrateOnly;
    private static final String WORK = "pgfleet_work";
    private static final String INSTANCES = "pgfleet_instances";
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> instanceListeners = new CopyOnWriteArrayList<>();
    private final Object generationLock = new Object();
    private long generation;
    private volatile boolean listening;
    private volatile boolean running;
    private Thread thread;

    public CatalogSignals(DataSource dataSource, PgfleetProperties properties) {
        this.dataSource = dataSource;
        this.migrateOnly = properties.migrateOnly();
    }

    /** Runs {@code wake} (quickly, on the listener thread) on each notification. */
    public void onWork(Runnable wake) {
        listeners.add(wake);
    }

    /**
     * Runs {@code changed} (quickly, on the listener thread) with the host id of each instance row that
     * changed, or with null when the connection (re)started and any row may have changed unseen.
     */
    public void onInstanceChange(Consumer<String> changed) {
        instanceListeners.add(changed);
    }

    public boolean isListening() {
        return listening;
    }

    /** Waits until the next notification or {@code millis}, whichever comes first. */
    public void awaitSignal(long millis) throws InterruptedException {
        synchronized (generationLock) {
            long seen = generation;
            long deadline = System.currentTimeMillis() + millis;
            while (generation == seen) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return;
                }
                generationLock.wait(left);
            }
        }
    }

    @Override
    public void start() {
        if (migrateOnly) {
            return;
        }
        running = true;
        thread = new Thread(this::loop, "pgfleet-catalog-listen");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        boolean reported = false;
        while (running) {
            try (Connection c = dataSource.getConnection()) {
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + WORK);
                    st.execute("LISTEN " + INSTANCES);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                // Before listening says so: a reader of instance rows must not trust its view in between.
                instanceListeners.forEach(l -> l.accept(null));
                listening = true;
                if (reported) {
                    log.info("catalog: listening for work again");
                    reported = false;
                }
                signal(); // anything written while we were not listening
                while (running) {
                    PGNotification[] notes = pg.getNotifications(5000);
                    if (notes != null && notes.length > 0) {
                        dispatch(notes);
                    } else {
                        // No notification: a cheap round trip tells a dead connection from a quiet one.
                        try (Statement st = c.createStatement()) {
                            st.execute("select 1");
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (!running) {
                    return;
                }
                if (!reported) {
                    log.warn("catalog: LISTEN connection lost ({}); polling until it is back", e.getMessage());
                    reported = true;
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void dispatch(PGNotification[] notes) {
        boolean work = false;
        for (PGNotification note : notes) {
            if (INSTANCES.equals(note.getName())) {
                String host = note.getParameter();
                instanceListeners.forEach(l -> l.accept(host));
            } else {
                work = true;
            }
        }
        if (work) {
            signal();
        }
    }

    private void signal() {
        synchronized (generationLock) {
            generation++;
            generationLock.notifyAll();
        }
        listeners.forEach(Runnable::run);
    }

    @Override
    public void stop() {
        running = false;
        listening = false;
        if (thread != null) {
            thread.interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
