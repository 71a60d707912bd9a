package io.pgfleet.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A client that inserts one row at a time through a node's primary URL (JDBC, {@code
 * targetServerType=primary}), reconnecting after an error, and records each acknowledged row with when
 * and by which server it was acknowledged: what a switchover or failover looks like from an application.
 */
final class BenchWriter extends Thread {
    /** One acknowledged insert: the row's id, when ({@link System#nanoTime()}) and the server's address. */
    record Ack(long id, long nanos, String server) {}

    final List<Ack> acked = new CopyOnWriteArrayList<>();
    final AtomicLong errors = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<Ack> last = new AtomicReference<>();
    private final Supplier<String> url;
    private final String user;
    private final String password;
    private final long pauseMillis;
    private long next;

    BenchWriter(Supplier<String> url, String user, String password, long firstId, long pauseMillis) {
        super("bench-writer");
        this.url = url;
        this.user = user;
        this.password = password;
        this.next = firstId;
        this.pauseMillis = pauseMillis;
        setDaemon(true);
    }

    static Connection connect(String url, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "10");
        props.setProperty("loginTimeout", "10");
        return DriverManager.getConnection(url, props);
    }

    @Override
    public void run() {
        Connection c = null;
        while (running.get()) {
            try {
                if (c == null) {
                    c = connect(url.get(), user, password);
                }
                String server;
                try (PreparedStatement ps =
                        c.prepareStatement("insert into t values (?) returning inet_server_addr()::text")) {
                    ps.setLong(1, next);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        server = rs.getString(1);
                    }
                }
                Ack ack = new Ack(next, System.nanoTime(), server);
                acked.add(ack);
                last.set(ack);
                next++;
                Thread.sleep(pauseMillis);
            } catch (SQLException e) {
                next++; // unknown outcome: never counted as acknowledged
                errors.incrementAndGet();
                close(c);
                c = null;
                pause(20);
            } catch (InterruptedException e) {
                break;
            }
        }
        close(c);
    }

    private static void close(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException gone) {
            // the connection is gone anyway
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The last acknowledged insert, or null. */
    Ack last() {
        return last.get();
    }

    /** The first acknowledgement after {@code nanos} by a server other than {@code notServer}, or null. */
    Ack firstAfter(long nanos, String notServer) {
        for (Ack ack : acked) {
            if (ack.nanos() > nanos && !ack.server().startsWith(notServer)) {
                return ack;
            }
        }
        return null;
    }

    /** The longest gap between two consecutive acknowledgements within [from, to] (nanoTime), in ms. */
    long longestGapMillis(long from, long to) {
        long gap = 0;
        Ack previous = null;
        for (Ack ack : acked) {
            if (ack.nanos() < from) {
                previous = ack;
                continue;
            }
            if (ack.nanos() > to) {
                if (previous != null) {
                    gap = Math.max(gap, ack.nanos() - previous.nanos());
                }
                break;
            }
            if (previous != null) {
                gap = Math.max(gap, ack.nanos() - previous.nanos());
            }
            previous = ack;
        }
        return gap / 1_000_000;
    }

    void stopAndJoin() throws InterruptedException {
        running.set(false);
        join(30_000);
    }

    /** How many acknowledged rows are missing from {@code t} on the server {@code url} reaches. */
    long missing(String url) throws SQLException {
        Set<Long> present = new HashSet<>();
        try (Connection c = connect(url, user, password);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select id from t")) {
            while (rs.next()) {
                present.add(rs.getLong(1));
            }
        }
        return acked.stream().filter(a -> !present.contains(a.id())).count();
    }
}
