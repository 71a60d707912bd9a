package io.pgfleet.server.agent;

import io.pgfleet.core.ErrorCode;
import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.core.ServerParameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The {@code pg_settings} of a PostgreSQL version this host runs, before any instance of it exists: what
 * a create's {@code postgresql_conf} is checked against (name, type, range, enum values, unit), as an
 * update's is against a running instance. Read once per version from a throwaway server pgfleet starts
 * for it (initdb, start on a free loopback port, read, stop, delete), then kept in memory.
 */
@Component
public class VersionSettings {
    private static final Logger log = LoggerFactory.getLogger(VersionSettings.class);
    private final HostLayout layout;
    private final PostgresDistribution distribution;
    private final Map<String, Map<String, ServerParameter>> known = new ConcurrentHashMap<>();

    public VersionSettings(HostLayout layout, PostgresDistribution distribution) {
        this.layout = layout;
        this.distribution = distribution;
    }

    /** The settings of {@code version}, read on first use. */
    public Map<String, ServerParameter> of(String version) {
        Map<String, ServerParameter> settings = known.get(version);
        if (settings != null) {
            return settings;
        }
        synchronized (this) {
            return known.computeIfAbsent(version, this::readFromThrowawayServer);
        }
    }

    private Map<String, ServerParameter> readFromThrowawayServer(String version) {
        long started = System.nanoTime();
        Path dir = layout.distDir()
                .resolve("settings-" + version + "-"
                        + UUID.randomUUID().toString().substring(0, 8));
        // Any unprivileged account will do: the server holds no one's data and is gone in a moment.
        OsAccount account = layout.catalogAccount(true);
        PostgresServer server = new PostgresServer(
                account,
                distribution.binDir(version),
                new InstancePaths(dir),
                "settings probe of PostgreSQL " + version);
        Secret password = Secret.generate();
        try {
            server.initDataDirectory(password);
            int port = freePort();
            server.writeConfiguration(port, "127.0.0.1", Map.of("max_connections", "5", "fsync", "off"));
            server.launch();
            try {
                server.awaitReady(port, password, Duration.ofSeconds(60));
                Map<String, ServerParameter> settings = read(port, password);
                log.info(
                        "PostgreSQL {}: {} settings read in {} ms",
                        version,
                        settings.size(),
                        (System.nanoTime() - started) / 1_000_000);
                return Map.copyOf(settings);
            } finally {
                server.stop(Duration.ofSeconds(30));
            }
        } finally {
            try {
                PostgresDistribution.deleteTree(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("removing " + dir, e);
            }
        }
    }

    private static Map<String, ServerParameter> read(int port, Secret password) {
        try (Connection c = PostgresServer.connect(port, "postgres", password, Duration.ofSeconds(5))) {
            return PgSettings.read(c);
        } catch (SQLException e) {
            throw new PgfleetException(
                    ErrorCode.INTERNAL, "reading pg_settings of a settings probe failed: " + e.getMessage(), e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port for a settings probe", e);
        }
    }
}
