package io.pgfleet.server.catalog;

import io.pgfleet.core.PgfleetException;
import io.pgfleet.core.Secret;
import io.pgfleet.server.agent.HostLayout;
import io.pgfleet.server.agent.InstancePaths;
import io.pgfleet.server.agent.OsAccount;
import io.pgfleet.server.agent.PostgresDistribution;
import io.pgfleet.server.agent.PostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog Postgres pgfleet runs for itself under {@code <home>/catalog} when no
 * {@code --catalog-url} is given. It listens on loopback only, on a port chosen at each start.
 * If one already runs (pgfleet was killed), it is adopted rather than started twice.
 */
public final class EmbeddedCatalog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedCatalog.class);
    private final PostgresServer server;
    private final Secret password;
    private final int port;

    public EmbeddedCatalog(HostLayout layout, PostgresDistribution distribution) {
        long started = System.nanoTime();
        Path binDir = distribution.bundledBinDir(distribution.bundledDefault());
        InstancePaths paths = new InstancePaths(layout.catalogDir());
        boolean alreadyRunning = new PostgresServer(OsAccount.current(), binDir, paths, "catalog")
                .runningPid()
                .isPresent();
        this.server = new PostgresServer(layout.catalogAccount(alreadyRunning), binDir, paths, "catalog");
        this.password = loadOrCreatePassword(layout.secretsDir().resolve("catalog.password"));
        server.initDataDirectory(password);
        int running = runningPort();
        if (running > 0) {
            this.port = running;
            log.info("catalog: adopted the running catalog Postgres on port {}", port);
        } else {
            this.port = freePort();
            server.writeConfiguration(port, "127.0.0.1", Map.of("max_connections", "100", "fsync", "on"));
            server.launch();
            log.info("catalog: started on port {}", port);
        }
        server.awaitReady("127.0.0.1", port, password, Duration.ofSeconds(60));
        log.info("catalog: ready in {} ms", (System.nanoTime() - started) / 1_000_000);
    }

    /** Whether the catalog's postmaster runs (pid file and a live process that started when it says). */
    public boolean isRunning() {
        return server.runningPid().isPresent();
    }

    /**
     * Starts the catalog Postgres again on the same port after it died (the watchdog's repair): crash
     * recovery replays its WAL, so no committed row is lost. Waits until it answers.
     */
    public synchronized void restart() {
        if (isRunning()) {
            return;
        }
        long started = System.nanoTime();
        log.warn("catalog: its Postgres is not running; starting it again on port {}", port);
        // The backends of a killed postmaster hold its shared memory for a moment after it died, and
        // Postgres refuses to start beside them: try again until they are gone, within a bound.
        long deadline = started + Duration.ofSeconds(15).toNanos();
        while (true) {
            try {
                server.launch();
                server.awaitReady("127.0.0.1", port, password, Duration.ofSeconds(60));
                break;
            } catch (PgfleetException e) {
                if (System.nanoTime() > deadline || server.runningPid().isPresent()) {
                    throw e;
                }
                log.info("catalog: first start after the crash refused ({}); trying again", e.getMessage());
                sleep(Duration.ofMillis(200));
            }
        }
        log.warn("catalog: running again after {} ms", (System.nanoTime() - started) / 1_000_000);
    }

    /** Line 4 of postmaster.pid is the port of a running postmaster. */
    private int runningPort() {
        if (server.runningPid().isEmpty()) {
            return -1;
        }
        try {
            List<String> lines = Files.readAllLines(server.paths().pidFile());
            return lines.size() > 3 ? Integer.parseInt(lines.get(3).trim()) : -1;
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException(
                    "catalog Postgres runs but its postmaster.pid is unreadable: " + e.getMessage(), e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port for the catalog", e);
        }
    }

    private static Secret loadOrCreatePassword(Path file) {
        try {
            if (!Files.exists(file)) {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.writeString(tmp, Secret.generate().value());
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            return new Secret(Files.readString(file).strip());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    public String user() {
        return PostgresServer.SUPERUSER;
    }

    public Secret password() {
        return password;
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        server.stop(Duration.ofSeconds(30));
        log.info("catalog: stopped");
    }

    private static void sleep(Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("catalog restart was interrupted", e);
        }
    }
}
